//! State layout, derived ids and the read API other modules and the CLI use.

use commonware_codec::{Copying, Decode, Encode as _, Read};
use counterweight_state::{StateAccess, module_key};
use counterweight_storage_api::{Result as StorageResult, StateReader, StorageError};
use counterweight_types::{Address, ChainId, Hash, ModuleId, codec::vec_cfg, domain};

use crate::records::{Coop, Dataset, Proposal};

/// This module's id.
pub const COOP_MODULE: ModuleId = ModuleId(3);

/// Domain tag of treasury addresses (an address nobody holds a key for).
pub const TREASURY_TAG: &[u8] = b"counterweight/v1/coop-treasury";

/// The most members a cooperative can have (its sorted member list is one state value).
pub const MAX_MEMBERS: u32 = 1024;

/// Returns the id of the cooperative created by transaction `tx_hash` on `chain_id`.
pub fn coop_id(chain_id: &ChainId, tx_hash: &Hash) -> Hash {
    Hash::digest(domain::COOP_ID, &[chain_id.as_str().as_bytes(), &tx_hash.0])
}

/// Returns the id of the dataset with Merkle root `root` committed by `owner` to `coop`.
pub fn dataset_id(chain_id: &ChainId, coop: &Hash, root: &Hash, owner: &Address) -> Hash {
    Hash::digest(
        domain::DATASET_ID,
        &[chain_id.as_str().as_bytes(), &coop.0, &root.0, &owner.0],
    )
}

/// Returns the id of the proposal opened by transaction `tx_hash` on `chain_id`.
pub fn proposal_id(chain_id: &ChainId, tx_hash: &Hash) -> Hash {
    Hash::digest(
        domain::PROPOSAL_ID,
        &[chain_id.as_str().as_bytes(), &tx_hash.0],
    )
}

/// Returns the treasury address of cooperative `coop`.
pub fn treasury_address(coop: &Hash) -> Address {
    Address(Hash::digest(TREASURY_TAG, &[&coop.0]).0)
}

pub(crate) fn key(parts: &[&[u8]]) -> Vec<u8> {
    module_key(COOP_MODULE, parts)
}

pub(crate) fn coop_key(id: &Hash) -> Vec<u8> {
    key(&[b"coop/", &id.0])
}

pub(crate) fn epoch_key(coop: &Hash) -> Vec<u8> {
    key(&[b"epoch/", &coop.0])
}

pub(crate) fn member_key(coop: &Hash, who: &Address) -> Vec<u8> {
    key(&[b"member/", &coop.0, &who.0])
}

pub(crate) fn gate_key(coop: &Hash, who: &Address) -> Vec<u8> {
    key(&[b"gate/", &coop.0, &who.0])
}

/// The credential a membership was admitted by: it lasts while the credential is neither
/// revoked nor expired.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Gate {
    /// The credential's issuer (its DID's address).
    pub(crate) issuer: Address,
    /// The credential's index in the issuer's status list.
    pub(crate) status_index: u64,
    /// The credential's `validUntil` (`u64::MAX` for none).
    pub(crate) valid_until_ms: u64,
}

const GATE_BYTES: usize = 32 + 8 + 8;

pub(crate) fn write_gate(state: &mut dyn StateAccess, coop: &Hash, who: &Address, gate: &Gate) {
    let mut v = Vec::with_capacity(GATE_BYTES);
    v.extend_from_slice(&gate.issuer.0);
    v.extend_from_slice(&gate.status_index.to_be_bytes());
    v.extend_from_slice(&gate.valid_until_ms.to_be_bytes());
    state.set(gate_key(coop, who), v);
}

pub(crate) fn gate(
    state: &dyn StateReader,
    coop: &Hash,
    who: &Address,
) -> StorageResult<Option<Gate>> {
    let Some(v) = state.get(&gate_key(coop, who))? else {
        return Ok(None);
    };
    let corrupt = || StorageError::Corrupt {
        what: "membership gate",
    };
    if v.len() != GATE_BYTES {
        return Err(corrupt());
    }
    let (issuer, rest) = v.split_at(32);
    let (index, until) = rest.split_at(8);
    Ok(Some(Gate {
        issuer: Address::from_slice(issuer).map_err(|_| corrupt())?,
        status_index: u64::from_be_bytes(index.try_into().map_err(|_| corrupt())?),
        valid_until_ms: u64::from_be_bytes(until.try_into().map_err(|_| corrupt())?),
    }))
}

