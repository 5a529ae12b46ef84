//! An in-process federated-learning simulation: local training in parallel, attacks, and
//! aggregation through the `fl` crate's fixed-point strategies (the code validators run).

use std::str::FromStr;
use std::time::Instant;

use counterweight_fl::{ClientId, Exec, Strategy, Update, detect, dp, fixed, secagg};
use counterweight_model::{Architecture, Model};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::dataset::{Dataset, StandardSplit};
use crate::error::{Error, Result};
use crate::models;
use crate::partition::Partitioner;
use crate::trainer::{Metrics, TrainConfig, Trainer};

/// Magnitude of the reference sign-flip attack: a malicious client sends `w − 4·(w_local − w)`.
pub const DEFAULT_SIGNFLIP_SCALE: f32 = 4.0;

/// A model-poisoning behaviour of some clients.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Attack {
    /// The first `round(fraction · clients)` clients send `w − scale·(w_local − w)`.
    SignFlip {
        /// Fraction of malicious clients.
        fraction: f64,
        /// Multiplier of the reversed update.
        scale: f32,
    },
    /// The first `round(fraction · clients)` clients train on labels `classes − 1 − y`.
    LabelFlip {
        /// Fraction of malicious clients.
        fraction: f64,
    },
    /// `count` extra clients join, each holding a copy of client 0's data with flipped labels
    /// (colluding identities pushing the same poisoned objective).
    Sybil {
        /// Number of sybil identities.
        count: usize,
    },
}

impl FromStr for Attack {
    type Err = Error;

    /// Parse `signflip:FRACTION[:SCALE]`, `labelflip:FRACTION` or `sybil:COUNT`.
    fn from_str(s: &str) -> Result<Self> {
        let bad = |reason: &str| Error::Config {
            reason: format!("attack {s:?}: {reason} (use signflip:0.3, labelflip:0.3 or sybil:5)"),
        };
        let mut parts = s.split(':');
        let kind = parts.next().unwrap_or_default();
        let args: Vec<&str> = parts.collect();
        let fraction = |a: Option<&&str>| -> Result<f64> {
            let f: f64 = a
                .ok_or_else(|| bad("missing fraction"))?
                .parse()
                .map_err(|_| bad("fraction is not a number"))?;
            if !(0.0..=1.0).contains(&f) {
                return Err(bad("fraction must be in [0, 1]"));
            }
            Ok(f)
        };
        match (kind, args.len()) {
            ("signflip", 1 | 2) => {
                let scale = match args.get(1) {
                    Some(a) => a.parse().map_err(|_| bad("scale is not a number"))?,
                    None => DEFAULT_SIGNFLIP_SCALE,
                };
                if !(scale.is_finite() && scale > 0.0) {
                    return Err(bad("scale must be positive"));
                }
                Ok(Self::SignFlip {
                    fraction: fraction(args.first())?,
                    scale,
                })
            }
            ("labelflip", 1) => Ok(Self::LabelFlip {
                fraction: fraction(args.first())?,
            }),
            ("sybil", 1) => Ok(Self::Sybil {
                count: args[0]
                    .parse()
                    .map_err(|_| bad("count is not an integer"))?,
            }),
            _ => Err(bad("unknown attack or wrong number of arguments")),
        }
    }
}

impl Attack {
    /// Number of malicious clients among `clients` honest slots (sybils are extra).
    pub fn malicious(&self, clients: usize) -> usize {
        match *self {
            Self::SignFlip { fraction, .. } | Self::LabelFlip { fraction } => {
                ((fraction * clients as f64).round() as usize).min(clients)
            }
            Self::Sybil { .. } => 0,
        }
    }
}

/// The model trained in the simulation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ModelChoice {
    /// A multilayer perceptron with these hidden widths.
    Mlp {
        /// Hidden layer widths.
        hidden: Vec<usize>,
    },
    /// [`models::small_cnn`] (image data sets only).
    Cnn,
}

impl ModelChoice {
    /// The architecture for `data`.
    ///
    /// # Errors
    /// [`Error::ModelMismatch`] if a CNN is asked for non-image data, or an IR error.
    pub fn architecture(&self, data: &Dataset) -> Result<Architecture> {
        match self {
            Self::Mlp { hidden } => models::mlp(data.num_features(), hidden, data.num_classes()),
            Self::Cnn => match *data.feature_shape() {
                [c, h, w] => models::small_cnn([c, h, w], data.num_classes()),
                ref other => Err(Error::ModelMismatch {
                    reason: format!("a CNN needs [channels, height, width] samples, not {other:?}"),
                }),
            },
        }
    }
}

