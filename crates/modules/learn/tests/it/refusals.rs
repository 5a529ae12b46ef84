//! Every refusal of the learn module, with its stable code.

use bytes::Bytes;
use counterweight_fl::fixed;
use counterweight_learn::{
    LEARN_MODULE, Learn, LearnCall, MAX_PAYLOAD_BYTES, ModuleCall as _, SecAggParams, TaskSpec,
    TaskStrategy, codes,
};
use counterweight_state::Module as _;
use counterweight_types::{Address, Hash};

use counterweight_state::test_utils::TestChain;

use crate::support::{LearnChain as _, addr, chain, f32_bytes, local_model, spec};

struct World {
    chain: TestChain,
    members: Vec<Address>,
    coop: Hash,
    datasets: Vec<Hash>,
}

/// Members 1, 2 and 3 (datasets from 1 and 2 only); account 4 is not a member.
fn world() -> World {
    let mut chain = chain(5);
    let members = vec![addr(1), addr(2), addr(3)];
    let coop = chain.coop(&members, 0);
    let datasets = vec![
        chain.commit(coop, addr(1), 1, 40),
        chain.commit(coop, addr(2), 2, 60),
    ];
    World {
        chain,
        members,
        coop,
        datasets,
    }
}

fn code<T: std::fmt::Debug>(r: Result<T, (u32, String)>) -> u32 {
    match r {
        Ok(v) => panic!("expected a refusal, got {v:?}"),
        Err((code, message)) => {
            assert!(!message.is_empty());
            code
        }
    }
}

fn with(base: &TaskSpec, f: impl FnOnce(&mut TaskSpec)) -> TaskSpec {
    let mut s = base.clone();
    f(&mut s);
    s
}

#[test]
fn open_task_refusals() {
    let World {
        mut chain,
        members,
        coop,
        datasets,
    } = world();
    let base = spec(coop, datasets.clone(), 2, 2);
    assert_eq!(code(chain.open(addr(4), &base)), codes::NOT_MEMBER);
    assert_eq!(
        code(chain.open(addr(1), &with(&base, |s| s.coop = Hash([9; 32])))),
        codes::UNKNOWN_COOP
    );
    assert_eq!(
        code(chain.open(addr(1), &with(&base, |s| s.datasets[1] = Hash([9; 32])))),
        codes::UNKNOWN_DATASET
    );
    let other = chain.coop(&[addr(4)], 0);
    let foreign = chain.commit(other, addr(4), 7, 10);
    assert_eq!(
        code(chain.open(addr(1), &with(&base, |s| s.datasets.push(foreign)))),
        codes::DATASET_NOT_IN_COOP
    );
    assert_eq!(
        code(chain.open(addr(1), &with(&base, |s| s.datasets.push(datasets[0])))),
        codes::BAD_TASK
    );
    assert_eq!(
        code(chain.open(
            addr(1),
            &with(&base, |s| s.architecture = Bytes::from_static(&[1, 2, 3]))
        )),
        codes::BAD_MODEL
    );
    let mut nan = vec![0.0f32; 10];
    nan[3] = f32::NAN;
    assert_eq!(
        code(chain.open(
            addr(1),
            &with(&base, |s| s.initial_params = f32_bytes(&nan))
        )),
        codes::BAD_MODEL
    );
    assert_eq!(
        code(chain.open(
            addr(1),
            &with(&base, |s| s.initial_params = f32_bytes(&[0.0; 9]))
        )),
        codes::BAD_MODEL
    );
    assert_eq!(
        code(chain.open(addr(1), &with(&base, |s| s.rounds = 0))),
        codes::BAD_TASK
    );
    assert_eq!(
        code(chain.open(addr(1), &with(&base, |s| s.min_clients = 3))),
        codes::BAD_TASK
    );
    assert_eq!(
        code(chain.open(addr(1), &with(&base, |s| s.round_timeout_ms = 0))),
        codes::BAD_TASK
    );
    assert_eq!(
        code(chain.open(
            addr(1),
            &with(&base, |s| s.strategy = TaskStrategy::TrimmedMean {
                beta: fixed::ONE * 6 / 10
            })
        )),
        codes::BAD_STRATEGY
    );
    assert_eq!(
        code(chain.open(
            addr(1),
            &with(&base, |s| {
                s.strategy = TaskStrategy::Median;
                s.secagg = Some(SecAggParams {
                    max_dropout_permille: 0,
                    neighbours: 0,
                });
            })
        )),
        codes::SECAGG_NEEDS_SUM_RULE
    );
    assert_eq!(
        code(chain.open(addr(1), &with(&base, |s| s.reward = u64::MAX))),
        codes::INSUFFICIENT_FUNDS
    );
    chain.revoke(addr(2), datasets[1]);
    assert_eq!(code(chain.open(addr(1), &base)), codes::DATASET_NO_CONSENT);
    let _ = members;
}

