//! The quantised (int8, fixed-point) model: types, validation and canonical hashing.
//!
//! See the crate README for the scheme; in short, activations are int8 with one symmetric
//! scale per tensor, weights int8 with one symmetric scale per output channel, biases int32
//! at scale `s_in · s_w[c]`, and every layer output is requantised with an integer multiplier
//! and shift: `q = (acc · m + 2^(sh−1)) >> sh`, clamped to `[-128, 127]` (`[0, 127]` when a ReLU
//! is fused).

mod calibrate;
mod eval;

pub use calibrate::quantize;
pub use eval::{LayerTrace, Trace, argmax};

use serde::{Deserialize, Serialize};

use crate::arch::{Architecture, Conv2d, Digest, Layer, Linear, Pool2d};
use crate::error::{Error, Result};

/// Longest dot product (Linear `in_features`, Conv2d `in_channels · kh · kw`, pool window)
/// a quantised layer may have: 2^16. With int8 operands and an int32 bias this bounds
/// `|acc| < 2^31 + 2^16 · 2^14 = 1.5 · 2^31`, so `acc · m + 2^(sh−1) < 2^63` for every
/// multiplier `m < 2^31` and shift `sh ≤ 62`: the requantisation never overflows i64.
pub const MAX_DOT_LENGTH: usize = 1 << 16;

/// Smallest allowed shift.
pub const MIN_SHIFT: u8 = 1;
/// Largest allowed shift.
pub const MAX_SHIFT: u8 = 62;
/// Multipliers are strictly below this bound (2^31).
pub const MULTIPLIER_BOUND: u32 = 1 << 31;

/// BLAKE3 key-derivation context of [`QuantizedModel::public_params_hash`].
pub const QUANT_PARAMS_HASH_CONTEXT: &str = "counterweight quantized model public params v1";
/// BLAKE3 key-derivation context of [`QuantizedModel::weights_hash`].
pub const QUANT_WEIGHTS_HASH_CONTEXT: &str = "counterweight quantized model weights v1";

/// An integer requantisation `acc ↦ (acc · multiplier + 2^(shift−1)) >> shift`.
///
/// Invariants: `1 ≤ multiplier < 2^31`, `1 ≤ shift ≤ 62`. The shift is arithmetic, so the
/// rounding is half up (toward +∞): `2.5 → 3`, `−2.5 → −2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Requant {
    /// Positive integer multiplier, below 2^31 (in `[2^30, 2^31)` whenever the ratio allows).
    pub multiplier: u32,
    /// Right shift, `1..=62`.
    pub shift: u8,
}

impl Requant {
    /// Whether the invariants hold.
    pub fn is_valid(&self) -> bool {
        self.multiplier >= 1
            && self.multiplier < MULTIPLIER_BOUND
            && (MIN_SHIFT..=MAX_SHIFT).contains(&self.shift)
    }

    /// The closest representable `multiplier / 2^shift` to `ratio`, preferring a multiplier in
    /// `[2^30, 2^31)` (about 31 significant bits). `None` when `ratio` is not finite and
    /// positive, is at least 2^30, or is so small that the multiplier would round to 0 at
    /// shift 62.
    pub fn from_ratio(ratio: f64) -> Option<Self> {
        if !(ratio.is_finite() && ratio > 0.0) {
            return None;
        }
        let lo = (1u64 << 30) as f64;
        let hi = (1u64 << 31) as f64;
        let mut shift: i32 = 30 - ratio.log2().floor() as i32;
        let scaled = |s: i32| (ratio * 2f64.powi(s)).round();
        // log2 only seeds the search; these loops make the result exact.
        while shift > i32::from(MIN_SHIFT) && scaled(shift) >= hi {
            shift -= 1;
        }
        while shift < i32::from(MAX_SHIFT) && scaled(shift) < lo {
            shift += 1;
        }
        shift = shift.clamp(i32::from(MIN_SHIFT), i32::from(MAX_SHIFT));
        let m = scaled(shift);
        if !(1.0..hi).contains(&m) {
            return None;
        }
        Some(Self {
            multiplier: m as u32,
            shift: shift as u8,
        })
    }

