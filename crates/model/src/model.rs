//! A model: an architecture plus its float parameters in the flat layout.

use serde::{Deserialize, Serialize};

use crate::arch::{Architecture, Digest, ParamSpan};
use crate::error::{Error, Result};

/// BLAKE3 key-derivation context of [`Model::weights_hash`].
pub const WEIGHTS_HASH_CONTEXT: &str = "counterweight model float weights v1";

/// An architecture with its f32 parameters.
///
/// Parameters are held in the flat layout of [`Architecture::param_spans`]: layers in order,
/// each layer's weight row-major (`Linear` `[out, in]`, `Conv2d` `[out_c, in_c, kh, kw]`)
/// followed by its bias. Every parameter is finite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ModelSpec", into = "ModelSpec")]
pub struct Model {
    architecture: Architecture,
    params: Vec<f32>,
}

/// The serialised form of a [`Model`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// The architecture.
    pub architecture: Architecture,
    /// The flat parameter vector.
    pub params: Vec<f32>,
}

impl TryFrom<ModelSpec> for Model {
    type Error = Error;
    fn try_from(spec: ModelSpec) -> Result<Self> {
        Self::from_flat(spec.architecture, spec.params)
    }
}

impl From<Model> for ModelSpec {
    fn from(m: Model) -> Self {
        Self {
            architecture: m.architecture,
            params: m.params,
        }
    }
}

/// Return the index of the first non-finite value, if any.
pub(crate) fn first_non_finite(values: &[f32]) -> Option<usize> {
    values.iter().position(|v| !v.is_finite())
}

impl Model {
    /// Build a model from an architecture and a flat parameter vector.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] if `params.len() != architecture.parameter_count()`;
    /// [`Error::NonFinite`] if any parameter is NaN or infinite.
    pub fn from_flat(architecture: Architecture, params: Vec<f32>) -> Result<Self> {
        if params.len() != architecture.parameter_count() {
            return Err(Error::LengthMismatch {
                what: "flat parameters".into(),
                expected: architecture.parameter_count(),
                got: params.len(),
            });
        }
        if let Some(index) = first_non_finite(&params) {
            return Err(Error::NonFinite {
                what: "flat parameters".into(),
                index,
            });
        }
        Ok(Self {
            architecture,
            params,
        })
    }

    /// A model whose parameters are all zero.
    pub fn zeros(architecture: Architecture) -> Self {
        let params = vec![0.0; architecture.parameter_count()];
        Self {
            architecture,
            params,
        }
    }

    /// Deterministic He-normal initialisation (`N(0, 2 / fan_in)` weights, zero biases) from
    /// `seed`, using SplitMix64 and the Box–Muller transform. Reproducible for a given seed;
    /// the transcendental functions come from the platform's libm, so bits may differ
    /// across platforms (initialisation is never on the consensus path).
    pub fn init_he(architecture: Architecture, seed: u64) -> Self {
        let mut rng = SplitMix64(seed);
        let mut params = vec![0.0f32; architecture.parameter_count()];
        for span in architecture.param_spans() {
            let fan_in: usize = span.weight_shape.iter().skip(1).product();
            let std = (2.0 / fan_in.max(1) as f64).sqrt();
            for p in &mut params[span.weight_offset..span.weight_offset + span.weight_len] {
                *p = (rng.normal() * std) as f32;
            }
        }
        Self {
            architecture,
            params,
        }
    }

    /// The architecture.
    pub fn architecture(&self) -> &Architecture {
        &self.architecture
    }

    /// Number of parameters (same as the architecture's).
    pub fn parameter_count(&self) -> usize {
        self.params.len()
    }

    /// The flat parameter vector (see the type docs for the order).
    pub fn params(&self) -> &[f32] {
        &self.params
    }

    /// A copy of the flat parameter vector.
    pub fn to_flat(&self) -> Vec<f32> {
        self.params.clone()
    }

    /// Consume the model, returning the architecture and the flat parameters.
    pub fn into_parts(self) -> (Architecture, Vec<f32>) {
        (self.architecture, self.params)
    }

    /// Replace all parameters with `flat`, keeping the architecture.
    ///
    /// # Errors
    /// As [`Model::from_flat`]; on error the model is unchanged.
    pub fn set_flat(&mut self, flat: &[f32]) -> Result<()> {
        let checked = Self::from_flat(self.architecture.clone(), flat.to_vec())?;
        self.params = checked.params;
        Ok(())
    }

    /// The `(weight, bias)` slices of layer `layer`, or `None` if it has no parameters.
    pub fn layer_params(&self, layer: usize) -> Option<(&[f32], &[f32])> {
        let span = self.span(layer)?;
        Some((
            &self.params[span.weight_offset..span.weight_offset + span.weight_len],
            &self.params[span.bias_offset..span.bias_offset + span.bias_len],
        ))
    }

    pub(crate) fn span(&self, layer: usize) -> Option<&ParamSpan> {
        self.architecture
            .param_spans()
            .iter()
            .find(|s| s.layer == layer)
    }

    /// BLAKE3 (key derivation, context [`WEIGHTS_HASH_CONTEXT`]) over the parameter count as
    /// `u64` little-endian followed by every parameter's IEEE-754 bits, little-endian, in the
    /// flat order.
    pub fn weights_hash(&self) -> Digest {
        let mut h = blake3::Hasher::new_derive_key(WEIGHTS_HASH_CONTEXT);
        h.update(&(self.params.len() as u64).to_le_bytes());
        for p in &self.params {
            h.update(&p.to_bits().to_le_bytes());
        }
        Digest(*h.finalize().as_bytes())
    }
}

/// SplitMix64, used only for the documented deterministic initialiser.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1].
    fn unit(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        let (u1, u2) = (self.unit(), self.unit());
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}
