//! A golden fixture: a fixed sequence of calls across all six modules pins the state root,
//! the block hash and every receipt.
//!
//! The sequence exercises every module's calls, events (the audit log hashes them into the
//! state root), refusals (codes and messages are in the receipts) and queries. A refactor must
//! leave all three digests unchanged; an intended encoding change regenerates them in a
//! commit of its own that says why (run with `GOLDEN_PRINT=1` to see the new values).

use bytes::Bytes;
use commonware_codec::Encode as _;
use counterweight_app::App;
use counterweight_bank::{BANK_MODULE, BankCall, ModuleCall as _};
use counterweight_coop::{
    Admission, COOP_MODULE, Consent, CoopCall, ProposalKind, Rules, coop_id, dataset_id,
    proposal_id,
};
use counterweight_crypto::SigningKey;
use counterweight_identity::{IDENTITY_MODULE, IdentityCall};
use counterweight_learn::{LEARN_MODULE, LearnCall, TaskSpec, TaskStrategy, TrainHints, task_id};
use counterweight_model::{Architecture, Layer, Linear};
use counterweight_registry::{
    Lineage, Publish, REGISTRY_MODULE, RegistryCall, repo_id, version_id,
};
use counterweight_types::{Call, Hash, ModuleId, ReceiptStatus, SignedTransaction};

use crate::support::{app, genesis, keys, produce, signed};

/// The state root after the last block of [`run`].
const STATE_ROOT: &str = "6ffd74f8d05d8176d5cd4bf888e93419740707f4118fc32e27a362a925e41d11";
/// The digest of the last block of [`run`].
const BLOCK_HASH: &str = "bb396af6319bc34a9ae422da2adafb4630ca65b9538bcf488e5566686da32079";
/// BLAKE3 of every receipt's canonical bytes, in order.
const RECEIPTS: &str = "5a1e60a11f9a4dc1f297a809926f0116e02db907b7c56ad454e5b7a89874eeb8";
/// BLAKE3 of the answers (JSON bytes) to a fixed list of queries of every module.
const QUERIES: &str = "f3405ce7faebc7414b770837964a97ec78eb67d765bccdf217f36b3b1fd47aad";

struct Run {
    app: App,
    nonces: [u64; 4],
    receipts: blake3::Hasher,
    last: Hash,
    failed: usize,
    /// Queries asked at the end: module, path, argument.
    queries: Vec<(ModuleId, &'static str, Vec<u8>)>,
}

impl Run {
    fn key(i: usize) -> SigningKey {
        let k = keys();
        match i {
            0 => k.alice,
            1 => k.bob,
            _ => k.validator,
        }
    }

    /// Sends one call in a block of its own; returns its transaction hash and whether it
    /// succeeded.
    fn send(&mut self, who: usize, module: ModuleId, payload: Bytes) -> (Hash, bool) {
        let stx: SignedTransaction = signed(
            &Self::key(who),
            self.nonces[who],
            2,
            Call { module, payload },
        );
        self.nonces[who] += 1;
        let hash = stx.hash();
        let block = produce(&self.app, vec![stx]).expect("block");
        assert_eq!(block.txs.len(), 1, "the call is included");
        self.last = block.header.digest();
        let receipt = self.app.receipt(&hash).expect("read").expect("stored");
        self.receipts.update(&receipt.encode());
        let ok = matches!(receipt.status, ReceiptStatus::Ok);
        if !ok {
            self.failed += 1;
        }
        (hash, ok)
    }

    fn ok(&mut self, who: usize, module: ModuleId, payload: Bytes) -> Hash {
        let (hash, ok) = self.send(who, module, payload);
        assert!(ok, "call to module {module} succeeds");
        hash
    }

