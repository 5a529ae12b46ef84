//! What a worker reports when the chain says no.

use counterweight_learn::{TaskStatus, codes};
use counterweight_node::testnet::dev_account;
use counterweight_train::Dataset;
use counterweight_types::Hash;
use counterweight_worker::{Error, LocalUpdate, Worker};

use crate::devnet::{Devnet, approved_task, start};

#[test]
fn a_worker_for_a_task_that_does_not_exist_says_so() {
    let devnet = Devnet::start(1);
    let missing = Hash([0xab; 32]);
    let err = Worker::builder(devnet.client(), dev_account(0), missing, Dataset::digits())
        .build()
        .expect_err("no such task");
    assert!(
        matches!(err, Error::TaskNotFound { task } if task == missing),
        "{err:?}"
    );
    assert_eq!(err.to_string(), format!("task {missing} does not exist"));
}

#[test]
fn a_non_member_update_is_refused_with_the_chains_reason_slow() {
    let devnet = Devnet::start(3);
    let (task, _) = approved_task(&devnet, 1);
    start(&devnet, dev_account(0), task);
    // dev2 is funded but neither a member nor a dataset owner.
    let mut outsider = Worker::builder(devnet.client(), dev_account(2), task, Dataset::digits())
        .build()
        .expect("the task exists and the data fits its model");
    let round = outsider
        .reader()
        .round()
        .expect("read")
        .expect("round 1 is open");
    assert_eq!(round.round, 1);
    assert!(
        round
            .participants
            .iter()
            .all(|p| p.address != outsider.address())
    );
    let params =
        counterweight_fl::fixed::dequantize(&outsider.reader().global().expect("global").params);
    let err = outsider
        .submit_update(&LocalUpdate {
            round: 1,
            params,
            examples: 10,
            loss: 0.0,
            train_ms: 0,
        })
        .expect_err("not a member");
    match &err {
        Error::Failed { code, message, .. } => {
            assert_eq!(*code, codes::NOT_MEMBER, "{message}");
            assert!(!message.is_empty());
        }
        other => panic!("expected the chain's refusal, got {other:?}"),
    }
    // The refusal changed nothing: the round still waits for the members.
    let view = outsider.reader().task().expect("task");
    assert_eq!(view.status, TaskStatus::Running);
    assert_eq!(view.rounds_done, 0);
}
