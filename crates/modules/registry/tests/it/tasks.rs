//! Versions naming a training task are checked against the learn module.

use bytes::Bytes;
use counterweight_coop::ModuleCall as _;
use counterweight_coop::{
    Admission, COOP_MODULE, Consent, CoopCall, ProposalKind, Rules, coop_id, dataset_id,
    proposal_id,
};
use counterweight_learn::{
    LEARN_MODULE, LearnCall, TaskSpec, TaskStrategy, TrainHints, finished_model, task_id,
};
use counterweight_model::{Architecture, Layer, Linear};
use counterweight_registry::{Lineage, Publish, codes};
use counterweight_types::Hash;

use counterweight_state::test_utils::TestChain;

use crate::{ALICE, BOB, call, create_repo, new_chain, publish, query, version};

fn f32_bytes(values: &[f32]) -> Bytes {
    values
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect::<Vec<u8>>()
        .into()
}

fn coop(chain: &mut TestChain, coop_call: &CoopCall) -> Hash {
    call(chain, ALICE, COOP_MODULE, coop_call.to_payload())
        .unwrap_or_else(|code| panic!("coop call {coop_call:?} refused with {code}"))
        .0
}

pub(crate) struct Trained {
    pub(crate) task: Hash,
    pub(crate) dataset: Hash,
    pub(crate) weights_hash: Hash,
    pub(crate) arch_hash: Hash,
}

/// One member, one dataset, one round: the smallest task that finishes.
pub(crate) fn trained_task(chain: &mut TestChain) -> Trained {
    let created = coop(
        chain,
        &CoopCall::Create {
            name: "digits".into(),
            rules: Rules {
                quorum_permille: 500,
                approval_permille: 500,
                voting_period_ms: 1_000_000,
                revenue_share_permille: 0,
                admission: Admission::ByVote,
            },
        },
    );
    let coop_id = coop_id(chain.chain_id(), &created);
    let root = Hash([0x42; 32]);
    coop(
        chain,
        &CoopCall::CommitDataset {
            coop: coop_id,
            root,
            schema: "x0,x1,x2,x3,label".into(),
            records: 100,
            consent: Consent {
                training: true,
                commercial: false,
                derivatives: true,
            },
        },
    );
    let dataset = dataset_id(chain.chain_id(), &coop_id, &root, &crate::addr(ALICE));
    let arch = Architecture::new(
        vec![4],
        vec![Layer::Linear(Linear {
            in_features: 4,
            out_features: 2,
        })],
    )
    .expect("valid architecture");
    let initial: Vec<f32> = (0..10).map(|i| i as f32 * 0.1).collect();
    let spec = TaskSpec {
        coop: coop_id,
        datasets: vec![dataset],
        architecture: arch.canonical_bytes().into(),
        initial_params: f32_bytes(&initial),
        rounds: 1,
        min_clients: 1,
        strategy: TaskStrategy::FedAvg,
        secagg: None,
        dp: None,
        train: TrainHints {
            epochs: 1,
            lr_micros: 100_000,
            batch: 32,
            seed: 7,
        },
        round_timeout_ms: 5_000,
        reward: 100,
        max_examples_per_client: counterweight_learn::MAX_EXAMPLES_PER_CLIENT,
        max_client_share_bps: counterweight_learn::FULL_SHARE_BPS,
        max_attempts: counterweight_learn::DEFAULT_MAX_ATTEMPTS,
        start_timeout_ms: counterweight_learn::DEFAULT_START_TIMEOUT_MS,
    };
    let (tx, _) = call(
        chain,
        ALICE,
        LEARN_MODULE,
        LearnCall::OpenTask {
            spec: Box::new(spec),
        }
        .to_payload(),
    )
    .expect("task opened");
    let task = task_id(chain.chain_id().as_str(), &tx);
    let proposed = coop(
        chain,
        &CoopCall::Propose {
            coop: coop_id,
            kind: ProposalKind::ApproveTask { task },
        },
    );
    let proposal = proposal_id(chain.chain_id(), &proposed);
    coop(
        chain,
        &CoopCall::Vote {
            proposal,
            yes: true,
        },
    );
    coop(chain, &CoopCall::Execute { proposal });
    call(
        chain,
        ALICE,
        LEARN_MODULE,
        LearnCall::Start { task }.to_payload(),
    )
    .expect("task started");
    let trained: Vec<f32> = (0..10).map(|i| i as f32 * 0.05 - 0.2).collect();
    call(
        chain,
        ALICE,
        LEARN_MODULE,
        LearnCall::SubmitUpdate {
            task,
            round: 1,
            params: f32_bytes(&trained),
            examples: 50,
        }
        .to_payload(),
    )
    .expect("update accepted");
    let model = finished_model(chain.state(), &task)
        .expect("read")
        .expect("the task finished");
    Trained {
        task,
        dataset,
        weights_hash: model.weights_hash,
        arch_hash: model.arch_hash,
    }
}

pub(crate) fn from_task(repo: Hash, tag: &str, t: &Trained) -> Publish {
    Publish {
        weights_hash: t.weights_hash,
        arch_hash: t.arch_hash,
        lineage: Lineage {
            task: Some(t.task),
            datasets: Vec::new(),
        },
        ..version(repo, tag)
    }
}

#[test]
fn version_from_a_finished_task_takes_its_datasets() {
    let mut chain = new_chain();
    let trained = trained_task(&mut chain);
    let repo = create_repo(&mut chain, ALICE, "digits");
    let v1 = publish(&mut chain, ALICE, from_task(repo, "v1", &trained)).expect("published");
    let stored = query(&chain, "version", &v1.0);
    assert_eq!(stored["lineage"]["task"], trained.task.to_hex());
    assert_eq!(stored["lineage"]["datasets"][0], trained.dataset.to_hex());

    // Listing exactly the task's datasets is accepted too.
    let mut listed = from_task(repo, "v2", &trained);
    listed.lineage.datasets = vec![trained.dataset];
    assert!(publish(&mut chain, ALICE, listed).is_ok());

    let graph = query(&chain, "lineage", &v1.0);
    let edges = graph["edges"].as_array().expect("edges");
    assert!(edges.iter().any(|e| e["from"] == trained.dataset.to_hex()
        && e["to"] == trained.task.to_hex()
        && e["kind"] == "trained_on"));
}

#[test]
fn rejects_task_mismatches() {
    let mut chain = new_chain();
    let trained = trained_task(&mut chain);
    let repo = create_repo(&mut chain, ALICE, "digits");

    let unknown = Publish {
        lineage: Lineage {
            task: Some(Hash([0x99; 32])),
            datasets: Vec::new(),
        },
        ..from_task(repo, "v1", &trained)
    };
    let other_weights = Publish {
        weights_hash: Hash([1; 32]),
        ..from_task(repo, "v1", &trained)
    };
    let other_arch = Publish {
        arch_hash: Hash([2; 32]),
        ..from_task(repo, "v1", &trained)
    };
    let mut other_datasets = from_task(repo, "v1", &trained);
    other_datasets.lineage.datasets = vec![Hash([3; 32])];
    for p in [unknown, other_weights, other_arch, other_datasets] {
        assert_eq!(
            publish(&mut chain, ALICE, p.clone()).err(),
            Some(codes::TASK_MISMATCH),
            "{p:?}"
        );
    }
    // Anyone may cite the task, but only in a repository they may publish in.
    let bob_repo = create_repo(&mut chain, BOB, "copy");
    assert!(publish(&mut chain, BOB, from_task(bob_repo, "v1", &trained)).is_ok());
}