    fn refused(&mut self, who: usize, module: ModuleId, payload: Bytes) {
        let (_, ok) = self.send(who, module, payload);
        assert!(!ok, "call to module {module} is refused");
    }
}

fn f32_bytes(values: &[f32]) -> Bytes {
    values
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect::<Vec<u8>>()
        .into()
}

fn run() -> Run {
    let chain_id = genesis().chain_id;
    let k = keys();
    let (alice, bob) = (k.alice.address(), k.bob.address());
    let mut r = Run {
        app: app(),
        nonces: [0; 4],
        receipts: blake3::Hasher::new(),
        last: Hash::ZERO,
        failed: 0,
        queries: Vec::new(),
    };

    // bank: a transfer, an escrow opened and refunded, a refused overdraft.
    r.ok(
        0,
        BANK_MODULE,
        BankCall::Transfer {
            to: bob,
            amount: 1_234,
        }
        .to_payload(),
    );
    let escrow_tx = r.ok(
        0,
        BANK_MODULE,
        BankCall::EscrowOpen { amount: 500 }.to_payload(),
    );
    let escrow = counterweight_bank::escrow_id(&alice, &escrow_tx.0);
    r.refused(
        1,
        BANK_MODULE,
        BankCall::EscrowRefund { id: escrow }.to_payload(),
    );
    r.ok(
        0,
        BANK_MODULE,
        BankCall::EscrowRefund { id: escrow }.to_payload(),
    );
    r.refused(
        1,
        BANK_MODULE,
        BankCall::Transfer {
            to: alice,
            amount: u64::MAX,
        }
        .to_payload(),
    );

    // identity: DIDs, an issuer, a revocation, recovery delegates, a refused double register.
    r.ok(0, IDENTITY_MODULE, IdentityCall::Register.to_payload());
    r.ok(1, IDENTITY_MODULE, IdentityCall::Register.to_payload());
    r.refused(0, IDENTITY_MODULE, IdentityCall::Register.to_payload());
    r.ok(
        0,
        IDENTITY_MODULE,
        IdentityCall::RegisterIssuer {
            name: "Consortium".into(),
            credential_types: vec!["MembershipCredential".into()],
        }
        .to_payload(),
    );
    r.ok(
        0,
        IDENTITY_MODULE,
        IdentityCall::Revoke { index: 3 }.to_payload(),
    );
    r.ok(
        0,
        IDENTITY_MODULE,
        IdentityCall::SetRecovery {
            delegates: vec![bob],
            threshold: 1,
        }
        .to_payload(),
    );

    // coop: found, commit a dataset, a refused vote on an unknown proposal.
    let created = r.ok(
        0,
        COOP_MODULE,
        CoopCall::Create {
            name: "digits".into(),
            rules: Rules {
                quorum_permille: 500,
                approval_permille: 500,
                voting_period_ms: 1_000_000,
                revenue_share_permille: 100,
                admission: Admission::ByVote,
            },
        }
        .to_payload(),
    );
    let coop = coop_id(&chain_id, &created);
    let root = Hash([0x42; 32]);
    r.ok(
        0,
        COOP_MODULE,
        CoopCall::CommitDataset {
            coop,
            root,
            schema: "x0,x1,x2,x3,label".into(),
            records: 100,
            consent: Consent {
                training: true,
                commercial: false,
                derivatives: true,
            },
        }
        .to_payload(),
    );
    let dataset = dataset_id(&chain_id, &coop, &root, &alice);
    r.refused(
        1,
        COOP_MODULE,
        CoopCall::Vote {
            proposal: Hash([7; 32]),
            yes: true,
        }
        .to_payload(),
    );

    // learn: a task approved by the coop's vote, one round, a refused stale update.
    let arch = Architecture::new(
        vec![4],
        vec![Layer::Linear(Linear {
            in_features: 4,
            out_features: 2,
        })],
    )
    .expect("valid architecture");
    let initial: Vec<f32> = (0..10).map(|i| i as f32 * 0.1).collect();
    let spec = TaskSpec {
        coop,
        datasets: vec![dataset],
        architecture: arch.canonical_bytes().into(),
        initial_params: f32_bytes(&initial),
        rounds: 1,
        min_clients: 1,
        strategy: TaskStrategy::FedAvg,
        secagg: None,
        dp: None,
        train: TrainHints {
            epochs: 1,
            lr_micros: 100_000,
            batch: 32,
            seed: 7,
        },
        round_timeout_ms: 5_000,
        reward: 100,
        max_examples_per_client: counterweight_learn::MAX_EXAMPLES_PER_CLIENT,
        max_client_share_bps: counterweight_learn::FULL_SHARE_BPS,
        max_attempts: counterweight_learn::DEFAULT_MAX_ATTEMPTS,
        start_timeout_ms: counterweight_learn::DEFAULT_START_TIMEOUT_MS,
    };
    let opened = r.ok(
        0,
        LEARN_MODULE,
        LearnCall::OpenTask {
            spec: Box::new(spec),
        }
        .to_payload(),
    );
    let task = task_id(chain_id.as_str(), &opened);
    r.refused(0, LEARN_MODULE, LearnCall::Start { task }.to_payload());
    let proposed = r.ok(
        0,
        COOP_MODULE,
        CoopCall::Propose {
            coop,
            kind: ProposalKind::ApproveTask { task },
        }
        .to_payload(),
    );
    let proposal = proposal_id(&chain_id, &proposed);
    r.ok(
        0,
        COOP_MODULE,
        CoopCall::Vote {
            proposal,
            yes: true,
        }
        .to_payload(),
    );
    r.ok(0, COOP_MODULE, CoopCall::Execute { proposal }.to_payload());
    r.ok(0, LEARN_MODULE, LearnCall::Start { task }.to_payload());
    let trained: Vec<f32> = (0..10).map(|i| i as f32 * 0.05 - 0.2).collect();
    r.refused(
        0,
        LEARN_MODULE,
        LearnCall::SubmitUpdate {
            task,
            round: 2,
            params: f32_bytes(&trained),
            examples: 50,
        }
        .to_payload(),
    );
    r.ok(
        0,
        LEARN_MODULE,
        LearnCall::SubmitUpdate {
            task,
            round: 1,
            params: f32_bytes(&trained),
            examples: 50,
        }
        .to_payload(),
    );

    // registry: a repo, a version from the task, a fork, a refused duplicate tag.
    r.ok(
        0,
        REGISTRY_MODULE,
        RegistryCall::CreateRepo {
            name: "digits".into(),
            description: "a model".into(),
            licence: "MIT".into(),
        }
        .to_payload(),
    );
    let repo = repo_id(&chain_id, &alice, "digits");
    let model = counterweight_learn::finished_model(r.app.store(), &task);
    let model = model.expect("read").expect("the task finished");
    let publish = Publish {
        repo,
        tag: "v1".into(),
        weights_hash: model.weights_hash,
        weights_size: 40,
        arch_hash: model.arch_hash,
        metrics: Vec::new(),
        parent: None,
        lineage: Lineage {
            task: Some(task),
            datasets: Vec::new(),
        },
    };
    r.ok(
        0,
        REGISTRY_MODULE,
        RegistryCall::Publish(publish.clone()).to_payload(),
    );
    r.refused(
        0,
        REGISTRY_MODULE,
        RegistryCall::Publish(publish).to_payload(),
    );
    let v1 = version_id(&chain_id, &repo, "v1");
    r.ok(
        1,
        REGISTRY_MODULE,
        RegistryCall::Fork {
            version: v1,
            name: "digits-fork".into(),
        }
        .to_payload(),
    );

    let q = |m, p, d: &[u8]| (m, p, d.to_vec());
    r.queries = vec![
        q(BANK_MODULE, "balance", &alice.0),
        q(BANK_MODULE, "supply", &[]),
        q(BANK_MODULE, "escrow", &escrow.0),
        q(IDENTITY_MODULE, "did", &alice.0),
        q(IDENTITY_MODULE, "controller", &bob.0),
        q(IDENTITY_MODULE, "issuer", &alice.0),
        q(IDENTITY_MODULE, "status", &alice.0),
        q(COOP_MODULE, "coop", &coop.0),
        q(COOP_MODULE, "members", &coop.0),
        q(COOP_MODULE, "datasets", &coop.0),
        q(COOP_MODULE, "proposals", &coop.0),
        q(LEARN_MODULE, "task", &task.0),
        q(LEARN_MODULE, "global", &task.0),
        q(LEARN_MODULE, "history", &task.0),
        q(LEARN_MODULE, "rewards", &task.0),
        q(REGISTRY_MODULE, "repo", &repo.0),
        q(REGISTRY_MODULE, "repos", &[]),
        q(REGISTRY_MODULE, "versions", &repo.0),
        q(REGISTRY_MODULE, "lineage", &v1.0),
        q(counterweight_audit::AUDIT_MODULE, "status", &[]),
        q(counterweight_audit::AUDIT_MODULE, "entry/3", &[]),
        q(counterweight_audit::AUDIT_MODULE, "prove/3", &[]),
    ];
    r
}

#[test]
fn golden_calls_across_all_modules_pin_state_root_block_hash_and_receipts() {
    let r = run();
    let root = r.app.committed_root().expect("root").to_hex();
    let block = r.last.to_hex();
    let receipts = r.receipts.finalize().to_hex().to_string();
    let mut answers = blake3::Hasher::new();
    for (module, path, data) in &r.queries {
        let answer = r
            .app
            .query(*module, path, data)
            .expect("no fault")
            .unwrap_or_else(|e| panic!("query {module}/{path} answers: {e}"));
        answers.update(&(answer.len() as u64).to_be_bytes());
        answers.update(&answer);
    }
    let queries = answers.finalize().to_hex().to_string();
    if std::env::var_os("GOLDEN_PRINT").is_some() {
        eprintln!(
            "STATE_ROOT = {root}\nBLOCK_HASH = {block}\nRECEIPTS = {receipts}\nQUERIES = {queries}"
        );
    }
    assert_eq!(
        r.failed, 7,
        "every refusal in the sequence is a failed receipt"
    );
    // The audit log recorded every successful call's events.
    let status = r
        .app
        .query(counterweight_audit::AUDIT_MODULE, "status", &[])
        .expect("no fault")
        .expect("audit status");
    let status: serde_json::Value = serde_json::from_slice(&status).expect("json");
    assert!(status["leaves"].as_u64().expect("leaves") > 20, "{status}");
    assert_eq!(root, STATE_ROOT, "state root");
    assert_eq!(block, BLOCK_HASH, "block hash");
    assert_eq!(receipts, RECEIPTS, "receipts");
    assert_eq!(queries, QUERIES, "query answers");
}
