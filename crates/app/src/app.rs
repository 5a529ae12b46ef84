//! The application: genesis, transaction checks, block building, verification, finalization.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use counterweight_audit::Audit;
use counterweight_bank::{Bank, balance_state_key};
use counterweight_state::{BlockEnv, BlockState, CallError, Layered, Runtime, TxError};
use counterweight_storage::{BlockCommit, StateProof, Store, TreeDelta};
use counterweight_storage_api::{BlockReader, StateChanges, StateReader, StorageError};
use counterweight_types::{
    Address, Block, EncodeSize as _, Genesis, Hash, Header, Height, MAX_BLOCK_BYTES, MAX_TX_BYTES,
    ModuleId, SignedTransaction, TxReceipt, signed_tx_root,
};
use serde::{Deserialize, Serialize};

use crate::{
    error::{BlockError, Error, Result},
    sigcache::{SIG_CACHE_CAPACITY, SigCache},
};

/// How far ahead of an account's next nonce `check_tx` accepts a transaction, so a mempool
/// can hold an account's queued transactions.
pub const MAX_NONCE_GAP: u64 = 256;

/// Space kept free for the header and length prefixes when filling a block.
const BLOCK_OVERHEAD_BYTES: usize = 1024;

/// An account as seen at the committed height.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// The address.
    pub address: Address,
    /// Its balance.
    pub balance: u64,
    /// Its next nonce.
    pub nonce: u64,
}

/// What [`App::finalize_block`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FinalizeOutcome {
    /// The block was executed (or taken from the speculative cache) and durably committed.
    Applied {
        /// Its height.
        height: Height,
        /// The state root after it.
        state_root: Hash,
        /// Its receipts, in transaction order.
        receipts: Vec<TxReceipt>,
    },
    /// The block was already finalized (marshal delivers at least once): nothing changed.
    AlreadyFinalized {
        /// Its height.
        height: Height,
    },
}

/// What [`App::build_block_reporting`] built.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BuiltBlock {
    /// The block.
    pub block: Block,
    /// The candidates execution rejected, by hash, with the reason.
    pub dropped: Vec<(Hash, TxError)>,
}

/// A block executed on top of its (unfinalized) parent, waiting for finalization.
#[derive(Debug)]
struct Pending {
    block: Block,
    changes: StateChanges,
    delta: TreeDelta,
    receipts: Vec<TxReceipt>,
}

/// The chain's state machine: every registered module over authenticated storage.
///
/// All methods take `&self`; the app is `Send + Sync`, so share it in an `Arc`. Speculative
/// results of executed, not yet finalized blocks are kept in memory keyed by block digest, so
/// proposals may build on notarized parents; finalization prunes them.
pub struct App {
    store: Store,
    runtime: Runtime,
    genesis: Genesis,
    genesis_block: Block,
    validators: BTreeSet<Address>,
    pending: Mutex<BTreeMap<Hash, Arc<Pending>>>,
    verified: Mutex<SigCache>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("chain_id", &self.genesis.chain_id)
            .finish_non_exhaustive()
    }
}

/// Builds the runtime with every module of the chain.
fn runtime(genesis: &Genesis) -> Result<Runtime> {
    let bank = Arc::new(Bank);
    let mut runtime = Runtime::new(
        genesis.chain_id.clone(),
        genesis.params.clone(),
        bank.clone(),
    );
    runtime.register(bank)?;
    // The audit log records every event of the other modules (see counterweight-audit).
    runtime.register(Arc::new(Audit))?;
    runtime.set_recorder(Arc::new(Audit));
    runtime.register(Arc::new(counterweight_identity::Identity))?;
    runtime.register(Arc::new(counterweight_coop::CoopModule))?;
    runtime.register(Arc::new(counterweight_learn::Learn))?;
    runtime.register(Arc::new(counterweight_registry::Registry))?;
    Ok(runtime)
}

