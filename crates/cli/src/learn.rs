//! `counterweight learn`: open, start and inspect federated training tasks, and join one as a
//! client worker that trains locally and submits every round (plain or secure aggregation).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::{Args as ClapArgs, Subcommand};
use counterweight_crypto::SigningKey;
use counterweight_fl::secagg::{
    AdvertiseKeys, EncryptedShare, KeyRoster, SecAggClient, Share, UnmaskRequest,
};
use counterweight_fl::{ClientId, Strategy, dp, fixed};
use counterweight_learn::{
    DpParams, GlobalView, InboxEntry, LEARN_MODULE, LearnCall, ModuleCall as _, RewardsView,
    RoundPhase, RoundView, SecAggParams, SecAggView, ShareOf, ShareTo, TaskSpec, TaskStatus,
    TaskStrategy, TaskView, TrainHints, decode_architecture, secagg_config,
};
use counterweight_model::Model;
use counterweight_rpc_api::{Client, ReceiptView};
use counterweight_train::{Dataset, TrainConfig, Trainer, models};
use counterweight_types::{Address, Call, Hash};
use serde::Serialize;

use crate::{
    Global,
    chain_opts::{HomeOpt, RpcOpt, print_json, print_text},
    tx::Signer,
};

/// Open, start and inspect training tasks; join one as a client.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Which node.
    #[command(flatten)]
    pub rpc: RpcOpt,
    /// Where the keystore is.
    #[command(flatten)]
    pub home: HomeOpt,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The `learn` subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open a training task over a coop's datasets (members only; the coop must approve it).
    OpenTask(OpenTaskArgs),
    /// Start an approved task (opens round 1).
    Start(TaskArgs),
    /// Show a task, its open round, global model, history, rewards or secure-aggregation roster.
    Show(ShowArgs),
    /// Close a plain round after its deadline.
    CloseRound(TaskArgs),
    /// Advance a secure-aggregation phase after its deadline.
    Advance(TaskArgs),
    /// Take part in a task: train locally each round and submit until it finishes.
    Join(JoinArgs),
}

/// A task and the sending key.
#[derive(Debug, ClapArgs)]
pub struct TaskArgs {
    /// The task id (hex).
    #[arg(long)]
    pub task: Hash,
    /// Name of the sending key in the keystore.
    #[arg(long, value_name = "NAME")]
    pub from: String,
}

/// Arguments of `learn open-task`.
#[derive(Debug, ClapArgs)]
pub struct OpenTaskArgs {
    /// Name of the sending key (a coop member).
    #[arg(long, value_name = "NAME")]
    pub from: String,
    /// The cooperative.
    #[arg(long)]
    pub coop: Hash,
    /// Datasets the task may use (comma-separated ids).
    #[arg(long, value_delimiter = ',', required = true)]
    pub datasets: Vec<Hash>,
    /// Data the model is shaped for: a built-in name (`digits`) or a CSV file.
    #[arg(long, default_value = "digits")]
    pub data: String,
    /// Hidden layer widths of the MLP (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "64")]
    pub hidden: Vec<usize>,
    /// Seed of the initial weights and of the clients' shuffles.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Rounds.
    #[arg(long, default_value_t = 20)]
    pub rounds: u32,
    /// Updates needed to close a round at its deadline.
    #[arg(long, default_value_t = 1)]
    pub min_clients: u32,
    /// Aggregation rule: fedavg, fedavgm[:lr[:momentum]], median, trimmed[:beta], krum[:f],
    /// multikrum[:f[:m]], bulyan[:f].
    #[arg(long, default_value = "fedavg")]
    pub strategy: String,
    /// Use secure aggregation (FedAvg and FedAvgM only).
    #[arg(long)]
    pub secagg: bool,
    /// Secure aggregation: share of clients (permille) that may drop out.
    #[arg(long, default_value_t = 300)]
    pub dropout_permille: u16,
    /// Secure aggregation: neighbours per client (0 = all).
    #[arg(long, default_value_t = 0)]
    pub neighbours: u16,
    /// Client-side DP clip norm (with --dp-noise).
    #[arg(long, requires = "dp_noise")]
    pub dp_clip: Option<f64>,
    /// Client-side DP noise multiplier.
    #[arg(long, requires = "dp_clip")]
    pub dp_noise: Option<f64>,
    /// Local epochs per round.
    #[arg(long, default_value_t = 2)]
    pub epochs: u32,
    /// Local learning rate.
    #[arg(long, default_value_t = 0.1)]
    pub lr: f64,
    /// Local batch size.
    #[arg(long, default_value_t = 32)]
    pub batch: u32,
    /// Round / phase timeout in block time (ms).
    #[arg(long, default_value_t = 30_000)]
    pub timeout_ms: u64,
    /// Reward pool moved into the task's escrow.
    #[arg(long, default_value_t = 0)]
    pub reward: u64,
}