/// Whether the credential that admitted `who` (if one did) still holds: not revoked by its
/// issuer and not past its `validUntil` at the block time. Two reads, whatever the coop's
/// size: memberships lapse where they are used, not by a sweep.
pub(crate) fn gate_holds(
    state: &dyn StateReader,
    coop: &Hash,
    who: &Address,
) -> StorageResult<bool> {
    let Some(g) = gate(state, coop, who)? else {
        return Ok(true);
    };
    if counterweight_identity::is_revoked(state, &g.issuer, g.status_index)? {
        return Ok(false);
    }
    Ok(counterweight_state::block_time(state)?.is_none_or(|now| now < g.valid_until_ms))
}

pub(crate) fn members_key(coop: &Hash) -> Vec<u8> {
    key(&[b"members/", &coop.0])
}

pub(crate) fn dataset_key(id: &Hash) -> Vec<u8> {
    key(&[b"dataset/", &id.0])
}

pub(crate) fn dataset_count_key(coop: &Hash) -> Vec<u8> {
    key(&[b"dscount/", &coop.0])
}

pub(crate) fn dataset_index_key(coop: &Hash, n: u64) -> Vec<u8> {
    key(&[b"dsidx/", &coop.0, &n.to_be_bytes()])
}

pub(crate) fn proposal_key(id: &Hash) -> Vec<u8> {
    key(&[b"proposal/", &id.0])
}

pub(crate) fn proposal_count_key(coop: &Hash) -> Vec<u8> {
    key(&[b"pcount/", &coop.0])
}

pub(crate) fn proposal_index_key(coop: &Hash, n: u64) -> Vec<u8> {
    key(&[b"pidx/", &coop.0, &n.to_be_bytes()])
}

pub(crate) fn vote_key(proposal: &Hash, who: &Address) -> Vec<u8> {
    key(&[b"vote/", &proposal.0, &who.0])
}

pub(crate) fn approved_key(coop: &Hash, task: &Hash) -> Vec<u8> {
    key(&[b"approved/", &coop.0, &task.0])
}

pub(crate) fn pending_key(coop: &Hash, who: &Address) -> Vec<u8> {
    key(&[b"pending/", &coop.0, &who.0])
}

pub(crate) fn read_record<T: Read<Cfg = ()>>(
    state: &dyn StateReader,
    key: &[u8],
    what: &'static str,
) -> StorageResult<Option<T>> {
    match state.get(key)? {
        None => Ok(None),
        Some(v) => T::decode_cfg(Copying(v.as_slice()), &())
            .map(Some)
            .map_err(|_| StorageError::Corrupt { what }),
    }
}

pub(crate) fn read_u64(
    state: &dyn StateReader,
    key: &[u8],
    what: &'static str,
) -> StorageResult<Option<u64>> {
    match state.get(key)? {
        None => Ok(None),
        Some(v) => <[u8; 8]>::try_from(v.as_slice())
            .map(|b| Some(u64::from_be_bytes(b)))
            .map_err(|_| StorageError::Corrupt { what }),
    }
}

pub(crate) fn read_hash(
    state: &dyn StateReader,
    key: &[u8],
    what: &'static str,
) -> StorageResult<Option<Hash>> {
    match state.get(key)? {
        None => Ok(None),
        Some(v) => <[u8; 32]>::try_from(v.as_slice())
            .map(|b| Some(Hash(b)))
            .map_err(|_| StorageError::Corrupt { what }),
    }
}

pub(crate) fn write_coop(state: &mut dyn StateAccess, coop: &Coop) {
    state.set(coop_key(&coop.id), coop.encode().to_vec());
}

pub(crate) fn write_dataset(state: &mut dyn StateAccess, dataset: &Dataset) {
    state.set(dataset_key(&dataset.id), dataset.encode().to_vec());
}

pub(crate) fn write_proposal(state: &mut dyn StateAccess, proposal: &Proposal) {
    state.set(proposal_key(&proposal.id), proposal.encode().to_vec());
}

pub(crate) fn write_members(state: &mut dyn StateAccess, coop: &Hash, members: &[Address]) {
    state.set(members_key(coop), members.encode().to_vec());
}

