//! `counterweight demo`: the whole cooperative-training story on an embedded devnet, on real
//! data, printed step by step.
//!
//! A consortium issues membership credentials; five members found a cooperative, join with
//! their credentials and commit their (non-IID) shards of the digits data; a training task is
//! proposed, approved by vote and run for 20 rounds with secure aggregation, every round
//! aggregated by the validator in fixed point; the model is published with its lineage; the
//! reward pool is paid out; and the audit proof of one update is checked offline. Nothing is
//! mocked: the node, consensus, storage, signatures, training and aggregation are the real ones.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Args as ClapArgs;
use counterweight_coop::ModuleCall as _;
use counterweight_coop::{Admission, COOP_MODULE, Consent, CoopCall, ProposalKind, Rules};
use counterweight_fl::fixed;
use counterweight_identity::{IDENTITY_MODULE, IdentityCall};
use counterweight_learn::{
    GlobalView, LEARN_MODULE, LearnCall, SecAggParams, TaskSpec, TaskStrategy, TrainHints,
};
use counterweight_model::{Architecture, Model};
use counterweight_node::{Home, NodeConfig, service};
use counterweight_registry::{Lineage, Metric, Publish, REGISTRY_MODULE, RegistryCall};
use counterweight_rpc_api::{Client, ReceiptView};
use counterweight_train::{
    Dataset, SimulationConfig, Trainer, models, peak_rss_mb, simulate, split_data,
};
use counterweight_types::{Call, Hash};
use counterweight_worker::{LearnReader, RoundTiming, Worker, WorkerEvent, WorkerReport};
use serde::Serialize;

use crate::Global;
use crate::audit;
use crate::keystore::Keystore;
use crate::output::{Output, Shell};
use crate::tx::Signer;

/// The credential type the consortium issues and the cooperative admits by.
const MEMBERSHIP: &str = "CooperativeMembership";

/// The task's reward pool.
const REWARD: u64 = 1_000_000;

/// Run the whole cooperative-training story on an embedded devnet (the README's main job).
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Keep the chain here (default: a fresh temporary directory, removed at the end unless
    /// --keep).
    #[arg(long, value_name = "DIR")]
    pub home: Option<PathBuf>,
    /// Leave the devnet running after the story, for exploration (RPC on 127.0.0.1:26657).
    #[arg(long)]
    pub keep: bool,
    /// Cooperative members, each training on its own shard.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(2..=32))]
    pub members: u32,
    /// Federated rounds.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub rounds: u32,
    /// Run the rounds without secure aggregation (plain updates).
    #[arg(long)]
    pub no_secagg: bool,
    /// Skip the reference `fl simulate` run that the final accuracy is compared with.
    #[arg(long)]
    pub skip_reference: bool,
}

/// What the demo measured (printed at the end, or as JSON with `--json`).
#[derive(Debug, Clone, Serialize)]
pub struct DemoReport {
    /// Wall time of the whole demo, seconds.
    pub wall_s: f64,
    /// Wall time of the training rounds (start to last aggregate), seconds.
    pub rounds_s: f64,
    /// Rounds run.
    pub rounds: u32,
    /// Members (clients).
    pub members: u32,
    /// Secure aggregation on.
    pub secagg: bool,
    /// Mean per round, across clients: local training, ms.
    pub train_ms: f64,
    /// Mean per round: sending the update (all secure-aggregation phases) until final, ms.
    pub submit_ms: f64,
    /// Mean per round: from the client's last message until the aggregate is on chain, ms.
    pub aggregate_wait_ms: f64,
    /// Accuracy of the on-chain model on the held-out test set.
    pub accuracy: f64,
    /// Accuracy of `fl simulate` with the same settings (if run).
    pub reference_accuracy: Option<f64>,
    /// Final global weights hash.
    pub weights_hash: String,
    /// Registry version id.
    pub version: String,
    /// Peak resident memory of the process (node and all clients), MB.
    pub peak_rss_mb: Option<f64>,
}

