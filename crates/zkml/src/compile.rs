//! Lower a quantised model from the `model` crate to circuit form.

use counterweight_model::{QLayer, QuantizedModel};
use counterweight_zkml_verifier::{Circuit, LayerKind, LayerSpec, Requant};

use crate::error::{Error, Result};
use crate::model::{LayerWeights, SecretModel};

/// Significant bits of the requantisation multipliers that `zk register` quantises to
/// ([`counterweight_model::QuantizedModel::with_multiplier_bits`]). Each shift bit costs one
/// range-checked witness bit per accumulator; 14 bits keep every ratio within 2^-13.
pub const MULTIPLIER_BITS: u32 = 14;

/// Smallest public bias bound a compiled layer declares (`|b| < 2^16`), so the bound reveals
/// nothing about typical biases; larger biases raise it to their bit length.
pub const MIN_BIAS_BITS: u8 = 16;

/// The public bias bound for `bias`: its largest magnitude's bit length, at least
/// [`MIN_BIAS_BITS`].
pub fn bias_bits(bias: &[i32]) -> u8 {
    let max = bias.iter().map(|b| b.unsigned_abs()).max().unwrap_or(0);
    ((u32::BITS - max.leading_zeros()) as u8).max(MIN_BIAS_BITS)
}

fn dim(v: usize, index: usize) -> Result<u32> {
    u32::try_from(v).map_err(|_| Error::Unsupported {
        index,
        op: "dimension above u32".into(),
    })
}

/// Lower `q` to a [`SecretModel`]: Linear and Conv2d layers (with their fused ReLU) become
/// circuit layers; Flatten is a reshape; a standalone ReLU directly after a weighted layer is
/// fused into its clamp (`max(clamp(q, -128, 127), 0) = clamp(q, 0, 127)`). Each layer's
/// public bias bound is [`bias_bits`] of its biases.
///
/// The circuit proves exactly `q`'s fixed-point arithmetic. Its witness grows with the
/// requantisation shifts, so quantise with short multipliers first, as `zk register` does:
/// `from_quantized(&q.with_multiplier_bits(MULTIPLIER_BITS)?)` (about half the witness of the
/// quantiser's 31-bit multipliers, see `docs/zkml.md`).
///
/// # Errors
/// [`Error::Unsupported`] for pooling layers or a ReLU that does not follow a weighted layer.
pub fn from_quantized(q: &QuantizedModel) -> Result<SecretModel> {
    let mut specs: Vec<LayerSpec> = Vec::new();
    let mut weights: Vec<LayerWeights> = Vec::new();
    let shapes = q.shapes();
    let requant = |rs: &[counterweight_model::Requant]| -> Vec<Requant> {
        rs.iter()
            .map(|r| Requant {
                multiplier: r.multiplier,
                shift: r.shift,
            })
            .collect()
    };
    let mut last_weighted = false;
    for (i, layer) in q.layers().iter().enumerate() {
        match layer {
            QLayer::Linear(l) => {
                specs.push(LayerSpec {
                    kind: LayerKind::Linear {
                        in_features: dim(l.geometry.in_features, i)?,
                        out_features: dim(l.geometry.out_features, i)?,
                    },
                    relu: l.relu,
                    requant: requant(&l.requant),
                    bias_bits: bias_bits(&l.bias),
                });
                weights.push(LayerWeights {
                    weight: l.weight.clone(),
                    bias: l.bias.clone(),
                });
                last_weighted = true;
            }
            QLayer::Conv2d(c) => {
                let shape = shapes.get(i).ok_or(Error::Unsupported {
                    index: i,
                    op: "convolution without an input shape".into(),
                })?;
                let [cin, h, w] = shape.as_slice() else {
                    return Err(Error::Unsupported {
                        index: i,
                        op: "convolution input that is not [C, H, W]".into(),
                    });
                };
                let g = c.geometry;
                specs.push(LayerSpec {
                    kind: LayerKind::Conv2d {
                        in_channels: dim(*cin, i)?,
                        in_height: dim(*h, i)?,
                        in_width: dim(*w, i)?,
                        out_channels: dim(g.out_channels, i)?,
                        kernel: [dim(g.kernel[0], i)?, dim(g.kernel[1], i)?],
                        stride: [dim(g.stride[0], i)?, dim(g.stride[1], i)?],
                        padding: [dim(g.padding[0], i)?, dim(g.padding[1], i)?],
                    },
                    relu: c.relu,
                    requant: requant(&c.requant),
                    bias_bits: bias_bits(&c.bias),
                });
                weights.push(LayerWeights {
                    weight: c.weight.clone(),
                    bias: c.bias.clone(),
                });
                last_weighted = true;
            }
            QLayer::Flatten => {}
            QLayer::Relu if last_weighted => {
                if let Some(s) = specs.last_mut() {
                    s.relu = true;
                }
            }
            other => {
                return Err(Error::Unsupported {
                    index: i,
                    op: other.op_name().into(),
                });
            }
        }
        if !matches!(
            layer,
            QLayer::Flatten | QLayer::Linear(_) | QLayer::Conv2d(_)
        ) {
            last_weighted = false;
        }
    }
    let circuit = Circuit {
        input_len: dim(q.input_len(), 0)?,
        layers: specs,
    };
    SecretModel::new(circuit, weights)
}

#[cfg(test)]
mod tests {
    use counterweight_model::{Architecture, Conv2d, Layer, Linear, Model, quantize};

    use super::*;
    use crate::test_utils::TestRng;

    #[test]
    fn bias_bound_covers_every_bias() {
        assert_eq!(bias_bits(&[]), MIN_BIAS_BITS);
        assert_eq!(bias_bits(&[5000, -3]), MIN_BIAS_BITS);
        assert_eq!(bias_bits(&[1 << 16]), 17);
        assert_eq!(bias_bits(&[-(1 << 20) + 1, 7]), 20);
        assert_eq!(bias_bits(&[i32::MIN]), 32);
    }

    #[test]
    fn lowered_model_matches_the_fixed_point_evaluator_bit_for_bit() {
        let arch = Architecture::new(
            vec![1, 8, 8],
            vec![
                Layer::Conv2d(Conv2d {
                    in_channels: 1,
                    out_channels: 2,
                    kernel: [3, 3],
                    stride: [1, 1],
                    padding: [1, 1],
                }),
                Layer::Relu,
                Layer::Flatten,
                Layer::Linear(Linear {
                    in_features: 128,
                    out_features: 5,
                }),
            ],
        )
        .unwrap();
        let model = Model::init_he(arch, 3);
        let mut rng = TestRng::new(4);
        let samples: Vec<Vec<f32>> = (0..8)
            .map(|_| {
                (0..64)
                    .map(|_| rng.range(0, 1000) as f32 / 1000.0)
                    .collect()
            })
            .collect();
        let full = quantize(&model, &samples).unwrap();
        let short = full.with_multiplier_bits(MULTIPLIER_BITS).unwrap();
        for q in [full, short] {
            let secret = from_quantized(&q).unwrap();
            for s in &samples {
                let x = q.quantize_input(s).unwrap();
                assert_eq!(secret.evaluate(&x).unwrap(), q.evaluate(&x).unwrap());
            }
        }
    }
}
