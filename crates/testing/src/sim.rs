//! The deterministic multi-validator simulation.

use commonware_consensus::simplex::mocks::conflicter;
use commonware_cryptography::{Blake3, Signer as _, ed25519};
use commonware_p2p::{
    Manager as _,
    simulated::{self, Link, Network, Oracle},
};
use commonware_runtime::{
    Clock as _, Handle, Quota, Runner as _, Spawner as _, Supervisor as _, deterministic,
};
use commonware_utils::{NZU32, NZUsize, ordered::Set};
use counterweight_app::App;
use counterweight_bank::ModuleCall as _;
use counterweight_crypto::SigningKey;
use counterweight_node::{Chain, Mempool, config::MempoolConfig, gossip, keys, service, testnet};
use counterweight_rpc::NodeApi as _;
use counterweight_types::{Address, Genesis, Hash, SignedTransaction};

use crate::byzantine::{self, Behaviour, Byzantine};
use std::{
    collections::BTreeMap,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::Duration,
};

/// Why a simulation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// The network did not reach the awaited height in simulated time.
    #[error("seed {seed}: step {step} timed out (heights {heights:?})")]
    Timeout {
        /// The seed (rerun with it to reproduce).
        seed: u64,
        /// The index of the step that timed out.
        step: usize,
        /// Finalized heights of the live validators when it gave up.
        heights: Vec<Option<u64>>,
    },
    /// A validator could not be set up.
    #[error("seed {seed}: setup failed: {message}")]
    Setup {
        /// The seed.
        seed: u64,
        /// What failed.
        message: String,
    },
}

/// One action of a scenario.
#[derive(Clone, Debug)]
pub enum Step {
    /// Wait until every live honest validator has finalized at least this height.
    WaitHeight(u64),
    /// Wait until every live honest validator has finalized this many more blocks than now.
    Advance(u64),
    /// Let simulated time pass.
    Sleep(Duration),
    /// Abort every task of a validator (its on-disk state stays).
    Crash(usize),
    /// Start a crashed validator again from its on-disk state.
    Restart(usize),
    /// Cut every link between the groups (validators in no group keep their links).
    Partition(Vec<Vec<usize>>),
    /// Restore every link.
    Heal,
    /// Stop submitting transactions.
    StopLoad,
    /// Submit these signed transactions, in order, to the first live validator (each must be
    /// admitted to its mempool).
    Submit(Vec<SignedTransaction>),
}

/// The simulated network.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Seed of the deterministic runtime (drives scheduling, latency and jitter).
    pub seed: u64,
    /// Number of validators.
    pub validators: usize,
    /// Funded dev accounts that send transfers.
    pub accounts: u64,
    /// Transfers submitted per 100 ms of simulated time.
    pub transfers_per_tick: u64,
    /// Mean link latency.
    pub latency: Duration,
    /// Link latency jitter.
    pub jitter: Duration,
    /// The one Byzantine validator, if any, and what it does.
    pub byzantine: Option<Byzantine>,
    /// Override the genesis `max_block_txs` (a small value makes censorship visible).
    pub max_block_txs: Option<u32>,
    /// Simulated time each waiting step may take.
    pub step_timeout: Duration,
    /// Module queries `(module, path, data)` every honest validator answers at the end, from
    /// its committed state (see [`ValidatorReport::answers`]).
    pub queries: Vec<(counterweight_types::ModuleId, String, Vec<u8>)>,
}

impl SimConfig {
    /// Four validators on 10 ms links with transfers flowing.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            validators: 4,
            accounts: 8,
            transfers_per_tick: 8,
            latency: Duration::from_millis(10),
            jitter: Duration::from_millis(3),
            byzantine: None,
            max_block_txs: None,
            step_timeout: Duration::from_secs(60),
            queries: Vec::new(),
        }
    }
}

