//! Mempool admission: every rejection has its stable code and stores nothing.

use bytes::Bytes;
use counterweight_app::{App, MAX_NONCE_GAP, TxError};
use counterweight_bank::BANK_MODULE;
use counterweight_types::{ChainId, MAX_TX_BYTES, ModuleId, SignedTransaction, Transaction};

use crate::support::{app, call, keys, produce, signed, transfer, transfer_call};

/// Asserts the rejection code and that the chain's committed state did not move.
fn assert_rejected(app: &App, result: Result<(), TxError>, code: u32) {
    let root = app.committed_root().expect("root");
    let height = app.committed_height().expect("height");
    let err = result.expect_err("transaction must be rejected");
    assert_eq!(err.code(), code, "unexpected rejection {err}");
    assert_eq!(app.committed_root().expect("root"), root);
    assert_eq!(app.committed_height().expect("height"), height);
    assert_eq!(app.pending_blocks(), 0);
}

#[test]
fn accepts_a_valid_transfer() {
    let app = app();
    let k = keys();
    let tx = transfer(&k.alice, 0, k.bob.address(), 5);
    assert_eq!(app.check_tx(&tx).expect("no fault"), Ok(()));
    let decoded = app
        .check_tx_bytes(&tx.to_bytes())
        .expect("no fault")
        .expect("valid");
    assert_eq!(decoded, tx);
}

#[test]
fn rejects_malformed_bytes() {
    let app = app();
    let r = app.check_tx_bytes(b"not a transaction").expect("no fault");
    assert_rejected(&app, r.map(|_| ()), 1);

    let k = keys();
    let mut bytes = transfer(&k.alice, 0, k.bob.address(), 5)
        .to_bytes()
        .to_vec();
    bytes.push(0);
    let r = app.check_tx_bytes(&bytes).expect("no fault");
    assert_rejected(&app, r.map(|_| ()), 1);
}

#[test]
fn rejects_malformed_module_payload() {
    let app = app();
    let k = keys();
    let tx = signed(
        &k.alice,
        0,
        2,
        call(BANK_MODULE, Bytes::from_static(b"\x09junk")),
    );
    assert_rejected(&app, app.check_tx(&tx).expect("no fault"), 1);
}

#[test]
fn rejects_oversized_transactions() {
    let app = app();
    let r = app
        .check_tx_bytes(&vec![0u8; MAX_TX_BYTES + 1])
        .expect("no fault");
    assert_rejected(&app, r.map(|_| ()), 2);

    let k = keys();
    let big = signed(
        &k.alice,
        0,
        2,
        call(BANK_MODULE, Bytes::from(vec![0u8; MAX_TX_BYTES])),
    );
    assert_rejected(&app, app.check_tx(&big).expect("no fault"), 2);
}

#[test]
fn rejects_wrong_chain_id() {
    let app = app();
    let k = keys();
    let tx = k.alice.sign_tx(Transaction {
        chain_id: ChainId::new("other-chain").expect("valid"),
        sender: k.alice.address(),
        nonce: 0,
        fee: 2,
        call: transfer_call(k.bob.address(), 1),
    });
    assert_rejected(&app, app.check_tx(&tx).expect("no fault"), 3);
}

#[test]
fn rejects_bad_signature() {
    let app = app();
    let k = keys();
    let mut tx = transfer(&k.alice, 0, k.bob.address(), 5);
    tx.tx.call = transfer_call(k.bob.address(), 500);
    assert_rejected(&app, app.check_tx(&tx).expect("no fault"), 4);

    // A signature by another key over the same body.
    let forged = SignedTransaction {
        signature: k.bob.sign_tx(tx.tx.clone()).signature,
        tx: tx.tx,
    };
    assert_rejected(&app, app.check_tx(&forged).expect("no fault"), 4);
}

#[test]
fn rejects_replayed_and_far_future_nonces() {
    let app = app();
    let k = keys();
    let tx = transfer(&k.alice, 0, k.bob.address(), 5);
    produce(&app, vec![tx.clone()]).expect("block");
    assert_rejected(&app, app.check_tx(&tx).expect("no fault"), 5);

    let queued = transfer(&k.alice, 1 + MAX_NONCE_GAP, k.bob.address(), 5);
    assert_eq!(app.check_tx(&queued).expect("no fault"), Ok(()));
    let far = transfer(&k.alice, 2 + MAX_NONCE_GAP, k.bob.address(), 5);
    assert_rejected(&app, app.check_tx(&far).expect("no fault"), 6);
}

#[test]
fn rejects_sender_that_cannot_pay_the_fee() {
    let app = app();
    let k = keys();
    let tx = transfer(&k.pauper, 0, k.bob.address(), 1);
    assert_rejected(&app, app.check_tx(&tx).expect("no fault"), 7);
}

#[test]
fn rejects_fee_below_minimum() {
    let app = app();
    let k = keys();
    let tx = signed(&k.alice, 0, 1, transfer_call(k.bob.address(), 1));
    assert_rejected(&app, app.check_tx(&tx).expect("no fault"), 8);
}

#[test]
fn rejects_unknown_module() {
    let app = app();
    let k = keys();
    let tx = signed(&k.alice, 0, 2, call(ModuleId(999), Bytes::new()));
    assert_rejected(&app, app.check_tx(&tx).expect("no fault"), 9);
}

#[test]
fn rejection_codes_are_distinct_and_stable() {
    let errors = [
        TxError::Malformed {
            reason: String::new(),
        },
        TxError::Oversized { size: 0, max: 0 },
        TxError::WrongChainId {
            expected: ChainId::new("a").expect("valid"),
            got: ChainId::new("b").expect("valid"),
        },
        TxError::BadSignature,
        TxError::NonceStale {
            expected: 0,
            got: 0,
        },
        TxError::NonceFuture {
            expected: 0,
            got: 0,
        },
        TxError::InsufficientBalance { balance: 0, fee: 0 },
        TxError::FeeTooLow { fee: 0, min: 0 },
        TxError::UnknownModule(ModuleId(0)),
    ];
    let codes: Vec<u32> = errors.iter().map(TxError::code).collect();
    assert_eq!(codes, (1..=9).collect::<Vec<u32>>());
}
