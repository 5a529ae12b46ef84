//! Prove model inference in zero knowledge with a layered-sumcheck prover.
//!
//! A quantised model ([`SecretModel`]: public [`Circuit`] plus int8 weights) is registered by
//! committing to its packed weight vector with Hyrax row commitments ([`CommittedModel`]).
//! [`Prover::prove`] evaluates the model on an int8 input with the fixed-point semantics and
//! produces a [`Proof`] that the committed weights give that output. Every sumcheck message is a
//! Pedersen commitment checked homomorphically, so the proof reveals neither the weights nor
//! the intermediate activations; the verifier is in `counterweight-zkml-verifier`.
//!
//! # Examples
//! ```
//! use counterweight_zkml::{BlindRng, CommittedModel, LayerWeights, Prover, SecretModel};
//! use counterweight_zkml_verifier::{Circuit, LayerKind, LayerSpec, Requant, RequestBinding, verify};
//!
//! let circuit = Circuit {
//!     input_len: 4,
//!     layers: vec![LayerSpec {
//!         kind: LayerKind::Linear { in_features: 4, out_features: 2 },
//!         relu: false,
//!         requant: vec![Requant { multiplier: 1 << 30, shift: 31 }; 2],
//!         bias_bits: 16,
//!     }],
//! };
//! let weights = vec![LayerWeights { weight: vec![1, -2, 3, -4, 5, 6, -7, 8], bias: vec![10, -10] }];
//! let secret = SecretModel::new(circuit, weights)?;
//! let mut rng = BlindRng::from_seed([7; 32]);
//! let prover = Prover::new(CommittedModel::commit(secret, &mut rng)?)?;
//! let binding = RequestBinding::default();
//! let input = [1i8, 2, 3, 4];
//! let (output, proof) = prover.prove(&input, &binding, &mut rng)?;
//! verify(prover.public(), &input, &output, &binding, &proof)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod bits;
mod compile;
mod error;
mod model;
mod pedersen;
mod prove;
mod rng;
mod store;
mod sumcheck;
mod witness;

#[cfg(any(test, feature = "test-utils"))]
pub mod test_utils;

pub use compile::{MIN_BIAS_BITS, MULTIPLIER_BITS, bias_bits, from_quantized};
pub use counterweight_zkml_verifier::{Circuit, Proof, PublicModel, RequestBinding};
pub use error::{Error, Result};
pub use model::{CommittedModel, LayerWeights, Prover, SecretModel};
pub use rng::BlindRng;
pub use store::{ModelMeta, Store};

#[cfg(test)]
mod tests;