#[test]
fn start_refusals() {
    let World {
        mut chain,
        members,
        coop,
        datasets,
    } = world();
    assert_eq!(
        code(chain.learn(
            addr(1),
            &LearnCall::Start {
                task: Hash([5; 32])
            }
        )),
        codes::UNKNOWN_TASK
    );
    let task = chain
        .open(addr(1), &spec(coop, datasets.clone(), 1, 2))
        .unwrap();
    // A task that was not approved cannot start.
    assert_eq!(
        code(chain.learn(addr(1), &LearnCall::Start { task })),
        codes::NOT_APPROVED
    );
    chain.approve(coop, task, &members);
    // Consent revoked after approval: too few participants remain.
    chain.revoke(addr(2), datasets[1]);
    assert_eq!(
        code(chain.learn(addr(1), &LearnCall::Start { task })),
        codes::NOT_ENOUGH_PARTICIPANTS
    );

    let fresh = chain.commit(coop, addr(2), 3, 60);
    let task = chain
        .open(addr(1), &spec(coop, vec![datasets[0], fresh], 1, 1))
        .unwrap();
    chain.approve(coop, task, &members);
    chain.learn(addr(1), &LearnCall::Start { task }).unwrap();
    assert_eq!(
        code(chain.learn(addr(1), &LearnCall::Start { task })),
        codes::ALREADY_STARTED
    );
}

