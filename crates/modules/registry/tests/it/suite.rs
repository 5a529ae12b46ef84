//! The shared module suite, run on the registry with the audit log recording its events.

use std::sync::Arc;

use counterweight_audit::{AUDIT_MODULE, Audit};
use counterweight_bank::{BANK_MODULE, Bank};
use counterweight_coop::CoopModule;
use counterweight_learn::Learn;
use counterweight_registry::{ModuleCall as _, REGISTRY_MODULE, Registry, RegistryCall, codes};
use counterweight_state::{
    SYSTEM_MODULE,
    test_utils::{SuiteCase, TestChain},
};
use counterweight_types::Hash;

use crate::{ALICE, addr, create_repo_payload};

fn case() -> SuiteCase {
    let bank = Arc::new(Bank);
    let chain = TestChain::builder(bank.clone())
        .module(bank)
        .module(Arc::new(CoopModule))
        .module(Arc::new(Learn))
        .module(Arc::new(Registry))
        .module(Arc::new(Audit))
        .recorder(Arc::new(Audit))
        .account(addr(ALICE), 1_000_000)
        .chain_id("registry-test")
        .proposer(addr(7))
        .build();
    SuiteCase {
        chain,
        module: REGISTRY_MODULE,
        malformed: codes::MALFORMED,
        bad_query: codes::BAD_QUERY,
        sender: addr(ALICE),
        accepted: create_repo_payload("digits"),
        refused: (
            RegistryCall::AddMaintainer {
                repo: Hash([0xcc; 32]),
                maintainer: addr(2),
            }
            .to_payload(),
            codes::UNKNOWN_REPO,
        ),
        fee_modules: vec![BANK_MODULE, SYSTEM_MODULE],
        audit: Some(AUDIT_MODULE),
    }
}

counterweight_state::module_test_suite!(registry, case());
