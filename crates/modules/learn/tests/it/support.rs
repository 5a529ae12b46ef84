//! A runtime over in-memory state with bank, coop and learn, and helpers to drive it.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use counterweight_bank::Bank;
use counterweight_coop::ModuleCall as _;
use counterweight_coop::{
    Admission, COOP_MODULE, Consent, CoopCall, CoopModule, ProposalKind, Rules, coop_id,
    dataset_id, proposal_id,
};
use counterweight_learn::{
    LEARN_MODULE, Learn, LearnCall, TaskSpec, TaskStrategy, TrainHints, task_id,
};
use counterweight_model::{Architecture, Layer, Linear};
use counterweight_state::{BlockEnv, BlockState, Layered, Runtime};
use counterweight_storage_api::{StateChanges, StateReader};
use counterweight_types::{
    Address, Call, ChainId, Event, Genesis, GenesisAccount, Hash, Height, ModuleId, Params,
    ReceiptStatus, Signature, SignedTransaction, Transaction,
};
use serde::de::DeserializeOwned;

pub(crate) const BALANCE: u64 = 1_000_000;

struct Empty;

impl StateReader for Empty {
    fn get(&self, _: &[u8]) -> counterweight_storage_api::Result<Option<Vec<u8>>> {
        Ok(None)
    }
}

pub(crate) fn addr(i: u8) -> Address {
    Address([i; 32])
}

/// A single growing block: every transaction gets its own height and block time.
pub(crate) struct Chain {
    pub(crate) runtime: Runtime,
    pub(crate) state: BlockState<'static>,
    pub(crate) chain_id: ChainId,
    nonces: BTreeMap<Address, u64>,
    pub(crate) now_ms: u64,
    height: u64,
}

/// A refusal: code and message.
pub(crate) type Refusal = (u32, String);

impl Chain {
    pub(crate) fn new(accounts: u8) -> Self {
        let chain_id = ChainId::new("learn-test").expect("valid");
        let genesis = Genesis {
            chain_id: chain_id.clone(),
            genesis_time_ms: 0,
            validators: vec![addr(200)],
            // Accounts 1..=accounts, plus 9 (an outsider who pokes rounds along).
            accounts: (1..=accounts)
                .chain((accounts < 9).then_some(9))
                .map(|i| GenesisAccount {
                    address: addr(i),
                    balance: BALANCE,
                })
                .collect(),
            params: Params {
                min_fee: 1,
                max_block_txs: 10_000,
            },
        };
        let bank = Arc::new(Bank);
        let mut runtime = Runtime::new(chain_id.clone(), genesis.params.clone(), bank.clone());
        runtime.register(bank).expect("bank");
        runtime.register(Arc::new(CoopModule)).expect("coop");
        runtime.register(Arc::new(Learn::default())).expect("learn");
        let empty: &'static Empty = Box::leak(Box::new(Empty));
        let mut g = BlockState::new(empty);
        runtime.init_genesis(&mut g, &genesis).expect("genesis");
        let changes: &'static StateChanges = Box::leak(Box::new(g.into_changes()));
        let view: &'static Layered<'static> =
            Box::leak(Box::new(Layered::new(empty, vec![changes])));
        Self {
            runtime,
            state: BlockState::new(view),
            chain_id,
            nonces: BTreeMap::new(),
            now_ms: 1_000,
            height: 1,
        }
    }

    /// Sends `payload` to `module` from `from`; returns the tx hash and events, or the refusal.
    pub(crate) fn send_raw(
        &mut self,
        from: Address,
        module: ModuleId,
        payload: Bytes,
    ) -> Result<(Hash, Vec<Event>), Refusal> {
        let nonce = *self.nonces.get(&from).unwrap_or(&0);
        let stx = SignedTransaction {
            tx: Transaction {
                chain_id: self.chain_id.clone(),
                sender: from,
                nonce,
                fee: 1,
                call: Call { module, payload },
            },
            signature: Signature([0; 64]),
        };
        self.height += 1;
        self.now_ms += 10;
        let env = BlockEnv {
            height: Height(self.height),
            proposer: addr(200),
            timestamp_ms: self.now_ms,
        };
        let receipt = self
            .runtime
            .apply_tx(&mut self.state, &env, 0, &stx)
            .expect("no fatal error")
            .expect("transaction accepted");
        self.nonces.insert(from, nonce + 1);
        match receipt.status {
            ReceiptStatus::Ok => Ok((receipt.tx_hash, receipt.events)),
            ReceiptStatus::Failed { code, message } => Err((code, message)),
        }
    }