/// Executes genesis on `store` (which must be empty) and returns the genesis block.
fn write_genesis(store: &Store, runtime: &Runtime, genesis: &Genesis) -> Result<Block> {
    let mut state = BlockState::new(store);
    runtime.init_genesis(&mut state, genesis)?;
    let changes = state.into_changes();
    let delta = store.speculate(&[], &changes, Height::GENESIS)?;
    let block = Block {
        header: Header {
            chain_id: genesis.chain_id.clone(),
            height: Height::GENESIS,
            parent: Hash::ZERO,
            timestamp_ms: genesis.genesis_time_ms,
            proposer: Address::ZERO,
            tx_root: signed_tx_root(&[]),
            state_root: delta.root(),
        },
        txs: Vec::new(),
    };
    store.commit(BlockCommit {
        block: &block,
        receipts: &[],
        changes: &changes,
        delta: &delta,
    })?;
    Ok(block)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The outcome of executing a list of transactions on a parent.
struct Executed {
    txs: Vec<SignedTransaction>,
    changes: StateChanges,
    delta: TreeDelta,
    receipts: Vec<TxReceipt>,
    dropped: Vec<(Hash, TxError)>,
}

impl App {
    /// Opens (or creates) the chain state in directory `dir` for `genesis`.
    ///
    /// On first open the genesis block is executed and committed; later opens check that
    /// the stored genesis block is the one `genesis` produces and resume at the committed
    /// height.
    ///
    /// # Errors
    /// [`Error::Genesis`], [`Error::GenesisMismatch`], or fatal storage errors.
    pub fn open(dir: &Path, genesis: Genesis) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        let store = Store::open(&dir.join("chain.redb"))?;
        Self::with_store(store, genesis)
    }

    /// Creates a chain whose state lives only in memory.
    ///
    /// # Errors
    /// [`Error::Genesis`] for an invalid genesis.
    pub fn in_memory(genesis: Genesis) -> Result<Self> {
        Self::with_store(Store::in_memory()?, genesis)
    }

    /// Opens the chain over an existing store (see [`App::open`]).
    ///
    /// # Errors
    /// As [`App::open`].
    pub fn with_store(store: Store, genesis: Genesis) -> Result<Self> {
        genesis.validate()?;
        let runtime = runtime(&genesis)?;
        let genesis_block = match store.block(Height::GENESIS)? {
            None => write_genesis(&store, &runtime, &genesis)?,
            Some(stored) => {
                let expected = write_genesis(&Store::in_memory()?, &runtime, &genesis)?;
                if stored.digest() != expected.digest() {
                    return Err(Error::GenesisMismatch {
                        stored: stored.digest(),
                        expected: expected.digest(),
                    });
                }
                stored
            }
        };
        let validators = genesis.validators.iter().copied().collect();
        let app = Self {
            store,
            runtime,
            genesis,
            genesis_block,
            validators,
            pending: Mutex::new(BTreeMap::new()),
            verified: Mutex::new(SigCache::new(SIG_CACHE_CAPACITY)),
        };
        tracing::info!(
            target: "app",
            chain_id = %app.genesis.chain_id,
            height = app.committed_height()?.0,
            "opened chain state"
        );
        Ok(app)
    }

    /// Returns the genesis document.
    pub fn genesis(&self) -> &Genesis {
        &self.genesis
    }

    /// Returns the genesis block (height 0); every validator derives the same one.
    pub fn genesis_block(&self) -> &Block {
        &self.genesis_block
    }

    /// Returns the underlying store (a [`BlockReader`] and [`StateReader`] of committed data).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Returns the highest finalized height.
    ///
    /// # Errors
    /// Fatal storage errors.
    pub fn committed_height(&self) -> Result<Height> {
        self.store
            .committed_height()?
            .ok_or(Error::Storage(StorageError::Corrupt {
                what: "committed height",
            }))
    }

    /// Returns the highest finalized block.
    ///
    /// # Errors
    /// Fatal storage errors.
    pub fn committed_block(&self) -> Result<Block> {
        let height = self.committed_height()?;
        self.store
            .block(height)?
            .ok_or(Error::Storage(StorageError::Corrupt {
                what: "committed block",
            }))
    }

    /// Returns the state root after the highest finalized block.
    ///
    /// # Errors
    /// Fatal storage errors.
    pub fn committed_root(&self) -> Result<Hash> {
        Ok(self.committed_block()?.header.state_root)
    }

    /// Returns the finalized block at `height`.
    ///
    /// # Errors
    /// Fatal storage errors.
    pub fn block(&self, height: Height) -> Result<Option<Block>> {
        Ok(self.store.block(height)?)
    }

    /// Returns the finalized block with this digest.
    ///
    /// # Errors
    /// Fatal storage errors.
    pub fn block_by_digest(&self, digest: &Hash) -> Result<Option<Block>> {
        match self.store.block_height(digest)? {
            Some(h) => self.block(h),
            None => Ok(None),
        }
    }

    /// Returns the receipt of a finalized transaction.
    ///
    /// # Errors
    /// Fatal storage errors.
    pub fn receipt(&self, tx_hash: &Hash) -> Result<Option<TxReceipt>> {
        Ok(self.store.receipt(tx_hash)?)
    }

    /// Returns an account's balance and next nonce at the committed height.
    ///
    /// # Errors
    /// Fatal storage errors.
    pub fn account(&self, address: &Address) -> Result<Account> {
        Ok(Account {
            address: *address,
            balance: self.runtime.balance(&self.store, address)?,
            nonce: self.runtime.nonce(&self.store, address)?,
        })
    }

    /// Returns the committed value under a raw state key with a proof against the committed
    /// state root (verify offline with [`StateProof::verify`]).
    ///
    /// # Errors
    /// Fatal storage errors.
    pub fn state_proof(&self, key: &[u8]) -> Result<StateProof> {
        self.store
            .prove(key)?
            .ok_or(Error::Storage(StorageError::Corrupt {
                what: "committed height",
            }))
    }

    /// Returns a proof of an account's balance (the value is the balance, 8 bytes
    /// big-endian; absent means 0).
    ///
    /// # Errors
    /// Fatal storage errors.
    pub fn balance_proof(&self, address: &Address) -> Result<StateProof> {
        self.state_proof(&balance_state_key(address))
    }

    /// Runs a module query against the committed state. The outer error is fatal; the inner
    /// one is the module's answer to a bad query.
    ///
    /// # Errors
    /// Fatal storage errors.
    pub fn query(
        &self,
        module: ModuleId,
        path: &str,
        data: &[u8],
    ) -> Result<Result<Vec<u8>, counterweight_state::ModuleError>> {
        match self.runtime.query(&self.store, module, path, data) {
            Ok(v) => Ok(Ok(v)),
            Err(CallError::Failed(e)) => Ok(Err(e)),
            Err(CallError::Fatal(e)) => Err(e.into()),
            Err(e) => Err(Error::Storage(StorageError::Invariant(e.to_string()))),
        }
    }

    /// Decodes a transaction from untrusted bytes and checks it (see [`App::check_tx`]).
    ///
    /// # Errors
    /// Outer: fatal storage errors. Inner: [`TxError::Oversized`], [`TxError::Malformed`] or
    /// any rejection of [`App::check_tx`].
    pub fn check_tx_bytes(&self, bytes: &[u8]) -> Result<Result<SignedTransaction, TxError>> {
        if bytes.len() > MAX_TX_BYTES {
            return Ok(Err(TxError::Oversized {
                size: bytes.len(),
                max: MAX_TX_BYTES,
            }));
        }
        let stx = match SignedTransaction::from_bytes(bytes) {
            Ok(stx) => stx,
            Err(e) => {
                return Ok(Err(TxError::Malformed {
                    reason: e.to_string(),
                }));
            }
        };
        Ok(self.check_tx(&stx)?.map(|()| stx))
    }

    /// Checks a transaction for the mempool: size, chain id, fee minimum, module and payload,
    /// signature, then against the committed state a nonce in `[next, next + MAX_NONCE_GAP]`
    /// and a balance that covers the fee. Stores nothing.
    ///
    /// # Errors
    /// Outer: fatal storage errors. Inner: the [`TxError`] rejecting the transaction.
    pub fn check_tx(&self, stx: &SignedTransaction) -> Result<Result<(), TxError>> {
        let size = stx.encode_size();
        if size > MAX_TX_BYTES {
            return Ok(Err(TxError::Oversized {
                size,
                max: MAX_TX_BYTES,
            }));
        }
        if let Err(e) = self.runtime.check_stateless(stx) {
            return Ok(Err(e));
        }
        let hash = stx.hash();
        if !lock(&self.verified).contains(&hash, stx) {
            if counterweight_crypto::verify_tx(stx).is_err() {
                return Ok(Err(TxError::BadSignature));
            }
            lock(&self.verified).insert(hash, stx);
        }
        Ok(self
            .runtime
            .check_stateful(&self.store, stx, MAX_NONCE_GAP)?)
    }

    /// Returns the unfinalized ancestors of a child of `parent` (oldest first, ending with
    /// `parent` itself unless it is the committed tip).
    fn ancestry(&self, parent: &Block) -> Result<Result<Vec<Arc<Pending>>, BlockError>> {
        match self.ancestry_once(parent)? {
            // A concurrent finalization may have committed and pruned an ancestor between
            // reading the tip and walking the cache; the second look sees the new tip.
            Err(BlockError::UnknownParent(_)) => self.ancestry_once(parent),
            found => Ok(found),
        }
    }

    fn ancestry_once(&self, parent: &Block) -> Result<Result<Vec<Arc<Pending>>, BlockError>> {
        let committed = self.committed_block()?;
        let committed_height = committed.header.height;
        let parent_digest = parent.digest();
        if parent.header.height <= committed_height {
            let stored = self.store.block(parent.header.height)?;
            let is_tip = parent.header.height == committed_height
                && stored.is_some_and(|b| b.digest() == parent_digest);
            return Ok(if is_tip {
                Ok(Vec::new())
            } else {
                Err(BlockError::UnknownParent(parent_digest))
            });
        }
        let pending = lock(&self.pending);
        let mut chain = Vec::new();
        let mut cursor = parent_digest;
        loop {
            let Some(p) = pending.get(&cursor) else {
                return Ok(Err(BlockError::UnknownParent(parent_digest)));
            };
            chain.push(p.clone());
            let header = &p.block.header;
            if header.height.0 == committed_height.0 + 1 {
                if header.parent != committed.digest() {
                    return Ok(Err(BlockError::UnknownParent(parent_digest)));
                }
                break;
            }
            cursor = header.parent;
        }
        chain.reverse();
        Ok(Ok(chain))
    }

    /// Executes `txs` on top of `ancestors` at `env`. In strict mode a rejected transaction
    /// makes the whole execution fail; otherwise rejected transactions are dropped.
    fn execute(
        &self,
        ancestors: &[Arc<Pending>],
        env: &BlockEnv,
        txs: Vec<SignedTransaction>,
        strict: bool,
    ) -> Result<Result<Executed, BlockError>> {
        let layers: Vec<&StateChanges> = ancestors.iter().map(|p| &p.changes).collect();
        let view = Layered::new(&self.store, layers);
        let mut state = BlockState::new(&view);
        self.runtime.begin_block(&mut state, env);
        let mut included = Vec::with_capacity(txs.len());
        let mut receipts = Vec::with_capacity(txs.len());
        let mut dropped = Vec::new();
        for (index, stx) in txs.into_iter().enumerate() {
            let position = u32::try_from(included.len()).unwrap_or(u32::MAX);
            match self.runtime.apply_tx(&mut state, env, position, &stx)? {
                Ok(receipt) => {
                    receipts.push(receipt);
                    included.push(stx);
                }
                Err(error) if strict => return Ok(Err(BlockError::InvalidTx { index, error })),
                Err(error) => {
                    tracing::debug!(target: "app::build", tx = %stx.hash(), %error, "dropped");
                    dropped.push((stx.hash(), error));
                }
            }
        }
        self.runtime.finish_block(&mut state, env);
        let changes = state.into_changes();
        let deltas: Vec<&TreeDelta> = ancestors.iter().map(|p| &p.delta).collect();
        let delta = self.store.speculate(&deltas, &changes, env.height)?;
        Ok(Ok(Executed {
            txs: included,
            changes,
            delta,
            receipts,
            dropped,
        }))
    }

    /// Builds a block on `parent` from `candidates` as [`App::build_block_reporting`] does,
    /// without the report of dropped transactions.
    ///
    /// # Errors
    /// As [`App::build_block_reporting`].
    pub fn build_block(
        &self,
        parent: &Block,
        timestamp_ms: u64,
        proposer: Address,
        candidates: impl IntoIterator<Item = SignedTransaction>,
    ) -> Result<Result<Block, BlockError>> {
        Ok(self
            .build_block_reporting(parent, timestamp_ms, proposer, candidates)?
            .map(|built| built.block))
    }

    /// Builds a block on `parent` from `candidates` (in order): drops transactions that are
    /// oversized, for another chain, badly signed, out of nonce order or unable to pay,
    /// stops at the chain's transaction and byte limits, executes the rest and fills in the
    /// transaction and state roots. The block is remembered for [`App::finalize_block`].
    /// The transactions execution rejected (bad nonce, cannot pay) are reported with the
    /// block, so a mempool can evict them rather than offer them to every later build.
    ///
    /// `timestamp_ms` is raised to the parent's if it is lower.
    ///
    /// # Errors
    /// Outer: fatal errors. Inner: [`BlockError::UnknownParent`] if `parent` is neither the
    /// committed tip nor an executed block.
    pub fn build_block_reporting(
        &self,
        parent: &Block,
        timestamp_ms: u64,
        proposer: Address,
        candidates: impl IntoIterator<Item = SignedTransaction>,
    ) -> Result<Result<BuiltBlock, BlockError>> {
        let ancestors = match self.ancestry(parent)? {
            Ok(a) => a,
            Err(e) => return Ok(Err(e)),
        };
        let Some(height) = parent.header.height.next() else {
            return Ok(Err(BlockError::WrongHeight {
                expected: parent.header.height,
                got: parent.header.height,
            }));
        };
        let max_txs = self.genesis.params.max_block_txs as usize;
        let mut budget = MAX_BLOCK_BYTES - BLOCK_OVERHEAD_BYTES;
        let mut selected = Vec::new();
        for stx in candidates {
            if selected.len() >= max_txs {
                break;
            }
            let size = stx.encode_size();
            if size > MAX_TX_BYTES || self.runtime.check_stateless(&stx).is_err() {
                continue;
            }
            if size > budget {
                break;
            }
            budget -= size;
            selected.push(stx);
        }
        let selected = self.drop_bad_signatures(selected);
        let env = BlockEnv {
            height,
            proposer,
            timestamp_ms: timestamp_ms.max(parent.header.timestamp_ms),
        };
        let executed = match self.execute(&ancestors, &env, selected, false)? {
            Ok(e) => e,
            Err(e) => return Ok(Err(e)),
        };
        let block = Block {
            header: Header {
                chain_id: self.genesis.chain_id.clone(),
                height,
                parent: parent.digest(),
                timestamp_ms: env.timestamp_ms,
                proposer,
                tx_root: signed_tx_root(&executed.txs),
                state_root: executed.delta.root(),
            },
            txs: executed.txs,
        };
        tracing::debug!(
            target: "app::build",
            height = height.0,
            txs = block.txs.len(),
            digest = %block.digest(),
            "built block"
        );
        self.remember(&block, executed.changes, executed.delta, executed.receipts);
        Ok(Ok(BuiltBlock {
            block,
            dropped: executed.dropped,
        }))
    }

    fn remember(
        &self,
        block: &Block,
        changes: StateChanges,
        delta: TreeDelta,
        receipts: Vec<TxReceipt>,
    ) {
        lock(&self.pending).insert(
            block.digest(),
            Arc::new(Pending {
                block: block.clone(),
                changes,
                delta,
                receipts,
            }),
        );
    }

    /// Verifies that `block` is a valid child of `parent`: header fields, proposer, limits,
    /// all signatures (batch-verified), every transaction valid in order, and both roots.
    /// A valid block is remembered for [`App::finalize_block`] and as a parent.
    ///
    /// # Errors
    /// Outer: fatal errors. Inner: the [`BlockError`] that makes the block invalid.
    pub fn verify_block(&self, parent: &Block, block: &Block) -> Result<Result<(), BlockError>> {
        let digest = block.digest();
        // The fast path needs the very block that was verified, not just its digest: a copy
        // with another body under the same header is checked (and refused) in full.
        let known = lock(&self.pending)
            .get(&digest)
            .is_some_and(|p| p.block == *block);
        if known && block.header.parent == parent.digest() {
            return Ok(Ok(()));
        }
        let ancestors = match self.ancestry(parent)? {
            Ok(a) => a,
            Err(e) => return Ok(Err(e)),
        };
        match self.execute_checked(&ancestors, parent, block)? {
            Ok(executed) => {
                self.remember(block, executed.changes, executed.delta, executed.receipts);
                Ok(Ok(()))
            }
            Err(e) => Ok(Err(e)),
        }
    }

    fn execute_checked(
        &self,
        ancestors: &[Arc<Pending>],
        parent: &Block,
        block: &Block,
    ) -> Result<Result<Executed, BlockError>> {
        let header = &block.header;
        let checks = || -> Result<(), BlockError> {
            if header.chain_id != self.genesis.chain_id {
                return Err(BlockError::WrongChainId {
                    expected: self.genesis.chain_id.clone(),
                    got: header.chain_id.clone(),
                });
            }
            let expected = parent.header.height.next().unwrap_or(parent.header.height);
            if header.height != expected {
                return Err(BlockError::WrongHeight {
                    expected,
                    got: header.height,
                });
            }
            if header.parent != parent.digest() {
                return Err(BlockError::WrongParent {
                    expected: parent.digest(),
                    got: header.parent,
                });
            }
            if header.timestamp_ms < parent.header.timestamp_ms {
                return Err(BlockError::TimestampRegressed {
                    parent: parent.header.timestamp_ms,
                    got: header.timestamp_ms,
                });
            }
            if !self.validators.contains(&header.proposer) {
                return Err(BlockError::UnknownProposer(header.proposer));
            }
            let max = self.genesis.params.max_block_txs as usize;
            if block.txs.len() > max {
                return Err(BlockError::TooManyTxs {
                    max,
                    got: block.txs.len(),
                });
            }
            let size = block.encode_size();
            if size > MAX_BLOCK_BYTES {
                return Err(BlockError::TooLarge {
                    size,
                    max: MAX_BLOCK_BYTES,
                });
            }
            // Over the full signed encodings: the digest covers every byte of the block.
            let root = signed_tx_root(&block.txs);
            if root != header.tx_root {
                return Err(BlockError::TxRootMismatch {
                    expected: root,
                    got: header.tx_root,
                });
            }
            if let Err(index) = self.verify_signatures(&block.txs) {
                return Err(BlockError::InvalidTx {
                    index,
                    error: TxError::BadSignature,
                });
            }
            Ok(())
        };
        if let Err(e) = checks() {
            return Ok(Err(e));
        }
        let env = BlockEnv {
            height: header.height,
            proposer: header.proposer,
            timestamp_ms: header.timestamp_ms,
        };
        let executed = match self.execute(ancestors, &env, block.txs.clone(), true)? {
            Ok(e) => e,
            Err(e) => return Ok(Err(e)),
        };
        if executed.delta.root() != header.state_root {
            return Ok(Err(BlockError::StateRootMismatch {
                expected: executed.delta.root(),
                got: header.state_root,
            }));
        }
        Ok(Ok(executed))
    }

    /// Durably applies a finalized block. Idempotent: a block at or below the committed
    /// height is a no-op (after checking it is the block stored there). Returns only after
    /// the block, its receipts and the new state are on disk, in one transaction.
    ///
    /// The block's parent must be the committed tip. If the block was not built or verified
    /// here (e.g. after a restart) it is executed now.
    ///
    /// # Errors
    /// Fatal: [`Error::ConflictingFinalization`], [`Error::HeightGap`],
    /// [`Error::InvalidFinalizedBlock`], storage errors.
    pub fn finalize_block(&self, block: &Block) -> Result<FinalizeOutcome> {
        let committed = self.committed_block()?;
        let height = block.header.height;
        let digest = block.digest();
        if height <= committed.header.height {
            let stored =
                self.store
                    .block(height)?
                    .ok_or(Error::Storage(StorageError::Corrupt {
                        what: "finalized block",
                    }))?;
            if stored.digest() != digest {
                return Err(Error::ConflictingFinalization {
                    height,
                    stored: stored.digest(),
                    got: digest,
                });
            }
            return Ok(FinalizeOutcome::AlreadyFinalized { height });
        }
        if Some(height) != committed.header.height.next() {
            return Err(Error::HeightGap {
                committed: committed.header.height,
                got: height,
            });
        }
        let cached = lock(&self.pending)
            .get(&digest)
            .filter(|p| p.block == *block)
            .cloned();
        let pending = match cached {
            Some(p) => p,
            None => {
                let executed = self
                    .execute_checked(&[], &committed, block)?
                    .map_err(|source| Error::InvalidFinalizedBlock { height, source })?;
                Arc::new(Pending {
                    block: block.clone(),
                    changes: executed.changes,
                    delta: executed.delta,
                    receipts: executed.receipts,
                })
            }
        };
        self.store.commit(BlockCommit {
            block,
            receipts: &pending.receipts,
            changes: &pending.changes,
            delta: &pending.delta,
        })?;
        lock(&self.pending).retain(|_, p| p.block.header.height > height);
        {
            let mut verified = lock(&self.verified);
            for receipt in &pending.receipts {
                verified.remove(&receipt.tx_hash);
            }
        }
        tracing::info!(
            target: "app::finalize",
            height = height.0,
            txs = block.txs.len(),
            root = %block.header.state_root,
            "finalized block"
        );
        Ok(FinalizeOutcome::Applied {
            height,
            state_root: block.header.state_root,
            receipts: pending.receipts.clone(),
        })
    }

    /// Returns how many executed blocks await finalization.
    pub fn pending_blocks(&self) -> usize {
        lock(&self.pending).len()
    }
}