    /// The same ratio with a multiplier of at most `bits` significant bits (`1..=31`): the
    /// multiplier is rounded (half up) to its top `bits` bits and the shift lowered to match,
    /// never below 1. A smaller multiplier keeps the remainder of the requantisation short,
    /// which is what a zero-knowledge proof of it pays for (one range-checked bit per shift
    /// bit); 14 bits keep the ratio within 2^-13 of its value, far below int8 rounding.
    pub fn with_multiplier_bits(self, bits: u32) -> Self {
        let bits = bits.clamp(1, 31);
        let len = u32::BITS - self.multiplier.leading_zeros();
        let drop = len
            .saturating_sub(bits)
            .min(u32::from(self.shift.saturating_sub(MIN_SHIFT)));
        if drop == 0 {
            return self;
        }
        let mut m = (u64::from(self.multiplier) + (1u64 << (drop - 1))) >> drop;
        let mut shift = self.shift - drop as u8;
        if m >> bits != 0 && shift > MIN_SHIFT {
            // Rounding carried into a new top bit: halve (exactly, m is even) and shift less.
            m >>= 1;
            shift -= 1;
        }
        Self {
            multiplier: m.min(u64::from(MULTIPLIER_BOUND - 1)) as u32,
            shift,
        }
    }

    /// `(acc · multiplier + 2^(shift−1)) >> shift` before clamping; `None` on i64 overflow
    /// (impossible for accumulators within the bound of [`MAX_DOT_LENGTH`]).
    pub fn apply(&self, acc: i64) -> Option<i64> {
        let round = 1i64.checked_shl(u32::from(self.shift) - 1)?;
        acc.checked_mul(i64::from(self.multiplier))?
            .checked_add(round)
            .map(|v| v >> self.shift)
    }

    /// [`Requant::apply`] then clamp to `[-128, 127]`, or `[0, 127]` when `relu`.
    pub fn requantize(&self, acc: i64, relu: bool) -> Option<i8> {
        let lo = if relu { 0 } else { -128 };
        self.apply(acc).map(|q| q.clamp(lo, 127) as i8)
    }

    /// The real ratio `multiplier / 2^shift`.
    pub fn ratio(&self) -> f64 {
        f64::from(self.multiplier) / 2f64.powi(i32::from(self.shift))
    }
}

/// A quantised fully connected layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QLinear {
    /// Geometry.
    pub geometry: Linear,
    /// int8 weights `[out, in]`, row-major.
    pub weight: Vec<i8>,
    /// int32 biases `[out]` at scale `s_in · s_w[o]`.
    pub bias: Vec<i32>,
    /// One requantisation per output feature.
    pub requant: Vec<Requant>,
    /// Whether a following ReLU is fused (clamp to `[0, 127]`).
    pub relu: bool,
}

/// A quantised 2-D convolution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QConv2d {
    /// Geometry.
    pub geometry: Conv2d,
    /// int8 weights `[out_c, in_c, kh, kw]`, row-major.
    pub weight: Vec<i8>,
    /// int32 biases `[out_c]` at scale `s_in · s_w[c]`.
    pub bias: Vec<i32>,
    /// One requantisation per output channel.
    pub requant: Vec<Requant>,
    /// Whether a following ReLU is fused (clamp to `[0, 127]`).
    pub relu: bool,
}

/// A quantised average pool: window sums requantised by `≈ 1 / (kh · kw)`; the output keeps
/// the input's scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QAvgPool2d {
    /// Geometry.
    pub geometry: Pool2d,
    /// Requantisation of the window sum.
    pub requant: Requant,
}

/// One layer of a quantised model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum QLayer {
    /// Fully connected, requantised per output feature, optionally with fused ReLU.
    Linear(QLinear),
    /// Convolution, requantised per output channel, optionally with fused ReLU.
    Conv2d(QConv2d),
    /// Stand-alone ReLU on int8 (`max(q, 0)`), scale unchanged.
    Relu,
    /// Max pool on int8 (exact), scale unchanged.
    MaxPool2d(Pool2d),
    /// Average pool.
    AvgPool2d(QAvgPool2d),
    /// Reshape to rank 1.
    Flatten,
}

