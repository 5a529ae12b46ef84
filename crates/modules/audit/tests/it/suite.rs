//! The shared module suite around the audit log.
//!
//! The audit module takes no transactions, so the suite's call checks run on the stand-in AI
//! module with the audit log registered as module and recorder: its accepted call's events
//! must come back from the log's `tx/HASH` query, and its refused call must leave the log
//! untouched. The audit module's own queries run the suite's query check.

use bytes::Bytes;
use counterweight_audit::{AUDIT_MODULE, codes};
use counterweight_bank::BANK_MODULE;
use counterweight_state::{
    SYSTEM_MODULE,
    test_utils::{SuiteCase, suite},
};

use crate::{EMITTER, EMITTER_BAD_QUERY, EMITTER_MALFORMED, EMITTER_REFUSED, addr, chain};

fn case() -> SuiteCase {
    SuiteCase {
        chain: chain(),
        module: EMITTER,
        malformed: EMITTER_MALFORMED,
        bad_query: EMITTER_BAD_QUERY,
        sender: addr(1),
        accepted: Bytes::from_static(&[2]),
        refused: (Bytes::from_static(&[0]), EMITTER_REFUSED),
        fee_modules: vec![BANK_MODULE, SYSTEM_MODULE],
        audit: Some(AUDIT_MODULE),
    }
}

counterweight_state::module_test_suite!(audited, case());

#[test]
fn unknown_audit_query_is_bad_query() {
    suite::unknown_query_is_bad_query(SuiteCase {
        module: AUDIT_MODULE,
        malformed: codes::NO_CALLS,
        bad_query: codes::BAD_QUERY,
        ..case()
    });
}
