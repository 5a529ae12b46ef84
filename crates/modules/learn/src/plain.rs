//! Plain rounds: updates in the clear, closed by the last update or after the deadline.

use counterweight_fl::{ClientId, Update};
use counterweight_state::{CallError, StateAccess, TxContext};
use counterweight_storage_api::StorageError;
use counterweight_types::Hash;

use crate::aggregate;
use crate::call::TaskSpec;
use crate::error::codes;
use crate::fixed::{self, ParamError};
use crate::learn::{Learn, attrs, fail};
use crate::store::{self, RoundState, TaskState};

impl Learn {
    pub(crate) fn submit_update(
        &self,
        ctx: &mut TxContext<'_>,
        task: Hash,
        round: u32,
        params: &[u8],
        examples: u32,
    ) -> Result<(), CallError> {
        let (spec, mut st, mut rs) = self.load_running(ctx, &task)?;
        if spec.secagg.is_some() {
            return Err(fail(
                codes::WRONG_MODE,
                "this task uses secure aggregation: send AdvertiseKeys, ShareKeys, MaskedInput \
                 and UnmaskShares instead of a plain update",
            ));
        }
        Self::check_round(&rs, round)?;
        let sender = ctx.sender;
        let idx = self.check_participant(ctx, &spec, &rs, &sender)?;
        if rs.submitted.contains_key(&idx) {
            return Err(fail(
                codes::DUPLICATE_SUBMISSION,
                format!("{sender} already submitted an update in round {round}"),
            ));
        }
        let records = rs.participants[idx as usize].records;
        if examples == 0 || u64::from(examples) > records {
            return Err(fail(
                codes::BAD_EXAMPLES,
                format!("examples must be in 1..={records} (the sender's records), got {examples}"),
            ));
        }
        let q = fixed::q16_from_f32_le(params, st.param_count as usize).map_err(|e| match e {
            ParamError::WrongLength { .. } => fail(codes::WRONG_SHAPE, e.to_string()),
            ParamError::NonFinite { .. } => fail(codes::NON_FINITE, e.to_string()),
            ParamError::OutOfRange { .. } => fail(codes::OUT_OF_RANGE, e.to_string()),
        })?;
        let update_hash = fixed::weights_hash(&q);
        ctx.set(store::update_key(&task, idx), fixed::params_to_le(&q));
        rs.submitted.insert(idx, examples);
        ctx.emit(
            "update_accepted",
            attrs([
                ("task", task.to_hex()),
                ("round", round.to_string()),
                ("client", sender.to_hex()),
                ("examples", examples.to_string()),
                ("update_hash", update_hash.to_hex()),
            ]),
        );
        if rs.submitted.len() == rs.participants.len() {
            self.close_plain(ctx, &task, &spec, &mut st, rs)?;
        } else {
            store::put_borsh(ctx, store::round_key(&task), &rs);
        }
        store::put_borsh(ctx, store::state_key(&task), &st);
        Ok(())
    }

    pub(crate) fn close_round_call(
        &self,
        ctx: &mut TxContext<'_>,
        task: Hash,
    ) -> Result<(), CallError> {
        let (spec, mut st, rs) = self.load_running(ctx, &task)?;
        if spec.secagg.is_some() {
            return Err(fail(
                codes::WRONG_MODE,
                "this task uses secure aggregation: send Advance to move a phase on",
            ));
        }
        if ctx.timestamp_ms < rs.deadline_ms {
            return Err(fail(
                codes::DEADLINE_NOT_PASSED,
                format!(
                    "round {} waits for updates until block time {} ms (now {})",
                    rs.round, rs.deadline_ms, ctx.timestamp_ms
                ),
            ));
        }
        if rs.submitted.len() < spec.min_clients as usize {
            return Err(fail(
                codes::TOO_FEW_SUBMISSIONS,
                format!(
                    "{} updates submitted, the task needs {}",
                    rs.submitted.len(),
                    spec.min_clients
                ),
            ));
        }
        self.close_plain(ctx, &task, &spec, &mut st, rs)?;
        store::put_borsh(ctx, store::state_key(&task), &st);
        Ok(())
    }

    pub(crate) fn close_plain(
        &self,
        ctx: &mut TxContext<'_>,
        task: &Hash,
        spec: &TaskSpec,
        st: &mut TaskState,
        rs: RoundState,
    ) -> Result<(), CallError> {
        let global = store::global(ctx, task)?.ok_or(StorageError::Corrupt { what: "global" })?;
        // An owner who revoked consent after submitting is left out of the aggregate too.
        let now = self.eligible(ctx, spec)?;
        let still_eligible = |idx: u32| {
            let was = &rs.participants[idx as usize];
            now.iter().any(|p| {
                p.address == was.address && p.datasets.iter().any(|d| was.datasets.contains(d))
            })
        };
        let mut updates = Vec::with_capacity(rs.submitted.len());
        let mut kept = Vec::with_capacity(rs.submitted.len());
        for (&idx, &examples) in &rs.submitted {
            if !still_eligible(idx) {
                continue;
            }
            kept.push(idx);
            let params = store::i32s(ctx, &store::update_key(task, idx), "update")?
                .ok_or(StorageError::Corrupt { what: "update" })?;
            updates.push(Update::new(
                ClientId(u64::from(idx)),
                u64::from(examples),
                params,
            ));
        }
        let mut velocity = store::velocity(ctx, task)?;
        match aggregate::aggregate(&spec.strategy, &global, &updates, &mut velocity) {
            Ok(next) => {
                let influence = aggregate::leave_one_out(&spec.strategy, &global, &updates);
                let examples: Vec<u64> = updates.iter().map(|u| u.num_samples).collect();
                let points = aggregate::plain_points(&examples, &influence);
                let contributors: Vec<(u32, u64)> = kept.iter().copied().zip(points).collect();
                if matches!(spec.strategy, crate::call::TaskStrategy::FedAvgM { .. }) {
                    store::put_velocity(ctx, task, &velocity);
                }
                let total: u64 = examples.iter().sum();
                self.complete_round(ctx, task, spec, st, rs, next, &contributors, total)
            }
            Err(e) => self.fail_round(ctx, task, spec, st, rs, &e.to_string()),
        }
    }
}
