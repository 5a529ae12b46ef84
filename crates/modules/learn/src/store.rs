//! Stored records of the learn module, their keys and (de)serialisation.
//!
//! Records are borsh-encoded (canonical); parameter vectors are raw little-endian integers.

use std::collections::{BTreeMap, BTreeSet};

use borsh::{BorshDeserialize, BorshSerialize};
use bytes::Bytes;
use commonware_codec::{Copying, Decode as _, Encode as _};
use counterweight_state::{StateAccess, module_key};
use counterweight_storage_api::{Result as StorageResult, StateReader, StorageError};
use counterweight_types::Hash;

use crate::call::{LearnCall, TaskSpec};
use crate::fixed;
use crate::learn::LEARN_MODULE;
use crate::status::{RoundPhase, TaskStatus};

/// The mutable state of a task.
#[derive(Clone, Debug, BorshSerialize, BorshDeserialize)]
pub(crate) struct TaskState {
    pub(crate) creator: [u8; 32],
    pub(crate) status: TaskStatus,
    pub(crate) round: u32,
    pub(crate) rounds_done: u32,
    pub(crate) global_hash: [u8; 32],
    pub(crate) arch_hash: [u8; 32],
    pub(crate) param_count: u32,
    pub(crate) opened_height: u64,
    pub(crate) opened_ms: u64,
    pub(crate) finished_reason: String,
    pub(crate) used_datasets: BTreeSet<[u8; 32]>,
}

/// One participant of a round.
#[derive(Clone, Debug, BorshSerialize, BorshDeserialize)]
pub(crate) struct Participant {
    pub(crate) address: [u8; 32],
    pub(crate) records: u64,
    pub(crate) datasets: Vec<[u8; 32]>,
}

/// The open round of a running task.
#[derive(Clone, Debug, Default, BorshSerialize, BorshDeserialize)]
pub(crate) struct RoundState {
    pub(crate) round: u32,
    pub(crate) attempt: u32,
    pub(crate) phase: RoundPhase,
    pub(crate) opened_ms: u64,
    pub(crate) deadline_ms: u64,
    pub(crate) participants: Vec<Participant>,
    /// Plain rounds: client index → examples declared.
    pub(crate) submitted: BTreeMap<u32, u32>,
    /// Secure aggregation: client index → (encryption key, mask key).
    pub(crate) keys: BTreeMap<u32, ([u8; 32], [u8; 32])>,
    pub(crate) shared: BTreeSet<u32>,
    pub(crate) masked: BTreeSet<u32>,
    pub(crate) survivors: BTreeSet<u32>,
    pub(crate) dropped: BTreeSet<u32>,
    pub(crate) unmasked: BTreeSet<u32>,
}

impl RoundState {
    pub(crate) fn index_of(&self, who: &[u8; 32]) -> Option<u32> {
        self.participants
            .iter()
            .position(|p| &p.address == who)
            .and_then(|i| u32::try_from(i).ok())
    }

    /// The secure-aggregation round id mixed into every derived key.
    pub(crate) fn secagg_round_id(&self) -> u64 {
        (u64::from(self.round) << 32) | u64::from(self.attempt)
    }
}

/// One aggregated round, kept for the history query.
#[derive(Clone, Debug, BorshSerialize, BorshDeserialize)]
pub(crate) struct HistoryEntry {
    pub(crate) round: u32,
    pub(crate) weights_hash: [u8; 32],
    pub(crate) participants: Vec<[u8; 32]>,
    pub(crate) contributors: Vec<[u8; 32]>,
    pub(crate) dropped: Vec<[u8; 32]>,
    pub(crate) examples: u64,
    pub(crate) height: u64,
    pub(crate) timestamp_ms: u64,
}

/// The settled rewards of a finished task.
#[derive(Clone, Debug, BorshSerialize, BorshDeserialize)]
pub(crate) struct Settlement {
    pub(crate) pool: u64,
    pub(crate) treasury: [u8; 32],
    pub(crate) treasury_amount: u64,
    pub(crate) payouts: Vec<([u8; 32], u64, u64)>,
    /// The unearned part of the pool, returned to the creator.
    pub(crate) refunded: u64,
}

/// One revealed share in an `UnmaskShares` message: (owner, self-mask?, x, y).
pub(crate) type StoredShare = (u32, bool, u64, [u64; 8]);

fn key(tag: &[u8], task: &Hash, rest: &[&[u8]]) -> Vec<u8> {
    let mut parts: Vec<&[u8]> = vec![tag, &task.0];
    parts.extend_from_slice(rest);
    module_key(LEARN_MODULE, &parts)
}

