//! The learn module: tasks, rounds, plain and secure aggregation, scores and rewards.

use std::collections::BTreeMap;
use std::sync::Arc;

use counterweight_state::{CallError, Module, ModuleError, StateAccess, TxContext};
use counterweight_storage_api::StateReader;
use counterweight_types::{Genesis, ModuleId};

use crate::call::{LearnCall, MAX_PAYLOAD_BYTES};
use crate::coop::CoopReader;
use crate::query;

use crate::error::codes;

/// The learn module's id.
pub const LEARN_MODULE: ModuleId = ModuleId(4);

pub(crate) fn fail(code: u32, message: impl Into<String>) -> CallError {
    ModuleError::new(code, message).into()
}

pub(crate) fn attrs<const N: usize>(pairs: [(&str, String); N]) -> BTreeMap<String, String> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// The learn module. Construct it with the coop module's reader.
pub struct Learn {
    pub(crate) coop: Arc<dyn CoopReader>,
}

impl std::fmt::Debug for Learn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Learn").finish_non_exhaustive()
    }
}

impl Default for Learn {
    /// The learn module over the coop module's state (what the chain registers).
    fn default() -> Self {
        Self::new(Arc::new(crate::coop::CoopModuleReader))
    }
}

impl Learn {
    /// A learn module reading cooperatives, members, datasets and approvals through `coop`.
    pub fn new(coop: Arc<dyn CoopReader>) -> Self {
        Self { coop }
    }
}

impl Module for Learn {
    fn id(&self) -> ModuleId {
        LEARN_MODULE
    }

    fn name(&self) -> &'static str {
        "learn"
    }

    fn check_payload(&self, payload: &[u8]) -> Result<(), ModuleError> {
        decode(payload).map(|_| ())
    }

    fn init_genesis(&self, _: &mut dyn StateAccess, _: &Genesis) -> Result<(), CallError> {
        Ok(())
    }

    fn execute(&self, ctx: &mut TxContext<'_>, payload: &[u8]) -> Result<(), CallError> {
        match decode(payload)? {
            LearnCall::OpenTask { spec } => self.open_task(ctx, *spec),
            LearnCall::Start { task } => self.start(ctx, task),
            LearnCall::SubmitUpdate {
                task,
                round,
                params,
                examples,
            } => self.submit_update(ctx, task, round, &params, examples),
            LearnCall::CloseRound { task } => self.close_round_call(ctx, task),
            call => self.secagg_call(ctx, call),
        }
    }

    fn query(
        &self,
        state: &dyn StateReader,
        path: &str,
        data: &[u8],
    ) -> Result<Vec<u8>, CallError> {
        query::answer(state, path, data)
    }
}

fn decode(payload: &[u8]) -> Result<LearnCall, ModuleError> {
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(ModuleError::new(
            codes::OVERSIZED,
            format!(
                "learn call is {} bytes, above the limit of {MAX_PAYLOAD_BYTES}",
                payload.len()
            ),
        ));
    }
    LearnCall::from_payload(payload)
        .map_err(|e| ModuleError::new(codes::MALFORMED, format!("learn call: {e}")))
}
