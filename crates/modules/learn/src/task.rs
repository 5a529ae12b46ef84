//! Task lifecycle: open, start, rounds opening, failing and completing, finish.

use std::collections::BTreeSet;

use counterweight_state::{CallError, StateAccess, TxContext};
use counterweight_storage_api::{Result as StorageResult, StateReader};
use counterweight_types::{Address, Hash, domain};

use crate::aggregate;
use crate::arch::decode_architecture;
use crate::call::{MAX_PARAMS, MAX_ROUNDS, TaskSpec};
use crate::error::codes;
use crate::fixed::{self};
use crate::learn::{Learn, attrs, fail};
use crate::store::{
    self, HistoryEntry, PHASE_COLLECT, PHASE_KEYS, RoundState, STATUS_FINISHED, STATUS_PROPOSED,
    STATUS_RUNNING, TaskState,
};

/// Domain tag of a task's keyless escrow account.
pub const TASK_ESCROW_ACCOUNT: &[u8] = b"counterweight/v1/learn-task-escrow";

/// Returns the id of the task opened by transaction `tx_hash` on chain `chain_id`.
pub fn task_id(chain_id: &str, tx_hash: &Hash) -> Hash {
    Hash::digest(domain::TASK_ID, &[chain_id.as_bytes(), &tx_hash.0])
}

/// Returns the keyless account holding task `task`'s reward pool until it is paid out.
pub fn task_escrow_account(task: &Hash) -> Address {
    Address(Hash::digest(TASK_ESCROW_ACCOUNT, &[&task.0]).0)
}

/// A finished task's model, as the registry records it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FinishedModel {
    /// The task.
    pub task: Hash,
    /// Its cooperative.
    pub coop: Hash,
    /// Datasets whose owners contributed to at least one aggregated round.
    pub datasets: Vec<Hash>,
    /// Hash of the final Q16.16 parameters (see [`crate::weights_hash`]).
    pub weights_hash: Hash,
    /// Hash of the architecture's canonical encoding (see [`crate::arch_hash`]).
    pub arch_hash: Hash,
    /// Rounds aggregated.
    pub rounds: u32,
}

/// Returns the model of a finished task (`None` if unknown, unfinished, or no round was
/// aggregated).
///
/// # Errors
/// Fatal storage errors.
pub fn finished_model(
    state: &dyn StateReader,
    task: &Hash,
) -> StorageResult<Option<FinishedModel>> {
    let Some((spec, st)) = store::task(state, task)? else {
        return Ok(None);
    };
    if st.status != STATUS_FINISHED || st.rounds_done == 0 {
        return Ok(None);
    }
    Ok(Some(FinishedModel {
        task: *task,
        coop: spec.coop,
        datasets: st.used_datasets.iter().map(|d| Hash(*d)).collect(),
        weights_hash: Hash(st.global_hash),
        arch_hash: Hash(st.arch_hash),
        rounds: st.rounds_done,
    }))
}

/// Returns a task's current global parameters (Q16.16), if the task exists.
///
/// # Errors
/// Fatal storage errors.
pub fn global_params(state: &dyn StateReader, task: &Hash) -> StorageResult<Option<Vec<i32>>> {
    store::global(state, task)
}

