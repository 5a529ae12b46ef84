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
