//! The fixed-point evaluator: integers only, bit-identical on every machine.

use serde::{Deserialize, Serialize};

use super::{QLayer, QuantizedModel, Requant};
use crate::arch::{Conv2d, Pool2d};
use crate::error::{Error, Result};

/// One quantised layer's witness: its int8 input, its i64 accumulators and its int8 output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerTrace {
    /// The layer's input (row-major, shape `model.shapes()[i]`).
    pub input: Vec<i8>,
    /// Pre-requantisation accumulators, one per output element (row-major, shape
    /// `model.shapes()[i + 1]`): for QLinear/QConv2d `bias + Σ W·x`, for QAvgPool2d the window
    /// sum. Empty for Relu, MaxPool2d and Flatten, which need none.
    pub accumulators: Vec<i64>,
    /// The layer's output (row-major, shape `model.shapes()[i + 1]`).
    pub output: Vec<i8>,
}

/// The full fixed-point trace of one evaluation: exactly the ZK prover's witness.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trace {
    /// One entry per quantised layer, in order.
    pub layers: Vec<LayerTrace>,
    /// The final int8 output (logits).
    pub output: Vec<i8>,
}

/// Index of the largest value; the lowest index wins ties. `None` for an empty slice.
pub fn argmax<T: PartialOrd + Copy>(values: &[T]) -> Option<usize> {
    let mut best: Option<(usize, T)> = None;
    for (i, &v) in values.iter().enumerate() {
        let better = match best {
            None => true,
            Some((_, b)) => v.partial_cmp(&b) == Some(std::cmp::Ordering::Greater),
        };
        if better {
            best = Some((i, v));
        }
    }
    best.map(|(i, _)| i)
}

impl QuantizedModel {
    /// Quantise a float input: `q = clamp(round(x / s_in), −128, 127)` with the division in
    /// f32 (IEEE-754, so reproducible) and rounding half away from zero.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] for a wrong input length; [`Error::NonFinite`] for NaN/inf.
    pub fn quantize_input(&self, input: &[f32]) -> Result<Vec<i8>> {
        if input.len() != self.input_len() {
            return Err(Error::LengthMismatch {
                what: "input".into(),
                expected: self.input_len(),
                got: input.len(),
            });
        }
        if let Some(index) = crate::model::first_non_finite(input) {
            return Err(Error::NonFinite {
                what: "input".into(),
                index,
            });
        }
        let s = self.input_scale();
        Ok(input
            .iter()
            .map(|x| (x / s).round().clamp(-128.0, 127.0) as i8)
            .collect())
    }

    /// Map int8 logits back to floats: `x = s_out · q`.
    pub fn dequantize_output(&self, output: &[i8]) -> Vec<f32> {
        let s = self.output_scale();
        output.iter().map(|&q| f32::from(q) * s).collect()
    }

    /// Evaluate one int8 input and return the int8 output.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] for a wrong input length.
    pub fn evaluate(&self, input: &[i8]) -> Result<Vec<i8>> {
        self.run(input, None)
    }

    /// Evaluate one int8 input and return every layer's input, accumulators and output.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] for a wrong input length.
    pub fn trace(&self, input: &[i8]) -> Result<Trace> {
        let mut layers = Vec::with_capacity(self.layers().len());
        let output = self.run(input, Some(&mut layers))?;
        Ok(Trace { layers, output })
    }

    /// Quantise `input`, evaluate, and return the predicted class (argmax of the int8 logits).
    ///
    /// # Errors
    /// As [`QuantizedModel::quantize_input`].
    pub fn predict(&self, input: &[f32]) -> Result<usize> {
        let q = self.quantize_input(input)?;
        let out = self.evaluate(&q)?;
        Ok(argmax(&out).unwrap_or(0))
    }

