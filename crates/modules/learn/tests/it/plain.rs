//! A full plain task: rounds, aggregation recomputed independently, rewards.

use counterweight_fl::{Aggregator, ClientId, FedAvg, FedAvgM, Update, fixed};
use counterweight_learn::{
    FinishedModel, GlobalView, HistoryView, LearnCall, RewardsView, RoundView, TaskStatus,
    TaskStrategy, TaskView, arch_hash, finished_model, task_escrow_account, weights_hash,
};
use counterweight_types::Address;

use counterweight_state::test_utils::TestChain;

use crate::support::{
    BALANCE, LearnChain as _, addr, chain, event, f32_bytes, has_event, local_model, spec,
};

struct Setup {
    chain: TestChain,
    members: Vec<Address>,
    coop: counterweight_types::Hash,
    datasets: Vec<counterweight_types::Hash>,
}

fn setup(n: u8, revenue_share_permille: u16) -> Setup {
    let mut chain = chain(n + 1);
    let members: Vec<Address> = (1..=n).map(addr).collect();
    let coop = chain.coop(&members, revenue_share_permille);
    let datasets = members
        .iter()
        .enumerate()
        .map(|(k, &m)| chain.commit(coop, m, k as u8 + 1, 100 * (k as u64 + 1)))
        .collect();
    Setup {
        chain,
        members,
        coop,
        datasets,
    }
}

fn run_plain(strategy: TaskStrategy) {
    let Setup {
        mut chain,
        members,
        coop,
        datasets,
    } = setup(3, 100);
    let mut task_spec = spec(coop, datasets.clone(), 2, 2);
    task_spec.strategy = strategy;
    let task = chain.open(members[0], &task_spec).expect("open");
    assert_eq!(chain.balance(&task_escrow_account(&task)), 10_000);
    chain.approve(coop, task, &members);
    let events = chain
        .learn(addr(9), &LearnCall::Start { task })
        .expect("anyone may start an approved task");
    assert!(has_event(&events, "round_opened"));

    let initial: Vec<f32> = (0..10).map(|i| i as f32 * 0.125 - 0.5).collect();
    let mut expected = fixed::quantize(&initial).unwrap();
    let mut reference: Box<dyn Aggregator> = match strategy {
        TaskStrategy::FedAvgM {
            server_lr,
            momentum,
        } => Box::new(FedAvgM::new(server_lr, momentum).unwrap()),
        _ => Box::new(FedAvg::new()),
    };
    for round in 1..=2u32 {
        let view: RoundView = chain.view("round", &task.0);
        assert_eq!(view.round, round);
        assert_eq!(view.participants.len(), 3);
        let mut updates = Vec::new();
        for (k, m) in members.iter().enumerate() {
            let params = local_model(k as u8, round);
            let examples = 50 * (k as u32 + 1);
            let client = view
                .participants
                .iter()
                .find(|p| p.address == *m)
                .unwrap()
                .client;
            updates.push(Update::from_f32(ClientId(client), u64::from(examples), &params).unwrap());
            let events = chain
                .learn(
                    *m,
                    &LearnCall::SubmitUpdate {
                        task,
                        round,
                        params: f32_bytes(&params),
                        examples,
                    },
                )
                .expect("update accepted");
            assert!(has_event(&events, "update_accepted"));
            if k == 2 {
                // The last update closes the round in the same transaction.
                let agg = event(&events, "round_aggregated");
                expected = reference.aggregate(&expected, &updates).unwrap();
                assert_eq!(
                    agg.attributes["weights_hash"],
                    weights_hash(&expected).to_hex()
                );
            }
        }
        let global: GlobalView = chain.view("global", &task.0);
        assert_eq!(global.params, expected);
        if round == 1 {
            // Not finished yet: the registry sees no model.
            assert_eq!(finished_model(chain.state(), &task).unwrap(), None);
        }
        assert_eq!(global.weights_hash, weights_hash(&expected));
    }
    let view: TaskView = chain.view("task", &task.0);
    assert_eq!(view.status, TaskStatus::Finished);
    assert_eq!(view.rounds_done, 2);
    let history: Vec<HistoryView> = chain.view("history", &task.0);
    assert_eq!(history.len(), 2);
    assert_eq!(history[1].weights_hash, weights_hash(&expected));
    assert_eq!(history[0].contributors.len(), 3);

    // Rewards: 10% to the treasury, the rest by points, everything paid out.
    let rewards: RewardsView = chain.view("rewards", &task.0);
    assert!(rewards.settled);
    let paid: u64 = rewards.payouts.iter().map(|p| p.amount).sum();
    assert_eq!(paid + rewards.treasury_amount, 10_000);
    assert!(rewards.treasury_amount >= 1_000);
    assert_eq!(chain.balance(&task_escrow_account(&task)), 0);
    let treasury = rewards.treasury.unwrap();
    assert_eq!(chain.balance(&treasury), rewards.treasury_amount);
    for p in &rewards.payouts {
        assert!(p.amount > 0, "every contributor earns something");
        assert!(members.contains(&p.address));
    }
    // The bank agrees: members got exactly their payouts (minus fees they paid).
    let total_members: u64 = members.iter().map(|m| chain.balance(m)).sum();
    assert!(total_members < 3 * BALANCE);

    let model: FinishedModel = finished_model(chain.state(), &task).unwrap().unwrap();
    assert_eq!(model.weights_hash, weights_hash(&expected));
    assert_eq!(
        model.arch_hash,
        arch_hash(&crate::support::arch().canonical_bytes())
    );
    assert_eq!(model.rounds, 2);
    assert_eq!(model.coop, coop);
    let mut used = datasets;
    used.sort();
    assert_eq!(model.datasets, used);
}

