//! CLI tests: zk commands — register a small ONNX model with calibration samples, prove one
//! inference, verify it, and reject tampered proofs and mismatched statements.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

/// The 64-32-10 MLP anchor (cheap to prove in a debug build).
const MODEL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../crates/onnx/tests/fixtures/anchors/mlp_64_32_10.onnx"
);
const INPUT_LEN: usize = 64;

fn counterweight(home: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_counterweight"));
    c.arg("zk").arg("--home").arg(home);
    c
}

/// Deterministic samples in `[0, 1)` (a linear congruential generator).
fn samples(n: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            (0..INPUT_LEN)
                .map(|_| {
                    s = s
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    (s >> 40) as f64 / (1u64 << 24) as f64
                })
                .collect()
        })
        .collect()
}

fn write_json(dir: &Path, name: &str, rows: &[Vec<f64>]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, json!({ "input_data": rows }).to_string()).unwrap();
    path
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run the binary")
}

fn ok_json(cmd: &mut Command) -> Value {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// Assert a failure with exit code 1 and a single `error: ...` line naming `needle`.
fn assert_rejected(out: &Output, needle: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one error line, got: {err}");
    assert!(lines[0].starts_with("error: "), "{err}");
    assert!(lines[0].contains(needle), "expected {needle:?} in: {err}");
}

fn verify(home: &Path, id: &str, input: &Path, proof: &Path) -> Command {
    let mut c = counterweight(home);
    c.args(["verify", "--model", id, "--input"])
        .arg(input)
        .arg("--proof")
        .arg(proof);
    c
}

#[test]
fn zk_register_prove_verify_and_reject_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let (d, home) = (dir.path(), dir.path().join("home"));
    let calibration = write_json(d, "calibration.json", &samples(16, 1));
    let held_out = write_json(d, "test.json", &samples(12, 3));
    let input = write_json(d, "x.json", &samples(1, 2));
    let other_input = write_json(
        d,
        "x2.json",
        &[samples(1, 2)[0].iter().map(|v| 1.0 - v).collect()],
    );

    let reg = ok_json(
        counterweight(&home)
            .args(["register", MODEL, "--calibration"])
            .arg(&calibration)
            .arg("--test")
            .arg(&held_out)
            .arg("--json"),
    );
    let id = reg["model_id"].as_str().expect("model_id").to_owned();
    assert_eq!(id.len(), 64);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    let agreement = reg["argmax_agreement"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&agreement));
    assert_eq!(reg["calibration_samples"], 16);
    assert_eq!(reg["test_samples"], 12);
    let held_out_agreement = reg["test_argmax_agreement"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&held_out_agreement));

    let proof = d.join("proof.bin");
    let proved = ok_json(
        counterweight(&home)
            .args(["prove", "--model", &id, "--input"])
            .arg(&input)
            .arg("--out")
            .arg(&proof)
            .args(["--request-id", "request-1", "--json"]),
    );
    assert_eq!(proved["model_id"], id.as_str());
    assert_eq!(proved["output"].as_array().unwrap().len(), 10);
    let proof_bytes = proved["proof_bytes"].as_u64().unwrap();
    assert!(proof_bytes > 0 && proof_bytes < std::fs::metadata(&proof).unwrap().len());

    let ok = ok_json(verify(&home, &id, &input, &proof).arg("--json"));
    assert_eq!(ok["valid"], true);
    assert_eq!(ok["model_id"], id.as_str());
    assert_eq!(ok["output"], proved["output"]);
    // Human-readable output too, with the recorded binding given explicitly.
    let out = run(verify(&home, &id, &input, &proof).args(["--request-id", "request-1"]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("valid"));

    // A flipped byte inside the proof (the last bytes of the file are the proof's).
    let mut bytes = std::fs::read(&proof).unwrap();
    let at = bytes.len() - (proof_bytes as usize) / 2;
    bytes[at] ^= 0x01;
    let flipped = d.join("flipped.bin");
    std::fs::write(&flipped, &bytes).unwrap();
    let out = run(&mut verify(&home, &id, &input, &flipped));
    assert_rejected(&out, "proof");

    // The proof does not verify for another input or another request.
    assert_rejected(
        &run(&mut verify(&home, &id, &other_input, &proof)),
        "invalid proof",
    );
    assert_rejected(
        &run(verify(&home, &id, &input, &proof).args(["--request-id", "request-2"])),
        "invalid proof",
    );

    // An unknown model id, and a malformed one.
    let unknown = "ab".repeat(32);
    assert_rejected(
        &run(&mut verify(&home, &unknown, &input, &proof)),
        "not found",
    );
    assert_rejected(&run(&mut verify(&home, "xyz", &input, &proof)), "model id");
}