/// Returns the membership epoch at which `who` joined `coop`, if a member.
pub(crate) fn member_epoch(
    state: &dyn StateReader,
    coop: &Hash,
    who: &Address,
) -> StorageResult<Option<u64>> {
    read_u64(state, &member_key(coop, who), "member epoch")
}

/// Returns the proposal with this id.
///
/// # Errors
/// Fatal storage errors, or a corrupt stored proposal.
pub fn proposal(state: &dyn StateReader, id: &Hash) -> StorageResult<Option<Proposal>> {
    read_record(state, &proposal_key(id), "proposal")
}

/// Returns the cooperative with this id.
///
/// # Errors
/// Fatal storage errors, or a corrupt stored cooperative.
pub fn coop(state: &dyn StateReader, id: &Hash) -> StorageResult<Option<Coop>> {
    read_record(state, &coop_key(id), "coop")
}

/// Returns whether `who` is currently a member of `coop` (false for an unknown coop): it was
/// admitted, has not left or been removed, and the credential it joined with (if any) is
/// neither revoked nor expired at the block time.
///
/// # Errors
/// Fatal storage errors.
pub fn is_member(state: &dyn StateReader, coop: &Hash, who: &Address) -> StorageResult<bool> {
    Ok(state.get(&member_key(coop, who))?.is_some() && gate_holds(state, coop, who)?)
}

/// Returns the members of `coop`, sorted by address (empty for an unknown coop).
///
/// # Errors
/// Fatal storage errors, or a corrupt stored member list.
pub fn members(state: &dyn StateReader, coop: &Hash) -> StorageResult<Vec<Address>> {
    match state.get(&members_key(coop))? {
        None => Ok(Vec::new()),
        Some(v) => {
            let max = usize::try_from(MAX_MEMBERS).unwrap_or(usize::MAX);
            Vec::<Address>::decode_cfg(Copying(v.as_slice()), &vec_cfg(max)).map_err(|_| {
                StorageError::Corrupt {
                    what: "member list",
                }
            })
        }
    }
}

/// Returns the dataset with this id.
///
/// # Errors
/// Fatal storage errors, or a corrupt stored dataset.
pub fn dataset(state: &dyn StateReader, id: &Hash) -> StorageResult<Option<Dataset>> {
    read_record(state, &dataset_key(id), "dataset")
}

/// Returns the ids of the datasets committed to `coop`, in commit order.
///
/// # Errors
/// Fatal storage errors, or a corrupt stored index.
pub fn datasets(state: &dyn StateReader, coop: &Hash) -> StorageResult<Vec<Hash>> {
    list(state, &dataset_count_key(coop), |n| {
        dataset_index_key(coop, n)
    })
}

/// Returns the ids of the proposals opened in `coop`, in creation order.
///
/// # Errors
/// Fatal storage errors, or a corrupt stored index.
pub fn proposals(state: &dyn StateReader, coop: &Hash) -> StorageResult<Vec<Hash>> {
    list(state, &proposal_count_key(coop), |n| {
        proposal_index_key(coop, n)
    })
}

fn list(
    state: &dyn StateReader,
    count_key: &[u8],
    index_key: impl Fn(u64) -> Vec<u8>,
) -> StorageResult<Vec<Hash>> {
    let count = read_u64(state, count_key, "index count")?.unwrap_or(0);
    let mut out = Vec::new();
    for n in 0..count {
        let id = read_hash(state, &index_key(n), "index entry")?.ok_or(StorageError::Corrupt {
            what: "index entry",
        })?;
        out.push(id);
    }
    Ok(out)
}

/// Appends `id` to the index under `count_key`.
pub(crate) fn push_index(
    state: &mut dyn StateAccess,
    count_key: Vec<u8>,
    index_key: impl Fn(u64) -> Vec<u8>,
    id: &Hash,
) -> StorageResult<()> {
    let count = read_u64(state, &count_key, "index count")?.unwrap_or(0);
    state.set(index_key(count), id.0.to_vec());
    state.set(count_key, (count + 1).to_be_bytes().to_vec());
    Ok(())
}

/// Returns whether an [`ApproveTask`](crate::ProposalKind::ApproveTask) proposal for `task`
/// passed in `coop`.
///
/// # Errors
/// Fatal storage errors.
pub fn is_approved(state: &dyn StateReader, coop: &Hash, task: &Hash) -> StorageResult<bool> {
    Ok(state.get(&approved_key(coop, task))?.is_some())
}
