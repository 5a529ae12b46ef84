//! Build the spec of a training task from plain values.

use std::str::FromStr as _;

use counterweight_fl::{Strategy, fixed};
use counterweight_learn::{DpParams, SecAggParams, TaskSpec, TaskStrategy, TrainHints};
use counterweight_model::Model;
use counterweight_train::{Dataset, models};
use counterweight_types::Hash;

use crate::error::{Error, Result};

/// Builds a [`TaskSpec`]: an MLP for a data set's shape with He initial weights from a seed
/// (the same initial model `fl simulate` starts from), the aggregation rule and the local
/// training hints. Defaults are those of `learn open-task`.
#[derive(Debug, Clone)]
pub struct SpecBuilder {
    coop: Hash,
    datasets: Vec<Hash>,
    hidden: Vec<usize>,
    seed: u64,
    rounds: u32,
    min_clients: u32,
    strategy: String,
    secagg: Option<SecAggParams>,
    dp: Option<(f64, f64)>,
    epochs: u32,
    lr: f64,
    batch: u32,
    timeout_ms: u64,
    reward: u64,
}

impl SpecBuilder {
    /// A task over `datasets` of `coop`, with one hidden layer of 64, seed 42, 20 rounds, one
    /// client needed, FedAvg, no secure aggregation or DP, 2 epochs at rate 0.1 in batches
    /// of 32, a 30 s round timeout and no reward.
    pub fn new(coop: Hash, datasets: Vec<Hash>) -> Self {
        Self {
            coop,
            datasets,
            hidden: vec![64],
            seed: 42,
            rounds: 20,
            min_clients: 1,
            strategy: "fedavg".into(),
            secagg: None,
            dp: None,
            epochs: 2,
            lr: 0.1,
            batch: 32,
            timeout_ms: 30_000,
            reward: 0,
        }
    }

    /// Hidden layer widths of the MLP.
    #[must_use]
    pub fn hidden(mut self, hidden: Vec<usize>) -> Self {
        self.hidden = hidden;
        self
    }

    /// Seed of the initial weights and of the clients' shuffles.
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Number of rounds.
    #[must_use]
    pub fn rounds(mut self, rounds: u32) -> Self {
        self.rounds = rounds;
        self
    }

    /// Updates needed to close a round at its deadline.
    #[must_use]
    pub fn min_clients(mut self, min_clients: u32) -> Self {
        self.min_clients = min_clients;
        self
    }

    /// Aggregation rule in `fl`'s syntax (`fedavg`, `trimmed:0.2`, `krum:1`, ...).
    #[must_use]
    pub fn strategy(mut self, strategy: impl Into<String>) -> Self {
        self.strategy = strategy.into();
        self
    }

    /// Secure aggregation with these parameters (FedAvg and FedAvgM only).
    #[must_use]
    pub fn secagg(mut self, secagg: Option<SecAggParams>) -> Self {
        self.secagg = secagg;
        self
    }

    /// Client-side DP: clip norm and noise multiplier.
    #[must_use]
    pub fn dp(mut self, clip_norm: f64, noise_multiplier: f64) -> Self {
        self.dp = Some((clip_norm, noise_multiplier));
        self
    }

    /// Local epochs per round.
    #[must_use]
    pub fn epochs(mut self, epochs: u32) -> Self {
        self.epochs = epochs;
        self
    }

    /// Local learning rate.
    #[must_use]
    pub fn lr(mut self, lr: f64) -> Self {
        self.lr = lr;
        self
    }

    /// Local batch size.
    #[must_use]
    pub fn batch(mut self, batch: u32) -> Self {
        self.batch = batch;
        self
    }

    /// Round / phase timeout in block time.
    #[must_use]
    pub fn timeout_ms(mut self, timeout_ms: u64) -> Self {
        self.timeout_ms = timeout_ms;
        self
    }

    /// Reward pool moved into the task's escrow.
    #[must_use]
    pub fn reward(mut self, reward: u64) -> Self {
        self.reward = reward;
        self
    }

    /// Builds the spec for a model shaped for `data`.
    ///
    /// # Errors
    /// A model that cannot be built, an unknown or off-chain rule, or hyper-parameters
    /// outside their integer ranges.
    pub fn build(&self, data: &Dataset) -> Result<TaskSpec> {
        let arch = models::mlp(data.num_features(), &self.hidden, data.num_classes())?;
        let init = Model::init_he(arch.clone(), self.seed);
        let dp = match self.dp {
            Some((clip, noise)) => Some(DpParams {
                clip_norm_micros: micros(clip, "clip norm")?,
                noise_multiplier_micros: micros(noise, "noise multiplier")?,
            }),
            None => None,
        };
        Ok(TaskSpec {
            coop: self.coop,
            datasets: self.datasets.clone(),
            architecture: arch.canonical_bytes().into(),
            initial_params: f32_le(init.params()).into(),
            rounds: self.rounds,
            min_clients: self.min_clients,
            strategy: task_strategy(&self.strategy)?,
            secagg: self.secagg,
            dp,
            train: TrainHints {
                epochs: self.epochs,
                lr_micros: micros(self.lr, "learning rate")?,
                batch: self.batch,
                seed: self.seed,
            },
            round_timeout_ms: self.timeout_ms,
            reward: self.reward,
            max_examples_per_client: counterweight_learn::MAX_EXAMPLES_PER_CLIENT,
            max_client_share_bps: counterweight_learn::FULL_SHARE_BPS,
            max_attempts: counterweight_learn::DEFAULT_MAX_ATTEMPTS,
            start_timeout_ms: counterweight_learn::DEFAULT_START_TIMEOUT_MS,
        })
    }
}

