//! Entries, proofs and queries of the log.

use bytes::Bytes;
use counterweight_audit::{AUDIT_MODULE, AuditProof, VerifyError, codes};
use counterweight_bank::{BANK_MODULE, BankCall};
use counterweight_state::TxError;
use counterweight_types::Hash;

use crate::{EMITTER, EMITTER_REFUSED, addr, chain};

#[test]
fn audited_events_become_provable_entries_and_others_do_not() {
    let mut chain = chain();
    let (three, _) = chain
        .send_raw(addr(1), EMITTER, Bytes::from_static(&[3]))
        .expect("emits");
    let (transfer, _) = chain
        .send(
            addr(1),
            BANK_MODULE,
            &BankCall::Transfer {
                to: addr(2),
                amount: 5,
            },
        )
        .expect("transfers");
    let refused = chain
        .send_raw(addr(1), EMITTER, Bytes::from_static(&[0]))
        .expect_err("fails");
    assert_eq!(refused.0, EMITTER_REFUSED);
    let (two, _) = chain
        .send_raw(addr(1), EMITTER, Bytes::from_static(&[2]))
        .expect("emits");
    let state = chain.state();

    // 3 + 2 entries: the bank's transfer and the failed call left nothing.
    assert_eq!(counterweight_audit::leaves(state).unwrap(), 5);
    assert_eq!(
        counterweight_audit::entries_of_tx(state, &three).unwrap(),
        [0, 1, 2]
    );
    assert!(
        counterweight_audit::entries_of_tx(state, &transfer)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        counterweight_audit::entries_of_tx(state, &two).unwrap(),
        [3, 4]
    );

    let root = counterweight_audit::current_root(state).unwrap();
    for index in 0..5 {
        let proof = counterweight_audit::prove(state, index)
            .unwrap()
            .expect("entry");
        assert_eq!(proof.root, root);
        let entry = proof.verify().expect("verifies offline");
        assert_eq!(entry.event.kind, "dataset_committed");
        // The proof survives a JSON round trip (what `audit prove` writes to a file).
        let text = serde_json::to_vec(&proof).unwrap();
        let back: AuditProof = counterweight_audit::proof_from_json(&text).unwrap();
        back.verify().expect("verifies after a round trip");
    }
    assert!(counterweight_audit::prove(state, 5).unwrap().is_none());

    // Tampering: another attribute value, another index, a forged root.
    let good = counterweight_audit::prove(state, 3).unwrap().unwrap();
    let mut p = good.clone();
    p.entry.attributes.insert("n".into(), "7".into());
    assert!(matches!(p.verify(), Err(VerifyError::EntryMismatch(_))));
    let mut p = good.clone();
    p.entry.bytes.replace_range(0..2, "ff");
    assert!(p.verify().is_err());
    let mut p = good.clone();
    p.root.0[0] ^= 1;
    assert!(matches!(p.verify(), Err(VerifyError::Proof(_))));
    let mut p = good;
    p.root_key.push_str("00");
    assert!(matches!(p.verify(), Err(VerifyError::RootKeyMismatch)));

    // Queries answer in JSON.
    let status = chain.query_json(AUDIT_MODULE, "status", &[]);
    assert_eq!(status["leaves"], 5);
    assert_eq!(status["root"], root.to_hex());
    let entries = chain.query_json(AUDIT_MODULE, &format!("tx/{two}"), &[]);
    assert_eq!(entries.as_array().map(Vec::len), Some(2));
    let entry = chain.query_json(AUDIT_MODULE, "entry/4", &[]);
    assert_eq!(entry["index"], 4);
    assert_eq!(entry["tx_hash"], two.to_hex());
    assert_eq!(
        chain.query_json(AUDIT_MODULE, "entry", &4u64.to_be_bytes()),
        entry,
        "the index as 8 bytes of data"
    );
}

#[test]
fn a_missing_entry_is_null_and_a_bad_argument_is_bad_query() {
    let mut chain = chain();
    chain
        .send_raw(addr(1), EMITTER, Bytes::from_static(&[1]))
        .expect("emits");
    for path in ["entry/1", "entry/99", "prove/1", "prove/99"] {
        assert_eq!(
            chain.query_json(AUDIT_MODULE, path, &[]),
            serde_json::Value::Null,
            "{path}"
        );
    }
    assert!(chain.query_json(AUDIT_MODULE, "prove/0", &[]).is_object());
    assert_eq!(
        chain.query_json(AUDIT_MODULE, &format!("tx/{}", Hash([7; 32])), &[]),
        serde_json::json!([])
    );
    for (path, data) in [
        ("entry/-1", &[][..]),
        ("entry", &[1, 2, 3][..]),
        ("prove/x", &[][..]),
        ("tx/abc", &[][..]),
        ("tx", &[0; 31][..]),
    ] {
        assert_eq!(
            chain.query_code(AUDIT_MODULE, path, data),
            codes::BAD_QUERY,
            "{path}"
        );
    }
}

#[test]
fn the_log_takes_no_transactions() {
    let mut chain = chain();
    let audit = chain
        .runtime()
        .module(AUDIT_MODULE)
        .expect("registered")
        .clone();
    for payload in [&b""[..], b"x", &[0; 64]] {
        let err = audit.check_payload(payload).expect_err("refused");
        assert_eq!(err.code, codes::NO_CALLS);
        assert_eq!(
            err.message,
            "the audit log takes no transactions: other modules write it"
        );
    }
    let stx = chain.transaction(addr(1), AUDIT_MODULE, Bytes::from_static(b"x"));
    assert!(chain.runtime().check_stateless(&stx).is_err());
    let rejected = chain
        .try_send(addr(1), AUDIT_MODULE, Bytes::from_static(b"x"))
        .expect_err("refused before execution");
    assert!(matches!(rejected, TxError::Malformed { .. }), "{rejected}");
}
