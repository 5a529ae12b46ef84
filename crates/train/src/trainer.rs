//! Local training and evaluation of a model-IR architecture with burn on the flex CPU backend.

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer, SgdConfig};
use burn::tensor::{Device, Tensor, TensorData};
use counterweight_model::Architecture;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::dataset::Dataset;
use crate::error::{Error, Result};
use crate::net::{FlatNet, Plan};

/// The optimiser used for local training.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Optimizer {
    /// Plain minibatch SGD.
    Sgd,
    /// Adam with burn's default betas (0.9, 0.999).
    Adam,
}

/// Local training settings for one client update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Passes over the local data.
    pub epochs: usize,
    /// Samples per minibatch (the last batch of an epoch may be smaller).
    pub batch_size: usize,
    /// Learning rate.
    pub lr: f64,
    /// The optimiser.
    pub optimizer: Optimizer,
    /// FedProx proximal coefficient μ: adds `μ/2 · ‖w − w_global‖²` to the loss (0 disables).
    pub proximal_mu: f64,
    /// Seed of the per-epoch shuffles.
    pub seed: u64,
}

impl Default for TrainConfig {
    /// The reference task's settings: 2 epochs of SGD, lr 0.1, batch 32.
    fn default() -> Self {
        Self {
            epochs: 2,
            batch_size: 32,
            lr: 0.1,
            optimizer: Optimizer::Sgd,
            proximal_mu: 0.0,
            seed: 0,
        }
    }
}

impl TrainConfig {
    /// Check the settings.
    ///
    /// # Errors
    /// [`Error::Config`] for a zero batch size, a non-positive or non-finite learning rate,
    /// or a negative or non-finite μ.
    pub fn validate(&self) -> Result<()> {
        let bad = |reason: String| Err(Error::Config { reason });
        if self.batch_size == 0 {
            return bad("batch size must be positive".into());
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad(format!(
                "learning rate must be positive and finite, got {}",
                self.lr
            ));
        }
        if !(self.proximal_mu.is_finite() && self.proximal_mu >= 0.0) {
            return bad(format!(
                "proximal mu must be >= 0 and finite, got {}",
                self.proximal_mu
            ));
        }
        Ok(())
    }
}

/// The result of one local training run.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOutcome {
    /// The trained parameters in the IR's flat layout.
    pub params: Vec<f32>,
    /// Mean training loss over every sample seen (cross-entropy, without the proximal term).
    pub mean_loss: f64,
    /// Local samples (the weight of this update in sample-weighted aggregation).
    pub samples: usize,
    /// Minibatch steps taken.
    pub steps: usize,
}

/// Accuracy and loss of a model on a data set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Fraction of samples whose arg-max class equals the label.
    pub accuracy: f64,
    /// Mean softmax cross-entropy.
    pub loss: f64,
    /// Samples evaluated.
    pub samples: usize,
}

/// Trains and evaluates one architecture on CPU with burn's flex backend.
///
/// Each call runs on the calling thread; run several clients in parallel by calling from
/// several threads (the trainer is `Sync`).
#[derive(Debug, Clone)]
pub struct Trainer {
    arch: Architecture,
    plan: Plan,
}

impl Trainer {
    /// A trainer for `arch`, whose output must be class scores.
    ///
    /// # Errors
    /// [`Error::ModelMismatch`] if a layer is not trainable here or the output is not a vector.
    pub fn new(arch: Architecture) -> Result<Self> {
        let plan = Plan::new(&arch)?;
        Ok(Self { arch, plan })
    }

    /// The architecture.
    pub fn architecture(&self) -> &Architecture {
        &self.arch
    }

    /// Number of parameters.
    pub fn parameter_count(&self) -> usize {
        self.plan.num_params
    }

    /// Check that `data` fits the model's input and output sizes.
    ///
    /// # Errors
    /// [`Error::ModelMismatch`] naming the mismatch.
    pub fn check_data(&self, data: &Dataset) -> Result<()> {
        if data.num_features() != self.plan.input_len() {
            return Err(Error::ModelMismatch {
                reason: format!(
                    "data set {} has {} features per sample, the model takes {:?}",
                    data.name(),
                    data.num_features(),
                    self.plan.input_shape
                ),
            });
        }
        if data.num_classes() > self.plan.num_outputs {
            return Err(Error::ModelMismatch {
                reason: format!(
                    "data set {} has {} classes, the model outputs {}",
                    data.name(),
                    data.num_classes(),
                    self.plan.num_outputs
                ),
            });
        }
        Ok(())
    }

    fn check_params(&self, params: &[f32]) -> Result<()> {
        if params.len() != self.plan.num_params {
            return Err(Error::BadParameters {
                reason: format!(
                    "{} values for {} parameters",
                    params.len(),
                    self.plan.num_params
                ),
            });
        }
        if let Some(i) = params.iter().position(|v| !v.is_finite()) {
            return Err(Error::BadParameters {
                reason: format!("parameter {i} is not finite"),
            });
        }
        Ok(())
    }

