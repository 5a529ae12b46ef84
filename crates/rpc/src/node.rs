//! The seam between the RPC server and the node: what the server needs, in domain types.

use std::future::Future;
use std::sync::Arc;

use counterweight_state::{ModuleError, TxError};
use counterweight_types::{
    Address, Block, ChainId, Hash, Header, Height, ModuleId, SignedTransaction, TxReceipt,
};
use tokio::sync::broadcast;

/// A protocol-level refusal of a transaction: a value, not a fault.
///
/// `code` is the protocol's stable numeric code, `reason` its stable snake-case name (both are
/// part of the API and never change meaning), `message` is for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Stable numeric code.
    pub code: u32,
    /// Stable snake-case name, e.g. `bad_signature`.
    pub reason: String,
    /// Human-readable explanation.
    pub message: String,
}

impl Rejection {
    /// The stable snake-case name of a ledger rejection (its `reason` on the wire).
    pub fn reason_of(err: &TxError) -> &'static str {
        match err {
            TxError::Malformed { .. } => "malformed",
            TxError::Oversized { .. } => "oversized",
            TxError::WrongChainId { .. } => "wrong_chain_id",
            TxError::BadSignature => "bad_signature",
            TxError::NonceStale { .. } => "stale_nonce",
            TxError::NonceFuture { .. } => "future_nonce",
            TxError::InsufficientBalance { .. } => "insufficient_balance",
            TxError::FeeTooLow { .. } => "fee_too_low",
            TxError::UnknownModule(_) => "unknown_module",
            _ => "rejected",
        }
    }
}

impl From<&TxError> for Rejection {
    fn from(err: &TxError) -> Self {
        Self {
            code: err.code(),
            reason: Self::reason_of(err).to_owned(),
            message: err.to_string(),
        }
    }
}

/// Why [`NodeApi::submit`] did not accept a transaction.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SubmitError<E> {
    /// The transaction breaks a protocol rule (wrong chain id, bad signature, stale nonce, ...).
    #[error("transaction rejected: {}", .0.message)]
    Rejected(Rejection),
    /// The mempool (or the sender's queue in it) is full; retry later.
    #[error("mempool is full")]
    MempoolFull,
    /// The same transaction is already waiting in the mempool.
    #[error("transaction already pending")]
    AlreadyPending,
    /// A fault inside the node (storage, shutting down): not the client's doing.
    #[error("node fault")]
    Node(#[source] E),
}

/// Where a transaction is in its life, as the node knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxStatus {
    /// In the mempool.
    Pending,
    /// In a finalized block; the receipt carries the height and outcome.
    Finalized(TxReceipt),
    /// Accepted earlier, then dropped before inclusion (e.g. its nonce went stale).
    Rejected(Rejection),
    /// Never seen, or forgotten.
    Unknown,
}

/// An account's committed state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Account {
    /// Spendable balance.
    pub balance: u64,
    /// The nonce the account's next transaction must carry.
    pub nonce: u64,
}

/// A state value with its proof against a committed root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateProof {
    /// The value, or `None` when the proof shows the key is absent.
    pub value: Option<Vec<u8>>,
    /// The proof's canonical encoding (verified offline by the state crate's verifier).
    pub proof: Vec<u8>,
    /// The state root the proof is against.
    pub root: Hash,
    /// The height whose header carries `root`.
    pub height: Height,
}

/// The node's view of the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeStatus {
    /// Chain id.
    pub chain_id: ChainId,
    /// Latest finalized height.
    pub height: Height,
    /// Digest of the latest finalized block.
    pub block_hash: Hash,
    /// State root after the latest finalized block.
    pub state_root: Hash,
    /// Connected peers.
    pub peers: u32,
    /// Transactions in the mempool.
    pub mempool_size: u64,
}

/// A block that became final, with the receipts of its transactions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinalizedBlock {
    /// The block's header.
    pub header: Header,
    /// The block digest.
    pub hash: Hash,
    /// Receipts in transaction order.
    pub receipts: Vec<TxReceipt>,
}

