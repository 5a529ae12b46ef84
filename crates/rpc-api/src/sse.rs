//! A minimal incremental parser for the server-sent events wire format.
//!
//! Only what the node emits is interpreted (`event`, `data`, comments); `id` and `retry`
//! fields are accepted and ignored.

/// One dispatched server-sent event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The event name (`message` when the server sent none).
    pub event: String,
    /// The data lines, joined by `\n`.
    pub data: String,
}

/// Feeds lines, returns an event at each blank line that ends one.
#[derive(Debug, Default)]
pub struct SseParser {
    event: Option<String>,
    data: Option<String>,
}

impl SseParser {
    /// A parser with no partial event.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feed one line (with or without its line terminator); returns the event it completes.
    pub fn push_line(&mut self, line: &str) -> Option<SseEvent> {
        let line = line.trim_end_matches(['\n', '\r']);
        if line.is_empty() {
            let data = self.data.take();
            let event = self.event.take();
            return data.map(|data| SseEvent {
                event: event.unwrap_or_else(|| "message".to_owned()),
                data,
            });
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "event" => self.event = Some(value.to_owned()),
            "data" => match &mut self.data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => self.data = Some(value.to_owned()),
            },
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_named_events_and_skips_comments() {
        let mut parser = SseParser::new();
        let mut events = Vec::new();
        for line in [
            ": keep-alive\n",
            "event: block\r\n",
            "data: {\"a\":1}\n",
            "data:second\n",
            "\n",
            "data: plain\n",
            "id: 7\n",
            "\n",
            "\n",
        ] {
            events.extend(parser.push_line(line));
        }
        assert_eq!(
            events,
            vec![
                SseEvent {
                    event: "block".into(),
                    data: "{\"a\":1}\nsecond".into()
                },
                SseEvent {
                    event: "message".into(),
                    data: "plain".into()
                },
            ]
        );
    }
}