/// One honest validator's finalized chain at the end of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorReport {
    /// Last finalized height.
    pub height: u64,
    /// State root after that block.
    pub state_root: Hash,
    /// Block digests at heights 1..=height.
    pub digests: Vec<Hash>,
    /// Transactions in those blocks.
    pub txs: u64,
    /// The answers to [`SimConfig::queries`], in order (an empty answer for a refused query).
    pub answers: Vec<Vec<u8>>,
    /// Transfers of the load's accounts finalized (the sum of their committed nonces).
    pub load_finalized: u64,
    /// Transactions still in its mempool at the end.
    pub pending: usize,
}

/// The outcome of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// The seed.
    pub seed: u64,
    /// Each validator's report (`None` for the byzantine or a crashed one).
    pub validators: Vec<Option<ValidatorReport>>,
    /// `(blocker, blocked)` validator indices recorded by the simulated network.
    pub blocked: Vec<(usize, usize)>,
    /// Transfers accepted by some validator's mempool.
    pub submitted: u64,
}

impl Report {
    /// The honest validators' reports.
    pub fn honest(&self) -> impl Iterator<Item = &ValidatorReport> {
        self.validators.iter().flatten()
    }

    /// Assert that no two validators finalized different blocks at any height.
    ///
    /// # Panics
    /// On conflicting finality, naming the seed.
    pub fn assert_consistent(&self) {
        let reports: Vec<_> = self.honest().collect();
        for (i, a) in reports.iter().enumerate() {
            for b in reports.iter().skip(i + 1) {
                let common = a.digests.len().min(b.digests.len());
                assert_eq!(
                    a.digests[..common],
                    b.digests[..common],
                    "seed {}: conflicting finalized blocks",
                    self.seed
                );
            }
        }
    }
}

/// A signed bank transfer of `amount` from `from` to `to`.
pub fn transfer(
    genesis: &Genesis,
    from: &SigningKey,
    nonce: u64,
    to: Address,
    amount: u64,
) -> SignedTransaction {
    from.sign_tx(counterweight_types::Transaction {
        chain_id: genesis.chain_id.clone(),
        sender: from.address(),
        nonce,
        fee: genesis.params.min_fee,
        call: counterweight_types::Call {
            module: counterweight_bank::BANK_MODULE,
            payload: counterweight_bank::BankCall::Transfer { to, amount }.to_payload(),
        },
    })
}

const CHANNELS: [u64; 6] = [0, 1, 2, 3, 4, 5];
/// Index in [`CHANNELS`] of the block broadcast channel.
const BLOCKS_CHANNEL: usize = 3;
/// Index in [`CHANNELS`] of the transaction gossip channel.
const MEMPOOL_CHANNEL: usize = 5;

struct Slot {
    handle: Handle<()>,
}

struct Harness {
    config: SimConfig,
    genesis: Genesis,
    signers: Vec<ed25519::PrivateKey>,
    publics: Vec<ed25519::PublicKey>,
    dirs: Vec<PathBuf>,
    oracle: Oracle<ed25519::PublicKey, deterministic::Context>,
    chains: Arc<Mutex<Vec<Option<Chain>>>>,
    slots: Vec<Option<Slot>>,
    restarts: Vec<u32>,
}

fn setup_error(seed: u64, message: impl std::fmt::Display) -> SimError {
    SimError::Setup {
        seed,
        message: message.to_string(),
    }
}

impl Harness {
    fn link(&self) -> Link {
        Link {
            latency: self.config.latency,
            jitter: self.config.jitter,
            success_rate: commonware_utils::probability!(1.0),
        }
    }

    async fn connect(&self, a: usize, b: usize) {
        let _ = self
            .oracle
            .add_link(
                self.publics[a].clone(),
                self.publics[b].clone(),
                self.link(),
            )
            .await;
    }

    async fn disconnect(&self, a: usize, b: usize) {
        let _ = self
            .oracle
            .remove_link(self.publics[a].clone(), self.publics[b].clone())
            .await;
    }

