//! Adversarial training tasks (issue 12, audit findings H2, M6, L6): no member captures a
//! task's model or rewards, no task stalls or locks its escrow, no honest input is clamped.

use std::collections::BTreeMap;

use counterweight_fl::{
    ClientId, fixed,
    secagg::{AdvertiseKeys, EncryptedShare, KeyRoster, SecAggClient, UnmaskRequest},
};
use counterweight_learn::{
    GlobalView, InboxEntry, LearnCall, RewardsView, RoundView, SecAggParams, SecAggView, ShareOf,
    ShareTo, TaskStatus, TaskStrategy, TaskView, codes, secagg_config, task_escrow_account,
};
use counterweight_state::test_utils::TestChain;
use counterweight_types::{Address, Hash};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use crate::support::{LearnChain as _, addr, chain, f32_bytes, spec};

fn submit(task: Hash, round: u32, value: f32, examples: u32) -> LearnCall {
    LearnCall::SubmitUpdate {
        task,
        round,
        params: f32_bytes(&[value; 10]),
        examples,
    }
}

fn status(chain: &TestChain, task: Hash) -> TaskStatus {
    chain.view::<TaskView>("task", &task.0).status
}

/// Audit H2: a member whose dataset claims 4e9 records declares 2e9 examples for an update
/// of 100.0 everywhere; an honest member sends 0.0 with 199 examples.
#[test]
fn a_member_declaring_billions_of_examples_cannot_take_over_the_model() {
    let mut chain = chain(3);
    let (honest, liar) = (addr(1), addr(2));
    let coop = chain.coop(&[honest, liar], 0);
    let datasets = vec![
        chain.commit(coop, honest, 1, 200),
        chain.commit(coop, liar, 2, 4_000_000_000),
    ];
    let mut s = spec(coop, datasets, 1, 2);
    s.max_examples_per_client = 1_000;
    s.max_client_share_bps = 5_000;
    let task = chain.open(honest, &s).unwrap();
    chain.approve(coop, task, &[honest, liar]);
    chain.learn(honest, &LearnCall::Start { task }).unwrap();
    chain.learn(honest, &submit(task, 1, 0.0, 199)).unwrap();
    if let Err((code, _)) = chain.learn(liar, &submit(task, 1, 100.0, 2_000_000_000)) {
        // Refused: the most the task lets it declare is its per-client cap.
        assert_eq!(code, codes::BAD_EXAMPLES);
        chain
            .learn(liar, &submit(task, 1, 100.0, s.max_examples_per_client))
            .unwrap();
    }
    let global: GlobalView = chain.view("global", &task.0);
    // The task caps any client at half the aggregate: the model moves at most halfway.
    let half = fixed::from_f32(50.0).unwrap();
    assert!(
        global.params.iter().all(|&p| p <= half),
        "the liar captured the model: {:?}",
        global.params
    );
    let rewards: RewardsView = chain.view("rewards", &task.0);
    let total: u64 = rewards.payouts.iter().map(|p| p.points).sum();
    let liar_points = rewards
        .payouts
        .iter()
        .find(|p| p.address == liar)
        .map_or(0, |p| p.points);
    assert!(
        liar_points * 10_000 <= total * 5_001,
        "the liar took {liar_points} of {total} points"
    );
}

/// Audit H2: a round whose rule always fails (Bulyan with f = 1 needs seven updates, the
/// task has two clients) is retried a bounded number of times, then the task fails and
/// refunds its creator.
#[test]
fn a_round_that_keeps_failing_ends_the_task_after_max_attempts() {
    let mut chain = chain(3);
    let members = [addr(1), addr(2)];
    let coop = chain.coop(&members, 100);
    let datasets = vec![
        chain.commit(coop, members[0], 1, 100),
        chain.commit(coop, members[1], 2, 100),
    ];
    let mut s = spec(coop, datasets, 1, 2);
    s.strategy = TaskStrategy::Bulyan { f: 1 };
    s.max_attempts = 3;
    let task = chain.open(members[0], &s).unwrap();
    chain.approve(coop, task, &members);
    chain.learn(addr(9), &LearnCall::Start { task }).unwrap();
    let mut failures = 0;
    for attempt in 0..s.max_attempts {
        assert_eq!(
            status(&chain, task),
            TaskStatus::Running,
            "attempt {attempt}"
        );
        let round: RoundView = chain.view("round", &task.0);
        assert_eq!(round.attempt, attempt);
        chain.learn(members[0], &submit(task, 1, 0.5, 10)).unwrap();
        let before = chain.balance(&members[0]);
        let events = chain.learn(members[1], &submit(task, 1, 0.25, 10)).unwrap();
        assert!(events.iter().any(|e| e.kind == "round_failed"));
        failures += 1;
        if attempt + 1 == s.max_attempts {
            assert_eq!(chain.balance(&members[0]), before + s.reward);
        }
    }
    assert_eq!(failures, 3);
    assert_eq!(status(&chain, task), TaskStatus::Failed);
    assert_eq!(chain.balance(&task_escrow_account(&task)), 0);
    let treasury = counterweight_coop::coop(chain.state(), &coop)
        .unwrap()
        .unwrap()
        .treasury;
    assert_eq!(chain.balance(&treasury), 0);
}

