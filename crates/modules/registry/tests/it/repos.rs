//! Repositories: creation, listing, maintainers, forks.

use counterweight_registry::{MAX_MAINTAINERS, REGISTRY_MODULE, RegistryCall, codes, version_id};
use counterweight_types::{Address, Hash};

use counterweight_registry::ModuleCall as _;
use counterweight_state::test_utils::event;

use crate::{
    ALICE, BOB, CAROL, addr, create_repo, new_chain, publish, query, reject, send, version,
};

#[test]
fn creates_repo_owned_by_sender_and_reports_its_id() {
    let mut chain = new_chain();
    let events = send(
        &mut chain,
        ALICE,
        &RegistryCall::CreateRepo {
            name: "digits".into(),
            description: "mnist".into(),
            licence: "Apache-2.0".into(),
        },
    )
    .expect("created");
    let id = counterweight_registry::repo_id(chain.chain_id(), &addr(ALICE), "digits");
    let created = event(&events, "repo_created");
    assert_eq!(created.attributes["repo"], id.to_hex());
    assert_eq!(created.attributes["owner"], addr(ALICE).to_hex());

    let repo = query(&chain, "repo", &id.0);
    assert_eq!(repo["owner"], addr(ALICE).to_hex());
    assert_eq!(repo["licence"], "Apache-2.0");
    assert_eq!(repo["version_count"], 0);
    let list = query(&chain, "repos", &[]);
    assert_eq!(list.as_array().map(Vec::len), Some(1));
}

