//! Building, verifying and finalizing blocks, including speculative chains and forks.

use counterweight_app::{BlockError, FinalizeOutcome, TxError};
use counterweight_bank::{BANK_MODULE, BankCall, ModuleCall as _, codes};
use counterweight_crypto::SigningKey;
use counterweight_types::{Block, Hash, ReceiptStatus, signed_tx_root};

use crate::support::{START, app, call, keys, produce, signed, transfer};

fn build(
    app: &counterweight_app::App,
    parent: &Block,
    txs: Vec<counterweight_types::SignedTransaction>,
) -> Block {
    app.build_block(
        parent,
        parent.header.timestamp_ms + 1,
        keys().validator.address(),
        txs,
    )
    .expect("no fault")
    .expect("known parent")
}

/// Re-fills the tx root after editing transactions (the state root is left as is).
fn with_txs(mut block: Block, txs: Vec<counterweight_types::SignedTransaction>) -> Block {
    block.header.tx_root = signed_tx_root(&txs);
    block.txs = txs;
    block
}

#[test]
fn transfers_move_funds_and_pay_the_proposer() {
    let app = app();
    let k = keys();
    let block = produce(
        &app,
        vec![
            transfer(&k.alice, 0, k.bob.address(), 10),
            transfer(&k.alice, 1, k.bob.address(), 20),
            transfer(&k.bob, 0, k.alice.address(), 5),
        ],
    )
    .expect("block");
    assert_eq!(block.txs.len(), 3);
    assert_eq!(
        app.account(&k.alice.address()).expect("acct").balance,
        START - 30 + 5 - 4
    );
    assert_eq!(
        app.account(&k.bob.address()).expect("acct").balance,
        START + 30 - 5 - 2
    );
    assert_eq!(
        app.account(&k.validator.address()).expect("acct").balance,
        6
    );
    assert_eq!(app.account(&k.alice.address()).expect("acct").nonce, 2);
    let receipt = app
        .receipt(&block.txs[0].hash())
        .expect("read")
        .expect("stored");
    assert_eq!(receipt.status, ReceiptStatus::Ok);
    assert_eq!(receipt.events[0].kind, "transfer");
    assert_eq!(app.block(block.header.height).expect("read"), Some(block));
}

#[test]
fn failed_call_is_included_with_fee_charged_and_nonce_used() {
    let app = app();
    let k = keys();
    let block = produce(
        &app,
        vec![transfer(&k.alice, 0, k.bob.address(), START * 2)],
    )
    .expect("block");
    assert_eq!(block.txs.len(), 1);
    let receipt = app
        .receipt(&block.txs[0].hash())
        .expect("read")
        .expect("stored");
    assert!(
        matches!(receipt.status, ReceiptStatus::Failed { code, .. } if code == codes::INSUFFICIENT_FUNDS)
    );
    assert!(receipt.events.is_empty());
    let alice = app.account(&k.alice.address()).expect("acct");
    assert_eq!((alice.balance, alice.nonce), (START - 2, 1));
    assert_eq!(app.account(&k.bob.address()).expect("acct").balance, START);
}

#[test]
fn build_drops_invalid_candidates_and_keeps_the_rest() {
    let app = app();
    let k = keys();
    let mut forged = transfer(&k.alice, 0, k.bob.address(), 1);
    forged.tx.fee = 3;
    let good = transfer(&k.alice, 0, k.bob.address(), 7);
    let gap = transfer(&k.bob, 5, k.alice.address(), 1);
    let pauper = transfer(&k.pauper, 0, k.alice.address(), 1);
    let replay = good.clone();
    let parent = app.genesis_block().clone();
    let block = build(
        &app,
        &parent,
        vec![forged, good.clone(), gap, pauper, replay],
    );
    assert_eq!(block.txs, vec![good]);
}

