//! CLI test: `model` commands against a real devnet — create a repository, publish weights
//! (uploaded to the node's blob store), fork, show, lineage, and pull with verification.

use std::path::Path;

use serde_json::Value;

use crate::support::Devnet;

impl Devnet {
    fn json(&self, home: &Path, args: &[&str]) -> Value {
        let output = self.cli(home, args);
        assert!(
            output.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("JSON on stdout")
    }
}

#[test]
fn model_publish_fork_lineage_and_pull_slow() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let devnet = Devnet::start(h);

    let created = devnet.json(
        h,
        &[
            "model",
            "create-repo",
            "--from",
            "dev0",
            "--name",
            "digits",
            "--licence",
            "MIT",
            "--json",
        ],
    );
    let repo = created["repo"].as_str().unwrap().to_owned();

    let weights = h.join("weights.bin");
    let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(&weights, &bytes).unwrap();
    let pushed = devnet.json(h, &["model", "push", weights.to_str().unwrap(), "--json"]);
    let expected_hash = pushed["hash"].as_str().unwrap().to_owned();
    assert_eq!(pushed["size"], 200_000);
    let arch = "11".repeat(32);
    // The version's lineage names a real dataset that consents to training and derivatives.
    let coop = devnet.json(
        h,
        &[
            "coop",
            "create",
            "--from",
            "dev0",
            "--name",
            "digits-coop",
            "--json",
        ],
    );
    let coop = coop["coop"].as_str().unwrap().to_owned();
    let shard = h.join("shard.csv");
    std::fs::write(&shard, "x,label\n1,0\n2,1\n").unwrap();
    let committed = devnet.json(
        h,
        &[
            "coop",
            "commit-dataset",
            "--from",
            "dev0",
            "--coop",
            &coop,
            "--data",
            shard.to_str().unwrap(),
            "--consent",
            "training,derivatives",
            "--json",
        ],
    );
    let dataset = committed["dataset"].as_str().unwrap().to_owned();
    let published = devnet.json(
        h,
        &[
            "model",
            "publish",
            "--from",
            "dev0",
            "--repo",
            &repo,
            "--tag",
            "v1",
            "--weights",
            weights.to_str().unwrap(),
            "--arch-hash",
            &arch,
            "--dataset",
            &dataset,
            "--metric",
            "accuracy=0.9731",
            "--json",
        ],
    );
    assert_eq!(published["weights_hash"], expected_hash.as_str());
    let v1 = published["version"].as_str().unwrap().to_owned();

    let shown = devnet.json(h, &["model", "show", &v1, "--json"]);
    assert_eq!(shown["version"]["tag"], "v1");
    assert_eq!(shown["version"]["metrics"][0]["value"], 973_100);
    let shown_repo = devnet.json(h, &["model", "show", &repo, "--json"]);
    assert_eq!(shown_repo["versions"][0]["id"], v1.as_str());

    let forked = devnet.json(
        h,
        &[
            "model",
            "fork",
            "--from",
            "dev1",
            "--parent",
            &v1,
            "--name",
            "my-digits",
            "--json",
        ],
    );
    let fork_v1 = forked["version"].as_str().unwrap().to_owned();
    let lineage = devnet.json(h, &["model", "lineage", &fork_v1, "--json"]);
    let ids: Vec<&str> = lineage["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["id"].as_str())
        .collect();
    assert!(
        ids.contains(&v1.as_str()) && ids.contains(&dataset.as_str()),
        "{lineage}"
    );

    // Pull by version id (verified against the chain) and by blob hash.
    let out = h.join("pulled.bin");
    devnet.json(
        h,
        &[
            "model",
            "pull",
            &fork_v1,
            "--out",
            out.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(std::fs::read(&out).unwrap(), bytes);
    let out2 = h.join("by-hash.bin");
    devnet.json(
        h,
        &[
            "model",
            "pull",
            &expected_hash,
            "--out",
            out2.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(std::fs::read(&out2).unwrap(), bytes);

    // A second publish with the same tag is refused with the registry's message.
    let again = devnet.cli(
        h,
        &[
            "model",
            "publish",
            "--from",
            "dev0",
            "--repo",
            &repo,
            "--tag",
            "v1",
            "--weights",
            weights.to_str().unwrap(),
            "--arch-hash",
            &arch,
            "--no-upload",
        ],
    );
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already has tag"));
}