    pub(crate) fn learn(&mut self, from: Address, call: &LearnCall) -> Result<Vec<Event>, Refusal> {
        self.send_raw(from, LEARN_MODULE, call.to_payload())
            .map(|(_, e)| e)
    }

    pub(crate) fn coop_call(&mut self, from: Address, call: &CoopCall) -> Hash {
        match self.send_raw(from, COOP_MODULE, call.to_payload()) {
            Ok((h, _)) => h,
            Err(e) => panic!("coop call {call:?} refused: {e:?}"),
        }
    }

    pub(crate) fn query<T: DeserializeOwned>(&self, path: &str, data: &[u8]) -> T {
        let bytes = self
            .runtime
            .query(&self.state, LEARN_MODULE, path, data)
            .unwrap_or_else(|e| panic!("query {path}: {e}"));
        serde_json::from_slice(&bytes).expect("json answer")
    }

    pub(crate) fn balance(&self, who: &Address) -> u64 {
        counterweight_bank::balance(&self.state, who).expect("read")
    }

    /// Creates a coop founded by `members[0]` and admits the others by unanimous vote.
    pub(crate) fn coop(&mut self, members: &[Address], revenue_share_permille: u16) -> Hash {
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
        let coop = coop_id(&self.chain_id, &tx);
        for (k, &m) in members.iter().enumerate().skip(1) {
            let tx = self.coop_call(
                m,
                &CoopCall::Join {
                    coop,
                    credential: None,
                },
            );
            let proposal = proposal_id(&self.chain_id, &tx);
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

    pub(crate) fn commit(&mut self, coop: Hash, owner: Address, tag: u8, records: u64) -> Hash {
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
        dataset_id(&self.chain_id, &coop, &root, &owner)
    }

    pub(crate) fn revoke(&mut self, owner: Address, dataset: Hash) {
        self.coop_call(owner, &CoopCall::RevokeConsent { dataset });
    }

    pub(crate) fn open(&mut self, creator: Address, spec: &TaskSpec) -> Result<Hash, Refusal> {
        let call = LearnCall::OpenTask {
            spec: Box::new(spec.clone()),
        };
        let (tx, _) = self.send_raw(creator, LEARN_MODULE, call.to_payload())?;
        Ok(task_id(self.chain_id.as_str(), &tx))
    }

    pub(crate) fn approve(&mut self, coop: Hash, task: Hash, voters: &[Address]) {
        let tx = self.coop_call(
            voters[0],
            &CoopCall::Propose {
                coop,
                kind: ProposalKind::ApproveTask { task },
            },
        );
        let proposal = proposal_id(&self.chain_id, &tx);
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

/// An unsigned learn transaction from `from` (for stateless checks).
pub(crate) fn signed(from: Address, payload: Bytes) -> SignedTransaction {
    SignedTransaction {
        tx: Transaction {
            chain_id: ChainId::new("learn-test").expect("valid"),
            sender: from,
            nonce: 0,
            fee: 1,
            call: Call {
                module: LEARN_MODULE,
                payload,
            },
        },
        signature: Signature([0; 64]),
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
    }
}

pub(crate) fn has_event(events: &[Event], kind: &str) -> bool {
    events.iter().any(|e| e.kind == kind)
}

pub(crate) fn event<'a>(events: &'a [Event], kind: &str) -> &'a Event {
    events
        .iter()
        .find(|e| e.kind == kind)
        .unwrap_or_else(|| panic!("no {kind} event in {events:?}"))
}

/// The local model client `k` sends in round `r` (deterministic, distinct per client).
pub(crate) fn local_model(k: u8, r: u32) -> Vec<f32> {
    (0..10)
        .map(|i| (i as f32 - 4.5) * 0.1 + f32::from(k) * 0.03 - r as f32 * 0.02)
        .collect()
}