#[test]
fn escrow_open_release_and_refund_through_transactions() {
    let app = app();
    let k = keys();
    let open = signed(
        &k.alice,
        0,
        2,
        call(
            BANK_MODULE,
            BankCall::EscrowOpen { amount: 500 }.to_payload(),
        ),
    );
    let id = counterweight_bank::escrow_id(&k.alice.address(), &open.hash().0);
    let open2 = signed(
        &k.alice,
        1,
        2,
        call(
            BANK_MODULE,
            BankCall::EscrowOpen { amount: 300 }.to_payload(),
        ),
    );
    let id2 = counterweight_bank::escrow_id(&k.alice.address(), &open2.hash().0);
    produce(&app, vec![open, open2]).expect("block");
    assert_eq!(
        app.account(&k.alice.address()).expect("acct").balance,
        START - 800 - 4
    );

    // Bob may not release Alice's escrow.
    let steal = signed(
        &k.bob,
        0,
        2,
        call(
            BANK_MODULE,
            BankCall::EscrowRelease {
                id,
                to: k.bob.address(),
            }
            .to_payload(),
        ),
    );
    let release = signed(
        &k.alice,
        2,
        2,
        call(
            BANK_MODULE,
            BankCall::EscrowRelease {
                id,
                to: k.bob.address(),
            }
            .to_payload(),
        ),
    );
    let refund = signed(
        &k.alice,
        3,
        2,
        call(BANK_MODULE, BankCall::EscrowRefund { id: id2 }.to_payload()),
    );
    let block = produce(&app, vec![steal, release, refund]).expect("block");
    let steal_receipt = app
        .receipt(&block.txs[0].hash())
        .expect("read")
        .expect("stored");
    assert!(
        matches!(steal_receipt.status, ReceiptStatus::Failed { code, .. } if code == codes::NOT_DEPOSITOR)
    );
    assert_eq!(
        app.account(&k.bob.address()).expect("acct").balance,
        START + 500 - 2
    );
    assert_eq!(
        app.account(&k.alice.address()).expect("acct").balance,
        START - 500 - 8
    );
    let escrow = app
        .query(BANK_MODULE, "escrow", &id.0)
        .expect("no fault")
        .expect("answer");
    assert_eq!(escrow, b"null", "released escrow is closed");
}

#[test]
fn verify_accepts_blocks_built_elsewhere_and_chains_on_unfinalized_parents() {
    let proposer = app();
    let validator = app();
    let k = keys();
    let g = proposer.genesis_block().clone();
    let b1 = build(
        &proposer,
        &g,
        vec![transfer(&k.alice, 0, k.bob.address(), 1)],
    );
    let b2 = build(
        &proposer,
        &b1,
        vec![transfer(&k.alice, 1, k.bob.address(), 2)],
    );
    let b3 = build(
        &proposer,
        &b2,
        vec![transfer(&k.alice, 2, k.bob.address(), 3)],
    );
    for (parent, block) in [(&g, &b1), (&b1, &b2), (&b2, &b3)] {
        validator
            .verify_block(parent, block)
            .expect("no fault")
            .expect("valid");
    }
    assert_eq!(validator.pending_blocks(), 3);
    for block in [&b1, &b2, &b3] {
        let outcome = validator.finalize_block(block).expect("finalize");
        assert!(
            matches!(outcome, FinalizeOutcome::Applied { state_root, .. } if state_root == block.header.state_root)
        );
    }
    assert_eq!(validator.pending_blocks(), 0);
    assert_eq!(
        validator.committed_root().expect("root"),
        b3.header.state_root
    );
    assert_eq!(
        validator.account(&k.bob.address()).expect("acct").balance,
        START + 6
    );
}

#[test]
fn forks_are_kept_apart_and_the_loser_is_pruned() {
    let app = app();
    let k = keys();
    let g = app.genesis_block().clone();
    let left = build(&app, &g, vec![transfer(&k.alice, 0, k.bob.address(), 1)]);
    let right = build(&app, &g, vec![transfer(&k.alice, 0, k.bob.address(), 2)]);
    assert_ne!(left.header.state_root, right.header.state_root);
    let right_child = build(
        &app,
        &right,
        vec![transfer(&k.alice, 1, k.bob.address(), 4)],
    );
    app.finalize_block(&right).expect("finalize");
    app.finalize_block(&right_child).expect("finalize");
    assert_eq!(
        app.account(&k.bob.address()).expect("acct").balance,
        START + 6
    );
    assert_eq!(app.pending_blocks(), 0);
    // The losing branch can no longer be built on.
    let orphan = app
        .build_block(&left, 5, k.validator.address(), vec![])
        .expect("no fault");
    assert_eq!(orphan, Err(BlockError::UnknownParent(left.digest())));
}

