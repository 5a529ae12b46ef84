//! Repositories: creation, listing, maintainers, forks.

use counterweight_registry::{MAX_MAINTAINERS, RegistryCall, codes, version_id};
use counterweight_types::{Address, Hash};

use crate::harness::{ALICE, BOB, CAROL, Chain, addr, event, version};

#[test]
fn creates_repo_owned_by_sender_and_reports_its_id() {
    let mut chain = Chain::new();
    let events = chain
        .send(
            ALICE,
            &RegistryCall::CreateRepo {
                name: "digits".into(),
                description: "mnist".into(),
                licence: "Apache-2.0".into(),
            },
        )
        .expect("created");
    let id = counterweight_registry::repo_id(&chain.chain_id, &addr(ALICE), "digits");
    let created = event(&events, "repo_created");
    assert_eq!(created.attributes["repo"], id.to_hex());
    assert_eq!(created.attributes["owner"], addr(ALICE).to_hex());

    let repo = chain.query("repo", &id.0);
    assert_eq!(repo["owner"], addr(ALICE).to_hex());
    assert_eq!(repo["licence"], "Apache-2.0");
    assert_eq!(repo["version_count"], 0);
    let list = chain.query("repos", &[]);
    assert_eq!(list.as_array().map(Vec::len), Some(1));
}

#[test]
fn same_name_is_per_owner() {
    let mut chain = Chain::new();
    let a = chain.create_repo(ALICE, "digits");
    let b = chain.create_repo(BOB, "digits");
    assert_ne!(a, b);
    let again = chain.send(
        ALICE,
        &RegistryCall::CreateRepo {
            name: "digits".into(),
            description: String::new(),
            licence: String::new(),
        },
    );
    assert_eq!(again.err(), Some(codes::REPO_EXISTS));
}

#[test]
fn rejects_bad_repo_names() {
    let mut chain = Chain::new();
    for name in ["", "has space", "slash/name", "ünïcode"] {
        let result = chain.send(
            ALICE,
            &RegistryCall::CreateRepo {
                name: name.into(),
                description: String::new(),
                licence: String::new(),
            },
        );
        assert_eq!(result.err(), Some(codes::INVALID_FIELD), "name {name:?}");
    }
}

#[test]
fn oversized_fields_never_decode() {
    let mut chain = Chain::new();
    let call = RegistryCall::CreateRepo {
        name: "ok".into(),
        description: "d".repeat(counterweight_registry::MAX_DESCRIPTION_BYTES + 1),
        licence: String::new(),
    };
    assert!(RegistryCall::from_payload(&call.to_payload()).is_err());
    let stx_check = chain
        .runtime
        .module(counterweight_registry::REGISTRY_MODULE)
        .expect("registered")
        .check_payload(&call.to_payload());
    assert_eq!(stx_check.err().map(|e| e.code), Some(codes::MALFORMED));
    // The runtime refuses such a transaction before it reaches a block.
    let rejected = chain.reject(ALICE, call.to_payload());
    assert!(
        matches!(rejected, counterweight_state::TxError::Malformed { .. }),
        "{rejected:?}"
    );
}

#[test]
fn only_owner_adds_maintainers_and_maintainers_publish() {
    let mut chain = Chain::new();
    let repo = chain.create_repo(ALICE, "digits");
    assert_eq!(
        chain.publish(BOB, version(repo, "v1")).err(),
        Some(codes::NOT_AUTHORISED)
    );

    let add = |who: Address| RegistryCall::AddMaintainer {
        repo,
        maintainer: who,
    };
    assert_eq!(
        chain.send(BOB, &add(addr(BOB))).err(),
        Some(codes::NOT_AUTHORISED)
    );
    let events = chain.send(ALICE, &add(addr(BOB))).expect("added");
    assert_eq!(
        event(&events, "maintainer_added").attributes["maintainer"],
        addr(BOB).to_hex()
    );
    assert_eq!(
        chain.send(ALICE, &add(addr(BOB))).err(),
        Some(codes::ALREADY_MAINTAINER)
    );
    assert_eq!(
        chain.send(ALICE, &add(addr(ALICE))).err(),
        Some(codes::ALREADY_MAINTAINER)
    );

    let v1 = chain
        .publish(BOB, version(repo, "v1"))
        .expect("maintainer publishes");
    let published = chain.query("version", &v1.0);
    assert_eq!(published["signer"], addr(BOB).to_hex());
    assert_eq!(
        chain.publish(CAROL, version(repo, "v2")).err(),
        Some(codes::NOT_AUTHORISED)
    );

    let unknown = RegistryCall::AddMaintainer {
        repo: Hash([0xEE; 32]),
        maintainer: addr(CAROL),
    };
    assert_eq!(chain.send(ALICE, &unknown).err(), Some(codes::UNKNOWN_REPO));
}