/// Converts a strategy string to the task's fixed-point rule.
///
/// # Errors
/// An unknown or unsupported rule, or hyper-parameters outside Q16.16.
pub fn task_strategy(s: &str) -> Result<TaskStrategy> {
    let usize_u32 = |v: usize| u32::try_from(v).map_err(|_| Error::ParameterTooLarge);
    Ok(match Strategy::from_str(s)? {
        Strategy::FedAvg => TaskStrategy::FedAvg,
        Strategy::FedAvgM {
            server_lr,
            momentum,
        } => TaskStrategy::FedAvgM {
            server_lr: fixed::from_f32(server_lr)?,
            momentum: fixed::from_f32(momentum)?,
        },
        Strategy::Median => TaskStrategy::Median,
        Strategy::TrimmedMean { beta } => TaskStrategy::TrimmedMean {
            beta: fixed::from_f32(beta)?,
        },
        Strategy::Krum { f } => TaskStrategy::Krum { f: usize_u32(f)? },
        Strategy::MultiKrum { f, m } => TaskStrategy::MultiKrum {
            f: usize_u32(f)?,
            m: usize_u32(m)?,
        },
        Strategy::Bulyan { f } => TaskStrategy::Bulyan { f: usize_u32(f)? },
        other => {
            return Err(Error::NotOnChain {
                name: other.name().to_string(),
            });
        }
    })
}

/// `x` in millionths (hyper-parameters travel as integers).
pub(crate) fn micros(x: f64, what: &'static str) -> Result<u32> {
    let m = (x * 1e6).round();
    if !(m.is_finite() && m >= 0.0 && m <= f64::from(u32::MAX)) {
        return Err(Error::OutOfRange { what, value: x });
    }
    Ok(m as u32)
}

/// A millionths value back as a float.
pub(crate) fn from_micros(x: u32) -> f64 {
    f64::from(x) / 1e6
}

/// Parameters as the chain takes them: f32 little-endian.
pub(crate) fn f32_le(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use counterweight_learn::{ModuleCall as _, decode_architecture};

    #[test]
    fn converts_strategies_to_fixed_point_rules() {
        assert_eq!(task_strategy("fedavg").unwrap(), TaskStrategy::FedAvg);
        assert_eq!(
            task_strategy("fedavgm:1:0.5").unwrap(),
            TaskStrategy::FedAvgM {
                server_lr: fixed::ONE,
                momentum: fixed::ONE / 2
            }
        );
        assert_eq!(
            task_strategy("multikrum:1:3").unwrap(),
            TaskStrategy::MultiKrum { f: 1, m: 3 }
        );
        assert!(matches!(
            task_strategy("fedadam"),
            Err(Error::NotOnChain { .. })
        ));
        assert!(task_strategy("nope").is_err());
    }

    #[test]
    fn spec_is_the_simulation_model_and_decodes_on_chain() {
        let data = Dataset::digits();
        let spec = SpecBuilder::new(Hash([1; 32]), vec![Hash([2; 32])])
            .secagg(Some(SecAggParams {
                max_dropout_permille: 300,
                neighbours: 0,
            }))
            .reward(100)
            .build(&data)
            .unwrap();
        let arch = decode_architecture(&spec.architecture).unwrap();
        assert_eq!(arch.parameter_count(), 64 * 64 + 64 + 64 * 10 + 10);
        let q = counterweight_learn::q16_from_f32_le(&spec.initial_params, arch.parameter_count())
            .unwrap();
        let sim_arch = models::mlp(data.num_features(), &[64], data.num_classes()).unwrap();
        let sim = fixed::quantize(Model::init_he(sim_arch, 42).params()).unwrap();
        assert_eq!(q, sim, "the chain starts from fl simulate's initial model");
        assert_eq!(
            from_micros(spec.train.lr_micros),
            0.1,
            "exactly fl simulate's rate"
        );
        let payload = counterweight_learn::LearnCall::OpenTask {
            spec: Box::new(spec),
        }
        .to_payload();
        assert!(payload.len() < counterweight_learn::MAX_PAYLOAD_BYTES);
    }

    #[test]
    fn refuses_hyper_parameters_outside_millionths() {
        let err = SpecBuilder::new(Hash([1; 32]), vec![])
            .lr(-1.0)
            .build(&Dataset::digits())
            .unwrap_err();
        assert!(matches!(
            err,
            Error::OutOfRange {
                what: "learning rate",
                ..
            }
        ));
    }
}
