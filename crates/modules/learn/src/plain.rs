//! Plain rounds: updates in the clear, closed by the last update or after the deadline.

use counterweight_fl::{ClientId, Update};
use counterweight_state::{CallError, StateAccess, TxContext};
use counterweight_storage_api::StorageError;
use counterweight_types::Hash;

use crate::aggregate;
use crate::call::{TaskSpec, TaskStrategy};
use crate::error::LearnError;
use crate::events::LearnEvent;
use crate::fixed;
use crate::participants::{allowance, check_participant, check_round, eligible, load_running};
use crate::store::{self, RoundState, TaskState};
use crate::task::{complete_round, fail_round};

/// `SubmitUpdate`: a participant's local model; the last update closes the round.
pub(crate) fn submit_update(
    ctx: &mut TxContext<'_>,
    task: Hash,
    round: u32,
    params: &[u8],
    examples: u32,
) -> Result<(), CallError> {
    let (spec, mut st, mut rs) = load_running(ctx, &task)?;
    if spec.secagg.is_some() {
        return Err(LearnError::UpdateNeedsPlainTask.into());
    }
    check_round(&rs, round)?;
    let sender = ctx.sender;
    let idx = check_participant(ctx, &spec, &rs, &sender)?;
    if rs.submitted.contains_key(&idx) {
        return Err(LearnError::DuplicateUpdate { who: sender, round }.into());
    }
    let records = allowance(&spec, &rs.participants[idx as usize]);
    if examples == 0 || u64::from(examples) > records {
        return Err(LearnError::BadExamples { examples, records }.into());
    }
    let q =
        fixed::q16_from_f32_le(params, st.param_count as usize).map_err(LearnError::BadParams)?;
    let update_hash = fixed::weights_hash(&q);
    ctx.set(store::update_key(&task, idx), fixed::params_to_le(&q));
    rs.submitted.insert(idx, examples);
    ctx.emit_event(&LearnEvent::UpdateAccepted {
        task,
        round,
        client: sender,
        examples,
        update_hash,
    })?;
    if rs.submitted.len() == rs.participants.len() {
        close_plain(ctx, &task, &spec, &mut st, rs)?;
    } else {
        store::put_borsh(ctx, store::round_key(&task), &rs);
    }
    store::put_borsh(ctx, store::state_key(&task), &st);
    Ok(())
}

/// `CloseRound`: closes a plain round after its deadline: aggregates it with at least
/// `min_clients` updates, otherwise fails the attempt (so a round nobody completes cannot
/// hold the task, and its escrow, forever).
pub(crate) fn close_round(ctx: &mut TxContext<'_>, task: Hash) -> Result<(), CallError> {
    let (spec, mut st, rs) = load_running(ctx, &task)?;
    if spec.secagg.is_some() {
        return Err(LearnError::CloseNeedsPlainTask.into());
    }
    if ctx.timestamp_ms < rs.deadline_ms {
        return Err(LearnError::RoundDeadline {
            round: rs.round,
            deadline_ms: rs.deadline_ms,
            now_ms: ctx.timestamp_ms,
        }
        .into());
    }
    if rs.submitted.len() < spec.min_clients as usize {
        let reason = format!(
            "{} updates by the deadline, the task needs {}",
            rs.submitted.len(),
            spec.min_clients
        );
        fail_round(ctx, &task, &spec, &mut st, rs, &reason)?;
    } else {
        close_plain(ctx, &task, &spec, &mut st, rs)?;
    }
    store::put_borsh(ctx, store::state_key(&task), &st);
    Ok(())
}

/// Aggregates the updates of still-eligible senders with the task's rule and scores them.
fn close_plain(
    ctx: &mut TxContext<'_>,
    task: &Hash,
    spec: &TaskSpec,
    st: &mut TaskState,
    rs: RoundState,
) -> Result<(), CallError> {
    let global = store::global(ctx, task)?.ok_or(StorageError::Corrupt { what: "global" })?;
    // An owner who revoked consent after submitting is left out of the aggregate too.
    let now = eligible(ctx, spec)?;
    let still_eligible = |idx: u32| {
        let was = &rs.participants[idx as usize];
        now.iter().any(|p| {
            p.address == was.address && p.datasets.iter().any(|d| was.datasets.contains(d))
        })
    };
    let kept: Vec<(u32, u64)> = rs
        .submitted
        .iter()
        .filter(|(idx, _)| still_eligible(**idx))
        .map(|(&idx, &examples)| (idx, u64::from(examples)))
        .collect();
    // No client's weight exceeds the task's share of the aggregate.
    let weights = aggregate::cap_shares(
        &kept.iter().map(|k| k.1).collect::<Vec<_>>(),
        spec.max_client_share_bps,
    );
    let mut updates = Vec::with_capacity(kept.len());
    for (&(idx, _), &weight) in kept.iter().zip(&weights) {
        let params = store::i32s(ctx, &store::update_key(task, idx), "update")?
            .ok_or(StorageError::Corrupt { what: "update" })?;
        updates.push(Update::new(ClientId(u64::from(idx)), weight, params));
    }
    let kept: Vec<u32> = kept.into_iter().map(|k| k.0).collect();
    let mut velocity = store::velocity(ctx, task)?;
    match aggregate::aggregate(&spec.strategy, &global, &updates, &mut velocity) {
        Ok(next) => {
            let influence = aggregate::leave_one_out(&spec.strategy, &global, &updates);
            let examples: Vec<u64> = updates.iter().map(|u| u.num_samples).collect();
            let points = aggregate::plain_points(&examples, &influence);
            let contributors: Vec<(u32, u64)> = kept.iter().copied().zip(points).collect();
            if matches!(spec.strategy, TaskStrategy::FedAvgM { .. }) {
                store::put_velocity(ctx, task, &velocity);
            }
            let total: u64 = examples.iter().sum();
            complete_round(ctx, task, spec, st, rs, next, &contributors, total)
        }
        Err(e) => fail_round(ctx, task, spec, st, rs, &e.to_string()),
    }
}
