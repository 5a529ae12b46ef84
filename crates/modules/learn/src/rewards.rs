//! Rewards: the pool paid out by points when a task finishes.

use counterweight_state::{CallError, TxContext};
use counterweight_types::{Address, Hash, domain};

use crate::call::TaskSpec;
use crate::learn::{Learn, attrs};
use crate::store::{self, Settlement, TaskState};
use crate::task::task_escrow_account;

impl Learn {
    /// Pays the reward pool: the coop's revenue share to its treasury, the rest to the
    /// contributors by points; integer-division remainders go to the treasury.
    pub(crate) fn settle(
        &self,
        ctx: &mut TxContext<'_>,
        task: &Hash,
        spec: &TaskSpec,
        st: &TaskState,
    ) -> Result<(), CallError> {
        let pool = spec.reward;
        let (treasury, permille) = match self.coop.coop(ctx, &spec.coop)? {
            Some(c) => (c.treasury, u64::from(c.revenue_share_permille.min(1000))),
            None => (Address(st.creator), 0),
        };
        let pts = store::points(ctx, task)?;
        let coop_amount = (u128::from(pool) * u128::from(permille) / 1000) as u64;
        let rest = pool - coop_amount;
        let total_points: u128 = pts.values().map(|&p| u128::from(p)).sum();
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
        let treasury_amount = pool - paid;
        let escrow = task_escrow_account(task);
        for &(who, amount, _) in &payouts {
            if amount > 0 {
                counterweight_bank::transfer(ctx, &escrow, &Address(who), amount)?;
            }
        }
        if treasury_amount > 0 {
            counterweight_bank::transfer(ctx, &escrow, &treasury, treasury_amount)?;
        }
        let digest_parts: Vec<u8> = payouts
            .iter()
            .flat_map(|(w, a, _)| w.iter().copied().chain(a.to_be_bytes()))
            .collect();
        let digest = Hash::digest(domain::TASK_ID, &[&task.0, b"payouts", &digest_parts]);
        // Per-payee events while the receipt has room; the summary commits to all payouts.
        if payouts.len() <= 10 {
            for &(who, amount, p) in &payouts {
                ctx.emit(
                    "reward_paid",
                    attrs([
                        ("task", task.to_hex()),
                        ("to", Address(who).to_hex()),
                        ("amount", amount.to_string()),
                        ("points", p.to_string()),
                    ]),
                );
            }
        }
        ctx.emit(
            "rewards_settled",
            attrs([
                ("task", task.to_hex()),
                ("pool", pool.to_string()),
                ("treasury", treasury.to_hex()),
                ("treasury_amount", treasury_amount.to_string()),
                ("payees", payouts.len().to_string()),
                ("payouts_digest", digest.to_hex()),
            ]),
        );
        store::put_borsh(
            ctx,
            store::settlement_key(task),
            &Settlement {
                pool,
                treasury: treasury.0,
                treasury_amount,
                payouts,
            },
        );
        Ok(())
    }
}
