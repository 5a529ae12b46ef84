//! Call encodings: round trips, trailing bytes and bounds.

use bytes::Bytes;
use counterweight_learn::{
    DpParams, LearnCall, MAX_DATASETS, ModuleCall as _, SecAggParams, ShareOf, ShareTo, TaskSpec,
    TaskStrategy, TrainHints,
};
use counterweight_types::Hash;
use proptest::prelude::*;

fn hash() -> impl Strategy<Value = Hash> {
    any::<[u8; 32]>().prop_map(Hash)
}

fn bytes(max: usize) -> impl Strategy<Value = Bytes> {
    proptest::collection::vec(any::<u8>(), 0..max).prop_map(Bytes::from)
}

fn strategy() -> impl Strategy<Value = TaskStrategy> {
    prop_oneof![
        Just(TaskStrategy::FedAvg),
        (any::<i32>(), any::<i32>()).prop_map(|(server_lr, momentum)| TaskStrategy::FedAvgM {
            server_lr,
            momentum
        }),
        Just(TaskStrategy::Median),
        any::<i32>().prop_map(|beta| TaskStrategy::TrimmedMean { beta }),
        any::<u32>().prop_map(|f| TaskStrategy::Krum { f }),
        (any::<u32>(), any::<u32>()).prop_map(|(f, m)| TaskStrategy::MultiKrum { f, m }),
        any::<u32>().prop_map(|f| TaskStrategy::Bulyan { f }),
    ]
}

fn spec() -> impl Strategy<Value = TaskSpec> {
    (
        hash(),
        proptest::collection::vec(hash(), 1..5),
        bytes(64),
        bytes(64),
        (any::<u32>(), any::<u32>(), strategy()),
        proptest::option::of((any::<u16>(), any::<u16>())),
        proptest::option::of((any::<u32>(), any::<u32>())),
        (any::<u32>(), any::<u32>(), any::<u32>(), any::<u64>()),
        (any::<u64>(), any::<u64>()),
        (any::<u32>(), any::<u16>(), any::<u32>(), any::<u64>()),
    )
        .prop_map(
            |(
                coop,
                datasets,
                architecture,
                initial_params,
                (rounds, min_clients, strategy),
                sa,
                dp,
                t,
                (timeout, reward),
                limits,
            )| {
                TaskSpec {
                    coop,
                    datasets,
                    architecture,
                    initial_params,
                    rounds,
                    min_clients,
                    strategy,
                    secagg: sa.map(|(max_dropout_permille, neighbours)| SecAggParams {
                        max_dropout_permille,
                        neighbours,
                    }),
                    dp: dp.map(|(clip_norm_micros, noise_multiplier_micros)| DpParams {
                        clip_norm_micros,
                        noise_multiplier_micros,
                    }),
                    train: TrainHints {
                        epochs: t.0,
                        lr_micros: t.1,
                        batch: t.2,
                        seed: t.3,
                    },
                    round_timeout_ms: timeout,
                    reward,
                    max_examples_per_client: limits.0,
                    max_client_share_bps: limits.1,
                    max_attempts: limits.2,
                    start_timeout_ms: limits.3,
                }
            },
        )
}

fn share_of() -> impl Strategy<Value = ShareOf> {
    (any::<u64>(), any::<u64>(), any::<[u64; 8]>()).prop_map(|(owner, x, y)| ShareOf {
        owner,
        x,
        y,
    })
}

fn call() -> impl Strategy<Value = LearnCall> {
    prop_oneof![
        spec().prop_map(|s| LearnCall::OpenTask { spec: Box::new(s) }),
        hash().prop_map(|task| LearnCall::Start { task }),
        (hash(), any::<u32>(), bytes(256), any::<u32>()).prop_map(
            |(task, round, params, examples)| {
                LearnCall::SubmitUpdate {
                    task,
                    round,
                    params,
                    examples,
                }
            }
        ),
        hash().prop_map(|task| LearnCall::CloseRound { task }),
        hash().prop_map(|task| LearnCall::Cancel { task }),
        (hash(), any::<u32>(), any::<[u8; 32]>(), any::<[u8; 32]>()).prop_map(
            |(task, round, enc_key, mask_key)| LearnCall::AdvertiseKeys {
                task,
                round,
                enc_key,
                mask_key
            }
        ),
        (
            hash(),
            any::<u32>(),
            proptest::collection::vec((any::<u64>(), bytes(100)), 0..5)
        )
            .prop_map(|(task, round, s)| LearnCall::ShareKeys {
                task,
                round,
                shares: s
                    .into_iter()
                    .map(|(to, ciphertext)| ShareTo { to, ciphertext })
                    .collect(),
            }),
        (hash(), any::<u32>(), bytes(256)).prop_map(|(task, round, values)| {
            LearnCall::MaskedInput {
                task,
                round,
                values,
            }
        }),
        (
            hash(),
            any::<u32>(),
            proptest::collection::vec(share_of(), 0..4),
            proptest::collection::vec(share_of(), 0..4)
        )
            .prop_map(|(task, round, self_mask_shares, key_shares)| {
                LearnCall::UnmaskShares {
                    task,
                    round,
                    self_mask_shares,
                    key_shares,
                }
            }),
        hash().prop_map(|task| LearnCall::Advance { task }),
    ]
}

proptest! {
    #[test]
    fn calls_round_trip_and_refuse_trailing_bytes(c in call(), extra in 1u8..=255) {
        let payload = c.to_payload();
        prop_assert_eq!(&LearnCall::from_payload(&payload).unwrap(), &c);
        let mut longer = payload.to_vec();
        longer.push(extra);
        prop_assert!(LearnCall::from_payload(&longer).is_err());
        // JSON (for the CLI) round-trips too.
        let json = serde_json::to_string(&c).unwrap();
        prop_assert_eq!(serde_json::from_str::<LearnCall>(&json).unwrap(), c);
    }
}

#[test]
fn refuses_too_many_datasets_and_unknown_tags() {
    let task = LearnCall::OpenTask {
        spec: Box::new(TaskSpec {
            coop: Hash([1; 32]),
            datasets: vec![Hash([2; 32]); MAX_DATASETS + 1],
            architecture: Bytes::new(),
            initial_params: Bytes::new(),
            rounds: 1,
            min_clients: 1,
            strategy: TaskStrategy::FedAvg,
            secagg: None,
            dp: None,
            train: TrainHints {
                epochs: 1,
                lr_micros: 1,
                batch: 1,
                seed: 0,
            },
            round_timeout_ms: 1,
            reward: 0,
            max_examples_per_client: 1,
            max_client_share_bps: 1,
            max_attempts: 1,
            start_timeout_ms: 1,
        }),
    };
    assert!(LearnCall::from_payload(&task.to_payload()).is_err());
    assert!(LearnCall::from_payload(&[9]).is_err());
    assert!(LearnCall::from_payload(&[10]).is_err());
    assert!(LearnCall::from_payload(&[]).is_err());
}
