//! Lower a quantised model from the `model` crate to circuit form.

use counterweight_model::{QLayer, QuantizedModel};
use counterweight_zkml_verifier::{Circuit, LayerKind, LayerSpec, Requant};

use crate::error::{Error, Result};
use crate::model::{LayerWeights, SecretModel};

fn dim(v: usize, index: usize) -> Result<u32> {
    u32::try_from(v).map_err(|_| Error::Unsupported {
        index,
        op: "dimension above u32".into(),
    })
}

/// Lower `q` to a [`SecretModel`]: Linear and Conv2d layers (with their fused ReLU) become
/// circuit layers; Flatten is a reshape; a standalone ReLU directly after a weighted layer is
/// fused into its clamp (`max(clamp(q, -128, 127), 0) = clamp(q, 0, 127)`).
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
        let q = quantize(&model, &samples).unwrap();
        let secret = from_quantized(&q).unwrap();
        for s in &samples {
            let x = q.quantize_input(s).unwrap();
            assert_eq!(secret.evaluate(&x).unwrap(), q.evaluate(&x).unwrap());
        }
    }
}
