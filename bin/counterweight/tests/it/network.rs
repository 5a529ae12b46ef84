//! Multi-process network tests: validators as separate processes on loopback.

use counterweight_bank::ModuleCall as _;
use counterweight_crypto::SigningKey;
use counterweight_node::testnet::dev_account;
use counterweight_rpc_api::{Client, TxStatusResponse};
use counterweight_types::{Call, Genesis, SignedTransaction, Transaction};
use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

const BIN: &str = env!("CARGO_BIN_EXE_counterweight");
const VALIDATORS: usize = 4;
const ACCOUNTS: u64 = 8;

/// Kills every node when the test ends, whatever happens.
struct Nodes {
    homes: Vec<PathBuf>,
    children: Vec<Option<Child>>,
    clients: Vec<Client>,
}

impl Drop for Nodes {
    fn drop(&mut self) {
        for child in self.children.iter_mut().flatten() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Nodes {
    fn start(&mut self, i: usize) {
        let log = std::fs::File::create(self.homes[i].join("node.log")).expect("log file");
        let child = Command::new(BIN)
            .arg("node")
            .arg("--home")
            .arg(&self.homes[i])
            .env("COUNTERWEIGHT_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start a node");
        self.children[i] = Some(child);
    }

    /// `kill -9`: no shutdown hook runs.
    fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.children[i].take() {
            child.kill().expect("SIGKILL");
            let _ = child.wait();
        }
    }

    fn height(&self, i: usize) -> Option<u64> {
        self.clients[i].status().ok().map(|s| s.height)
    }

    fn wait_height(&self, nodes: &[usize], height: u64, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let heights: Vec<_> = nodes.iter().map(|i| self.height(*i)).collect();
            if heights.iter().all(|h| h.is_some_and(|h| h >= height)) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "nodes {nodes:?} did not reach height {height}: {heights:?}; logs in {:?}",
                self.homes
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// A base port with `2 * VALIDATORS` free ports above it, taken below the kernel's ephemeral
/// range (32768 and up on Linux) so that no other test's port-0 listener or outgoing
/// connection can be handed one of them between this probe and the nodes' bind.
fn free_base_port() -> u16 {
    const LOW: u32 = 20_000;
    const SPAN: u32 = 12_000;
    let step = 2 * VALIDATORS as u32;
    let start = std::process::id().wrapping_mul(2_654_435_761) % (SPAN / step);
    for k in 0..SPAN / step {
        let base = (LOW + ((start + k) % (SPAN / step)) * step) as u16;
        let all_free = (0..step as u16).all(|o| TcpListener::bind(("127.0.0.1", base + o)).is_ok());
        if all_free {
            return base;
        }
    }
    panic!("no free port range");
}

fn transfer(genesis: &Genesis, key: &SigningKey, nonce: u64, to: &SigningKey) -> SignedTransaction {
    key.sign_tx(Transaction {
        chain_id: genesis.chain_id.clone(),
        sender: key.address(),
        nonce,
        fee: genesis.params.min_fee,
        call: Call {
            module: counterweight_bank::BANK_MODULE,
            payload: counterweight_bank::BankCall::Transfer {
                to: to.address(),
                amount: 1,
            }
            .to_payload(),
        },
    })
}

fn read_genesis(home: &Path) -> Genesis {
    let text = std::fs::read_to_string(home.join("genesis.json")).expect("genesis");
    serde_json::from_str(&text).expect("genesis json")
}

/// Submit one round of transfers (one per account) to the live nodes; returns accepted hashes.
fn submit_round(
    nodes: &Nodes,
    live: &[usize],
    genesis: &Genesis,
    keys: &[SigningKey],
    nonces: &mut [u64],
) -> Vec<String> {
    let mut accepted = Vec::new();
    for (a, key) in keys.iter().enumerate() {
        let node = live[a % live.len()];
        let client = &nodes.clients[node];
        if let Ok(account) = client.account(&key.address().to_hex()) {
            nonces[a] = nonces[a].max(account.nonce);
        }
        let tx = transfer(genesis, key, nonces[a], &keys[(a + 1) % keys.len()]);
        if let Ok(response) = client.submit_tx(&tx.to_bytes()) {
            nonces[a] += 1;
            accepted.push(response.tx_hash);
        }
    }
    accepted
}

fn finalized_on(client: &Client, hash: &str) -> bool {
    matches!(
        client.tx_status(hash),
        Ok(TxStatusResponse::Finalized { .. })
    )
}

#[test]
fn four_processes_survive_kill_nine_and_lose_no_finalized_tx_slow() {
    let dir = tempfile::tempdir().expect("temp dir");
    let base = free_base_port();
    let out = dir.path().join("net");
    let status = Command::new(BIN)
        .args(["testnet", "init", "--validators", "4", "--accounts"])
        .arg(ACCOUNTS.to_string())
        .arg("--base-port")
        .arg(base.to_string())
        .arg("--out")
        .arg(&out)
        .stdout(Stdio::null())
        .status()
        .expect("testnet init");
    assert!(status.success(), "testnet init failed");
    let homes: Vec<PathBuf> = (0..VALIDATORS).map(|i| out.join(i.to_string())).collect();
    let genesis = read_genesis(&homes[0]);
    let clients = (0..VALIDATORS)
        .map(|i| {
            Client::new(&format!("http://127.0.0.1:{}", base as usize + 2 * i + 1)).expect("client")
        })
        .collect();
    let mut nodes = Nodes {
        homes,
        children: (0..VALIDATORS).map(|_| None).collect(),
        clients,
    };
    for i in 0..VALIDATORS {
        nodes.start(i);
    }
    let all: Vec<usize> = (0..VALIDATORS).collect();
    nodes.wait_height(&all, 2, Duration::from_secs(60));

    let keys: Vec<SigningKey> = (0..ACCOUNTS).map(dev_account).collect();
    let mut nonces = vec![0u64; keys.len()];
    let mut accepted = Vec::new();
    for _ in 0..5 {
        accepted.extend(submit_round(&nodes, &all, &genesis, &keys, &mut nonces));
        std::thread::sleep(Duration::from_millis(100));
    }

    // kill -9 one validator under load; the other three keep finalizing.
    let victim = 3;
    nodes.kill(victim);
    let live = [0, 1, 2];
    let before = nodes.height(0).unwrap_or(0);
    for _ in 0..10 {
        accepted.extend(submit_round(&nodes, &live, &genesis, &keys, &mut nonces));
        std::thread::sleep(Duration::from_millis(100));
    }
    nodes.wait_height(&live, before + 3, Duration::from_secs(60));

    // Restart it: it catches up to the others.
    nodes.start(victim);
    for _ in 0..5 {
        accepted.extend(submit_round(&nodes, &all, &genesis, &keys, &mut nonces));
        std::thread::sleep(Duration::from_millis(100));
    }
    let target = nodes.height(0).unwrap_or(0);
    nodes.wait_height(&[victim], target, Duration::from_secs(90));

    // Same block (and so the same state root) at the common height.
    let at = nodes.clients[victim]
        .block(Some(target))
        .expect("victim block");
    let reference = nodes.clients[0]
        .block(Some(target))
        .expect("reference block");
    assert_eq!(at.hash, reference.hash, "restarted node diverged");
    assert_eq!(at.header.state_root, reference.header.state_root);

    // Every transfer finalized anywhere is finalized everywhere, including the restarted node.
    let deadline = Instant::now() + Duration::from_secs(60);
    let finalized: Vec<&String> = loop {
        let done: Vec<&String> = accepted
            .iter()
            .filter(|h| finalized_on(&nodes.clients[0], h))
            .collect();
        if done.len() == accepted.len() || Instant::now() > deadline {
            break done;
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    assert!(!finalized.is_empty(), "no transfer finalized");
    let final_height = nodes.height(0).unwrap_or(0);
    nodes.wait_height(&all, final_height, Duration::from_secs(60));
    for hash in &finalized {
        for (i, client) in nodes.clients.iter().enumerate() {
            assert!(
                finalized_on(client, hash),
                "node {i} lost finalized tx {hash}"
            );
        }
    }
}
