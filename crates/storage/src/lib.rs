//! Store blocks and authenticated state on disk or in memory.
//!
//! [`Store`] keeps finalized blocks, receipts, the plain key-value state and a Jellyfish
//! Merkle tree (BLAKE3) over that state in one `redb` database — a file on disk
//! ([`Store::open`]) or memory ([`Store::in_memory`]), with the same code for both. Executing
//! an unfinalized block only computes a [`TreeDelta`] ([`Store::speculate`]); finalizing
//! writes the block, receipts, state and tree nodes in one durable transaction
//! ([`Store::commit`]). [`StateProof`]s verify offline against a header's `state_root`.
//!
//! # Examples
//!
//! ```
//! use std::collections::BTreeMap;
//! use counterweight_storage::{BlockCommit, Store};
//! use counterweight_storage_api::{BlockReader, StateReader};
//! use counterweight_types::{Address, Block, ChainId, Hash, Header, Height, tx_root};
//!
//! let store = Store::in_memory()?;
//! let changes = BTreeMap::from([(b"greeting".to_vec(), Some(b"hello".to_vec()))]);
//! let delta = store.speculate(&[], &changes, Height(0))?;
//! let block = Block {
//!     header: Header {
//!         chain_id: ChainId::new("doc").unwrap(),
//!         height: Height(0),
//!         parent: Hash::ZERO,
//!         timestamp_ms: 0,
//!         proposer: Address::ZERO,
//!         tx_root: tx_root([]),
//!         state_root: delta.root(),
//!     },
//!     txs: vec![],
//! };
//! store.commit(BlockCommit { block: &block, receipts: &[], changes: &changes, delta: &delta })?;
//!
//! assert_eq!(store.committed_height()?, Some(Height(0)));
//! assert_eq!(store.get(b"greeting")?, Some(b"hello".to_vec()));
//! let proof = store.prove(b"greeting")?.expect("a committed block");
//! assert!(proof.verify().is_ok());
//! # Ok::<(), counterweight_storage_api::StorageError>(())
//! ```

mod store;

pub use counterweight_storage_api::{ProofError, StateProof, verify_state_proof};
pub use store::{BlockCommit, Store, TreeDelta};
