//! The architecture: a validated sequence of layers with inferred shapes and a canonical hash.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Largest number of elements any single activation tensor may have (2^26).
pub const MAX_TENSOR_ELEMENTS: usize = 1 << 26;
/// Largest number of parameters a model may have (2^28).
pub const MAX_PARAMETERS: usize = 1 << 28;
/// Largest number of layers in an architecture.
pub const MAX_LAYERS: usize = 1024;

/// A fully connected layer: `y[o] = b[o] + Σ_i W[o][i] · x[i]` (ONNX `Gemm` with `transB = 1`).
///
/// Weight shape `[out_features, in_features]` (row-major), bias shape `[out_features]`.
/// The input must be rank 1 (put a [`Layer::Flatten`] before it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Linear {
    /// Input features.
    pub in_features: usize,
    /// Output features.
    pub out_features: usize,
}

/// A 2-D convolution over a `[channels, height, width]` input, zero padded on every side.
///
/// `y[c][oy][ox] = b[c] + Σ_{ic,ky,kx} W[c][ic][ky][kx] · x[ic][oy·sy − py + ky][ox·sx − px + kx]`,
/// with `x` read as 0 outside the input. Weight shape `[out_channels, in_channels, kh, kw]`,
/// bias shape `[out_channels]`. Output height `(h + 2·py − kh) / sy + 1` (floor), likewise width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Conv2d {
    /// Input channels.
    pub in_channels: usize,
    /// Output channels.
    pub out_channels: usize,
    /// Kernel `[height, width]`.
    pub kernel: [usize; 2],
    /// Stride `[vertical, horizontal]`.
    pub stride: [usize; 2],
    /// Zero padding added on both sides `[vertical, horizontal]`.
    pub padding: [usize; 2],
}

/// A 2-D pooling window over a `[channels, height, width]` input, without padding.
///
/// Output height `(h − kh) / sy + 1` (floor), likewise width; channels are unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Pool2d {
    /// Window `[height, width]`.
    pub kernel: [usize; 2],
    /// Stride `[vertical, horizontal]`.
    pub stride: [usize; 2],
}

/// One layer of a sequential model.
///
/// The enum grows with new operators; each variant documents its shape rule and parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Layer {
    /// Fully connected layer (has weight and bias).
    Linear(Linear),
    /// 2-D convolution (has weight and bias).
    Conv2d(Conv2d),
    /// `max(x, 0)` element-wise; any shape.
    Relu,
    /// Maximum over each window.
    MaxPool2d(Pool2d),
    /// Mean over each window.
    AvgPool2d(Pool2d),
    /// Reshape to rank 1 in row-major order (`[c, h, w]` → `[c·h·w]`).
    Flatten,
    /// `exp(x_i) / Σ exp(x_j)` over a rank-1 input. Float only: the fixed-point model ends
    /// before it, at int8 logits.
    Softmax,
}

impl Layer {
    /// The operator's name, as used in errors and documentation.
    pub fn op_name(&self) -> &'static str {
        match self {
            Self::Linear(_) => "Linear",
            Self::Conv2d(_) => "Conv2d",
            Self::Relu => "Relu",
            Self::MaxPool2d(_) => "MaxPool2d",
            Self::AvgPool2d(_) => "AvgPool2d",
            Self::Flatten => "Flatten",
            Self::Softmax => "Softmax",
        }
    }

    /// Shapes of the `(weight, bias)` tensors, or `None` for a layer without parameters.
    pub fn param_shapes(&self) -> Option<(Vec<usize>, Vec<usize>)> {
        match *self {
            Self::Linear(l) => Some((vec![l.out_features, l.in_features], vec![l.out_features])),
            Self::Conv2d(c) => Some((
                vec![c.out_channels, c.in_channels, c.kernel[0], c.kernel[1]],
                vec![c.out_channels],
            )),
            _ => None,
        }
    }

    /// Shape of this layer's output for `input`, or an error naming layer `index`.
    pub fn output_shape(&self, index: usize, input: &[usize]) -> Result<Vec<usize>> {
        let op = self.op_name();
        let mismatch = |reason| Error::ShapeMismatch {
            layer: index,
            op,
            input: input.to_vec(),
            reason,
        };
        let invalid = |reason| Error::InvalidLayer {
            layer: index,
            op,
            reason,
        };
        match *self {
            Self::Linear(l) => {
                if l.in_features == 0 || l.out_features == 0 {
                    return Err(invalid("features must be positive"));
                }
                match input {
                    [n] if *n == l.in_features => Ok(vec![l.out_features]),
                    [_] => Err(mismatch("input length differs from in_features")),
                    _ => Err(mismatch("Linear needs a rank-1 input (add Flatten)")),
                }
            }
            Self::Conv2d(c) => {
                let [ch, h, w] = rank3(input).ok_or_else(|| mismatch("Conv2d needs [c, h, w]"))?;
                if c.in_channels == 0 || c.out_channels == 0 {
                    return Err(invalid("channels must be positive"));
                }
                if ch != c.in_channels {
                    return Err(mismatch("input channels differ from in_channels"));
                }
                let (oh, ow) =
                    window_output([h, w], c.kernel, c.stride, c.padding, &invalid, &mismatch)?;
                Ok(vec![c.out_channels, oh, ow])
            }
            Self::MaxPool2d(p) | Self::AvgPool2d(p) => {
                let [ch, h, w] = rank3(input).ok_or_else(|| mismatch("pooling needs [c, h, w]"))?;
                let (oh, ow) =
                    window_output([h, w], p.kernel, p.stride, [0, 0], &invalid, &mismatch)?;
                Ok(vec![ch, oh, ow])
            }
            Self::Relu => Ok(input.to_vec()),
            Self::Flatten => Ok(vec![input.iter().product()]),
            Self::Softmax => match input {
                [_] => Ok(input.to_vec()),
                _ => Err(mismatch("Softmax needs a rank-1 input")),
            },
        }
    }

    fn encode(&self, out: &mut Vec<u8>) {
        let mut put = |v: usize| out.extend_from_slice(&(v as u64).to_le_bytes());
        match *self {
            Self::Linear(l) => {
                put(1);
                put(l.in_features);
                put(l.out_features);
            }
            Self::Conv2d(c) => {
                put(2);
                for v in [c.in_channels, c.out_channels]
                    .into_iter()
                    .chain(c.kernel)
                    .chain(c.stride)
                    .chain(c.padding)
                {
                    put(v);
                }
            }
            Self::Relu => put(3),
            Self::MaxPool2d(p) => {
                put(4);
                p.kernel.into_iter().chain(p.stride).for_each(put);
            }
            Self::AvgPool2d(p) => {
                put(5);
                p.kernel.into_iter().chain(p.stride).for_each(put);
            }
            Self::Flatten => put(6),
            Self::Softmax => put(7),
        }
    }
}

