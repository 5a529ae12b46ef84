//! A federated-learning task run on four simulated validators: every validator recomputes the
//! aggregates itself and they all end with the same global model hash.

use bytes::Bytes;
use counterweight_coop::ModuleCall as _;
use counterweight_coop::{
    Admission, COOP_MODULE, Consent, CoopCall, ProposalKind, Rules, coop_id, dataset_id,
    proposal_id,
};
use counterweight_crypto::SigningKey;
use counterweight_learn::{LEARN_MODULE, LearnCall, TaskSpec, TaskStrategy, TrainHints, task_id};
use counterweight_model::{Architecture, Layer, Linear};
use counterweight_node::testnet::dev_account;
use counterweight_testing::{SimConfig, Step, run};
use counterweight_types::{Call, ChainId, Hash, ModuleId, SignedTransaction, Transaction};

/// Signs calls for the three members, tracking nonces.
struct Members {
    keys: Vec<SigningKey>,
    nonces: Vec<u64>,
    chain: ChainId,
}

impl Members {
    fn tx(&mut self, who: usize, module: ModuleId, payload: Bytes) -> SignedTransaction {
        let nonce = self.nonces[who];
        self.nonces[who] += 1;
        self.keys[who].sign_tx(Transaction {
            chain_id: self.chain.clone(),
            sender: self.keys[who].address(),
            nonce,
            fee: 1,
            call: Call { module, payload },
        })
    }

    fn coop(&mut self, who: usize, call: &CoopCall) -> SignedTransaction {
        self.tx(who, COOP_MODULE, call.to_payload())
    }

    fn learn(&mut self, who: usize, call: &LearnCall) -> SignedTransaction {
        self.tx(who, LEARN_MODULE, call.to_payload())
    }
}

fn f32_bytes(values: &[f32]) -> Bytes {
    values
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect::<Vec<u8>>()
        .into()
}

fn local_model(k: usize, round: u32) -> Vec<f32> {
    (0..10)
        .map(|i| (i as f32 - 4.5) * 0.1 + k as f32 * 0.03 - round as f32 * 0.02)
        .collect()
}