impl Learn {
    pub(crate) fn open_task(
        &self,
        ctx: &mut TxContext<'_>,
        spec: TaskSpec,
    ) -> Result<(), CallError> {
        let sender = ctx.sender;
        if self.coop.coop(ctx, &spec.coop)?.is_none() {
            return Err(fail(codes::UNKNOWN_COOP, format!("no coop {}", spec.coop)));
        }
        if !self.coop.is_member(ctx, &spec.coop, &sender)? {
            return Err(fail(
                codes::NOT_MEMBER,
                format!("{sender} is not a member of coop {}", spec.coop),
            ));
        }
        let unique: BTreeSet<&Hash> = spec.datasets.iter().collect();
        if unique.len() != spec.datasets.len() {
            return Err(fail(codes::BAD_TASK, "datasets must not repeat"));
        }
        for id in &spec.datasets {
            let ds = self
                .coop
                .dataset(ctx, id)?
                .ok_or_else(|| fail(codes::UNKNOWN_DATASET, format!("no dataset {id}")))?;
            if ds.coop != spec.coop {
                return Err(fail(
                    codes::DATASET_NOT_IN_COOP,
                    format!(
                        "dataset {id} belongs to coop {}, not {}",
                        ds.coop, spec.coop
                    ),
                ));
            }
            if ds.revoked || !ds.training_consent {
                return Err(fail(
                    codes::DATASET_NO_CONSENT,
                    format!("dataset {id} is revoked or its consent does not allow training"),
                ));
            }
        }
        let arch = decode_architecture(&spec.architecture).ok_or_else(|| {
            fail(
                codes::BAD_MODEL,
                "architecture is not a valid canonical model encoding",
            )
        })?;
        let count = arch.parameter_count();
        if count == 0 || count > MAX_PARAMS {
            return Err(fail(
                codes::BAD_MODEL,
                format!("model has {count} parameters; 1..={MAX_PARAMS} are allowed"),
            ));
        }
        let initial = fixed::q16_from_f32_le(&spec.initial_params, count)
            .map_err(|e| fail(codes::BAD_MODEL, format!("initial parameters: {e}")))?;
        if spec.rounds == 0 || spec.rounds > MAX_ROUNDS {
            return Err(fail(
                codes::BAD_TASK,
                format!("rounds must be in 1..={MAX_ROUNDS}, got {}", spec.rounds),
            ));
        }
        if spec.min_clients == 0 || spec.min_clients as usize > spec.datasets.len() {
            return Err(fail(
                codes::BAD_TASK,
                format!(
                    "min_clients must be in 1..={} (the number of datasets), got {}",
                    spec.datasets.len(),
                    spec.min_clients
                ),
            ));
        }
        if spec.round_timeout_ms == 0 || spec.train.epochs == 0 || spec.train.batch == 0 {
            return Err(fail(
                codes::BAD_TASK,
                "round timeout, epochs and batch size must be positive",
            ));
        }
        aggregate::validate_strategy(&spec.strategy)
            .map_err(|e| fail(codes::BAD_STRATEGY, e.to_string()))?;
        if let Some(sa) = &spec.secagg {
            if !spec.strategy.is_sum_based() {
                return Err(fail(
                    codes::SECAGG_NEEDS_SUM_RULE,
                    format!(
                        "secure aggregation reveals only the sum of the updates, so it works \
                         with fedavg or fedavgm, not {}",
                        spec.strategy.name()
                    ),
                ));
            }
            if sa.max_dropout_permille >= 1000 {
                return Err(fail(
                    codes::BAD_TASK,
                    "max_dropout_permille must be below 1000",
                ));
            }
        }
        let id = task_id(ctx.chain_id.as_str(), &ctx.tx_hash);
        if spec.reward > 0 {
            let have = counterweight_bank::balance(ctx, &sender)?;
            if have < spec.reward {
                return Err(fail(
                    codes::INSUFFICIENT_FUNDS,
                    format!("balance {have} cannot fund the reward pool {}", spec.reward),
                ));
            }
            counterweight_bank::transfer(ctx, &sender, &task_escrow_account(&id), spec.reward)?;
        }
        let arch_hash = fixed::arch_hash(&spec.architecture);
        let global_hash = fixed::weights_hash(&initial);
        let st = TaskState {
            creator: sender.0,
            status: STATUS_PROPOSED,
            round: 0,
            rounds_done: 0,
            global_hash: global_hash.0,
            arch_hash: arch_hash.0,
            param_count: count as u32,
            opened_height: ctx.height.0,
            finished_reason: String::new(),
            used_datasets: BTreeSet::new(),
        };
        store::put_spec(ctx, &id, &spec);
        store::put_borsh(ctx, store::state_key(&id), &st);
        ctx.set(store::global_key(&id), fixed::params_to_le(&initial));
        ctx.emit(
            "task_opened",
            attrs([
                ("task", id.to_hex()),
                ("coop", spec.coop.to_hex()),
                ("creator", sender.to_hex()),
                ("datasets", spec.datasets.len().to_string()),
                ("rounds", spec.rounds.to_string()),
                ("strategy", spec.strategy.name().to_owned()),
                ("secagg", spec.secagg.is_some().to_string()),
                ("reward", spec.reward.to_string()),
                ("arch_hash", arch_hash.to_hex()),
                ("weights_hash", global_hash.to_hex()),
            ]),
        );
        Ok(())
    }

