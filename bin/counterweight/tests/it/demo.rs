//! The main job end to end: `counterweight demo` on an embedded devnet, real binary, real
//! node, real training, secure aggregation on chain.

use std::process::Command;

fn demo(home: &std::path::Path, extra: &[&str]) -> serde_json::Value {
    let output = Command::new(env!("CARGO_BIN_EXE_counterweight"))
        .args(["--json", "demo", "--home"])
        .arg(home)
        .args(extra)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "demo failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the demo's last line is its JSON report")
}

#[test]
fn demo_trains_with_secure_aggregation_publishes_and_proves_slow() {
    let dir = tempfile::tempdir().unwrap();
    let report = demo(
        &dir.path().join("home"),
        &["--members", "3", "--rounds", "4"],
    );
    assert_eq!(report["rounds"], 4);
    assert_eq!(report["members"], 3);
    assert_eq!(report["secagg"], true);
    let accuracy = report["accuracy"].as_f64().unwrap();
    let reference = report["reference_accuracy"].as_f64().unwrap();
    // The on-chain federation is the `fl simulate` federation: same split, seed and model.
    assert!(
        (accuracy - reference).abs() <= 0.01,
        "on chain {accuracy}, simulate {reference}"
    );
    assert!(accuracy > 0.5, "4 rounds should learn digits: {accuracy}");
    assert_eq!(report["weights_hash"].as_str().unwrap().len(), 64);
    assert_eq!(report["version"].as_str().unwrap().len(), 64);
    // The proof of one update was written and checks offline with the CLI as well.
    let proof = dir.path().join("home").join("update-proof.json");
    let output = Command::new(env!("CARGO_BIN_EXE_counterweight"))
        .args(["audit", "verify"])
        .arg(&proof)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("valid:"));

    // A tampered proof is refused with a reason.
    let mut text: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&proof).unwrap()).unwrap();
    text["audit"]["entry"]["attributes"]["round"] = serde_json::json!("9");
    let forged = dir.path().join("forged.json");
    std::fs::write(&forged, serde_json::to_vec(&text).unwrap()).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_counterweight"))
        .args(["audit", "verify"])
        .arg(&forged)
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("audit proof is invalid"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn demo_refuses_a_home_that_already_holds_a_chain() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    demo(
        &home,
        &[
            "--members",
            "2",
            "--rounds",
            "1",
            "--no-secagg",
            "--skip-reference",
        ],
    );
    let output = Command::new(env!("CARGO_BIN_EXE_counterweight"))
        .args(["demo", "--home"])
        .arg(&home)
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("already holds a chain"));
}
