//! The node's chain: the app, the mempool and the event stream, shared by consensus and RPC.

use crate::{
    error::{Error, Result},
    mempool::{DropReason, Mempool, MempoolError, SenderState},
};
use counterweight_app::{App, BlockError, BuiltBlock, FinalizeOutcome, TxError};
use counterweight_blobs::BlobStore;
use counterweight_consensus::Verdict;
use counterweight_rpc::{
    Account, ChainEvent, FinalizedBlock, NodeApi, NodeStatus, Rejection, StateProof, SubmitError,
    TxStatus,
};
use counterweight_state::ModuleError;
use counterweight_types::{Address, Block, Hash, Height, ModuleId, SignedTransaction};
use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{
        Arc, Mutex, OnceLock,
        atomic::{AtomicU32, Ordering},
    },
};
use tokio::sync::{broadcast, mpsc};
use tracing::{debug, warn};

/// Capacity of the finalized-block event stream (slow subscribers lag beyond it).
const EVENT_CAPACITY: usize = 1_024;

/// A block proposed or verified but not yet finalized: remembered so proposals on top of it
/// skip its transactions.
struct Inflight {
    parent: Hash,
    height: u64,
    txs: Vec<Hash>,
    /// Each sender's next nonce after this block.
    next_nonces: BTreeMap<Address, u64>,
}

struct Shared {
    app: App,
    mempool: Mempool,
    events: broadcast::Sender<ChainEvent>,
    inflight: Mutex<BTreeMap<Hash, Inflight>>,
    gossip: Mutex<Option<mpsc::UnboundedSender<SignedTransaction>>>,
    peers: AtomicU32,
    max_block_txs: usize,
    blobs: OnceLock<BlobStore>,
}

/// A cheaply cloneable handle on the node's chain; implements both the consensus engine's
/// [`counterweight_consensus::Ledger`] and the RPC server's [`NodeApi`].
#[derive(Clone)]
pub struct Chain {
    shared: Arc<Shared>,
}

impl Chain {
    /// Wrap an opened app and an empty mempool.
    pub fn new(app: App, mempool: Mempool) -> Self {
        let max_block_txs = usize::try_from(app.genesis().params.max_block_txs)
            .unwrap_or(counterweight_types::MAX_BLOCK_TXS)
            .min(counterweight_types::MAX_BLOCK_TXS);
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        Self {
            shared: Arc::new(Shared {
                app,
                mempool,
                events,
                inflight: Mutex::new(BTreeMap::new()),
                gossip: Mutex::new(None),
                peers: AtomicU32::new(0),
                max_block_txs,
                blobs: OnceLock::new(),
            }),
        }
    }

    /// The app.
    pub fn app(&self) -> &App {
        &self.shared.app
    }

    /// The mempool.
    pub fn mempool(&self) -> &Mempool {
        &self.shared.mempool
    }

    /// Send accepted transactions to this channel (the gossip task) from now on.
    pub fn set_gossip(&self, sender: mpsc::UnboundedSender<SignedTransaction>) {
        *lock(&self.shared.gossip) = Some(sender);
    }

    /// Serve `store` as this node's blob store (once; later calls are ignored).
    pub fn set_blobs(&self, store: BlobStore) {
        if self.shared.blobs.set(store).is_err() {
            warn!(target: "node", "blob store already set; keeping the first");
        }
    }

    /// Record the number of connected peers (shown by `status`).
    pub fn set_peers(&self, peers: u32) {
        self.shared.peers.store(peers, Ordering::Relaxed);
    }

    /// Check `tx` against committed state and add it to the mempool.
    fn admit(&self, tx: SignedTransaction) -> Result<Hash, Admission> {
        let app = &self.shared.app;
        app.check_tx(&tx)
            .map_err(Admission::Fault)?
            .map_err(Admission::Rejected)?;
        self.shared
            .mempool
            .insert_with(tx, |sender| {
                app.account(sender).map(|a| SenderState {
                    next_nonce: a.nonce,
                    balance: a.balance,
                })
            })
            .map_err(Admission::Fault)?
            .map_err(Admission::Mempool)
    }

    /// Admit transactions received from a peer (dropping invalid ones quietly).
    pub fn admit_gossiped(&self, txs: Vec<SignedTransaction>) {
        self.shared.app.preverify(&txs);
        for tx in txs {
            if let Err(e) = self.admit(tx) {
                debug!(target: "node::gossip", error = ?e, "dropped gossiped transaction");
            }
        }
    }

    /// Re-check every pending transaction against committed state (after a restart).
    pub fn recheck_mempool(&self) -> usize {
        let app = &self.shared.app;
        self.shared
            .mempool
            .retain(|tx| matches!(app.check_tx(tx), Ok(Ok(()))))
    }