#[test]
fn verify_rejects_invalid_blocks() {
    let proposer = app();
    let k = keys();
    let g = proposer.genesis_block().clone();
    let tx = transfer(&k.alice, 0, k.bob.address(), 1);
    let good = build(&proposer, &g, vec![tx.clone()]);

    let check = |block: &Block| app().verify_block(&g, block).expect("no fault");
    assert_eq!(check(&good), Ok(()));

    let mut bad = good.clone();
    bad.header.state_root = Hash([9; 32]);
    assert!(matches!(
        check(&bad),
        Err(BlockError::StateRootMismatch { .. })
    ));

    let mut bad = good.clone();
    bad.header.tx_root = Hash([9; 32]);
    assert!(matches!(
        check(&bad),
        Err(BlockError::TxRootMismatch { .. })
    ));

    let mut forged = tx.clone();
    forged.tx.fee = 3;
    let bad = with_txs(good.clone(), vec![forged]);
    assert_eq!(
        check(&bad),
        Err(BlockError::InvalidTx {
            index: 0,
            error: TxError::BadSignature
        })
    );

    let bad = with_txs(good.clone(), vec![tx.clone(), tx]);
    assert!(matches!(
        check(&bad),
        Err(BlockError::InvalidTx {
            index: 1,
            error: TxError::NonceStale { .. }
        })
    ));

    let mut bad = good.clone();
    bad.header.proposer = SigningKey::from_seed(77).address();
    assert!(matches!(check(&bad), Err(BlockError::UnknownProposer(_))));

    let mut bad = good.clone();
    bad.header.timestamp_ms = g.header.timestamp_ms - 1;
    assert!(matches!(
        check(&bad),
        Err(BlockError::TimestampRegressed { .. })
    ));

    let mut bad = good.clone();
    bad.header.parent = Hash([1; 32]);
    assert!(matches!(check(&bad), Err(BlockError::WrongParent { .. })));

    let mut bad = good.clone();
    bad.header.height = counterweight_types::Height(5);
    assert!(matches!(check(&bad), Err(BlockError::WrongHeight { .. })));

    let mut bad = good;
    bad.header.chain_id = counterweight_types::ChainId::new("elsewhere").expect("valid");
    assert!(matches!(check(&bad), Err(BlockError::WrongChainId { .. })));
}

#[test]
fn balance_proofs_verify_offline_and_reject_tampering() {
    let app = app();
    let k = keys();
    produce(&app, vec![transfer(&k.alice, 0, k.bob.address(), 9)]).expect("block");
    let proof = app.balance_proof(&k.bob.address()).expect("proof");
    assert_eq!(proof.value, Some((START + 9).to_be_bytes().to_vec()));
    assert_eq!(proof.root, app.committed_root().expect("root"));
    proof.verify().expect("inclusion proof verifies");

    let mut lie = proof.clone();
    lie.value = Some((START + 10).to_be_bytes().to_vec());
    assert!(lie.verify().is_err());
    let mut lie = proof.clone();
    lie.root = Hash([3; 32]);
    assert!(lie.verify().is_err());
    let mut lie = proof;
    lie.proof.truncate(3);
    assert!(lie.verify().is_err());

    let absent = app.balance_proof(&k.pauper.address()).expect("proof");
    assert_eq!(absent.value, None);
    absent.verify().expect("non-inclusion proof verifies");
    let mut lie = absent;
    lie.value = Some(1u64.to_be_bytes().to_vec());
    assert!(lie.verify().is_err());
}

#[test]
fn a_signature_checked_at_admission_does_not_vouch_for_another_signature_on_the_same_body() {
    let k = keys();
    let proposer = app();
    let verifier = app();
    let g = proposer.genesis_block().clone();
    let tx = transfer(&k.alice, 0, k.bob.address(), 1);
    let good = build(&proposer, &g, vec![tx.clone()]);
    // The verifier admitted the genuine transaction, so its signature is known to be valid.
    verifier.check_tx(&tx).expect("no fault").expect("valid");
    verifier.preverify(std::slice::from_ref(&tx));
    // Same body (same transaction hash), signature by another key.
    let mut forged = tx.clone();
    forged.signature = k.bob.sign_tx(tx.tx.clone()).signature;
    assert_eq!(forged.hash(), tx.hash());
    let bad = with_txs(good.clone(), vec![forged]);
    assert_eq!(
        verifier.verify_block(&g, &bad).expect("no fault"),
        Err(BlockError::InvalidTx {
            index: 0,
            error: TxError::BadSignature
        })
    );
    assert_eq!(verifier.verify_block(&g, &good).expect("no fault"), Ok(()));
    // A block built from a forged candidate leaves it out.
    let forged = SigningKey::from_seed(77).sign_tx(tx.tx);
    let built = build(&verifier, &g, vec![forged]);
    assert!(built.txs.is_empty());
}