    fn run(&self, input: &[i8], mut trace: Option<&mut Vec<LayerTrace>>) -> Result<Vec<i8>> {
        if input.len() != self.input_len() {
            return Err(Error::LengthMismatch {
                what: "input".into(),
                expected: self.input_len(),
                got: input.len(),
            });
        }
        let shapes = self.shapes();
        let mut x = input.to_vec();
        for (i, layer) in self.layers().iter().enumerate() {
            let (in_shape, out_shape) = (&shapes[i], &shapes[i + 1]);
            let overflow = || Error::Overflow { layer: i };
            let (acc, y) = match layer {
                QLayer::Linear(l) => {
                    let k = l.geometry.in_features;
                    let acc: Vec<i64> = (0..l.geometry.out_features)
                        .map(|o| dot(&l.weight[o * k..(o + 1) * k], &x) + i64::from(l.bias[o]))
                        .collect();
                    let y =
                        requantize_channels(&acc, &l.requant, 1, l.relu).ok_or_else(overflow)?;
                    (acc, y)
                }
                QLayer::Conv2d(c) => {
                    let acc = conv_acc(c.geometry, in_shape, out_shape, &c.weight, &c.bias, &x);
                    let per_channel = out_shape[1] * out_shape[2];
                    let y = requantize_channels(&acc, &c.requant, per_channel, c.relu)
                        .ok_or_else(overflow)?;
                    (acc, y)
                }
                QLayer::Relu => (Vec::new(), x.iter().map(|&v| v.max(0)).collect()),
                QLayer::MaxPool2d(p) => (Vec::new(), max_pool(*p, in_shape, out_shape, &x)),
                QLayer::AvgPool2d(p) => {
                    let acc = window_sums(p.geometry, in_shape, out_shape, &x);
                    let y = requantize_all(&acc, p.requant).ok_or_else(overflow)?;
                    (acc, y)
                }
                QLayer::Flatten => (Vec::new(), x.clone()),
            };
            let input = std::mem::replace(&mut x, y);
            if let Some(t) = trace.as_deref_mut() {
                t.push(LayerTrace {
                    input,
                    accumulators: acc,
                    output: x.clone(),
                });
            }
        }
        Ok(x)
    }
}

fn dot(w: &[i8], x: &[i8]) -> i64 {
    w.iter()
        .zip(x)
        .map(|(&a, &b)| i64::from(a) * i64::from(b))
        .sum()
}

fn requantize_channels(
    acc: &[i64],
    requant: &[Requant],
    per_channel: usize,
    relu: bool,
) -> Option<Vec<i8>> {
    acc.iter()
        .enumerate()
        .map(|(j, &a)| requant[j / per_channel].requantize(a, relu))
        .collect()
}

fn requantize_all(acc: &[i64], requant: Requant) -> Option<Vec<i8>> {
    acc.iter().map(|&a| requant.requantize(a, false)).collect()
}

fn conv_acc(
    c: Conv2d,
    in_shape: &[usize],
    out_shape: &[usize],
    w: &[i8],
    b: &[i32],
    x: &[i8],
) -> Vec<i64> {
    let (h, wd) = (in_shape[1], in_shape[2]);
    let (oh, ow) = (out_shape[1], out_shape[2]);
    let [kh, kw] = c.kernel;
    let mut acc = Vec::with_capacity(c.out_channels * oh * ow);
    for oc in 0..c.out_channels {
        for oy in 0..oh {
            for ox in 0..ow {
                let mut a = i64::from(b[oc]);
                for ic in 0..c.in_channels {
                    for ky in 0..kh {
                        let Some(iy) = (oy * c.stride[0] + ky).checked_sub(c.padding[0]) else {
                            continue;
                        };
                        if iy >= h {
                            continue;
                        }
                        for kx in 0..kw {
                            let Some(ix) = (ox * c.stride[1] + kx).checked_sub(c.padding[1]) else {
                                continue;
                            };
                            if ix >= wd {
                                continue;
                            }
                            a += i64::from(w[((oc * c.in_channels + ic) * kh + ky) * kw + kx])
                                * i64::from(x[(ic * h + iy) * wd + ix]);
                        }
                    }
                }
                acc.push(a);
            }
        }
    }
    acc
}

fn windows(
    p: Pool2d,
    in_shape: &[usize],
    out_shape: &[usize],
    x: &[i8],
    mut f: impl FnMut(&mut dyn Iterator<Item = i8>),
) {
    let (ch, h, w) = (in_shape[0], in_shape[1], in_shape[2]);
    let (oh, ow) = (out_shape[1], out_shape[2]);
    for c in 0..ch {
        for oy in 0..oh {
            for ox in 0..ow {
                let mut it = (0..p.kernel[0]).flat_map(|ky| {
                    (0..p.kernel[1]).map(move |kx| {
                        x[(c * h + oy * p.stride[0] + ky) * w + ox * p.stride[1] + kx]
                    })
                });
                f(&mut it);
            }
        }
    }
}

fn max_pool(p: Pool2d, in_shape: &[usize], out_shape: &[usize], x: &[i8]) -> Vec<i8> {
    let mut y = Vec::new();
    windows(p, in_shape, out_shape, x, |it| {
        y.push(it.max().unwrap_or(i8::MIN))
    });
    y
}

fn window_sums(p: Pool2d, in_shape: &[usize], out_shape: &[usize], x: &[i8]) -> Vec<i64> {
    let mut y = Vec::new();
    windows(p, in_shape, out_shape, x, |it| {
        y.push(it.map(i64::from).sum())
    });
    y
}