/// How the data is split over clients.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SplitChoice {
    /// Per-class Dirichlet(`alpha`) label skew. On the digits set with 10 clients,
    /// α = 0.5 and seed 42 this is the bundled [`StandardSplit`].
    Dirichlet {
        /// Concentration.
        alpha: f64,
    },
    /// Equal IID shares.
    Iid,
    /// Dirichlet(`beta`) client sizes.
    Quantity {
        /// Concentration of the size proportions.
        beta: f64,
    },
}

/// Client-side differential privacy: clip each update, add Gaussian noise shared across the
/// clients so that the aggregate carries `noise_multiplier × clip_norm` (the noise multiplier
/// is the smallest whose RDP ε over all rounds, every client sampled, meets the target).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DpSettings {
    /// Target ε over the whole run.
    pub epsilon: f64,
    /// δ.
    pub delta: f64,
    /// L2 clip norm of an update (`w_local − w_global`).
    pub clip_norm: f64,
}

/// The privacy actually delivered.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DpReport {
    /// Noise multiplier used.
    pub noise_multiplier: f64,
    /// ε reported by the RDP accountant after all rounds.
    pub epsilon: f64,
    /// δ.
    pub delta: f64,
    /// Clip norm.
    pub clip_norm: f64,
    /// Fraction of updates that were clipped.
    pub clipped_fraction: f64,
}

/// Secure aggregation (SecAgg+ style, from the `fl` crate): the server learns only the sum of
/// the clients' `n_i · w_i` (and of the `n_i`), from which it computes exact sample-weighted
/// FedAvg; `dropout` of the clients vanish after sharing their keys, every round.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SecAggSettings {
    /// Fraction of clients that drop out each round (their masks are recovered from shares).
    pub dropout: f64,
    /// Neighbours per client in the SecAgg+ communication graph (`None`: the complete graph,
    /// i.e. classic SecAgg). Fewer neighbours mean fewer key agreements; the configuration is
    /// refused unless a majority of each client's share holders survives the dropouts.
    #[serde(default)]
    pub neighbours: Option<usize>,
}

/// One client's poisoning-detection flags in one round.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FlagReport {
    /// Client id.
    pub client: u64,
    /// FoolsGold: its update history is nearly parallel to another client's.
    pub sybil: bool,
    /// Its update norm is a robust outlier.
    pub norm_outlier: bool,
    /// It points away from the median update.
    pub wrong_direction: bool,
    /// FoolsGold weight (1 = unlike everyone else, 0 = a copy of someone).
    pub foolsgold_weight: f64,
    /// Robust z-score of its update norm.
    pub norm_z: f64,
}

/// Everything a simulation needs besides the data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimulationConfig {
    /// Honest client slots (sybils come on top).
    pub clients: usize,
    /// Federated rounds.
    pub rounds: usize,
    /// Data split.
    pub split: SplitChoice,
    /// Aggregation rule (run in Q16.16 by the `fl` crate).
    pub strategy: Strategy,
    /// The model.
    pub model: ModelChoice,
    /// Local training.
    pub train: TrainConfig,
    /// Optional attack.
    pub attack: Option<Attack>,
    /// Optional client-side differential privacy.
    pub dp: Option<DpSettings>,
    /// Optional secure aggregation (FedAvg only).
    pub secagg: Option<SecAggSettings>,
    /// Master seed: split, initial weights, shuffles, noise.
    pub seed: u64,
    /// Worker threads for client training (0: one per core).
    pub threads: usize,
}

impl Default for SimulationConfig {
    /// The reference task: 10 clients, Dirichlet(0.5), FedAvg, MLP 64-64-10, 2 epochs of
    /// SGD (lr 0.1, batch 32), 20 rounds, seed 42.
    fn default() -> Self {
        Self {
            clients: 10,
            rounds: 20,
            split: SplitChoice::Dirichlet { alpha: 0.5 },
            strategy: Strategy::FedAvg,
            model: ModelChoice::Mlp { hidden: vec![64] },
            train: TrainConfig::default(),
            attack: None,
            dp: None,
            secagg: None,
            seed: 42,
            threads: 0,
        }
    }
}

