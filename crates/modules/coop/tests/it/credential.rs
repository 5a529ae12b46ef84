//! Joining by credential: valid, forged, revoked, expired and mismatched credentials.

use std::collections::BTreeMap;

use commonware_codec::Encode as _;
use counterweight_coop::{Admission, Consent, CoopCall, ProposalKind, codes, is_member};
use counterweight_crypto::SigningKey;
use counterweight_identity::{
    CredentialDraft, IDENTITY_MODULE, IdentityCall, issue_credential, sign_credential,
};
use counterweight_state::test_utils::{TestChain, attr};
use counterweight_types::{Address, Hash, ReceiptStatus};

use crate::{CoopChain as _, ISSUER_SEEDS, addr, chain};

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

fn revoke(chain: &mut TestChain, issuer: &SigningKey, index: u64) {
    let receipt = chain
        .try_send(
            issuer.address(),
            IDENTITY_MODULE,
            IdentityCall::Revoke { index }.encode(),
        )
        .expect("accepted");
    assert_eq!(receipt.status, ReceiptStatus::Ok);
}

fn commit_dataset(coop: Hash, seed: u8) -> CoopCall {
    CoopCall::CommitDataset {
        coop,
        root: Hash([seed; 32]),
        schema: "a,b".into(),
        records: 10,
        consent: Consent {
            training: true,
            commercial: false,
            derivatives: false,
        },
    }
}

fn spend(coop: Hash) -> CoopCall {
    CoopCall::Propose {
        coop,
        kind: ProposalKind::Spend {
            to: addr(5),
            amount: 1,
        },
    }
}

/// Issue 12 (audit L3): a membership gated by a credential lasts only as long as the
/// credential, checked wherever the membership is used.
#[test]
fn a_revoked_credential_ends_the_membership_it_gated() {
    let (mut chain, issuer, coop) = setup();
    chain.ok(addr(1), &join(coop, credential(&issuer, &addr(1), KIND, 3)));
    chain.ok(addr(1), &commit_dataset(coop, 1));
    let open = chain.propose(
        addr(0),
        coop,
        ProposalKind::Spend {
            to: addr(5),
            amount: 1,
        },
    );
    revoke(&mut chain, &issuer, 3);

    assert!(!is_member(chain.state(), &coop, &addr(1)).unwrap());
    chain.refused(addr(1), &commit_dataset(coop, 2), codes::MEMBERSHIP_LAPSED);
    chain.refused(addr(1), &spend(coop), codes::MEMBERSHIP_LAPSED);
    chain.refused(
        addr(1),
        &CoopCall::Vote {
            proposal: open,
            yes: true,
        },
        codes::MEMBERSHIP_LAPSED,
    );
    // The founder, admitted without a credential, is unaffected.
    assert!(is_member(chain.state(), &coop, &addr(0)).unwrap());
    // A lapsed member rejoins with a valid credential.
    chain.ok(addr(1), &join(coop, credential(&issuer, &addr(1), KIND, 4)));
    assert!(is_member(chain.state(), &coop, &addr(1)).unwrap());
    chain.ok(addr(1), &commit_dataset(coop, 3));
}

/// Issue 12 (audit L3): the same for a credential's `validUntil`.
#[test]
fn an_expired_credential_ends_the_membership_it_gated() {
    let (mut chain, issuer, coop) = setup();
    let until = chain.now_ms() + 5_000;
    let vc = issue_credential(&issuer, &addr(1), KIND, BTreeMap::new(), 0, 0, Some(until))
        .expect("issues");
    chain.ok(addr(1), &join(coop, vc));
    chain.ok(addr(1), &commit_dataset(coop, 1));
    assert!(is_member(chain.state(), &coop, &addr(1)).unwrap());
    chain.advance_ms(5_000);
    chain.refused(addr(1), &commit_dataset(coop, 2), codes::MEMBERSHIP_LAPSED);
    assert!(!is_member(chain.state(), &coop, &addr(1)).unwrap());
    chain.ok(addr(1), &CoopCall::Leave { coop });
    assert!(!is_member(chain.state(), &coop, &addr(1)).unwrap());
}
