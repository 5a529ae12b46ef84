//! Errors of the node crate.

use std::path::PathBuf;

/// What can stop a node from starting or running.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or directory could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The configuration is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The genesis document is missing fields or invalid.
    #[error("invalid genesis: {0}")]
    Genesis(String),
    /// A key is malformed.
    #[error("invalid key: {0}")]
    Key(String),
    /// The application failed (a fatal storage fault).
    #[error("application: {0}")]
    App(#[from] counterweight_app::Error),
    /// The consensus engine could not start.
    #[error("consensus: {0}")]
    Consensus(#[from] counterweight_consensus::Error),
    /// The RPC server could not bind or serve.
    #[error("rpc server on {addr}: {source}")]
    Rpc {
        /// The address.
        addr: std::net::SocketAddr,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The blob store could not be opened.
    #[error("blob store: {0}")]
    Blobs(#[from] counterweight_blobs::Error),
    /// The node is shutting down.
    #[error("node is shutting down")]
    ShuttingDown,
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
