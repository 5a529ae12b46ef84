//! The registry's events, as they appear in receipts and the audit log (ids in hex).

use counterweight_state::ModuleEvent;
use counterweight_types::{Address, Hash};
use serde::Serialize;

/// An event of the registry module.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum RegistryEvent {
    /// A repository was created (directly or by a fork).
    RepoCreated {
        /// The repository.
        repo: Hash,
        /// Its owner.
        owner: Address,
        /// Its name.
        name: String,
        /// The version it was forked from (absent unless a fork).
        forked_from: Option<Hash>,
    },
    /// A version was published.
    VersionPublished {
        /// The version.
        version: Hash,
        /// Its repository.
        repo: Hash,
        /// Its tag.
        tag: String,
        /// BLAKE3 of its weights.
        weights_hash: Hash,
        /// Its architecture hash.
        arch_hash: Hash,
        /// Who signed it.
        signer: Address,
        /// Its parent version (absent if none).
        parent: Option<Hash>,
        /// The training task that produced it (absent if none).
        task: Option<Hash>,
    },
    /// A repository was forked from a version.
    RepoForked {
        /// The new repository.
        repo: Hash,
        /// Its first version.
        version: Hash,
        /// The version forked.
        from_version: Hash,
        /// That version's repository.
        from_repo: Hash,
        /// The new repository's owner.
        owner: Address,
    },
    /// An account may now publish in a repository.
    MaintainerAdded {
        /// The repository.
        repo: Hash,
        /// The new maintainer.
        maintainer: Address,
    },
}

impl ModuleEvent for RegistryEvent {}
