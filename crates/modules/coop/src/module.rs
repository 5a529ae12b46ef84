//! The coop module: decodes [`CoopCall`]s and hands each to the file of its concern.

use counterweight_state::{
    CallError, Module, ModuleCall as _, ModuleError, StateAccess, TxContext, Verdict as _,
};
use counterweight_storage_api::StateReader;
use counterweight_types::{Genesis, ModuleId};

use crate::{
    CoopError, call::CoopCall, datasets, governance, membership, store::COOP_MODULE, treasury,
};

/// The coop module.
#[derive(Clone, Copy, Debug, Default)]
pub struct CoopModule;

impl Module for CoopModule {
    fn id(&self) -> ModuleId {
        COOP_MODULE
    }

    fn name(&self) -> &'static str {
        "coop"
    }

    fn check_payload(&self, payload: &[u8]) -> Result<(), ModuleError> {
        CoopCall::parse(payload)
            .map(drop)
            .map_err(|e| CoopError::from(e).to_module_error())
    }

    fn init_genesis(&self, _: &mut dyn StateAccess, _: &Genesis) -> Result<(), CallError> {
        Ok(())
    }

    fn execute(&self, ctx: &mut TxContext<'_>, payload: &[u8]) -> Result<(), CallError> {
        match CoopCall::parse(payload).map_err(CoopError::from)? {
            CoopCall::Create { name, rules } => membership::create(ctx, name, rules),
            CoopCall::Join { coop, credential } => membership::join(ctx, coop, credential),
            CoopCall::Leave { coop } => membership::leave(ctx, coop),
            CoopCall::CommitDataset {
                coop,
                root,
                schema,
                records,
                consent,
            } => datasets::commit(ctx, coop, root, schema, records, consent),
            CoopCall::SetConsent { dataset, consent } => {
                datasets::set_consent(ctx, dataset, consent)
            }
            CoopCall::RevokeConsent { dataset } => datasets::revoke_consent(ctx, dataset),
            CoopCall::Propose { coop, kind } => governance::propose(ctx, coop, kind),
            CoopCall::Vote { proposal, yes } => governance::vote(ctx, proposal, yes),
            CoopCall::Execute { proposal } => governance::execute(ctx, proposal),
            CoopCall::Deposit { coop, amount } => treasury::deposit(ctx, coop, amount),
        }
    }

    fn query(
        &self,
        state: &dyn StateReader,
        path: &str,
        data: &[u8],
    ) -> Result<Vec<u8>, CallError> {
        crate::query::answer_query(state, path, data)
    }
}
