use std::collections::{BTreeMap, BTreeSet};

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use super::local::{Dropouts, run_round};
use super::*;
use crate::error::Error;

fn inputs(n: u64, dim: usize) -> BTreeMap<ClientId, Vec<i32>> {
    (0..n)
        .map(|c| {
            let v = (0..dim)
                .map(|j| ((c as i64 * 7919 + j as i64 * 104_729) % 200_001 - 100_000) as i32)
                .collect();
            (ClientId(c), v)
        })
        .collect()
}

fn plain_sum(x: &BTreeMap<ClientId, Vec<i32>>, skip: &BTreeSet<ClientId>) -> Vec<i32> {
    let dim = x.values().next().map_or(0, Vec::len);
    let mut s = vec![0i32; dim];
    for (c, v) in x {
        if !skip.contains(c) {
            for (a, b) in s.iter_mut().zip(v) {
                *a += b;
            }
        }
    }
    s
}

fn set(ids: &[u64]) -> BTreeSet<ClientId> {
    ids.iter().map(|&i| ClientId(i)).collect()
}

#[test]
fn masked_sum_equals_plain_sum() {
    let cfg = SecAggConfig::builder(1, (0..10).map(ClientId).collect(), 300)
        .build()
        .unwrap();
    let x = inputs(10, 300);
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let out = run_round(&cfg, &x, &Dropouts::default(), &mut rng).unwrap();
    assert_eq!(out.sum, plain_sum(&x, &BTreeSet::new()));
    assert_eq!(out.contributors.len(), 10);
}

#[test]
fn masked_sum_survives_dropouts_at_every_stage() {
    let cfg = SecAggConfig::builder(2, (0..10).map(ClientId).collect(), 257)
        .max_dropout_permille(300)
        .build()
        .unwrap();
    let x = inputs(10, 257);
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    // Two clients vanish after sharing their keys (their pairwise masks must be rebuilt) and
    // one never shows up.
    let d = Dropouts {
        before_keys: set(&[9]),
        before_masked: set(&[2, 5]),
        ..Dropouts::default()
    };
    let out = run_round(&cfg, &x, &d, &mut rng).unwrap();
    assert_eq!(out.sum, plain_sum(&x, &set(&[2, 5, 9])));
    // A survivor that goes silent during unmasking still counts in the sum.
    let d = Dropouts {
        before_shares: set(&[9]),
        before_masked: set(&[2]),
        before_unmask: set(&[7]),
        ..Dropouts::default()
    };
    let out = run_round(&cfg, &x, &d, &mut rng).unwrap();
    assert_eq!(out.sum, plain_sum(&x, &set(&[2, 9])));
    assert_eq!(
        out.contributors,
        vec![
            ClientId(0),
            ClientId(1),
            ClientId(3),
            ClientId(4),
            ClientId(5),
            ClientId(6),
            ClientId(7),
            ClientId(8)
        ]
    );
    let mean = out.mean();
    assert_eq!(mean.len(), 257);
}

#[test]
fn secagg_plus_sparse_graph_with_dropouts() {
    let n = 20;
    let cfg = SecAggConfig::builder(3, (0..n).map(ClientId).collect(), 64)
        .neighbours(8)
        .max_dropout_permille(150)
        .build()
        .unwrap();
    assert_eq!(cfg.degree(), 8);
    let x = inputs(n, 64);
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let d = Dropouts {
        before_shares: set(&[4]),
        before_masked: set(&[5, 6]),
        ..Dropouts::default()
    };
    let out = run_round(&cfg, &x, &d, &mut rng).unwrap();
    assert_eq!(out.sum, plain_sum(&x, &set(&[4, 5, 6])));
}

#[test]
fn too_many_dropouts_is_a_clear_error() {
    let cfg = SecAggConfig::builder(4, (0..10).map(ClientId).collect(), 16)
        .max_dropout_permille(200)
        .build()
        .unwrap();
    let x = inputs(10, 16);
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let d = Dropouts {
        before_masked: set(&[1, 2, 3]),
        ..Dropouts::default()
    };
    let err = run_round(&cfg, &x, &d, &mut rng).unwrap_err();
    assert!(matches!(err, Error::TooManyDropouts { .. }), "{err}");
    assert!(err.to_string().contains("3 of 10 clients dropped"), "{err}");
    let d = Dropouts {
        before_masked: set(&[1]),
        before_unmask: set(&[2, 3]),
        ..Dropouts::default()
    };
    let err = run_round(&cfg, &x, &d, &mut rng).unwrap_err();
    assert!(
        err.to_string()
            .contains("3 of 10 clients dropped by unmasking"),
        "{err}"
    );
}

