//! A chain with bank, coop and learn (one block per call, 10 ms apart), and helpers to drive it.

use std::sync::Arc;

use bytes::Bytes;
use counterweight_audit::Audit;
use counterweight_bank::Bank;
use counterweight_coop::ModuleCall as _;
use counterweight_coop::{
    Admission, COOP_MODULE, Consent, CoopCall, CoopModule, ProposalKind, Rules, coop_id,
    dataset_id, proposal_id,
};
use counterweight_learn::{
    FULL_SHARE_BPS, LEARN_MODULE, Learn, LearnCall, MAX_EXAMPLES_PER_CLIENT, TaskSpec,
    TaskStrategy, TrainHints, task_id,
};
use counterweight_model::{Architecture, Layer, Linear};
pub(crate) use counterweight_state::test_utils::event;
use counterweight_state::test_utils::{Refusal, TestChain, TestChainBuilder};
use counterweight_types::{Address, Event, Hash};
use serde::de::DeserializeOwned;

pub(crate) const BALANCE: u64 = 1_000_000;

pub(crate) fn addr(i: u8) -> Address {
    Address([i; 32])
}

/// Accounts 1..=accounts funded, plus 9 (an outsider who pokes rounds along); the first block
/// is at 1,010 ms and every call is a block 10 ms later.
pub(crate) fn builder(accounts: u8) -> TestChainBuilder {
    let bank = Arc::new(Bank);
    (1..=accounts)
        .chain((accounts < 9).then_some(9))
        .fold(
            TestChain::builder(bank.clone())
                .module(bank)
                .module(Arc::new(CoopModule))
                .module(Arc::new(Learn)),
            |b, i| b.account(addr(i), BALANCE),
        )
        .chain_id("learn-test")
        .proposer(addr(200))
        .genesis_time_ms(1_000)
        .block_time_ms(10)
}

/// The chain of [`builder`].
pub(crate) fn chain(accounts: u8) -> TestChain {
    builder(accounts).build()
}

/// The chain of [`builder`] with the audit log registered (as module and recorder).
pub(crate) fn audited_chain(accounts: u8) -> TestChain {
    builder(accounts)
        .module(Arc::new(Audit))
        .recorder(Arc::new(Audit))
        .build()
}

/// The learn and coop steps of the tests, over a [`TestChain`].
pub(crate) trait LearnChain {
    /// Sends a learn call; returns its events or the refusal.
    fn learn(&mut self, from: Address, call: &LearnCall) -> Result<Vec<Event>, Refusal>;
    /// Sends a coop call that must succeed; returns its transaction hash.
    fn coop_call(&mut self, from: Address, call: &CoopCall) -> Hash;
    /// Answers a learn query that must succeed, parsed.
    fn view<T: DeserializeOwned>(&self, path: &str, data: &[u8]) -> T;
    /// `who`'s balance.
    fn balance(&self, who: &Address) -> u64;
    /// Creates a coop founded by `members[0]` and admits the others by unanimous vote.
    fn coop(&mut self, members: &[Address], revenue_share_permille: u16) -> Hash;
    /// Commits a dataset of `records` records with training consent; returns its id.
    fn commit(&mut self, coop: Hash, owner: Address, tag: u8, records: u64) -> Hash;
    /// Revokes a dataset's consent.
    fn revoke(&mut self, owner: Address, dataset: Hash);
    /// Opens a task; returns its id or the refusal.
    fn open(&mut self, creator: Address, spec: &TaskSpec) -> Result<Hash, Refusal>;
    /// Approves a task by a unanimous vote of `voters`.
    fn approve(&mut self, coop: Hash, task: Hash, voters: &[Address]);
}

impl LearnChain for TestChain {
    fn learn(&mut self, from: Address, call: &LearnCall) -> Result<Vec<Event>, Refusal> {
        self.send(from, LEARN_MODULE, call).map(|(_, e)| e)
    }

    fn coop_call(&mut self, from: Address, call: &CoopCall) -> Hash {
        match self.send_raw(from, COOP_MODULE, call.to_payload()) {
            Ok((h, _)) => h,
            Err(e) => panic!("coop call {call:?} refused: {e:?}"),
        }
    }

    fn view<T: DeserializeOwned>(&self, path: &str, data: &[u8]) -> T {
        let bytes = self
            .query(LEARN_MODULE, path, data)
            .unwrap_or_else(|e| panic!("query {path}: {e}"));
        serde_json::from_slice(&bytes).expect("json answer")
    }