impl App {
    /// Batch-verifies the signatures of `txs` not verified here before and remembers the valid
    /// ones, so admitting them (and later building or verifying blocks with them) does not
    /// verify them again. Invalid signatures are only not remembered: [`App::check_tx`] still
    /// rejects them. Call it on a batch of transactions about to be admitted (e.g. a gossip
    /// message): batch verification costs about half as much per signature.
    pub fn preverify(&self, txs: &[SignedTransaction]) {
        let _ = self.verify_signatures(txs);
    }

    /// Verifies every signature in `txs`, skipping those already verified here: `Err` names
    /// the first transaction whose signature fails. Valid signatures are remembered.
    fn verify_signatures(&self, txs: &[SignedTransaction]) -> Result<(), usize> {
        let hashes: Vec<Hash> = txs.iter().map(SignedTransaction::hash).collect();
        let unknown: Vec<usize> = {
            let verified = lock(&self.verified);
            (0..txs.len())
                .filter(|&i| !verified.contains(&hashes[i], &txs[i]))
                .collect()
        };
        if unknown.is_empty() {
            return Ok(());
        }
        let batch: Vec<SignedTransaction> = unknown.iter().map(|&i| txs[i].clone()).collect();
        let first_bad = match counterweight_crypto::verify_batch(&batch) {
            Ok(()) => None,
            Err(counterweight_crypto::Error::BadSignature { index, .. }) => Some(index),
            Err(_) => Some(0),
        };
        match first_bad {
            None => {
                let mut verified = lock(&self.verified);
                for &i in &unknown {
                    verified.insert(hashes[i], &txs[i]);
                }
                Ok(())
            }
            // Rare (a bad signature): remember nothing; the caller falls back to single checks.
            Some(bad) => Err(unknown.get(bad).copied().unwrap_or(0)),
        }
    }

    /// Removes transactions whose signatures fail, batch-verifying those not verified before.
    fn drop_bad_signatures(&self, mut txs: Vec<SignedTransaction>) -> Vec<SignedTransaction> {
        if self.verify_signatures(&txs).is_ok() {
            return txs;
        }
        let verified = lock(&self.verified);
        let known: Vec<bool> = txs
            .iter()
            .map(|stx| verified.contains(&stx.hash(), stx))
            .collect();
        drop(verified);
        let mut keep = known.into_iter();
        txs.retain(|stx| {
            keep.next().unwrap_or(false) || counterweight_crypto::verify_tx(stx).is_ok()
        });
        txs
    }
}

impl StateReader for App {
    fn get(&self, key: &[u8]) -> counterweight_storage_api::Result<Option<Vec<u8>>> {
        self.store.get(key)
    }
}
