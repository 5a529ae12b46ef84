//! DID registration, key rotation and k-of-n recovery.

use counterweight_identity::{
    IdentityCall, codes, did_key, did_of_key, did_record, recovery, sign_rotation,
};
use counterweight_state::test_utils::{TestChain, event};
use counterweight_types::{Address, Signature};

use crate::support::{IdentityChain, addr, chain, key, proof, rotate};

#[test]
fn register_writes_the_did_and_refuses_a_second_time() {
    let mut chain = chain();
    let events = chain.ok(&key(1), &IdentityCall::Register);
    let e = event(&events, "did_registered");
    assert_eq!(e.attributes["did"], did_key(&addr(1)));
    let record = did_record(&chain.state(), &addr(1)).unwrap().unwrap();
    assert_eq!(record.current_key, addr(1));
    assert_eq!(did_of_key(&chain.state(), &addr(1)).unwrap(), Some(addr(1)));
    assert_eq!(
        chain.fails(&key(1), &IdentityCall::Register),
        codes::DID_EXISTS
    );
}

#[test]
fn rotation_changes_the_key_but_not_the_did() {
    let mut chain = chain();
    chain.ok(&key(1), &IdentityCall::Register);
    let events = chain.ok(&key(1), &rotate(&chain, 1, 2));
    let e = event(&events, "key_rotated");
    assert_eq!(e.attributes["old_key"], addr(1).to_hex());
    assert_eq!(e.attributes["new_key"], addr(2).to_hex());
    assert_eq!(e.attributes["by"], "owner");

    let view = chain.state();
    let record = did_record(&view, &addr(1)).unwrap().unwrap();
    assert_eq!(record.current_key, addr(2));
    assert_eq!(record.previous_keys.len(), 1);
    assert_eq!(record.previous_keys[0].key, addr(1));
    assert_eq!(did_of_key(&view, &addr(2)).unwrap(), Some(addr(1)));
    assert_eq!(did_of_key(&view, &addr(1)).unwrap(), None);

    // The old key no longer acts for the DID; the new one does.
    assert_eq!(
        chain.fails(&key(1), &rotate(&chain, 1, 3)),
        codes::UNKNOWN_DID
    );
    // The old key cannot register its (taken) DID again.
    assert_eq!(
        chain.fails(&key(1), &IdentityCall::Register),
        codes::DID_EXISTS
    );
    // The new key cannot register a DID of its own while it controls one.
    assert_eq!(
        chain.fails(&key(2), &IdentityCall::Register),
        codes::KEY_IN_USE
    );
    chain.ok(&key(2), &rotate(&chain, 2, 3));
    // Rotating back to the DID's original key is allowed.
    chain.ok(&key(3), &rotate(&chain, 3, 1));
    let record = did_record(&chain.state(), &addr(1)).unwrap().unwrap();
    assert_eq!(record.current_key, addr(1));
    assert_eq!(record.previous_keys.len(), 3);
}

#[test]
fn rotation_refuses_keys_in_use_and_invalid_keys() {
    let mut chain = chain();
    chain.ok(&key(1), &IdentityCall::Register);
    chain.ok(&key(2), &IdentityCall::Register);
    assert_eq!(
        chain.fails(&key(1), &rotate(&chain, 1, 2)),
        codes::KEY_IN_USE
    );
    assert_eq!(
        chain.fails(&key(1), &rotate(&chain, 1, 1)),
        codes::KEY_IN_USE
    );
    // Not a point on the curve.
    let mut bad = [0u8; 32];
    bad[0] = 2;
    assert_eq!(
        chain.fails(
            &key(1),
            &IdentityCall::RotateKey {
                new_key: Address(bad),
                proof: Signature([0; 64]),
            }
        ),
        codes::INVALID_KEY
    );
    assert_eq!(
        chain.fails(&key(5), &rotate(&chain, 5, 6)),
        codes::UNKNOWN_DID
    );
}

fn with_recovery(chain: &mut TestChain, threshold: u8) {
    chain.ok(&key(1), &IdentityCall::Register);
    for seed in [2, 3, 4] {
        chain.ok(&key(seed), &IdentityCall::Register);
    }
    let events = chain.ok(
        &key(1),
        &IdentityCall::SetRecovery {
            delegates: vec![addr(2), addr(3), addr(4)],
            threshold,
        },
    );
    assert_eq!(
        event(&events, "recovery_set").attributes["threshold"],
        threshold.to_string()
    );
}

