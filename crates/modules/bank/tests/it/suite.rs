//! The shared module suite, run on the bank.

use counterweight_bank::{BANK_MODULE, BankCall, ModuleCall as _, codes};
use counterweight_state::{SYSTEM_MODULE, test_utils::SuiteCase};

use crate::{addr, chain};

fn case() -> SuiteCase {
    SuiteCase {
        chain: chain(),
        module: BANK_MODULE,
        malformed: codes::MALFORMED,
        bad_query: codes::BAD_QUERY,
        sender: addr(0),
        accepted: BankCall::Transfer {
            to: addr(1),
            amount: 10,
        }
        .to_payload(),
        refused: (
            BankCall::Transfer {
                to: addr(1),
                amount: 1_000_000,
            }
            .to_payload(),
            codes::INSUFFICIENT_FUNDS,
        ),
        fee_modules: vec![BANK_MODULE, SYSTEM_MODULE],
        // The audit log leaves bank events out.
        audit: None,
    }
}

counterweight_state::module_test_suite!(bank, case());
