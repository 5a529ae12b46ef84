//! The crate's error type.

/// Everything that can go wrong while importing an ONNX model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// tract could not parse, type or simplify the model (corrupt or unsupported file).
    #[error("tract could not {stage} the model")]
    Tract {
        /// Which step failed: `parse`, `type` or `declutter`.
        stage: &'static str,
        /// tract's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// tract panicked on this input (a bug in tract, reported instead of aborting).
    #[error("tract failed on this model while trying to {stage}")]
    TractPanic {
        /// Which step failed.
        stage: &'static str,
    },
    /// A graph operator with no mapping to the model IR.
    #[error("unsupported operator {op} at node {node:?}")]
    UnsupportedOp {
        /// Node name in the decluttered graph.
        node: String,
        /// tract's operator name.
        op: String,
    },
    /// A known operator used in a way the model IR cannot express.
    #[error("node {node:?} ({op}) is not supported: {reason}")]
    Unsupported {
        /// Node name in the decluttered graph.
        node: String,
        /// tract's operator name.
        op: String,
        /// What exactly is not supported.
        reason: String,
    },
    /// The graph's inputs or outputs are not one fixed-shape float tensor each.
    #[error("unsupported graph interface: {reason}")]
    Interface {
        /// What is wrong.
        reason: String,
    },
    /// The lowered layers do not form a valid model.
    #[error("lowered model is invalid")]
    Model(#[from] counterweight_model::Error),
    /// The file is larger than the limit.
    #[error("ONNX file is {size_bytes} bytes, above the limit of {max_bytes}")]
    TooLarge {
        /// Its size.
        size_bytes: u64,
        /// The limit.
        max_bytes: u64,
    },
    /// Reading the file failed.
    #[error("i/o error on {path}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