/// Audit M6: members start a task, then one revokes its consent, so no round can aggregate;
/// the task ends and the whole pool returns to its creator, none to the treasury.
#[test]
fn a_task_that_aggregates_no_round_refunds_its_creator() {
    let mut chain = chain(3);
    let members = [addr(1), addr(2)];
    let coop = chain.coop(&members, 300);
    let datasets = vec![
        chain.commit(coop, members[0], 1, 100),
        chain.commit(coop, members[1], 2, 100),
    ];
    let s = spec(coop, datasets.clone(), 2, 2);
    let task = chain.open(members[0], &s).unwrap();
    chain.approve(coop, task, &members);
    chain.learn(addr(9), &LearnCall::Start { task }).unwrap();
    chain.learn(members[0], &submit(task, 1, 0.5, 10)).unwrap();
    chain.revoke(members[1], datasets[1]);
    chain.advance_ms(s.round_timeout_ms);
    let before = chain.balance(&members[0]);
    // Past the deadline with too few updates: the attempt fails, and the next one cannot
    // open with a single eligible member, so the task ends.
    chain
        .learn(addr(9), &LearnCall::CloseRound { task })
        .unwrap();
    assert_eq!(status(&chain, task), TaskStatus::Failed);
    assert_eq!(chain.balance(&members[0]), before + s.reward);
    assert_eq!(chain.balance(&task_escrow_account(&task)), 0);
    let rewards: RewardsView = chain.view("rewards", &task.0);
    assert!(rewards.settled);
    assert_eq!(rewards.treasury_amount, 0);
    let treasury = counterweight_coop::coop(chain.state(), &coop)
        .unwrap()
        .unwrap()
        .treasury;
    assert_eq!(chain.balance(&treasury), 0);
}

/// Audit M6: a task the coop never approves locks no escrow: after its start timeout its
/// creator (and only its creator) cancels it and is refunded.
#[test]
fn a_task_never_started_can_be_cancelled_after_its_timeout() {
    let mut chain = chain(3);
    let members = [addr(1), addr(2)];
    let coop = chain.coop(&members, 100);
    let datasets = vec![chain.commit(coop, members[0], 1, 100)];
    let s = spec(coop, datasets, 1, 1);
    let task = chain.open(members[0], &s).unwrap();
    assert_eq!(chain.balance(&task_escrow_account(&task)), s.reward);
    let cancel = LearnCall::Cancel { task };
    assert_eq!(
        chain.learn(members[0], &cancel).unwrap_err().0,
        codes::DEADLINE_NOT_PASSED,
        "too early"
    );
    chain.advance_ms(s.start_timeout_ms);
    assert_eq!(
        chain.learn(members[1], &cancel).unwrap_err().0,
        codes::NOT_CREATOR
    );
    let before = chain.balance(&members[0]);
    let events = chain.learn(members[0], &cancel).unwrap();
    assert!(events.iter().any(|e| e.kind == "task_cancelled"));
    assert_eq!(chain.balance(&members[0]), before + s.reward - chain.fee());
    assert_eq!(chain.balance(&task_escrow_account(&task)), 0);
    assert_eq!(status(&chain, task), TaskStatus::Cancelled);
    // A cancelled task can neither start (even approved) nor be cancelled twice.
    chain.approve(coop, task, &members);
    assert_eq!(
        chain
            .learn(addr(9), &LearnCall::Start { task })
            .unwrap_err()
            .0,
        codes::ALREADY_STARTED
    );
    assert_eq!(
        chain.learn(members[0], &cancel).unwrap_err().0,
        codes::ALREADY_STARTED
    );
}

fn inbox(chain: &TestChain, task: Hash, client: u64) -> Vec<EncryptedShare> {
    let mut data = task.0.to_vec();
    data.extend_from_slice(&client.to_be_bytes());
    let entries: Vec<InboxEntry> = chain.view("secagg/inbox", &data);
    entries
        .into_iter()
        .map(|e| EncryptedShare {
            from: ClientId(e.from),
            to: ClientId(e.to),
            ciphertext: hex::decode(e.ciphertext).unwrap(),
        })
        .collect()
}

