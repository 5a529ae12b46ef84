//! A full secure-aggregation round on chain, with a client dropping out after sharing keys.

use std::collections::{BTreeMap, BTreeSet};

use counterweight_fl::{
    ClientId, fixed,
    secagg::{AdvertiseKeys, EncryptedShare, KeyRoster, SecAggClient, UnmaskRequest},
};
use counterweight_learn::{
    GlobalView, HistoryView, InboxEntry, LearnCall, RewardsView, RoundPhase, RoundView,
    SecAggParams, SecAggView, ShareOf, ShareTo, TaskStrategy, codes, secagg_config, weights_hash,
};
use counterweight_types::{Address, Hash};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use counterweight_state::test_utils::TestChain;

use crate::support::{LearnChain as _, addr, chain, event, has_event, local_model, spec};

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

#[test]
fn secure_round_with_a_dropout_after_sharing_keys() {
    let mut chain = chain(6);
    let members: Vec<Address> = (1..=4).map(addr).collect();
    let coop = chain.coop(&members, 200);
    let datasets: Vec<Hash> = members
        .iter()
        .enumerate()
        .map(|(k, &m)| chain.commit(coop, m, k as u8 + 1, 100))
        .collect();
    let mut s = spec(coop, datasets, 1, 3);
    s.secagg = Some(SecAggParams {
        max_dropout_permille: 250,
        neighbours: 0,
    });
    let sa = s.secagg.unwrap();
    let task = chain.open(members[0], &s).unwrap();
    chain.approve(coop, task, &members);
    chain.learn(members[0], &LearnCall::Start { task }).unwrap();
    let round: RoundView = chain.view("round", &task.0);
    assert_eq!(round.phase, RoundPhase::AdvertiseKeys);
    let dim = 10;
    let cfg = secagg_config(
        round.secagg_round_id,
        round.participants.len(),
        counterweight_learn::secagg_dim(dim),
        &sa,
    )
    .unwrap();

    // Plain updates are refused in a secure task; masked inputs are refused before their phase.
    let plain = LearnCall::SubmitUpdate {
        task,
        round: 1,
        params: crate::support::f32_bytes(&local_model(0, 1)),
        examples: 5,
    };
    assert_eq!(
        chain.learn(members[0], &plain).unwrap_err().0,
        codes::WRONG_MODE
    );
    let early = LearnCall::MaskedInput {
        task,
        round: 1,
        values: vec![0u8; (dim + 1) * 4].into(),
    };
    assert_eq!(
        chain.learn(members[0], &early).unwrap_err().0,
        codes::WRONG_PHASE
    );

    // Phase 1: keys.
    let mut clients = BTreeMap::new();
    for p in &round.participants {
        let mut rng = ChaCha20Rng::seed_from_u64(p.client);
        let (client, keys) = SecAggClient::new(cfg.clone(), ClientId(p.client), &mut rng).unwrap();
        let events = chain
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
        assert!(has_event(&events, "secagg_keys"));
        clients.insert(p.client, (p.address, client, rng));
    }
    let dup = LearnCall::AdvertiseKeys {
        task,
        round: 1,
        enc_key: [0; 32],
        mask_key: [0; 32],
    };
    assert_eq!(
        chain.learn(members[0], &dup).unwrap_err().0,
        codes::WRONG_PHASE
    );

    // Phase 2: shares, routed through the chain.
    let roster: SecAggView = chain.view("secagg/roster", &task.0);
    assert_eq!(roster.phase, RoundPhase::ShareKeys);
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
    for (&c, (address, client, rng)) in clients.iter_mut() {
        let shares = client.share_keys(&roster, rng).unwrap();
        let shares: Vec<ShareTo> = shares
            .into_iter()
            .map(|s| ShareTo {
                to: s.to.0,
                ciphertext: s.ciphertext.into(),
            })
            .collect();
        if c == 0 {
            let wrong = LearnCall::ShareKeys {
                task,
                round: 1,
                shares: shares[..1].to_vec(),
            };
            assert_eq!(
                chain.learn(*address, &wrong).unwrap_err().0,
                codes::BAD_SHARES
            );
        }
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

    // Phase 3: masked inputs (every n·w as two limbs, then n); client 3 drops out.
    let dropout = 3u64;
    let mut expected_sum = vec![0i64; dim];
    let mut total = 0i64;
    for (&c, (address, client, _)) in clients.iter_mut() {
        if c == dropout {
            continue;
        }
        let w = fixed::quantize(&local_model(c as u8, 1)).unwrap();
        let n = 20 + c as i32;
        let input = counterweight_learn::secagg_input(&w, n as u32, &cfg).unwrap();
        for (s, &x) in expected_sum.iter_mut().zip(&w) {
            *s += i64::from(x) * i64::from(n);
        }
        total += i64::from(n);
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
    assert_eq!(
        chain
            .learn(addr(9), &LearnCall::Advance { task })
            .unwrap_err()
            .0,
        codes::DEADLINE_NOT_PASSED
    );
    chain.advance_ms(10_000);
    let events = chain.learn(addr(9), &LearnCall::Advance { task }).unwrap();
    assert!(has_event(&events, "secagg_phase"));

    // Phase 4: unmask.
    let view: SecAggView = chain.view("secagg/roster", &task.0);
    assert_eq!(view.phase, RoundPhase::Unmask);
    assert_eq!(view.dropped, vec![dropout]);
    let request = UnmaskRequest {
        survivors: view
            .survivors
            .iter()
            .map(|&c| ClientId(c))
            .collect::<BTreeSet<_>>(),
        dropped: view.dropped.iter().map(|&c| ClientId(c)).collect(),
    };
    let mut last = Vec::new();
    for (&c, (address, client, _)) in clients.iter_mut() {
        if c == dropout {
            continue;
        }
        let msg = client.unmask(&request).unwrap();
        last = chain
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
    let agg = event(&last, "round_aggregated");
    assert_eq!(agg.attributes["contributors"], "3");
    let expected: Vec<i32> = expected_sum
        .iter()
        .map(|&s| fixed::saturate(fixed::div_round_i64(s, total)))
        .collect();
    let global: GlobalView = chain.view("global", &task.0);
    assert_eq!(global.params, expected);
    assert_eq!(global.weights_hash, weights_hash(&expected));
    let history: Vec<HistoryView> = chain.view("history", &task.0);
    assert_eq!(history[0].dropped.len(), 1);
    assert_eq!(history[0].examples, total as u64);
    // One round only: the task finished and paid out (20% to the treasury).
    assert!(has_event(&last, "task_finished"));
    let rewards: RewardsView = chain.view("rewards", &task.0);
    assert!(rewards.settled);
    assert_eq!(rewards.payouts.len(), 3);
    let paid: u64 = rewards.payouts.iter().map(|p| p.amount).sum();
    assert_eq!(paid + rewards.treasury_amount, 10_000);
    assert_eq!(rewards.treasury_amount, 2_000 + (8_000 - paid));
}

#[test]
fn secure_aggregation_refuses_robust_rules() {
    let mut chain = chain(3);
    let members: Vec<Address> = (1..=2).map(addr).collect();
    let coop = chain.coop(&members, 0);
    let d: Vec<Hash> = members
        .iter()
        .enumerate()
        .map(|(k, &m)| chain.commit(coop, m, k as u8 + 1, 10))
        .collect();
    let mut s = spec(coop, d, 1, 2);
    s.secagg = Some(SecAggParams {
        max_dropout_permille: 0,
        neighbours: 0,
    });
    s.strategy = TaskStrategy::Krum { f: 0 };
    let refused = chain.open(members[0], &s).unwrap_err();
    assert_eq!(refused.0, codes::SECAGG_NEEDS_SUM_RULE);
    assert!(refused.1.contains("sum"), "{}", refused.1);
}
