//! A burn network interpreting a model-IR architecture over one flat parameter tensor.
//!
//! All parameters live in a single `Param<Tensor<1>>` in the IR's flat layout (layers in
//! order, each weight row-major then its bias), so import and export are plain copies and the
//! FedProx term is one squared distance.

use burn::module::{Module, Param};
use burn::tensor::activation::{log_softmax, relu};
use burn::tensor::module::{avg_pool2d, conv2d, max_pool2d};
use burn::tensor::ops::{AvgPoolOptions, ConvOptions, MaxPoolOptions};
use burn::tensor::{Device, Tensor, TensorData};
use counterweight_model::{Architecture, Layer};

use crate::error::{Error, Result};

/// One executable step of the forward pass.
#[derive(Debug, Clone)]
pub(crate) enum Op {
    Linear {
        w: (usize, usize),
        b: (usize, usize),
        out: usize,
        inp: usize,
    },
    Conv {
        w: (usize, usize),
        b: (usize, usize),
        shape: [usize; 4],
        stride: [usize; 2],
        padding: [usize; 2],
    },
    Relu,
    MaxPool {
        kernel: [usize; 2],
        stride: [usize; 2],
    },
    AvgPool {
        kernel: [usize; 2],
        stride: [usize; 2],
    },
    Flatten,
}

/// The forward-pass plan of an architecture: ops with their parameter offsets.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) ops: Vec<Op>,
    pub(crate) input_shape: Vec<usize>,
    pub(crate) num_params: usize,
    pub(crate) num_outputs: usize,
}

impl Plan {
    /// Compile `arch`; a trailing `Softmax` is dropped (the loss works on logits).
    pub(crate) fn new(arch: &Architecture) -> Result<Self> {
        let spans = arch.param_spans();
        let mut ops = Vec::new();
        let layers = arch.layers();
        for (i, layer) in layers.iter().enumerate() {
            let span = || {
                spans
                    .iter()
                    .find(|s| s.layer == i)
                    .ok_or_else(|| Error::ModelMismatch {
                        reason: format!("layer {i} has no parameter span"),
                    })
            };
            let op = match *layer {
                Layer::Linear(l) => {
                    let s = span()?;
                    Op::Linear {
                        w: (s.weight_offset, s.weight_len),
                        b: (s.bias_offset, s.bias_len),
                        out: l.out_features,
                        inp: l.in_features,
                    }
                }
                Layer::Conv2d(c) => {
                    let s = span()?;
                    Op::Conv {
                        w: (s.weight_offset, s.weight_len),
                        b: (s.bias_offset, s.bias_len),
                        shape: [c.out_channels, c.in_channels, c.kernel[0], c.kernel[1]],
                        stride: c.stride,
                        padding: c.padding,
                    }
                }
                Layer::Relu => Op::Relu,
                Layer::MaxPool2d(p) => Op::MaxPool {
                    kernel: p.kernel,
                    stride: p.stride,
                },
                Layer::AvgPool2d(p) => Op::AvgPool {
                    kernel: p.kernel,
                    stride: p.stride,
                },
                Layer::Flatten => Op::Flatten,
                Layer::Softmax if i + 1 == layers.len() => continue,
                other => {
                    return Err(Error::ModelMismatch {
                        reason: format!(
                            "layer {i} ({}) cannot be trained here (Softmax only as the last layer)",
                            other.op_name()
                        ),
                    });
                }
            };
            ops.push(op);
        }
        if !matches!(arch.input_shape().len(), 1 | 3) {
            return Err(Error::ModelMismatch {
                reason: format!(
                    "input shape {:?}: only [features] and [channels, height, width] are trainable",
                    arch.input_shape()
                ),
            });
        }
        let out_shape = arch.output_shape();
        if out_shape.len() != 1 {
            return Err(Error::ModelMismatch {
                reason: format!(
                    "the model must end in class scores, output shape is {out_shape:?}"
                ),
            });
        }
        Ok(Self {
            ops,
            input_shape: arch.input_shape().to_vec(),
            num_params: arch.parameter_count(),
            num_outputs: arch.output_len(),
        })
    }

