//! Integration tests of the storage API: state proofs served by a real store verify here,
//! without the database, and anything altered is refused.

use std::collections::BTreeMap;

use counterweight_storage::{BlockCommit, Store};
use counterweight_storage_api::{ProofError, StateChanges, StateProof, verify_state_proof};
use counterweight_types::{Address, Block, ChainId, Hash, Header, Height, tx_root};

/// A store with one committed block holding `pairs`, and its state root.
fn committed(pairs: &[(&[u8], &[u8])]) -> (Store, Hash) {
    let store = Store::in_memory().expect("store");
    let changes: StateChanges = pairs
        .iter()
        .map(|(k, v)| (k.to_vec(), Some(v.to_vec())))
        .collect::<BTreeMap<_, _>>();
    let delta = store
        .speculate(&[], &changes, Height(0))
        .expect("speculate");
    let block = Block {
        header: Header {
            chain_id: ChainId::new("proofs").expect("chain id"),
            height: Height(0),
            parent: Hash::ZERO,
            timestamp_ms: 0,
            proposer: Address::ZERO,
            tx_root: tx_root([]),
            state_root: delta.root(),
        },
        txs: vec![],
    };
    store
        .commit(BlockCommit {
            block: &block,
            receipts: &[],
            changes: &changes,
            delta: &delta,
        })
        .expect("commit");
    (store, delta.root())
}

fn proof_of(store: &Store, key: &[u8]) -> StateProof {
    store.prove(key).expect("read").expect("a committed block")
}

#[test]
fn an_inclusion_proof_round_trips_and_verifies() {
    let (store, root) = committed(&[(b"alice", b"10"), (b"bob", b"20")]);
    let proof = proof_of(&store, b"alice");
    assert_eq!(proof.root, root);
    assert_eq!(proof.height, Height(0));
    assert_eq!(proof.value.as_deref(), Some(&b"10"[..]));

    // Through JSON (the RPC's form) and back: still the same proof, still verifies.
    let json = serde_json::to_string(&proof).expect("encode");
    let back: StateProof = serde_json::from_str(&json).expect("decode");
    assert_eq!(back, proof);
    back.verify().expect("a served proof verifies");
    verify_state_proof(&root, b"alice", Some(b"10"), &back.proof).expect("raw form verifies");
}

#[test]
fn a_non_inclusion_proof_verifies_absence_only() {
    let (store, root) = committed(&[(b"alice", b"10")]);
    let proof = proof_of(&store, b"carol");
    assert_eq!(proof.value, None);
    proof.verify().expect("absence is proven");
    assert!(
        verify_state_proof(&root, b"carol", Some(b"10"), &proof.proof).is_err(),
        "an absence proof must not prove a value"
    );
}

#[test]
fn a_wrong_value_is_rejected() {
    let (store, root) = committed(&[(b"alice", b"10"), (b"bob", b"20")]);
    let proof = proof_of(&store, b"alice");
    let err = verify_state_proof(&root, b"alice", Some(b"11"), &proof.proof)
        .expect_err("a different value");
    assert!(matches!(err, ProofError::Mismatch(_)), "{err:?}");
    assert!(
        verify_state_proof(&root, b"alice", None, &proof.proof).is_err(),
        "claiming absence of a present key"
    );
}

#[test]
fn a_wrong_root_or_key_is_rejected() {
    let (store, _) = committed(&[(b"alice", b"10"), (b"bob", b"20")]);
    let (_, other_root) = committed(&[(b"alice", b"10"), (b"bob", b"21")]);
    let proof = proof_of(&store, b"alice");
    assert!(verify_state_proof(&other_root, b"alice", Some(b"10"), &proof.proof).is_err());
    assert!(verify_state_proof(&Hash::ZERO, b"alice", Some(b"10"), &proof.proof).is_err());
    assert!(
        verify_state_proof(&proof.root, b"bob", Some(b"10"), &proof.proof).is_err(),
        "a proof for one key does not prove another"
    );
}

#[test]
fn a_tampered_proof_is_rejected() {
    let (store, root) = committed(&[(b"alice", b"10"), (b"bob", b"20"), (b"carol", b"30")]);
    let proof = proof_of(&store, b"alice");
    let mut refused = 0;
    for i in 0..proof.proof.len() {
        let mut bytes = proof.proof.clone();
        bytes[i] ^= 0x01;
        if verify_state_proof(&root, b"alice", Some(b"10"), &bytes).is_err() {
            refused += 1;
        }
    }
    // Every bit is either a hash the root commits to or structure that then fails to decode.
    assert_eq!(
        refused,
        proof.proof.len(),
        "every single-bit change is refused"
    );

    let truncated = &proof.proof[..proof.proof.len() - 1];
    assert!(matches!(
        verify_state_proof(&root, b"alice", Some(b"10"), truncated),
        Err(ProofError::Malformed)
    ));
    assert!(matches!(
        verify_state_proof(&root, b"alice", Some(b"10"), &[]),
        Err(ProofError::Malformed)
    ));
}

#[test]
fn a_tampered_state_proof_struct_is_rejected() {
    let (store, _) = committed(&[(b"alice", b"10"), (b"bob", b"20")]);
    let mut proof = proof_of(&store, b"bob");
    proof.value = Some(b"2000".to_vec());
    assert!(proof.verify().is_err(), "an inflated value");
    let mut proof = proof_of(&store, b"bob");
    proof.key = b"alice".to_vec();
    assert!(proof.verify().is_err(), "a swapped key");
}
