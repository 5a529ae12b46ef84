//! Issuing credentials off chain and verifying them against chain state.

use std::collections::BTreeMap;

use counterweight_identity::{
    CredentialDraft, IdentityCall, MAX_CREDENTIAL_BYTES, MAX_STATUS_INDEX, codes, did_key,
    is_revoked, issue_credential, revoked_indices, sign_credential, status_list_id,
    verify_credential,
};

use counterweight_state::test_utils::{TestChain, event};

use crate::support::{IdentityChain, addr, chain, key, rotate};

const KIND: &str = "CooperativeMembership";

fn claims() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("coop".to_owned(), "river-farmers".to_owned()),
        ("role".to_owned(), "member".to_owned()),
    ])
}

/// A credential from issuer `seed` to account 5, valid from `from` for `for_ms` (or forever).
fn credential(seed: u64, index: u64, from: u64, for_ms: Option<u64>) -> Vec<u8> {
    issue_credential(
        &key(seed),
        &addr(5),
        KIND,
        claims(),
        index,
        from,
        for_ms.map(|d| from + d),
    )
    .expect("issue")
}

fn code(chain: &TestChain, vc: &[u8]) -> u32 {
    verify_credential(&chain.state(), vc, chain.now_ms())
        .expect_err("credential should be refused")
        .code
}