#[test]
fn single_masked_update_looks_uniform() {
    let dim = 4096;
    let cfg = SecAggConfig::builder(5, (0..5).map(ClientId).collect(), dim)
        .build()
        .unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let mut clients = Vec::new();
    let mut server = SecAggServer::new(cfg.clone());
    for c in 0..5 {
        let (cl, keys) = SecAggClient::new(cfg.clone(), ClientId(c), &mut rng).unwrap();
        server.receive_keys(keys).unwrap();
        clients.push(cl);
    }
    let roster = server.close_keys().unwrap();
    for cl in &mut clients {
        let s = cl.share_keys(&roster, &mut rng).unwrap();
        server.receive_shares(cl.id(), s).unwrap();
    }
    let inbox = server.close_shares().unwrap();
    // A highly structured input: all zeros except a ramp.
    let input: Vec<i32> = (0..dim as i32).map(|j| j % 3).collect();
    let masked = clients[0].mask(&inbox[&ClientId(0)], &input).unwrap();
    let chi2 = |bytes: &[u8]| {
        let mut counts = [0f64; 256];
        for &b in bytes {
            counts[b as usize] += 1.0;
        }
        let e = bytes.len() as f64 / 256.0;
        counts.iter().map(|&c| (c - e) * (c - e) / e).sum::<f64>()
    };
    let masked_bytes: Vec<u8> = masked.values.iter().flat_map(|v| v.to_le_bytes()).collect();
    let plain_bytes: Vec<u8> = input.iter().flat_map(|v| v.to_le_bytes()).collect();
    // 255 degrees of freedom: mean 255, sd ≈ 22.6; 400 is beyond 6 sd.
    let masked_chi2 = chi2(&masked_bytes);
    assert!(masked_chi2 < 400.0, "masked chi2 {masked_chi2}");
    assert!(chi2(&plain_bytes) > 10_000.0);
}

#[test]
fn rejects_tampering_and_bad_inputs() {
    let cfg = SecAggConfig::builder(6, (0..4).map(ClientId).collect(), 8)
        .build()
        .unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(6);
    let mut server = SecAggServer::new(cfg.clone());
    let mut clients = Vec::new();
    for c in 0..4 {
        let (cl, keys) = SecAggClient::new(cfg.clone(), ClientId(c), &mut rng).unwrap();
        server.receive_keys(keys.clone()).unwrap();
        assert!(matches!(
            server.receive_keys(keys),
            Err(Error::DuplicateClient { .. })
        ));
        clients.push(cl);
    }
    assert!(SecAggClient::new(cfg.clone(), ClientId(99), &mut rng).is_err());
    let roster = server.close_keys().unwrap();
    assert!(matches!(server.close_keys(), Err(Error::WrongPhase { .. })));
    for cl in &mut clients {
        let s = cl.share_keys(&roster, &mut rng).unwrap();
        server.receive_shares(cl.id(), s).unwrap();
    }
    let mut inbox = server.close_shares().unwrap();
    let big = vec![cfg.max_abs_param() + 1; 8];
    assert!(matches!(
        clients[1].mask(&inbox[&ClientId(1)], &big),
        Err(Error::SecAggParamTooLarge { index: 0, .. })
    ));
    assert!(matches!(
        clients[1].mask(&inbox[&ClientId(1)], &[0; 7]),
        Err(Error::WrongShape { .. })
    ));
    let msgs = inbox.get_mut(&ClientId(0)).unwrap();
    msgs[0].ciphertext[3] ^= 1;
    assert!(matches!(
        clients[0].mask(msgs, &[0; 8]),
        Err(Error::BadCiphertext { .. })
    ));
    assert!(matches!(
        server.receive_masked(MaskedInput {
            client: ClientId(1),
            values: vec![0; 3]
        }),
        Err(Error::WrongShape { .. })
    ));
}

#[test]
fn same_seed_same_transcript() {
    let cfg = SecAggConfig::builder(7, (0..6).map(ClientId).collect(), 32)
        .max_dropout_permille(200)
        .build()
        .unwrap();
    let x = inputs(6, 32);
    let d = Dropouts {
        before_masked: set(&[3]),
        ..Dropouts::default()
    };
    let a = run_round(&cfg, &x, &d, &mut ChaCha20Rng::seed_from_u64(9)).unwrap();
    let b = run_round(&cfg, &x, &d, &mut ChaCha20Rng::seed_from_u64(9)).unwrap();
    assert_eq!(a, b);
}

mod garbage {
    use proptest::prelude::*;

