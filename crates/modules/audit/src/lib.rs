//! Record every AI event in an append-only Merkle mountain range with inclusion proofs.
//!
//! The audit log is written by the runtime, not by transactions: [`Audit`] is the runtime's
//! [`EventRecorder`](counterweight_state::EventRecorder), so every event of the identity,
//! coop, learn and registry modules (dataset committed, consent changed, task approved, update
//! accepted, round aggregated, model published, ...) becomes a leaf of a Merkle mountain range
//! kept in the chain's authenticated state. Every validator appends the same leaves in the same
//! order, so the log's root is part of the state root.
//!
//! An [`AuditProof`] (the entry, its MMR path and the log's root) is checked offline by
//! [`AuditProof::verify`]; the root is anchored in a block by a state proof of
//! [`root_key`]`(leaves)`, a key written once and never changed.
//!
//! Queries answer JSON: `status` ([`StatusView`]), `entry/N` ([`EntryView`]), `prove/N`
//! ([`AuditProof`]) and `tx/HASH` (the entries a transaction wrote); a missing entry is
//! `null`. The module takes no transactions: every payload is refused with
//! [`codes::NO_CALLS`].
//!
//! # Examples
//!
//! ```
//! use counterweight_audit::{MmrProof, leaf_hash};
//! use counterweight_types::Hash;
//!
//! // A proof whose shape does not fit its MMR is refused, never a panic.
//! let bogus = MmrProof { leaf_index: 3, leaves: 2, siblings: vec![], peaks: vec![] };
//! assert!(bogus.verify(&leaf_hash(b"event"), &Hash([0; 32])).is_err());
//! ```

mod error;
mod log;
mod mmr;
mod query;

pub use error::{AuditError, VerifyError, codes};
pub use log::{
    Audit, AuditEntry, AuditProof, EntryView, current_root, entries_of_tx, entry, leaves,
    proof_from_json, prove, root_key,
};
pub use mmr::{MmrProof, ProofError, leaf_hash, leaf_position, size_for};
pub use query::StatusView;

use counterweight_types::ModuleId;

/// The audit module's id.
pub const AUDIT_MODULE: ModuleId = ModuleId(6);