fn shares_of(map: &BTreeMap<ClientId, counterweight_fl::secagg::Share>) -> Vec<ShareOf> {
    map.iter()
        .map(|(c, s)| ShareOf {
            owner: c.0,
            x: s.x,
            y: s.y,
        })
        .collect()
}

/// Audit L6: four members with a few thousand examples each and weights around 3.0, so
/// `n·w` is beyond `i32::MAX / 4`; every input is encoded exactly and the chain's model is
/// the exact sample-weighted mean.
#[test]
fn an_honest_member_with_thousands_of_examples_is_not_clamped() {
    let mut chain = chain(5);
    let members: Vec<Address> = (1..=4).map(addr).collect();
    let coop = chain.coop(&members, 0);
    let datasets: Vec<Hash> = members
        .iter()
        .enumerate()
        .map(|(k, &m)| chain.commit(coop, m, k as u8 + 1, 10_000))
        .collect();
    let mut s = spec(coop, datasets, 1, 4);
    s.secagg = Some(SecAggParams {
        max_dropout_permille: 0,
        neighbours: 0,
    });
    let sa = s.secagg.unwrap();
    let task = chain.open(members[0], &s).unwrap();
    chain.approve(coop, task, &members);
    chain.learn(members[0], &LearnCall::Start { task }).unwrap();
    let round: RoundView = chain.view("round", &task.0);
    let cfg = secagg_config(
        round.secagg_round_id,
        round.participants.len(),
        counterweight_learn::secagg_dim(10),
        &sa,
    )
    .unwrap();
    let mut clients = BTreeMap::new();
    for p in &round.participants {
        let mut rng = ChaCha20Rng::seed_from_u64(p.client);
        let (client, keys) = SecAggClient::new(cfg.clone(), ClientId(p.client), &mut rng).unwrap();
        chain
            .learn(
                p.address,
                &LearnCall::AdvertiseKeys {
                    task,
                    round: 1,
                    enc_key: keys.enc_key,
                    mask_key: keys.mask_key,
                },
            )
            .unwrap();
        clients.insert(p.client, (p.address, client, rng));
    }
    let roster: SecAggView = chain.view("secagg/roster", &task.0);
    let roster = KeyRoster {
        keys: roster
            .keys
            .iter()
            .map(|e| {
                (
                    ClientId(e.client),
                    AdvertiseKeys {
                        client: ClientId(e.client),
                        enc_key: e.enc_key,
                        mask_key: e.mask_key,
                    },
                )
            })
            .collect(),
    };
    for (address, client, rng) in clients.values_mut() {
        let shares = client
            .share_keys(&roster, rng)
            .unwrap()
            .into_iter()
            .map(|s| ShareTo {
                to: s.to.0,
                ciphertext: s.ciphertext.into(),
            })
            .collect();
        chain
            .learn(
                *address,
                &LearnCall::ShareKeys {
                    task,
                    round: 1,
                    shares,
                },
            )
            .unwrap();
    }
    let mut expected_sum = [0i64; 10];
    let mut total = 0i64;
    for (&c, (address, client, _)) in clients.iter_mut() {
        let local: Vec<f32> = (0..10)
            .map(|i| 3.0 + i as f32 * 0.1 - c as f32 * 0.05)
            .collect();
        let w = fixed::quantize(&local).unwrap();
        let n = 3_000 + 500 * c as u32;
        for (s, &x) in expected_sum.iter_mut().zip(&w) {
            *s += i64::from(x) * i64::from(n);
        }
        total += i64::from(n);
        let input = counterweight_learn::secagg_input(&w, n, &cfg).unwrap();
        let masked = client.mask(&inbox(&chain, task, c), &input).unwrap();
        let values: Vec<u8> = masked.values.iter().flat_map(|v| v.to_le_bytes()).collect();
        chain
            .learn(
                *address,
                &LearnCall::MaskedInput {
                    task,
                    round: 1,
                    values: values.into(),
                },
            )
            .unwrap();
    }
    let view: SecAggView = chain.view("secagg/roster", &task.0);
    let request = UnmaskRequest {
        survivors: view.survivors.iter().map(|&c| ClientId(c)).collect(),
        dropped: view.dropped.iter().map(|&c| ClientId(c)).collect(),
    };
    for (address, client, _) in clients.values_mut() {
        let msg = client.unmask(&request).unwrap();
        chain
            .learn(
                *address,
                &LearnCall::UnmaskShares {
                    task,
                    round: 1,
                    self_mask_shares: shares_of(&msg.self_mask_shares),
                    key_shares: shares_of(&msg.key_shares),
                },
            )
            .unwrap();
    }
    let expected: Vec<i32> = expected_sum
        .iter()
        .map(|&s| fixed::saturate(fixed::div_round_i64(s, total)))
        .collect();
    let global: GlobalView = chain.view("global", &task.0);
    assert_eq!(global.params, expected);
}