    use super::*;
    use crate::secagg::shamir::{SHARE_BYTES, Share};

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn share_decoding_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..2 * SHARE_BYTES)) {
            let _ = Share::from_bytes(&bytes);
        }

        #[test]
        fn garbage_shares_are_rejected(ct in prop::collection::vec(any::<u8>(), 0..300), from in 0u64..5) {
            let cfg = SecAggConfig::builder(8, (0..3).map(ClientId).collect(), 4).build().unwrap();
            let mut rng = ChaCha20Rng::seed_from_u64(8);
            let mut server = SecAggServer::new(cfg.clone());
            let mut clients = Vec::new();
            for c in 0..3 {
                let (cl, keys) = SecAggClient::new(cfg.clone(), ClientId(c), &mut rng).unwrap();
                server.receive_keys(keys).unwrap();
                clients.push(cl);
            }
            let roster = server.close_keys().unwrap();
            let _ = clients[0].share_keys(&roster, &mut rng).unwrap();
            let msg = EncryptedShare { from: ClientId(from), to: ClientId(0), ciphertext: ct };
            prop_assert!(clients[0].mask(&[msg], &[0; 4]).is_err());
        }
    }
}

fn session_cfg(round: u64, n: u64, dim: usize, k: Option<usize>) -> SecAggConfig {
    let mut b = SecAggConfig::builder(round, (0..n).map(ClientId).collect(), dim)
        .max_dropout_permille(300)
        .recovery(Recovery::PairSeeds);
    if let Some(k) = k {
        b = b.neighbours(k);
    }
    b.build().unwrap()
}

type Inbox = BTreeMap<ClientId, Vec<EncryptedShare>>;

/// Every client of `cfg` advertises (with its entry in `keys`, or fresh keys) and shares;
/// returns the server, the clients and their inboxes, ready to mask.
fn through_sharing(
    cfg: &SecAggConfig,
    mut keys: Option<BTreeMap<ClientId, SecAggKeys>>,
    rng: &mut ChaCha20Rng,
) -> (SecAggServer, BTreeMap<ClientId, SecAggClient>, Inbox) {
    let mut server = SecAggServer::new(cfg.clone());
    let mut clients = BTreeMap::new();
    for &id in cfg.clients() {
        let own = keys
            .as_mut()
            .and_then(|k| k.remove(&id))
            .unwrap_or_else(|| SecAggKeys::generate(rng));
        let (client, adv) = SecAggClient::with_keys(cfg.clone(), id, own, rng).unwrap();
        server.receive_keys(adv).unwrap();
        clients.insert(id, client);
    }
    let roster = server.close_keys().unwrap();
    for (id, client) in &mut clients {
        let shares = client.share_keys(&roster, rng).unwrap();
        server.receive_shares(*id, shares).unwrap();
    }
    let inbox = server.close_shares().unwrap();
    (server, clients, inbox)
}

#[test]
fn session_keys_give_exact_sums_over_rounds_with_changing_dropouts() {
    let x = inputs(10, 129);
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let mut keys = BTreeMap::new();
    let rounds: [&[u64]; 4] = [&[2, 5, 7], &[], &[0, 9], &[5]];
    let mut first_public = BTreeMap::new();
    for (r, gone) in rounds.iter().enumerate() {
        for k in [None, Some(6)] {
            let cfg = session_cfg(100 + r as u64, 10, 129, k);
            let d = Dropouts {
                before_masked: set(gone),
                ..Dropouts::default()
            };
            let mut session = if k.is_none() {
                std::mem::take(&mut keys)
            } else {
                BTreeMap::new()
            };
            let out = local::run_session_round(&cfg, &x, &d, &mut session, &mut rng).unwrap();
            assert_eq!(out.sum, plain_sum(&x, &set(gone)), "round {r}, k {k:?}");
            // Seeds, not keys, were revealed: no key needs rotating.
            assert!(out.revealed_keys.is_empty());
            if k.is_none() {
                keys = session;
            }
        }
        if r == 0 {
            first_public = keys.iter().map(|(c, k)| (*c, k.mask_public())).collect();
        }
    }
    // The same long-lived keys served every round.
    let now: BTreeMap<_, _> = keys.iter().map(|(c, k)| (*c, k.mask_public())).collect();
    assert_eq!(now, first_public);
}

