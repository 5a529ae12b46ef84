//! Errors of model compilation, registration and proving.

/// Why a model could not be compiled or a proof could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The model uses an operation the circuit does not support.
    #[error("unsupported layer {index}: {op}")]
    Unsupported {
        /// Layer index in the quantised model.
        index: usize,
        /// Operation name.
        op: String,
    },
    /// Weights or biases have the wrong length for the circuit.
    #[error("layer {layer}: {what} has {got} entries, expected {expected}")]
    Length {
        /// Layer index.
        layer: usize,
        /// Which tensor.
        what: &'static str,
        /// Expected length.
        expected: usize,
        /// Length found.
        got: usize,
    },
    /// A bias is outside the layer's public bias bound.
    #[error(
        "layer {layer}: bias {bias} is not below 2^{bits} in magnitude (the declared bias bound)"
    )]
    BiasBound {
        /// Layer index.
        layer: usize,
        /// The offending bias.
        bias: i32,
        /// The declared bound's bits.
        bits: u8,
    },
    /// The input has the wrong length.
    #[error("input has {got} values, the model expects {expected}")]
    InputLength {
        /// Expected.
        expected: usize,
        /// Found.
        got: usize,
    },
    /// A value left the range the circuit was sized for.
    #[error("layer {layer}: value out of the circuit's range")]
    Range {
        /// Layer index.
        layer: usize,
    },
    /// The operating system's random source failed.
    #[error("random source failed: {0}")]
    Random(String),
    /// Reading or writing the local model store failed.
    #[error("model store: {0}")]
    Store(String),
    /// File-system error.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The quantiser or fixed-point evaluator failed.
    #[error(transparent)]
    Model(#[from] counterweight_model::Error),
    /// The public model or proof layer rejected something.
    #[error(transparent)]
    Verifier(#[from] counterweight_zkml_verifier::Error),
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