fn approve(chain: &TestChain, did: u64, new_key: u64) -> IdentityCall {
    IdentityCall::ApproveRecovery {
        did_owner: addr(did),
        new_key: addr(new_key),
        proof: proof(chain, &addr(did), new_key),
    }
}

#[test]
fn recovery_rotates_at_k_approvals_and_not_before() {
    let mut chain = chain();
    with_recovery(&mut chain, 2);

    // k - 1 approvals: the key does not change.
    let events = chain.ok(&key(2), &approve(&chain, 1, 9));
    assert_eq!(
        event(&events, "recovery_approved").attributes["approvals"],
        "1"
    );
    assert!(events.iter().all(|e| e.kind != "key_rotated"));
    assert_eq!(
        did_record(&chain.state(), &addr(1))
            .unwrap()
            .unwrap()
            .current_key,
        addr(1)
    );
    // An approval for another key does not count towards key 9.
    chain.ok(&key(3), &approve(&chain, 1, 10));
    assert_eq!(
        did_record(&chain.state(), &addr(1))
            .unwrap()
            .unwrap()
            .current_key,
        addr(1)
    );

    // k approvals for the same key: it rotates. Delegate 3 changes its vote.
    let events = chain.ok(&key(3), &approve(&chain, 1, 9));
    let rotated = event(&events, "key_rotated");
    assert_eq!(rotated.attributes["by"], "recovery");
    assert_eq!(
        event(&events, "recovery_completed").attributes["new_key"],
        addr(9).to_hex()
    );
    let view = chain.state();
    assert_eq!(
        did_record(&view, &addr(1)).unwrap().unwrap().current_key,
        addr(9)
    );
    assert_eq!(did_of_key(&view, &addr(9)).unwrap(), Some(addr(1)));
    assert!(
        recovery(&view, &addr(1))
            .unwrap()
            .unwrap()
            .approvals
            .is_empty()
    );

    // The recovered key now acts for the DID.
    chain.ok(&key(9), &rotate(&chain, 9, 11));
}

#[test]
fn recovery_refuses_non_delegates_and_repeated_approvals() {
    let mut chain = chain();
    with_recovery(&mut chain, 2);
    assert_eq!(
        chain.fails(&key(5), &approve(&chain, 1, 9)),
        codes::NOT_DELEGATE
    );
    // The owner is not its own delegate either.
    assert_eq!(
        chain.fails(&key(1), &approve(&chain, 1, 9)),
        codes::NOT_DELEGATE
    );
    chain.ok(&key(2), &approve(&chain, 1, 9));
    assert_eq!(
        chain.fails(&key(2), &approve(&chain, 1, 9)),
        codes::ALREADY_APPROVED
    );
    assert_eq!(
        chain.fails(&key(3), &approve(&chain, 1, 4)),
        codes::KEY_IN_USE
    );
    assert_eq!(
        chain.fails(&key(2), &approve(&chain, 7, 9)),
        codes::UNKNOWN_DID
    );
    chain.ok(&key(7), &IdentityCall::Register);
    assert_eq!(
        chain.fails(&key(2), &approve(&chain, 7, 9)),
        codes::NO_RECOVERY
    );
}

#[test]
fn a_delegate_that_rotated_still_approves_through_its_new_key() {
    let mut chain = chain();
    with_recovery(&mut chain, 1);
    chain.ok(&key(2), &rotate(&chain, 2, 8));
    assert_eq!(
        chain.fails(&key(2), &approve(&chain, 1, 9)),
        codes::NOT_DELEGATE
    );
    let events = chain.ok(&key(8), &approve(&chain, 1, 9));
    event(&events, "recovery_completed");
}

#[test]
fn owner_rotation_voids_pending_approvals() {
    let mut chain = chain();
    with_recovery(&mut chain, 2);
    chain.ok(&key(2), &approve(&chain, 1, 9));
    chain.ok(&key(1), &rotate(&chain, 1, 10));
    assert!(
        recovery(&chain.state(), &addr(1))
            .unwrap()
            .unwrap()
            .approvals
            .is_empty()
    );
    // One more approval for key 9 is again only the first.
    chain.ok(&key(3), &approve(&chain, 1, 9));
    assert_eq!(
        did_record(&chain.state(), &addr(1))
            .unwrap()
            .unwrap()
            .current_key,
        addr(10)
    );
}