    /// Train from `global` (flat layout) on `data`.
    ///
    /// # Errors
    /// [`Error::Config`] for invalid settings, [`Error::BadParameters`] for a wrong-length or
    /// non-finite `global`, [`Error::ModelMismatch`] if the data does not fit,
    /// [`Error::Diverged`] if the loss becomes non-finite.
    pub fn train(&self, global: &[f32], data: &Dataset, cfg: &TrainConfig) -> Result<TrainOutcome> {
        cfg.validate()?;
        self.check_params(global)?;
        self.check_data(data)?;
        let device = Device::flex().autodiff();
        let mut net = FlatNet::from_flat(global, &device);
        let mut optim: ModuleOptimizer = match cfg.optimizer {
            Optimizer::Sgd => SgdConfig::new().init(),
            Optimizer::Adam => AdamConfig::new().init(),
        };
        let anchor = (cfg.proximal_mu > 0.0).then(|| {
            Tensor::<1>::from_data(TensorData::new(global.to_vec(), [global.len()]), &device)
        });
        let n = data.len();
        let width = data.num_features();
        let classes = self.plan.num_outputs;
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        let mut order: Vec<usize> = (0..n).collect();
        let (mut loss_sum, mut seen, mut steps) = (0.0f64, 0usize, 0usize);
        let mut xb = Vec::with_capacity(cfg.batch_size * width);
        let mut yb = Vec::with_capacity(cfg.batch_size * classes);
        for epoch in 0..cfg.epochs {
            order.shuffle(&mut rng);
            for batch in order.chunks(cfg.batch_size) {
                xb.clear();
                yb.clear();
                yb.resize(batch.len() * classes, 0.0f32);
                for (r, &i) in batch.iter().enumerate() {
                    xb.extend_from_slice(&data.features()[i * width..(i + 1) * width]);
                    yb[r * classes + data.labels()[i] as usize] = 1.0;
                }
                let b = batch.len();
                let x = Tensor::<2>::from_data(TensorData::new(xb.clone(), [b, width]), &device);
                let y = Tensor::<2>::from_data(TensorData::new(yb.clone(), [b, classes]), &device);
                let logits = net.forward(&self.plan, x);
                let ce = FlatNet::cross_entropy(logits, y);
                let ce_value: f32 = ce.clone().into_scalar();
                if !ce_value.is_finite() {
                    return Err(Error::Diverged { epoch });
                }
                loss_sum += f64::from(ce_value) * b as f64;
                seen += b;
                let loss = match &anchor {
                    Some(g) => {
                        let diff = net.flat.val() - g.clone();
                        ce + (diff.clone() * diff)
                            .sum()
                            .mul_scalar(cfg.proximal_mu / 2.0)
                    }
                    None => ce,
                };
                let grads = GradientsParams::from_grads(loss.backward(), &net);
                net = optim.step(cfg.lr, net, grads);
                steps += 1;
            }
        }
        let params = net.valid().to_flat();
        if let Some(i) = params.iter().position(|v| !v.is_finite()) {
            tracing::debug!(target: "train::local", index = i, "non-finite parameter after training");
            return Err(Error::Diverged {
                epoch: cfg.epochs.saturating_sub(1),
            });
        }
        Ok(TrainOutcome {
            params,
            mean_loss: loss_sum / seen.max(1) as f64,
            samples: n,
            steps,
        })
    }

    /// Accuracy and mean cross-entropy of `params` (flat layout) on `data`.
    ///
    /// # Errors
    /// [`Error::BadParameters`] or [`Error::ModelMismatch`] as for [`Trainer::train`].
    pub fn evaluate(&self, params: &[f32], data: &Dataset) -> Result<Metrics> {
        self.check_params(params)?;
        self.check_data(data)?;
        let logits = self.logits(params, data)?;
        let classes = self.plan.num_outputs;
        let (mut correct, mut loss) = (0usize, 0.0f64);
        for (row, &label) in logits.chunks(classes).zip(data.labels()) {
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let sum: f64 = row.iter().map(|&v| f64::from(v - max).exp()).sum();
            let label = label as usize;
            loss += sum.ln() - f64::from(row[label] - max);
            let best = row
                .iter()
                .enumerate()
                .fold(
                    (0, f32::NEG_INFINITY),
                    |acc, (j, &v)| if v > acc.1 { (j, v) } else { acc },
                )
                .0;
            correct += usize::from(best == label);
        }
        let n = data.len();
        Ok(Metrics {
            accuracy: correct as f64 / n as f64,
            loss: loss / n as f64,
            samples: n,
        })
    }

    /// Raw logits `[samples × classes]` of `params` on `data`, row-major.
    ///
    /// # Errors
    /// [`Error::BadParameters`] or [`Error::ModelMismatch`] as for [`Trainer::train`].
    pub fn logits(&self, params: &[f32], data: &Dataset) -> Result<Vec<f32>> {
        self.check_params(params)?;
        self.check_data(data)?;
        let device = Device::flex();
        let net = FlatNet::from_flat(params, &device);
        let x = Tensor::<2>::from_data(
            TensorData::new(data.features().to_vec(), [data.len(), data.num_features()]),
            &device,
        );
        Ok(net
            .forward(&self.plan, x)
            .into_data()
            .try_to_vec::<f32>()
            .expect("logits are f32"))
    }
}
