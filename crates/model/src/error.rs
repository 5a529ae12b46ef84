//! The crate's error type.

/// Everything that can go wrong while building, loading, quantising or evaluating a model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A shape (input shape or layer geometry) is empty, zero-sized or too large.
    #[error("invalid shape {shape:?}: {reason}")]
    InvalidShape {
        /// The offending shape.
        shape: Vec<usize>,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// A layer does not accept the shape produced by the layer before it.
    #[error("layer {layer} ({op}) cannot take input of shape {input:?}: {reason}")]
    ShapeMismatch {
        /// Index of the layer in the architecture.
        layer: usize,
        /// Operator name.
        op: &'static str,
        /// Shape flowing into the layer.
        input: Vec<usize>,
        /// Why the shape is not accepted.
        reason: &'static str,
    },
    /// A layer's parameters (kernel, stride, features) are invalid on their own.
    #[error("layer {layer} ({op}) is invalid: {reason}")]
    InvalidLayer {
        /// Index of the layer in the architecture.
        layer: usize,
        /// Operator name.
        op: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// A sequence of layers that this operation does not support.
    #[error("unsupported layer sequence at layer {layer}: {reason}")]
    UnsupportedSequence {
        /// Index of the first layer that cannot be handled.
        layer: usize,
        /// What is not supported.
        reason: &'static str,
    },
    /// A tensor (weights, input, flat parameter vector) has the wrong number of elements.
    #[error("{what}: expected {expected} elements, got {got}")]
    LengthMismatch {
        /// Which tensor.
        what: String,
        /// Elements required by the architecture.
        expected: usize,
        /// Elements supplied.
        got: usize,
    },
    /// A tensor has the wrong shape.
    #[error("{what}: expected shape {expected:?}, got {got:?}")]
    TensorShape {
        /// Which tensor.
        what: String,
        /// Shape required by the architecture.
        expected: Vec<usize>,
        /// Shape found.
        got: Vec<usize>,
    },
    /// A weight, bias or input value is NaN or infinite.
    #[error("{what} holds a non-finite value at index {index}")]
    NonFinite {
        /// Which tensor.
        what: String,
        /// Index of the first non-finite element.
        index: usize,
    },
    /// The safetensors bytes could not be parsed.
    #[error("corrupt safetensors data")]
    Safetensors(#[from] safetensors::SafeTensorError),
    /// The safetensors file is well formed but does not describe this architecture.
    #[error("safetensors file does not match the architecture: {reason} ({tensor})")]
    WeightsFile {
        /// The tensor name involved.
        tensor: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A file is larger than the configured limit.
    #[error("{what} is {size_bytes} bytes, above the limit of {max_bytes}")]
    TooLarge {
        /// Which file or buffer.
        what: &'static str,
        /// Its size.
        size_bytes: u64,
        /// The limit.
        max_bytes: u64,
    },
    /// Reading or writing a file failed.
    #[error("i/o error on {path}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Calibration needs at least one sample.
    #[error("calibration needs at least one sample")]
    NoCalibrationData,
    /// A scale ratio cannot be expressed as `multiplier / 2^shift` within the allowed ranges.
    #[error("layer {layer}: requantisation ratio {ratio} is outside the representable range")]
    RequantRange {
        /// Index of the quantised layer.
        layer: usize,
        /// The real-valued ratio that could not be represented.
        ratio: f64,
    },
    /// A quantised model's parameters break an invariant (multiplier or shift range, lengths).
    #[error("invalid quantised model at layer {layer}: {reason}")]
    InvalidQuantized {
        /// Index of the quantised layer.
        layer: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// An integer computation left the documented bounds (cannot happen for a validated model).
    #[error("integer overflow in layer {layer}")]
    Overflow {
        /// Index of the quantised layer.
        layer: usize,
    },
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
