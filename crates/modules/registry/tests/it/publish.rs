//! Publishing versions: authorisation, tags, parents, field checks.

use counterweight_registry::{
    Lineage, MAX_METRICS, Metric, Publish, RegistryCall, codes, version_id,
};
use counterweight_types::Hash;
use proptest::prelude::*;

use counterweight_registry::ModuleCall as _;
use counterweight_state::test_utils::event;

use crate::{ALICE, BOB, addr, create_repo, new_chain, publish, query, reject, send, version};

#[test]
fn publishes_version_with_metrics_and_records_signer() {
    let mut chain = new_chain();
    let repo = create_repo(&mut chain, ALICE, "digits");
    let mut p = version(repo, "v1");
    p.metrics = vec![Metric {
        name: "accuracy".into(),
        value: 973_100,
    }];
    let events = send(&mut chain, ALICE, &RegistryCall::Publish(p.clone())).expect("published");
    let id = version_id(chain.chain_id(), &repo, "v1");
    let published = event(&events, "version_published");
    assert_eq!(published.attributes["version"], id.to_hex());
    assert_eq!(
        published.attributes["weights_hash"],
        p.weights_hash.to_hex()
    );

    let v = query(&chain, "version", &id.0);
    assert_eq!(v["signer"], addr(ALICE).to_hex());
    assert_eq!(v["metrics"][0]["value"], 973_100);
    assert_eq!(v["weights_size"], 1_024);
    assert_eq!(query(&chain, "repo", &repo.0)["version_count"], 1);
    let listed = query(&chain, "versions", &repo.0);
    assert_eq!(listed[0]["id"], id.to_hex());
}

#[test]
fn rejects_duplicate_tag() {
    let mut chain = new_chain();
    let repo = create_repo(&mut chain, ALICE, "digits");
    publish(&mut chain, ALICE, version(repo, "v1")).expect("first");
    assert_eq!(
        publish(&mut chain, ALICE, version(repo, "v1")).err(),
        Some(codes::DUPLICATE_TAG)
    );
    // The same tag in another repository is fine.
    let other = create_repo(&mut chain, ALICE, "other");
    assert!(publish(&mut chain, ALICE, version(other, "v1")).is_ok());
}

#[test]
fn rejects_publish_by_non_owner_and_to_unknown_repo() {
    let mut chain = new_chain();
    let repo = create_repo(&mut chain, ALICE, "digits");
    assert_eq!(
        publish(&mut chain, BOB, version(repo, "v1")).err(),
        Some(codes::NOT_AUTHORISED)
    );
    assert_eq!(
        publish(&mut chain, ALICE, version(Hash([0xCC; 32]), "v1")).err(),
        Some(codes::UNKNOWN_REPO)
    );
}

#[test]
fn rejects_unknown_parent() {
    let mut chain = new_chain();
    let repo = create_repo(&mut chain, ALICE, "digits");
    let mut p = version(repo, "v2");
    p.parent = Some(Hash([0x77; 32]));
    assert_eq!(
        publish(&mut chain, ALICE, p).err(),
        Some(codes::UNKNOWN_PARENT)
    );
    let v1 = publish(&mut chain, ALICE, version(repo, "v1")).expect("v1");
    let mut p = version(repo, "v2");
    p.parent = Some(v1);
    assert!(publish(&mut chain, ALICE, p).is_ok());
}

#[test]
fn rejects_invalid_fields() {
    let mut chain = new_chain();
    let repo = create_repo(&mut chain, ALICE, "digits");
    let cases: Vec<Publish> = vec![
        version(repo, ""),
        version(repo, "bad tag"),
        Publish {
            weights_size: 0,
            ..version(repo, "v1")
        },
        Publish {
            metrics: vec![
                Metric {
                    name: "acc".into(),
                    value: 1,
                },
                Metric {
                    name: "acc".into(),
                    value: 2,
                },
            ],
            ..version(repo, "v1")
        },
        Publish {
            metrics: vec![Metric {
                name: "a b".into(),
                value: 1,
            }],
            ..version(repo, "v1")
        },
        Publish {
            lineage: Lineage {
                task: None,
                datasets: vec![Hash([1; 32]), Hash([1; 32])],
            },
            ..version(repo, "v1")
        },
    ];
    for p in cases {
        assert_eq!(
            publish(&mut chain, ALICE, p.clone()).err(),
            Some(codes::INVALID_FIELD),
            "{p:?}"
        );
    }
    assert_eq!(query(&chain, "repo", &repo.0)["version_count"], 0);
}

