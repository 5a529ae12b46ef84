//! Errors of proof decoding and verification.

/// Why a model, a proof or a statement was rejected.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The bytes ended before the value was complete.
    #[error("truncated input: needed {needed} more bytes at offset {offset}")]
    Truncated {
        /// Offset where reading failed.
        offset: usize,
        /// Bytes still needed.
        needed: usize,
    },
    /// Bytes were left after the value.
    #[error("{count} trailing bytes after the encoded value")]
    TrailingBytes {
        /// Number of unread bytes.
        count: usize,
    },
    /// The encoding exceeds a size limit.
    #[error("{what} too large: {got} > {max}")]
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// The size found.
        got: u64,
        /// The limit.
        max: u64,
    },
    /// A magic tag or version did not match.
    #[error("bad header: {what}")]
    BadHeader {
        /// What was wrong.
        what: &'static str,
    },
    /// The encoding has a format version this build does not read.
    #[error(
        "{what} format version {got} is not supported (this build reads version {supported}; {hint})"
    )]
    Version {
        /// What was encoded.
        what: &'static str,
        /// The version found.
        got: u16,
        /// The version this build reads.
        supported: u16,
        /// What to do about it.
        hint: &'static str,
    },
    /// A field element or curve point was not canonically encoded.
    #[error("non-canonical {what} at offset {offset}")]
    NonCanonical {
        /// What kind of value.
        what: &'static str,
        /// Offset of the value.
        offset: usize,
    },
    /// The model description is inconsistent or out of range.
    #[error("invalid model: {reason}")]
    InvalidModel {
        /// Why.
        reason: &'static str,
    },
    /// The statement (input, output, binding) does not fit the model.
    #[error("invalid statement: {reason}")]
    InvalidStatement {
        /// Why.
        reason: &'static str,
    },
    /// The proof's shape does not match the model.
    #[error("proof shape mismatch: {what}")]
    Shape {
        /// Which part.
        what: &'static str,
    },
    /// The proof does not verify.
    #[error("proof rejected: {reason}")]
    Rejected {
        /// Which check failed.
        reason: &'static str,
    },
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
