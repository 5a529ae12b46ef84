//! CLI tests: chain commands (`keys`, `transfer`, `submit`, `query`, `watch`) against the real
//! binary, and against a real devnet started with `counterweight devnet`.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_counterweight");

fn run(home: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("COUNTERWEIGHT_HOME", home)
        .env_remove("COUNTERWEIGHT_RPC")
        .output()
        .expect("run the binary")
}

fn run_stdin(home: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .env("COUNTERWEIGHT_HOME", home)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the binary");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "command failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).expect("utf-8 stdout")
}

fn json(output: &Output) -> Value {
    serde_json::from_str(stdout(output).trim()).expect("JSON on stdout")
}

/// The command failed with exit code 1 and exactly one `error:` line that contains `needle`.
fn assert_one_line_error(output: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one line, got: {stderr}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    assert!(
        lines[0].contains(needle),
        "expected `{needle}` in: {stderr}"
    );
}

#[test]
fn keys_round_trip_through_export_and_import() {
    let home = tempfile::tempdir().unwrap();
    let other = tempfile::tempdir().unwrap();

    let created = json(&run(home.path(), &["keys", "new", "alice", "--json"]));
    let address = created["address"].as_str().unwrap().to_owned();
    assert_eq!(address.len(), 64);
    assert!(stdout(&run(home.path(), &["keys", "list"])).contains(&address));

    let secret = stdout(&run(home.path(), &["keys", "export", "alice"]));
    assert_eq!(secret.trim().len(), 64);
    let imported = json(&run_stdin(
        other.path(),
        &["keys", "import", "alice", "--json"],
        &secret,
    ));
    assert_eq!(imported["address"], address.as_str());
    let listed = json(&run(other.path(), &["keys", "list", "--json"]));
    assert_eq!(
        listed,
        serde_json::json!([{ "name": "alice", "address": address }])
    );

    // The key file is the documented format.
    let file: Value = serde_json::from_str(
        &std::fs::read_to_string(home.path().join("keys/alice.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(file["name"], "alice");
    assert_eq!(file["address"], address.as_str());
    assert_eq!(file["secret_key"], secret.trim());
}

#[test]
fn keys_refuse_bad_input_with_one_line() {
    let home = tempfile::tempdir().unwrap();
    assert!(run(home.path(), &["keys", "new", "bob"]).status.success());
    assert_one_line_error(&run(home.path(), &["keys", "new", "bob"]), "already exists");
    assert_one_line_error(
        &run(home.path(), &["keys", "new", "../evil"]),
        "invalid key name",
    );
    assert_one_line_error(
        &run(home.path(), &["keys", "export", "nobody"]),
        "no key named",
    );
    assert_one_line_error(
        &run_stdin(home.path(), &["keys", "import", "carol"], "not hex"),
        "64 hex characters",
    );
    std::fs::write(home.path().join("keys/broken.json"), "{").unwrap();
    assert_one_line_error(
        &run(home.path(), &["keys", "export", "broken"]),
        "corrupt key file",
    );
}

#[test]
fn client_commands_report_an_unreachable_node_in_one_line() {
    let home = tempfile::tempdir().unwrap();
    assert!(run(home.path(), &["keys", "new", "alice"]).status.success());
    let rpc = ["--rpc", "http://127.0.0.1:1"];
    let cases: [&[&str]; 3] = [
        &["query", "status"],
        &["query", "account", "alice"],
        &[
            "transfer", "--from", "alice", "--to", "alice", "--amount", "1",
        ],
    ];
    for args in cases {
        let args: Vec<&str> = args.iter().chain(rpc.iter()).copied().collect();
        assert_one_line_error(&run(home.path(), &args), "cannot reach the node");
    }
    assert_one_line_error(
        &run(home.path(), &["query", "status", "--rpc", "localhost:1"]),
        "invalid node URL",
    );
}

/// A devnet process, killed when dropped.
struct Devnet {
    child: Child,
    rpc: String,
}

impl Drop for Devnet {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Devnet {
    fn start(home: &Path) -> Self {
        let mut child = Command::new(BIN)
            .args(["devnet", "--accounts", "2", "--rpc-listen", "127.0.0.1:0"])
            .args(["--p2p-listen", "127.0.0.1:0"])
            .arg("--home")
            .arg(home)
            .env("COUNTERWEIGHT_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(home.join("devnet.log")).expect("log file"))
            .spawn()
            .expect("start the devnet");
        let out = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("rpc: ") {
                    let _ = tx.send(url.trim().to_owned());
                }
            }
        });
        let mut devnet = Self {
            child,
            rpc: String::new(),
        };
        devnet.rpc = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| {
                let log = std::fs::read_to_string(home.join("devnet.log")).unwrap_or_default();
                panic!("the devnet did not print its RPC address within 60 s; log:\n{log}")
            });
        devnet
    }

    fn cli(&self, home: &Path, args: &[&str]) -> Output {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--rpc", self.rpc.as_str()]);
        run(home, &all)
    }
}

#[test]
fn devnet_transfer_query_watch_and_rejections_slow() {
    let home = tempfile::tempdir().unwrap();
    let devnet = Devnet::start(home.path());
    let h = home.path();

    let status = json(&devnet.cli(h, &["query", "status", "--json"]));
    let chain_id = status["chain_id"].as_str().unwrap().to_owned();
    let before = json(&devnet.cli(h, &["query", "account", "dev1", "--json"]));
    let before = before["balance"].as_u64().unwrap();

    // A transfer, waited for.
    let sent = json(&devnet.cli(
        h,
        &[
            "transfer", "--from", "dev0", "--to", "dev1", "--amount", "125", "--fee", "2",
            "--wait", "--json",
        ],
    ));
    assert_eq!(sent["status"]["status"], "finalized", "{sent}");
    let tx_hash = sent["tx_hash"].as_str().unwrap().to_owned();
    let height = sent["status"]["height"].as_u64().unwrap();

    let after = json(&devnet.cli(h, &["query", "account", "dev1", "--json"]));
    assert_eq!(after["balance"].as_u64().unwrap(), before + 125);
    let tx = json(&devnet.cli(h, &["query", "tx", &tx_hash, "--json"]));
    assert_eq!(tx["status"], "finalized");
    assert_eq!(tx["receipt"]["status"]["result"], "ok");
    let block = json(&devnet.cli(h, &["query", "block", &height.to_string(), "--json"]));
    assert!(
        block["txs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["hash"] == tx_hash.as_str())
    );
    let readable = stdout(&devnet.cli(h, &["query", "tx", &tx_hash]));
    assert!(
        readable.contains(&format!("finalized at height {height}")),
        "{readable}"
    );

    // The devnet's funded accounts are in the keystore.
    let keys = json(&run(h, &["keys", "list", "--json"]));
    assert_eq!(keys.as_array().unwrap().len(), 2);

    // Watching sees the next finalized block.
    let watched = devnet.cli(h, &["watch", "--count", "1", "--json"]);
    let event: Value = serde_json::from_str(stdout(&watched).lines().next().unwrap()).unwrap();
    assert!(event["height"].as_u64().unwrap() >= 1);

    // Each bad input: one clear line, non-zero exit, nothing stored.
    let nonce_before =
        json(&devnet.cli(h, &["query", "account", "dev0", "--json"]))["nonce"].clone();
    assert_one_line_error(
        &devnet.cli(
            h,
            &[
                "transfer",
                "--from",
                "dev0",
                "--to",
                "dev1",
                "--amount",
                "1",
                "--chain-id",
                "other-chain",
            ],
        ),
        "wrong_chain_id",
    );
    assert_one_line_error(
        &devnet.cli(
            h,
            &[
                "transfer", "--from", "dev0", "--to", "dev1", "--amount", "1", "--nonce", "0",
            ],
        ),
        "stale_nonce",
    );
    assert!(run(h, &["keys", "new", "pauper"]).status.success());
    assert_one_line_error(
        &devnet.cli(
            h,
            &[
                "transfer", "--from", "pauper", "--to", "dev1", "--amount", "1",
            ],
        ),
        "insufficient balance",
    );
    assert_one_line_error(
        &devnet.cli(
            h,
            &[
                "transfer", "--from", "dev0", "--to", "nobody", "--amount", "1",
            ],
        ),
        "neither an address",
    );
    assert_one_line_error(&devnet.cli(h, &["submit", "deadbeef"]), "malformed");
    assert_one_line_error(&devnet.cli(h, &["submit", "not-hex"]), "bad_request");
    let oversized = h.join("oversized.hex");
    std::fs::write(&oversized, "00".repeat(128 * 1024 + 1)).unwrap();
    assert_one_line_error(
        &devnet.cli(h, &["submit", "--file", oversized.to_str().unwrap()]),
        "oversized",
    );
    // A correctly signed transaction whose signature is then corrupted.
    let signed = json(&devnet.cli(
        h,
        &[
            "transfer",
            "--from",
            "dev0",
            "--to",
            "dev1",
            "--amount",
            "1",
            "--sign-only",
            "--json",
        ],
    ));
    let mut hex = signed["tx"].as_str().unwrap().to_owned();
    let last = hex.pop().unwrap();
    hex.push(if last == '0' { '1' } else { '0' });
    assert_one_line_error(&devnet.cli(h, &["submit", &hex]), "bad_signature");
    let forged_hash = signed["tx_hash"].as_str().unwrap();
    let forged = json(&devnet.cli(h, &["query", "tx", forged_hash, "--json"]));
    assert_eq!(
        forged["status"], "unknown",
        "a rejected transaction is not stored"
    );
    let nonce_after =
        json(&devnet.cli(h, &["query", "account", "dev0", "--json"]))["nonce"].clone();
    assert_eq!(nonce_before, nonce_after);

    // The untouched signed transaction is still good: offline signing + submit works.
    let submitted = json(&devnet.cli(
        h,
        &["submit", signed["tx"].as_str().unwrap(), "--wait", "--json"],
    ));
    assert_eq!(submitted["status"]["status"], "finalized", "{submitted}");
    assert_eq!(chain_id, status["chain_id"].as_str().unwrap());
}
