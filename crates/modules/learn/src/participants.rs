//! Who takes part in a round: eligibility, the participant check, the running-round guards.

use std::collections::BTreeMap;

use counterweight_state::CallError;
use counterweight_storage_api::{Result as StorageResult, StateReader, StorageError};
use counterweight_types::{Address, Hash};

use crate::call::TaskSpec;
use crate::error::codes;
use crate::learn::{Learn, fail};
use crate::store::{self, Participant, RoundState, STATUS_FINISHED, STATUS_PROPOSED, TaskState};

impl Learn {
    /// Participants a round would have now: owners of the task's datasets that still belong
    /// to the coop, whose owners are members, with training consent and not revoked.
    pub(crate) fn eligible(
        &self,
        state: &dyn StateReader,
        spec: &TaskSpec,
    ) -> StorageResult<Vec<Participant>> {
        let mut by_owner: BTreeMap<[u8; 32], Participant> = BTreeMap::new();
        let mut membership: BTreeMap<[u8; 32], bool> = BTreeMap::new();
        for id in &spec.datasets {
            let Some(ds) = self.coop.dataset(state, id)? else {
                continue;
            };
            if ds.coop != spec.coop || ds.revoked || !ds.training_consent {
                continue;
            }
            let member = match membership.get(&ds.owner.0) {
                Some(&m) => m,
                None => {
                    let m = self.coop.is_member(state, &spec.coop, &ds.owner)?;
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
        &self,
        state: &dyn StateReader,
        spec: &TaskSpec,
        rs: &RoundState,
        sender: &Address,
    ) -> Result<u32, CallError> {
        let member = self.coop.is_member(state, &spec.coop, sender)?;
        if !member {
            return Err(fail(
                codes::NOT_MEMBER,
                format!("{sender} is not a member of coop {}", spec.coop),
            ));
        }
        let now = self.eligible(state, spec)?;
        let still = now.iter().find(|p| p.address == sender.0);
        match rs.index_of(&sender.0) {
            Some(idx) => {
                let was = &rs.participants[idx as usize].datasets;
                if still.is_none_or(|p| !p.datasets.iter().any(|d| was.contains(d))) {
                    return Err(fail(
                        codes::CONSENT_REVOKED,
                        format!(
                            "training consent of {sender}'s datasets was revoked; its data is \
                             excluded from this and later rounds"
                        ),
                    ));
                }
                Ok(idx)
            }
            None => {
                // Owns a dataset of the task that is revoked or lacks consent?
                for id in &spec.datasets {
                    if let Some(ds) = self.coop.dataset(state, id)?
                        && ds.owner == *sender
                        && (ds.revoked || !ds.training_consent)
                    {
                        return Err(fail(
                            codes::CONSENT_REVOKED,
                            format!("training consent of {sender}'s dataset {id} was revoked"),
                        ));
                    }
                }
                Err(fail(
                    codes::NOT_PARTICIPANT,
                    format!(
                        "{sender} has no approved dataset in round {} of this task",
                        rs.round
                    ),
                ))
            }
        }
    }

    pub(crate) fn load_running(
        &self,
        state: &dyn StateReader,
        task: &Hash,
    ) -> Result<(TaskSpec, TaskState, RoundState), CallError> {
        let (spec, st) = store::task(state, task)?
            .ok_or_else(|| fail(codes::UNKNOWN_TASK, format!("no task {task}")))?;
        match st.status {
            STATUS_PROPOSED => {
                return Err(fail(
                    codes::TASK_NOT_RUNNING,
                    format!(
                        "task {task} has not started: the coop must approve it and someone must \
                         send Start"
                    ),
                ));
            }
            STATUS_FINISHED => {
                return Err(fail(
                    codes::TASK_FINISHED,
                    format!("task {task} has finished"),
                ));
            }
            _ => {}
        }
        let rs = store::get_borsh::<RoundState>(state, &store::round_key(task), "round")?
            .ok_or(StorageError::Corrupt { what: "round" })?;
        Ok((spec, st, rs))
    }

    pub(crate) fn check_round(rs: &RoundState, round: u32) -> Result<(), CallError> {
        if round < rs.round {
            return Err(fail(
                codes::ROUND_CLOSED,
                format!("round {round} is closed; round {} is open", rs.round),
            ));
        }
        if round > rs.round {
            return Err(fail(
                codes::WRONG_ROUND,
                format!("round {round} is not open; round {} is open", rs.round),
            ));
        }
        Ok(())
    }
}
