//! The model-level suite, run against both evaluators on real data (UCI digits): the float
//! reference and the fixed-point model quantised from it.

use counterweight_model::{Model, QuantizedModel, argmax, quantize};

use crate::support::{Sample, cnn_arch, digits, float_accuracy, mlp_arch, train_head};

/// One way of evaluating a model: float or fixed point.
trait Evaluator {
    fn name(&self) -> &'static str;
    fn predict(&self, x: &[f32]) -> anyhow::Result<usize>;
    fn logits(&self, x: &[f32]) -> anyhow::Result<Vec<f32>>;
}

impl Evaluator for Model {
    fn name(&self) -> &'static str {
        "float"
    }
    fn predict(&self, x: &[f32]) -> anyhow::Result<usize> {
        Ok(argmax(&self.forward(x)?).unwrap_or(0))
    }
    fn logits(&self, x: &[f32]) -> anyhow::Result<Vec<f32>> {
        // Pre-softmax values, comparable with the fixed-point logits.
        let acts = self.forward_all(x)?;
        let n = self.architecture().layers().len();
        let has_softmax = matches!(
            self.architecture().layers().last(),
            Some(counterweight_model::Layer::Softmax)
        );
        Ok(acts[if has_softmax { n - 1 } else { n }].clone())
    }
}

impl Evaluator for QuantizedModel {
    fn name(&self) -> &'static str {
        "fixed-point"
    }
    fn predict(&self, x: &[f32]) -> anyhow::Result<usize> {
        Ok(Self::predict(self, x)?)
    }
    fn logits(&self, x: &[f32]) -> anyhow::Result<Vec<f32>> {
        Ok(self.dequantize_output(&self.evaluate(&self.quantize_input(x)?)?))
    }
}

fn accuracy(e: &dyn Evaluator, data: &[Sample]) -> anyhow::Result<f64> {
    let mut hits = 0;
    for s in data {
        hits += usize::from(e.predict(&s.x)? == s.label);
    }
    Ok(hits as f64 / data.len() as f64)
}

struct Trained {
    float: Model,
    quant: QuantizedModel,
    test: Vec<Sample>,
}

fn trained(arch: counterweight_model::Architecture, seed: u64) -> anyhow::Result<Trained> {
    let (train, test) = digits()?;
    let mut float = Model::init_he(arch, seed);
    train_head(&mut float, &train, 8, 0.05)?;
    // Calibrate on 200 training samples (never on the test set).
    let calib: Vec<Vec<f32>> = train
        .iter()
        .step_by(7)
        .take(200)
        .map(|s| s.x.clone())
        .collect();
    let quant = quantize(&float, &calib)?;
    Ok(Trained { float, quant, test })
}

/// Every evaluator reaches the accuracy floor, and the fixed-point model agrees with the float
/// model on at least 97% of test samples with accuracy within 2 points.
fn check(t: &Trained, min_accuracy: f64) -> anyhow::Result<()> {
    let evaluators: [&dyn Evaluator; 2] = [&t.float, &t.quant];
    let mut accs = Vec::new();
    for e in evaluators {
        let acc = accuracy(e, &t.test)?;
        assert!(
            acc >= min_accuracy,
            "{} accuracy {acc:.3} < {min_accuracy}",
            e.name()
        );
        accs.push(acc);
    }
    let mut agree = 0;
    let mut worst_logit_err = 0f32;
    for s in &t.test {
        agree += usize::from(t.float.predict(&s.x)? == t.quant.predict(&s.x)?);
        let (a, b) = (t.float.logits(&s.x)?, t.quant.logits(&s.x)?);
        let range = a.iter().fold(0f32, |m, v| m.max(v.abs()));
        for (x, y) in a.iter().zip(&b) {
            worst_logit_err = worst_logit_err.max((x - y).abs() / range);
        }
    }
    let agreement = agree as f64 / t.test.len() as f64;
    println!(
        "float acc {:.4}, fixed-point acc {:.4}, argmax agreement {agreement:.4}, worst logit error {worst_logit_err:.4} of range",
        accs[0], accs[1]
    );
    assert!(agreement >= 0.97, "agreement {agreement}");
    assert!((accs[0] - accs[1]).abs() <= 0.02);
    assert!(worst_logit_err < 0.2, "logit error {worst_logit_err}");
    // Determinism: evaluating twice gives identical bits.
    let x = t.quant.quantize_input(&t.test[0].x)?;
    assert_eq!(t.quant.trace(&x)?, t.quant.trace(&x)?);
    Ok(())
}

#[test]
fn mlp_agrees_across_evaluators_on_digits() -> anyhow::Result<()> {
    let t = trained(mlp_arch(), 21)?;
    assert!(float_accuracy(&t.float, &t.test)? > 0.85);
    check(&t, 0.85)
}

#[test]
fn cnn_agrees_across_evaluators_on_digits() -> anyhow::Result<()> {
    let t = trained(cnn_arch(), 22)?;
    check(&t, 0.80)
}
