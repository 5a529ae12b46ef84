//! Declare the storage traits the chain reads and writes through.
//!
//! [`StateReader`] reads the key-value state (committed, or a speculative view layered on
//! top of it); [`BlockReader`] reads finalized blocks and receipts. Backends live in
//! `counterweight-storage`; the state machine and RPC depend only on these traits.
//!
//! # Examples
//!
//! ```
//! use std::collections::BTreeMap;
//! use counterweight_storage_api::{StateReader, StorageError};
//!
//! struct Fixed(BTreeMap<Vec<u8>, Vec<u8>>);
//!
//! impl StateReader for Fixed {
//!     fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
//!         Ok(self.0.get(key).cloned())
//!     }
//! }
//!
//! let state = Fixed(BTreeMap::from([(b"k".to_vec(), b"v".to_vec())]));
//! assert_eq!(state.get(b"k").unwrap(), Some(b"v".to_vec()));
//! assert_eq!(state.get(b"missing").unwrap(), None);
//! ```
//!
//! State proofs ([`StateProof`], [`verify_state_proof`]) are checked here too, so that a client
//! can verify what a node serves without linking a database.

mod proof;

use std::collections::BTreeMap;

use counterweight_types::{Block, Hash, Height, TxReceipt};

pub use proof::{Blake3Hasher, ProofError, StateProof, key_hash, verify_state_proof};

/// A fatal storage fault: I/O, a corrupt database, or a broken invariant on disk.
///
/// These are never protocol outcomes: after one, a node stops rather than limp on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// The backend failed (I/O, transaction, table).
    #[error("storage backend: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Stored bytes do not decode.
    #[error("corrupt {what} in storage")]
    Corrupt {
        /// What was being read.
        what: &'static str,
    },
    /// A write would break the store's invariants (e.g. a height gap).
    #[error("invalid write: {0}")]
    Invariant(String),
}

/// Result with [`StorageError`].
pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// Pending writes to the key-value state: `None` deletes the key. Ordered, so deterministic.
pub type StateChanges = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// Reads the key-value state.
///
/// Contract: reads are deterministic for a given view. A committed-state reader sees exactly
/// the state after the last finalized block, also after a restart.
pub trait StateReader {
    /// Returns the value under `key`, or `None` if the key is absent.
    ///
    /// # Errors
    /// Only fatal [`StorageError`]s.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;
}

impl<T: StateReader + ?Sized> StateReader for &T {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        (**self).get(key)
    }
}

/// Reads finalized blocks and receipts.
///
/// Contract: everything returned is durable (survives a crash); heights are contiguous from
/// genesis (0) to [`BlockReader::committed_height`].
pub trait BlockReader {
    /// Returns the highest finalized height, or `None` for an empty store (before genesis).
    ///
    /// # Errors
    /// Only fatal [`StorageError`]s.
    fn committed_height(&self) -> Result<Option<Height>>;

    /// Returns the finalized block at `height`, or `None` above the committed height.
    ///
    /// # Errors
    /// Only fatal [`StorageError`]s.
    fn block(&self, height: Height) -> Result<Option<Block>>;

    /// Returns the height of the finalized block with digest `digest`, if any.
    ///
    /// # Errors
    /// Only fatal [`StorageError`]s.
    fn block_height(&self, digest: &Hash) -> Result<Option<Height>>;

    /// Returns the receipt of a finalized transaction, if any.
    ///
    /// # Errors
    /// Only fatal [`StorageError`]s.
    fn receipt(&self, tx_hash: &Hash) -> Result<Option<TxReceipt>>;
}