impl QLayer {
    /// The float layers this quantised layer stands for (a fused ReLU adds [`Layer::Relu`]).
    pub fn float_layers(&self) -> Vec<Layer> {
        match self {
            Self::Linear(l) if l.relu => vec![Layer::Linear(l.geometry), Layer::Relu],
            Self::Linear(l) => vec![Layer::Linear(l.geometry)],
            Self::Conv2d(c) if c.relu => vec![Layer::Conv2d(c.geometry), Layer::Relu],
            Self::Conv2d(c) => vec![Layer::Conv2d(c.geometry)],
            Self::Relu => vec![Layer::Relu],
            Self::MaxPool2d(p) => vec![Layer::MaxPool2d(*p)],
            Self::AvgPool2d(p) => vec![Layer::AvgPool2d(p.geometry)],
            Self::Flatten => vec![Layer::Flatten],
        }
    }

    /// The operator's name.
    pub fn op_name(&self) -> &'static str {
        match self {
            Self::Linear(_) => "QLinear",
            Self::Conv2d(_) => "QConv2d",
            Self::Relu => "Relu",
            Self::MaxPool2d(_) => "MaxPool2d",
            Self::AvgPool2d(_) => "QAvgPool2d",
            Self::Flatten => "Flatten",
        }
    }

    fn geometry_layer(&self) -> Layer {
        match self {
            Self::Linear(l) => Layer::Linear(l.geometry),
            Self::Conv2d(c) => Layer::Conv2d(c.geometry),
            Self::Relu => Layer::Relu,
            Self::MaxPool2d(p) => Layer::MaxPool2d(*p),
            Self::AvgPool2d(p) => Layer::AvgPool2d(p.geometry),
            Self::Flatten => Layer::Flatten,
        }
    }
}

/// The serialised form of a [`QuantizedModel`] (and the input to [`QuantizedModel::new`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuantizedModelSpec {
    /// Input shape without batch dimension.
    pub input_shape: Vec<usize>,
    /// Scale of every activation tensor: `[0]` the input, `[i + 1]` the output of layer `i`.
    /// Only the first (to quantise inputs) and the last (to dequantise logits) are used at run
    /// time; the rest document the calibration.
    pub activation_scales: Vec<f32>,
    /// Quantised layers.
    pub layers: Vec<QLayer>,
    /// Whether the float model ended with a Softmax, which the fixed-point model omits.
    pub softmax: bool,
}

/// A validated quantised model, evaluated with integers only.
///
/// Build it with [`quantize`] from a float model and calibration samples, or with
/// [`QuantizedModel::new`] from its parts; deserialising validates the same way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "QuantizedModelSpec", into = "QuantizedModelSpec")]
pub struct QuantizedModel {
    spec: QuantizedModelSpec,
    shapes: Vec<Vec<usize>>,
}

impl TryFrom<QuantizedModelSpec> for QuantizedModel {
    type Error = Error;
    fn try_from(spec: QuantizedModelSpec) -> Result<Self> {
        Self::new(spec)
    }
}

impl From<QuantizedModel> for QuantizedModelSpec {
    fn from(m: QuantizedModel) -> Self {
        m.spec
    }
}

impl QuantizedModel {
    /// Validate a quantised model.
    ///
    /// # Errors
    /// Shape errors as [`Architecture::new`]; [`Error::InvalidQuantized`] when weight, bias or
    /// requantisation lengths differ from the geometry, a requantisation breaks its invariants,
    /// a dot product is longer than [`MAX_DOT_LENGTH`], or a scale is not finite and positive.
    pub fn new(spec: QuantizedModelSpec) -> Result<Self> {
        let geometry = Architecture::new(
            spec.input_shape.clone(),
            spec.layers.iter().map(QLayer::geometry_layer).collect(),
        )?;
        let bad = |layer, reason| Error::InvalidQuantized { layer, reason };
        if spec.activation_scales.len() != spec.layers.len() + 1 {
            return Err(bad(0, "need one activation scale per tensor"));
        }
        if let Some(i) = spec
            .activation_scales
            .iter()
            .position(|s| !(s.is_finite() && *s > 0.0))
        {
            return Err(bad(i, "activation scale must be finite and positive"));
        }
        for (i, layer) in spec.layers.iter().enumerate() {
            let (weight_len, bias_len, requant, dot, w, b) = match layer {
                QLayer::Linear(l) => (
                    l.geometry.in_features * l.geometry.out_features,
                    l.geometry.out_features,
                    l.requant.as_slice(),
                    l.geometry.in_features,
                    l.weight.len(),
                    l.bias.len(),
                ),
                QLayer::Conv2d(c) => {
                    let g = c.geometry;
                    let dot = g.in_channels * g.kernel[0] * g.kernel[1];
                    (
                        dot * g.out_channels,
                        g.out_channels,
                        c.requant.as_slice(),
                        dot,
                        c.weight.len(),
                        c.bias.len(),
                    )
                }
                QLayer::AvgPool2d(p) => {
                    if p.geometry.kernel[0] * p.geometry.kernel[1] > MAX_DOT_LENGTH {
                        return Err(bad(i, "pool window too large"));
                    }
                    if !p.requant.is_valid() {
                        return Err(bad(i, "requantisation out of range"));
                    }
                    continue;
                }
                _ => continue,
            };
            if dot > MAX_DOT_LENGTH {
                return Err(bad(i, "dot product longer than MAX_DOT_LENGTH"));
            }
            if w != weight_len {
                return Err(bad(i, "weight length differs from the geometry"));
            }
            if b != bias_len || requant.len() != bias_len {
                return Err(bad(
                    i,
                    "bias/requant length differs from the output channels",
                ));
            }
            if !requant.iter().all(Requant::is_valid) {
                return Err(bad(i, "requantisation out of range"));
            }
        }
        let shapes = geometry.shapes().to_vec();
        Ok(Self { spec, shapes })
    }

