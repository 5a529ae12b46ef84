//! DID registration, key rotation and k-of-n recovery.

use counterweight_identity::{IdentityCall, codes, did_key, did_of_key, did_record, recovery};
use counterweight_state::test_utils::{TestChain, event};
use counterweight_types::Address;

use crate::support::{IdentityChain, addr, chain, key};

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
    let events = chain.ok(&key(1), &IdentityCall::RotateKey { new_key: addr(2) });
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
        chain.fails(&key(1), &IdentityCall::RotateKey { new_key: addr(3) }),
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
    chain.ok(&key(2), &IdentityCall::RotateKey { new_key: addr(3) });
    // Rotating back to the DID's original key is allowed.
    chain.ok(&key(3), &IdentityCall::RotateKey { new_key: addr(1) });
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
        chain.fails(&key(1), &IdentityCall::RotateKey { new_key: addr(2) }),
        codes::KEY_IN_USE
    );
    assert_eq!(
        chain.fails(&key(1), &IdentityCall::RotateKey { new_key: addr(1) }),
        codes::KEY_IN_USE
    );
    // Not a point on the curve.
    let mut bad = [0u8; 32];
    bad[0] = 2;
    assert_eq!(
        chain.fails(
            &key(1),
            &IdentityCall::RotateKey {
                new_key: Address(bad)
            }
        ),
        codes::INVALID_KEY
    );
    assert_eq!(
        chain.fails(&key(5), &IdentityCall::RotateKey { new_key: addr(6) }),
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

fn approve(did: u64, new_key: u64) -> IdentityCall {
    IdentityCall::ApproveRecovery {
        did_owner: addr(did),
        new_key: addr(new_key),
    }
}

#[test]
fn recovery_rotates_at_k_approvals_and_not_before() {
    let mut chain = chain();
    with_recovery(&mut chain, 2);

    // k - 1 approvals: the key does not change.
    let events = chain.ok(&key(2), &approve(1, 9));
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
    chain.ok(&key(3), &approve(1, 10));
    assert_eq!(
        did_record(&chain.state(), &addr(1))
            .unwrap()
            .unwrap()
            .current_key,
        addr(1)
    );

    // k approvals for the same key: it rotates. Delegate 3 changes its vote.
    let events = chain.ok(&key(3), &approve(1, 9));
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
    chain.ok(&key(9), &IdentityCall::RotateKey { new_key: addr(11) });
}

#[test]
fn recovery_refuses_non_delegates_and_repeated_approvals() {
    let mut chain = chain();
    with_recovery(&mut chain, 2);
    assert_eq!(chain.fails(&key(5), &approve(1, 9)), codes::NOT_DELEGATE);
    // The owner is not its own delegate either.
    assert_eq!(chain.fails(&key(1), &approve(1, 9)), codes::NOT_DELEGATE);
    chain.ok(&key(2), &approve(1, 9));
    assert_eq!(
        chain.fails(&key(2), &approve(1, 9)),
        codes::ALREADY_APPROVED
    );
    assert_eq!(chain.fails(&key(3), &approve(1, 4)), codes::KEY_IN_USE);
    assert_eq!(chain.fails(&key(2), &approve(7, 9)), codes::UNKNOWN_DID);
    chain.ok(&key(7), &IdentityCall::Register);
    assert_eq!(chain.fails(&key(2), &approve(7, 9)), codes::NO_RECOVERY);
}

#[test]
fn a_delegate_that_rotated_still_approves_through_its_new_key() {
    let mut chain = chain();
    with_recovery(&mut chain, 1);
    chain.ok(&key(2), &IdentityCall::RotateKey { new_key: addr(8) });
    assert_eq!(chain.fails(&key(2), &approve(1, 9)), codes::NOT_DELEGATE);
    let events = chain.ok(&key(8), &approve(1, 9));
    event(&events, "recovery_completed");
}

#[test]
fn owner_rotation_voids_pending_approvals() {
    let mut chain = chain();
    with_recovery(&mut chain, 2);
    chain.ok(&key(2), &approve(1, 9));
    chain.ok(&key(1), &IdentityCall::RotateKey { new_key: addr(10) });
    assert!(
        recovery(&chain.state(), &addr(1))
            .unwrap()
            .unwrap()
            .approvals
            .is_empty()
    );
    // One more approval for key 9 is again only the first.
    chain.ok(&key(3), &approve(1, 9));
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