#[test]
fn update_refusals() {
    let World {
        mut chain,
        members,
        coop,
        datasets,
    } = world();
    let task = chain.open(addr(1), &spec(coop, datasets, 2, 1)).unwrap();
    let submit = |round: u32, params: Bytes, examples: u32| LearnCall::SubmitUpdate {
        task,
        round,
        params,
        examples,
    };
    let good = || f32_bytes(&local_model(0, 1));
    assert_eq!(
        code(chain.learn(addr(1), &submit(1, good(), 10))),
        codes::TASK_NOT_RUNNING
    );
    chain.approve(coop, task, &members);
    chain.learn(addr(1), &LearnCall::Start { task }).unwrap();

    assert_eq!(
        code(chain.learn(addr(4), &submit(1, good(), 10))),
        codes::NOT_MEMBER
    );
    assert_eq!(
        code(chain.learn(addr(3), &submit(1, good(), 10))),
        codes::NOT_PARTICIPANT
    );
    assert_eq!(
        code(chain.learn(addr(1), &submit(2, good(), 10))),
        codes::WRONG_ROUND
    );
    assert_eq!(
        code(chain.learn(addr(1), &submit(1, f32_bytes(&[0.5; 9]), 10))),
        codes::WRONG_SHAPE
    );
    let mut nan = local_model(0, 1);
    nan[4] = f32::NAN;
    assert_eq!(
        code(chain.learn(addr(1), &submit(1, f32_bytes(&nan), 10))),
        codes::NON_FINITE
    );
    let mut inf = local_model(0, 1);
    inf[0] = f32::NEG_INFINITY;
    assert_eq!(
        code(chain.learn(addr(1), &submit(1, f32_bytes(&inf), 10))),
        codes::NON_FINITE
    );
    let mut big = local_model(0, 1);
    big[9] = 40_000.0;
    assert_eq!(
        code(chain.learn(addr(1), &submit(1, f32_bytes(&big), 10))),
        codes::OUT_OF_RANGE
    );
    assert_eq!(
        code(chain.learn(addr(1), &submit(1, good(), 0))),
        codes::BAD_EXAMPLES
    );
    assert_eq!(
        code(chain.learn(addr(1), &submit(1, good(), 41))),
        codes::BAD_EXAMPLES
    );
    // Oversized and malformed payloads never reach a block: check_tx refuses them.
    let module = Learn;
    let oversized = submit(1, Bytes::from(vec![0u8; MAX_PAYLOAD_BYTES]), 10).to_payload();
    assert_eq!(
        module.check_payload(&oversized).unwrap_err().code,
        codes::OVERSIZED
    );
    assert_eq!(
        module.check_payload(&[0xff, 1]).unwrap_err().code,
        codes::MALFORMED
    );
    let mut trailing = submit(1, good(), 10).to_payload().to_vec();
    trailing.push(0);
    assert_eq!(
        module.check_payload(&trailing).unwrap_err().code,
        codes::MALFORMED
    );
    let oversized_tx = chain.transaction(addr(1), LEARN_MODULE, oversized);
    assert!(chain.runtime().check_stateless(&oversized_tx).is_err());
    let keys = LearnCall::AdvertiseKeys {
        task,
        round: 1,
        enc_key: [1; 32],
        mask_key: [2; 32],
    };
    assert_eq!(code(chain.learn(addr(1), &keys)), codes::WRONG_MODE);
    assert_eq!(
        code(chain.learn(addr(1), &LearnCall::Advance { task })),
        codes::WRONG_MODE
    );

    chain.learn(addr(1), &submit(1, good(), 10)).unwrap();
    assert_eq!(
        code(chain.learn(addr(1), &submit(1, good(), 10))),
        codes::DUPLICATE_SUBMISSION
    );
    chain.advance_ms(10_000);
    chain
        .learn(addr(9), &LearnCall::CloseRound { task })
        .unwrap();
    // Round 1 is closed now; round 2 has no updates yet.
    assert_eq!(
        code(chain.learn(addr(2), &submit(1, good(), 10))),
        codes::ROUND_CLOSED
    );
    chain.advance_ms(10_000);
    // Past the deadline with too few updates, closing fails the attempt (round 2 reopens).
    let events = chain
        .learn(addr(9), &LearnCall::CloseRound { task })
        .unwrap();
    assert!(events.iter().any(|e| e.kind == "round_failed"));
    chain.learn(addr(2), &submit(2, good(), 10)).unwrap();
    chain.learn(addr(1), &submit(2, good(), 10)).unwrap();
    assert_eq!(
        code(chain.learn(addr(1), &submit(3, good(), 10))),
        codes::TASK_FINISHED
    );
}

#[test]
fn bad_queries_are_refused() {
    let World { chain, .. } = world();
    for (path, data) in [
        ("task", &[1u8; 31][..]),
        ("nope", &[1u8; 32][..]),
        ("secagg/inbox", &[1u8; 32][..]),
        ("secagg/inbox", &[1u8; 41][..]),
    ] {
        assert_eq!(
            chain.query_code(LEARN_MODULE, path, data),
            codes::BAD_QUERY,
            "{path}"
        );
    }
}

#[test]
fn unknown_tasks_and_closed_rounds_answer_null() {
    let World {
        mut chain,
        members,
        coop,
        datasets,
    } = world();
    let unknown = [1u8; 32];
    let mut inbox_arg = unknown.to_vec();
    inbox_arg.extend_from_slice(&0u64.to_be_bytes());
    for (path, data) in [
        ("task", &unknown[..]),
        ("round", &unknown[..]),
        ("global", &unknown[..]),
        ("history", &unknown[..]),
        ("rewards", &unknown[..]),
        ("secagg/roster", &unknown[..]),
        ("secagg/inbox", &inbox_arg[..]),
    ] {
        assert_eq!(
            chain.query(LEARN_MODULE, path, data).expect("answers"),
            b"null",
            "{path}"
        );
    }
    // A proposed task has no open round yet.
    let task = chain.open(addr(1), &spec(coop, datasets, 1, 1)).unwrap();
    assert_eq!(
        chain
            .query(LEARN_MODULE, "round", &task.0)
            .expect("answers"),
        b"null"
    );
    let view: counterweight_learn::TaskView = chain.view("task", &task.0);
    assert_eq!(view.status, counterweight_learn::TaskStatus::Proposed);
    let _ = members;
}