/// Something the event stream tells clients.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChainEvent {
    /// A block was finalized and its state is durable.
    Finalized(Arc<FinalizedBlock>),
}

/// What the RPC server needs from a node. The node implements it over its app and mempool.
///
/// Contract:
/// - Queries answer from **committed** (finalized, durable) state only.
/// - [`NodeApi::submit`] runs the same admission checks as the mempool (stateless checks,
///   signature, chain id, nonce and balance against committed state plus the sender's pending
///   transactions) and stores nothing when it returns an error. The server has already decoded
///   the bytes canonically and enforced the size limit.
/// - [`NodeApi::subscribe`] delivers every block finalized after the call, in height order, once
///   its state is durable; a slow receiver may lag (the server reports the gap to the client).
/// - After a restart every query reflects the state as of the last durable finalized block;
///   pending transactions may have been lost and then report [`TxStatus::Unknown`].
pub trait NodeApi: Send + Sync + 'static {
    /// A fault inside the node. The server logs it and answers `500 internal` without details.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Admit a decoded transaction to the mempool; returns its hash.
    ///
    /// # Errors
    /// [`SubmitError::Rejected`] for protocol violations, [`SubmitError::MempoolFull`],
    /// [`SubmitError::AlreadyPending`], or [`SubmitError::Node`] for faults.
    fn submit(
        &self,
        tx: SignedTransaction,
    ) -> impl Future<Output = Result<Hash, SubmitError<Self::Error>>> + Send;

    /// Admit several decoded transactions, each on its own and in order, as
    /// [`NodeApi::submit`] would; returns one outcome per transaction. The default submits them
    /// one by one; a node may check the batch's signatures together first.
    fn submit_batch(
        &self,
        txs: Vec<SignedTransaction>,
    ) -> impl Future<Output = Vec<Result<Hash, SubmitError<Self::Error>>>> + Send {
        async move {
            let mut out = Vec::with_capacity(txs.len());
            for tx in txs {
                out.push(self.submit(tx).await);
            }
            out
        }
    }

    /// The status of a transaction by hash.
    ///
    /// # Errors
    /// Only node faults; an unknown hash is [`TxStatus::Unknown`].
    fn tx_status(&self, hash: &Hash) -> Result<TxStatus, Self::Error>;

    /// An account's committed balance and next nonce (zero for an account never seen).
    ///
    /// # Errors
    /// Only node faults.
    fn account(&self, address: &Address) -> Result<Account, Self::Error>;

    /// A finalized block by height, or the latest for `None`; `Ok(None)` if there is none yet.
    ///
    /// # Errors
    /// Only node faults.
    fn block(&self, height: Option<Height>) -> Result<Option<Block>, Self::Error>;

    /// A committed state value with its proof against the latest committed root.
    ///
    /// # Errors
    /// Only node faults; an absent key yields a proof of absence.
    fn state_proof(&self, key: &[u8]) -> Result<StateProof, Self::Error>;

    /// Asks module `module` the read-only query `path` with argument `data`, against committed
    /// state. The inner `Err` is the module's refusal (unknown path, bad argument).
    ///
    /// # Errors
    /// Only node faults.
    fn query(
        &self,
        module: ModuleId,
        path: &str,
        data: &[u8],
    ) -> Result<Result<Vec<u8>, ModuleError>, Self::Error>;

    /// Chain id, latest height, root, peers.
    ///
    /// # Errors
    /// Only node faults.
    fn status(&self) -> Result<NodeStatus, Self::Error>;

    /// A receiver of chain events from now on.
    fn subscribe(&self) -> broadcast::Receiver<ChainEvent>;

    /// The node's content-addressed blob store, served on `/v1/blobs`; `None` (the default)
    /// if this node keeps none.
    fn blobs(&self) -> Option<&counterweight_blobs::BlobStore> {
        None
    }
}
