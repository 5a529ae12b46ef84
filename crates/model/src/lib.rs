//! Describe neural networks in one IR and evaluate them in float and fixed point.
//!
//! - [`Architecture`]: a validated sequence of [`Layer`]s (Linear, Conv2d, Relu, MaxPool2d,
//!   AvgPool2d, Flatten, Softmax) with shape inference and a canonical BLAKE3 hash.
//! - [`Model`]: an architecture plus f32 parameters in one flat vector (layers in order, each
//!   weight row-major then its bias), the float reference evaluator, and safetensors I/O.
//! - [`quantize`] turns a model and calibration samples into a [`QuantizedModel`] (int8
//!   weights and activations, int32 biases, integer multiplier + shift requantisation) whose
//!   evaluator uses integers only and can return the full [`Trace`] a ZK prover needs.
//!
//! # Examples
//! ```
//! use counterweight_model::{Architecture, Layer, Linear, Model, quantize, argmax};
//!
//! let arch = Architecture::new(
//!     vec![4],
//!     vec![
//!         Layer::Linear(Linear { in_features: 4, out_features: 8 }),
//!         Layer::Relu,
//!         Layer::Linear(Linear { in_features: 8, out_features: 3 }),
//!     ],
//! )?;
//! assert_eq!(arch.parameter_count(), 4 * 8 + 8 + 8 * 3 + 3);
//! let model = Model::init_he(arch, 7);
//! let x = [0.5, -1.0, 0.25, 2.0];
//! let logits = model.forward(&x)?;
//!
//! let q = quantize(&model, &[x.to_vec()])?;
//! let trace = q.trace(&q.quantize_input(&x)?)?;
//! assert_eq!(trace.layers.len(), 2); // the ReLU is fused into the first layer
//! assert_eq!(argmax(&trace.output), argmax(&logits));
//! # Ok::<(), counterweight_model::Error>(())
//! ```

mod arch;
mod error;
mod float;
mod model;
mod quant;
mod weights;

pub use arch::{
    ARCH_HASH_CONTEXT, Architecture, ArchitectureSpec, Conv2d, Digest, Layer, Linear, MAX_LAYERS,
    MAX_PARAMETERS, MAX_TENSOR_ELEMENTS, ParamSpan, Pool2d,
};
pub use error::{Error, Result};
pub use model::{Model, ModelSpec, WEIGHTS_HASH_CONTEXT};
pub use quant::{
    LayerTrace, MAX_DOT_LENGTH, MAX_SHIFT, MIN_SHIFT, MULTIPLIER_BOUND, QAvgPool2d, QConv2d,
    QLayer, QLinear, QUANT_PARAMS_HASH_CONTEXT, QUANT_WEIGHTS_HASH_CONTEXT, QuantizedModel,
    QuantizedModelSpec, Requant, Trace, argmax, quantize,
};
pub use weights::{MAX_WEIGHTS_FILE_BYTES, bias_tensor_name, weight_tensor_name};
