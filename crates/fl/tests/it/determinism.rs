//! Every rule gives the same bits sequentially, on any thread count, and in any input order.

use counterweight_fl::{
    Aggregator, Bulyan, ClientId, Exec, FedAvg, FedMedian, FedTrimmedAvg, Krum, MultiKrum,
    Strategy, Update, fixed,
};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha20Rng;

fn updates(n: usize, dim: usize, seed: u64) -> Vec<Update> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    (0..n)
        .map(|c| {
            let p = (0..dim)
                .map(|_| rng.random::<i32>() >> rng.random_range(0..20))
                .collect();
            Update::new(ClientId(c as u64 * 3 + 1), rng.random_range(1..1000), p)
        })
        .collect()
}

fn rules(exec: Exec) -> Vec<Box<dyn Aggregator>> {
    vec![
        Box::new(FedAvg::new().with_exec(exec)),
        Box::new(FedMedian::new().with_exec(exec)),
        Box::new(
            FedTrimmedAvg::new(fixed::from_f32(0.2).unwrap())
                .unwrap()
                .with_exec(exec),
        ),
        Box::new(Krum::new(2).with_exec(exec)),
        Box::new(MultiKrum::new(2, 5).unwrap().with_exec(exec)),
        Box::new(Bulyan::new(1).with_exec(exec)),
    ]
}

#[test]
fn parallel_equals_sequential_on_any_thread_count() {
    // More than one 32 Ki-coordinate chunk, with a ragged tail.
    let dim = 70_001;
    let ups = updates(10, dim, 1);
    let global = vec![0; dim];
    let seq: Vec<Vec<i32>> = rules(Exec::Sequential)
        .iter_mut()
        .map(|r| r.aggregate(&global, &ups).unwrap())
        .collect();
    for threads in [1, 2, 4] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let par: Vec<Vec<i32>> = pool.install(|| {
            rules(Exec::Parallel)
                .iter_mut()
                .map(|r| r.aggregate(&global, &ups).unwrap())
                .collect()
        });
        assert_eq!(seq, par, "{threads} threads");
    }
}

#[test]
fn input_order_does_not_matter() {
    let dim = 513;
    let ups = updates(11, dim, 2);
    let mut rev = ups.clone();
    rev.reverse();
    let global = vec![0; dim];
    for (mut a, mut b) in rules(Exec::Sequential)
        .into_iter()
        .zip(rules(Exec::Sequential))
    {
        assert_eq!(
            a.aggregate(&global, &ups).unwrap(),
            b.aggregate(&global, &rev).unwrap(),
            "{}",
            a.name()
        );
    }
}

#[test]
fn stateful_rules_are_reproducible() {
    let dim = 64;
    for name in ["fedavgm", "fedadam", "fedyogi", "fedadagrad"] {
        let strategy: Strategy = name.parse().unwrap();
        let run = || {
            let mut agg = strategy.build(Exec::Sequential).unwrap();
            let mut global = vec![0; dim];
            for round in 0..5 {
                let ups = updates(4, dim, 100 + round);
                global = agg.aggregate(&global, &ups).unwrap();
            }
            global
        };
        assert_eq!(run(), run(), "{name}");
    }
}

/// SplitMix64, spelled out so the fixture does not depend on a crate's sampling algorithm.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Golden fixture: the aggregates validators agree on must not change silently. A change here
/// is a consensus-breaking change of a rounding rule and must be deliberate.
#[test]
fn aggregates_match_golden_hashes() {
    let dim = 4099;
    let mut s = 7u64;
    let ups: Vec<Update> = (0..11u64)
        .map(|c| {
            let p = (0..dim)
                .map(|_| (splitmix(&mut s) as i32) >> (splitmix(&mut s) % 24))
                .collect();
            Update::new(ClientId(c), 1 + splitmix(&mut s) % 500, p)
        })
        .collect();
    let global = vec![0; dim];
    let mut got = Vec::new();
    for mut rule in rules(Exec::Sequential) {
        let out = rule.aggregate(&global, &ups).unwrap();
        let bytes: Vec<u8> = out.iter().flat_map(|x| x.to_le_bytes()).collect();
        got.push(format!(
            "{}={}",
            rule.name(),
            &blake3::hash(&bytes).to_hex()[..16]
        ));
    }
    assert_eq!(got, GOLDEN, "aggregation results changed");
}

const GOLDEN: [&str; 6] = [
    "fedavg=074f8f935de5f619",
    "median=d69b90a844c154cf",
    "trimmed_mean=b00b76aa5ea993e0",
    "krum=541c9bbe915f47c3",
    "multikrum=729b9ca65e48fdec",
    "bulyan=5d27dbae8de11aaa",
];
