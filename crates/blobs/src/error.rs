//! The blob store's errors.

use counterweight_types::Hash;

/// Why a blob operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The blob is larger than the store accepts.
    #[error("blob of {size} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// The blob's size (or the size reached when the limit was crossed).
        size: u64,
        /// The limit.
        max: u64,
    },
    /// No blob has this hash.
    #[error("no blob {hash}")]
    NotFound {
        /// The hash asked for.
        hash: Hash,
    },
    /// The stored bytes do not hash to their address: the blob is corrupt and is not served.
    #[error("blob {hash} is corrupt: its bytes hash to {actual}")]
    Corrupt {
        /// The address.
        hash: Hash,
        /// What the stored bytes hash to.
        actual: Hash,
    },
    /// The bytes offered do not hash to the expected hash.
    #[error("blob hashes to {actual}, expected {expected}")]
    HashMismatch {
        /// The hash the caller expected.
        expected: Hash,
        /// What the bytes hash to.
        actual: Hash,
    },
    /// The configuration cannot be used.
    #[error("invalid blob store configuration: {field} {problem}")]
    InvalidConfig {
        /// The offending field.
        field: &'static str,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// The local directory could not be created.
    #[error("cannot create the blob directory {}", path.display())]
    Io {
        /// The directory.
        path: std::path::PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The body stream of a streamed put failed.
    #[error("reading the blob's body failed")]
    Body(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The backing object store failed.
    #[error(transparent)]
    Store(#[from] object_store::Error),
    /// Hashing on a blocking thread failed (the runtime is shutting down).
    #[error("hashing task failed")]
    Join(#[from] tokio::task::JoinError),
}

/// Result with this crate's [`enum@Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
