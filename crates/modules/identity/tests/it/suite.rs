//! The shared module suite, run on identity (its events are audited).

use counterweight_audit::AUDIT_MODULE;
use counterweight_bank::BANK_MODULE;
use counterweight_identity::{IDENTITY_MODULE, IdentityCall, ModuleCall as _, codes};
use counterweight_state::{SYSTEM_MODULE, test_utils::SuiteCase};
use counterweight_types::Signature;

use crate::support::{addr, chain};

fn case() -> SuiteCase {
    SuiteCase {
        chain: chain(),
        module: IDENTITY_MODULE,
        malformed: codes::MALFORMED,
        bad_query: codes::BAD_QUERY,
        sender: addr(1),
        accepted: IdentityCall::Register.to_payload(),
        // No DID yet: nothing to rotate.
        refused: (
            IdentityCall::RotateKey {
                new_key: addr(2),
                proof: Signature([0; 64]),
            }
            .to_payload(),
            codes::UNKNOWN_DID,
        ),
        fee_modules: vec![BANK_MODULE, SYSTEM_MODULE],
        audit: Some(AUDIT_MODULE),
    }
}

counterweight_state::module_test_suite!(identity, case());