/// What happened in one round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundReport {
    /// Round number, from 1.
    pub round: usize,
    /// Test accuracy of the new global model.
    pub accuracy: f64,
    /// Test loss of the new global model.
    pub loss: f64,
    /// Sample-weighted mean local training loss.
    pub train_loss: f64,
    /// Wall time of the whole round (training, attacks, aggregation, evaluation), ms.
    pub wall_ms: f64,
    /// Process CPU time of the round, ms.
    pub cpu_ms: f64,
    /// Wall time of local training, ms.
    pub train_ms: f64,
    /// Wall time of fixed-point conversion and aggregation, ms.
    pub aggregate_ms: f64,
    /// Wall time of the secure-aggregation protocol, ms (0 without it).
    pub secagg_ms: f64,
    /// Updates aggregated.
    pub updates: usize,
    /// Clients that dropped out of secure aggregation this round.
    pub dropped: Vec<u64>,
    /// Clients flagged by poisoning/sybil detection.
    pub flags: Vec<FlagReport>,
    /// Clients whose update was rejected before aggregation (e.g. out of fixed-point range).
    pub rejected: Vec<u64>,
}

/// The outcome of a simulation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimulationReport {
    /// Data set name.
    pub dataset: String,
    /// The configuration.
    pub config: SimulationConfig,
    /// `"standard"` when the bundled reference split was used, else `"generated"`.
    pub split: String,
    /// Samples per client (sybils included).
    pub client_samples: Vec<usize>,
    /// Test samples.
    pub test_samples: usize,
    /// Model parameters.
    pub parameters: usize,
    /// Clients that attacked (ids).
    pub malicious: Vec<u64>,
    /// Per client: rounds in which detection flagged it.
    pub flagged_rounds: Vec<(u64, usize)>,
    /// Test metrics of the initial model.
    pub initial: Metrics,
    /// Per-round results.
    pub rounds: Vec<RoundReport>,
    /// Accuracy after the last round.
    pub final_accuracy: f64,
    /// Median round wall time, ms.
    pub median_round_ms: f64,
    /// Median round CPU time, ms.
    pub median_round_cpu_ms: f64,
    /// Wall time of all rounds, s.
    pub total_wall_s: f64,
    /// Process CPU time of all rounds, s.
    pub total_cpu_s: f64,
    /// Peak resident memory of the process, MiB (Linux only).
    pub peak_rss_mb: Option<f64>,
    /// Threads used for client training.
    pub threads: usize,
    /// Differential privacy delivered, if enabled.
    pub dp: Option<DpReport>,
    /// The final global model, flat layout (dequantised from Q16.16).
    #[serde(skip)]
    pub final_params: Vec<f32>,
}

struct Client {
    id: u64,
    data: Dataset,
    signflip: Option<f32>,
}