#[test]
fn rejects_oversized_publish_before_execution() {
    let mut chain = new_chain();
    let repo = create_repo(&mut chain, ALICE, "digits");
    let too_many = Publish {
        metrics: (0..=MAX_METRICS)
            .map(|i| Metric {
                name: format!("m{i}"),
                value: 0,
            })
            .collect(),
        ..version(repo, "v1")
    };
    let long_tag = version(
        repo,
        &"t".repeat(counterweight_registry::MAX_NAME_BYTES + 1),
    );
    for p in [too_many, long_tag] {
        let rejected = reject(&mut chain, ALICE, RegistryCall::Publish(p).to_payload());
        assert!(
            matches!(rejected, counterweight_state::TxError::Malformed { .. }),
            "{rejected:?}"
        );
    }
}

#[test]
fn failed_publish_leaves_no_state() {
    let mut chain = new_chain();
    let repo = create_repo(&mut chain, ALICE, "digits");
    let mut p = version(repo, "v1");
    p.parent = Some(Hash([0x55; 32]));
    assert!(publish(&mut chain, ALICE, p).is_err());
    let id = version_id(chain.chain_id(), &repo, "v1");
    assert!(query(&chain, "version", &id.0).is_null());
    assert_eq!(
        query(&chain, "versions", &repo.0).as_array().map(Vec::len),
        Some(0)
    );
}

fn metric() -> impl Strategy<Value = Metric> {
    ("[a-z]{1,8}", any::<i64>()).prop_map(|(name, value)| Metric { name, value })
}

fn any_call() -> impl Strategy<Value = RegistryCall> {
    let hash = any::<[u8; 32]>().prop_map(Hash);
    prop_oneof![
        ("[a-z]{0,64}", ".{0,40}", "[A-Z0-9.-]{0,20}").prop_map(|(name, description, licence)| {
            RegistryCall::CreateRepo {
                name,
                description,
                licence,
            }
        }),
        (
            hash.clone(),
            "[a-z0-9]{0,64}",
            hash.clone(),
            any::<u64>(),
            proptest::collection::vec(metric(), 0..=MAX_METRICS),
            proptest::option::of(hash.clone()),
            proptest::option::of(hash.clone()),
            proptest::collection::vec(hash.clone(), 0..8),
        )
            .prop_map(
                |(repo, tag, weights_hash, weights_size, metrics, parent, task, datasets)| {
                    RegistryCall::Publish(Publish {
                        repo,
                        tag,
                        weights_hash,
                        weights_size,
                        arch_hash: weights_hash,
                        metrics,
                        parent,
                        lineage: Lineage { task, datasets },
                    })
                }
            ),
        (hash.clone(), "[a-z]{0,64}")
            .prop_map(|(version, name)| RegistryCall::Fork { version, name }),
        (hash, any::<[u8; 32]>()).prop_map(|(repo, m)| RegistryCall::AddMaintainer {
            repo,
            maintainer: counterweight_types::Address(m),
        }),
    ]
}

proptest! {
    #[test]
    fn every_call_encoding_round_trips(call in any_call()) {
        let bytes = call.to_payload();
        prop_assert_eq!(RegistryCall::from_payload(&bytes).expect("decodes"), call);
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(call) = RegistryCall::from_payload(&bytes) {
            // Canonical: re-encoding gives the same bytes.
            prop_assert_eq!(call.to_payload().to_vec(), bytes);
        }
    }
}