    pub(crate) fn start(&self, ctx: &mut TxContext<'_>, task: Hash) -> Result<(), CallError> {
        let (spec, mut st) = store::task(ctx, &task)?
            .ok_or_else(|| fail(codes::UNKNOWN_TASK, format!("no task {task}")))?;
        if st.status != STATUS_PROPOSED {
            return Err(fail(
                codes::ALREADY_STARTED,
                format!("task {task} is {}", store::status_name(st.status)),
            ));
        }
        if !self.coop.is_approved(ctx, &spec.coop, &task)? {
            return Err(fail(
                codes::NOT_APPROVED,
                format!("coop {} has not approved task {task}", spec.coop),
            ));
        }
        let eligible = self.eligible(ctx, &spec)?;
        let need = Self::min_participants(&spec);
        if eligible.len() < need {
            return Err(fail(
                codes::NOT_ENOUGH_PARTICIPANTS,
                format!(
                    "{} eligible participants, the task needs {need}",
                    eligible.len()
                ),
            ));
        }
        if let Some(sa) = &spec.secagg {
            aggregate::secagg_config(1 << 32, eligible.len(), st.param_count as usize + 1, sa)
                .map_err(|e| fail(codes::NOT_ENOUGH_PARTICIPANTS, e.to_string()))?;
        }
        st.status = STATUS_RUNNING;
        ctx.emit("task_started", attrs([("task", task.to_hex())]));
        self.open_round(ctx, &task, &spec, &mut st, 1, 0)?;
        store::put_borsh(ctx, store::state_key(&task), &st);
        Ok(())
    }

    /// Opens `round` (attempt `attempt`); finishes the task if too few participants remain.
    pub(crate) fn open_round(
        &self,
        ctx: &mut TxContext<'_>,
        task: &Hash,
        spec: &TaskSpec,
        st: &mut TaskState,
        round: u32,
        attempt: u32,
    ) -> Result<(), CallError> {
        let participants = self.eligible(ctx, spec)?;
        let enough = participants.len() >= Self::min_participants(spec)
            && spec.secagg.as_ref().is_none_or(|sa| {
                aggregate::secagg_config(
                    (u64::from(round) << 32) | u64::from(attempt),
                    participants.len(),
                    st.param_count as usize + 1,
                    sa,
                )
                .is_ok()
            });
        if !enough {
            return self.finish_task(
                ctx,
                task,
                spec,
                st,
                &format!(
                    "round {round} has {} eligible participants, the task needs {}",
                    participants.len(),
                    Self::min_participants(spec)
                ),
            );
        }
        let rs = RoundState {
            round,
            attempt,
            phase: if spec.secagg.is_some() {
                PHASE_KEYS
            } else {
                PHASE_COLLECT
            },
            opened_ms: ctx.timestamp_ms,
            deadline_ms: ctx.timestamp_ms.saturating_add(spec.round_timeout_ms),
            participants,
            ..RoundState::default()
        };
        st.round = round;
        ctx.emit(
            "round_opened",
            attrs([
                ("task", task.to_hex()),
                ("round", round.to_string()),
                ("attempt", attempt.to_string()),
                ("participants", rs.participants.len().to_string()),
                ("phase", store::phase_name(rs.phase).to_owned()),
                ("deadline_ms", rs.deadline_ms.to_string()),
            ]),
        );
        store::put_borsh(ctx, store::round_key(task), &rs);
        Ok(())
    }

    pub(crate) fn clear_round_data(
        ctx: &mut TxContext<'_>,
        task: &Hash,
        rs: &RoundState,
    ) -> StorageResult<()> {
        for &idx in rs.submitted.keys() {
            ctx.delete(store::update_key(task, idx));
        }
        for &from in &rs.shared {
            for &to in rs.keys.keys() {
                let k = store::share_key(task, from, to);
                if ctx.get(&k)?.is_some() {
                    ctx.delete(k);
                }
            }
        }
        for &idx in &rs.masked {
            ctx.delete(store::masked_key(task, idx));
        }
        for &idx in &rs.unmasked {
            ctx.delete(store::unmask_key(task, idx));
        }
        Ok(())
    }