/// Run a simulation on `data`, calling `on_round` after each round.
///
/// # Errors
/// [`Error::Config`] for inconsistent settings, partitioning and model errors, and
/// aggregation errors from the `fl` crate (e.g. Bulyan with too few clients).
pub fn simulate(
    data: &Dataset,
    config: &SimulationConfig,
    mut on_round: impl FnMut(&RoundReport),
) -> Result<SimulationReport> {
    config.train.validate()?;
    if config.clients == 0 || config.rounds == 0 {
        return Err(Error::Config {
            reason: "need at least one client and one round".into(),
        });
    }
    if let Some(sa) = config.secagg {
        if config.strategy != Strategy::FedAvg {
            return Err(Error::Config {
                reason: format!(
                    "secure aggregation reveals only the sum, so it works with fedavg, not {}",
                    config.strategy.name()
                ),
            });
        }
        if !(0.0..1.0).contains(&sa.dropout) {
            return Err(Error::Config {
                reason: format!("dropout must be in [0, 1), got {}", sa.dropout),
            });
        }
        // Check the protocol parameters once, before any training, for the round's roster.
        let sybils = match config.attack {
            Some(Attack::Sybil { count }) => count,
            _ => 0,
        };
        let roster: Vec<ClientId> = (0..(config.clients + sybils) as u64)
            .map(ClientId)
            .collect();
        let mut builder = secagg::SecAggConfig::builder(1, roster, 1)
            .max_dropout_permille((sa.dropout * 1000.0).round() as u32);
        if let Some(k) = sa.neighbours {
            builder = builder.neighbours(k);
        }
        builder.build()?;
    }
    let arch = config.model.architecture(data)?;
    let trainer = Trainer::new(arch.clone())?;
    let (test, parts, standard) = split_data(data, config)?;
    let malicious_count = config.attack.map_or(0, |a| a.malicious(config.clients));
    let mut clients: Vec<Client> = Vec::with_capacity(parts.len());
    for (k, idx) in parts.iter().enumerate() {
        let mut local = data.subset(idx)?;
        let mut signflip = None;
        if k < malicious_count {
            match config.attack {
                Some(Attack::LabelFlip { .. }) => local = flip_labels(&local)?,
                Some(Attack::SignFlip { scale, .. }) => signflip = Some(scale),
                _ => {}
            }
        }
        clients.push(Client {
            id: k as u64,
            data: local,
            signflip,
        });
    }
    let mut malicious: Vec<u64> = (0..malicious_count as u64).collect();
    if let Some(Attack::Sybil { count }) = config.attack {
        let poisoned = flip_labels(&clients[0].data)?;
        for s in 0..count {
            let id = (config.clients + s) as u64;
            malicious.push(id);
            clients.push(Client {
                id,
                data: poisoned.clone(),
                signflip: None,
            });
        }
    }
    let threads = if config.threads == 0 {
        std::thread::available_parallelism().map_or(1, usize::from)
    } else {
        config.threads
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::Config {
            reason: format!("cannot start {threads} worker threads: {e}"),
        })?;
    let mut aggregator = config.strategy.build(Exec::Sequential)?;
    let dp = match config.dp {
        Some(d) => {
            let rounds = u32::try_from(config.rounds).map_err(|_| Error::Config {
                reason: "too many rounds".into(),
            })?;
            let z = dp::noise_multiplier_for_epsilon(d.epsilon, 1.0, rounds, d.delta)?;
            let share = u32::try_from(clients.len()).unwrap_or(u32::MAX);
            Some((d, z, dp::ClientDp::new(d.clip_norm, z)?.distributed(share)?))
        }
        None => None,
    };
    let (mut clipped, mut privatized) = (0usize, 0usize);
    let mut detector = detect::Detector::new(detect::DetectorConfig::default());
    let mut flag_counts: std::collections::BTreeMap<u64, usize> = Default::default();
    let init = Model::init_he(arch, config.seed);
    let mut global_q = fixed::quantize(init.params())?;
    let mut secagg_keys = std::collections::BTreeMap::new();
    let mut global = fixed::dequantize(&global_q);
    let initial = trainer.evaluate(&global, &test)?;
    let mut rounds = Vec::with_capacity(config.rounds);
    let run_start = Instant::now();
    let run_cpu = cpu_time::ProcessTime::now();
    for round in 1..=config.rounds {
        let t0 = Instant::now();
        let cpu0 = cpu_time::ProcessTime::now();
        let outcomes: Vec<Result<_>> = pool.install(|| {
            clients
                .par_iter()
                .map(|c| {
                    let cfg = TrainConfig {
                        seed: config
                            .seed
                            .wrapping_mul(1000)
                            .wrapping_add(10 * c.id + round as u64),
                        ..config.train.clone()
                    };
                    trainer.train(&global, &c.data, &cfg)
                })
                .collect()
        });
        let train_ms = ms(t0.elapsed());
        let t1 = Instant::now();
        let mut updates = Vec::with_capacity(clients.len());
        let mut rejected = Vec::new();
        let (mut loss_sum, mut samples) = (0.0, 0usize);
        for (c, outcome) in clients.iter().zip(outcomes) {
            let mut out = outcome?;
            loss_sum += out.mean_loss * out.samples as f64;
            samples += out.samples;
            if let Some(scale) = c.signflip {
                for (w, g) in out.params.iter_mut().zip(&global) {
                    *w = g - scale * (*w - g);
                }
            } else if let Some((_, _, client_dp)) = &dp {
                let mut rng = ChaCha8Rng::seed_from_u64(
                    config.seed ^ (round as u64) << 32 ^ c.id.wrapping_mul(0x9E37_79B9_7F4A_7C15),
                );
                let clip = client_dp.privatize(&global, &mut out.params, &mut rng)?;
                clipped += usize::from(clip.clipped);
                privatized += 1;
            }
            match Update::from_f32(ClientId(c.id), out.samples as u64, &out.params) {
                Ok(u) => updates.push(u),
                Err(e) => {
                    tracing::warn!(target: "train::simulate", client = c.id, error = %e, "update rejected");
                    rejected.push(c.id);
                }
            }
        }
        let mut flags = Vec::new();
        if !updates.is_empty() {
            for r in detector.observe(&global_q, &updates)? {
                if r.flags.any() {
                    *flag_counts.entry(r.client.0).or_default() += 1;
                    flags.push(FlagReport {
                        client: r.client.0,
                        sybil: r.flags.sybil,
                        norm_outlier: r.flags.norm_outlier,
                        wrong_direction: r.flags.wrong_direction,
                        foolsgold_weight: f64::from(fixed::to_f32(r.foolsgold_weight)),
                        norm_z: f64::from(fixed::to_f32(r.norm_z)),
                    });
                }
            }
        }
        let mut n_updates = updates.len();
        let mut dropped = Vec::new();
        let mut secagg_ms = 0.0;
        global_q = match config.secagg {
            Some(sa) => {
                let t = Instant::now();
                let (next, contributors, gone) =
                    secure_fedavg(&updates, &sa, round as u64, config.seed, &mut secagg_keys)?;
                secagg_ms = ms(t.elapsed());
                n_updates = contributors;
                dropped = gone;
                next
            }
            None => aggregator.aggregate(&global_q, &updates)?,
        };
        global = fixed::dequantize(&global_q);
        let aggregate_ms = ms(t1.elapsed());
        let metrics = trainer.evaluate(&global, &test)?;
        let report = RoundReport {
            round,
            accuracy: metrics.accuracy,
            loss: metrics.loss,
            train_loss: loss_sum / samples.max(1) as f64,
            wall_ms: ms(t0.elapsed()),
            cpu_ms: ms(cpu0.elapsed()),
            train_ms,
            aggregate_ms,
            secagg_ms,
            updates: n_updates,
            rejected,
            dropped,
            flags,
        };
        on_round(&report);
        rounds.push(report);
    }
    let total_wall_s = run_start.elapsed().as_secs_f64();
    let dp = match dp {
        Some((d, z, _)) => Some(DpReport {
            noise_multiplier: z,
            epsilon: dp::epsilon(z, 1.0, rounds.len() as u32, d.delta)?,
            delta: d.delta,
            clip_norm: d.clip_norm,
            clipped_fraction: clipped as f64 / privatized.max(1) as f64,
        }),
        None => None,
    };
    let total_cpu_s = run_cpu.elapsed().as_secs_f64();
    Ok(SimulationReport {
        dataset: data.name().to_string(),
        config: config.clone(),
        split: if standard { "standard" } else { "generated" }.into(),
        client_samples: clients.iter().map(|c| c.data.len()).collect(),
        test_samples: test.len(),
        parameters: trainer.parameter_count(),
        malicious,
        flagged_rounds: flag_counts.into_iter().collect(),
        initial,
        final_accuracy: rounds.last().map_or(initial.accuracy, |r| r.accuracy),
        median_round_ms: median(rounds.iter().map(|r| r.wall_ms)),
        median_round_cpu_ms: median(rounds.iter().map(|r| r.cpu_ms)),
        total_wall_s,
        total_cpu_s,
        peak_rss_mb: peak_rss_mb(),
        threads,
        dp,
        rounds,
        final_params: global,
    })
}

