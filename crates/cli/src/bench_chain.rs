//! `counterweight bench chain`: measure finalized transfers per second and finality latency.
//!
//! With `--validators 1` the validator runs embedded in this process (a devnet) and transfers
//! are submitted in-process through the node's API. With more validators, each runs as its own
//! `counterweight node` process on loopback and transfers go over HTTP to all of them; finality
//! is observed on the event stream of validator 0.
//!
//! Submission starts once every validator has finalized a couple of blocks, so the numbers
//! describe a running network rather than the first views' timeouts while peers connect.
//! `--keep DIR` leaves the homes behind; with `COUNTERWEIGHT_LOG=info,consensus=debug` each
//! `node.log` then shows, per block, how long building, verifying and the durable commit took
//! (also exported as the `ledger_*_seconds` histograms on `/metrics`).

use anyhow::{Context as _, bail};
use clap::{Args as ClapArgs, Subcommand};
use counterweight_bank::ModuleCall as _;
use counterweight_crypto::SigningKey;
use counterweight_node::{Home, NodeConfig, service, testnet};
use counterweight_rpc::{ChainEvent, NodeApi as _};
use counterweight_rpc_api::Client;
use counterweight_types::{Call, Genesis, Hash, SignedTransaction, Transaction};
use indicatif::{ProgressBar, ProgressStyle};
use std::{
    collections::HashMap,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex, mpsc},
    time::{Duration, Instant},
};

use crate::{Global, Output};

/// Finalized height every validator must reach before the first submission.
const WARM_HEIGHT: u64 = 2;

/// Benchmarks.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// What to measure.
    #[command(subcommand)]
    pub command: BenchCommand,
}

/// `bench` subcommands.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Start a network, submit signed transfers, report finalized tx/s and finality latency.
    Chain(ChainArgs),
}

/// Arguments of `bench chain`.
#[derive(Debug, Clone, ClapArgs)]
pub struct ChainArgs {
    /// Validators (1: embedded devnet; more: one `counterweight node` process each).
    #[arg(long, default_value_t = 1)]
    pub validators: usize,
    /// Transfers to submit.
    #[arg(long, default_value_t = 40_000)]
    pub txs: u64,
    /// Funded sender accounts (each sends `txs / accounts` transfers, at most 1000).
    #[arg(long, default_value_t = 1_000)]
    pub accounts: u64,
    /// Offered load in transfers per second (0: as fast as possible).
    #[arg(long, default_value_t = 0)]
    pub rate: u64,
    /// Minimum milliseconds between blocks [default: the node's 50 on the devnet, the
    /// testnet's 150 with node processes].
    #[arg(long)]
    pub block_interval_ms: Option<u64>,
    /// First loopback port for the validators (p2p and RPC use consecutive ports).
    #[arg(long, default_value_t = 28_400)]
    pub base_port: u16,
    /// Give up waiting for finality after this many seconds.
    #[arg(long, default_value_t = 120)]
    pub timeout_secs: u64,
    /// Transfers per submission: the benchmark submits in batches (`POST /v1/txs/batch` for
    /// node processes, the same batch admission in-process for the devnet), as busy clients
    /// would; each submitting thread sends one batch every `batch / rate` seconds.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub batch: u16,
    /// Keep the network's home directories (genesis, keys, data, each node's `node.log`)
    /// under this new directory instead of a temporary one, to inspect them afterwards.
    #[arg(long)]
    pub keep: Option<std::path::PathBuf>,
}

/// What the benchmark measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BenchReport {
    /// Validators in the network.
    pub validators: usize,
    /// How they ran.
    pub mode: &'static str,
    /// Transfers submitted.
    pub submitted: u64,
    /// Transfers seen finalized.
    pub finalized: u64,
    /// Seconds from the first submission to the last finalization.
    pub elapsed_secs: f64,
    /// Finalized transfers per second over that window.
    pub finalized_tps: f64,
    /// Median submit-to-finality latency, milliseconds.
    pub p50_ms: f64,
    /// 99th percentile submit-to-finality latency, milliseconds.
    pub p99_ms: f64,
    /// Blocks finalized during the run.
    pub blocks: u64,
}

