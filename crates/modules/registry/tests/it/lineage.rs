//! Lineage graphs: datasets → task → version → parent → … → root.

use counterweight_registry::{Lineage, Publish, RegistryCall};

use crate::{ALICE, BOB, create_repo, new_chain, publish, query, send, version};

#[test]
fn lineage_walks_parents_to_the_root_across_forks() {
    let mut chain = new_chain();
    let repo = create_repo(&mut chain, ALICE, "digits");
    let trained = crate::tasks::trained_task(&mut chain);
    let (task, d1) = (trained.task, trained.dataset);
    let v1 = publish(
        &mut chain,
        ALICE,
        crate::tasks::from_task(repo, "v1", &trained),
    )
    .expect("v1");
    send(
        &mut chain,
        BOB,
        &RegistryCall::Fork {
            version: v1,
            name: "fork".into(),
        },
    )
    .expect("fork");
    let fork_repo = counterweight_registry::repo_id(chain.chain_id(), &crate::addr(BOB), "fork");
    let forked_v1 = counterweight_registry::version_id(chain.chain_id(), &fork_repo, "v1");
    let (_, d3) = crate::consent::dataset(&mut chain, 0xD3, crate::consent::ALL);
    let v2 = publish(
        &mut chain,
        BOB,
        Publish {
            parent: Some(forked_v1),
            lineage: Lineage {
                task: None,
                datasets: vec![d3],
            },
            ..version(fork_repo, "v2")
        },
    )
    .expect("v2");

    let graph = query(&chain, "lineage", &v2.0);
    assert_eq!(graph["root"], v2.to_hex());
    assert_eq!(graph["truncated"], false);
    let nodes: Vec<(String, String)> = graph["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| {
            (
                n["kind"].as_str().unwrap_or("").to_owned(),
                n["id"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    // v2, its dataset, the forked copy (with the original task and datasets), then v1.
    assert_eq!(nodes[0], ("version".into(), v2.to_hex()));
    assert!(nodes.contains(&("dataset".into(), d3.to_hex())));
    assert!(nodes.contains(&("task".into(), task.to_hex())));
    assert!(nodes.contains(&("version".into(), forked_v1.to_hex())));
    assert!(nodes.contains(&("version".into(), v1.to_hex())));
    // Each id appears once although the fork repeats the task and dataset.
    assert_eq!(nodes.len(), 6);

    let edges: Vec<(String, String, String)> = graph["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| {
            (
                e["from"].as_str().unwrap_or("").to_owned(),
                e["to"].as_str().unwrap_or("").to_owned(),
                e["kind"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert!(edges.contains(&(d3.to_hex(), v2.to_hex(), "trained_on".into())));
    assert!(edges.contains(&(forked_v1.to_hex(), v2.to_hex(), "parent".into())));
    assert!(edges.contains(&(v1.to_hex(), forked_v1.to_hex(), "parent".into())));
    assert!(edges.contains(&(task.to_hex(), v1.to_hex(), "produced".into())));
    assert!(edges.contains(&(task.to_hex(), forked_v1.to_hex(), "produced".into())));
    assert!(edges.contains(&(d1.to_hex(), task.to_hex(), "trained_on".into())));
}

#[test]
fn lineage_of_a_root_version_is_itself() {
    let mut chain = new_chain();
    let repo = create_repo(&mut chain, ALICE, "digits");
    let v1 = publish(&mut chain, ALICE, version(repo, "v1")).expect("v1");
    let graph = query(&chain, "lineage", &v1.0);
    assert_eq!(graph["nodes"].as_array().map(Vec::len), Some(1));
    assert_eq!(graph["edges"].as_array().map(Vec::len), Some(0));
}
