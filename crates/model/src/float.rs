//! The f32 reference evaluator.

use crate::arch::{Conv2d, Layer, Linear, Pool2d};
use crate::error::{Error, Result};
use crate::model::{Model, first_non_finite};

impl Model {
    /// Evaluate one sample (no batch dimension) and return the last layer's output.
    ///
    /// Sums run in f32 in ascending index order (for `Conv2d`: input channel, kernel row,
    /// kernel column), starting from the bias.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] if `input.len()` differs from the architecture's input size;
    /// [`Error::NonFinite`] for a NaN or infinite input.
    pub fn forward(&self, input: &[f32]) -> Result<Vec<f32>> {
        let mut acts = self.forward_all(input)?;
        Ok(acts.pop().unwrap_or_default())
    }

    /// Evaluate one sample and return every activation: `[input, out_0, out_1, …]`.
    ///
    /// # Errors
    /// As [`Model::forward`].
    pub fn forward_all(&self, input: &[f32]) -> Result<Vec<Vec<f32>>> {
        let arch = self.architecture();
        if input.len() != arch.input_len() {
            return Err(Error::LengthMismatch {
                what: "input".into(),
                expected: arch.input_len(),
                got: input.len(),
            });
        }
        if let Some(index) = first_non_finite(input) {
            return Err(Error::NonFinite {
                what: "input".into(),
                index,
            });
        }
        let shapes = arch.shapes();
        let mut acts = Vec::with_capacity(arch.layers().len() + 1);
        acts.push(input.to_vec());
        for (i, layer) in arch.layers().iter().enumerate() {
            let x = &acts[i];
            let in_shape = &shapes[i];
            let y = match *layer {
                Layer::Linear(l) => {
                    let (w, b) = self.layer_params(i).unwrap_or_default();
                    linear(l, w, b, x)
                }
                Layer::Conv2d(c) => {
                    let (w, b) = self.layer_params(i).unwrap_or_default();
                    conv2d(c, in_shape, &shapes[i + 1], w, b, x)
                }
                Layer::Relu => x.iter().map(|v| v.max(0.0)).collect(),
                Layer::MaxPool2d(p) => pool(p, in_shape, &shapes[i + 1], x, true),
                Layer::AvgPool2d(p) => pool(p, in_shape, &shapes[i + 1], x, false),
                Layer::Flatten => x.clone(),
                Layer::Softmax => softmax(x),
            };
            acts.push(y);
        }
        Ok(acts)
    }
}

fn linear(l: Linear, w: &[f32], b: &[f32], x: &[f32]) -> Vec<f32> {
    (0..l.out_features)
        .map(|o| {
            let row = &w[o * l.in_features..(o + 1) * l.in_features];
            row.iter().zip(x).fold(b[o], |acc, (wi, xi)| acc + wi * xi)
        })
        .collect()
}

fn conv2d(
    c: Conv2d,
    in_shape: &[usize],
    out_shape: &[usize],
    w: &[f32],
    b: &[f32],
    x: &[f32],
) -> Vec<f32> {
    let (h, wd) = (in_shape[1], in_shape[2]);
    let (oh, ow) = (out_shape[1], out_shape[2]);
    let [kh, kw] = c.kernel;
    let mut y = Vec::with_capacity(c.out_channels * oh * ow);
    for oc in 0..c.out_channels {
        for oy in 0..oh {
            for ox in 0..ow {
                let mut acc = b[oc];
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
                            acc += w[((oc * c.in_channels + ic) * kh + ky) * kw + kx]
                                * x[(ic * h + iy) * wd + ix];
                        }
                    }
                }
                y.push(acc);
            }
        }
    }
    y
}

fn pool(p: Pool2d, in_shape: &[usize], out_shape: &[usize], x: &[f32], max: bool) -> Vec<f32> {
    let (ch, h, w) = (in_shape[0], in_shape[1], in_shape[2]);
    let (oh, ow) = (out_shape[1], out_shape[2]);
    let count = (p.kernel[0] * p.kernel[1]) as f32;
    let mut y = Vec::with_capacity(ch * oh * ow);
    for c in 0..ch {
        for oy in 0..oh {
            for ox in 0..ow {
                let mut acc = if max { f32::NEG_INFINITY } else { 0.0 };
                for ky in 0..p.kernel[0] {
                    for kx in 0..p.kernel[1] {
                        let v = x[(c * h + oy * p.stride[0] + ky) * w + ox * p.stride[1] + kx];
                        acc = if max { acc.max(v) } else { acc + v };
                    }
                }
                y.push(if max { acc } else { acc / count });
            }
        }
    }
    y
}

/// Numerically stable softmax (subtracts the maximum first).
pub(crate) fn softmax(x: &[f32]) -> Vec<f32> {
    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f32> = x.iter().map(|v| (v - max).exp()).collect();
    let sum: f32 = exps.iter().sum();
    exps.into_iter().map(|e| e / sum).collect()
}