    /// This model with every requantisation multiplier cut to `bits` significant bits
    /// ([`Requant::with_multiplier_bits`]); weights, biases and scales are unchanged.
    ///
    /// # Errors
    /// As [`QuantizedModel::new`] (cannot fail for a valid model).
    pub fn with_multiplier_bits(&self, bits: u32) -> Result<Self> {
        let mut spec = self.spec.clone();
        for layer in &mut spec.layers {
            match layer {
                QLayer::Linear(l) => l
                    .requant
                    .iter_mut()
                    .for_each(|r| *r = r.with_multiplier_bits(bits)),
                QLayer::Conv2d(c) => c
                    .requant
                    .iter_mut()
                    .for_each(|r| *r = r.with_multiplier_bits(bits)),
                QLayer::AvgPool2d(p) => p.requant = p.requant.with_multiplier_bits(bits),
                _ => {}
            }
        }
        Self::new(spec)
    }

    /// Quantised layers in evaluation order.
    pub fn layers(&self) -> &[QLayer] {
        &self.spec.layers
    }

    /// The parts this model was built from.
    pub fn spec(&self) -> &QuantizedModelSpec {
        &self.spec
    }

    /// Activation shapes: `[0]` the input, `[i + 1]` the output of quantised layer `i`.
    pub fn shapes(&self) -> &[Vec<usize>] {
        &self.shapes
    }

    /// Input shape without batch dimension.
    pub fn input_shape(&self) -> &[usize] {
        &self.spec.input_shape
    }

    /// Number of input elements.
    pub fn input_len(&self) -> usize {
        self.spec.input_shape.iter().product()
    }

    /// Number of output elements (int8 logits).
    pub fn output_len(&self) -> usize {
        self.shapes.last().map_or(0, |s| s.iter().product())
    }

    /// Scale of the input tensor (`x ≈ s · q`).
    pub fn input_scale(&self) -> f32 {
        self.spec.activation_scales.first().copied().unwrap_or(1.0)
    }

    /// Scale of the output tensor (int8 logits).
    pub fn output_scale(&self) -> f32 {
        self.spec.activation_scales.last().copied().unwrap_or(1.0)
    }

    /// Scale of every activation tensor (see [`QuantizedModelSpec::activation_scales`]).
    pub fn activation_scales(&self) -> &[f32] {
        &self.spec.activation_scales
    }

    /// Whether the float model ended with a Softmax (omitted here; argmax is unaffected).
    pub fn softmax(&self) -> bool {
        self.spec.softmax
    }

    /// The float architecture this model implements: each quantised layer's
    /// [`QLayer::float_layers`], plus the trailing Softmax if any. Its
    /// [`Architecture::hash`] equals the source float model's.
    ///
    /// # Errors
    /// Never for a validated model (kept fallible because shapes are re-inferred).
    pub fn architecture(&self) -> Result<Architecture> {
        let mut layers: Vec<Layer> = self
            .spec
            .layers
            .iter()
            .flat_map(QLayer::float_layers)
            .collect();
        if self.spec.softmax {
            layers.push(Layer::Softmax);
        }
        Architecture::new(self.spec.input_shape.clone(), layers)
    }