#[test]
fn a_valid_credential_verifies_with_its_fields() {
    let mut chain = chain();
    chain.issuer(1, &[KIND, "Personhood"]);
    let vc = credential(1, 3, chain.now_ms() - 10, Some(60_000));
    let verified = verify_credential(&chain.state(), &vc, chain.now_ms()).expect("valid");
    assert_eq!(verified.issuer, addr(1));
    assert_eq!(verified.subject, addr(5));
    assert_eq!(verified.kind, KIND);
    assert_eq!(verified.claims, claims());
    assert_eq!(verified.valid_until_ms, Some(chain.now_ms() - 10 + 60_000));
    assert_eq!(verified.id, counterweight_identity::credential_id(&vc));

    // The payload is a plain VC 2.0 credential with a status-list entry.
    let text = String::from_utf8(vc).unwrap();
    let payload = text.split('.').nth(1).unwrap();
    use base64::Engine as _;
    let json: serde_json::Value = serde_json::from_slice(
        &base64::prelude::BASE64_URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(json["@context"][0], "https://www.w3.org/ns/credentials/v2");
    assert_eq!(json["type"][1], KIND);
    assert_eq!(json["issuer"], did_key(&addr(1)));
    assert_eq!(json["credentialSubject"]["id"], did_key(&addr(5)));
    assert_eq!(json["credentialStatus"]["type"], "BitstringStatusListEntry");
    assert_eq!(json["credentialStatus"]["statusListIndex"], "3");
    assert_eq!(
        json["credentialStatus"]["statusListCredential"],
        status_list_id(&addr(1))
    );
}

#[test]
fn a_forged_credential_is_refused() {
    let mut chain = chain();
    chain.issuer(1, &[KIND]);
    let vc = credential(1, 0, chain.now_ms(), None);
    let sig_start = vc.iter().rposition(|b| *b == b'.').unwrap() + 1;
    let payload_start = vc.iter().position(|b| *b == b'.').unwrap() + 1;
    // One byte flipped in the signature.
    let mut forged = vc.clone();
    forged[sig_start + 10] ^= if vc[sig_start + 10] == b'A' {
        3
    } else {
        b'A' ^ vc[sig_start + 10]
    };
    assert_ne!(forged, vc);
    assert_eq!(code(&chain, &forged), codes::BAD_SIGNATURE);
    // Any byte flipped in the payload is refused: as forged, as malformed JSON, or (when it
    // lands in the issuer's DID) as coming from an unknown issuer.
    for at in payload_start..sig_start - 1 {
        let mut forged = vc.clone();
        forged[at] = if vc[at] == b'A' { b'B' } else { b'A' };
        let c = code(&chain, &forged);
        assert!(
            [
                codes::BAD_SIGNATURE,
                codes::CREDENTIAL_MALFORMED,
                codes::UNKNOWN_ISSUER
            ]
            .contains(&c),
            "byte {at}: code {c}"
        );
    }
    // A claim rewritten in an otherwise well-formed payload is a forgery.
    use base64::Engine as _;
    let b64 = base64::prelude::BASE64_URL_SAFE_NO_PAD;
    let text = String::from_utf8(vc).unwrap();
    let parts: Vec<&str> = text.split('.').collect();
    let payload = String::from_utf8(b64.decode(parts[1]).unwrap()).unwrap();
    let altered = payload.replace("\"member\"", "\"admin\"");
    assert_ne!(altered, payload);
    let forged = format!("{}.{}.{}", parts[0], b64.encode(altered), parts[2]);
    assert_eq!(code(&chain, forged.as_bytes()), codes::BAD_SIGNATURE);
}

#[test]
fn a_credential_signed_by_another_key_is_refused() {
    let mut chain = chain();
    chain.issuer(1, &[KIND]);
    // Key 2 claims to sign as issuer 1.
    let vc = sign_credential(
        &key(2),
        &CredentialDraft {
            issuer: addr(1),
            subject: addr(5),
            kind: KIND.to_owned(),
            claims: claims(),
            status_index: 0,
            valid_from_ms: chain.now_ms(),
            valid_until_ms: None,
        },
    )
    .unwrap();
    assert_eq!(code(&chain, &vc), codes::BAD_SIGNATURE);
}

#[test]
fn a_credential_from_an_unregistered_issuer_is_refused() {
    let mut chain = chain();
    // No DID at all.
    let vc = credential(1, 0, chain.now_ms(), None);
    assert_eq!(code(&chain, &vc), codes::UNKNOWN_ISSUER);
    // A DID, but not a registered issuer.
    chain.ok(&key(1), &IdentityCall::Register);
    assert_eq!(code(&chain, &vc), codes::UNKNOWN_ISSUER);
    chain.ok(
        &key(1),
        &IdentityCall::RegisterIssuer {
            name: "Coop registry".into(),
            credential_types: vec![KIND.into()],
        },
    );
    assert!(verify_credential(&chain.state(), &vc, chain.now_ms()).is_ok());
}

#[test]
fn a_credential_of_an_unregistered_type_is_refused() {
    let mut chain = chain();
    chain.issuer(1, &["Personhood"]);
    let vc = credential(1, 0, chain.now_ms(), None);
    assert_eq!(code(&chain, &vc), codes::TYPE_NOT_ALLOWED);
}

#[test]
fn a_revoked_credential_is_refused() {
    let mut chain = chain();
    chain.issuer(1, &[KIND]);
    let revoked = credential(1, 4_100, chain.now_ms(), None);
    let kept = credential(1, 4_101, chain.now_ms(), None);
    let events = chain.ok(&key(1), &IdentityCall::Revoke { index: 4_100 });
    let e = event(&events, "credential_revoked");
    assert_eq!(e.attributes["index"], "4100");
    assert_eq!(e.attributes["issuer"], did_key(&addr(1)));
    assert_eq!(code(&chain, &revoked), codes::REVOKED);
    assert!(verify_credential(&chain.state(), &kept, chain.now_ms()).is_ok());
    assert!(is_revoked(&chain.state(), &addr(1), 4_100).unwrap());
    assert_eq!(
        revoked_indices(&chain.state(), &addr(1)).unwrap(),
        vec![4_100]
    );
}

#[test]
fn revocation_is_only_for_issuers_in_range_and_once() {
    let mut chain = chain();
    chain.ok(&key(2), &IdentityCall::Register);
    assert_eq!(
        chain.fails(&key(2), &IdentityCall::Revoke { index: 1 }),
        codes::NOT_ISSUER
    );
    assert_eq!(
        chain.fails(&key(3), &IdentityCall::Revoke { index: 1 }),
        codes::UNKNOWN_DID
    );
    chain.issuer(1, &[KIND]);
    assert_eq!(
        chain.fails(
            &key(1),
            &IdentityCall::Revoke {
                index: MAX_STATUS_INDEX
            }
        ),
        codes::BAD_STATUS_INDEX
    );
    chain.ok(
        &key(1),
        &IdentityCall::Revoke {
            index: MAX_STATUS_INDEX - 1,
        },
    );
    assert_eq!(
        chain.fails(
            &key(1),
            &IdentityCall::Revoke {
                index: MAX_STATUS_INDEX - 1
            }
        ),
        codes::ALREADY_REVOKED
    );
}

#[test]
fn an_expired_or_not_yet_valid_credential_is_refused() {
    let mut chain = chain();
    chain.issuer(1, &[KIND]);
    let now = chain.now_ms();
    let expired = credential(1, 0, now - 10_000, Some(5_000));
    assert_eq!(code(&chain, &expired), codes::EXPIRED);
    let ends_now = credential(1, 0, now - 10_000, Some(10_000));
    assert_eq!(code(&chain, &ends_now), codes::EXPIRED);
    let future = credential(1, 0, now + 1, None);
    assert_eq!(code(&chain, &future), codes::NOT_YET_VALID);
    assert!(verify_credential(&chain.state(), &future, now + 1).is_ok());
}

#[test]
fn a_credential_signed_by_a_rotated_away_key_is_refused() {
    let mut chain = chain();
    chain.issuer(1, &[KIND]);
    let old = credential(1, 0, chain.now_ms(), None);
    assert!(verify_credential(&chain.state(), &old, chain.now_ms()).is_ok());
    chain.ok(&key(1), &rotate(&chain, 1, 2));
    assert_eq!(code(&chain, &old), codes::KEY_ROTATED);

    // The DID's new key issues for the same DID.
    let draft = CredentialDraft {
        issuer: addr(1),
        subject: addr(5),
        kind: KIND.to_owned(),
        claims: claims(),
        status_index: 1,
        valid_from_ms: chain.now_ms(),
        valid_until_ms: None,
    };
    let fresh = sign_credential(&key(2), &draft).unwrap();
    let verified = verify_credential(&chain.state(), &fresh, chain.now_ms()).unwrap();
    assert_eq!(verified.issuer, addr(1));
    // The old key still signs, but for the rotated DID it is refused.
    let stale = sign_credential(&key(1), &draft).unwrap();
    assert_eq!(code(&chain, &stale), codes::KEY_ROTATED);
    // Issued as `did:key` of the new key itself, there is no such issuer.
    assert_eq!(
        code(&chain, &credential(2, 1, chain.now_ms(), None)),
        codes::UNKNOWN_ISSUER
    );
}

#[test]
fn malformed_and_oversized_credentials_are_refused() {
    let mut chain = chain();
    chain.issuer(1, &[KIND]);
    let vc = credential(1, 0, chain.now_ms(), None);
    for bad in [
        b"".to_vec(),
        b"not a jws".to_vec(),
        b"a.b.c".to_vec(),
        vec![0xff; 10],
        [vc.as_slice(), b".x"].concat(),
        vc[..vc.len() - 1].to_vec(),
    ] {
        let c = code(&chain, &bad);
        assert!(
            c == codes::CREDENTIAL_MALFORMED || c == codes::BAD_SIGNATURE,
            "{:?}: code {c}",
            String::from_utf8_lossy(&bad)
        );
    }
    assert_eq!(code(&chain, b"a.b.c"), codes::CREDENTIAL_MALFORMED);
    let huge = vec![b'a'; MAX_CREDENTIAL_BYTES + 1];
    assert_eq!(code(&chain, &huge), codes::CREDENTIAL_OVERSIZED);
}

#[test]
fn issuing_refuses_out_of_bounds_fields() {
    let k = key(1);
    let s = addr(5);
    assert!(issue_credential(&k, &s, "VerifiableCredential", claims(), 0, 0, None).is_err());
    assert!(issue_credential(&k, &s, "has space", claims(), 0, 0, None).is_err());
    assert!(issue_credential(&k, &s, KIND, claims(), MAX_STATUS_INDEX, 0, None).is_err());
    assert!(issue_credential(&k, &s, KIND, claims(), 0, 10, Some(10)).is_err());
    assert!(issue_credential(&k, &s, KIND, claims(), 0, 10, Some(u64::MAX)).is_err());
    assert!(issue_credential(&k, &s, KIND, claims(), 0, u64::MAX, None).is_err());
    let id_claim = BTreeMap::from([("id".to_owned(), "x".to_owned())]);
    assert!(issue_credential(&k, &s, KIND, id_claim, 0, 0, None).is_err());
    let many: BTreeMap<String, String> =
        (0..33).map(|i| (format!("c{i}"), "v".to_owned())).collect();
    assert!(issue_credential(&k, &s, KIND, many, 0, 0, None).is_err());
}

#[test]
fn issuer_registration_is_validated() {
    let mut chain = chain();
    let register = |name: &str, types: &[&str]| IdentityCall::RegisterIssuer {
        name: name.to_owned(),
        credential_types: types.iter().map(|t| (*t).to_owned()).collect(),
    };
    assert_eq!(
        chain.fails(&key(1), &register("x", &[KIND])),
        codes::UNKNOWN_DID
    );
    chain.ok(&key(1), &IdentityCall::Register);
    assert_eq!(
        chain.fails(&key(1), &register(" ", &[KIND])),
        codes::BAD_ISSUER
    );
    assert_eq!(chain.fails(&key(1), &register("x", &[])), codes::BAD_ISSUER);
    assert_eq!(
        chain.fails(&key(1), &register("x", &[KIND, KIND])),
        codes::BAD_ISSUER
    );
    assert_eq!(
        chain.fails(&key(1), &register("x", &["bad type"])),
        codes::BAD_ISSUER
    );
    let events = chain.ok(&key(1), &register("Coop registry", &[KIND, "Personhood"]));
    let e = event(&events, "issuer_registered");
    assert_eq!(
        e.attributes["credential_types"],
        format!("{KIND},Personhood")
    );
    assert_eq!(
        chain.fails(&key(1), &register("again", &[KIND])),
        codes::ISSUER_EXISTS
    );
}

mod status_list {
    use std::collections::BTreeSet;

    use counterweight_identity::{
        IDENTITY_MODULE, IdentityCall, MAX_STATUS_INDEX, is_revoked, revoked_indices,
    };
    use proptest::prelude::*;

    use crate::support::{IdentityChain, addr, chain};

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn revoked_indices_match_a_reference_set(
            indices in proptest::collection::vec(0..MAX_STATUS_INDEX, 1..12),
            probes in proptest::collection::vec(0..MAX_STATUS_INDEX, 8),
        ) {
            let mut chain = chain();
            chain.issuer(1, &["Personhood"]);
            let mut reference = BTreeSet::new();
            for index in indices {
                let revoked = chain.send(addr(1), IDENTITY_MODULE, &IdentityCall::Revoke { index });
                prop_assert_eq!(revoked.is_ok(), reference.insert(index));
            }
            let view = chain.state();
            prop_assert_eq!(
                revoked_indices(&view, &addr(1)).unwrap(),
                reference.iter().copied().collect::<Vec<_>>()
            );
            for probe in probes {
                prop_assert_eq!(is_revoked(&view, &addr(1), probe).unwrap(), reference.contains(&probe));
            }
        }
    }
}
