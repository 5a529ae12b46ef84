//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong while loading data, partitioning, training or simulating.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be opened or read.
    #[error("cannot read {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A CSV file is malformed (bad quoting, ragged rows, invalid UTF-8).
    #[error("malformed CSV in {source_name}")]
    Csv {
        /// The file or built-in dataset.
        source_name: String,
        /// The underlying error.
        #[source]
        source: csv::Error,
    },
    /// A CSV cell is not a finite number (or the label is not a small non-negative integer).
    #[error("{source_name}: line {line}, column {column}: {reason} (got {value:?})")]
    BadCell {
        /// The file or built-in dataset.
        source_name: String,
        /// 1-based line number.
        line: u64,
        /// 1-based column number.
        column: usize,
        /// The cell's text (truncated).
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A `.npy` file is malformed or holds an unsupported dtype or shape.
    #[error("bad .npy file {path}: {reason}")]
    Npy {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The data set as a whole is unusable (empty, inconsistent lengths, too many classes).
    #[error("invalid data set {name}: {reason}")]
    InvalidDataset {
        /// The data set.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Partitioning parameters cannot be honoured.
    #[error("cannot partition: {reason}")]
    Partition {
        /// Why.
        reason: String,
    },
    /// Training or simulation configuration is invalid.
    #[error("invalid configuration: {reason}")]
    Config {
        /// Why.
        reason: String,
    },
    /// The model does not fit the data (feature count, class count) or is unsupported.
    #[error("model does not fit: {reason}")]
    ModelMismatch {
        /// Why.
        reason: String,
    },
    /// A flat parameter vector has the wrong length or holds NaN/infinity.
    #[error("bad parameter vector: {reason}")]
    BadParameters {
        /// Why.
        reason: String,
    },
    /// Training diverged (the loss became NaN or infinite).
    #[error("training diverged at epoch {epoch}: loss is not finite")]
    Diverged {
        /// Epoch (0-based) in which the loss became non-finite.
        epoch: usize,
    },
    /// Drawing a chart failed.
    #[error("cannot draw the plot")]
    Plot {
        /// The drawing error.
        #[source]
        source: Box<crate::plot::DrawError>,
    },
    /// Encoding a chart as PNG failed.
    #[error("cannot encode the plot as PNG")]
    PngEncode(#[from] png::EncodingError),
    /// An error from the model IR.
    #[error(transparent)]
    Model(#[from] counterweight_model::Error),
    /// An error from the federated-learning engine (fixed-point conversion, aggregation).
    #[error(transparent)]
    Fl(#[from] counterweight_fl::Error),
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
