//! Credential admission: checks a presented credential against a coop's admission rule.

use counterweight_identity::VerifiedCredential;
use counterweight_state::CallError;
use counterweight_storage_api::StateReader;
use counterweight_types::Address;

use crate::CoopError;

/// Verifies `credential` at block time `now_ms` (signature, validity window, revocation, via
/// the identity module) and checks it was issued by `issuer`, has kind `kind` and names
/// `subject`; returns the verified credential.
pub(crate) fn check(
    state: &dyn StateReader,
    credential: &[u8],
    now_ms: u64,
    issuer: &Address,
    kind: &str,
    subject: &Address,
) -> Result<VerifiedCredential, CallError> {
    // `check_credential` is `verify_credential` with storage faults kept fatal.
    let vc = match counterweight_identity::check_credential(state, credential, now_ms) {
        Ok(vc) => vc,
        Err(CallError::Failed(source)) => {
            return Err(CoopError::CredentialInvalid { source }.into());
        }
        Err(fatal) => return Err(fatal),
    };
    if vc.issuer != *issuer {
        return Err(CoopError::IssuerMismatch {
            got: vc.issuer,
            accepted: *issuer,
        }
        .into());
    }
    if vc.kind != kind {
        return Err(CoopError::KindMismatch {
            got: vc.kind,
            accepted: kind.to_owned(),
        }
        .into());
    }
    if vc.subject != *subject {
        return Err(CoopError::SubjectMismatch {
            got: vc.subject,
            joining: *subject,
        }
        .into());
    }
    Ok(vc)
}
