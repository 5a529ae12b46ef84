//! Restart, idempotent finalization and crashes between blocks, on a disk store.

use counterweight_app::{App, Error, FinalizeOutcome};
use counterweight_types::{ChainId, Height};

use crate::support::{START, genesis, keys, produce, transfer};

#[test]
fn reopening_the_disk_store_resumes_at_the_same_height_and_root() {
    let dir = tempfile::tempdir().expect("temp dir");
    let k = keys();
    let (root, height) = {
        let app = App::open(dir.path(), genesis()).expect("open");
        for nonce in 0..3 {
            produce(&app, vec![transfer(&k.alice, nonce, k.bob.address(), 1)]).expect("block");
        }
        (
            app.committed_root().expect("root"),
            app.committed_height().expect("height"),
        )
    };
    let app = App::open(dir.path(), genesis()).expect("reopen");
    assert_eq!(app.committed_height().expect("height"), height);
    assert_eq!(height, Height(3));
    assert_eq!(app.committed_root().expect("root"), root);
    assert_eq!(
        app.account(&k.bob.address()).expect("acct").balance,
        START + 3
    );
    assert_eq!(app.account(&k.alice.address()).expect("acct").nonce, 3);
    produce(&app, vec![transfer(&k.alice, 3, k.bob.address(), 1)]).expect("block after restart");
}

#[test]
fn reopening_with_another_genesis_fails() {
    let dir = tempfile::tempdir().expect("temp dir");
    drop(App::open(dir.path(), genesis()).expect("open"));
    let mut other = genesis();
    other.chain_id = ChainId::new("another").expect("valid");
    assert!(matches!(
        App::open(dir.path(), other),
        Err(Error::GenesisMismatch { .. })
    ));
}

#[test]
fn refinalizing_is_a_no_op_and_conflicts_are_fatal() {
    let app = crate::support::app();
    let k = keys();
    let block = produce(&app, vec![transfer(&k.alice, 0, k.bob.address(), 1)]).expect("block");
    let root = app.committed_root().expect("root");
    for _ in 0..2 {
        assert_eq!(
            app.finalize_block(&block).expect("no fault"),
            FinalizeOutcome::AlreadyFinalized {
                height: block.header.height
            }
        );
    }
    assert_eq!(app.committed_root().expect("root"), root);
    assert_eq!(
        app.account(&k.bob.address()).expect("acct").balance,
        START + 1
    );

    let mut conflicting = block.clone();
    conflicting.header.timestamp_ms += 1;
    assert!(matches!(
        app.finalize_block(&conflicting),
        Err(Error::ConflictingFinalization { .. })
    ));

    let mut ahead = block;
    ahead.header.height = Height(5);
    assert!(matches!(
        app.finalize_block(&ahead),
        Err(Error::HeightGap { .. })
    ));
}

#[test]
fn crash_between_blocks_loses_only_unfinalized_work() {
    let dir = tempfile::tempdir().expect("temp dir");
    let k = keys();
    let (b1, b2) = {
        let app = App::open(dir.path(), genesis()).expect("open");
        let b1 = produce(&app, vec![transfer(&k.alice, 0, k.bob.address(), 1)]).expect("block");
        // Block 2 is built and verified but the process dies before it is finalized.
        let b2 = app
            .build_block(
                &b1,
                5_000,
                k.validator.address(),
                vec![transfer(&k.alice, 1, k.bob.address(), 2)],
            )
            .expect("no fault")
            .expect("known parent");
        (b1, b2)
    };
    let app = App::open(dir.path(), genesis()).expect("reopen");
    assert_eq!(app.committed_height().expect("height"), b1.header.height);
    assert_eq!(app.committed_root().expect("root"), b1.header.state_root);
    // Consensus redelivers both; the first is a no-op, the second executes from scratch.
    assert!(matches!(
        app.finalize_block(&b1).expect("no fault"),
        FinalizeOutcome::AlreadyFinalized { .. }
    ));
    assert!(matches!(
        app.finalize_block(&b2).expect("no fault"),
        FinalizeOutcome::Applied { .. }
    ));
    assert_eq!(app.committed_root().expect("root"), b2.header.state_root);
    assert_eq!(
        app.account(&k.bob.address()).expect("acct").balance,
        START + 3
    );
}

#[test]
fn a_finalized_block_that_is_invalid_is_a_fatal_error_and_stores_nothing() {
    let proposer = crate::support::app();
    let k = keys();
    let parent = proposer.genesis_block().clone();
    let mut block = proposer
        .build_block(
            &parent,
            5_000,
            k.validator.address(),
            vec![transfer(&k.alice, 0, k.bob.address(), 1)],
        )
        .expect("no fault")
        .expect("known parent");
    block.header.state_root = counterweight_types::Hash([1; 32]);
    let app = crate::support::app();
    assert!(matches!(
        app.finalize_block(&block),
        Err(Error::InvalidFinalizedBlock { .. })
    ));
    assert_eq!(app.committed_height().expect("height"), Height(0));
}