impl fmt::Display for DemoReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Summary")?;
        writeln!(
            f,
            "        {} rounds in {:.1} s ({:.0} ms per round, block finality included); demo {:.1} s",
            self.rounds,
            self.rounds_s,
            self.rounds_s * 1000.0 / f64::from(self.rounds),
            self.wall_s
        )?;
        write!(
            f,
            "        per round and client: training {:.0} ms, submission to finality {:.0} ms, wait for the aggregate {:.0} ms",
            self.train_ms, self.submit_ms, self.aggregate_wait_ms
        )?;
        if let Some(rss) = self.peak_rss_mb {
            write!(
                f,
                "\n        peak memory of node + {} clients: {rss:.0} MB",
                self.members
            )?;
        }
        Ok(())
    }
}

fn attr(receipt: &ReceiptView, module: u16, kind: &str, key: &str) -> anyhow::Result<String> {
    receipt
        .events
        .iter()
        .filter(|e| e.module == module && e.kind == kind)
        .find_map(|e| e.attributes.get(key).cloned())
        .with_context(|| format!("the receipt has no `{kind}` event with `{key}`"))
}

fn hash_attr(receipt: &ReceiptView, module: u16, kind: &str, key: &str) -> anyhow::Result<Hash> {
    attr(receipt, module, kind, key)?
        .parse()
        .with_context(|| format!("`{kind}.{key}` is not a hash"))
}

fn call(module: counterweight_types::ModuleId, payload: bytes::Bytes) -> Call {
    Call { module, payload }
}

fn short(h: &impl fmt::Display) -> String {
    let s = h.to_string();
    s.chars().take(12).collect()
}

/// The devnet running in this process.
struct Devnet {
    rpc: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<counterweight_node::Result<()>>>,
}

