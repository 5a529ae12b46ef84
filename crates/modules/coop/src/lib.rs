//! Run data cooperatives: members, dataset commitments with consent, proposals, votes and a treasury.
//!
//! [`CoopModule`] is module 3. A cooperative is founded with [`CoopCall::Create`] and its
//! [`Rules`]: quorum and approval shares, a voting period in block time, the share of task
//! revenue its treasury keeps, and how members are admitted ([`Admission::ByVote`] or
//! [`Admission::ByCredential`], checked with the identity module). Members commit datasets
//! — a Merkle root of the records they keep off-chain ([`dataset_root`]), the schema, the
//! record count and [`Consent`] terms — and may revoke consent, finally. Members open
//! proposals ([`ProposalKind`]: admit, remove, approve a training task, change the rules,
//! spend from the treasury), vote on them once each before the deadline, and anyone executes
//! a proposal once its deadline passed or its outcome can no longer change.
//!
//! Each cooperative has a keyless treasury account ([`treasury_address`]) in the bank;
//! [`CoopCall::Deposit`] funds it and passed spend proposals pay out of it.
//!
//! Other modules read the state through [`coop`], [`is_member`], [`members`], [`dataset`],
//! [`is_approved`], [`proposal`], [`datasets`] and [`proposals`]. Queries (`coop`,
//! `members`, `datasets`, `dataset`, `proposal`, `proposals` with a 32-byte id argument,
//! `approved` with coop id then task id) answer JSON views ([`CoopView`], [`DatasetView`],
//! [`ProposalView`]), `null` for what does not exist. Every state change emits a
//! [`CoopEvent`]; every refusal is a [`CoopError`] with its stable code in [`codes`].
//!
//! # Examples
//!
//! ```
//! use counterweight_coop::{Admission, COOP_MODULE, CoopCall, ModuleCall as _, Rules, dataset_root};
//! use counterweight_types::{Call, Hash};
//!
//! let create = CoopCall::Create {
//!     name: "valley farmers".into(),
//!     rules: Rules {
//!         quorum_permille: 500,
//!         approval_permille: 600,
//!         voting_period_ms: 86_400_000,
//!         revenue_share_permille: 200,
//!         admission: Admission::ByVote,
//!     },
//! };
//! let call = Call { module: COOP_MODULE, payload: create.to_payload() };
//! assert_eq!(CoopCall::from_payload(&call.payload).unwrap(), create);
//!
//! // Commit to two CSV rows: the root is what a CommitDataset call carries.
//! let root = dataset_root(&[b"2026-05-01,north,310", b"2026-05-01,south,295"]);
//! assert_ne!(root, dataset_root(&[b"2026-05-01,south,295", b"2026-05-01,north,310"]));
//! # let _: Hash = root;
//! ```

mod call;
mod credential;
mod datasets;
mod error;
mod events;
mod governance;
mod membership;
mod merkle;
mod module;
mod query;
mod records;
mod store;
mod treasury;

pub use call::{
    Admission, Consent, CoopCall, MAX_CREDENTIAL_BYTES, MAX_KIND_BYTES, MAX_NAME_BYTES,
    MAX_SCHEMA_BYTES, ProposalKind, ProposalType, Rules,
};
pub use counterweight_state::ModuleCall;
pub use error::{CoopError, codes};
pub use events::CoopEvent;
pub use governance::{MAX_VOTING_PERIOD_MS, validate_rules};
pub use merkle::dataset_root;
pub use module::CoopModule;
pub use query::{CoopView, DatasetView, MAX_QUERY_ITEMS, ProposalView};
pub use records::{Coop, Dataset, Proposal, ProposalStatus};
pub use store::{
    COOP_MODULE, MAX_MEMBERS, TREASURY_TAG, coop, coop_id, dataset, dataset_id, datasets,
    is_approved, is_member, members, proposal, proposal_id, proposals, treasury_address,
};