    async fn start(
        &mut self,
        context: &deterministic::Context,
        index: usize,
    ) -> Result<(), SimError> {
        let seed = self.config.seed;
        let control = self.oracle.control(self.publics[index].clone());
        let quota = Quota::per_second(NZU32!(100_000));
        let mut channels = Vec::with_capacity(CHANNELS.len());
        for channel in CHANNELS {
            channels.push(
                control
                    .register(channel, quota)
                    .await
                    .map_err(|e| setup_error(seed, e))?,
            );
        }
        let restart = self.restarts[index];
        self.restarts[index] += 1;
        let context = context
            .child("validator")
            .with_attribute("index", index)
            .with_attribute("incarnation", restart);
        let behaviour = self
            .config
            .byzantine
            .as_ref()
            .filter(|b| b.index == index)
            .map(|b| b.behaviour.clone());
        if behaviour == Some(Behaviour::Conflicter) {
            let scheme = counterweight_consensus::Scheme::signer(
                &namespace(&self.genesis),
                Set::try_from(self.publics.clone())
                    .map_err(|_| setup_error(seed, "duplicate key"))?,
                self.signers[index].clone(),
            )
            .ok_or_else(|| setup_error(seed, "byzantine key not a validator"))?;
            let mut channels = channels.into_iter();
            let votes = channels
                .next()
                .ok_or_else(|| setup_error(seed, "no vote channel"))?;
            let engine: conflicter::Conflicter<_, _, Blake3> =
                conflicter::Conflicter::new(context, conflicter::Config { scheme });
            let handle = engine.start(votes);
            self.slots[index] = Some(Slot { handle });
            return Ok(());
        }
        let app =
            App::open(&self.dirs[index], self.genesis.clone()).map_err(|e| setup_error(seed, e))?;
        let chain = Chain::new(app, Mempool::new(MempoolConfig::default()));
        let handle = match behaviour {
            None | Some(Behaviour::Conflicter) => {
                // Only honest validators are reported and receive the load.
                lock(&self.chains)[index] = Some(chain.clone());
                self.spawn_node(context, index, &control, chain.clone(), chain, channels)
            }
            Some(behaviour) => {
                let proposed: byzantine::Proposed = Arc::default();
                let (offset_ms, victims) = match &behaviour {
                    Behaviour::FutureTimestamps { offset_ms } => (*offset_ms, Vec::new()),
                    Behaviour::CorruptedCopies { victims } => (0, victims.clone()),
                    _ => (0, Vec::new()),
                };
                let victims = victims.iter().map(|&i| self.publics[i].clone()).collect();
                let peers: Vec<_> = (0..self.publics.len())
                    .filter(|&i| i != index)
                    .map(|i| self.publics[i].clone())
                    .collect();
                let wrapped: Vec<_> = channels
                    .into_iter()
                    .enumerate()
                    .map(|(channel, (sender, receiver))| {
                        let sender = byzantine::TamperingSender {
                            inner: sender,
                            tamper: channel == BLOCKS_CHANNEL,
                            victims: Vec::clone(&victims),
                            peers: peers.clone(),
                            proposed: proposed.clone(),
                        };
                        (sender, receiver)
                    })
                    .collect();
                if let Behaviour::Flood {
                    accounts,
                    stuck_per_account,
                } = behaviour
                {
                    let txs =
                        byzantine::flood_transactions(&self.genesis, accounts, stuck_per_account);
                    let sender = wrapped[MEMPOOL_CHANNEL].0.clone();
                    let own = chain.clone();
                    context.child("flood").spawn(move |context| {
                        byzantine::flood(context, sender, own, txs, Duration::from_millis(250))
                    });
                }
                let ledger = byzantine::SkewedLedger {
                    chain: chain.clone(),
                    offset_ms,
                    proposed,
                };
                self.spawn_node(context, index, &control, chain, ledger, wrapped)
            }
        };
        self.slots[index] = Some(Slot { handle });
        Ok(())
    }

