//! What commands return and the one place that prints it (cargo's `Shell` is the model).
//!
//! A command parses its arguments, calls a library and returns an [`Output`]: a typed result
//! that is `Display` for people and `Serialize` for `--json`. The entry point prints it once,
//! through [`Shell::print`], which reports a closed pipe as an `io::Error` of kind
//! `BrokenPipe` (the binary treats that as success) instead of panicking like `println!`.
//! Progress of long commands goes to stderr through [`Shell::status`], so stdout holds exactly
//! one document.

use std::{
    fmt,
    io::{self, Write as _},
};

use serde::Serialize;

/// A command's result, rendered both ways when it is made.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    text: Option<String>,
    json: Option<serde_json::Value>,
}

impl Output {
    /// Renders `value` for people (`Display`) and for `--json` (`Serialize`).
    ///
    /// # Errors
    /// If `value` does not serialize.
    pub fn new<T: fmt::Display + Serialize + ?Sized>(value: &T) -> serde_json::Result<Self> {
        Ok(Self {
            text: Some(value.to_string()),
            json: Some(serde_json::to_value(value)?),
        })
    }

    /// Renders `value` for `--json` and `text` for people, for results whose readable form is a
    /// report laid out by the command rather than a `Display` of the value itself.
    ///
    /// # Errors
    /// If `value` does not serialize.
    pub fn with_text<T: Serialize + ?Sized>(
        value: &T,
        text: impl Into<String>,
    ) -> serde_json::Result<Self> {
        Ok(Self {
            text: Some(text.into()),
            json: Some(serde_json::to_value(value)?),
        })
    }

    /// Nothing to print: the command streamed its output as it went (a node, `watch`).
    pub fn nothing() -> Self {
        Self {
            text: None,
            json: None,
        }
    }

    /// Returns the human-readable form, if any.
    pub fn text(&self) -> Option<&str> {
        self.text.as_deref()
    }

    /// Returns the JSON form, if any.
    pub fn json(&self) -> Option<&serde_json::Value> {
        self.json.as_ref()
    }
}

/// Where commands write: results to stdout, progress to stderr.
#[derive(Debug, Clone, Copy)]
pub struct Shell {
    json: bool,
}

impl Shell {
    /// A shell printing JSON (`--json`) or text.
    pub fn new(json: bool) -> Self {
        Self { json }
    }

    /// Returns whether results are printed as JSON.
    pub fn is_json(&self) -> bool {
        self.json
    }

    /// Prints a command's result once on stdout: one JSON document with `--json`, else its
    /// text (a newline is added if missing).
    ///
    /// # Errors
    /// A closed stdout (kind `BrokenPipe`) or any other write error.
    pub fn print(&self, output: &Output) -> io::Result<()> {
        let mut out = io::stdout().lock();
        if self.json {
            if let Some(json) = &output.json {
                serde_json::to_writer(&mut out, json)?;
                out.write_all(b"\n")?;
            }
        } else if let Some(text) = &output.text {
            out.write_all(text.as_bytes())?;
            if !text.ends_with('\n') {
                out.write_all(b"\n")?;
            }
        }
        out.flush()
    }

    /// Prints one record of a stream on stdout as it happens (`watch`): a JSON line with
    /// `--json` (JSON Lines), else its text.
    ///
    /// # Errors
    /// A closed stdout (kind `BrokenPipe`) or any other write error.
    pub fn stream<T: fmt::Display + Serialize + ?Sized>(&self, record: &T) -> io::Result<()> {
        let output = Output::new(record).map_err(io::Error::other)?;
        self.print(&output)
    }

    /// Prints one already rendered record of a stream on stdout (see [`Shell::stream`]).
    ///
    /// # Errors
    /// A closed stdout (kind `BrokenPipe`) or any other write error.
    pub fn stream_output(&self, record: &Output) -> io::Result<()> {
        self.print(record)
    }

    /// Reports progress on stderr (in both modes; stdout stays one document).
    ///
    /// # Errors
    /// A closed stderr.
    pub fn status(&self, message: impl fmt::Display) -> io::Result<()> {
        let mut err = io::stderr().lock();
        writeln!(err, "{message}")?;
        err.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Balance {
        address: String,
        balance: u64,
    }

    impl fmt::Display for Balance {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{}: {}", self.address, self.balance)
        }
    }

    #[test]
    fn an_output_renders_both_ways() {
        let out = Output::new(&Balance {
            address: "ab".into(),
            balance: 5,
        })
        .expect("serializes");
        assert_eq!(out.text(), Some("ab: 5"));
        assert_eq!(
            out.json(),
            Some(&serde_json::json!({"address": "ab", "balance": 5}))
        );
        assert_eq!(Output::nothing().text(), None);
        let out = Output::with_text(&[1, 2], "two numbers").expect("serializes");
        assert_eq!(out.text(), Some("two numbers"));
        assert_eq!(out.json(), Some(&serde_json::json!([1, 2])));
    }
}
