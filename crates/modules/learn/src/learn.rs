//! The learn module: the `Module` impl, dispatching each call to its phase.

use counterweight_state::{
    CallError, Module, ModuleCall as _, ModuleError, StateAccess, TxContext, Verdict as _,
};
use counterweight_storage_api::StateReader;
use counterweight_types::{Genesis, ModuleId};

use crate::call::{LearnCall, MAX_PAYLOAD_BYTES};
use crate::error::LearnError;
use crate::{plain, query, secagg, task};

/// The learn module's id.
pub const LEARN_MODULE: ModuleId = ModuleId(4);

/// The learn module (it reads cooperatives, members, datasets and approvals from the coop
/// module's state).
#[derive(Clone, Copy, Debug, Default)]
pub struct Learn;

impl Module for Learn {
    fn id(&self) -> ModuleId {
        LEARN_MODULE
    }

    fn name(&self) -> &'static str {
        "learn"
    }

    fn check_payload(&self, payload: &[u8]) -> Result<(), ModuleError> {
        decode(payload).map(drop).map_err(|e| e.to_module_error())
    }

    fn init_genesis(&self, _: &mut dyn StateAccess, _: &Genesis) -> Result<(), CallError> {
        Ok(())
    }

    fn execute(&self, ctx: &mut TxContext<'_>, payload: &[u8]) -> Result<(), CallError> {
        match decode(payload)? {
            LearnCall::OpenTask { spec } => task::open_task(ctx, *spec),
            LearnCall::Start { task } => task::start(ctx, task),
            LearnCall::SubmitUpdate {
                task,
                round,
                params,
                examples,
            } => plain::submit_update(ctx, task, round, &params, examples),
            LearnCall::CloseRound { task } => plain::close_round(ctx, task),
            LearnCall::AdvertiseKeys {
                task,
                round,
                enc_key,
                mask_key,
            } => secagg::advertise_keys(ctx, task, round, enc_key, mask_key),
            LearnCall::ShareKeys {
                task,
                round,
                shares,
            } => secagg::share_keys(ctx, task, round, &shares),
            LearnCall::MaskedInput {
                task,
                round,
                values,
            } => secagg::masked_input(ctx, task, round, &values),
            LearnCall::UnmaskShares {
                task,
                round,
                self_mask_shares,
                key_shares,
            } => secagg::unmask_shares(ctx, task, round, &self_mask_shares, &key_shares),
            LearnCall::Advance { task } => secagg::advance(ctx, task),
            LearnCall::Cancel { task } => task::cancel(ctx, task),
        }
    }

    fn query(
        &self,
        state: &dyn StateReader,
        path: &str,
        data: &[u8],
    ) -> Result<Vec<u8>, CallError> {
        query::answer_query(state, path, data)
    }
}

fn decode(payload: &[u8]) -> Result<LearnCall, LearnError> {
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(LearnError::Oversized {
            size: payload.len(),
        });
    }
    Ok(LearnCall::parse(payload)?)
}
