//! `counterweight learn`: open, start and inspect federated training tasks, and join one as a
//! client worker that trains locally and submits every round (plain or secure aggregation).
//!
//! This file holds the clap types and their mapping; the protocol is the worker crate's.

use std::fmt;
use std::path::PathBuf;

use anyhow::bail;
use clap::{Args as ClapArgs, Subcommand};
use counterweight_learn::{
    GlobalView, HistoryView, LEARN_MODULE, LearnCall, ModuleCall as _, RewardsView, RoundView,
    SecAggParams, SecAggView, TaskSpec, TaskView,
};
use counterweight_rpc_api::ReceiptView;
use counterweight_train::Dataset;
use counterweight_types::{Call, Hash};
use counterweight_worker::{LearnReader, SpecBuilder, Worker, WorkerEvent};
use serde::Serialize;

use crate::{
    Global,
    chain_opts::{HomeOpt, RpcOpt},
    output::{Output, Shell},
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

fn load_data(name_or_path: &str) -> anyhow::Result<Dataset> {
    if let Some(d) = Dataset::builtin(name_or_path) {
        return Ok(d);
    }
    Ok(Dataset::from_csv(&PathBuf::from(name_or_path))?)
}

/// Builds the task spec `learn open-task` sends: an MLP for the data's shape with He
/// initial weights from `seed` (the same initial model `fl simulate` starts from).
///
/// # Errors
/// Bad data, strategy or hyper-parameters.
pub fn task_spec(args: &OpenTaskArgs) -> anyhow::Result<TaskSpec> {
    let data = load_data(&args.data)?;
    let mut spec = SpecBuilder::new(args.coop, args.datasets.clone())
        .hidden(args.hidden.clone())
        .seed(args.seed)
        .rounds(args.rounds)
        .min_clients(args.min_clients)
        .strategy(args.strategy.clone())
        .secagg(args.secagg.then_some(SecAggParams {
            max_dropout_permille: args.dropout_permille,
            neighbours: args.neighbours,
        }))
        .epochs(args.epochs)
        .lr(args.lr)
        .batch(args.batch)
        .timeout_ms(args.timeout_ms)
        .reward(args.reward);
    if let (Some(clip), Some(noise)) = (args.dp_clip, args.dp_noise) {
        spec = spec.dp(clip, noise);
    }
    Ok(spec.build(&data)?)
}

/// What `learn open-task` did.
#[derive(Debug, Clone, Serialize)]
pub struct TaskOpened {
    /// The new task (empty if the receipt carried no `task_opened` event).
    pub task: String,
    /// The including block.
    pub height: u64,
}

impl fmt::Display for TaskOpened {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "task {} opened at height {}; the coop must approve it (coop propose \
             approve-task), then `learn start`",
            self.task, self.height
        )
    }
}

/// What `learn start` did.
#[derive(Debug, Clone, Serialize)]
pub struct TaskStarted {
    /// The task.
    pub task: Hash,
    /// The including block.
    pub height: u64,
}

impl fmt::Display for TaskStarted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task {} started at height {}", self.task, self.height)
    }
}

/// What `learn close-round` did.
#[derive(Debug, Clone, Serialize)]
pub struct RoundClosed {
    /// The including block.
    pub height: u64,
    /// The new global weights, or `None` when the aggregation failed and the round reopened.
    pub weights_hash: Option<String>,
}

impl fmt::Display for RoundClosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "round closed at height {}; new global weights {}",
            self.height,
            self.weights_hash
                .as_deref()
                .unwrap_or("(aggregation failed; the round reopened)")
        )
    }
}

/// What `learn advance` did.
#[derive(Debug, Clone, Serialize)]
pub struct PhaseAdvanced {
    /// The including block.
    pub height: u64,
}

impl fmt::Display for PhaseAdvanced {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "phase advanced at height {}", self.height)
    }
}

/// What `learn show` read: one of the task's views (`null` for an absent round or roster).
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Shown {
    /// `--what task`.
    Task(Box<TaskView>),
    /// `--what round`.
    Round(Option<RoundView>),
    /// `--what global`.
    Global(GlobalView),
    /// `--what history`.
    History(Vec<HistoryView>),
    /// `--what rewards`.
    Rewards(RewardsView),
    /// `--what roster`.
    Roster(Option<SecAggView>),
}

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = serde_json::to_string_pretty(self).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