fn rank3(shape: &[usize]) -> Option<[usize; 3]> {
    match shape {
        [c, h, w] => Some([*c, *h, *w]),
        _ => None,
    }
}

fn window_output(
    hw: [usize; 2],
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    invalid: &dyn Fn(&'static str) -> Error,
    mismatch: &dyn Fn(&'static str) -> Error,
) -> Result<(usize, usize)> {
    if kernel.contains(&0) || stride.contains(&0) {
        return Err(invalid("kernel and stride must be positive"));
    }
    if padding[0] >= kernel[0] || padding[1] >= kernel[1] {
        return Err(invalid("padding must be smaller than the kernel"));
    }
    let mut out = [0usize; 2];
    for d in 0..2 {
        let padded = hw[d]
            .checked_add(2 * padding[d])
            .ok_or_else(|| mismatch("padded input too large"))?;
        if padded < kernel[d] {
            return Err(mismatch("window larger than the (padded) input"));
        }
        out[d] = (padded - kernel[d]) / stride[d] + 1;
    }
    Ok((out[0], out[1]))
}

/// A BLAKE3 digest (architecture hash, weights hash, quantisation hash).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Digest(pub [u8; 32]);

impl std::fmt::Display for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// BLAKE3 key-derivation context of [`Architecture::hash`].
pub const ARCH_HASH_CONTEXT: &str = "counterweight model architecture v1";

/// Where one layer's parameters sit in the flat parameter vector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamSpan {
    /// Index of the layer in the architecture.
    pub layer: usize,
    /// Weight shape (row-major).
    pub weight_shape: Vec<usize>,
    /// Offset of the first weight element in the flat vector.
    pub weight_offset: usize,
    /// Number of weight elements.
    pub weight_len: usize,
    /// Offset of the first bias element (right after the weights).
    pub bias_offset: usize,
    /// Number of bias elements.
    pub bias_len: usize,
}

/// A validated sequential model architecture: an input shape (without batch dimension) and
/// layers, with every intermediate shape inferred.
///
/// Construct with [`Architecture::new`]; deserialising validates the same way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ArchitectureSpec", into = "ArchitectureSpec")]
pub struct Architecture {
    input_shape: Vec<usize>,
    layers: Vec<Layer>,
    shapes: Vec<Vec<usize>>,
    spans: Vec<ParamSpan>,
    parameter_count: usize,
}

/// The serialised form of an [`Architecture`]: only its input shape and layers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArchitectureSpec {
    /// Input shape without batch dimension: `[n]` or `[c, h, w]`.
    pub input_shape: Vec<usize>,
    /// Layers in evaluation order.
    pub layers: Vec<Layer>,
}

impl TryFrom<ArchitectureSpec> for Architecture {
    type Error = Error;
    fn try_from(spec: ArchitectureSpec) -> Result<Self> {
        Self::new(spec.input_shape, spec.layers)
    }
}

impl From<Architecture> for ArchitectureSpec {
    fn from(a: Architecture) -> Self {
        Self {
            input_shape: a.input_shape,
            layers: a.layers,
        }
    }
}

fn elements(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
}

