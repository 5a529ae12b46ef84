//! The [`Aggregator`] trait, execution modes and the serialisable [`Strategy`] choice.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::fixed;
use crate::strategy::{
    Bulyan, FedAdagrad, FedAdam, FedAvg, FedAvgM, FedMedian, FedOptParams, FedTrimmedAvg, FedYogi,
    Krum, MultiKrum, QFedAvg,
};
use crate::update::{self, Update};

/// How a strategy spreads its work.
///
/// Both modes give bit-identical results: work is split into fixed coordinate chunks whose
/// partial results are combined with exact integer arithmetic in chunk order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Exec {
    /// One thread: the path validators run.
    #[default]
    Sequential,
    /// The current rayon pool (for simulations and benchmarks).
    Parallel,
}

/// Combine one round's client updates into the next global model.
///
/// Contract:
/// - `global` is the model the round started from; every update carries a full parameter
///   vector of the same length (its locally trained model), in Q16.16.
/// - The result depends only on the *set* of updates: implementations order them by
///   [`ClientId`](crate::ClientId) before computing, so callers may pass them in any order.
/// - Errors never leave the aggregator half-updated: stateful strategies (server momentum,
///   adaptive optimisers) change their state only when they return `Ok`.
/// - No floats, clock, hash-map iteration or randomness are involved; equal inputs and equal
///   state give equal bits on every machine.
pub trait Aggregator {
    /// Stable short name, e.g. `"fedavg"`.
    fn name(&self) -> &'static str;

    /// Compute the next global model.
    ///
    /// # Errors
    /// [`Error::NoUpdates`] for an empty round, [`Error::WrongShape`] and the other
    /// [`update::validate`] errors for bad updates, and strategy-specific parameter errors
    /// (e.g. [`Error::BulyanTooFewUpdates`]).
    fn aggregate(&mut self, global: &[i32], updates: &[Update]) -> Result<Vec<i32>>;

    /// Whether the rule must see individual updates. Rules that only need the (unweighted)
    /// mean of the client models return `false` and can run under secure aggregation, where
    /// the server learns nothing but the sum.
    fn needs_individual_updates(&self) -> bool {
        true
    }
}

/// Validate and order updates by client id; returns the sorted references and total samples.
pub(crate) fn prepare<'a>(global: &[i32], updates: &'a [Update]) -> Result<(Vec<&'a Update>, u64)> {
    let total = update::validate(updates, global.len())?;
    let mut sorted: Vec<&Update> = updates.iter().collect();
    sorted.sort_by_key(|u| u.client);
    Ok((sorted, total))
}

/// A serialisable choice of aggregation rule with its hyper-parameters (floats here are
/// configuration only: they are converted to Q16.16 once, by [`Strategy::build`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Strategy {
    /// Sample-weighted average.
    FedAvg,
    /// FedAvg with server momentum.
    FedAvgM {
        /// Server learning rate.
        server_lr: f32,
        /// Momentum coefficient.
        momentum: f32,
    },
    /// Server-side Adam.
    FedAdam(FedOptConfig),
    /// Server-side Yogi.
    FedYogi(FedOptConfig),
    /// Server-side Adagrad.
    FedAdagrad(FedOptConfig),
    /// q-fair FedAvg.
    QFedAvg {
        /// Fairness exponent (integer).
        q: u32,
        /// The clients' learning rate (its inverse is the Lipschitz estimate).
        lr: f32,
    },
    /// Coordinate-wise median.
    Median,
    /// Coordinate-wise trimmed mean dropping `floor(beta · n)` values per side.
    TrimmedMean {
        /// Fraction trimmed from each side, in [0, 0.5).
        beta: f32,
    },
    /// Krum: the single most central update.
    Krum {
        /// Byzantine clients tolerated.
        f: usize,
    },
    /// Multi-Krum: average of the `m` most central updates.
    MultiKrum {
        /// Byzantine clients tolerated.
        f: usize,
        /// Updates kept.
        m: usize,
    },
    /// Bulyan: iterated Krum then a trimmed mean around the median.
    Bulyan {
        /// Byzantine clients tolerated (needs n ≥ 4f + 3).
        f: usize,
    },
}

/// Server-optimiser hyper-parameters for [`Strategy::FedAdam`] and friends.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FedOptConfig {
    /// Server learning rate η.
    pub eta: f32,
    /// First-moment decay β1.
    pub beta1: f32,
    /// Second-moment decay β2.
    pub beta2: f32,
    /// Adaptivity τ (at least 2^-16).
    pub tau: f32,
}

impl Default for FedOptConfig {
    fn default() -> Self {
        Self {
            eta: 0.1,
            beta1: 0.9,
            beta2: 0.99,
            tau: 1e-3,
        }
    }
}

impl FedOptConfig {
    fn to_params(self) -> Result<FedOptParams> {
        FedOptParams::new(
            fixed::from_f32(self.eta)?,
            fixed::from_f32(self.beta1)?,
            fixed::from_f32(self.beta2)?,
            fixed::from_f32(self.tau)?,
        )
    }
}