/// Arguments of `learn show`.
#[derive(Debug, ClapArgs)]
pub struct ShowArgs {
    /// The task id (hex).
    #[arg(long)]
    pub task: Hash,
    /// What to show: task, round, global, history, rewards or roster.
    #[arg(long, default_value = "task")]
    pub what: String,
}

/// Arguments of `learn join`.
#[derive(Debug, ClapArgs)]
pub struct JoinArgs {
    /// The task id (hex).
    #[arg(long)]
    pub task: Hash,
    /// The local data shard (CSV, label in the last column) or a built-in data set name.
    #[arg(long)]
    pub data: String,
    /// Name of the participant's key in the keystore.
    #[arg(long, value_name = "NAME")]
    pub from: String,
    /// The shard's index in the partition (seeds local shuffles like `fl simulate`'s client
    /// id); default: the client id of the first round.
    #[arg(long)]
    pub shard_index: Option<u64>,
}

/// What a worker reports as it goes.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum WorkerEvent {
    /// Waiting for the task to start or for a round this client takes part in.
    Waiting {
        /// The open round (0 before the start).
        round: u32,
    },
    /// The client is not a participant of the open round (e.g. consent revoked).
    Excluded {
        /// The round.
        round: u32,
    },
    /// Local training started.
    Training {
        /// The round.
        round: u32,
    },
    /// Local training finished.
    Trained {
        /// The round.
        round: u32,
        /// Wall time, ms.
        train_ms: u64,
        /// Mean local loss.
        loss: f64,
    },
    /// A secure-aggregation message was sent.
    SecAggPhase {
        /// The round.
        round: u32,
        /// The phase just completed by this client.
        phase: String,
    },
    /// The update (or the last secure-aggregation message) is final on chain.
    Submitted {
        /// The round.
        round: u32,
        /// Wall time from the first send to finality, ms.
        submit_ms: u64,
    },
    /// The round this client contributed to was aggregated.
    Aggregated {
        /// The round.
        round: u32,
        /// New global weights hash.
        weights_hash: Hash,
        /// Wait from submission to aggregation, ms.
        wait_ms: u64,
    },
    /// The task finished; the reward was paid.
    Rewarded {
        /// Amount paid to this client.
        amount: u64,
    },
}

/// Per-round timings of one worker.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoundTiming {
    /// The round.
    pub round: u32,
    /// Local training, ms.
    pub train_ms: u64,
    /// Sending until finality of the update (all secure-aggregation phases included), ms.
    pub submit_ms: u64,
    /// From submission until the aggregate appeared, ms.
    pub wait_ms: u64,
}

/// What a worker did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkerReport {
    /// The client's account.
    pub address: Address,
    /// Rounds it contributed to.
    pub rounds: Vec<RoundTiming>,
    /// Its reward.
    pub reward: u64,
    /// The final global weights hash.
    pub weights_hash: Hash,
}

/// Everything a worker needs.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// The node.
    pub client: Client,
    /// The participant's key.
    pub key: SigningKey,
    /// The task.
    pub task: Hash,
    /// The local data.
    pub data: Dataset,
    /// The shard's index in the partition (seeds local shuffles as `fl simulate` does).
    pub shard_index: Option<u64>,
    /// How often to poll the node.
    pub poll: Duration,
    /// Give up waiting for one state change after this long.
    pub timeout: Duration,
}

impl WorkerOptions {
    /// Options with a 20 ms poll interval and a 10 minute timeout.
    pub fn new(client: Client, key: SigningKey, task: Hash, data: Dataset) -> Self {
        Self {
            client,
            key,
            task,
            data,
            shard_index: None,
            poll: Duration::from_millis(20),
            timeout: Duration::from_secs(600),
        }
    }
}

