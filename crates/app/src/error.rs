//! Fatal application errors and block verdicts.

use counterweight_state::TxError;
use counterweight_storage_api::StorageError;
use counterweight_types::{Address, ChainId, GenesisError, Hash, Height};

/// A fatal error: storage failed, or the finalized chain contradicts this node's state.
/// After one, the node must stop.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Executing state transitions failed fatally.
    #[error(transparent)]
    State(#[from] counterweight_state::Error),
    /// The genesis document is invalid.
    #[error("invalid genesis: {0}")]
    Genesis(#[from] GenesisError),
    /// The store was initialised from a different genesis.
    #[error("the store holds genesis block {stored}, this genesis gives {expected}")]
    GenesisMismatch {
        /// Digest of the stored genesis block.
        stored: Hash,
        /// Digest of the genesis block from the given document.
        expected: Hash,
    },
    /// A different block is already finalized at this height.
    #[error("height {height} is finalized as {stored}, asked to finalize {got}")]
    ConflictingFinalization {
        /// The height.
        height: Height,
        /// The stored block's digest.
        stored: Hash,
        /// The offered block's digest.
        got: Hash,
    },
    /// Finalized blocks must arrive in height order.
    #[error("committed height is {committed}, cannot finalize height {got}")]
    HeightGap {
        /// The committed height.
        committed: Height,
        /// The offered height.
        got: Height,
    },
    /// Consensus finalized a block this node finds invalid.
    #[error("finalized block at height {height} is invalid: {source}")]
    InvalidFinalizedBlock {
        /// The height.
        height: Height,
        /// Why it is invalid.
        #[source]
        source: BlockError,
    },
    /// Creating the data directory failed.
    #[error("cannot create data directory: {0}")]
    Io(#[from] std::io::Error),
}

/// Result with this crate's [`enum@Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a proposed block is invalid (a protocol verdict, not a fault).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BlockError {
    /// The header names another chain.
    #[error("block is for chain {got}, expected {expected}")]
    WrongChainId {
        /// This chain.
        expected: ChainId,
        /// The header's chain id.
        got: ChainId,
    },
    /// The height is not the parent's plus one.
    #[error("block height {got}, expected {expected}")]
    WrongHeight {
        /// Parent height plus one.
        expected: Height,
        /// The header's height.
        got: Height,
    },
    /// The header's parent digest is not the given parent's.
    #[error("block parent {got}, expected {expected}")]
    WrongParent {
        /// The parent's digest.
        expected: Hash,
        /// The header's parent.
        got: Hash,
    },
    /// The parent is neither the committed tip nor a block this node has executed.
    #[error("parent {0} is unknown (not finalized tip, not executed)")]
    UnknownParent(Hash),
    /// The timestamp is below the parent's.
    #[error("timestamp {got} ms is below the parent's {parent} ms")]
    TimestampRegressed {
        /// The parent's timestamp.
        parent: u64,
        /// The header's timestamp.
        got: u64,
    },
    /// The proposer is not a validator.
    #[error("proposer {0} is not a validator")]
    UnknownProposer(Address),
    /// More transactions than the chain allows.
    #[error("{got} transactions, above the limit of {max}")]
    TooManyTxs {
        /// The limit.
        max: usize,
        /// The count.
        got: usize,
    },
    /// The encoded block is above the size limit.
    #[error("block is {size} bytes, above the limit of {max}")]
    TooLarge {
        /// The size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// A transaction is invalid.
    #[error("transaction {index} is invalid: {error}")]
    InvalidTx {
        /// Its position in the block.
        index: usize,
        /// Why.
        error: TxError,
    },
    /// The header's transaction root does not match the transactions.
    #[error("tx root {got}, computed {expected}")]
    TxRootMismatch {
        /// Computed root.
        expected: Hash,
        /// Header root.
        got: Hash,
    },
    /// The header's state root does not match re-execution.
    #[error("state root {got}, computed {expected}")]
    StateRootMismatch {
        /// Computed root.
        expected: Hash,
        /// Header root.
        got: Hash,
    },
}
