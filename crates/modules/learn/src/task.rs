//! Task lifecycle: open, start, rounds opening, failing and completing, finish.

use std::collections::BTreeSet;

use counterweight_state::{CallError, StateAccess, TxContext};
use counterweight_storage_api::{Result as StorageResult, StateReader};
use counterweight_types::{Address, Hash, domain};

use crate::aggregate;
use crate::arch::decode_architecture;
use crate::call::{
    FULL_SHARE_BPS, MAX_ATTEMPTS, MAX_EXAMPLES_PER_CLIENT, MAX_PARAMS, MAX_ROUNDS, TaskSpec,
};
use crate::error::LearnError;
use crate::events::LearnEvent;
use crate::fixed;
use crate::participants::{eligible, min_participants};
use crate::rewards;
use crate::status::{RoundPhase, TaskStatus};
use crate::store::{self, HistoryEntry, RoundState, TaskState};

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

/// Returns the model of a finished task (`None` if unknown, unfinished, failed, cancelled,
/// or no round was aggregated).
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
    if st.status != TaskStatus::Finished || st.rounds_done == 0 {
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

/// Checks a task's settings against the coop, its datasets and the bounds; returns the
/// initial parameters (Q16.16).
fn check_spec(
    state: &dyn StateReader,
    sender: &Address,
    spec: &TaskSpec,
) -> Result<(Vec<i32>, usize), CallError> {
    if counterweight_coop::coop(state, &spec.coop)?.is_none() {
        return Err(LearnError::UnknownCoop { coop: spec.coop }.into());
    }
    if !counterweight_coop::is_member(state, &spec.coop, sender)? {
        return Err(LearnError::NotMember {
            who: *sender,
            coop: spec.coop,
        }
        .into());
    }
    let unique: BTreeSet<&Hash> = spec.datasets.iter().collect();
    if unique.len() != spec.datasets.len() {
        return Err(LearnError::RepeatedDatasets.into());
    }
    for id in &spec.datasets {
        let ds = counterweight_coop::dataset(state, id)?
            .ok_or(LearnError::UnknownDataset { dataset: *id })?;
        if ds.coop != spec.coop {
            return Err(LearnError::DatasetNotInCoop {
                dataset: *id,
                owner: ds.coop,
                coop: spec.coop,
            }
            .into());
        }
        if ds.revoked || !ds.consent.training {
            return Err(LearnError::DatasetNoConsent { dataset: *id }.into());
        }
    }
    let arch = decode_architecture(&spec.architecture).ok_or(LearnError::BadArchitecture)?;
    let count = arch.parameter_count();
    if count == 0 || count > MAX_PARAMS {
        return Err(LearnError::ParameterCount { count }.into());
    }
    let initial = fixed::q16_from_f32_le(&spec.initial_params, count)
        .map_err(|source| LearnError::InitialParams { source })?;
    if spec.rounds == 0 || spec.rounds > MAX_ROUNDS {
        return Err(LearnError::BadRounds {
            rounds: spec.rounds,
        }
        .into());
    }
    if spec.min_clients == 0 || spec.min_clients as usize > spec.datasets.len() {
        return Err(LearnError::BadMinClients {
            min_clients: spec.min_clients,
            datasets: spec.datasets.len(),
        }
        .into());
    }
    if spec.round_timeout_ms == 0 || spec.train.epochs == 0 || spec.train.batch == 0 {
        return Err(LearnError::NonPositiveSettings.into());
    }
    check_limits(spec)?;
    aggregate::validate_strategy(&spec.strategy).map_err(LearnError::BadStrategy)?;
    if let Some(sa) = &spec.secagg {
        if count > aggregate::MAX_SECAGG_PARAMS {
            return Err(LearnError::SecAggTooManyParams {
                count,
                max: aggregate::MAX_SECAGG_PARAMS,
            }
            .into());
        }
        if !spec.strategy.is_sum_based() {
            return Err(LearnError::SecAggNeedsSumRule {
                strategy: spec.strategy.name(),
            }
            .into());
        }
        if sa.max_dropout_permille >= 1000 {
            return Err(LearnError::BadDropout.into());
        }
    }
    Ok((initial, count))
}

/// Checks the task's H2/M6 limits against their ranges.
fn check_limits(spec: &TaskSpec) -> Result<(), LearnError> {
    let bad = |what, range, got: u64| LearnError::BadLimit { what, range, got };
    if !(1..=MAX_EXAMPLES_PER_CLIENT).contains(&spec.max_examples_per_client) {
        return Err(bad(
            "max_examples_per_client",
            "1..=33554432",
            spec.max_examples_per_client.into(),
        ));
    }
    if !(1..=FULL_SHARE_BPS).contains(&spec.max_client_share_bps) {
        return Err(bad(
            "max_client_share_bps",
            "1..=10000",
            spec.max_client_share_bps.into(),
        ));
    }
    if !(1..=MAX_ATTEMPTS).contains(&spec.max_attempts) {
        return Err(bad("max_attempts", "1..=16", spec.max_attempts.into()));
    }
    if spec.start_timeout_ms == 0 {
        return Err(bad("start_timeout_ms", "1..", 0));
    }
    Ok(())
}

/// `OpenTask`: checks the settings, escrows the reward pool and stores the task.
pub(crate) fn open_task(ctx: &mut TxContext<'_>, spec: TaskSpec) -> Result<(), CallError> {
    let sender = ctx.sender;
    let (initial, count) = check_spec(ctx, &sender, &spec)?;
    let id = task_id(ctx.chain_id.as_str(), &ctx.tx_hash);
    if spec.reward > 0 {
        let have = counterweight_bank::balance(ctx, &sender)?;
        if have < spec.reward {
            return Err(LearnError::InsufficientFunds {
                have,
                reward: spec.reward,
            }
            .into());
        }
        counterweight_bank::transfer(ctx, &sender, &task_escrow_account(&id), spec.reward)?;
    }
    let arch_hash = fixed::arch_hash(&spec.architecture);
    let global_hash = fixed::weights_hash(&initial);
    let st = TaskState {
        creator: sender.0,
        status: TaskStatus::Proposed,
        round: 0,
        rounds_done: 0,
        global_hash: global_hash.0,
        arch_hash: arch_hash.0,
        param_count: count as u32,
        opened_height: ctx.height.0,
        opened_ms: ctx.timestamp_ms,
        finished_reason: String::new(),
        used_datasets: BTreeSet::new(),
    };
    store::put_spec(ctx, &id, &spec);
    store::put_borsh(ctx, store::state_key(&id), &st);
    ctx.set(store::global_key(&id), fixed::params_to_le(&initial));
    ctx.emit_event(&LearnEvent::TaskOpened {
        task: id,
        coop: spec.coop,
        creator: sender,
        datasets: spec.datasets.len(),
        rounds: spec.rounds,
        strategy: spec.strategy.name(),
        secagg: spec.secagg.is_some(),
        reward: spec.reward,
        arch_hash,
        weights_hash: global_hash,
    })?;
    Ok(())
}

/// Loads `task`, which must not have started yet (`Start` and `Cancel` both need that).
fn proposed_task(
    ctx: &TxContext<'_>,
    task: Hash,
) -> Result<(TaskSpec, store::TaskState), CallError> {
    let (spec, st) = store::task(ctx, &task)?.ok_or(LearnError::UnknownTask { task })?;
    if st.status != TaskStatus::Proposed {
        return Err(LearnError::AlreadyStarted {
            task,
            status: st.status,
        }
        .into());
    }
    Ok((spec, st))
}

/// `Start`: an approved task with enough participants opens round 1.
pub(crate) fn start(ctx: &mut TxContext<'_>, task: Hash) -> Result<(), CallError> {
    let (spec, mut st) = proposed_task(ctx, task)?;
    if !counterweight_coop::is_approved(ctx, &spec.coop, &task)? {
        return Err(LearnError::NotApproved {
            coop: spec.coop,
            task,
        }
        .into());
    }
    let eligible = eligible(ctx, &spec)?;
    let need = min_participants(&spec);
    if eligible.len() < need {
        return Err(LearnError::NotEnoughParticipants {
            eligible: eligible.len(),
            need,
        }
        .into());
    }
    if let Some(sa) = &spec.secagg {
        aggregate::secagg_config(
            1 << 32,
            eligible.len(),
            aggregate::secagg_dim(st.param_count as usize),
            sa,
        )
        .map_err(LearnError::SecAggInfeasible)?;
    }
    st.status = TaskStatus::Running;
    ctx.emit_event(&LearnEvent::TaskStarted { task })?;
    open_round(ctx, &task, &spec, &mut st, 1, 0)?;
    store::put_borsh(ctx, store::state_key(&task), &st);
    Ok(())
}

/// `Cancel`: the creator of a task that never started takes its pool back once the task's
/// start timeout has passed.
pub(crate) fn cancel(ctx: &mut TxContext<'_>, task: Hash) -> Result<(), CallError> {
    let (spec, mut st) = proposed_task(ctx, task)?;
    if ctx.sender.0 != st.creator {
        return Err(LearnError::NotCreator {
            creator: Address(st.creator),
        }
        .into());
    }
    let deadline_ms = st.opened_ms.saturating_add(spec.start_timeout_ms);
    if ctx.timestamp_ms < deadline_ms {
        return Err(LearnError::StartTimeout {
            task,
            deadline_ms,
            now_ms: ctx.timestamp_ms,
        }
        .into());
    }
    st.status = TaskStatus::Cancelled;
    st.finished_reason = "cancelled by its creator before it started".to_owned();
    ctx.emit_event(&LearnEvent::TaskCancelled {
        task,
        refunded: spec.reward,
    })?;
    rewards::settle(ctx, &task, &spec, &st)?;
    store::put_borsh(ctx, store::state_key(&task), &st);
    Ok(())
}

/// Opens `round` (attempt `attempt`); finishes the task if too few participants remain.
pub(crate) fn open_round(
    ctx: &mut TxContext<'_>,
    task: &Hash,
    spec: &TaskSpec,
    st: &mut TaskState,
    round: u32,
    attempt: u32,
) -> Result<(), CallError> {
    let participants = eligible(ctx, spec)?;
    let enough = participants.len() >= min_participants(spec)
        && spec.secagg.as_ref().is_none_or(|sa| {
            aggregate::secagg_config(
                (u64::from(round) << 32) | u64::from(attempt),
                participants.len(),
                aggregate::secagg_dim(st.param_count as usize),
                sa,
            )
            .is_ok()
        });
    if !enough {
        return finish_task(
            ctx,
            task,
            spec,
            st,
            &format!(
                "round {round} has {} eligible participants, the task needs {}",
                participants.len(),
                min_participants(spec)
            ),
        );
    }
    let rs = RoundState {
        round,
        attempt,
        phase: if spec.secagg.is_some() {
            RoundPhase::AdvertiseKeys
        } else {
            RoundPhase::CollectUpdates
        },
        opened_ms: ctx.timestamp_ms,
        deadline_ms: ctx.timestamp_ms.saturating_add(spec.round_timeout_ms),
        participants,
        ..RoundState::default()
    };
    st.round = round;
    ctx.emit_event(&LearnEvent::RoundOpened {
        task: *task,
        round,
        attempt,
        participants: rs.participants.len(),
        phase: rs.phase,
        deadline_ms: rs.deadline_ms,
    })?;
    store::put_borsh(ctx, store::round_key(task), &rs);
    Ok(())
}

/// Deletes a closed round's messages (updates, shares, masked inputs, unmask shares).
fn clear_round_data(ctx: &mut TxContext<'_>, task: &Hash, rs: &RoundState) -> StorageResult<()> {
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

/// Fails the round's attempt and reopens it as the next attempt; after the task's
/// `max_attempts` failed attempts of one round the task ends instead.
pub(crate) fn fail_round(
    ctx: &mut TxContext<'_>,
    task: &Hash,
    spec: &TaskSpec,
    st: &mut TaskState,
    rs: RoundState,
    reason: &str,
) -> Result<(), CallError> {
    clear_round_data(ctx, task, &rs)?;
    let mut reason = format!("round {} attempt {} failed: {reason}", rs.round, rs.attempt);
    reason.truncate(200);
    ctx.emit_event(&LearnEvent::RoundFailed {
        task: *task,
        round: rs.round,
        reason,
    })?;
    let next = rs.attempt.saturating_add(1);
    if next >= spec.max_attempts {
        let reason = format!("round {} failed {next} attempts", rs.round);
        return finish_task(ctx, task, spec, st, &reason);
    }
    open_round(ctx, task, spec, st, rs.round, next)
}

/// Stores the new global model, history and points; opens the next round or finishes.
#[allow(clippy::too_many_arguments)]
pub(crate) fn complete_round(
    ctx: &mut TxContext<'_>,
    task: &Hash,
    spec: &TaskSpec,
    st: &mut TaskState,
    rs: RoundState,
    next: Vec<i32>,
    contributors: &[(u32, u64)],
    examples: u64,
) -> Result<(), CallError> {
    clear_round_data(ctx, task, &rs)?;
    let hash = fixed::weights_hash(&next);
    ctx.set(store::global_key(task), fixed::params_to_le(&next));
    st.global_hash = hash.0;
    st.rounds_done = st.rounds_done.saturating_add(1);
    let contributor_addrs = rewards::credit_points(ctx, task, st, &rs, contributors)?;
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
    ctx.emit_event(&LearnEvent::RoundAggregated {
        task: *task,
        round: rs.round,
        weights_hash: hash,
        contributors: contributors.len(),
        participants: rs.participants.len(),
        examples,
        strategy: spec.strategy.name(),
    })?;
    if rs.round >= spec.rounds {
        finish_task(ctx, task, spec, st, "all rounds aggregated")
    } else {
        open_round(ctx, task, spec, st, rs.round + 1, 0)
    }
}

/// Ends the task and settles its reward pool: `finished` if a round was aggregated,
/// `failed` (the pool goes back to the creator) if none was.
pub(crate) fn finish_task(
    ctx: &mut TxContext<'_>,
    task: &Hash,
    spec: &TaskSpec,
    st: &mut TaskState,
    reason: &str,
) -> Result<(), CallError> {
    st.status = if st.rounds_done > 0 {
        TaskStatus::Finished
    } else {
        TaskStatus::Failed
    };
    st.finished_reason = reason.to_owned();
    ctx.delete(store::round_key(task));
    ctx.emit_event(&LearnEvent::TaskFinished {
        task: *task,
        rounds: st.rounds_done,
        weights_hash: Hash(st.global_hash),
        reason: reason.to_owned(),
    })?;
    rewards::settle(ctx, task, spec, st)
}