impl Architecture {
    /// Validate `layers` applied to inputs of `input_shape` and infer every shape.
    ///
    /// # Errors
    /// [`Error::InvalidShape`] for an empty, zero-sized or oversized input or intermediate
    /// tensor (above [`MAX_TENSOR_ELEMENTS`]); [`Error::ShapeMismatch`] / [`Error::InvalidLayer`]
    /// when a layer cannot take its input; [`Error::InvalidLayer`] when the parameter count
    /// exceeds [`MAX_PARAMETERS`] or there are more than [`MAX_LAYERS`] layers.
    pub fn new(input_shape: Vec<usize>, layers: Vec<Layer>) -> Result<Self> {
        if input_shape.is_empty() || input_shape.len() > 3 || input_shape.contains(&0) {
            return Err(Error::InvalidShape {
                shape: input_shape,
                reason: "input must have rank 1..=3 and positive dimensions",
            });
        }
        if layers.len() > MAX_LAYERS {
            return Err(Error::InvalidLayer {
                layer: MAX_LAYERS,
                op: "architecture",
                reason: "too many layers",
            });
        }
        check_size(&input_shape)?;
        let mut shapes = Vec::with_capacity(layers.len() + 1);
        shapes.push(input_shape.clone());
        let mut spans = Vec::new();
        let mut offset = 0usize;
        for (i, layer) in layers.iter().enumerate() {
            let prev = shapes.last().map(Vec::as_slice).unwrap_or(&[]);
            let next = layer.output_shape(i, prev)?;
            if next.contains(&0) {
                return Err(Error::InvalidShape {
                    shape: next,
                    reason: "zero-sized dimension",
                });
            }
            check_size(&next)?;
            if let Some((w, b)) = layer.param_shapes() {
                let too_many = || Error::InvalidLayer {
                    layer: i,
                    op: layer.op_name(),
                    reason: "too many parameters",
                };
                let weight_len = elements(&w).ok_or_else(too_many)?;
                let bias_len = elements(&b).ok_or_else(too_many)?;
                let end = offset
                    .checked_add(weight_len)
                    .and_then(|o| o.checked_add(bias_len))
                    .filter(|&e| e <= MAX_PARAMETERS)
                    .ok_or_else(too_many)?;
                spans.push(ParamSpan {
                    layer: i,
                    weight_shape: w,
                    weight_offset: offset,
                    weight_len,
                    bias_offset: offset + weight_len,
                    bias_len,
                });
                offset = end;
            }
            shapes.push(next);
        }
        Ok(Self {
            input_shape,
            layers,
            shapes,
            spans,
            parameter_count: offset,
        })
    }

    /// Input shape without batch dimension.
    pub fn input_shape(&self) -> &[usize] {
        &self.input_shape
    }

    /// Number of input elements.
    pub fn input_len(&self) -> usize {
        self.input_shape.iter().product()
    }

    /// Output shape of the last layer.
    pub fn output_shape(&self) -> &[usize] {
        self.shapes.last().map(Vec::as_slice).unwrap_or(&[])
    }

    /// Number of output elements.
    pub fn output_len(&self) -> usize {
        self.output_shape().iter().product()
    }

    /// Layers in evaluation order.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// Activation shapes: `shapes()[0]` is the input, `shapes()[i + 1]` the output of layer `i`.
    pub fn shapes(&self) -> &[Vec<usize>] {
        &self.shapes
    }

    /// Total number of trainable parameters (weights and biases).
    pub fn parameter_count(&self) -> usize {
        self.parameter_count
    }

    /// The flat parameter layout: one span per layer with parameters, in layer order; each
    /// layer's weight (row-major) is followed by its bias.
    pub fn param_spans(&self) -> &[ParamSpan] {
        &self.spans
    }

    /// The canonical encoding hashed by [`Architecture::hash`].
    ///
    /// Every integer is a `u64` little-endian: the input rank, each input dimension, the layer
    /// count, then per layer a tag (Linear 1, Conv2d 2, Relu 3, MaxPool2d 4, AvgPool2d 5,
    /// Flatten 6, Softmax 7) followed by its fields in declaration order
    /// (`Linear`: in, out; `Conv2d`: in_channels, out_channels, kernel h w, stride h w,
    /// padding h w; pools: kernel h w, stride h w).
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&(self.input_shape.len() as u64).to_le_bytes());
        for &d in &self.input_shape {
            out.extend_from_slice(&(d as u64).to_le_bytes());
        }
        out.extend_from_slice(&(self.layers.len() as u64).to_le_bytes());
        for layer in &self.layers {
            layer.encode(&mut out);
        }
        out
    }

    /// BLAKE3 (key derivation mode, context [`ARCH_HASH_CONTEXT`]) of
    /// [`Architecture::canonical_bytes`]. Weights are hashed separately.
    pub fn hash(&self) -> Digest {
        let mut h = blake3::Hasher::new_derive_key(ARCH_HASH_CONTEXT);
        h.update(&self.canonical_bytes());
        Digest(*h.finalize().as_bytes())
    }
}

fn check_size(shape: &[usize]) -> Result<()> {
    match elements(shape) {
        Some(n) if n <= MAX_TENSOR_ELEMENTS => Ok(()),
        _ => Err(Error::InvalidShape {
            shape: shape.to_vec(),
            reason: "tensor too large",
        }),
    }
}