impl std::fmt::Display for BenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{} validator(s), {}: {} of {} transfers finalized in {:.2} s",
            self.validators, self.mode, self.finalized, self.submitted, self.elapsed_secs
        )?;
        writeln!(
            f,
            "finalized throughput: {:.0} tx/s over {} blocks",
            self.finalized_tps, self.blocks
        )?;
        write!(
            f,
            "submit-to-finality latency: p50 {:.0} ms, p99 {:.0} ms",
            self.p50_ms, self.p99_ms
        )
    }
}

/// Run `counterweight bench ...`.
///
/// # Errors
/// Setup failures, or when nothing finalizes.
pub fn run(args: Args, _global: &Global) -> anyhow::Result<Output> {
    match args.command {
        BenchCommand::Chain(chain) => {
            let report = bench_chain(&chain)?;
            Ok(Output::new(&report)?)
        }
    }
}

fn transfers(genesis: &Genesis, accounts: u64, total: u64) -> Vec<SignedTransaction> {
    let keys: Vec<SigningKey> = (0..accounts).map(testnet::dev_account).collect();
    let per_account = total.div_ceil(accounts.max(1));
    let mut out = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    'outer: for nonce in 0..per_account {
        for (i, key) in keys.iter().enumerate() {
            if out.len() as u64 >= total {
                break 'outer;
            }
            let to = keys[(i + 1) % keys.len()].address();
            out.push(key.sign_tx(Transaction {
                chain_id: genesis.chain_id.clone(),
                sender: key.address(),
                nonce,
                fee: genesis.params.min_fee,
                call: Call {
                    module: counterweight_bank::BANK_MODULE,
                    payload: counterweight_bank::BankCall::Transfer { to, amount: 1 }.to_payload(),
                },
            }));
        }
    }
    out
}

fn bar(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} ({per_sec})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(what.to_string());
    bar
}

/// Shared bookkeeping between the submitter and the finality observer.
#[derive(Default)]
struct Tracker {
    submitted_at: HashMap<Hash, Instant>,
    early: HashMap<Hash, Instant>,
    latencies_ms: Vec<f64>,
    first_submit: Option<Instant>,
    last_final: Option<Instant>,
    blocks: u64,
}

impl Tracker {
    fn submitted(&mut self, hash: Hash, at: Instant) {
        self.first_submit.get_or_insert(at);
        if let Some(done) = self.early.remove(&hash) {
            self.latencies_ms
                .push(done.saturating_duration_since(at).as_secs_f64() * 1e3);
        } else {
            self.submitted_at.insert(hash, at);
        }
    }