/// Exact sample-weighted FedAvg through secure aggregation: every client submits
/// `[n_i · w_i…, n_i]`, a seeded `dropout` fraction vanish after sharing keys, and the
/// survivors' unmasked sum gives `round_half_even(Σ n_i w_i / Σ n_i)`. Clients keep their
/// X25519 keys (`keys`) for the whole run and survivors reveal only the round's pairwise
/// seeds of dropped neighbours ([`secagg::Recovery::PairSeeds`]), so after the first round
/// no key agreement is computed.
/// Returns the new global model, the number of contributors and the dropped client ids.
fn secure_fedavg(
    updates: &[Update],
    settings: &SecAggSettings,
    round: u64,
    seed: u64,
    keys: &mut std::collections::BTreeMap<ClientId, secagg::SecAggKeys>,
) -> Result<(Vec<i32>, usize, Vec<u64>)> {
    let dropout = settings.dropout;
    let dim = updates
        .first()
        .map(|u| u.params.len())
        .ok_or(counterweight_fl::Error::NoUpdates)?;
    let ids: Vec<ClientId> = updates.iter().map(|u| u.client).collect();
    let permille = (dropout * 1000.0).round() as u32;
    let mut builder = secagg::SecAggConfig::builder(round, ids.clone(), dim + 1)
        .max_dropout_permille(permille)
        .recovery(secagg::Recovery::PairSeeds);
    if let Some(k) = settings.neighbours {
        builder = builder.neighbours(k);
    }
    let cfg = builder.build()?;
    let limit = i64::from(cfg.max_abs_param());
    let mut inputs = std::collections::BTreeMap::new();
    for u in updates {
        let n = i64::try_from(u.num_samples).unwrap_or(i64::MAX);
        let mut v = Vec::with_capacity(dim + 1);
        let mut fits = n <= limit;
        for &p in &u.params {
            let x = i64::from(p) * n;
            fits &= x.abs() <= limit;
            v.push(x as i32);
        }
        v.push(n as i32);
        if fits {
            inputs.insert(u.client, v);
        } else {
            tracing::warn!(target: "train::simulate", client = u.client.0, "update too large for secure aggregation");
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5EC_A66 ^ round.rotate_left(17));
    let mut order = ids;
    order.shuffle(&mut rng);
    let drop_count = cfg
        .max_dropouts()
        .min((dropout * order.len() as f64).floor() as usize);
    let gone: std::collections::BTreeSet<ClientId> = order.into_iter().take(drop_count).collect();
    let dropouts = secagg::local::Dropouts {
        before_masked: gone.clone(),
        ..secagg::local::Dropouts::default()
    };
    let sum = secagg::local::run_session_round(&cfg, &inputs, &dropouts, keys, &mut rng)?;
    let (weights, total) = sum.sum.split_at(dim);
    let total = i64::from(total.first().copied().unwrap_or(0));
    if total <= 0 {
        return Err(counterweight_fl::Error::NoUpdates.into());
    }
    let next = weights
        .iter()
        .map(|&s| fixed::saturate(fixed::div_round_i64(i64::from(s), total)))
        .collect();
    Ok((
        next,
        sum.contributors.len(),
        gone.into_iter().map(|c| c.0).collect(),
    ))
}

fn flip_labels(data: &Dataset) -> Result<Dataset> {
    let top = data.num_classes() as u32 - 1;
    data.map_labels(|y| top - y)
}

/// Test set, client index lists, and whether the bundled standard split was used.
/// Splits `data` as [`simulate`] does: a held-out test set and one index list per client
/// (the committed standard split for the reference digits task, a seeded split otherwise).
/// The flag says whether the standard split was used.
///
/// # Errors
/// Too few samples for the clients, or a bad partition setting.
pub fn split_data(
    data: &Dataset,
    config: &SimulationConfig,
) -> Result<(Dataset, Vec<Vec<usize>>, bool)> {
    if data.name() == "digits"
        && data.len() == 1797
        && config.clients == StandardSplit::CLIENTS
        && config.seed == 42
        && config.split
            == (SplitChoice::Dirichlet {
                alpha: StandardSplit::ALPHA,
            })
    {
        let s = StandardSplit::digits();
        return Ok((data.subset(&s.test)?, s.clients, true));
    }
    // Otherwise: a seeded permutation, the first 20% for testing, the rest partitioned.
    let mut order: Vec<usize> = (0..data.len()).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(config.seed));
    let n_test = (data.len() / 5).max(1);
    if data.len() <= n_test + config.clients {
        return Err(Error::Config {
            reason: format!(
                "{} samples are too few for a test split and {} clients",
                data.len(),
                config.clients
            ),
        });
    }
    let (test_idx, train_idx) = order.split_at(n_test);
    let train_labels: Vec<u32> = train_idx.iter().map(|&i| data.labels()[i]).collect();
    let min_size = (train_idx.len() / config.clients / 4).clamp(1, 10);
    let partitioner = match config.split {
        SplitChoice::Dirichlet { alpha } => Partitioner::Dirichlet { alpha, min_size },
        SplitChoice::Iid => Partitioner::Iid,
        SplitChoice::Quantity { beta } => Partitioner::Quantity { beta, min_size },
    };
    let parts = partitioner
        .split(&train_labels, config.clients, config.seed)?
        .into_iter()
        .map(|p| p.into_iter().map(|j| train_idx[j]).collect())
        .collect();
    Ok((data.subset(test_idx)?, parts, false))
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

/// Peak resident set size of this process in MiB, from `/proc/self/status` (Linux only).
pub fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}