    /// Starts our real node (gossip and engine) for validator `index` over `ledger`.
    fn spawn_node<L, S, R>(
        &self,
        context: deterministic::Context,
        index: usize,
        control: &simulated::Control<ed25519::PublicKey, deterministic::Context>,
        chain: Chain,
        ledger: L,
        channels: Vec<(S, R)>,
    ) -> Handle<()>
    where
        L: counterweight_consensus::Ledger,
        S: commonware_p2p::Sender<PublicKey = ed25519::PublicKey>,
        R: commonware_p2p::Receiver<PublicKey = ed25519::PublicKey>,
    {
        let signer = self.signers[index].clone();
        let validators = self.publics.clone();
        let namespace = namespace(&self.genesis);
        let blocker = control.clone();
        let provider = self.oracle.manager();
        context.spawn(move |context| async move {
            let mut channels = channels.into_iter();
            let (
                Some(votes),
                Some(certificates),
                Some(resolver),
                Some(blocks),
                Some(backfill),
                Some(mempool),
            ) = (
                channels.next(),
                channels.next(),
                channels.next(),
                channels.next(),
                channels.next(),
                channels.next(),
            )
            else {
                return;
            };
            let (gossip_tx, gossip_rx) = tokio::sync::mpsc::unbounded_channel();
            chain.set_gossip(gossip_tx);
            gossip::spawn(context.child("gossip"), chain.clone(), mempool, gossip_rx);
            let running = counterweight_consensus::start(
                context.child("consensus"),
                counterweight_consensus::Config {
                    ledger,
                    signer,
                    validators,
                    namespace,
                    partition_prefix: format!("v{index}"),
                    blocker,
                    peer_provider: provider,
                    timeouts: counterweight_consensus::Timeouts {
                        leader_timeout: Duration::from_millis(500),
                        certification_timeout: Duration::from_secs(1),
                        timeout_retry: Duration::from_secs(2),
                    },
                    mailbox_size: NZUsize!(1_024),
                    min_block_interval: Duration::from_millis(50),
                },
                counterweight_consensus::Channels {
                    votes,
                    certificates,
                    resolver,
                    blocks,
                    backfill,
                },
            )
            .await;
            if let Ok(running) = running {
                let _ = running.finalizer.await;
            }
        })
    }

    fn crash(&mut self, index: usize) {
        if let Some(slot) = self.slots[index].take() {
            slot.handle.abort();
        }
        lock(&self.chains)[index] = None;
    }

    fn heights(&self) -> Vec<Option<u64>> {
        lock(&self.chains)
            .iter()
            .map(|c| {
                c.as_ref()
                    .and_then(|c| c.app().committed_height().ok())
                    .map(|h| h.0)
            })
            .collect()
    }

    fn min_height(&self) -> u64 {
        self.heights().into_iter().flatten().min().unwrap_or(0)
    }