fn query<T: serde::de::DeserializeOwned>(
    client: &Client,
    path: &str,
    data: &[u8],
) -> anyhow::Result<T> {
    client
        .query_json(LEARN_MODULE.0, path, data)
        .with_context(|| format!("learn query {path}"))
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn from_micros(x: u32) -> f64 {
    f64::from(x) / 1e6
}

fn f32_le(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Takes part in a task until it finishes: for every round it is a participant of, reads the
/// global model, trains on its data with the task's hints (as `fl simulate` does), applies
/// client-side DP if the task asks for it, and submits the plain update or runs the four
/// secure-aggregation phases. Returns per-round timings and the reward.
///
/// # Errors
/// An unreachable node, a refused transaction, a model that does not fit the data, or a
/// state change not seen within `opts.timeout`.
pub fn run_worker(
    opts: WorkerOptions,
    on_event: &mut dyn FnMut(&WorkerEvent),
) -> anyhow::Result<WorkerReport> {
    let WorkerOptions {
        client,
        key,
        task,
        data,
        mut shard_index,
        poll,
        timeout,
    } = opts;
    let mut signer = Signer::new(client.clone(), key)?;
    let me = signer.address();
    let global: GlobalView = query(&client, "global", &task.0)?;
    let arch = decode_architecture(&hex::decode(&global.architecture)?)
        .context("the task's architecture does not decode")?;
    let trainer = Trainer::new(arch)?;
    trainer.check_data(&data)?;
    let mut timings: Vec<RoundTiming> = Vec::new();
    // (round, attempt) of the last round this worker completed, and when.
    let mut done: Option<(u32, u32, Instant)> = None;
    let mut last_change = Instant::now();
    let mut last_seen = (u32::MAX, u32::MAX);
    loop {
        let view: TaskView = query(&client, "task", &task.0)?;
        if view.status == TaskStatus::Finished {
            if let Some((round, _, at)) = done.take() {
                record_aggregate(&client, &task, round, at, &mut timings, on_event)?;
            }
            let rewards: RewardsView = query(&client, "rewards", &task.0)?;
            let amount = rewards
                .payouts
                .iter()
                .find(|p| p.address == me)
                .map_or(0, |p| p.amount);
            on_event(&WorkerEvent::Rewarded { amount });
            return Ok(WorkerReport {
                address: me,
                rounds: timings,
                reward: amount,
                weights_hash: view.weights_hash,
            });
        }
        if last_change.elapsed() > timeout {
            bail!("no progress on task {task} for {} s", timeout.as_secs());
        }
        if view.status != TaskStatus::Running {
            on_event(&WorkerEvent::Waiting { round: 0 });
            std::thread::sleep(poll);
            continue;
        }
        let Ok(round) = query::<RoundView>(&client, "round", &task.0) else {
            std::thread::sleep(poll);
            continue;
        };
        if (round.round, round.attempt) != last_seen {
            last_seen = (round.round, round.attempt);
            last_change = Instant::now();
        }
        if let Some((r, a, at)) = done {
            if (round.round, round.attempt) == (r, a) {
                std::thread::sleep(poll);
                continue;
            }
            if round.round > r {
                record_aggregate(&client, &task, r, at, &mut timings, on_event)?;
            }
        }
        let Some(me_in_round) = round.participants.iter().find(|p| p.address == me) else {
            on_event(&WorkerEvent::Excluded { round: round.round });
            done = Some((round.round, round.attempt, Instant::now()));
            continue;
        };
        if me_in_round.sent {
            // Sent already (e.g. after a restart): wait for the next round.
            done = Some((round.round, round.attempt, Instant::now()));
            continue;
        }
        let client_id = me_in_round.client;
        let shard = *shard_index.get_or_insert(client_id);
        on_event(&WorkerEvent::Training { round: round.round });
        let t0 = Instant::now();
        let global: GlobalView = query(&client, "global", &task.0)?;
        let start = fixed::dequantize(&global.params);
        let cfg = TrainConfig {
            epochs: view.train.epochs as usize,
            batch_size: view.train.batch as usize,
            lr: from_micros(view.train.lr_micros),
            seed: view
                .train
                .seed
                .wrapping_mul(1000)
                .wrapping_add(10 * shard + u64::from(round.round)),
            ..TrainConfig::default()
        };
        let mut out = trainer.train(&start, &data, &cfg)?;
        if let Some(d) = view.dp {
            let share = u32::try_from(round.participants.len()).unwrap_or(u32::MAX);
            dp::ClientDp::new(
                from_micros(d.clip_norm_micros),
                from_micros(d.noise_multiplier_micros),
            )?
            .distributed(share)?
            .privatize(&start, &mut out.params, &mut rand::rng())?;
        }
        let train_ms = ms(t0.elapsed());
        on_event(&WorkerEvent::Trained {
            round: round.round,
            train_ms,
            loss: out.mean_loss,
        });
        let examples = u32::try_from(out.samples.min(me_in_round.records as usize))
            .unwrap_or(u32::MAX)
            .max(1);
        let t1 = Instant::now();
        let completed = match view.secagg {
            None => {
                signer.send_and_wait(Call {
                    module: LEARN_MODULE,
                    payload: LearnCall::SubmitUpdate {
                        task,
                        round: round.round,
                        params: f32_le(&out.params).into(),
                        examples,
                    }
                    .to_payload(),
                })?;
                true
            }
            Some(sa) => secure_round(
                &client,
                &mut signer,
                &task,
                &round,
                client_id,
                &sa,
                view.param_count as usize,
                &out.params,
                examples,
                poll,
                timeout,
                on_event,
            )?,
        };
        let submit_ms = ms(t1.elapsed());
        if completed {
            on_event(&WorkerEvent::Submitted {
                round: round.round,
                submit_ms,
            });
            timings.push(RoundTiming {
                round: round.round,
                train_ms,
                submit_ms,
                wait_ms: 0,
            });
        }
        done = Some((round.round, round.attempt, Instant::now()));
    }
}

fn record_aggregate(
    client: &Client,
    task: &Hash,
    round: u32,
    at: Instant,
    timings: &mut [RoundTiming],
    on_event: &mut dyn FnMut(&WorkerEvent),
) -> anyhow::Result<()> {
    let Some(t) = timings.iter_mut().find(|t| t.round == round) else {
        return Ok(());
    };
    let wait_ms = ms(at.elapsed());
    t.wait_ms = wait_ms;
    let history: Vec<counterweight_learn::HistoryView> = query(client, "history", &task.0)?;
    let weights_hash = history
        .iter()
        .find(|h| h.round == round)
        .map_or(Hash::ZERO, |h| h.weights_hash);
    on_event(&WorkerEvent::Aggregated {
        round,
        weights_hash,
        wait_ms,
    });
    Ok(())
}

/// Waits until the round's secure-aggregation phase is `phase` (or the round moved on:
/// `None`).
fn wait_phase(
    client: &Client,
    task: &Hash,
    round: &RoundView,
    phase: RoundPhase,
    poll: Duration,
    timeout: Duration,
) -> anyhow::Result<Option<SecAggView>> {
    let started = Instant::now();
    loop {
        if let Ok(view) = query::<SecAggView>(client, "secagg/roster", &task.0) {
            if view.round_id != round.secagg_round_id {
                return Ok(None);
            }
            if view.phase == phase {
                return Ok(Some(view));
            }
        } else {
            return Ok(None);
        }
        if started.elapsed() > timeout {
            bail!(
                "secure aggregation phase {phase} not reached within {} s",
                timeout.as_secs()
            );
        }
        std::thread::sleep(poll);
    }
}

/// Runs the four secure-aggregation phases; `false` if the round moved on without this
/// client (it was dropped or the round failed).
#[allow(clippy::too_many_arguments)]
fn secure_round(
    client: &Client,
    signer: &mut Signer,
    task: &Hash,
    round: &RoundView,
    client_id: u64,
    sa: &SecAggParams,
    dim: usize,
    params: &[f32],
    examples: u32,
    poll: Duration,
    timeout: Duration,
    on_event: &mut dyn FnMut(&WorkerEvent),
) -> anyhow::Result<bool> {
    let r = round.round;
    let cfg = secagg_config(round.secagg_round_id, round.participants.len(), dim + 1, sa)?;
    let mut rng = rand::rng();
    let (mut sa_client, keys) = SecAggClient::new(cfg.clone(), ClientId(client_id), &mut rng)?;
    let send = |signer: &mut Signer, call: LearnCall| -> anyhow::Result<ReceiptView> {
        signer.send_and_wait(Call {
            module: LEARN_MODULE,
            payload: call.to_payload(),
        })
    };
    send(
        signer,
        LearnCall::AdvertiseKeys {
            task: *task,
            round: r,
            enc_key: keys.enc_key,
            mask_key: keys.mask_key,
        },
    )?;
    on_event(&WorkerEvent::SecAggPhase {
        round: r,
        phase: "advertise_keys".into(),
    });
    let Some(view) = wait_phase(client, task, round, RoundPhase::ShareKeys, poll, timeout)? else {
        return Ok(false);
    };
    let mut roster = KeyRoster {
        keys: Default::default(),
    };
    for e in &view.keys {
        roster.keys.insert(
            ClientId(e.client),
            AdvertiseKeys {
                client: ClientId(e.client),
                enc_key: e.enc_key,
                mask_key: e.mask_key,
            },
        );
    }
    let shares = sa_client.share_keys(&roster, &mut rng)?;
    send(
        signer,
        LearnCall::ShareKeys {
            task: *task,
            round: r,
            shares: shares
                .into_iter()
                .map(|s| ShareTo {
                    to: s.to.0,
                    ciphertext: s.ciphertext.into(),
                })
                .collect(),
        },
    )?;
    on_event(&WorkerEvent::SecAggPhase {
        round: r,
        phase: "share_keys".into(),
    });
    if wait_phase(client, task, round, RoundPhase::MaskedInput, poll, timeout)?.is_none() {
        return Ok(false);
    }
    let mut data = task.0.to_vec();
    data.extend_from_slice(&client_id.to_be_bytes());
    let inbox: Vec<InboxEntry> = query(client, "secagg/inbox", &data)?;
    let inbox: Vec<EncryptedShare> = inbox
        .into_iter()
        .map(|e| {
            Ok(EncryptedShare {
                from: ClientId(e.from),
                to: ClientId(e.to),
                ciphertext: hex::decode(e.ciphertext)?,
            })
        })
        .collect::<anyhow::Result<_>>()?;
    // The masked vector is [n·w…, n] so the chain recovers the sample-weighted mean.
    let w = fixed::quantize(params)?;
    let n = i64::from(examples);
    let limit = i64::from(cfg.max_abs_param());
    let mut input: Vec<i32> = w
        .iter()
        .map(|&x| (i64::from(x) * n).clamp(-limit, limit) as i32)
        .collect();
    input.push(examples.min(cfg.max_abs_param().unsigned_abs()) as i32);
    let masked = sa_client.mask(&inbox, &input)?;
    let values: Vec<u8> = masked.values.iter().flat_map(|v| v.to_le_bytes()).collect();
    send(
        signer,
        LearnCall::MaskedInput {
            task: *task,
            round: r,
            values: values.into(),
        },
    )?;
    on_event(&WorkerEvent::SecAggPhase {
        round: r,
        phase: "masked_input".into(),
    });
    let Some(view) = wait_phase(client, task, round, RoundPhase::Unmask, poll, timeout)? else {
        return Ok(false);
    };
    let request = UnmaskRequest {
        survivors: view
            .survivors
            .iter()
            .map(|&c| ClientId(c))
            .collect::<BTreeSet<_>>(),
        dropped: view.dropped.iter().map(|&c| ClientId(c)).collect(),
    };
    let msg = sa_client.unmask(&request)?;
    let convert = |m: &std::collections::BTreeMap<ClientId, Share>| -> Vec<ShareOf> {
        m.iter()
            .map(|(c, s)| ShareOf {
                owner: c.0,
                x: s.x,
                y: s.y,
            })
            .collect()
    };
    send(
        signer,
        LearnCall::UnmaskShares {
            task: *task,
            round: r,
            self_mask_shares: convert(&msg.self_mask_shares),
            key_shares: convert(&msg.key_shares),
        },
    )?;
    on_event(&WorkerEvent::SecAggPhase {
        round: r,
        phase: "unmask".into(),
    });
    Ok(true)
}

fn load_data(name_or_path: &str) -> anyhow::Result<Dataset> {
    if let Some(d) = Dataset::builtin(name_or_path) {
        return Ok(d);
    }
    Ok(Dataset::from_csv(&PathBuf::from(name_or_path))?)
}

/// Converts a strategy string to the task's fixed-point rule.
///
/// # Errors
/// An unknown or unsupported rule, or hyper-parameters outside Q16.16.
pub fn task_strategy(s: &str) -> anyhow::Result<TaskStrategy> {
    let usize_u32 = |v: usize| u32::try_from(v).context("parameter too large");
    Ok(match s.parse::<Strategy>()? {
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
        other => bail!(
            "{} is not available on chain (use fedavg, fedavgm, median, trimmed, krum, \
             multikrum or bulyan)",
            other.name()
        ),
    })
}

/// `x` in millionths (hyper-parameters travel as integers).
fn micros(x: f64, what: &str) -> anyhow::Result<u32> {
    let m = (x * 1e6).round();
    if !(m.is_finite() && m >= 0.0 && m <= f64::from(u32::MAX)) {
        bail!("{what} must be in [0, 4294.967295], got {x}");
    }
    Ok(m as u32)
}

/// Builds the task spec `learn open-task` sends: an MLP for the data's shape with He
/// initial weights from `seed` (the same initial model `fl simulate` starts from).
///
/// # Errors
/// Bad data, strategy or hyper-parameters.
pub fn task_spec(args: &OpenTaskArgs) -> anyhow::Result<TaskSpec> {
    let data = load_data(&args.data)?;
    let arch = models::mlp(data.num_features(), &args.hidden, data.num_classes())?;
    let init = Model::init_he(arch.clone(), args.seed);
    let dp = match (args.dp_clip, args.dp_noise) {
        (Some(clip), Some(noise)) => Some(DpParams {
            clip_norm_micros: micros(clip, "clip norm")?,
            noise_multiplier_micros: micros(noise, "noise multiplier")?,
        }),
        _ => None,
    };
    Ok(TaskSpec {
        coop: args.coop,
        datasets: args.datasets.clone(),
        architecture: arch.canonical_bytes().into(),
        initial_params: f32_le(init.params()).into(),
        rounds: args.rounds,
        min_clients: args.min_clients,
        strategy: task_strategy(&args.strategy)?,
        secagg: args.secagg.then_some(SecAggParams {
            max_dropout_permille: args.dropout_permille,
            neighbours: args.neighbours,
        }),
        dp,
        train: TrainHints {
            epochs: args.epochs,
            lr_micros: micros(args.lr, "learning rate")?,
            batch: args.batch,
            seed: args.seed,
        },
        round_timeout_ms: args.timeout_ms,
        reward: args.reward,
        max_examples_per_client: counterweight_learn::MAX_EXAMPLES_PER_CLIENT,
        max_client_share_bps: counterweight_learn::FULL_SHARE_BPS,
        max_attempts: counterweight_learn::DEFAULT_MAX_ATTEMPTS,
        start_timeout_ms: counterweight_learn::DEFAULT_START_TIMEOUT_MS,
    })
}

fn event_attr(receipt: &ReceiptView, kind: &str, key: &str) -> Option<String> {
    receipt
        .events
        .iter()
        .filter(|e| e.module == LEARN_MODULE.0 && e.kind == kind)
        .find_map(|e| e.attributes.get(key).cloned())
}

fn signer(args: &Args, from: &str) -> anyhow::Result<Signer> {
    let key = args.home.keystore()?.load(from)?;
    Signer::new(args.rpc.client()?, key)
}

fn send(args: &Args, from: &str, call: LearnCall) -> anyhow::Result<ReceiptView> {
    signer(args, from)?.send_and_wait(Call {
        module: LEARN_MODULE,
        payload: call.to_payload(),
    })
}

/// Run `counterweight learn`.
///
/// # Errors
/// Whatever the subcommand reports.
pub fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    match &args.command {
        Command::OpenTask(o) => {
            let spec = task_spec(o)?;
            let receipt = send(
                &args,
                &o.from,
                LearnCall::OpenTask {
                    spec: Box::new(spec),
                },
            )?;
            let task = event_attr(&receipt, "task_opened", "task").unwrap_or_default();
            if global.json {
                print_json(&serde_json::json!({ "task": task, "height": receipt.height }))
            } else {
                print_text(&format!(
                    "task {task} opened at height {}; the coop must approve it (coop propose \
                     approve-task), then `learn start`",
                    receipt.height
                ))
            }
        }
        Command::Start(t) => {
            let receipt = send(&args, &t.from, LearnCall::Start { task: t.task })?;
            print_text(&format!(
                "task {} started at height {}",
                t.task, receipt.height
            ))
        }
        Command::CloseRound(t) => {
            let receipt = send(&args, &t.from, LearnCall::CloseRound { task: t.task })?;
            let hash = event_attr(&receipt, "round_aggregated", "weights_hash");
            print_text(&format!(
                "round closed at height {}; new global weights {}",
                receipt.height,
                hash.unwrap_or_else(|| "(aggregation failed; the round reopened)".into())
            ))
        }
        Command::Advance(t) => {
            let receipt = send(&args, &t.from, LearnCall::Advance { task: t.task })?;
            print_text(&format!("phase advanced at height {}", receipt.height))
        }
        Command::Show(s) => {
            let client = args.rpc.client()?;
            let path = match s.what.as_str() {
                "roster" => "secagg/roster",
                other => other,
            };
            let bytes = client.query(LEARN_MODULE.0, path, &s.task.0)?;
            let value: serde_json::Value = serde_json::from_slice(&bytes)?;
            if global.json {
                print_json(&value)
            } else {
                print_text(&serde_json::to_string_pretty(&value)?)
            }
        }
        Command::Join(j) => {
            let key = args.home.keystore()?.load(&j.from)?;
            let mut opts = WorkerOptions::new(args.rpc.client()?, key, j.task, load_data(&j.data)?);
            opts.shard_index = j.shard_index;
            let bar = indicatif::ProgressBar::new_spinner();
            bar.enable_steady_tick(Duration::from_millis(120));
            let json = global.json;
            let report = run_worker(opts, &mut |e| {
                let line = match e {
                    WorkerEvent::Waiting { round } => format!("waiting for round (open: {round})"),
                    WorkerEvent::Excluded { round } => {
                        format!("not a participant of round {round}; waiting")
                    }
                    WorkerEvent::Training { round } => format!("round {round}: training"),
                    WorkerEvent::Trained {
                        round,
                        train_ms,
                        loss,
                    } => format!("round {round}: trained in {train_ms} ms (loss {loss:.4})"),
                    WorkerEvent::SecAggPhase { round, phase } => {
                        format!("round {round}: secure aggregation {phase} sent")
                    }
                    WorkerEvent::Submitted { round, submit_ms } => {
                        format!("round {round}: submitted ({submit_ms} ms); waiting for aggregate")
                    }
                    WorkerEvent::Aggregated {
                        round,
                        weights_hash,
                        wait_ms,
                    } => format!("round {round}: aggregated {weights_hash} (+{wait_ms} ms)"),
                    WorkerEvent::Rewarded { amount } => format!("task finished: rewarded {amount}"),
                };
                if matches!(
                    e,
                    WorkerEvent::Aggregated { .. } | WorkerEvent::Rewarded { .. }
                ) && !json
                {
                    bar.println(&line);
                }
                bar.set_message(line);
            })?;
            bar.finish_and_clear();
            if json {
                print_json(&report)
            } else {
                print_text(&format!(
                    "{} contributed to {} rounds; reward {}; final weights {}",
                    report.address,
                    report.rounds.len(),
                    report.reward,
                    report.weights_hash
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(task_strategy("fedadam").is_err());
        assert!(task_strategy("nope").is_err());
    }

    #[test]
    fn open_task_spec_is_the_simulation_model_and_decodes_on_chain() {
        let args = OpenTaskArgs {
            from: "alice".into(),
            coop: Hash([1; 32]),
            datasets: vec![Hash([2; 32])],
            data: "digits".into(),
            hidden: vec![64],
            seed: 42,
            rounds: 20,
            min_clients: 1,
            strategy: "fedavg".into(),
            secagg: true,
            dropout_permille: 300,
            neighbours: 0,
            dp_clip: None,
            dp_noise: None,
            epochs: 2,
            lr: 0.1,
            batch: 32,
            timeout_ms: 30_000,
            reward: 100,
        };
        let spec = task_spec(&args).unwrap();
        let arch = decode_architecture(&spec.architecture).unwrap();
        assert_eq!(arch.parameter_count(), 64 * 64 + 64 + 64 * 10 + 10);
        let q = counterweight_learn::q16_from_f32_le(&spec.initial_params, arch.parameter_count())
            .unwrap();
        let data = Dataset::digits();
        let sim_arch = models::mlp(data.num_features(), &[64], data.num_classes()).unwrap();
        let sim = fixed::quantize(Model::init_he(sim_arch, 42).params()).unwrap();
        assert_eq!(q, sim, "the chain starts from fl simulate's initial model");
        assert_eq!(
            from_micros(spec.train.lr_micros),
            0.1,
            "exactly fl simulate's rate"
        );
        let payload = LearnCall::OpenTask {
            spec: Box::new(spec),
        }
        .to_payload();
        assert!(payload.len() < counterweight_learn::MAX_PAYLOAD_BYTES);
    }
}