#[test]
fn same_name_is_per_owner() {
    let mut chain = new_chain();
    let a = create_repo(&mut chain, ALICE, "digits");
    let b = create_repo(&mut chain, BOB, "digits");
    assert_ne!(a, b);
    let again = send(
        &mut chain,
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
    let mut chain = new_chain();
    for name in ["", "has space", "slash/name", "ünïcode"] {
        let result = send(
            &mut chain,
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
    let mut chain = new_chain();
    let call = RegistryCall::CreateRepo {
        name: "ok".into(),
        description: "d".repeat(counterweight_registry::MAX_DESCRIPTION_BYTES + 1),
        licence: String::new(),
    };
    assert!(RegistryCall::from_payload(&call.to_payload()).is_err());
    let stx_check = chain
        .runtime()
        .module(counterweight_registry::REGISTRY_MODULE)
        .expect("registered")
        .check_payload(&call.to_payload());
    assert_eq!(stx_check.err().map(|e| e.code), Some(codes::MALFORMED));
    // The runtime refuses such a transaction before it reaches a block.
    let rejected = reject(&mut chain, ALICE, call.to_payload());
    assert!(
        matches!(rejected, counterweight_state::TxError::Malformed { .. }),
        "{rejected:?}"
    );
}

#[test]
fn only_owner_adds_maintainers_and_maintainers_publish() {
    let mut chain = new_chain();
    let repo = create_repo(&mut chain, ALICE, "digits");
    assert_eq!(
        publish(&mut chain, BOB, version(repo, "v1")).err(),
        Some(codes::NOT_AUTHORISED)
    );

    let add = |who: Address| RegistryCall::AddMaintainer {
        repo,
        maintainer: who,
    };
    assert_eq!(
        send(&mut chain, BOB, &add(addr(BOB))).err(),
        Some(codes::NOT_AUTHORISED)
    );
    let events = send(&mut chain, ALICE, &add(addr(BOB))).expect("added");
    assert_eq!(
        event(&events, "maintainer_added").attributes["maintainer"],
        addr(BOB).to_hex()
    );
    assert_eq!(
        send(&mut chain, ALICE, &add(addr(BOB))).err(),
        Some(codes::ALREADY_MAINTAINER)
    );
    assert_eq!(
        send(&mut chain, ALICE, &add(addr(ALICE))).err(),
        Some(codes::ALREADY_MAINTAINER)
    );

    let v1 = publish(&mut chain, BOB, version(repo, "v1")).expect("maintainer publishes");
    let published = query(&chain, "version", &v1.0);
    assert_eq!(published["signer"], addr(BOB).to_hex());
    assert_eq!(
        publish(&mut chain, CAROL, version(repo, "v2")).err(),
        Some(codes::NOT_AUTHORISED)
    );

    let unknown = RegistryCall::AddMaintainer {
        repo: Hash([0xEE; 32]),
        maintainer: addr(CAROL),
    };
    assert_eq!(
        send(&mut chain, ALICE, &unknown).err(),
        Some(codes::UNKNOWN_REPO)
    );
}

#[test]
fn maintainers_are_bounded() {
    let mut chain = new_chain();
    let repo = create_repo(&mut chain, ALICE, "digits");
    for i in 0..MAX_MAINTAINERS {
        let who = Address([100 + i as u8; 32]);
        send(
            &mut chain,
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
        send(&mut chain, ALICE, &one_more).err(),
        Some(codes::TOO_MANY_MAINTAINERS)
    );
}

#[test]
fn fork_creates_repo_whose_first_version_has_the_forked_parent() {
    let mut chain = new_chain();
    let repo = create_repo(&mut chain, ALICE, "digits");
    let v1 = publish(&mut chain, ALICE, version(repo, "v1")).expect("published");

    let events = send(
        &mut chain,
        BOB,
        &RegistryCall::Fork {
            version: v1,
            name: "my-digits".into(),
        },
    )
    .expect("forked");
    let forked = event(&events, "repo_forked");
    let new_repo = counterweight_registry::repo_id(chain.chain_id(), &addr(BOB), "my-digits");
    assert_eq!(forked.attributes["repo"], new_repo.to_hex());
    assert_eq!(forked.attributes["from_version"], v1.to_hex());
    event(&events, "repo_created");
    event(&events, "version_published");

    let repo_json = query(&chain, "repo", &new_repo.0);
    assert_eq!(repo_json["owner"], addr(BOB).to_hex());
    assert_eq!(repo_json["forked_from"], v1.to_hex());
    let first = version_id(chain.chain_id(), &new_repo, "v1");
    let first_json = query(&chain, "version", &first.0);
    assert_eq!(first_json["parent"], v1.to_hex());
    assert_eq!(first_json["signer"], addr(BOB).to_hex());
    let original = query(&chain, "version", &v1.0);
    assert_eq!(first_json["weights_hash"], original["weights_hash"]);

    // The fork's owner publishes in it; the original owner does not.
    assert!(publish(&mut chain, BOB, version(new_repo, "v2")).is_ok());
    assert_eq!(
        publish(&mut chain, ALICE, version(new_repo, "v3")).err(),
        Some(codes::NOT_AUTHORISED)
    );
}

#[test]
fn fork_refusals() {
    let mut chain = new_chain();
    let unknown = RegistryCall::Fork {
        version: Hash([0xAB; 32]),
        name: "x".into(),
    };
    assert_eq!(
        send(&mut chain, BOB, &unknown).err(),
        Some(codes::UNKNOWN_VERSION)
    );

    let repo = create_repo(&mut chain, ALICE, "digits");
    let v1 = publish(&mut chain, ALICE, version(repo, "v1")).expect("published");
    // Forking into a name the sender already uses fails, and leaves nothing behind.
    create_repo(&mut chain, BOB, "taken");
    let clash = RegistryCall::Fork {
        version: v1,
        name: "taken".into(),
    };
    assert_eq!(
        send(&mut chain, BOB, &clash).err(),
        Some(codes::REPO_EXISTS)
    );
    assert_eq!(
        query(&chain, "repos", &[]).as_array().map(Vec::len),
        Some(2)
    );
}

#[test]
fn repos_lists_in_creation_order_from_a_start_index() {
    let mut chain = new_chain();
    let ids: Vec<Hash> = (0..5)
        .map(|i| create_repo(&mut chain, ALICE, &format!("r{i}")))
        .collect();
    let all = query(&chain, "repos", &[]);
    let listed: Vec<String> = all
        .as_array()
        .expect("list")
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(listed, ids.iter().map(Hash::to_hex).collect::<Vec<_>>());
    let tail = query(&chain, "repos", &3u64.to_be_bytes());
    assert_eq!(tail.as_array().map(Vec::len), Some(2));
    let past = query(&chain, "repos", &99u64.to_be_bytes());
    assert_eq!(past.as_array().map(Vec::len), Some(0));
}

#[test]
fn bad_queries_are_refused_with_bad_query() {
    let chain = new_chain();
    for (path, data) in [
        ("nope", &[][..]),
        ("repo", &[1, 2, 3][..]),
        ("repos", &[1][..]),
    ] {
        assert_eq!(
            chain.query_code(REGISTRY_MODULE, path, data),
            codes::BAD_QUERY,
            "{path}"
        );
    }
    assert!(query(&chain, "repo", &[0; 32]).is_null());
    assert!(query(&chain, "version", &[0; 32]).is_null());
    assert!(query(&chain, "versions", &[0; 32]).is_null());
    assert!(query(&chain, "lineage", &[0; 32]).is_null());
}