    /// Subscribe to finalized-block events.
    pub fn events(&self) -> broadcast::Receiver<ChainEvent> {
        self.shared.events.subscribe()
    }

    /// Evict what the builder dropped (audit H1): it would otherwise be offered, and dropped,
    /// by every later build.
    fn evict_dropped(&self, dropped: &[(Hash, TxError)]) {
        if dropped.is_empty() {
            return;
        }
        let reasons: Vec<(Hash, DropReason)> = dropped
            .iter()
            .map(|(hash, error)| {
                let reason = match error {
                    TxError::NonceStale { .. } | TxError::NonceFuture { .. } => DropReason::Nonce,
                    _ => DropReason::Other,
                };
                (*hash, reason)
            })
            .collect();
        let evicted = self.shared.mempool.evict_dropped(&reasons);
        debug!(target: "node::mempool", dropped = dropped.len(), evicted, "evicted dropped transactions");
    }

    fn record_inflight(&self, block: &Block) {
        let mut inflight = lock(&self.shared.inflight);
        inflight.insert(
            block.digest(),
            Inflight {
                parent: block.header.parent,
                height: block.header.height.0,
                txs: block.txs.iter().map(SignedTransaction::hash).collect(),
                next_nonces: block.txs.iter().fold(BTreeMap::new(), |mut next, stx| {
                    let after = stx.tx.nonce.saturating_add(1);
                    let slot = next.entry(stx.tx.sender).or_insert(after);
                    *slot = (*slot).max(after);
                    next
                }),
            },
        );
    }

    /// Transactions in `parent` and its unfinalized ancestors, and the next nonce of each of
    /// their senders after them.
    fn pending_in_ancestry(&self, parent: &Hash) -> (BTreeSet<Hash>, BTreeMap<Address, u64>) {
        let inflight = lock(&self.shared.inflight);
        let mut txs = BTreeSet::new();
        let mut next = BTreeMap::new();
        let mut cursor = *parent;
        while let Some(entry) = inflight.get(&cursor) {
            txs.extend(entry.txs.iter().copied());
            for (sender, n) in &entry.next_nonces {
                let slot = next.entry(*sender).or_insert(*n);
                *slot = (*slot).max(*n);
            }
            cursor = entry.parent;
        }
        (txs, next)
    }
}

#[derive(Debug)]
enum Admission {
    Rejected(counterweight_app::TxError),
    Mempool(MempoolError),
    Fault(counterweight_app::Error),
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn rejection(err: &counterweight_app::TxError) -> Rejection {
    Rejection::from(err)
}

impl counterweight_consensus::Ledger for Chain {
    type Block = Block;
    type Error = counterweight_app::Error;

    fn digest(block: &Block) -> [u8; 32] {
        block.digest().0
    }

    fn height(block: &Block) -> u64 {
        block.header.height.0
    }

    fn parent(block: &Block) -> [u8; 32] {
        block.header.parent.0
    }

    fn timestamp_ms(block: &Block) -> u64 {
        block.header.timestamp_ms
    }

    fn block_codec_config(&self) {}

    fn genesis(&self) -> Block {
        self.shared.app.genesis_block().clone()
    }

    fn committed_height(&self) -> Result<u64, Self::Error> {
        Ok(self.shared.app.committed_height()?.0)
    }

    fn propose(
        &self,
        parent: &Block,
        timestamp_ms: u64,
        proposer: [u8; 32],
    ) -> Result<Verdict<Block>, Self::Error> {
        let (exclude, ancestry_next) = self.pending_in_ancestry(&parent.digest());
        let candidates =
            self.shared
                .mempool
                .candidates(self.shared.max_block_txs, &exclude, &ancestry_next);
        match self.shared.app.build_block_reporting(
            parent,
            timestamp_ms.max(parent.header.timestamp_ms),
            Address(proposer),
            candidates,
        )? {
            Ok(BuiltBlock { block, dropped, .. }) => {
                self.evict_dropped(&dropped);
                self.record_inflight(&block);
                Ok(Verdict::Valid(block))
            }
            Err(BlockError::UnknownParent(_)) => Ok(Verdict::UnknownParent),
            Err(e) => {
                warn!(target: "node::ledger", error = %e, "could not build a block");
                Ok(Verdict::Invalid)
            }
        }
    }

    fn verify(&self, parent: &Block, block: &Block) -> Result<Verdict<()>, Self::Error> {
        match self.shared.app.verify_block(parent, block)? {
            Ok(()) => {
                self.record_inflight(block);
                Ok(Verdict::Valid(()))
            }
            Err(BlockError::UnknownParent(_)) => Ok(Verdict::UnknownParent),
            Err(e) => {
                warn!(target: "node::ledger", height = block.header.height.0, error = %e, "invalid block");
                Ok(Verdict::Invalid)
            }
        }
    }