    async fn wait_height(
        &self,
        context: &deterministic::Context,
        step: usize,
        target: u64,
    ) -> Result<(), SimError> {
        let deadline = context.current() + self.config.step_timeout;
        while self.min_height() < target {
            if context.current() >= deadline {
                return Err(SimError::Timeout {
                    seed: self.config.seed,
                    step,
                    heights: self.heights(),
                });
            }
            context.sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }

    async fn report(&self) -> Report {
        let chains = lock(&self.chains).clone();
        let validators = chains
            .iter()
            .map(|chain| {
                let chain = chain.as_ref()?;
                let app = chain.app();
                let height = app.committed_height().ok()?.0;
                let mut digests = Vec::new();
                let mut txs = 0u64;
                for h in 1..=height {
                    let block = app.block(counterweight_types::Height(h)).ok().flatten()?;
                    txs += block.txs.len() as u64;
                    digests.push(block.digest());
                }
                let answers = self
                    .config
                    .queries
                    .iter()
                    .map(|(module, path, data)| {
                        app.query(*module, path, data)
                            .ok()
                            .and_then(Result::ok)
                            .unwrap_or_default()
                    })
                    .collect();
                let load_finalized = (0..self.config.accounts)
                    .map(|i| {
                        app.account(&testnet::dev_account(i).address())
                            .map_or(0, |a| a.nonce)
                    })
                    .sum();
                Some(ValidatorReport {
                    pending: chain.mempool().len(),
                    load_finalized,
                    height,
                    state_root: app.committed_root().ok()?,
                    digests,
                    txs,
                    answers,
                })
            })
            .collect();
        let index: BTreeMap<_, _> = self
            .publics
            .iter()
            .enumerate()
            .map(|(i, pk)| (pk.clone(), i))
            .collect();
        let blocked = self
            .oracle
            .blocked()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(a, b)| Some((*index.get(&a)?, *index.get(&b)?)))
            .collect();
        Report {
            seed: self.config.seed,
            validators,
            blocked,
            submitted: 0,
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn namespace(genesis: &Genesis) -> Vec<u8> {
    [service::namespace(genesis).as_slice(), b"/consensus"].concat()
}

/// Submit transfers round-robin to live validators, each account to one validator so its
/// nonces arrive in order.
async fn load(
    context: deterministic::Context,
    genesis: Genesis,
    accounts: u64,
    per_tick: u64,
    chains: Arc<Mutex<Vec<Option<Chain>>>>,
    submitted: Arc<Mutex<u64>>,
    stop: Arc<Mutex<bool>>,
) {
    let keys: Vec<SigningKey> = (0..accounts).map(testnet::dev_account).collect();
    let mut nonces = vec![0u64; keys.len()];
    let mut next = 0usize;
    loop {
        context.sleep(Duration::from_millis(100)).await;
        if *lock(&stop) {
            return;
        }
        for _ in 0..per_tick {
            let i = next % keys.len();
            next += 1;
            let live: Vec<Chain> = lock(&chains).iter().flatten().cloned().collect();
            let Some(chain) = live.get(i % live.len().max(1)).cloned() else {
                continue;
            };
            // Resynchronise with committed state (a crashed validator may have lost the pool).
            if let Ok(account) = chain.account(&keys[i].address()) {
                nonces[i] = nonces[i].max(account.nonce);
            }
            let to = keys[(i + 1) % keys.len()].address();
            let tx = transfer(&genesis, &keys[i], nonces[i], to, 1);
            if chain.submit(tx).await.is_ok() {
                nonces[i] += 1;
                *lock(&submitted) += 1;
            }
        }
    }
}

/// Run `steps` on the network described by `config` and report every honest validator's chain.
///
/// # Errors
/// [`SimError::Timeout`] if a waiting step does not complete; [`SimError::Setup`] if a
/// validator cannot start. Both carry the seed.
pub fn run(config: &SimConfig, steps: &[Step]) -> Result<Report, SimError> {
    let config = config.clone();
    let seed = config.seed;
    let dirs = tempfile::tempdir().map_err(|e| setup_error(seed, e))?;
    let runner = deterministic::Runner::new(
        deterministic::Config::new()
            .with_seed(seed)
            .with_timeout(Some(Duration::from_secs(3_600))),
    );
    let steps = steps.to_vec();
    let base = dirs.path().to_path_buf();
    let result = runner.start(async move |context| {
        let signers: Vec<_> = (0..config.validators)
            .map(|i| ed25519::PrivateKey::from_seed(i as u64))
            .collect();
        let publics: Vec<_> = signers.iter().map(|s| s.public_key()).collect();
        let plan = testnet::TestnetPlan {
            chain_id: "sim".into(),
            validators: config.validators,
            dev_accounts: config.accounts,
            ..testnet::TestnetPlan::default()
        };
        let addresses = publics
            .iter()
            .map(|pk| Address(keys::public_key_bytes(pk)))
            .collect();
        let mut genesis = testnet::genesis(&plan, addresses).map_err(|e| setup_error(seed, e))?;
        if let Some(max) = config.max_block_txs {
            genesis.params.max_block_txs = max;
        }
        if let Some(Byzantine {
            behaviour: Behaviour::Flood { accounts, .. },
            ..
        }) = &config.byzantine
        {
            byzantine::fund_attackers(&mut genesis, *accounts);
        }
        let (network, oracle) = Network::new(
            context.child("network"),
            simulated::Config {
                max_size: 16 * 1024 * 1024,
                max_peers_per_set: NZUsize!(16),
                disconnect_on_block: true,
                tracked_peer_sets: NZUsize!(1),
            },
        );
        network.start();
        let mut manager = oracle.manager();
        let _ = manager.track(
            0,
            Set::try_from(publics.clone()).map_err(|_| setup_error(seed, "duplicate key"))?,
        );
        let n = config.validators;
        let mut harness = Harness {
            dirs: (0..n).map(|i| base.join(i.to_string())).collect(),
            config: config.clone(),
            genesis: genesis.clone(),
            signers,
            publics,
            oracle,
            chains: Arc::new(Mutex::new(vec![None; n])),
            slots: (0..n).map(|_| None).collect(),
            restarts: vec![0; n],
        };
        for a in 0..n {
            for b in 0..n {
                if a != b {
                    harness.connect(a, b).await;
                }
            }
        }
        for i in 0..n {
            harness.start(&context, i).await?;
        }
        let submitted = Arc::new(Mutex::new(0u64));
        let stop = Arc::new(Mutex::new(false));
        context.child("load").spawn({
            let genesis = genesis.clone();
            let chains = harness.chains.clone();
            let submitted = submitted.clone();
            let stop = stop.clone();
            let accounts = config.accounts;
            let per_tick = config.transfers_per_tick;
            move |context| {
                load(
                    context, genesis, accounts, per_tick, chains, submitted, stop,
                )
            }
        });
        for (index, step) in steps.iter().enumerate() {
            match step {
                Step::WaitHeight(h) => harness.wait_height(&context, index, *h).await?,
                Step::Advance(d) => {
                    let target = harness.min_height() + d;
                    harness.wait_height(&context, index, target).await?;
                }
                Step::Sleep(d) => context.sleep(*d).await,
                Step::Crash(i) => harness.crash(*i),
                Step::Restart(i) => harness.start(&context, *i).await?,
                Step::Partition(groups) => {
                    for (g, group) in groups.iter().enumerate() {
                        for other in groups.iter().skip(g + 1) {
                            for a in group {
                                for b in other {
                                    harness.disconnect(*a, *b).await;
                                    harness.disconnect(*b, *a).await;
                                }
                            }
                        }
                    }
                }
                Step::Heal => {
                    for a in 0..n {
                        for b in 0..n {
                            if a != b {
                                harness.disconnect(a, b).await;
                                harness.connect(a, b).await;
                            }
                        }
                    }
                }
                Step::StopLoad => *lock(&stop) = true,
                Step::Submit(txs) => {
                    let live: Option<Chain> =
                        lock(&harness.chains).iter().flatten().next().cloned();
                    let chain = live.ok_or_else(|| setup_error(seed, "no live validator"))?;
                    for tx in txs {
                        let hash = tx.hash();
                        chain.submit(tx.clone()).await.map_err(|e| {
                            setup_error(seed, format!("step {index}: tx {hash} refused: {e}"))
                        })?;
                    }
                }
            }
        }
        *lock(&stop) = true;
        let mut report = harness.report().await;
        report.submitted = *lock(&submitted);
        for i in 0..n {
            harness.crash(i);
        }
        Ok(report)
    });
    drop(dirs);
    result
}
