//! One policy for module queries, shared by every module.
//!
//! - An answer is JSON, encoded by [`answer`]; an encoding failure is a module bug and
//!   [`CallError::Fatal`], never a failed query.
//! - "Not found" is JSON `null`: answer an `Option` (`answer(&None::<View>)`).
//! - An unknown path or a bad argument is the module's `BAD_QUERY` verdict
//!   ([`Verdict`](crate::Verdict) variants carry it), built with [`unknown_path`] and
//!   [`hash_arg`].

use counterweight_storage_api::StorageError;
use serde::Serialize;

use crate::error::CallError;

/// Encodes a query answer as JSON.
///
/// # Errors
/// [`CallError::Fatal`] if the value does not serialize (a bug in the module's view type).
pub fn answer<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, CallError> {
    serde_json::to_vec(value).map_err(|e| {
        CallError::Fatal(StorageError::Invariant(format!(
            "query answer does not encode as JSON: {e}"
        )))
    })
}

/// Splits `name/arg` query paths: `("entry", Some("7"))` for `entry/7`, `(path, None)` else.
pub fn split_path(path: &str) -> (&str, Option<&str>) {
    match path.split_once('/') {
        Some((name, arg)) => (name, Some(arg)),
        None => (path, None),
    }
}

/// A query the module cannot answer: an unknown path or a bad argument. Modules map it to
/// their `BAD_QUERY` code through their verdict enum.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BadQuery {
    /// No query has this path.
    #[error("unknown query {path:?}: expected {expected}")]
    UnknownPath {
        /// The path asked for.
        path: String,
        /// The paths the module answers.
        expected: &'static str,
    },
    /// The argument has the wrong shape.
    #[error("bad query argument: {reason}")]
    BadArgument {
        /// What is wrong.
        reason: String,
    },
}

/// Returns the [`BadQuery::UnknownPath`] for `path`.
pub fn unknown_path(path: &str, expected: &'static str) -> BadQuery {
    BadQuery::UnknownPath {
        path: path.to_owned(),
        expected,
    }
}

/// Reads a 32-byte query argument (a hash or an address).
///
/// # Errors
/// [`BadQuery::BadArgument`] for any other length.
pub fn hash_arg(data: &[u8]) -> Result<[u8; 32], BadQuery> {
    <[u8; 32]>::try_from(data).map_err(|_| BadQuery::BadArgument {
        reason: format!("argument must be 32 bytes, got {}", data.len()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_is_null_and_values_are_json() {
        assert_eq!(answer(&None::<u32>).expect("encodes"), b"null");
        assert_eq!(answer(&Some(3u32)).expect("encodes"), b"3");
    }

    #[test]
    fn an_answer_that_cannot_encode_is_fatal() {
        struct Broken;
        impl Serialize for Broken {
            fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
                Err(serde::ser::Error::custom("no"))
            }
        }
        assert!(matches!(answer(&Broken), Err(CallError::Fatal(_))));
    }

    #[test]
    fn arguments_and_paths() {
        assert!(hash_arg(&[0; 31]).is_err());
        assert_eq!(hash_arg(&[7; 32]).expect("32 bytes"), [7; 32]);
        assert_eq!(split_path("entry/7"), ("entry", Some("7")));
        assert_eq!(split_path("status"), ("status", None));
        assert!(unknown_path("x", "a or b").to_string().contains("a or b"));
    }
}