#[test]
fn session_masks_differ_between_rounds() {
    let x = inputs(4, 64);
    let mut rng = ChaCha20Rng::seed_from_u64(12);
    let mut keys: BTreeMap<ClientId, SecAggKeys> = (0..4)
        .map(|c| (ClientId(c), SecAggKeys::generate(&mut rng)))
        .collect();
    let mut masked_of_0 = Vec::new();
    for round in [1, 2] {
        let cfg = session_cfg(round, 4, 64, None);
        let own: BTreeMap<ClientId, SecAggKeys> = std::mem::take(&mut keys);
        let (_server, mut clients, inbox) = through_sharing(&cfg, Some(own), &mut rng);
        let client = clients.get_mut(&ClientId(0)).unwrap();
        masked_of_0.push(client.mask(&inbox[&ClientId(0)], &x[&ClientId(0)]).unwrap());
        for (id, client) in clients {
            keys.insert(id, client.into_keys());
        }
    }
    // Same client, same keys, same input: the per-round seeds make the masked vectors unrelated.
    let same = masked_of_0[0]
        .values
        .iter()
        .zip(&masked_of_0[1].values)
        .filter(|(a, b)| a == b)
        .count();
    assert!(same <= 1, "{same} equal masked entries across rounds");
}

#[test]
fn silent_neighbour_of_a_dropped_client_falls_back_to_key_shares() {
    let x = inputs(10, 77);
    let mut rng = ChaCha20Rng::seed_from_u64(13);
    let mut keys = BTreeMap::new();
    let cfg = session_cfg(1, 10, 77, Some(6));
    let before = {
        // Warm the session so the keys exist before the round under test.
        let out =
            local::run_session_round(&cfg, &x, &Dropouts::default(), &mut keys, &mut rng).unwrap();
        assert_eq!(out.sum, plain_sum(&x, &BTreeSet::new()));
        keys.get(&ClientId(3)).unwrap().mask_public()
    };
    // 3 drops after sharing; its neighbour 4 sends its masked input but never answers the
    // unmask request, so the seed (4, 3) is missing: the server must rebuild 3's key.
    let cfg = session_cfg(2, 10, 77, Some(6));
    let d = Dropouts {
        before_masked: set(&[3]),
        before_unmask: set(&[4]),
        ..Dropouts::default()
    };
    let out = local::run_session_round(&cfg, &x, &d, &mut keys, &mut rng).unwrap();
    assert_eq!(out.sum, plain_sum(&x, &set(&[3])));
    assert_eq!(out.revealed_keys, vec![ClientId(3)]);
    // The revealed key was rotated; the next round still sums exactly.
    assert_ne!(keys.get(&ClientId(3)).unwrap().mask_public(), before);
    let cfg = session_cfg(3, 10, 77, Some(6));
    let out =
        local::run_session_round(&cfg, &x, &Dropouts::default(), &mut keys, &mut rng).unwrap();
    assert_eq!(out.sum, plain_sum(&x, &BTreeSet::new()));
}

#[test]
fn pair_seed_answers_are_checked() {
    let x = inputs(6, 16);
    let mut rng = ChaCha20Rng::seed_from_u64(14);
    let cfg = session_cfg(1, 6, 16, Some(2));
    let (mut server, mut clients, inbox) = through_sharing(&cfg, None, &mut rng);
    for (id, client) in &mut clients {
        if *id != ClientId(0) {
            let m = client.mask(&inbox[id], &x[id]).unwrap();
            server.receive_masked(m).unwrap();
        }
    }
    let req = server.close_masked().unwrap();
    assert_eq!(req.dropped, set(&[0]));
    let honest = clients.get_mut(&ClientId(1)).unwrap().unmask(&req).unwrap();
    // Client 1 neighbours 0 (ring of 2): it reveals the seed, not a key share.
    assert!(honest.key_shares.is_empty());
    assert!(honest.pair_seeds.contains_key(&ClientId(0)));
    // A seed for a survivor, a seed claimed by a non-neighbour, and a key share are refused.
    let mut bad = honest.clone();
    bad.pair_seeds.insert(ClientId(2), [7; 32]);
    assert!(matches!(
        server.receive_unmask(bad),
        Err(Error::Malformed { .. })
    ));
    let mut far = clients.get_mut(&ClientId(3)).unwrap().unmask(&req).unwrap();
    assert!(far.pair_seeds.is_empty(), "3 is not a neighbour of 0");
    far.pair_seeds.insert(ClientId(0), [7; 32]);
    assert!(matches!(
        server.receive_unmask(far),
        Err(Error::Malformed { .. })
    ));
    let mut keyed = honest.clone();
    keyed.key_shares.insert(
        ClientId(0),
        *honest.self_mask_shares.values().next().unwrap(),
    );
    assert!(matches!(
        server.receive_unmask(keyed),
        Err(Error::Malformed { .. })
    ));
    // Key shares are only released for clients the unmask answer treated as dropped.
    let client = clients.get(&ClientId(1)).unwrap();
    let wrong = KeyShareRequest { dropped: set(&[2]) };
    assert!(matches!(
        client.reveal_key_shares(&wrong),
        Err(Error::Malformed { .. })
    ));
    server.receive_unmask(honest).unwrap();
}
