//! The coop's queries: typed views, `null` for what does not exist.

use counterweight_state::{
    CallError,
    query::{BadQuery, answer, hash_arg, unknown_path},
};
use counterweight_storage_api::StateReader;
use counterweight_types::{Address, Hash};
use serde::{Deserialize, Serialize};

use crate::{
    Consent, CoopError, ProposalKind, Rules,
    records::{Coop, Dataset, Proposal, ProposalStatus},
    store::{coop, dataset, datasets, is_approved, members, proposal, proposals},
};

/// The most entries a list query (`datasets`, `proposals`) returns: the latest ones.
pub const MAX_QUERY_ITEMS: usize = 256;

/// The answer to `coop` (argument: the 32-byte coop id); `null` if there is none.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoopView {
    /// Its id.
    pub id: Hash,
    /// Its display name.
    pub name: String,
    /// The account that created it.
    pub founder: Address,
    /// Its current rules.
    pub rules: Rules,
    /// The number of members.
    pub members: u32,
    /// Its treasury account.
    pub treasury: Address,
}

impl From<Coop> for CoopView {
    fn from(c: Coop) -> Self {
        Self {
            id: c.id,
            name: c.name,
            founder: c.founder,
            rules: c.rules,
            members: c.members,
            treasury: c.treasury,
        }
    }
}

/// A dataset, as `dataset` (argument: the 32-byte dataset id; `null` if there is none) and
/// `datasets` (argument: the coop id; the latest [`MAX_QUERY_ITEMS`]) answer it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetView {
    /// Its id.
    pub id: Hash,
    /// The cooperative it was committed to.
    pub coop: Hash,
    /// The member who committed it.
    pub owner: Address,
    /// The Merkle root of its records.
    pub root: Hash,
    /// Its schema.
    pub schema: String,
    /// The number of records.
    pub records: u64,
    /// The current consent terms (all false once revoked).
    pub consent: Consent,
    /// Whether consent was revoked.
    pub revoked: bool,
    /// The height of the block that committed it.
    pub committed_height: u64,
}

impl From<Dataset> for DatasetView {
    fn from(d: Dataset) -> Self {
        Self {
            id: d.id,
            coop: d.coop,
            owner: d.owner,
            root: d.root,
            schema: d.schema,
            records: d.records,
            consent: d.consent,
            revoked: d.revoked,
            committed_height: d.committed_height,
        }
    }
}

/// A proposal, as `proposal` (argument: the 32-byte proposal id; `null` if there is none)
/// and `proposals` (argument: the coop id; the latest [`MAX_QUERY_ITEMS`]) answer it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalView {
    /// Its id.
    pub id: Hash,
    /// The cooperative.
    pub coop: Hash,
    /// Who opened it.
    pub proposer: Address,
    /// What it does if it passes.
    pub kind: ProposalKind,
    /// Block time at creation.
    pub created_ms: u64,
    /// Block time from which no more votes are accepted.
    pub deadline_ms: u64,
    /// Block height at creation.
    pub created_height: u64,
    /// Membership epoch at creation.
    pub epoch: u64,
    /// Number of members at creation.
    pub electorate: u32,
    /// Quorum (permille of the electorate).
    pub quorum_permille: u16,
    /// Approval (permille of the votes cast).
    pub approval_permille: u16,
    /// Yes votes.
    pub yes: u32,
    /// No votes.
    pub no: u32,
    /// Its status.
    pub status: ProposalStatus,
}

impl From<Proposal> for ProposalView {
    fn from(p: Proposal) -> Self {
        Self {
            id: p.id,
            coop: p.coop,
            proposer: p.proposer,
            kind: p.kind,
            created_ms: p.created_ms,
            deadline_ms: p.deadline_ms,
            created_height: p.created_height,
            epoch: p.epoch,
            electorate: p.electorate,
            quorum_permille: p.quorum_permille,
            approval_permille: p.approval_permille,
            yes: p.yes,
            no: p.no,
            status: p.status,
        }
    }
}

const PATHS: &str = "coop, members, dataset, datasets, proposal, proposals or approved";

/// Keeps the last [`MAX_QUERY_ITEMS`] ids.
fn latest(mut ids: Vec<Hash>) -> Vec<Hash> {
    let skip = ids.len().saturating_sub(MAX_QUERY_ITEMS);
    ids.drain(..skip);
    ids
}

/// Reads the 64-byte argument of `approved`: the coop id, then the task id.
fn coop_and_task(data: &[u8]) -> Result<(Hash, Hash), BadQuery> {
    match data.split_at_checked(32) {
        Some((c, t)) if t.len() == 32 => Ok((Hash(hash_arg(c)?), Hash(hash_arg(t)?))),
        _ => Err(BadQuery::BadArgument {
            reason: "argument must be 64 bytes: coop id then task id".into(),
        }),
    }
}

pub(crate) fn answer_query(
    state: &dyn StateReader,
    path: &str,
    data: &[u8],
) -> Result<Vec<u8>, CallError> {
    let arg = || hash_arg(data).map(Hash).map_err(CoopError::from);
    match path {
        "coop" => answer(&coop(state, &arg()?)?.map(CoopView::from)),
        "members" => answer(&members(state, &arg()?)?),
        "dataset" => answer(&dataset(state, &arg()?)?.map(DatasetView::from)),
        "datasets" => {
            let mut out = Vec::new();
            for id in latest(datasets(state, &arg()?)?) {
                out.extend(dataset(state, &id)?.map(DatasetView::from));
            }
            answer(&out)
        }
        "proposal" => answer(&proposal(state, &arg()?)?.map(ProposalView::from)),
        "proposals" => {
            let mut out = Vec::new();
            for id in latest(proposals(state, &arg()?)?) {
                out.extend(proposal(state, &id)?.map(ProposalView::from));
            }
            answer(&out)
        }
        "approved" => {
            let (coop, task) = coop_and_task(data).map_err(CoopError::from)?;
            answer(&is_approved(state, &coop, &task)?)
        }
        other => Err(CoopError::from(unknown_path(other, PATHS)).into()),
    }
}
