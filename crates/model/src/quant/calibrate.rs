//! Post-training quantisation from calibration samples.

use super::{
    MAX_DOT_LENGTH, QAvgPool2d, QConv2d, QLayer, QLinear, QuantizedModel, QuantizedModelSpec,
    Requant,
};
use crate::arch::Layer;
use crate::error::{Error, Result};
use crate::model::Model;

/// Scale for a tensor whose largest magnitude is `max_abs`: `max_abs / 127`, or 1 when the
/// tensor is identically zero (any positive scale represents it exactly).
fn scale_for(max_abs: f32) -> f32 {
    if max_abs > 0.0 { max_abs / 127.0 } else { 1.0 }
}

/// Quantise a float model after training, calibrating activation scales on `calibration`
/// (each sample one input of the model's input length).
///
/// - Activations: per-tensor symmetric int8, `s = max|x| / 127` over all calibration samples
///   (max-abs calibration). A tensor after Relu, MaxPool2d, AvgPool2d or Flatten keeps its
///   input's scale, so those layers need no requantisation (AvgPool2d only divides).
/// - Weights: per output channel symmetric int8, `s_w[c] = max|W[c]| / 127`,
///   `W_q = clamp(round(W / s_w[c]), −127, 127)` (round half away from zero, in f64).
/// - Biases: int32 at scale `s_in · s_w[c]`: `b_q = round(b / (s_in · s_w[c]))`, saturated to
///   the i32 range.
/// - Requantisation: [`Requant::from_ratio`] of `s_in · s_w[c] / s_out` (AvgPool2d:
///   `1 / (kh · kw)`). A Relu right after Linear/Conv2d is fused into it.
/// - A trailing Softmax is dropped (the model then ends at int8 logits; argmax is unchanged).
///
/// # Errors
/// [`Error::NoCalibrationData`] for no samples; input errors as [`Model::forward`];
/// [`Error::UnsupportedSequence`] for a Softmax that is not the last layer;
/// [`Error::RequantRange`] if a scale ratio cannot be represented; [`Error::InvalidQuantized`]
/// for a dot product longer than [`MAX_DOT_LENGTH`].
pub fn quantize(model: &Model, calibration: &[Vec<f32>]) -> Result<QuantizedModel> {
    if calibration.is_empty() {
        return Err(Error::NoCalibrationData);
    }
    let arch = model.architecture();
    let layers = arch.layers();
    if let Some(i) = layers
        .iter()
        .position(|l| matches!(l, Layer::Softmax))
        .filter(|&i| i + 1 != layers.len())
    {
        return Err(Error::UnsupportedSequence {
            layer: i,
            reason: "Softmax is only supported as the last layer",
        });
    }
    let mut max_abs = vec![0f32; layers.len() + 1];
    for sample in calibration {
        for (m, act) in max_abs.iter_mut().zip(model.forward_all(sample)?) {
            *m = act.iter().fold(*m, |m, v| m.max(v.abs()));
        }
    }
    tracing::debug!(target: "model::quant", samples = calibration.len(), "calibrated activations");

    let mut scales = vec![scale_for(max_abs[0])];
    let mut qlayers = Vec::new();
    let mut softmax = false;
    let mut i = 0;
    while i < layers.len() {
        let s_in = scales.last().copied().unwrap_or(1.0);
        let q_index = qlayers.len();
        let fused = matches!(layers.get(i + 1), Some(Layer::Relu));
        let (qlayer, s_out, consumed) = match layers[i] {
            Layer::Linear(l) => {
                let (w, b) = model.layer_params(i).unwrap_or_default();
                let s_out = scale_for(max_abs[i + 1 + usize::from(fused)]);
                check_dot(q_index, l.in_features)?;
                let (weight, bias, requant) =
                    quantize_weights(q_index, w, b, l.out_features, s_in, s_out)?;
                let q = QLayer::Linear(QLinear {
                    geometry: l,
                    weight,
                    bias,
                    requant,
                    relu: fused,
                });
                (q, s_out, 1 + usize::from(fused))
            }
            Layer::Conv2d(c) => {
                let (w, b) = model.layer_params(i).unwrap_or_default();
                let s_out = scale_for(max_abs[i + 1 + usize::from(fused)]);
                check_dot(q_index, c.in_channels * c.kernel[0] * c.kernel[1])?;
                let (weight, bias, requant) =
                    quantize_weights(q_index, w, b, c.out_channels, s_in, s_out)?;
                let q = QLayer::Conv2d(QConv2d {
                    geometry: c,
                    weight,
                    bias,
                    requant,
                    relu: fused,
                });
                (q, s_out, 1 + usize::from(fused))
            }
            Layer::Relu => (QLayer::Relu, s_in, 1),
            Layer::MaxPool2d(p) => (QLayer::MaxPool2d(p), s_in, 1),
            Layer::AvgPool2d(p) => {
                let count = p.kernel[0] * p.kernel[1];
                check_dot(q_index, count)?;
                let ratio = 1.0 / count as f64;
                let requant = Requant::from_ratio(ratio).ok_or(Error::RequantRange {
                    layer: q_index,
                    ratio,
                })?;
                (
                    QLayer::AvgPool2d(QAvgPool2d {
                        geometry: p,
                        requant,
                    }),
                    s_in,
                    1,
                )
            }
            Layer::Flatten => (QLayer::Flatten, s_in, 1),
            Layer::Softmax => {
                softmax = true;
                i += 1;
                continue;
            }
        };
        qlayers.push(qlayer);
        scales.push(s_out);
        i += consumed;
    }
    QuantizedModel::new(QuantizedModelSpec {
        input_shape: arch.input_shape().to_vec(),
        activation_scales: scales,
        layers: qlayers,
        softmax,
    })
}

fn check_dot(layer: usize, len: usize) -> Result<()> {
    if len > MAX_DOT_LENGTH {
        return Err(Error::InvalidQuantized {
            layer,
            reason: "dot product longer than MAX_DOT_LENGTH",
        });
    }
    Ok(())
}

type QuantizedWeights = (Vec<i8>, Vec<i32>, Vec<Requant>);

fn quantize_weights(
    layer: usize,
    w: &[f32],
    b: &[f32],
    channels: usize,
    s_in: f32,
    s_out: f32,
) -> Result<QuantizedWeights> {
    let per_channel = w.len() / channels.max(1);
    let mut weight = Vec::with_capacity(w.len());
    let mut bias = Vec::with_capacity(channels);
    let mut requant = Vec::with_capacity(channels);
    for (row, &bc) in w.chunks(per_channel.max(1)).zip(b) {
        let s_w = scale_for(row.iter().fold(0f32, |m, v| m.max(v.abs())));
        let s_w64 = f64::from(s_w);
        weight.extend(
            row.iter()
                .map(|&v| (f64::from(v) / s_w64).round().clamp(-127.0, 127.0) as i8),
        );
        let s_b = f64::from(s_in) * s_w64;
        bias.push(
            (f64::from(bc) / s_b)
                .round()
                .clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32,
        );
        let ratio = s_b / f64::from(s_out);
        requant.push(Requant::from_ratio(ratio).ok_or(Error::RequantRange { layer, ratio })?);
    }
    Ok((weight, bias, requant))
}
