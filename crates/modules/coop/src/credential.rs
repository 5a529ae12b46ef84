//! Credential admission: checks a presented credential against a coop's admission rule.

use counterweight_state::{CallError, ModuleError};
use counterweight_storage_api::StateReader;
use counterweight_types::{Address, Hash};

use crate::module::codes;

/// Verifies `credential` at block time `now_ms` (signature, validity window, revocation, via
/// the identity module) and checks it was issued by `issuer`, has kind `kind` and names
/// `subject`; returns the credential's id.
pub(crate) fn check(
    state: &dyn StateReader,
    credential: &[u8],
    now_ms: u64,
    issuer: &Address,
    kind: &str,
    subject: &Address,
) -> Result<Hash, CallError> {
    // `check_credential` is `verify_credential` with storage faults kept fatal.
    let vc = match counterweight_identity::check_credential(state, credential, now_ms) {
        Ok(vc) => vc,
        Err(CallError::Failed(e)) => {
            return Err(ModuleError::new(
                codes::CREDENTIAL_INVALID,
                format!("credential does not verify: {}", e.message),
            )
            .into());
        }
        Err(fatal) => return Err(fatal),
    };
    let mismatch = |m: String| Err(ModuleError::new(codes::CREDENTIAL_MISMATCH, m).into());
    if vc.issuer != *issuer {
        return mismatch(format!(
            "credential issuer is {}, this coop accepts {issuer}",
            vc.issuer
        ));
    }
    if vc.kind != kind {
        return mismatch(format!(
            "credential kind is {:?}, this coop accepts {kind:?}",
            vc.kind
        ));
    }
    if vc.subject != *subject {
        return mismatch(format!(
            "credential subject is {}, but {subject} is joining",
            vc.subject
        ));
    }
    Ok(vc.id)
}