fn show(reader: &LearnReader, what: &str) -> anyhow::Result<Shown> {
    Ok(match what {
        "task" => Shown::Task(Box::new(reader.task()?)),
        "round" => Shown::Round(reader.round()?),
        "global" => Shown::Global(reader.global()?),
        "history" => Shown::History(reader.history()?),
        "rewards" => Shown::Rewards(reader.rewards()?),
        "roster" => Shown::Roster(reader.roster()?),
        other => bail!("unknown view {other}: use task, round, global, history, rewards or roster"),
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
pub fn run(args: Args, global: &Global) -> anyhow::Result<Output> {
    let shell = Shell::new(global.json);
    let output = match &args.command {
        Command::OpenTask(o) => {
            let spec = task_spec(o)?;
            let receipt = send(
                &args,
                &o.from,
                LearnCall::OpenTask {
                    spec: Box::new(spec),
                },
            )?;
            Output::new(&TaskOpened {
                task: event_attr(&receipt, "task_opened", "task").unwrap_or_default(),
                height: receipt.height,
            })?
        }
        Command::Start(t) => {
            let receipt = send(&args, &t.from, LearnCall::Start { task: t.task })?;
            Output::new(&TaskStarted {
                task: t.task,
                height: receipt.height,
            })?
        }
        Command::CloseRound(t) => {
            let receipt = send(&args, &t.from, LearnCall::CloseRound { task: t.task })?;
            Output::new(&RoundClosed {
                height: receipt.height,
                weights_hash: event_attr(&receipt, "round_aggregated", "weights_hash"),
            })?
        }
        Command::Advance(t) => {
            let receipt = send(&args, &t.from, LearnCall::Advance { task: t.task })?;
            Output::new(&PhaseAdvanced {
                height: receipt.height,
            })?
        }
        Command::Show(s) => {
            let reader = LearnReader::new(args.rpc.client()?, s.task);
            Output::new(&show(&reader, &s.what)?)?
        }
        Command::Join(j) => {
            let key = args.home.keystore()?.load(&j.from)?;
            let mut worker = Worker::builder(args.rpc.client()?, key, j.task, load_data(&j.data)?)
                .shard_index(j.shard_index)
                .build()?;
            // The worker reports every poll while it waits; print each change once.
            let mut last: Option<WorkerEvent> = None;
            let report = worker.run(&mut |e| {
                if last.as_ref() != Some(e) {
                    let _ = shell.status(e);
                    last = Some(e.clone());
                }
            })?;
            Output::new(&report)?
        }
    };
    Ok(output)
}

#[cfg(test)]
mod tests {
    use super::*;
    use counterweight_fl::fixed;
    use counterweight_learn::decode_architecture;
    use counterweight_model::Model;
    use counterweight_train::models;

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
        assert_eq!(spec.train.lr_micros, 100_000, "exactly fl simulate's rate");
        assert_eq!(
            spec.secagg,
            Some(SecAggParams {
                max_dropout_permille: 300,
                neighbours: 0
            })
        );
        assert_eq!(spec.reward, 100);
        let payload = LearnCall::OpenTask {
            spec: Box::new(spec),
        }
        .to_payload();
        assert!(payload.len() < counterweight_learn::MAX_PAYLOAD_BYTES);
    }

    #[test]
    fn open_task_maps_dp_and_refuses_off_chain_rules() {
        let mut args = OpenTaskArgs {
            from: "alice".into(),
            coop: Hash([1; 32]),
            datasets: vec![Hash([2; 32])],
            data: "digits".into(),
            hidden: vec![8],
            seed: 1,
            rounds: 2,
            min_clients: 1,
            strategy: "fedavg".into(),
            secagg: false,
            dropout_permille: 300,
            neighbours: 0,
            dp_clip: Some(1.5),
            dp_noise: Some(0.25),
            epochs: 1,
            lr: 0.05,
            batch: 16,
            timeout_ms: 1_000,
            reward: 0,
        };
        let spec = task_spec(&args).unwrap();
        let dp = spec.dp.unwrap();
        assert_eq!(dp.clip_norm_micros, 1_500_000);
        assert_eq!(dp.noise_multiplier_micros, 250_000);
        assert_eq!(spec.secagg, None);
        args.strategy = "fedadam".into();
        let err = task_spec(&args).unwrap_err();
        assert!(err.to_string().contains("not available on chain"), "{err}");
    }
}
