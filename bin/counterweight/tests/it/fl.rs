//! CLI tests: fl commands.

use std::process::Command;

fn counterweight() -> Command {
    Command::new(env!("CARGO_BIN_EXE_counterweight"))
}

#[test]
fn fl_simulate_writes_a_json_result() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("result.json");
    let output = counterweight()
        .current_dir(dir.path())
        .args([
            "fl",
            "simulate",
            "--dataset",
            "digits",
            "--clients",
            "10",
            "--alpha",
            "0.5",
        ])
        .args(["--rounds", "3", "--strategy", "fedavg", "--json", "--out"])
        .arg(&out)
        .arg("--plot")
        .arg(dir.path().join("accuracy.png"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(printed, written);
    assert_eq!(printed["split"], "standard");
    assert_eq!(printed["parameters"], 4810);
    assert_eq!(printed["test_samples"], 360);
    let rounds = printed["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 3);
    for (i, r) in rounds.iter().enumerate() {
        assert_eq!(r["round"], i + 1);
        let acc = r["accuracy"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&acc));
        assert!(r["wall_ms"].as_f64().unwrap() > 0.0);
        assert!(r["cpu_ms"].as_f64().unwrap() >= 0.0);
    }
    let initial = printed["initial"]["accuracy"].as_f64().unwrap();
    let last = printed["final_accuracy"].as_f64().unwrap();
    assert!(last > initial + 0.2, "accuracy {initial} -> {last}");
    assert!(printed["peak_rss_mb"].as_f64().unwrap() > 0.0);
    // The plot is a PNG whose header (IHDR, big-endian) states 800 × 480.
    let png = std::fs::read(dir.path().join("accuracy.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(&png[12..16], b"IHDR");
    assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), 800);
    assert_eq!(u32::from_be_bytes(png[20..24].try_into().unwrap()), 480);
}

#[test]
fn fl_simulate_rejects_bad_options_clearly() {
    let bad = counterweight()
        .args(["fl", "simulate", "--rounds", "1", "--strategy", "nonsense"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("strategy"));
    let bulyan = counterweight()
        .args(["fl", "simulate", "--rounds", "1", "--strategy", "bulyan:2"])
        .output()
        .unwrap();
    assert!(
        !bulyan.status.success(),
        "Bulyan with n < 4f + 3 must be refused"
    );
    let missing = counterweight()
        .args([
            "fl",
            "simulate",
            "--rounds",
            "1",
            "--dataset",
            "no-such-file.csv",
        ])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no-such-file.csv"));
}