    fn finalize(&self, block: &Block) -> Result<(), Self::Error> {
        let receipts = match self.shared.app.finalize_block(block)? {
            FinalizeOutcome::Applied { receipts, .. } => Some(receipts),
            _ => None,
        };
        self.shared.mempool.remove_finalized(&block.txs);
        let height = block.header.height.0;
        lock(&self.shared.inflight).retain(|_, entry| entry.height > height);
        if let Some(receipts) = receipts {
            let event = FinalizedBlock {
                header: block.header.clone(),
                hash: block.digest(),
                receipts,
            };
            // No subscribers is fine.
            let _ = self
                .shared
                .events
                .send(ChainEvent::Finalized(Arc::new(event)));
        }
        Ok(())
    }
}

impl NodeApi for Chain {
    type Error = Error;

    async fn submit(&self, tx: SignedTransaction) -> Result<Hash, SubmitError<Error>> {
        let gossip_copy = tx.clone();
        match self.admit(tx) {
            Ok(hash) => {
                if let Some(gossip) = lock(&self.shared.gossip).as_ref() {
                    let _ = gossip.send(gossip_copy);
                }
                Ok(hash)
            }
            Err(Admission::Rejected(e)) => Err(SubmitError::Rejected(rejection(&e))),
            Err(Admission::Mempool(MempoolError::Duplicate)) => Err(SubmitError::AlreadyPending),
            Err(Admission::Mempool(MempoolError::Full | MempoolError::AccountFull { .. })) => {
                Err(SubmitError::MempoolFull)
            }
            Err(Admission::Mempool(e)) => Err(SubmitError::Rejected(Rejection {
                code: e.code(),
                reason: mempool_reason(&e).into(),
                message: e.to_string(),
            })),
            Err(Admission::Fault(e)) => Err(SubmitError::Node(Error::App(e))),
        }
    }

    async fn submit_batch(
        &self,
        txs: Vec<SignedTransaction>,
    ) -> Vec<Result<Hash, SubmitError<Error>>> {
        // One batch verification for the lot; each admission then finds its signature checked.
        self.shared.app.preverify(&txs);
        let mut out = Vec::with_capacity(txs.len());
        for tx in txs {
            out.push(self.submit(tx).await);
        }
        out
    }

    fn tx_status(&self, hash: &Hash) -> Result<TxStatus, Error> {
        if let Some(receipt) = self.shared.app.receipt(hash)? {
            return Ok(TxStatus::Finalized(receipt));
        }
        if self.shared.mempool.contains(hash) {
            return Ok(TxStatus::Pending);
        }
        Ok(TxStatus::Unknown)
    }

    fn account(&self, address: &Address) -> Result<Account, Error> {
        let account = self.shared.app.account(address)?;
        Ok(Account {
            balance: account.balance,
            nonce: account.nonce,
        })
    }

    fn block(&self, height: Option<Height>) -> Result<Option<Block>, Error> {
        let height = match height {
            Some(h) => h,
            None => self.shared.app.committed_height()?,
        };
        Ok(self.shared.app.block(height)?)
    }

    fn state_proof(&self, key: &[u8]) -> Result<StateProof, Error> {
        let proof = self.shared.app.state_proof(key)?;
        Ok(StateProof {
            value: proof.value,
            proof: proof.proof,
            root: proof.root,
            height: proof.height,
        })
    }

    fn query(
        &self,
        module: ModuleId,
        path: &str,
        data: &[u8],
    ) -> Result<Result<Vec<u8>, ModuleError>, Error> {
        Ok(self.shared.app.query(module, path, data)?)
    }

    fn blobs(&self) -> Option<&BlobStore> {
        self.shared.blobs.get()
    }

    fn status(&self) -> Result<NodeStatus, Error> {
        let app = &self.shared.app;
        let height = app.committed_height()?;
        let block_hash = app.block(height)?.map_or(Hash::ZERO, |b| b.digest());
        Ok(NodeStatus {
            chain_id: app.genesis().chain_id.clone(),
            height,
            block_hash,
            state_root: app.committed_root()?,
            peers: self.shared.peers.load(Ordering::Relaxed),
            mempool_size: self.shared.mempool.len() as u64,
        })
    }

    fn subscribe(&self) -> broadcast::Receiver<ChainEvent> {
        self.events()
    }
}

const fn mempool_reason(e: &MempoolError) -> &'static str {
    match e {
        MempoolError::Duplicate => "already_pending",
        MempoolError::StaleNonce { .. } => "stale_nonce",
        MempoolError::NonceTooFar { .. } => "nonce_too_far",
        MempoolError::NonceTaken { .. } => "nonce_taken",
        MempoolError::AccountFull { .. } => "account_full",
        MempoolError::Full => "mempool_full",
        MempoolError::QueueUnpayable { .. } => "queue_exceeds_balance",
    }
}
