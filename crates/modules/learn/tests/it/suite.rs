//! The shared module suite, run on the learn module.

use counterweight_audit::AUDIT_MODULE;
use counterweight_bank::BANK_MODULE;
use counterweight_learn::{LEARN_MODULE, LearnCall, ModuleCall as _, codes};
use counterweight_state::{SYSTEM_MODULE, test_utils::SuiteCase};
use counterweight_types::Hash;

use crate::support::{LearnChain as _, addr, audited_chain, spec};

fn case() -> SuiteCase {
    let mut chain = audited_chain(3);
    let members = [addr(1), addr(2)];
    let coop = chain.coop(&members, 0);
    let datasets = vec![
        chain.commit(coop, addr(1), 1, 40),
        chain.commit(coop, addr(2), 2, 60),
    ];
    SuiteCase {
        chain,
        module: LEARN_MODULE,
        malformed: codes::MALFORMED,
        bad_query: codes::BAD_QUERY,
        sender: addr(1),
        accepted: LearnCall::OpenTask {
            spec: Box::new(spec(coop, datasets, 1, 1)),
        }
        .to_payload(),
        refused: (
            LearnCall::Start {
                task: Hash([5; 32]),
            }
            .to_payload(),
            codes::UNKNOWN_TASK,
        ),
        fee_modules: vec![BANK_MODULE, SYSTEM_MODULE],
        audit: Some(AUDIT_MODULE),
    }
}

counterweight_state::module_test_suite!(learn, case());