/// The copy a Byzantine proposer sends some validators: the same block with one signature
/// byte flipped (the body, and so the transaction hash, unchanged).
fn with_corrupted_signature(block: &Block) -> Block {
    let mut copy = block.clone();
    copy.txs[0].signature.0[7] ^= 0x01;
    copy
}

#[test]
fn a_block_whose_signature_changed_has_another_digest() {
    let k = keys();
    let proposer = app();
    let g = proposer.genesis_block().clone();
    let good = build(
        &proposer,
        &g,
        vec![transfer(&k.alice, 0, k.bob.address(), 1)],
    );
    let bad = with_corrupted_signature(&good);
    assert_eq!(bad.txs[0].hash(), good.txs[0].hash(), "same body");
    // The header (and so the digest) is the proposer's; it commits to the signatures, so
    // the corrupted copy no longer matches it and is not a block with that digest.
    assert_ne!(
        counterweight_types::signed_tx_root(&bad.txs),
        good.header.tx_root,
        "the transaction root must cover every signature byte"
    );
    assert!(Block::from_bytes(&bad.to_bytes()).is_err());
    // A proposer that re-roots the corrupted copy makes another block, with another digest.
    let rerooted = with_txs(good.clone(), bad.txs);
    assert_ne!(rerooted.digest(), good.digest());
}

#[test]
fn a_verified_digest_does_not_vouch_for_a_copy_with_a_corrupted_signature() {
    let k = keys();
    let proposer = app();
    let verifier = app();
    let g = proposer.genesis_block().clone();
    let good = build(
        &proposer,
        &g,
        vec![transfer(&k.alice, 0, k.bob.address(), 1)],
    );
    verifier
        .verify_block(&g, &good)
        .expect("no fault")
        .expect("valid");
    // The corrupted copy must not take the fast path of the cached, verified digest.
    let bad = with_corrupted_signature(&good);
    assert!(
        verifier.verify_block(&g, &bad).expect("no fault").is_err(),
        "a corrupted copy is invalid even after the genuine block was verified"
    );
    // Nor may finalization store the corrupted bytes under the genuine block's changes.
    assert!(verifier.finalize_block(&bad).is_err());
    assert!(matches!(
        verifier.finalize_block(&good).expect("finalize"),
        FinalizeOutcome::Applied { .. }
    ));
    assert_eq!(
        verifier
            .block(counterweight_types::Height(1))
            .expect("read")
            .expect("stored"),
        good,
        "the stored bytes are the genuine block's"
    );
}

#[test]
fn a_proposers_own_transactions_pay_their_fee() {
    // Audit L2: a proposer's own transactions used to pay their fee to itself (free spam).
    let app = app();
    let k = keys();
    let g = app.genesis_block().clone();
    let fee = app.genesis().params.min_fee;
    let supply_before = app
        .query(BANK_MODULE, "supply", &[])
        .expect("no fault")
        .expect("supply");
    let block = app
        .build_block(
            &g,
            g.header.timestamp_ms + 1,
            k.alice.address(),
            vec![transfer(&k.alice, 0, k.bob.address(), 10)],
        )
        .expect("no fault")
        .expect("built");
    assert_eq!(block.txs.len(), 1);
    app.finalize_block(&block).expect("finalize");
    assert_eq!(
        app.account(&k.alice.address()).expect("acct").balance,
        START - 10 - fee,
        "the proposer paid its own transaction's fee"
    );
    assert_eq!(
        app.account(&counterweight_bank::FEE_POOL)
            .expect("acct")
            .balance,
        fee,
        "into the fee pool, which no key controls"
    );
    let supply_after = app
        .query(BANK_MODULE, "supply", &[])
        .expect("no fault")
        .expect("supply");
    assert_eq!(supply_before, supply_after, "supply is unchanged");
}