    pub(crate) fn fail_round(
        &self,
        ctx: &mut TxContext<'_>,
        task: &Hash,
        spec: &TaskSpec,
        st: &mut TaskState,
        rs: RoundState,
        reason: &str,
    ) -> Result<(), CallError> {
        Self::clear_round_data(ctx, task, &rs)?;
        let mut reason = format!("round {} attempt {} failed: {reason}", rs.round, rs.attempt);
        reason.truncate(200);
        ctx.emit(
            "round_failed",
            attrs([
                ("task", task.to_hex()),
                ("round", rs.round.to_string()),
                ("reason", reason),
            ]),
        );
        self.open_round(ctx, task, spec, st, rs.round, rs.attempt.saturating_add(1))
    }

    /// Stores the new global model, history and points; opens the next round or finishes.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn complete_round(
        &self,
        ctx: &mut TxContext<'_>,
        task: &Hash,
        spec: &TaskSpec,
        st: &mut TaskState,
        rs: RoundState,
        next: Vec<i32>,
        contributors: &[(u32, u64)],
        examples: u64,
    ) -> Result<(), CallError> {
        Self::clear_round_data(ctx, task, &rs)?;
        let hash = fixed::weights_hash(&next);
        ctx.set(store::global_key(task), fixed::params_to_le(&next));
        st.global_hash = hash.0;
        st.rounds_done = st.rounds_done.saturating_add(1);
        let mut pts = store::points(ctx, task)?;
        let mut contributor_addrs = Vec::with_capacity(contributors.len());
        for &(idx, p) in contributors {
            let part = &rs.participants[idx as usize];
            contributor_addrs.push(part.address);
            let e = pts.entry(part.address).or_insert(0);
            *e = e.saturating_add(p);
            st.used_datasets.extend(part.datasets.iter().copied());
        }
        store::put_borsh(ctx, store::points_key(task), &pts);
        let contributed: BTreeSet<u32> = contributors.iter().map(|c| c.0).collect();
        let dropped: Vec<[u8; 32]> = rs
            .participants
            .iter()
            .enumerate()
            .filter(|(i, _)| !contributed.contains(&(*i as u32)))
            .map(|(_, p)| p.address)
            .collect();
        let entry = HistoryEntry {
            round: rs.round,
            weights_hash: hash.0,
            participants: rs.participants.iter().map(|p| p.address).collect(),
            contributors: contributor_addrs,
            dropped,
            examples,
            height: ctx.height.0,
            timestamp_ms: ctx.timestamp_ms,
        };
        store::put_borsh(ctx, store::history_key(task, rs.round), &entry);
        ctx.emit(
            "round_aggregated",
            attrs([
                ("task", task.to_hex()),
                ("round", rs.round.to_string()),
                ("weights_hash", hash.to_hex()),
                ("contributors", contributors.len().to_string()),
                ("participants", rs.participants.len().to_string()),
                ("examples", examples.to_string()),
                ("strategy", spec.strategy.name().to_owned()),
            ]),
        );
        if rs.round >= spec.rounds {
            self.finish_task(ctx, task, spec, st, "all rounds aggregated")
        } else {
            self.open_round(ctx, task, spec, st, rs.round + 1, 0)
        }
    }

    pub(crate) fn finish_task(
        &self,
        ctx: &mut TxContext<'_>,
        task: &Hash,
        spec: &TaskSpec,
        st: &mut TaskState,
        reason: &str,
    ) -> Result<(), CallError> {
        st.status = STATUS_FINISHED;
        st.finished_reason = reason.to_owned();
        ctx.delete(store::round_key(task));
        ctx.emit(
            "task_finished",
            attrs([
                ("task", task.to_hex()),
                ("rounds", st.rounds_done.to_string()),
                ("weights_hash", Hash(st.global_hash).to_hex()),
                ("reason", reason.to_owned()),
            ]),
        );
        self.settle(ctx, task, spec, st)
    }
}
