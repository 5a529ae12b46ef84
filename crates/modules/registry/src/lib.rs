//! Keep model repositories, versions, forks and lineage on chain.
//!
//! [`Registry`] is module 5. It handles [`RegistryCall`]s:
//! - `CreateRepo` makes a repository owned by the sender, with id
//!   [`repo_id`]`(chain, owner, name)`;
//! - `Publish` adds a version (weights blob hash and size, architecture hash, fixed-point
//!   metrics scaled by [`METRIC_SCALE`], optional parent version, and lineage: the training
//!   task and datasets) with id [`version_id`]`(chain, repo, tag)`; only the owner or a
//!   maintainer may publish, tags are unique per repository, and the signer is recorded; a
//!   version naming a learn task must match the task's finished model (weights and
//!   architecture hashes) and takes its datasets;
//! - `Fork` makes a repository owned by the sender whose first version copies the forked
//!   one and names it as parent;
//! - `AddMaintainer` lets another account publish.
//!
//! Every change emits a [`RegistryEvent`] (`repo_created`, `version_published`,
//! `repo_forked`, `maintainer_added`) carrying the ids in hex; every refusal is a
//! [`RegistryError`] with its stable code in [`codes`]. Queries answer JSON (a missing object
//! is `null`): `repo` and `repos` ([`Repo`]), `version` and `versions` ([`Version`]) and
//! `lineage` ([`LineageGraph`]: datasets → task → version → parent → … up to the root).
//! Other modules read through [`repo`], [`version`], [`versions`], [`repos`] and
//! [`lineage`].
//!
//! # Examples
//!
//! ```
//! use counterweight_registry::{ModuleCall as _, RegistryCall, REGISTRY_MODULE, repo_id};
//! use counterweight_types::{Address, Call, ChainId};
//!
//! let call = RegistryCall::CreateRepo {
//!     name: "digits".into(),
//!     description: "handwritten digit classifier".into(),
//!     licence: "Apache-2.0".into(),
//! };
//! let payload = Call { module: REGISTRY_MODULE, payload: call.to_payload() }.payload;
//! assert_eq!(RegistryCall::from_payload(&payload).unwrap(), call);
//!
//! // The repository's id is known before the transaction lands.
//! let chain = ChainId::new("devnet").unwrap();
//! let id = repo_id(&chain, &Address([7; 32]), "digits");
//! assert_ne!(id, repo_id(&chain, &Address([8; 32]), "digits"));
//! ```

mod call;
mod error;
mod events;
mod query;
mod record;
mod registry;

pub use call::{
    Lineage, MAX_DATASETS, MAX_DESCRIPTION_BYTES, MAX_LICENCE_BYTES, MAX_MAINTAINERS, MAX_METRICS,
    MAX_NAME_BYTES, MAX_STORED_DATASETS, METRIC_SCALE, Metric, Publish, RegistryCall,
};
pub use counterweight_state::ModuleCall;
pub use error::{RegistryError, codes};
pub use events::RegistryEvent;
pub use record::{EdgeKind, LineageEdge, LineageGraph, LineageNode, Repo, Version};
pub use registry::{
    MAX_LINEAGE_DEPTH, MAX_LIST, REGISTRY_MODULE, Registry, lineage, repo, repo_count, repo_id,
    repos, version, version_id, versions,
};
