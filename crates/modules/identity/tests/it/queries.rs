//! JSON queries: DID documents, issuers, status lists, verification.

use std::collections::BTreeMap;

use counterweight_identity::{
    IDENTITY_MODULE, IdentityCall, codes, did_key, issue_credential, key_multibase,
};

use crate::support::{IdentityChain, addr, chain, key, rotate};

#[test]
fn did_query_returns_the_document_with_the_current_key() {
    let mut chain = chain();
    chain.ok(&key(1), &IdentityCall::Register);
    chain.ok(&key(1), &rotate(&chain, 1, 2));
    let did = did_key(&addr(1));
    for (path, data) in [
        ("did".to_owned(), addr(1).0.to_vec()),
        (format!("did/{}", addr(1).to_hex()), vec![]),
        (format!("did/{did}"), vec![]),
        ("did".to_owned(), did.as_bytes().to_vec()),
    ] {
        let out = chain.identity_query(&path, &data);
        let doc = &out["didDocument"];
        assert_eq!(doc["id"], did, "{path}");
        assert_eq!(
            doc["verificationMethod"][0]["publicKeyMultibase"],
            key_multibase(&addr(2))
        );
        assert_eq!(doc["verificationMethod"][0]["type"], "Multikey");
        assert_eq!(
            out["didDocumentMetadata"]["previousKeys"][0]["address"],
            addr(1).to_hex()
        );
    }
    assert_eq!(
        chain.identity_query("did", &addr(7).0),
        serde_json::Value::Null
    );
    assert_eq!(chain.identity_query("controller", &addr(2).0)["did"], did);
    assert_eq!(chain.identity_query_code("did", b"junk"), codes::BAD_QUERY);
    assert_eq!(chain.identity_query_code("nope", &[]), codes::BAD_QUERY);
}

#[test]
fn issuer_status_and_verify_queries() {
    let mut chain = chain();
    chain.issuer(1, &["Personhood"]);
    chain.ok(&key(1), &IdentityCall::Revoke { index: 9 });
    chain.ok(&key(1), &IdentityCall::Revoke { index: 2 });
    let issuer = chain.identity_query("issuer", &addr(1).0);
    assert_eq!(issuer["credential_types"][0], "Personhood");
    assert_eq!(issuer["revoked"], 2);
    let status = chain.identity_query(&format!("status/{}", addr(1).to_hex()), &[]);
    assert_eq!(status["revoked"], serde_json::json!([2, 9]));

    let now = chain.now_ms();
    let vc = issue_credential(
        &key(1),
        &addr(5),
        "Personhood",
        BTreeMap::new(),
        3,
        now,
        None,
    )
    .unwrap();
    let ok = chain.identity_query(&format!("verify/{now}"), &vc);
    assert_eq!(ok["valid"], true);
    assert_eq!(ok["credential"]["kind"], "Personhood");
    assert_eq!(ok["subject_did"], did_key(&addr(5)));
    // Answers keep their keys in sorted order, as they always had.
    let raw = chain
        .query(IDENTITY_MODULE, &format!("verify/{now}"), &vc)
        .expect("answers");
    let raw = String::from_utf8(raw).expect("utf-8");
    assert!(
        raw.starts_with("{\"credential\":{\"claims\":{},\"id\":"),
        "{raw}"
    );
    assert!(
        raw.contains("\"valid_until_ms\":null},\"issuer_did\":\"did:key:"),
        "{raw}"
    );
    assert!(raw.ends_with(",\"valid\":true}"), "{raw}");
    let early = chain.identity_query(&format!("verify/{}", now - 1), &vc);
    assert_eq!(early["valid"], false);
    assert_eq!(early["code"], codes::NOT_YET_VALID);
    // Without a time, the query verifies at the latest block's time.
    assert_eq!(chain.identity_query("verify", &vc)["now_ms"], now);
    assert_eq!(
        chain.identity_query_code("verify/soon", &vc),
        codes::BAD_QUERY
    );
}

/// Issue 12 (audit L5): the chain keeps its block time in state, so `verify` needs no time
/// from the caller.
#[test]
fn verify_without_a_time_uses_the_block_time() {
    let mut chain = chain();
    chain.issuer(1, &["Personhood"]);
    let now = chain.now_ms();
    let vc = issue_credential(
        &key(1),
        &addr(5),
        "Personhood",
        BTreeMap::new(),
        3,
        now,
        Some(now + 10_000),
    )
    .unwrap();
    let ok = chain.identity_query("verify", &vc);
    assert_eq!(ok["valid"], true, "{ok}");
    assert_eq!(ok["now_ms"], now);
    // Later blocks move the time the query verifies at.
    chain.advance_ms(20_000);
    chain.ok(&key(2), &IdentityCall::Register);
    let late = chain.identity_query("verify", &vc);
    assert_eq!(late["valid"], false);
    assert_eq!(late["code"], codes::EXPIRED);
    assert_eq!(late["now_ms"], chain.now_ms());
}