#[test]
fn set_recovery_validates_delegates_and_threshold() {
    let mut chain = chain();
    chain.ok(&key(1), &IdentityCall::Register);
    let cases = [
        (vec![], 1),
        (vec![addr(2), addr(3)], 0),
        (vec![addr(2), addr(3)], 3),
        (vec![addr(2), addr(2)], 1),
        (vec![addr(1), addr(2)], 1),
    ];
    for (delegates, threshold) in cases {
        assert_eq!(
            chain.fails(
                &key(1),
                &IdentityCall::SetRecovery {
                    delegates,
                    threshold
                }
            ),
            codes::BAD_RECOVERY
        );
    }
    assert_eq!(
        chain.fails(
            &key(5),
            &IdentityCall::SetRecovery {
                delegates: vec![addr(2)],
                threshold: 1
            }
        ),
        codes::UNKNOWN_DID
    );
}

/// Issue 12 (audit M4): a rotation names a new key only with that key's consent.
#[test]
fn rotating_to_a_victims_key_without_its_signature_is_refused() {
    let mut chain = chain();
    chain.ok(&key(1), &IdentityCall::Register);
    // Signed by the attacker's own key, or not at all.
    for forged in [
        sign_rotation(&key(1), chain.chain_id(), &addr(1), &addr(1), 0),
        Signature([0; 64]),
    ] {
        let call = IdentityCall::RotateKey {
            new_key: addr(2),
            proof: forged,
        };
        assert_eq!(chain.fails(&key(1), &call), codes::BAD_KEY_PROOF);
    }
    // The victim's consent to another rotation does not carry over: not to another DID,
    // another chain, or another point of this DID's key history.
    let other_chain = "other-chain".parse().unwrap();
    for replayed in [
        sign_rotation(&key(2), chain.chain_id(), &addr(3), &addr(3), 0),
        sign_rotation(&key(2), &other_chain, &addr(1), &addr(1), 0),
        sign_rotation(&key(2), chain.chain_id(), &addr(1), &addr(1), 1),
    ] {
        let call = IdentityCall::RotateKey {
            new_key: addr(2),
            proof: replayed,
        };
        assert_eq!(chain.fails(&key(1), &call), codes::BAD_KEY_PROOF);
    }
    // Nor can delegates recover a DID onto a key that did not sign.
    chain.ok(&key(4), &IdentityCall::Register);
    chain.ok(
        &key(1),
        &IdentityCall::SetRecovery {
            delegates: vec![addr(4)],
            threshold: 1,
        },
    );
    let forged = IdentityCall::ApproveRecovery {
        did_owner: addr(1),
        new_key: addr(2),
        proof: sign_rotation(&key(4), chain.chain_id(), &addr(1), &addr(1), 0),
    };
    assert_eq!(chain.fails(&key(4), &forged), codes::BAD_KEY_PROOF);
    assert_eq!(did_of_key(&chain.state(), &addr(2)).unwrap(), None);
    // The victim still registers its own DID.
    chain.ok(&key(2), &IdentityCall::Register);
}

#[test]
fn rotation_with_the_new_keys_signature_goes_through() {
    let mut chain = chain();
    chain.ok(&key(1), &IdentityCall::Register);
    chain.ok(&key(1), &rotate(&chain, 1, 2));
    assert_eq!(did_of_key(&chain.state(), &addr(2)).unwrap(), Some(addr(1)));
    // A proof is good once: replaying the same call after the rotation fails.
    let stale = IdentityCall::RotateKey {
        new_key: addr(3),
        proof: sign_rotation(&key(3), chain.chain_id(), &addr(1), &addr(1), 0),
    };
    assert_eq!(chain.fails(&key(2), &stale), codes::BAD_KEY_PROOF);
}

/// Issue 12 (audit M4, the lockout repro): an attacker fills its key history and then
/// tries to park its DID on the victim's key; the victim keeps its identity.
#[test]
fn an_attacker_cannot_lock_a_victim_out_of_its_did() {
    let mut chain = chain();
    chain.ok(&key(1), &IdentityCall::Register);
    for i in 0..63 {
        let (from, to) = if i % 2 == 0 { (1, 3) } else { (3, 1) };
        chain.ok(&key(from), &rotate(&chain, from, to));
    }
    let call = IdentityCall::RotateKey {
        new_key: addr(2),
        proof: sign_rotation(&key(3), chain.chain_id(), &addr(1), &addr(3), 63),
    };
    assert_eq!(chain.fails(&key(3), &call), codes::BAD_KEY_PROOF);
    chain.ok(&key(2), &IdentityCall::Register);
    chain.ok(&key(2), &rotate(&chain, 2, 4));
}