#[test]
fn plain_fedavg_task_over_two_rounds_matches_fl_and_pays_rewards() {
    run_plain(TaskStrategy::FedAvg);
}

#[test]
fn plain_fedavgm_task_matches_fl_server_momentum() {
    run_plain(TaskStrategy::FedAvgM {
        server_lr: fixed::ONE,
        momentum: fixed::ONE / 2,
    });
}

#[test]
fn close_round_after_deadline_with_min_clients_and_revoked_consent_is_excluded_later() {
    let Setup {
        mut chain,
        members,
        coop,
        datasets,
    } = setup(3, 0);
    let task = chain
        .open(members[0], &spec(coop, datasets.clone(), 2, 2))
        .unwrap();
    chain.approve(coop, task, &members);
    chain.learn(members[0], &LearnCall::Start { task }).unwrap();
    for (k, m) in members.iter().enumerate().take(2) {
        chain
            .learn(
                *m,
                &LearnCall::SubmitUpdate {
                    task,
                    round: 1,
                    params: f32_bytes(&local_model(k as u8, 1)),
                    examples: 10,
                },
            )
            .unwrap();
    }
    // Member 3 revokes: its update is refused now and it is left out of round 2.
    chain.revoke(members[2], datasets[2]);
    let refused = chain
        .learn(
            members[2],
            &LearnCall::SubmitUpdate {
                task,
                round: 1,
                params: f32_bytes(&local_model(2, 1)),
                examples: 10,
            },
        )
        .unwrap_err();
    assert_eq!(
        refused.0,
        counterweight_learn::codes::CONSENT_REVOKED,
        "{refused:?}"
    );
    let early = chain
        .learn(addr(9), &LearnCall::CloseRound { task })
        .unwrap_err();
    assert_eq!(early.0, counterweight_learn::codes::DEADLINE_NOT_PASSED);
    chain.advance_ms(10_000);
    let events = chain
        .learn(addr(9), &LearnCall::CloseRound { task })
        .unwrap();
    let agg = event(&events, "round_aggregated");
    assert_eq!(agg.attributes["contributors"], "2");
    let view: RoundView = chain.view("round", &task.0);
    assert_eq!(view.round, 2);
    assert_eq!(view.participants.len(), 2);
    assert!(view.participants.iter().all(|p| p.address != members[2]));
    let later = chain
        .learn(
            members[2],
            &LearnCall::SubmitUpdate {
                task,
                round: 2,
                params: f32_bytes(&local_model(2, 2)),
                examples: 10,
            },
        )
        .unwrap_err();
    assert_eq!(later.0, counterweight_learn::codes::CONSENT_REVOKED);
}
