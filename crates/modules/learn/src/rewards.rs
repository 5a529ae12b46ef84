//! Scores and rewards: points credited per aggregated round, the pool paid out by points when
//! a task finishes.

use counterweight_state::{CallError, TxContext};
use counterweight_storage_api::Result as StorageResult;
use counterweight_types::{Address, Hash, domain};

use crate::call::TaskSpec;
use crate::events::LearnEvent;
use crate::store::{self, RoundState, Settlement, TaskState};
use crate::task::task_escrow_account;

/// Adds an aggregated round's `(client index, points)` to the task's points and its
/// contributors' datasets to the task's used datasets; returns the contributors' addresses.
pub(crate) fn credit_points(
    ctx: &mut TxContext<'_>,
    task: &Hash,
    st: &mut TaskState,
    rs: &RoundState,
    contributors: &[(u32, u64)],
) -> StorageResult<Vec<[u8; 32]>> {
    let mut pts = store::points(ctx, task)?;
    let mut addresses = Vec::with_capacity(contributors.len());
    for &(idx, p) in contributors {
        let part = &rs.participants[idx as usize];
        addresses.push(part.address);
        let e = pts.entry(part.address).or_insert(0);
        *e = e.saturating_add(p);
        st.used_datasets.extend(part.datasets.iter().copied());
    }
    store::put_borsh(ctx, store::points_key(task), &pts);
    Ok(addresses)
}

/// Pays the reward pool. The part earned is `pool · rounds_done / rounds` (all of it when
/// every round was aggregated, nothing when none was or no contributor has points): the
/// coop's revenue share of it goes to the treasury, the rest to the contributors by points,
/// and integer-division remainders to the treasury. The unearned part returns to the task's
/// creator, so a task that fails, ends early or never starts never pays the treasury for
/// rounds nobody aggregated.
pub(crate) fn settle(
    ctx: &mut TxContext<'_>,
    task: &Hash,
    spec: &TaskSpec,
    st: &TaskState,
) -> Result<(), CallError> {
    let pool = spec.reward;
    let (treasury, permille) = match counterweight_coop::coop(ctx, &spec.coop)? {
        Some(c) => (
            c.treasury,
            u64::from(c.rules.revenue_share_permille.min(1000)),
        ),
        None => (Address(st.creator), 0),
    };
    let pts = store::points(ctx, task)?;
    let total_points: u128 = pts.values().map(|&p| u128::from(p)).sum();
    let earned = if total_points == 0 || spec.rounds == 0 {
        0
    } else {
        let done = u128::from(st.rounds_done.min(spec.rounds));
        (u128::from(pool) * done / u128::from(spec.rounds)) as u64
    };
    let refunded = pool - earned;
    let coop_amount = (u128::from(earned) * u128::from(permille) / 1000) as u64;
    let rest = earned - coop_amount;
    let mut payouts = Vec::with_capacity(pts.len());
    let mut paid = 0u64;
    for (&who, &p) in &pts {
        let Some(share) = (u128::from(rest) * u128::from(p)).checked_div(total_points) else {
            break;
        };
        let amount = share as u64;
        paid += amount;
        payouts.push((who, amount, p));
    }
    let treasury_amount = earned - paid;
    let escrow = task_escrow_account(task);
    for &(who, amount, _) in &payouts {
        if amount > 0 {
            counterweight_bank::transfer(ctx, &escrow, &Address(who), amount)?;
        }
    }
    if treasury_amount > 0 {
        counterweight_bank::transfer(ctx, &escrow, &treasury, treasury_amount)?;
    }
    if refunded > 0 {
        counterweight_bank::transfer(ctx, &escrow, &Address(st.creator), refunded)?;
    }
    let digest_parts: Vec<u8> = payouts
        .iter()
        .flat_map(|(w, a, _)| w.iter().copied().chain(a.to_be_bytes()))
        .collect();
    let digest = Hash::digest(domain::TASK_ID, &[&task.0, b"payouts", &digest_parts]);
    // Per-payee events while the receipt has room; the summary commits to all payouts.
    if payouts.len() <= 10 {
        for &(who, amount, points) in &payouts {
            ctx.emit_event(&LearnEvent::RewardPaid {
                task: *task,
                to: Address(who),
                amount,
                points,
            })?;
        }
    }
    ctx.emit_event(&LearnEvent::RewardsSettled {
        task: *task,
        pool,
        treasury,
        treasury_amount,
        payees: payouts.len(),
        payouts_digest: digest,
        refunded,
    })?;
    store::put_borsh(
        ctx,
        store::settlement_key(task),
        &Settlement {
            pool,
            treasury: treasury.0,
            treasury_amount,
            payouts,
            refunded,
        },
    );
    Ok(())
}
