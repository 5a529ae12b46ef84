//! The client's error type.

use crate::ErrorResponse;

/// What went wrong talking to a node.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The node answered with an error status and a structured body.
    #[error("{} ({})", body.message, body.reason)]
    Api {
        /// HTTP status code.
        status: u16,
        /// The node's error body.
        body: ErrorResponse,
    },
    /// The node answered with an error status and a body that is not an [`ErrorResponse`].
    #[error("node answered HTTP {status}")]
    Status {
        /// HTTP status code.
        status: u16,
    },
    /// The request did not complete (connection refused, timeout, TLS, ...).
    #[error("cannot reach the node at {url}")]
    Transport {
        /// The URL requested.
        url: String,
        /// The transport failure.
        #[source]
        source: Box<ureq::Error>,
    },
    /// The node's reply could not be decoded.
    #[error("unexpected reply from the node")]
    Decode {
        /// The decoding failure.
        #[source]
        source: Box<ureq::Error>,
    },
    /// The event stream carried an event whose data is not valid JSON of the expected type.
    #[error("malformed `{event}` event on the stream")]
    BadEvent {
        /// The event name.
        event: String,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// The event stream broke.
    #[error("event stream interrupted")]
    Stream(#[source] std::io::Error),
    /// The follower was too slow and the node dropped `missed` events.
    #[error("fell behind the event stream: {missed} events were dropped")]
    Lagged {
        /// How many events were dropped.
        missed: u64,
    },
    /// A module's answer could not be decoded.
    #[error("unexpected {what} from the node: {detail}")]
    BadAnswer {
        /// What was being decoded.
        what: &'static str,
        /// Why it failed.
        detail: String,
    },
    /// A blob's bytes do not hash to the expected BLAKE3 hash.
    #[error("blob hashes to {actual}, expected {expected}")]
    BlobMismatch {
        /// The hash asked for or computed locally (hex).
        expected: String,
        /// What the node's bytes or answer hash to (hex).
        actual: String,
    },
    /// The base URL is not usable.
    #[error("invalid node URL `{0}`: expected http://host:port or https://host:port")]
    BadUrl(String),
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