    pub(crate) fn input_len(&self) -> usize {
        self.input_shape.iter().product()
    }
}

/// The trainable network: the whole flat parameter vector as one parameter.
#[derive(Module, Debug)]
pub(crate) struct FlatNet {
    pub(crate) flat: Param<Tensor<1>>,
}

enum Act {
    Flat(Tensor<2>),
    Image(Tensor<4>),
}

impl FlatNet {
    pub(crate) fn from_flat(params: &[f32], device: &Device) -> Self {
        let t = Tensor::<1>::from_data(TensorData::new(params.to_vec(), [params.len()]), device);
        Self {
            flat: Param::from_tensor(t),
        }
    }

    /// Logits `[batch, classes]` for inputs `[batch, input_len]`.
    pub(crate) fn forward(&self, plan: &Plan, x: Tensor<2>) -> Tensor<2> {
        let flat = self.flat.val();
        let batch = x.dims()[0];
        let mut act = match plan.input_shape.as_slice() {
            &[c, h, w] => Act::Image(x.reshape([batch, c, h, w])),
            _ => Act::Flat(x),
        };
        let take = |(off, len): (usize, usize)| flat.clone().narrow(0, off, len);
        for op in &plan.ops {
            act = match (op, act) {
                (Op::Linear { w, b, out, inp }, Act::Flat(x)) => {
                    let w = take(*w).reshape([*out, *inp]).transpose();
                    let b = take(*b).reshape([1, *out]);
                    Act::Flat(x.matmul(w) + b)
                }
                (
                    Op::Conv {
                        w,
                        b,
                        shape,
                        stride,
                        padding,
                    },
                    Act::Image(x),
                ) => {
                    let w = take(*w).reshape(*shape);
                    let opts = ConvOptions::new(*stride, *padding, [1, 1], 1);
                    Act::Image(conv2d(x, w, Some(take(*b)), opts))
                }
                (Op::Relu, Act::Flat(x)) => Act::Flat(relu(x)),
                (Op::Relu, Act::Image(x)) => Act::Image(relu(x)),
                (Op::MaxPool { kernel, stride }, Act::Image(x)) => Act::Image(max_pool2d(
                    x,
                    MaxPoolOptions::new(*kernel).with_stride(*stride),
                )),
                (Op::AvgPool { kernel, stride }, Act::Image(x)) => Act::Image(avg_pool2d(
                    x,
                    AvgPoolOptions::new(*kernel).with_stride(*stride),
                )),
                (Op::Flatten, Act::Image(x)) => {
                    let [n, c, h, w] = x.dims();
                    Act::Flat(x.reshape([n, c * h * w]))
                }
                (Op::Flatten, a @ Act::Flat(_)) => a,
                // Plan::new only accepts architectures whose shapes the IR validated, so an
                // op never meets an activation of the wrong rank.
                (op, _) => unreachable!("validated architecture applied {op:?} to a wrong rank"),
            };
        }
        match act {
            Act::Flat(x) => x,
            Act::Image(x) => {
                let [n, c, h, w] = x.dims();
                x.reshape([n, c * h * w])
            }
        }
    }

    /// Mean softmax cross-entropy of `logits` against one-hot `targets`.
    pub(crate) fn cross_entropy(logits: Tensor<2>, one_hot: Tensor<2>) -> Tensor<1> {
        let batch = logits.dims()[0] as f64;
        (log_softmax(logits, 1) * one_hot)
            .sum()
            .mul_scalar(-1.0 / batch)
    }

    pub(crate) fn to_flat(&self) -> Vec<f32> {
        self.flat
            .val()
            .into_data()
            .try_to_vec::<f32>()
            .expect("the flat parameter tensor holds f32")
    }
}
