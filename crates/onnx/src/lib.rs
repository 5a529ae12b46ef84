//! Import ONNX models into the model IR.
//!
//! tract parses the file, types it and declutters it (`into_typed` + `declutter`, never
//! `into_optimized`, which would fuse operators beyond recognition); then an op registry
//! ([`supported_ops`]) lowers each decluttered operator to a [`counterweight_model::Layer`].
//! Gemm / MatMul become an `EinSum` (→ Linear) plus an `Add` of the bias; Relu becomes
//! `Max(x, 0)`; Flatten and Reshape become axis operations. Anything else is a clear
//! [`Error::UnsupportedOp`] naming the node.
//!
//! # Examples
//! ```no_run
//! let model = counterweight_onnx::import_file("mlp.onnx")?;
//! println!("{} parameters, architecture {}", model.parameter_count(), model.architecture().hash());
//! # Ok::<(), counterweight_onnx::Error>(())
//! ```

mod error;
mod import;

pub use error::{Error, Result};
pub use import::{MAX_ONNX_FILE_BYTES, OpRule, import_bytes, import_file, supported_ops};
