//! CLI test: the output contract. With `--json` every command prints exactly one JSON
//! document on stdout; without it, readable text; and a reader that closes the pipe early
//! (`| head -c 1`) is not an error.

use std::io::Read as _;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::support::{BIN, Devnet};

/// Parses stdout as a sequence of JSON values and insists there is exactly one.
fn one_document(args: &[&str], output: &Output) -> Value {
    assert!(
        output.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::str::from_utf8(&output.stdout).expect("utf-8 stdout");
    let values: Vec<Value> = serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{args:?}: stdout is not JSON ({e}): {text}"));
    assert_eq!(
        values.len(),
        1,
        "{args:?}: expected one JSON document, got {}: {text}",
        values.len()
    );
    assert!(text.ends_with('\n'), "{args:?}: the document ends its line");
    values.into_iter().next().expect("one value")
}

/// Runs `args`, reads at most `keep` bytes of stdout, closes the pipe, and returns the exit
/// status with everything the process wrote on stderr.
fn with_closed_stdout(mut command: Command, keep: usize) -> (std::process::ExitStatus, String) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the binary");
    let mut stdout = child.stdout.take().expect("stdout");
    if keep > 0 {
        let mut first = vec![0u8; keep];
        stdout.read_exact(&mut first).expect("the first bytes");
    }
    drop(stdout);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("read stderr");
    (child.wait().expect("wait"), stderr)
}

#[test]
fn json_commands_print_exactly_one_document_and_a_closed_pipe_is_success_slow() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let devnet = Devnet::start(h);

    // A repository with one version, so that `model show` has something to show.
    let args = [
        "model",
        "create-repo",
        "--from",
        "dev0",
        "--name",
        "digits",
        "--json",
    ];
    let repo = one_document(&args, &devnet.cli(h, &args))["repo"]
        .as_str()
        .expect("repo id")
        .to_owned();
    let weights = h.join("weights.bin");
    std::fs::write(&weights, [7u8; 1000]).unwrap();
    let arch = "11".repeat(32);
    let args = [
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
        "--metric",
        "accuracy=0.9731",
        "--json",
    ];
    let version = one_document(&args, &devnet.cli(h, &args))["version"]
        .as_str()
        .expect("version id")
        .to_owned();

    let height_1 = "1".to_owned();
    let cases: Vec<Vec<&str>> = vec![
        vec!["query", "status", "--json"],
        vec!["query", "account", "dev0", "--json"],
        vec!["query", "block", "--json"],
        vec!["query", "block", &height_1, "--json"],
        vec!["keys", "list", "--json"],
        vec!["audit", "status", "--json"],
        vec!["model", "show", &version, "--json"],
        vec!["model", "show", &repo, "--json"],
        vec!["model", "lineage", &version, "--json"],
        vec![
            "transfer", "--from", "dev0", "--to", "dev1", "--amount", "3", "--wait", "--json",
        ],
        vec!["watch", "--count", "1", "--json"],
    ];
    for args in &cases {
        let value = one_document(args, &devnet.cli(h, args));
        assert!(!value.is_null(), "{args:?} answered null");
    }
    let status = one_document(
        &["query", "status"],
        &devnet.cli(h, &["query", "status", "--json"]),
    );
    assert!(status["height"].as_u64().is_some(), "{status}");
    let shown = one_document(
        &["model", "show"],
        &devnet.cli(h, &["model", "show", &version, "--json"]),
    );
    assert_eq!(shown["version"]["tag"], "v1");
    assert_eq!(shown["version"]["metrics"][0]["value"], 973_100);

    // `model show` is readable text by default, not JSON.
    let readable = devnet.cli(h, &["model", "show", &version]);
    assert!(readable.status.success());
    let readable = String::from_utf8(readable.stdout).unwrap();
    assert!(
        readable.starts_with(&format!("version     {version} (tag v1)\n")),
        "{readable}"
    );
    assert!(
        readable.contains("metric      accuracy = 0.9731"),
        "{readable}"
    );
    assert!(
        serde_json::from_str::<Value>(&readable).is_err(),
        "{readable}"
    );
    let readable_repo = String::from_utf8(devnet.cli(h, &["model", "show", &repo]).stdout).unwrap();
    assert!(
        readable_repo.starts_with(&format!("repository  {repo}\n")),
        "{readable_repo}"
    );
    assert!(
        readable_repo.contains(&format!("  version     {version} (tag v1)")),
        "{readable_repo}"
    );

    // `| head -c 1` and `| head -1`: the reader goes away after the first bytes. A closed pipe
    // before the command writes at all (keep 0) is the case `println!` would panic on.
    let closers: [(&[&str], usize); 6] = [
        (&["query", "status"], 1),
        (&["query", "status"], 0),
        (&["query", "status", "--json"], 0),
        (&["model", "show", &version], 1),
        (&["model", "show", &version], 0),
        (&["query", "block"], 0),
    ];
    for (args, keep) in closers {
        let (status, stderr) = with_closed_stdout(devnet.command(h, args), keep);
        assert!(
            status.success(),
            "{args:?} with stdout closed after {keep} bytes: {status}, stderr: {stderr}"
        );
        assert!(
            !stderr.contains("panicked") && !stderr.contains("error"),
            "{args:?} with stdout closed after {keep} bytes complained: {stderr}"
        );
    }
}

#[test]
fn offline_json_commands_print_exactly_one_document() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let run = |args: &[&str]| {
        Command::new(BIN)
            .args(args)
            .env("COUNTERWEIGHT_HOME", h)
            .env_remove("COUNTERWEIGHT_RPC")
            .output()
            .expect("run the binary")
    };
    let args = ["keys", "new", "alice", "--json"];
    let created = one_document(&args, &run(&args));
    assert_eq!(created["name"], "alice");
    for args in [
        &["keys", "list", "--json"][..],
        &["keys", "export", "alice", "--json"][..],
    ] {
        one_document(args, &run(args));
    }
    let out = h.join("net");
    let args = [
        "testnet",
        "init",
        "--validators",
        "2",
        "--out",
        out.to_str().unwrap(),
        "--json",
    ];
    let laid_out = one_document(&args, &run(&args));
    assert_eq!(
        laid_out["nodes"].as_array().map(Vec::len),
        Some(2),
        "{laid_out}"
    );

    // An empty keystore prints its sentence to people and `[]` to programs.
    let empty = tempfile::tempdir().unwrap();
    let listed = Command::new(BIN)
        .args(["keys", "list", "--json"])
        .env("COUNTERWEIGHT_HOME", empty.path())
        .output()
        .expect("run the binary");
    assert_eq!(
        one_document(&["keys", "list"], &listed),
        serde_json::json!([])
    );
}