    fn balance(&self, who: &Address) -> u64 {
        counterweight_bank::balance(self.state(), who).expect("read")
    }

    fn coop(&mut self, members: &[Address], revenue_share_permille: u16) -> Hash {
        let rules = Rules {
            quorum_permille: 500,
            approval_permille: 500,
            voting_period_ms: 1_000_000,
            revenue_share_permille,
            admission: Admission::ByVote,
        };
        let tx = self.coop_call(
            members[0],
            &CoopCall::Create {
                name: "digits".into(),
                rules,
            },
        );
        let coop = coop_id(self.chain_id(), &tx);
        for (k, &m) in members.iter().enumerate().skip(1) {
            let tx = self.coop_call(
                m,
                &CoopCall::Join {
                    coop,
                    credential: None,
                },
            );
            let proposal = proposal_id(self.chain_id(), &tx);
            for &voter in &members[..k] {
                self.coop_call(
                    voter,
                    &CoopCall::Vote {
                        proposal,
                        yes: true,
                    },
                );
            }
            self.coop_call(m, &CoopCall::Execute { proposal });
        }
        coop
    }

    fn commit(&mut self, coop: Hash, owner: Address, tag: u8, records: u64) -> Hash {
        let root = Hash([tag; 32]);
        self.coop_call(
            owner,
            &CoopCall::CommitDataset {
                coop,
                root,
                schema: "x0,x1,x2,x3,label".into(),
                records,
                consent: Consent {
                    training: true,
                    commercial: false,
                    derivatives: true,
                },
            },
        );
        dataset_id(self.chain_id(), &coop, &root, &owner)
    }

    fn revoke(&mut self, owner: Address, dataset: Hash) {
        self.coop_call(owner, &CoopCall::RevokeConsent { dataset });
    }

    fn open(&mut self, creator: Address, spec: &TaskSpec) -> Result<Hash, Refusal> {
        let call = LearnCall::OpenTask {
            spec: Box::new(spec.clone()),
        };
        let (tx, _) = self.send(creator, LEARN_MODULE, &call)?;
        Ok(task_id(self.chain_id().as_str(), &tx))
    }

    fn approve(&mut self, coop: Hash, task: Hash, voters: &[Address]) {
        let tx = self.coop_call(
            voters[0],
            &CoopCall::Propose {
                coop,
                kind: ProposalKind::ApproveTask { task },
            },
        );
        let proposal = proposal_id(self.chain_id(), &tx);
        for &v in voters {
            self.coop_call(
                v,
                &CoopCall::Vote {
                    proposal,
                    yes: true,
                },
            );
        }
        self.coop_call(voters[0], &CoopCall::Execute { proposal });
    }
}

/// A 4 → 2 linear model (10 parameters).
pub(crate) fn arch() -> Architecture {
    Architecture::new(
        vec![4],
        vec![Layer::Linear(Linear {
            in_features: 4,
            out_features: 2,
        })],
    )
    .expect("valid")
}

pub(crate) fn f32_bytes(values: &[f32]) -> Bytes {
    values
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect::<Vec<u8>>()
        .into()
}

pub(crate) fn spec(coop: Hash, datasets: Vec<Hash>, rounds: u32, min_clients: u32) -> TaskSpec {
    let initial: Vec<f32> = (0..10).map(|i| i as f32 * 0.125 - 0.5).collect();
    TaskSpec {
        coop,
        datasets,
        architecture: arch().canonical_bytes().into(),
        initial_params: f32_bytes(&initial),
        rounds,
        min_clients,
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
        reward: 10_000,
        max_examples_per_client: MAX_EXAMPLES_PER_CLIENT,
        max_client_share_bps: FULL_SHARE_BPS,
        max_attempts: 3,
        start_timeout_ms: 60_000,
    }
}

pub(crate) fn has_event(events: &[Event], kind: &str) -> bool {
    events.iter().any(|e| e.kind == kind)
}

/// The local model client `k` sends in round `r` (deterministic, distinct per client).
pub(crate) fn local_model(k: u8, r: u32) -> Vec<f32> {
    (0..10)
        .map(|i| (i as f32 - 4.5) * 0.1 + f32::from(k) * 0.03 - r as f32 * 0.02)
        .collect()
}
