//! Errors raised while parsing or decoding domain values.

/// An error from decoding or parsing a domain value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input is larger than the hard limit for its kind.
    #[error("{what} is {size} bytes, above the limit of {max} bytes")]
    TooLarge {
        /// What was being decoded.
        what: &'static str,
        /// Size of the input in bytes.
        size: usize,
        /// The limit in bytes.
        max: usize,
    },
    /// The bytes are not a canonical encoding of the value.
    #[error("malformed {what}: {source}")]
    Codec {
        /// What was being decoded.
        what: &'static str,
        /// The codec's reason.
        #[source]
        source: commonware_codec::Error,
    },
    /// A hex string could not be parsed.
    #[error("invalid hex for {what}: {reason}")]
    Hex {
        /// What was being parsed.
        what: &'static str,
        /// Why it failed.
        reason: String,
    },
    /// A chain id is empty, too long or has characters outside `[A-Za-z0-9._-]`.
    #[error("invalid chain id {0:?}: 1 to 32 characters from [A-Za-z0-9._-]")]
    ChainId(String),
}

/// Result with this crate's [`enum@Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