#[test]
fn maintainers_are_bounded() {
    let mut chain = Chain::new();
    let repo = chain.create_repo(ALICE, "digits");
    for i in 0..MAX_MAINTAINERS {
        let who = Address([100 + i as u8; 32]);
        chain
            .send(
                ALICE,
                &RegistryCall::AddMaintainer {
                    repo,
                    maintainer: who,
                },
            )
            .expect("room left");
    }
    let one_more = RegistryCall::AddMaintainer {
        repo,
        maintainer: Address([250; 32]),
    };
    assert_eq!(
        chain.send(ALICE, &one_more).err(),
        Some(codes::TOO_MANY_MAINTAINERS)
    );
}

#[test]
fn fork_creates_repo_whose_first_version_has_the_forked_parent() {
    let mut chain = Chain::new();
    let repo = chain.create_repo(ALICE, "digits");
    let v1 = chain
        .publish(ALICE, version(repo, "v1"))
        .expect("published");

    let events = chain
        .send(
            BOB,
            &RegistryCall::Fork {
                version: v1,
                name: "my-digits".into(),
            },
        )
        .expect("forked");
    let forked = event(&events, "repo_forked");
    let new_repo = counterweight_registry::repo_id(&chain.chain_id, &addr(BOB), "my-digits");
    assert_eq!(forked.attributes["repo"], new_repo.to_hex());
    assert_eq!(forked.attributes["from_version"], v1.to_hex());
    event(&events, "repo_created");
    event(&events, "version_published");

    let repo_json = chain.query("repo", &new_repo.0);
    assert_eq!(repo_json["owner"], addr(BOB).to_hex());
    assert_eq!(repo_json["forked_from"], v1.to_hex());
    let first = version_id(&chain.chain_id, &new_repo, "v1");
    let first_json = chain.query("version", &first.0);
    assert_eq!(first_json["parent"], v1.to_hex());
    assert_eq!(first_json["signer"], addr(BOB).to_hex());
    let original = chain.query("version", &v1.0);
    assert_eq!(first_json["weights_hash"], original["weights_hash"]);

    // The fork's owner publishes in it; the original owner does not.
    assert!(chain.publish(BOB, version(new_repo, "v2")).is_ok());
    assert_eq!(
        chain.publish(ALICE, version(new_repo, "v3")).err(),
        Some(codes::NOT_AUTHORISED)
    );
}

#[test]
fn fork_refusals() {
    let mut chain = Chain::new();
    let unknown = RegistryCall::Fork {
        version: Hash([0xAB; 32]),
        name: "x".into(),
    };
    assert_eq!(
        chain.send(BOB, &unknown).err(),
        Some(codes::UNKNOWN_VERSION)
    );

    let repo = chain.create_repo(ALICE, "digits");
    let v1 = chain
        .publish(ALICE, version(repo, "v1"))
        .expect("published");
    // Forking into a name the sender already uses fails, and leaves nothing behind.
    chain.create_repo(BOB, "taken");
    let clash = RegistryCall::Fork {
        version: v1,
        name: "taken".into(),
    };
    assert_eq!(chain.send(BOB, &clash).err(), Some(codes::REPO_EXISTS));
    assert_eq!(chain.query("repos", &[]).as_array().map(Vec::len), Some(2));
}

#[test]
fn repos_lists_in_creation_order_from_a_start_index() {
    let mut chain = Chain::new();
    let ids: Vec<Hash> = (0..5)
        .map(|i| chain.create_repo(ALICE, &format!("r{i}")))
        .collect();
    let all = chain.query("repos", &[]);
    let listed: Vec<String> = all
        .as_array()
        .expect("list")
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(listed, ids.iter().map(Hash::to_hex).collect::<Vec<_>>());
    let tail = chain.query("repos", &3u64.to_be_bytes());
    assert_eq!(tail.as_array().map(Vec::len), Some(2));
    let past = chain.query("repos", &99u64.to_be_bytes());
    assert_eq!(past.as_array().map(Vec::len), Some(0));
}

#[test]
fn bad_queries_are_refused_with_bad_query() {
    let chain = Chain::new();
    for (path, data) in [
        ("nope", &[][..]),
        ("repo", &[1, 2, 3][..]),
        ("repos", &[1][..]),
    ] {
        let err = chain
            .runtime
            .query(
                &chain.state,
                counterweight_registry::REGISTRY_MODULE,
                path,
                data,
            )
            .expect_err("refused");
        match err {
            counterweight_state::CallError::Failed(e) => assert_eq!(e.code, codes::BAD_QUERY),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(chain.query("repo", &[0; 32]).is_null());
    assert!(chain.query("version", &[0; 32]).is_null());
    assert!(chain.query("versions", &[0; 32]).is_null());
    assert!(chain.query("lineage", &[0; 32]).is_null());
}