    fn finalized(&mut self, hash: Hash, at: Instant) {
        self.last_final = Some(at);
        match self.submitted_at.remove(&hash) {
            Some(start) => self
                .latencies_ms
                .push(at.saturating_duration_since(start).as_secs_f64() * 1e3),
            None => {
                self.early.insert(hash, at);
            }
        }
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn pace(start: Instant, sent: u64, rate: u64) {
    if rate == 0 {
        return;
    }
    let due = start + Duration::from_secs_f64(sent as f64 / rate as f64);
    let now = Instant::now();
    if due > now {
        std::thread::sleep(due - now);
    }
}

fn bench_chain(args: &ChainArgs) -> anyhow::Result<BenchReport> {
    if args.validators == 0 {
        bail!("--validators must be at least 1");
    }
    if args.accounts == 0 || args.txs.div_ceil(args.accounts) > 1_000 {
        bail!("each account may send at most 1000 transfers: raise --accounts");
    }
    let temp;
    let dir = match &args.keep {
        Some(keep) => {
            if keep.exists() {
                bail!(
                    "{} already exists; --keep needs a new directory",
                    keep.display()
                );
            }
            std::fs::create_dir_all(keep)
                .with_context(|| format!("cannot create {}", keep.display()))?;
            keep.clone()
        }
        None => {
            temp = tempfile::tempdir().context("cannot create a temporary directory")?;
            temp.path().to_path_buf()
        }
    };
    let plan = testnet::TestnetPlan {
        chain_id: "counterweight-bench".into(),
        validators: args.validators,
        dev_accounts: args.accounts,
        base_port: args.base_port,
        min_block_interval_ms: args.block_interval_ms.unwrap_or(if args.validators == 1 {
            NodeConfig::default().consensus.min_block_interval_ms
        } else {
            testnet::TESTNET_BLOCK_INTERVAL_MS
        }),
        ..testnet::TestnetPlan::default()
    };
    let homes = testnet::init(&dir, &plan)?;
    let genesis = homes[0].read_genesis()?;
    let prep = bar(args.txs, "signing");
    let txs = transfers(&genesis, args.accounts, args.txs);
    prep.finish_and_clear();
    let tracker = Arc::new(Mutex::new(Tracker::default()));
    let submitted = txs.len() as u64;
    if args.validators == 1 {
        embedded(&homes[0], txs, args, tracker.clone())?;
    } else {
        processes(&homes, txs, args, tracker.clone())?;
    }
    let tracker = std::mem::take(
        &mut *tracker
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    let mut latencies = tracker.latencies_ms;
    latencies.sort_by(f64::total_cmp);
    let finalized = latencies.len() as u64;
    if finalized == 0 {
        bail!("no transfer was finalized within {} s", args.timeout_secs);
    }
    let elapsed = match (tracker.first_submit, tracker.last_final) {
        (Some(a), Some(b)) => b.saturating_duration_since(a).as_secs_f64(),
        _ => 0.0,
    };
    Ok(BenchReport {
        validators: args.validators,
        mode: if args.validators == 1 {
            "embedded devnet"
        } else {
            "node processes"
        },
        submitted,
        finalized,
        elapsed_secs: elapsed,
        finalized_tps: if elapsed > 0.0 {
            finalized as f64 / elapsed
        } else {
            0.0
        },
        p50_ms: percentile(&latencies, 0.5),
        p99_ms: percentile(&latencies, 0.99),
        blocks: tracker.blocks,
    })
}

fn embedded(
    home: &Home,
    txs: Vec<SignedTransaction>,
    args: &ChainArgs,
    tracker: Arc<Mutex<Tracker>>,
) -> anyhow::Result<()> {
    let mut config = NodeConfig::load_or_default(&home.config())?;
    config.rpc.listen = ([127, 0, 0, 1], 0).into();
    let (ready_tx, ready_rx) = mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let node_home = home.clone();
    let node = std::thread::spawn(move || {
        service::run_until(
            &node_home,
            config,
            move |ready| {
                let _ = ready_tx.send(ready.chain.clone());
            },
            async move {
                let _ = stop_rx.await;
            },
        )
    });
    let chain = ready_rx
        .recv_timeout(Duration::from_secs(60))
        .context("the embedded validator did not start")?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while chain.status().map_or(true, |s| s.height.0 < WARM_HEIGHT) {
        if Instant::now() > deadline {
            bail!("the embedded validator did not finalize {WARM_HEIGHT} blocks");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let total = txs.len() as u64;
    let progress = bar(total, "finalized");
    let mut events = chain.events();
    let observer = {
        let tracker = tracker.clone();
        let progress = progress.clone();
        let timeout = Duration::from_secs(args.timeout_secs);
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build();
            let Ok(runtime) = runtime else { return };
            runtime.block_on(async move {
                let mut seen = 0u64;
                while seen < total {
                    match tokio::time::timeout(timeout, events.recv()).await {
                        Ok(Ok(ChainEvent::Finalized(block))) => {
                            let now = Instant::now();
                            let mut t = tracker
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner);
                            t.blocks += 1;
                            for receipt in &block.receipts {
                                t.finalized(receipt.tx_hash, now);
                            }
                            seen += block.receipts.len() as u64;
                            progress.set_position(seen);
                        }
                        Ok(Ok(_)) => {}
                        Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
                        _ => return,
                    }
                }
            });
        })
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .context("cannot build a runtime")?;
    let start = Instant::now();
    runtime.block_on(async {
        let mut sent = 0u64;
        let mut txs = txs.into_iter().peekable();
        while txs.peek().is_some() {
            let batch: Vec<SignedTransaction> =
                txs.by_ref().take(usize::from(args.batch)).collect();
            pace(start, sent, args.rate);
            sent += batch.len() as u64;
            let hashes: Vec<Hash> = batch.iter().map(SignedTransaction::hash).collect();
            let now = Instant::now();
            let outcomes = chain.submit_batch(batch).await;
            let mut t = tracker
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for (hash, outcome) in hashes.into_iter().zip(outcomes) {
                if outcome.is_ok() {
                    t.submitted(hash, now);
                }
            }
        }
    });
    let _ = observer.join();
    progress.finish();
    let _ = stop_tx.send(());
    match node.join() {
        Ok(result) => result?,
        Err(_) => bail!("the embedded validator panicked"),
    }
    Ok(())
}

struct Processes(Vec<Child>);

impl Drop for Processes {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Wait until `client`'s validator has finalized [`WARM_HEIGHT`] blocks: the network is up,
/// its peers are connected and views turn over, so the measurement sees the steady state
/// rather than the first leaders timing out while the validators find each other.
fn wait_live(client: &Client, deadline: Instant) -> anyhow::Result<()> {
    while Instant::now() < deadline {
        if client.status().is_ok_and(|s| s.height >= WARM_HEIGHT) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!(
        "validator at {} did not finalize {WARM_HEIGHT} blocks",
        client.base_url()
    )
}

fn processes(
    homes: &[Home],
    txs: Vec<SignedTransaction>,
    args: &ChainArgs,
    tracker: Arc<Mutex<Tracker>>,
) -> anyhow::Result<()> {
    let exe = std::env::current_exe().context("cannot find the counterweight binary")?;
    let mut children = Processes(Vec::new());
    let mut clients = Vec::new();
    for home in homes {
        let config = NodeConfig::load_or_default(&home.config())?;
        let log = std::fs::File::create(home.root().join("node.log"))?;
        children.0.push(
            Command::new(&exe)
                .arg("node")
                .arg("--home")
                .arg(home.root())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .context("cannot start a validator process")?,
        );
        clients.push(Client::new(&format!("http://{}", config.rpc.listen))?);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    for client in &clients {
        wait_live(client, deadline)?;
    }
    let total = txs.len() as u64;
    let progress = bar(total, "finalized");
    let follower = clients[0].follow_blocks()?;
    let observer = {
        let tracker = tracker.clone();
        let progress = progress.clone();
        std::thread::spawn(move || {
            let mut seen = 0u64;
            for event in follower {
                let Ok(block) = event else { return };
                let now = Instant::now();
                let mut t = tracker
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                t.blocks += 1;
                for receipt in &block.receipts {
                    if let Some(hash) = hex::decode(&receipt.tx_hash)
                        .ok()
                        .and_then(|b| Hash::from_slice(&b).ok())
                    {
                        t.finalized(hash, now);
                    }
                }
                seen += block.receipts.len() as u64;
                progress.set_position(seen);
                if seen >= total {
                    return;
                }
            }
        })
    };
    // One submitting thread per validator; each account always goes to the same validator.
    let mut per_node: Vec<Vec<SignedTransaction>> = vec![Vec::new(); clients.len()];
    for tx in txs {
        let node = usize::from(tx.tx.sender.0[0]) % clients.len();
        per_node[node].push(tx);
    }
    let start = Instant::now();
    let rate = args.rate / clients.len() as u64;
    let batch_size = usize::from(args.batch);
    let submitters: Vec<_> = per_node
        .into_iter()
        .zip(clients.iter().cloned())
        .map(|(txs, client)| {
            let tracker = tracker.clone();
            std::thread::spawn(move || {
                let mut sent = 0u64;
                for batch in txs.chunks(batch_size) {
                    pace(start, sent, rate);
                    sent += batch.len() as u64;
                    let bytes: Vec<_> = batch.iter().map(SignedTransaction::to_bytes).collect();
                    let now = Instant::now();
                    let Ok(reply) = client.submit_txs(&bytes) else {
                        continue;
                    };
                    let mut t = tracker
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    for (tx, result) in batch.iter().zip(reply.results) {
                        if result.tx_hash.is_some() {
                            t.submitted(tx.hash(), now);
                        }
                    }
                }
            })
        })
        .collect();
    for s in submitters {
        let _ = s.join();
    }
    let deadline = Instant::now() + Duration::from_secs(args.timeout_secs);
    while !observer.is_finished() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    progress.finish();
    drop(children);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_ranks() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), 51.0);
        assert_eq!(percentile(&v, 0.99), 99.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
    }

    #[test]
    fn tracker_matches_finality_seen_before_submission_returned() {
        let mut t = Tracker::default();
        let h = Hash([1; 32]);
        let t0 = Instant::now();
        t.finalized(h, t0 + Duration::from_millis(5));
        t.submitted(h, t0);
        assert_eq!(t.latencies_ms.len(), 1);
        assert!(t.latencies_ms[0] >= 4.0);
    }
}