pub(crate) fn spec_key(task: &Hash) -> Vec<u8> {
    key(b"spec/", task, &[])
}
pub(crate) fn state_key(task: &Hash) -> Vec<u8> {
    key(b"task/", task, &[])
}
pub(crate) fn round_key(task: &Hash) -> Vec<u8> {
    key(b"round/", task, &[])
}
pub(crate) fn global_key(task: &Hash) -> Vec<u8> {
    key(b"glob/", task, &[])
}
pub(crate) fn velocity_key(task: &Hash) -> Vec<u8> {
    key(b"vel/", task, &[])
}
pub(crate) fn points_key(task: &Hash) -> Vec<u8> {
    key(b"pts/", task, &[])
}
pub(crate) fn settlement_key(task: &Hash) -> Vec<u8> {
    key(b"paid/", task, &[])
}
pub(crate) fn history_key(task: &Hash, round: u32) -> Vec<u8> {
    key(b"hist/", task, &[&round.to_be_bytes()])
}
pub(crate) fn update_key(task: &Hash, client: u32) -> Vec<u8> {
    key(b"upd/", task, &[&client.to_be_bytes()])
}
pub(crate) fn share_key(task: &Hash, from: u32, to: u32) -> Vec<u8> {
    key(b"sash/", task, &[&from.to_be_bytes(), &to.to_be_bytes()])
}
pub(crate) fn masked_key(task: &Hash, client: u32) -> Vec<u8> {
    key(b"samk/", task, &[&client.to_be_bytes()])
}
pub(crate) fn unmask_key(task: &Hash, client: u32) -> Vec<u8> {
    key(b"saum/", task, &[&client.to_be_bytes()])
}

pub(crate) fn get_borsh<T: BorshDeserialize>(
    state: &dyn StateReader,
    key: &[u8],
    what: &'static str,
) -> StorageResult<Option<T>> {
    match state.get(key)? {
        None => Ok(None),
        Some(v) => T::try_from_slice(&v)
            .map(Some)
            .map_err(|_| StorageError::Corrupt { what }),
    }
}

pub(crate) fn put_borsh<T: BorshSerialize>(state: &mut dyn StateAccess, key: Vec<u8>, value: &T) {
    // Serialising into a Vec cannot fail.
    let bytes = borsh::to_vec(value).unwrap_or_default();
    state.set(key, bytes);
}

/// Reads a task's spec (without its initial parameters) and state.
pub(crate) fn task(
    state: &dyn StateReader,
    id: &Hash,
) -> StorageResult<Option<(TaskSpec, TaskState)>> {
    let Some(raw) = state.get(&spec_key(id))? else {
        return Ok(None);
    };
    let spec = match LearnCall::decode_cfg(Copying(raw.as_slice()), &()) {
        Ok(LearnCall::OpenTask { spec }) => *spec,
        _ => return Err(StorageError::Corrupt { what: "task spec" }),
    };
    let st = get_borsh::<TaskState>(state, &state_key(id), "task state")?
        .ok_or(StorageError::Corrupt { what: "task state" })?;
    Ok(Some((spec, st)))
}

pub(crate) fn put_spec(state: &mut dyn StateAccess, id: &Hash, spec: &TaskSpec) {
    let mut stored = spec.clone();
    stored.initial_params = Bytes::new();
    let call = LearnCall::OpenTask {
        spec: Box::new(stored),
    };
    state.set(spec_key(id), call.encode().to_vec());
}

pub(crate) fn global(state: &dyn StateReader, id: &Hash) -> StorageResult<Option<Vec<i32>>> {
    match state.get(&global_key(id))? {
        None => Ok(None),
        Some(v) => fixed::params_from_le(&v)
            .map(Some)
            .ok_or(StorageError::Corrupt {
                what: "global model",
            }),
    }
}

pub(crate) fn i32s(
    state: &dyn StateReader,
    key: &[u8],
    what: &'static str,
) -> StorageResult<Option<Vec<i32>>> {
    match state.get(key)? {
        None => Ok(None),
        Some(v) => fixed::params_from_le(&v)
            .map(Some)
            .ok_or(StorageError::Corrupt { what }),
    }
}

pub(crate) fn velocity(state: &dyn StateReader, id: &Hash) -> StorageResult<Vec<i64>> {
    match state.get(&velocity_key(id))? {
        None => Ok(Vec::new()),
        Some(v) if v.len() % 8 == 0 => Ok(v
            .chunks_exact(8)
            .map(|c| {
                let mut b = [0u8; 8];
                b.copy_from_slice(c);
                i64::from_le_bytes(b)
            })
            .collect()),
        Some(_) => Err(StorageError::Corrupt { what: "velocity" }),
    }
}

pub(crate) fn put_velocity(state: &mut dyn StateAccess, id: &Hash, v: &[i64]) {
    state.set(
        velocity_key(id),
        v.iter().flat_map(|x| x.to_le_bytes()).collect(),
    );
}

pub(crate) fn points(state: &dyn StateReader, id: &Hash) -> StorageResult<BTreeMap<[u8; 32], u64>> {
    Ok(get_borsh(state, &points_key(id), "points")?.unwrap_or_default())
}