impl Devnet {
    fn start(home: &Home, keep: bool) -> anyhow::Result<Self> {
        let mut config = NodeConfig::default();
        // A fixed RPC port only when the user wants to explore afterwards.
        config.rpc.listen = if keep {
            ([127, 0, 0, 1], counterweight_rpc_api::DEFAULT_RPC_PORT).into()
        } else {
            ([127, 0, 0, 1], 0).into()
        };
        config.p2p.listen = ([127, 0, 0, 1], 0).into();
        let (ready_tx, ready_rx) = mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let home = home.clone();
        let thread = std::thread::Builder::new()
            .name("devnet".into())
            .spawn(move || {
                service::run_until(
                    &home,
                    config,
                    move |ready| {
                        let _ = ready_tx.send(ready.rpc);
                    },
                    async move {
                        let _ = stop_rx.await;
                    },
                )
            })
            .context("cannot start the devnet thread")?;
        let rpc = match ready_rx.recv_timeout(Duration::from_secs(120)) {
            Ok(addr) => format!("http://{addr}"),
            Err(_) => {
                let outcome = thread.join();
                bail!("the devnet did not start: {outcome:?}");
            }
        };
        Ok(Self {
            rpc,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    fn wait_forever(mut self) -> anyhow::Result<()> {
        self.stop.take();
        // Without a stop signal the node runs until the process is interrupted; its state is
        // durable after every finalized block.
        std::mem::forget(self.stop.take());
        if let Some(thread) = self.thread.take() {
            thread
                .join()
                .map_err(|_| anyhow::anyhow!("the devnet thread panicked"))??;
        }
        Ok(())
    }
}

impl Drop for Devnet {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The records of a dataset shard as committed on chain: one CSV line per example
/// (features, then label), hashed into the dataset's Merkle root.
fn shard_records(data: &Dataset) -> Vec<Vec<u8>> {
    let width = data.num_features();
    data.labels()
        .iter()
        .enumerate()
        .map(|(i, label)| {
            let mut line = String::new();
            for v in &data.features()[i * width..(i + 1) * width] {
                line.push_str(&format!("{v},"));
            }
            line.push_str(&label.to_string());
            line.into_bytes()
        })
        .collect()
}

/// The data step's result: the members' shards, the held-out test set and their ids on chain.
struct Shards {
    data: Dataset,
    sim: SimulationConfig,
    test: Dataset,
    shards: Vec<Dataset>,
    datasets: Vec<Hash>,
}

/// The training step's result.
struct Training {
    reports: Vec<WorkerReport>,
    rounds_s: f64,
    accuracy: f64,
    weights_hash: Hash,
}

/// Everything the steps share: the devnet, the parties' signers and the progress printer.
struct Demo {
    members: usize,
    rounds: u32,
    secagg: bool,
    root: PathBuf,
    keystore: Keystore,
    devnet: Devnet,
    client: Client,
    shell: Shell,
    quiet: bool,
    started: Instant,
    step: u32,
    /// dev0: the consortium (issuer).
    consortium: Signer,
    /// dev1..: members (dev1 founds the coop); the last: an outsider whose credential gets
    /// revoked.
    parties: Vec<Signer>,
}

impl Demo {
    fn step(&mut self, text: &str) {
        self.step += 1;
        if !self.quiet {
            let _ = self.shell.status(format_args!(
                "\n[{:>5.1}s] {}. {text}",
                self.started.elapsed().as_secs_f64(),
                self.step
            ));
        }
    }

    fn line(&self, text: &str) {
        if !self.quiet {
            let _ = self.shell.status(format_args!("        {text}"));
        }
    }

    fn key(&self, i: usize) -> anyhow::Result<counterweight_crypto::SigningKey> {
        self.keystore.load(&format!("dev{i}"))
    }

    fn signer(&self, i: usize) -> anyhow::Result<Signer> {
        Signer::new(Client::new(&self.devnet.rpc)?, self.key(i)?)
    }

    fn outsider(&self) -> usize {
        self.members + 1
    }

    /// 1. The chain: a fresh home with funded dev accounts and a devnet in this process.
    fn start(
        args: &Args,
        root: PathBuf,
        global: &Global,
        started: Instant,
    ) -> anyhow::Result<Self> {
        let shell = Shell::new(global.json);
        let quiet = global.json;
        if !quiet {
            let _ = shell.status(format_args!(
                "\n[{:>5.1}s] 1. Start an embedded one-validator devnet",
                started.elapsed().as_secs_f64()
            ));
        }
        let members = args.members as usize;
        let home = Home::new(root.clone());
        if home.is_initialised() {
            bail!(
                "{} already holds a chain: give --home a new directory",
                root.display()
            );
        }
        std::fs::create_dir_all(&root)
            .with_context(|| format!("cannot create {}", root.display()))?;
        crate::devnet::init_home(&home, members as u64 + 2, 1_000_000_000_000)?;
        let keystore = Keystore::in_home(&root);
        let devnet = Devnet::start(&home, args.keep)?;
        let client = Client::new(&devnet.rpc)?;
        let consortium = Signer::new(Client::new(&devnet.rpc)?, keystore.load("dev0")?)?;
        let demo = Self {
            members,
            rounds: args.rounds,
            secagg: !args.no_secagg,
            root,
            keystore,
            devnet,
            client,
            shell,
            quiet,
            started,
            step: 1,
            consortium,
            parties: Vec::new(),
        };
        demo.line(&format!(
            "home {}  rpc {}",
            demo.root.display(),
            demo.devnet.rpc
        ));
        Ok(demo)
    }

    /// 2. Identity: DIDs, an issuer, membership credentials (one revoked).
    fn identities(&mut self) -> anyhow::Result<Vec<Vec<u8>>> {
        self.step(
            "Identities: every party registers a did:key; a consortium registers as credential issuer",
        );
        self.consortium
            .send_and_wait(call(IDENTITY_MODULE, IdentityCall::Register.to_payload()))?;
        self.consortium.send_and_wait(call(
            IDENTITY_MODULE,
            IdentityCall::RegisterIssuer {
                name: "Digits Health Consortium".into(),
                credential_types: vec![MEMBERSHIP.into()],
            }
            .to_payload(),
        ))?;
        let outsider = self.outsider();
        let mut signers = Vec::new();
        for i in 1..=outsider {
            let mut s = self.signer(i)?;
            let hash = s.send(call(IDENTITY_MODULE, IdentityCall::Register.to_payload()))?;
            signers.push((s, hash));
        }
        for (mut s, hash) in signers {
            s.wait(&hash)?;
            self.parties.push(s);
        }
        self.line(&format!(
            "issuer {}",
            counterweight_identity::did_key(&self.consortium.address())
        ));
        let now_ms = self.client.block(None)?.header.timestamp_ms;
        let issuer = self.key(0)?;
        let mut credentials = Vec::new();
        for (index, party) in self.parties.iter().enumerate() {
            let vc = counterweight_identity::issue_credential(
                &issuer,
                &party.address(),
                MEMBERSHIP,
                BTreeMap::from([("cooperative".to_owned(), "handwriting".to_owned())]),
                index as u64,
                now_ms.saturating_sub(60_000),
                Some(now_ms + 24 * 3_600_000),
            )?;
            credentials.push(vc);
        }
        self.line(&format!(
            "issued {} W3C VC 2.0 membership credentials (JOSE, EdDSA), each {} bytes",
            credentials.len(),
            credentials[0].len()
        ));
        self.consortium.send_and_wait(call(
            IDENTITY_MODULE,
            IdentityCall::Revoke {
                index: (outsider - 1) as u64,
            }
            .to_payload(),
        ))?;
        self.line(&format!(
            "revoked the credential of dev{outsider} (status list index {})",
            outsider - 1
        ));
        Ok(credentials)
    }

    /// 3. The cooperative, admitting by credential; the revoked one is refused.
    fn cooperative(&mut self, credentials: &[Vec<u8>]) -> anyhow::Result<Hash> {
        self.step("A cooperative is founded; members join with their credentials");
        let rules = Rules {
            quorum_permille: 500,
            approval_permille: 500,
            voting_period_ms: 600_000,
            revenue_share_permille: 100,
            admission: Admission::ByCredential {
                issuer: self.key(0)?.address(),
                kind: MEMBERSHIP.into(),
            },
        };
        let receipt = self.parties[0].send_and_wait(call(
            COOP_MODULE,
            CoopCall::Create {
                name: "Handwriting cooperative".into(),
                rules,
            }
            .to_payload(),
        ))?;
        let coop = hash_attr(&receipt, COOP_MODULE.0, "coop_created", "coop")?;
        self.line(&format!("coop {} founded by dev1", short(&coop)));
        let mut pending = Vec::new();
        for (i, party) in self
            .parties
            .iter_mut()
            .enumerate()
            .take(self.members)
            .skip(1)
        {
            let hash = party.send(call(
                COOP_MODULE,
                CoopCall::Join {
                    coop,
                    credential: Some(credentials[i].clone()),
                }
                .to_payload(),
            ))?;
            pending.push((i, hash));
        }
        for (i, hash) in pending {
            self.parties[i].wait(&hash)?;
            self.line(&format!("dev{} joined with its credential", i + 1));
        }
        let outsider = self.outsider();
        let refused = self.parties[outsider - 1].send_and_wait(call(
            COOP_MODULE,
            CoopCall::Join {
                coop,
                credential: Some(credentials[outsider - 1].clone()),
            }
            .to_payload(),
        ));
        match refused {
            Err(err) => self.line(&format!("dev{outsider} refused: {err:#}")),
            Ok(_) => bail!("a revoked credential was accepted"),
        }
        Ok(coop)
    }

    /// 4. Data: non-IID shards, committed as Merkle roots with consent.
    fn commit_data(&mut self, coop: Hash) -> anyhow::Result<Shards> {
        self.step("Members commit their local data shards (never uploaded): BLAKE3 Merkle root, schema, count, consent");
        let data = Dataset::digits();
        let sim = SimulationConfig {
            clients: self.members,
            rounds: self.rounds as usize,
            ..SimulationConfig::default()
        };
        let (test, parts, _) = split_data(&data, &sim)?;
        let mut shards = Vec::new();
        let mut pending = Vec::new();
        for (i, idx) in parts.iter().enumerate() {
            let shard = data.subset(idx)?;
            let records = shard_records(&shard);
            let refs: Vec<&[u8]> = records.iter().map(Vec::as_slice).collect();
            let root = counterweight_coop::dataset_root(&refs);
            let hash = self.parties[i].send(call(
                COOP_MODULE,
                CoopCall::CommitDataset {
                    coop,
                    root,
                    schema: "digits: 64 pixel intensities 0-16, label 0-9".into(),
                    records: records.len() as u64,
                    consent: Consent {
                        training: true,
                        commercial: false,
                        derivatives: true,
                    },
                }
                .to_payload(),
            ))?;
            let counts = shard.class_counts();
            pending.push((i, hash, records.len(), counts));
            shards.push(shard);
        }
        let mut datasets = Vec::new();
        for (i, hash, n, counts) in pending {
            let receipt = self.parties[i].wait(&hash)?;
            let id = hash_attr(&receipt, COOP_MODULE.0, "dataset_committed", "dataset")?;
            datasets.push(id);
            self.line(&format!(
                "dev{} dataset {}: {n} records, per class {counts:?}",
                i + 1,
                short(&id)
            ));
        }
        Ok(Shards {
            data,
            sim,
            test,
            shards,
            datasets,
        })
    }

    /// 5. The task, refused before approval, then approved by vote.
    fn approve_task(
        &mut self,
        coop: Hash,
        shards: &Shards,
    ) -> anyhow::Result<(Hash, Architecture)> {
        self.step(&format!(
            "A training task is proposed ({} rounds, FedAvg{}) and approved by vote",
            self.rounds,
            if self.secagg {
                " with SecAgg+ secure aggregation"
            } else {
                ""
            }
        ));
        let data = &shards.data;
        let sim = &shards.sim;
        let arch = models::mlp(data.num_features(), &[64], data.num_classes())?;
        let init = Model::init_he(arch.clone(), sim.seed);
        let hints = &sim.train;
        let spec = TaskSpec {
            coop,
            datasets: shards.datasets.clone(),
            architecture: arch.canonical_bytes().into(),
            initial_params: init
                .params()
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect::<Vec<u8>>()
                .into(),
            rounds: self.rounds,
            min_clients: self.members as u32,
            strategy: TaskStrategy::FedAvg,
            secagg: self.secagg.then_some(SecAggParams {
                max_dropout_permille: 300,
                neighbours: 0,
            }),
            dp: None,
            train: TrainHints {
                epochs: u32::try_from(hints.epochs).unwrap_or(2),
                lr_micros: (hints.lr * 1e6).round() as u32,
                batch: u32::try_from(hints.batch_size).unwrap_or(32),
                seed: sim.seed,
            },
            round_timeout_ms: 60_000,
            reward: REWARD,
            max_examples_per_client: counterweight_learn::MAX_EXAMPLES_PER_CLIENT,
            max_client_share_bps: counterweight_learn::FULL_SHARE_BPS,
            max_attempts: counterweight_learn::DEFAULT_MAX_ATTEMPTS,
            start_timeout_ms: counterweight_learn::DEFAULT_START_TIMEOUT_MS,
        };
        let receipt = self.parties[0].send_and_wait(call(
            LEARN_MODULE,
            LearnCall::OpenTask {
                spec: Box::new(spec),
            }
            .to_payload(),
        ))?;
        let task = hash_attr(&receipt, LEARN_MODULE.0, "task_opened", "task")?;
        self.line(&format!(
            "task {} opened by dev1 with a reward pool of 1,000,000 in escrow",
            short(&task)
        ));
        let refused = self.parties[1]
            .send_and_wait(call(LEARN_MODULE, LearnCall::Start { task }.to_payload()));
        if let Err(err) = refused {
            self.line(&format!("starting before approval is refused: {err:#}"));
        }
        let receipt = self.parties[0].send_and_wait(call(
            COOP_MODULE,
            CoopCall::Propose {
                coop,
                kind: ProposalKind::ApproveTask { task },
            }
            .to_payload(),
        ))?;
        let proposal = hash_attr(&receipt, COOP_MODULE.0, "proposal_created", "proposal")?;
        let members = self.members;
        let mut pending = Vec::new();
        for (i, party) in self.parties.iter_mut().enumerate().take(members) {
            let yes = i != members - 1;
            pending.push((
                i,
                party.send(call(
                    COOP_MODULE,
                    CoopCall::Vote { proposal, yes }.to_payload(),
                ))?,
                yes,
            ));
        }
        for (i, hash, yes) in pending {
            self.parties[i].wait(&hash)?;
            self.line(&format!(
                "dev{} votes {}",
                i + 1,
                if yes { "yes" } else { "no" }
            ));
        }
        self.parties[0].send_and_wait(call(
            COOP_MODULE,
            CoopCall::Execute { proposal }.to_payload(),
        ))?;
        self.line(&format!(
            "proposal {} passed: task approved",
            short(&proposal)
        ));
        Ok((task, arch))
    }

    /// The task's global model.
    fn global(&self, task: Hash) -> anyhow::Result<GlobalView> {
        Ok(LearnReader::new(self.client.clone(), task).global()?)
    }

    /// Step 6, training: one worker per member, each in its own thread; the round accuracy
    /// is printed as the first member reports its aggregates.
    fn train(
        &mut self,
        task: Hash,
        arch: &Architecture,
        shards: Vec<Dataset>,
        test: &Dataset,
    ) -> anyhow::Result<Training> {
        self.step(&format!(
            "{} members train locally; every round is aggregated on chain by the validator in fixed point",
            self.members
        ));
        let (tx, rx) = mpsc::channel::<(usize, WorkerEvent)>();
        let mut workers = Vec::new();
        for (i, shard) in shards.into_iter().enumerate() {
            let client = Client::new(&self.devnet.rpc)?;
            let key = self.key(i + 1)?;
            let tx = tx.clone();
            workers.push(
                std::thread::Builder::new()
                    .name(format!("member-{}", i + 1))
                    .spawn(move || -> counterweight_worker::Result<WorkerReport> {
                        Worker::builder(client, key, task, shard)
                            .shard_index(Some(i as u64))
                            .build()?
                            .run(&mut |event| {
                                let _ = tx.send((i, event.clone()));
                            })
                    })
                    .context("cannot start a member thread")?,
            );
        }
        drop(tx);
        let rounds_started = Instant::now();
        // Anyone may start an approved task; the members' keys are busy in their workers.
        self.consortium
            .send_and_wait(call(LEARN_MODULE, LearnCall::Start { task }.to_payload()))?;
        let trainer = Trainer::new(arch.clone())?;
        let mut reported = 0u32;
        let mut last_round_at = Instant::now();
        for (i, event) in rx.iter() {
            if let WorkerEvent::Aggregated { round, .. } = event
                && i == 0
                && round > reported
            {
                reported = round;
                let global = self.global(task)?;
                let params = fixed::dequantize(&global.params);
                let round_accuracy = trainer.evaluate(&params, test)?.accuracy;
                self.line(&format!(
                    "round {round:>2}/{}: aggregate {} accuracy {:>5.1}%  ({} ms)",
                    self.rounds,
                    short(&global.weights_hash),
                    round_accuracy * 100.0,
                    last_round_at.elapsed().as_millis()
                ));
                last_round_at = Instant::now();
            }
        }
        let rounds_s = rounds_started.elapsed().as_secs_f64();
        let mut reports = Vec::new();
        for (i, w) in workers.into_iter().enumerate() {
            let report = w
                .join()
                .map_err(|_| anyhow::anyhow!("member {} panicked", i + 1))?
                .with_context(|| format!("member dev{} failed", i + 1))?;
            reports.push(report);
        }
        let global = self.global(task)?;
        let accuracy = trainer
            .evaluate(&fixed::dequantize(&global.params), test)?
            .accuracy;
        Ok(Training {
            reports,
            rounds_s,
            accuracy,
            weights_hash: global.weights_hash,
        })
    }

    /// 7. Rewards, paid by contribution.
    fn rewards(&mut self, training: &Training) {
        self.step("The task finished: the reward pool is paid by contribution");
        for (i, r) in training.reports.iter().enumerate() {
            self.line(&format!("dev{} received {}", i + 1, r.reward));
        }
        let paid: u64 = training.reports.iter().map(|r| r.reward).sum();
        self.line(&format!(
            "{paid} to members, {} to the cooperative's treasury",
            REWARD - paid
        ));
    }

    /// 8. Registry: the model with its lineage; the weights into the blob store and back.
    fn publish(
        &mut self,
        task: Hash,
        arch: &Architecture,
        datasets: &[Hash],
        training: &Training,
    ) -> anyhow::Result<Hash> {
        self.step(
            "The model is published in the registry with its lineage; weights go to the blob store",
        );
        // The members' workers used their keys meanwhile.
        self.parties[0].resync()?;
        let weights_hash = training.weights_hash;
        let weights = weights_blob(&self.global(task)?);
        let blob = self.client.put_blob(&weights)?;
        if blob != weights_hash.to_hex() {
            bail!("the weights blob hashes to {blob}, the chain's model to {weights_hash}");
        }
        let receipt = self.parties[0].send_and_wait(call(
            REGISTRY_MODULE,
            RegistryCall::CreateRepo {
                name: "digits-mlp".into(),
                description: "Handwritten digits, trained by the cooperative".into(),
                licence: "CC-BY-4.0".into(),
            }
            .to_payload(),
        ))?;
        let repo = hash_attr(&receipt, REGISTRY_MODULE.0, "repo_created", "repo")?;
        let receipt = self.parties[0].send_and_wait(call(
            REGISTRY_MODULE,
            RegistryCall::Publish(Publish {
                repo,
                tag: "v1".into(),
                weights_hash,
                weights_size: weights.len() as u64,
                arch_hash: counterweight_learn::arch_hash(&arch.canonical_bytes()),
                metrics: vec![Metric {
                    name: "accuracy".into(),
                    value: (training.accuracy * 1e6).round() as i64,
                }],
                parent: None,
                lineage: Lineage {
                    task: Some(task),
                    datasets: datasets.to_vec(),
                },
            })
            .to_payload(),
        ))?;
        let version = hash_attr(&receipt, REGISTRY_MODULE.0, "version_published", "version")?;
        self.line(&format!(
            "version {} of repo digits-mlp: weights {} ({} bytes), signed by dev1",
            short(&version),
            short(&weights_hash),
            weights.len()
        ));
        let graph: serde_json::Value =
            self.client
                .query_json(REGISTRY_MODULE.0, "lineage", &version.0)?;
        let edges = graph["edges"].as_array().map_or(0, Vec::len);
        let kinds: BTreeSet<String> = graph["edges"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["kind"].as_str().map(str::to_owned))
            .collect();
        self.line(&format!(
            "lineage: {} datasets -> task {} -> version {} ({edges} edges: {})",
            datasets.len(),
            short(&task),
            short(&version),
            kinds.into_iter().collect::<Vec<_>>().join(", ")
        ));
        let pulled = self.client.get_blob(&weights_hash.to_hex())?;
        if pulled != weights {
            bail!("the node served other bytes for the model's weights");
        }
        self.line(
            "pulled the weights back from the node's blob store: BLAKE3 matches the on-chain hash",
        );
        Ok(version)
    }

    /// 9. Audit: the proof of one member's update, written to the home and checked offline.
    fn audit(&mut self) -> anyhow::Result<()> {
        self.step("The audit log proves one member's update; the proof is checked offline");
        let anchored = find_update_proof(&self.client)?;
        let proof_path = self.root.join("update-proof.json");
        std::fs::write(&proof_path, serde_json::to_vec_pretty(&anchored)?)?;
        let verified = audit::verify(&audit::read_proof(&proof_path)?)?;
        self.line(&audit::describe(&verified.entry));
        self.line(&format!(
            "verified offline: in the audit log (root {} over {} entries), anchored in state root {} at height {}",
            short(&verified.audit_root),
            verified.leaves,
            short(&verified.state_root),
            verified.height
        ));
        Ok(())
    }

    /// 10. Reference: the same federation in `fl simulate`.
    fn reference(&mut self, shards: &Shards, accuracy: f64) -> anyhow::Result<f64> {
        self.step("Reference: the same federation in `counterweight fl simulate` (same split, seed, model)");
        let mut reference = shards.sim.clone();
        reference.threads = 1;
        let report = simulate(&shards.data, &reference, |_| {})?;
        let acc = report.final_accuracy;
        self.line(&format!(
            "simulate {:.1}%  on chain {:.1}%  (difference {:+.1} points)",
            acc * 100.0,
            accuracy * 100.0,
            (accuracy - acc) * 100.0
        ));
        Ok(acc)
    }

    /// The measurements, across every member's rounds.
    fn report(
        &self,
        training: &Training,
        version: Hash,
        reference_accuracy: Option<f64>,
    ) -> DemoReport {
        let mean = |f: fn(&RoundTiming) -> u64| {
            let all: Vec<u64> = training
                .reports
                .iter()
                .flat_map(|r| r.rounds.iter().map(f))
                .collect();
            all.iter().sum::<u64>() as f64 / all.len().max(1) as f64
        };
        DemoReport {
            wall_s: self.started.elapsed().as_secs_f64(),
            rounds_s: training.rounds_s,
            rounds: self.rounds,
            members: self.members as u32,
            secagg: self.secagg,
            train_ms: mean(|t| t.train_ms),
            submit_ms: mean(|t| t.submit_ms),
            aggregate_wait_ms: mean(|t| t.wait_ms),
            accuracy: training.accuracy,
            reference_accuracy,
            weights_hash: training.weights_hash.to_hex(),
            version: version.to_hex(),
            peak_rss_mb: peak_rss_mb(),
        }
    }
}

/// Where the demo's chain lives: `--home`, or a fresh temporary directory (kept with
/// `--keep`, else removed when the guard drops).
fn demo_root(args: &Args) -> anyhow::Result<(PathBuf, Option<tempfile::TempDir>)> {
    if let Some(dir) = &args.home {
        return Ok((dir.clone(), None));
    }
    let temp = tempfile::Builder::new()
        .prefix("counterweight-demo-")
        .tempdir()
        .context("cannot create a temporary directory")?;
    if args.keep {
        Ok((temp.keep(), None))
    } else {
        Ok((temp.path().to_path_buf(), Some(temp)))
    }
}

/// Run `counterweight demo`: the steps in order, then the report.
///
/// # Errors
/// Any step that fails, with what it was doing.
pub fn run(args: Args, global: &Global) -> anyhow::Result<Output> {
    let started = Instant::now();
    let (root, _temp) = demo_root(&args)?;
    let mut demo = Demo::start(&args, root, global, started)?;
    let credentials = demo.identities()?;
    let coop = demo.cooperative(&credentials)?;
    let mut shards = demo.commit_data(coop)?;
    let (task, arch) = demo.approve_task(coop, &shards)?;
    let members = std::mem::take(&mut shards.shards);
    let training = demo.train(task, &arch, members, &shards.test)?;
    demo.rewards(&training);
    let version = demo.publish(task, &arch, &shards.datasets, &training)?;
    demo.audit()?;
    let reference_accuracy = if args.skip_reference {
        None
    } else {
        Some(demo.reference(&shards, training.accuracy)?)
    };
    let report = demo.report(&training, version, reference_accuracy);
    if args.keep {
        // The devnet runs until the process is interrupted, so the summary goes out now.
        let _ = demo.shell.status(&report);
        demo.line(&format!(
            "devnet kept running at {} (home {}); try `counterweight audit status --rpc {}`; Ctrl-C stops it",
            demo.devnet.rpc,
            demo.root.display(),
            demo.devnet.rpc
        ));
        demo.devnet.wait_forever()?;
    }
    Ok(Output::new(&report)?)
}

/// The weights blob of a trained task: the preimage of the learn module's weights hash
/// (domain length, domain tag, then the Q16.16 parameters little-endian), so that the blob's
/// BLAKE3 address is exactly the weights hash agreed on chain.
fn weights_blob(global: &GlobalView) -> Vec<u8> {
    let tag = counterweight_types::domain::MODEL_WEIGHTS;
    let mut blob = Vec::with_capacity(8 + tag.len() + 4 * global.params.len());
    blob.extend_from_slice(&(tag.len() as u64).to_be_bytes());
    blob.extend_from_slice(tag);
    for q in &global.params {
        blob.extend_from_slice(&q.to_le_bytes());
    }
    blob
}

/// Finds the first accepted update (or masked input) in the audit log and fetches its proof.
fn find_update_proof(client: &Client) -> anyhow::Result<audit::AnchoredProof> {
    let status: serde_json::Value =
        client.query_json(counterweight_audit::AUDIT_MODULE.0, "status", &[])?;
    let leaves = status["leaves"].as_u64().unwrap_or(0);
    for index in 0..leaves {
        let entry: counterweight_audit::EntryView = client.query_json(
            counterweight_audit::AUDIT_MODULE.0,
            &format!("entry/{index}"),
            &[],
        )?;
        if entry.module == LEARN_MODULE.0
            && (entry.kind.contains("update") || entry.kind.contains("masked"))
        {
            return audit::prove(client, &index.to_string(), None);
        }
    }
    bail!("no accepted update in the audit log")
}