    /// The canonical encoding of everything public about the model — all but the int8 weights
    /// and int32 biases — hashed by [`QuantizedModel::public_params_hash`].
    ///
    /// Integers are `u64` little-endian, scales their IEEE-754 bits as `u64`: the input rank and
    /// dimensions; the number of scales and each scale; the softmax flag; the layer count; per
    /// layer a tag (QLinear 1, QConv2d 2, Relu 3, MaxPool2d 4, QAvgPool2d 5, Flatten 6), its
    /// geometry fields as in [`Architecture::canonical_bytes`], then for QLinear/QConv2d the
    /// ReLU flag, the number of requantisations and each `(multiplier, shift)`, and for
    /// QAvgPool2d its `(multiplier, shift)`.
    pub fn public_params_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut put = |v: u64| out.extend_from_slice(&v.to_le_bytes());
        put(self.spec.input_shape.len() as u64);
        self.spec.input_shape.iter().for_each(|&d| put(d as u64));
        put(self.spec.activation_scales.len() as u64);
        self.spec
            .activation_scales
            .iter()
            .for_each(|s| put(u64::from(s.to_bits())));
        put(u64::from(self.spec.softmax));
        put(self.spec.layers.len() as u64);
        for layer in &self.spec.layers {
            let requant = |put: &mut dyn FnMut(u64), rs: &[Requant]| {
                put(rs.len() as u64);
                for r in rs {
                    put(u64::from(r.multiplier));
                    put(u64::from(r.shift));
                }
            };
            match layer {
                QLayer::Linear(l) => {
                    [1, l.geometry.in_features, l.geometry.out_features]
                        .into_iter()
                        .for_each(|v| put(v as u64));
                    put(u64::from(l.relu));
                    requant(&mut put, &l.requant);
                }
                QLayer::Conv2d(c) => {
                    let g = c.geometry;
                    [2, g.in_channels, g.out_channels]
                        .into_iter()
                        .chain(g.kernel)
                        .chain(g.stride)
                        .chain(g.padding)
                        .for_each(|v| put(v as u64));
                    put(u64::from(c.relu));
                    requant(&mut put, &c.requant);
                }
                QLayer::Relu => put(3),
                QLayer::MaxPool2d(p) => [4]
                    .into_iter()
                    .chain(p.kernel)
                    .chain(p.stride)
                    .for_each(|v| put(v as u64)),
                QLayer::AvgPool2d(p) => {
                    [5].into_iter()
                        .chain(p.geometry.kernel)
                        .chain(p.geometry.stride)
                        .for_each(|v| put(v as u64));
                    put(u64::from(p.requant.multiplier));
                    put(u64::from(p.requant.shift));
                }
                QLayer::Flatten => put(6),
            }
        }
        out
    }

    /// BLAKE3 (key derivation, context [`QUANT_PARAMS_HASH_CONTEXT`]) of
    /// [`QuantizedModel::public_params_bytes`].
    pub fn public_params_hash(&self) -> Digest {
        let mut h = blake3::Hasher::new_derive_key(QUANT_PARAMS_HASH_CONTEXT);
        h.update(&self.public_params_bytes());
        Digest(*h.finalize().as_bytes())
    }

    /// BLAKE3 (key derivation, context [`QUANT_WEIGHTS_HASH_CONTEXT`]) over, for each layer with
    /// parameters in order: the layer index (`u64` LE), the weight count (`u64` LE), the int8
    /// weights as bytes, the bias count (`u64` LE) and each int32 bias little-endian.
    pub fn weights_hash(&self) -> Digest {
        let mut h = blake3::Hasher::new_derive_key(QUANT_WEIGHTS_HASH_CONTEXT);
        for (i, layer) in self.spec.layers.iter().enumerate() {
            let (w, b) = match layer {
                QLayer::Linear(l) => (&l.weight, &l.bias),
                QLayer::Conv2d(c) => (&c.weight, &c.bias),
                _ => continue,
            };
            h.update(&(i as u64).to_le_bytes());
            h.update(&(w.len() as u64).to_le_bytes());
            let bytes: Vec<u8> = w.iter().map(|&v| v as u8).collect();
            h.update(&bytes);
            h.update(&(b.len() as u64).to_le_bytes());
            for v in b {
                h.update(&v.to_le_bytes());
            }
        }
        Digest(*h.finalize().as_bytes())
    }
}