#[test]
fn four_validators_agree_on_every_aggregate_of_a_training_task() {
    let mut config = SimConfig::new(11);
    config.transfers_per_tick = 0;
    let chain = ChainId::new("sim").expect("valid");
    let mut m = Members {
        keys: (0..3).map(dev_account).collect(),
        nonces: vec![0; 3],
        chain: chain.clone(),
    };
    let yes = |proposal| CoopCall::Vote {
        proposal,
        yes: true,
    };
    let mut steps = Vec::new();
    let submit = |txs: Vec<SignedTransaction>, steps: &mut Vec<Step>| {
        steps.push(Step::Submit(txs));
        steps.push(Step::Advance(2));
    };

    // A cooperative of three, admitting by vote.
    let create = m.coop(
        0,
        &CoopCall::Create {
            name: "sim".into(),
            rules: Rules {
                quorum_permille: 500,
                approval_permille: 500,
                voting_period_ms: 3_600_000,
                revenue_share_permille: 100,
                admission: Admission::ByVote,
            },
        },
    );
    let coop = coop_id(&chain, &create.hash());
    submit(vec![create], &mut steps);
    let join = m.coop(
        1,
        &CoopCall::Join {
            coop,
            credential: None,
        },
    );
    let admit_b = proposal_id(&chain, &join.hash());
    submit(vec![join], &mut steps);
    let vote = m.coop(0, &yes(admit_b));
    submit(vec![vote], &mut steps);
    let exec = m.coop(1, &CoopCall::Execute { proposal: admit_b });
    submit(vec![exec], &mut steps);
    let join = m.coop(
        2,
        &CoopCall::Join {
            coop,
            credential: None,
        },
    );
    let admit_c = proposal_id(&chain, &join.hash());
    submit(vec![join], &mut steps);
    let votes = vec![m.coop(0, &yes(admit_c)), m.coop(1, &yes(admit_c))];
    submit(votes, &mut steps);
    let exec = m.coop(2, &CoopCall::Execute { proposal: admit_c });
    submit(vec![exec], &mut steps);

    // Each member commits a dataset.
    let mut datasets = Vec::new();
    let mut commits = Vec::new();
    for k in 0..3 {
        let root = Hash([k as u8 + 1; 32]);
        datasets.push(dataset_id(&chain, &coop, &root, &m.keys[k].address()));
        commits.push(m.coop(
            k,
            &CoopCall::CommitDataset {
                coop,
                root,
                schema: "x0,x1,x2,x3,label".into(),
                records: 100,
                consent: Consent {
                    training: true,
                    commercial: false,
                    derivatives: true,
                },
            },
        ));
    }
    submit(commits, &mut steps);

    // A two-round FedAvg task, approved by vote, started.
    let arch = Architecture::new(
        vec![4],
        vec![Layer::Linear(Linear {
            in_features: 4,
            out_features: 2,
        })],
    )
    .expect("valid");
    let initial: Vec<f32> = (0..10).map(|i| i as f32 * 0.125 - 0.5).collect();
    let spec = TaskSpec {
        coop,
        datasets,
        architecture: arch.canonical_bytes().into(),
        initial_params: f32_bytes(&initial),
        rounds: 2,
        min_clients: 3,
        strategy: TaskStrategy::FedAvg,
        secagg: None,
        dp: None,
        train: TrainHints {
            epochs: 1,
            lr_micros: 100_000,
            batch: 32,
            seed: 7,
        },
        round_timeout_ms: 60_000,
        reward: 9_000,
        max_examples_per_client: counterweight_learn::MAX_EXAMPLES_PER_CLIENT,
        max_client_share_bps: counterweight_learn::FULL_SHARE_BPS,
        max_attempts: counterweight_learn::DEFAULT_MAX_ATTEMPTS,
        start_timeout_ms: counterweight_learn::DEFAULT_START_TIMEOUT_MS,
    };
    let open = m.learn(
        0,
        &LearnCall::OpenTask {
            spec: Box::new(spec),
        },
    );
    let task = task_id(chain.as_str(), &open.hash());
    submit(vec![open], &mut steps);
    let propose = m.coop(
        0,
        &CoopCall::Propose {
            coop,
            kind: ProposalKind::ApproveTask { task },
        },
    );
    let approve = proposal_id(&chain, &propose.hash());
    submit(vec![propose], &mut steps);
    let votes = (0..3).map(|k| m.coop(k, &yes(approve))).collect();
    submit(votes, &mut steps);
    let exec = m.coop(0, &CoopCall::Execute { proposal: approve });
    submit(vec![exec], &mut steps);
    let start = m.learn(1, &LearnCall::Start { task });
    submit(vec![start], &mut steps);

    // Two rounds of updates; each round closes when its third update lands.
    for round in 1..=2 {
        let updates = (0..3)
            .map(|k| {
                m.learn(
                    k,
                    &LearnCall::SubmitUpdate {
                        task,
                        round,
                        params: f32_bytes(&local_model(k, round)),
                        examples: 50 + 10 * k as u32,
                    },
                )
            })
            .collect();
        submit(updates, &mut steps);
    }
    config.queries = vec![
        (LEARN_MODULE, "global".into(), task.0.to_vec()),
        (LEARN_MODULE, "history".into(), task.0.to_vec()),
    ];

    let report = match run(&config, &steps) {
        Ok(report) => report,
        Err(e) => panic!("simulation failed (rerun with this seed): {e}"),
    };
    report.assert_consistent();
    let honest: Vec<_> = report.honest().collect();
    assert_eq!(honest.len(), 4);
    let global: serde_json::Value =
        serde_json::from_slice(&honest[0].answers[0]).expect("global model answer");
    assert_eq!(global["rounds_done"], 2, "seed {}: {global}", report.seed);
    let hash = global["weights_hash"].as_str().expect("hash").to_owned();
    assert_ne!(hash, "", "seed {}", report.seed);
    for v in &honest {
        // The same answers byte for byte: global parameters, their hash and the round history.
        assert_eq!(v.answers, honest[0].answers, "seed {}", report.seed);
        let history: serde_json::Value = serde_json::from_slice(&v.answers[1]).expect("history");
        assert_eq!(
            history.as_array().map(Vec::len),
            Some(2),
            "seed {}",
            report.seed
        );
    }
}
