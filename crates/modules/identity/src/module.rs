//! The identity module: dispatch of calls and queries.

use counterweight_state::{
    CallError, Module, ModuleCall as _, ModuleError, StateAccess, TxContext, Verdict as _,
};
use counterweight_storage_api::StateReader;
use counterweight_types::{Genesis, ModuleId};

use crate::{
    call::IdentityCall,
    dids::{approve_recovery, register, rotate_key, set_recovery},
    error::IdentityError,
    issuers::{register_issuer, revoke},
    query::answer_query,
};

/// The identity module's id.
pub const IDENTITY_MODULE: ModuleId = ModuleId(2);

/// The identity module: DIDs, key rotation and recovery, credential issuers, revocation.
#[derive(Clone, Copy, Debug, Default)]
pub struct Identity;

impl Module for Identity {
    fn id(&self) -> ModuleId {
        IDENTITY_MODULE
    }

    fn name(&self) -> &'static str {
        "identity"
    }

    fn check_payload(&self, payload: &[u8]) -> Result<(), ModuleError> {
        IdentityCall::parse(payload)
            .map(|_| ())
            .map_err(|e| IdentityError::from(e).to_module_error())
    }

    fn init_genesis(&self, _: &mut dyn StateAccess, _: &Genesis) -> Result<(), CallError> {
        Ok(())
    }

    fn execute(&self, ctx: &mut TxContext<'_>, payload: &[u8]) -> Result<(), CallError> {
        match IdentityCall::parse(payload).map_err(IdentityError::from)? {
            IdentityCall::Register => register(ctx),
            IdentityCall::RotateKey { new_key, proof } => rotate_key(ctx, new_key, proof),
            IdentityCall::SetRecovery {
                delegates,
                threshold,
            } => set_recovery(ctx, delegates, threshold),
            IdentityCall::ApproveRecovery {
                did_owner,
                new_key,
                proof,
            } => approve_recovery(ctx, did_owner, new_key, proof),
            IdentityCall::RegisterIssuer {
                name,
                credential_types,
            } => register_issuer(ctx, name, credential_types),
            IdentityCall::Revoke { index } => revoke(ctx, index),
        }
    }

    fn query(
        &self,
        state: &dyn StateReader,
        path: &str,
        data: &[u8],
    ) -> Result<Vec<u8>, CallError> {
        answer_query(state, path, data)
    }
}
