//! The seam between the consensus engine and the chain's state machine.

use commonware_codec::{EncodeSize, Read, Write};
use std::fmt::Debug;

/// A 32-byte block digest (the hash of the block header).
pub type BlockDigest = [u8; 32];

/// The ledger's answer to a build or verify request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict<T> {
    /// Built, or valid.
    Valid(T),
    /// Permanently invalid for this parent.
    Invalid,
    /// The parent is neither the committed tip nor a block the ledger has executed.
    UnknownParent,
}

/// The state machine that consensus orders blocks for.
///
/// The engine calls these methods from its actors; each call may execute a whole block, so
/// implementations should keep them deterministic and free of network I/O.
///
/// Contract:
/// - [`Ledger::propose`] and [`Ledger::verify`] may be called for blocks whose parent is notarized
///   but not finalized, and for several competing children of one parent.
/// - [`Ledger::finalize`] is called in height order, at least once per height (after a restart the
///   same block may be delivered again and must then be a no-op). The engine acknowledges a block
///   to marshal only after `finalize` returns `Ok`, so `Ok` must mean "durable on disk".
pub trait Ledger: Clone + Send + Sync + 'static {
    /// The chain's block.
    type Block: Clone + Debug + Send + Sync + Write + EncodeSize + Read + 'static;

    /// The error a fatal finalization failure reports (the node stops on it).
    type Error: std::error::Error + Send + Sync + 'static;

    /// The digest of `block` (the hash of its header); must commit to every byte of the block.
    fn digest(block: &Self::Block) -> BlockDigest;
    /// The height of `block` (genesis is height 0).
    fn height(block: &Self::Block) -> u64;
    /// The digest of `block`'s parent.
    fn parent(block: &Self::Block) -> BlockDigest;
    /// The proposer's timestamp of `block`, in milliseconds since the Unix epoch.
    fn timestamp_ms(block: &Self::Block) -> u64;

    /// The codec configuration used to decode blocks from peers and storage.
    fn block_codec_config(&self) -> <Self::Block as Read>::Cfg;

    /// The genesis block, height 0.
    fn genesis(&self) -> Self::Block;

    /// The height of the last block applied by [`Ledger::finalize`].
    ///
    /// # Errors
    /// A fatal storage fault.
    fn committed_height(&self) -> Result<u64, Self::Error>;

    /// Build a child of `parent` proposed by `proposer` at `timestamp_ms`.
    ///
    /// [`Verdict::UnknownParent`] asks the engine to replay the parent's unfinalized ancestry
    /// through [`Ledger::verify`] (after a restart the ledger forgets speculative state) and
    /// try again.
    ///
    /// # Errors
    /// A fatal storage fault.
    fn propose(
        &self,
        parent: &Self::Block,
        timestamp_ms: u64,
        proposer: BlockDigest,
    ) -> Result<Verdict<Self::Block>, Self::Error>;

    /// Whether `block` is a valid child of `parent`; [`Verdict::Invalid`] is permanent.
    ///
    /// # Errors
    /// A fatal storage fault.
    fn verify(&self, parent: &Self::Block, block: &Self::Block)
    -> Result<Verdict<()>, Self::Error>;

    /// Apply a finalized block durably; a height at or below the committed height is a no-op.
    ///
    /// # Errors
    /// A fatal storage fault; the engine stops delivering blocks after it.
    fn finalize(&self, block: &Self::Block) -> Result<(), Self::Error>;
}
