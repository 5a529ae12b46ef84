//! The shared module suite, run on the coop.

use counterweight_audit::AUDIT_MODULE;
use counterweight_bank::BANK_MODULE;
use counterweight_coop::{Admission, COOP_MODULE, CoopCall, ModuleCall as _, codes};
use counterweight_state::{SYSTEM_MODULE, test_utils::SuiteCase};
use counterweight_types::Hash;

use crate::{addr, chain, rules};

fn case() -> SuiteCase {
    SuiteCase {
        chain: chain(),
        module: COOP_MODULE,
        malformed: codes::MALFORMED,
        bad_query: codes::BAD_QUERY,
        sender: addr(0),
        accepted: CoopCall::Create {
            name: "farmers".into(),
            rules: rules(Admission::ByVote),
        }
        .to_payload(),
        refused: (
            CoopCall::Join {
                coop: Hash([9; 32]),
                credential: None,
            }
            .to_payload(),
            codes::UNKNOWN_COOP,
        ),
        fee_modules: vec![BANK_MODULE, SYSTEM_MODULE],
        audit: Some(AUDIT_MODULE),
    }
}

counterweight_state::module_test_suite!(coop, case());
