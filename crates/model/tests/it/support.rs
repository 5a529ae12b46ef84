//! Shared helpers: the digits data set, small architectures and a tiny trainer.

use counterweight_model::{Architecture, Conv2d, Layer, Linear, Model, Pool2d, argmax};

/// One labelled sample.
pub(crate) struct Sample {
    pub(crate) x: Vec<f32>,
    pub(crate) label: usize,
}

/// The UCI digits (8×8, pixels / 16) from the repository's `data/digits.csv`, split
/// deterministically: every fifth row is a test sample.
pub(crate) fn digits() -> anyhow::Result<(Vec<Sample>, Vec<Sample>)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/digits.csv");
    let text = std::fs::read_to_string(path)?;
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for (i, line) in text.lines().skip(1).enumerate() {
        let vals: Vec<f32> = line.split(',').map(str::parse).collect::<Result<_, _>>()?;
        anyhow::ensure!(
            vals.len() == 65,
            "digits row {i} has {} columns",
            vals.len()
        );
        let sample = Sample {
            x: vals[..64].iter().map(|v| v / 16.0).collect(),
            label: vals[64] as usize,
        };
        if i % 5 == 0 {
            test.push(sample)
        } else {
            train.push(sample)
        }
    }
    Ok((train, test))
}

pub(crate) fn linear(i: usize, o: usize) -> Layer {
    Layer::Linear(Linear {
        in_features: i,
        out_features: o,
    })
}

pub(crate) fn conv(ic: usize, oc: usize, k: usize, stride: usize, pad: usize) -> Layer {
    Layer::Conv2d(Conv2d {
        in_channels: ic,
        out_channels: oc,
        kernel: [k, k],
        stride: [stride, stride],
        padding: [pad, pad],
    })
}

pub(crate) fn pool(k: usize, s: usize) -> Pool2d {
    Pool2d {
        kernel: [k, k],
        stride: [s, s],
    }
}

/// MLP 64-64-10 with a trailing Softmax.
pub(crate) fn mlp_arch() -> Architecture {
    Architecture::new(
        vec![64],
        vec![linear(64, 64), Layer::Relu, linear(64, 10), Layer::Softmax],
    )
    .expect("valid architecture")
}

/// A small CNN on the 8×8 digits exercising every spatial layer.
pub(crate) fn cnn_arch() -> Architecture {
    Architecture::new(
        vec![1, 8, 8],
        vec![
            conv(1, 8, 3, 1, 1),
            Layer::Relu,
            Layer::AvgPool2d(pool(2, 2)),
            conv(8, 16, 3, 1, 1),
            Layer::Relu,
            Layer::MaxPool2d(pool(2, 2)),
            Layer::Flatten,
            linear(64, 10),
        ],
    )
    .expect("valid architecture")
}

/// Train only the last Linear layer (softmax cross-entropy, plain SGD, fixed order) on top of
/// the fixed, randomly initialised earlier layers: a random-features classifier, enough to
/// give the evaluators a model with real accuracy.
pub(crate) fn train_head(
    model: &mut Model,
    data: &[Sample],
    epochs: usize,
    lr: f32,
) -> anyhow::Result<()> {
    let arch = model.architecture().clone();
    let head = arch
        .layers()
        .iter()
        .rposition(|l| matches!(l, Layer::Linear(_)))
        .ok_or_else(|| anyhow::anyhow!("no linear layer"))?;
    let Layer::Linear(l) = arch.layers()[head] else {
        unreachable!()
    };
    let span = arch
        .param_spans()
        .iter()
        .find(|s| s.layer == head)
        .cloned()
        .expect("span");
    let feats: Vec<Vec<f32>> = data
        .iter()
        .map(|s| model.forward_all(&s.x).map(|a| a[head].clone()))
        .collect::<Result<_, _>>()?;
    let mut params = model.to_flat();
    for _ in 0..epochs {
        for (f, s) in feats.iter().zip(data) {
            let (w, b) = params[span.weight_offset..span.bias_offset + span.bias_len]
                .split_at_mut(span.weight_len);
            let logits: Vec<f32> = (0..l.out_features)
                .map(|o| {
                    b[o] + (0..l.in_features)
                        .map(|i| w[o * l.in_features + i] * f[i])
                        .sum::<f32>()
                })
                .collect();
            let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let exps: Vec<f32> = logits.iter().map(|z| (z - max).exp()).collect();
            let sum: f32 = exps.iter().sum();
            for o in 0..l.out_features {
                let g = exps[o] / sum - if o == s.label { 1.0 } else { 0.0 };
                b[o] -= lr * g;
                for i in 0..l.in_features {
                    w[o * l.in_features + i] -= lr * g * f[i];
                }
            }
        }
    }
    model.set_flat(&params)?;
    Ok(())
}

/// Fraction of samples whose float argmax is the label.
pub(crate) fn float_accuracy(model: &Model, data: &[Sample]) -> anyhow::Result<f64> {
    let mut hits = 0;
    for s in data {
        hits += usize::from(argmax(&model.forward(&s.x)?) == Some(s.label));
    }
    Ok(hits as f64 / data.len() as f64)
}