impl Strategy {
    /// Stable short name of the rule.
    pub fn name(&self) -> &'static str {
        match self {
            Self::FedAvg => "fedavg",
            Self::FedAvgM { .. } => "fedavgm",
            Self::FedAdam(_) => "fedadam",
            Self::FedYogi(_) => "fedyogi",
            Self::FedAdagrad(_) => "fedadagrad",
            Self::QFedAvg { .. } => "qfedavg",
            Self::Median => "median",
            Self::TrimmedMean { .. } => "trimmed_mean",
            Self::Krum { .. } => "krum",
            Self::MultiKrum { .. } => "multikrum",
            Self::Bulyan { .. } => "bulyan",
        }
    }

    /// Build the aggregator, converting hyper-parameters to Q16.16.
    ///
    /// # Errors
    /// [`Error::InvalidParameters`] or a fixed-point conversion error for bad hyper-parameters.
    pub fn build(&self, exec: Exec) -> Result<Box<dyn Aggregator + Send>> {
        Ok(match *self {
            Self::FedAvg => Box::new(FedAvg::new().with_exec(exec)),
            Self::FedAvgM {
                server_lr,
                momentum,
            } => Box::new(FedAvgM::new(
                fixed::from_f32(server_lr)?,
                fixed::from_f32(momentum)?,
            )?),
            Self::FedAdam(c) => Box::new(FedAdam::new(c.to_params()?)),
            Self::FedYogi(c) => Box::new(FedYogi::new(c.to_params()?)),
            Self::FedAdagrad(c) => Box::new(FedAdagrad::new(c.to_params()?)),
            Self::QFedAvg { q, lr } => Box::new(QFedAvg::new(q, fixed::from_f32(lr)?)?),
            Self::Median => Box::new(FedMedian::new().with_exec(exec)),
            Self::TrimmedMean { beta } => {
                Box::new(FedTrimmedAvg::new(fixed::from_f32(beta)?)?.with_exec(exec))
            }
            Self::Krum { f } => Box::new(Krum::new(f).with_exec(exec)),
            Self::MultiKrum { f, m } => Box::new(MultiKrum::new(f, m)?.with_exec(exec)),
            Self::Bulyan { f } => Box::new(Bulyan::new(f).with_exec(exec)),
        })
    }
}

impl std::str::FromStr for Strategy {
    type Err = Error;

    /// Parse `fedavg`, `fedavgm`, `fedadam`, `fedyogi`, `fedadagrad`, `qfedavg[:q[:lr]]`, `median`,
    /// `trimmed[:beta]`, `krum[:f]`, `multikrum[:f[:m]]` or `bulyan[:f]` (defaults: q = 1,
    /// lr = 0.1, beta = 0.2, krum f = 2, m = 5, bulyan f = 1; fedavgm takes
    /// `[:server_lr[:momentum]]`, default 1.0 and 0.9).
    fn from_str(s: &str) -> Result<Self> {
        let mut parts = s.split(':');
        let head = parts.next().unwrap_or_default().to_ascii_lowercase();
        let args: Vec<&str> = parts.collect();
        let bad = |reason: &str| Error::InvalidParameters {
            strategy: "strategy",
            reason: format!("{reason} in {s:?}"),
        };
        let num = |i: usize, default: usize| -> Result<usize> {
            match args.get(i) {
                None => Ok(default),
                Some(a) => a.parse().map_err(|_| bad("expected an integer")),
            }
        };
        let real = |i: usize, default: f32| -> Result<f32> {
            match args.get(i) {
                None => Ok(default),
                Some(a) => a.parse().map_err(|_| bad("expected a number")),
            }
        };
        let max_args = match head.as_str() {
            "fedavg" | "median" | "fedadam" | "fedyogi" | "fedadagrad" => 0,
            "fedavgm" | "qfedavg" => 2,
            "trimmed" | "trimmed_mean" | "krum" | "bulyan" => 1,
            "multikrum" => 2,
            _ => return Err(bad("unknown strategy")),
        };
        if args.len() > max_args {
            return Err(bad("too many arguments"));
        }
        Ok(match head.as_str() {
            "fedavg" => Self::FedAvg,
            "fedavgm" => Self::FedAvgM {
                server_lr: real(0, 1.0)?,
                momentum: real(1, 0.9)?,
            },
            "fedadam" => Self::FedAdam(FedOptConfig::default()),
            "fedyogi" => Self::FedYogi(FedOptConfig {
                eta: 0.01,
                ..FedOptConfig::default()
            }),
            "fedadagrad" => Self::FedAdagrad(FedOptConfig::default()),
            "qfedavg" => Self::QFedAvg {
                q: u32::try_from(num(0, 1)?).map_err(|_| bad("q too large"))?,
                lr: real(1, 0.1)?,
            },
            "median" => Self::Median,
            "trimmed" | "trimmed_mean" => Self::TrimmedMean {
                beta: real(0, 0.2)?,
            },
            "krum" => Self::Krum { f: num(0, 2)? },
            "multikrum" => Self::MultiKrum {
                f: num(0, 2)?,
                m: num(1, 5)?,
            },
            _ => Self::Bulyan { f: num(0, 1)? },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_strategy_names() {
        assert_eq!("fedavg".parse::<Strategy>(), Ok(Strategy::FedAvg));
        assert_eq!(
            "multikrum:2:6".parse::<Strategy>(),
            Ok(Strategy::MultiKrum { f: 2, m: 6 })
        );
        assert_eq!(
            "trimmed:0.1".parse::<Strategy>(),
            Ok(Strategy::TrimmedMean { beta: 0.1 })
        );
        assert!("nope".parse::<Strategy>().is_err());
        assert!("krum:x".parse::<Strategy>().is_err());
        assert!("median:1".parse::<Strategy>().is_err());
        for s in [
            "fedavg",
            "fedavgm",
            "fedadam",
            "fedyogi",
            "fedadagrad",
            "qfedavg",
            "median",
            "trimmed",
            "krum",
            "multikrum",
            "bulyan",
        ] {
            let strat: Strategy = s.parse().unwrap();
            assert!(strat.build(Exec::Sequential).is_ok(), "{s}");
        }
    }
}
