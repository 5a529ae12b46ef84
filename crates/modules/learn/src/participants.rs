//! Who takes part in a round: eligibility, the participant check, the running-round guards.

use std::collections::BTreeMap;

use counterweight_state::CallError;
use counterweight_storage_api::{Result as StorageResult, StateReader, StorageError};
use counterweight_types::{Address, Hash};

use crate::call::TaskSpec;
use crate::error::LearnError;
use crate::status::TaskStatus;
use crate::store::{self, Participant, RoundState, TaskState};

/// Participants a round would have now: owners of the task's datasets that still belong to
/// the coop, whose owners are members, with training consent and not revoked.
pub(crate) fn eligible(
    state: &dyn StateReader,
    spec: &TaskSpec,
) -> StorageResult<Vec<Participant>> {
    let mut by_owner: BTreeMap<[u8; 32], Participant> = BTreeMap::new();
    let mut membership: BTreeMap<[u8; 32], bool> = BTreeMap::new();
    for id in &spec.datasets {
        let Some(ds) = counterweight_coop::dataset(state, id)? else {
            continue;
        };
        if ds.coop != spec.coop || ds.revoked || !ds.consent.training {
            continue;
        }
        let member = match membership.get(&ds.owner.0) {
            Some(&m) => m,
            None => {
                let m = counterweight_coop::is_member(state, &spec.coop, &ds.owner)?;
                membership.insert(ds.owner.0, m);
                m
            }
        };
        if !member {
            continue;
        }
        let p = by_owner.entry(ds.owner.0).or_insert_with(|| Participant {
            address: ds.owner.0,
            records: 0,
            datasets: Vec::new(),
        });
        p.records = p.records.saturating_add(ds.records);
        p.datasets.push(id.0);
    }
    Ok(by_owner.into_values().collect())
}

/// The most examples `p` may declare in a round of `spec`: its datasets' committed records
/// (fixed at commit time, so the coop's vote approving the task approves them), capped by
/// the task's `max_examples_per_client`.
pub(crate) fn allowance(spec: &TaskSpec, p: &Participant) -> u64 {
    p.records.min(u64::from(spec.max_examples_per_client))
}

/// The fewest participants a round may open with (secure aggregation needs two).
pub(crate) fn min_participants(spec: &TaskSpec) -> usize {
    let min = spec.min_clients as usize;
    if spec.secagg.is_some() {
        min.max(2)
    } else {
        min
    }
}

/// Checks that `sender` may send a message in `rs`, returning its client index.
pub(crate) fn check_participant(
    state: &dyn StateReader,
    spec: &TaskSpec,
    rs: &RoundState,
    sender: &Address,
) -> Result<u32, CallError> {
    if !counterweight_coop::is_member(state, &spec.coop, sender)? {
        return Err(LearnError::NotMember {
            who: *sender,
            coop: spec.coop,
        }
        .into());
    }
    let now = eligible(state, spec)?;
    let still = now.iter().find(|p| p.address == sender.0);
    match rs.index_of(&sender.0) {
        Some(idx) => {
            let was = &rs.participants[idx as usize].datasets;
            if still.is_none_or(|p| !p.datasets.iter().any(|d| was.contains(d))) {
                return Err(LearnError::ConsentRevoked { who: *sender }.into());
            }
            Ok(idx)
        }
        None => {
            // Owns a dataset of the task that is revoked or lacks consent?
            for id in &spec.datasets {
                if let Some(ds) = counterweight_coop::dataset(state, id)?
                    && ds.owner == *sender
                    && (ds.revoked || !ds.consent.training)
                {
                    return Err(LearnError::DatasetConsentRevoked {
                        who: *sender,
                        dataset: *id,
                    }
                    .into());
                }
            }
            Err(LearnError::NotParticipant {
                who: *sender,
                round: rs.round,
            }
            .into())
        }
    }
}

/// Loads a running task and its open round.
pub(crate) fn load_running(
    state: &dyn StateReader,
    task: &Hash,
) -> Result<(TaskSpec, TaskState, RoundState), CallError> {
    let (spec, st) = store::task(state, task)?.ok_or(LearnError::UnknownTask { task: *task })?;
    match st.status {
        TaskStatus::Proposed => return Err(LearnError::TaskNotRunning { task: *task }.into()),
        TaskStatus::Running => {}
        _ => return Err(LearnError::TaskFinished { task: *task }.into()),
    }
    let rs = store::get_borsh::<RoundState>(state, &store::round_key(task), "round")?
        .ok_or(StorageError::Corrupt { what: "round" })?;
    Ok((spec, st, rs))
}

/// Checks that a message names the open round.
pub(crate) fn check_round(rs: &RoundState, round: u32) -> Result<(), LearnError> {
    if round < rs.round {
        return Err(LearnError::RoundClosed {
            round,
            open: rs.round,
        });
    }
    if round > rs.round {
        return Err(LearnError::WrongRound {
            round,
            open: rs.round,
        });
    }
    Ok(())
}
