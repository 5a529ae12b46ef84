//! Joining by credential: valid, forged, revoked, expired and mismatched credentials.

use std::collections::BTreeMap;

use commonware_codec::Encode as _;
use counterweight_coop::{Admission, CoopCall, codes, is_member};
use counterweight_crypto::SigningKey;
use counterweight_identity::{
    CredentialDraft, IDENTITY_MODULE, IdentityCall, issue_credential, sign_credential,
};
use counterweight_state::test_utils::{TestChain, attr};
use counterweight_types::{Address, Hash, ReceiptStatus};

use crate::{CoopChain, ISSUER_SEEDS, addr, chain};

const KIND: &str = "Farmer";

/// Registers `key` as an issuer of `Farmer` and `Buyer` credentials.
fn register_issuer(chain: &mut TestChain, key: &SigningKey) {
    for call in [
        IdentityCall::Register,
        IdentityCall::RegisterIssuer {
            name: "valley union".into(),
            credential_types: vec![KIND.into(), "Buyer".into()],
        },
    ] {
        let receipt = chain
            .try_send(key.address(), IDENTITY_MODULE, call.encode())
            .expect("accepted");
        assert_eq!(receipt.status, ReceiptStatus::Ok, "identity call {call:?}");
    }
}

fn setup() -> (TestChain, SigningKey, Hash) {
    let mut chain = chain();
    let issuer = SigningKey::from_seed(ISSUER_SEEDS[0]);
    register_issuer(&mut chain, &issuer);
    let coop = chain.create(
        addr(0),
        Admission::ByCredential {
            issuer: issuer.address(),
            kind: KIND.into(),
        },
    );
    (chain, issuer, coop)
}

fn credential(issuer: &SigningKey, subject: &Address, kind: &str, index: u64) -> Vec<u8> {
    issue_credential(issuer, subject, kind, BTreeMap::new(), index, 0, None).expect("issues")
}

fn join(coop: Hash, credential: Vec<u8>) -> CoopCall {
    CoopCall::Join {
        coop,
        credential: Some(credential),
    }
}

#[test]
fn valid_credential_joins_at_once() {
    let (mut chain, issuer, coop) = setup();
    let vc = credential(&issuer, &addr(1), KIND, 0);
    let events = chain.ok(addr(1), &join(coop, vc.clone()));
    assert_eq!(attr(&events, "member_joined", "member"), addr(1).to_hex());
    assert_eq!(
        attr(&events, "member_joined", "credential"),
        counterweight_identity::credential_id(&vc).to_hex()
    );
    assert!(is_member(chain.state(), &coop, &addr(1)).unwrap());
    chain.refused(addr(1), &join(coop, vc), codes::ALREADY_MEMBER);
}

#[test]
fn forged_credential_is_refused() {
    let (mut chain, issuer, coop) = setup();
    // Signed by another key while naming the coop's issuer.
    let forger = SigningKey::from_seed(ISSUER_SEEDS[1]);
    let forged = sign_credential(
        &forger,
        &CredentialDraft {
            issuer: issuer.address(),
            subject: addr(1),
            kind: KIND.into(),
            claims: BTreeMap::new(),
            status_index: 0,
            valid_from_ms: 0,
            valid_until_ms: None,
        },
    )
    .expect("signs");
    chain.refused(addr(1), &join(coop, forged), codes::CREDENTIAL_INVALID);
    // A tampered byte breaks the signature or the encoding.
    let mut tampered = credential(&issuer, &addr(1), KIND, 0);
    let middle = tampered.len() / 2;
    tampered[middle] = if tampered[middle] == b'A' { b'B' } else { b'A' };
    chain.refused(addr(1), &join(coop, tampered), codes::CREDENTIAL_INVALID);
    chain.refused(
        addr(1),
        &join(coop, b"not a credential".to_vec()),
        codes::CREDENTIAL_INVALID,
    );
    assert!(!is_member(chain.state(), &coop, &addr(1)).unwrap());
}

#[test]
fn revoked_credential_is_refused() {
    let (mut chain, issuer, coop) = setup();
    let vc = credential(&issuer, &addr(1), KIND, 3);
    let receipt = chain
        .try_send(
            issuer.address(),
            IDENTITY_MODULE,
            IdentityCall::Revoke { index: 3 }.encode(),
        )
        .expect("accepted");
    assert_eq!(receipt.status, ReceiptStatus::Ok);
    chain.refused(addr(1), &join(coop, vc), codes::CREDENTIAL_INVALID);
}

#[test]
fn expired_credential_is_refused() {
    let (mut chain, issuer, coop) = setup();
    let vc = issue_credential(&issuer, &addr(1), KIND, BTreeMap::new(), 0, 0, Some(500))
        .expect("issues");
    assert!(chain.now_ms() > 500);
    chain.refused(addr(1), &join(coop, vc), codes::CREDENTIAL_INVALID);
}

#[test]
fn credential_of_another_subject_kind_or_issuer_is_refused() {
    let (mut chain, issuer, coop) = setup();
    let someone_else = credential(&issuer, &addr(2), KIND, 0);
    chain.refused(
        addr(1),
        &join(coop, someone_else),
        codes::CREDENTIAL_MISMATCH,
    );
    let wrong_kind = credential(&issuer, &addr(1), "Buyer", 1);
    chain.refused(addr(1), &join(coop, wrong_kind), codes::CREDENTIAL_MISMATCH);
    let other_issuer = SigningKey::from_seed(ISSUER_SEEDS[1]);
    register_issuer(&mut chain, &other_issuer);
    let wrong_issuer = credential(&other_issuer, &addr(1), KIND, 0);
    chain.refused(
        addr(1),
        &join(coop, wrong_issuer),
        codes::CREDENTIAL_MISMATCH,
    );
}
