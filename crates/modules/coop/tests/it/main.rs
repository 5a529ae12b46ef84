//! Integration tests: the coop module driven through a `Runtime` over in-memory state.

mod codec;
mod credential;
mod datasets;
mod governance;
mod membership;

use std::{collections::BTreeMap, sync::Arc};

use counterweight_bank::{BANK_MODULE, Bank, BankCall, ModuleCall as _};
use counterweight_coop::{
    Admission, COOP_MODULE, CoopCall, CoopModule, ProposalKind, Rules, coop_id, proposal_id,
};
use counterweight_crypto::SigningKey;
use counterweight_identity::Identity;
use counterweight_state::{BlockEnv, BlockState, Layered, Runtime};
use counterweight_storage_api::{StateChanges, StateReader};
use counterweight_types::{
    Address, Call, ChainId, Event, Genesis, GenesisAccount, Hash, Height, Params, ReceiptStatus,
    Signature, SignedTransaction, Transaction, TxReceipt,
};

/// Seeds of the funded keys that tests use as credential issuers.
pub(crate) const ISSUER_SEEDS: [u64; 2] = [100, 101];

/// Starting balance of every test account.
pub(crate) const BALANCE: u64 = 1_000_000;
/// Voting period of [`rules`].
pub(crate) const PERIOD_MS: u64 = 10_000;

struct Empty;

impl StateReader for Empty {
    fn get(&self, _: &[u8]) -> counterweight_storage_api::Result<Option<Vec<u8>>> {
        Ok(None)
    }
}

/// The test account `i`.
pub(crate) fn addr(i: u8) -> Address {
    Address([i + 1; 32])
}

/// Majority rules: quorum 50 %, approval 50 %, 10 s voting, 20 % revenue kept.
pub(crate) fn rules(admission: Admission) -> Rules {
    Rules {
        quorum_permille: 500,
        approval_permille: 500,
        voting_period_ms: PERIOD_MS,
        revenue_share_permille: 200,
        admission,
    }
}

/// A chain of single-transaction blocks with a controllable block time.
pub(crate) struct Chain {
    runtime: Runtime,
    state: StateChanges,
    height: u64,
    /// The block time of the next transaction.
    pub(crate) time_ms: u64,
    nonces: BTreeMap<Address, u64>,
}

impl Chain {
    /// A chain where accounts 0..8 hold [`BALANCE`] each.
    pub(crate) fn new() -> Self {
        let chain_id = ChainId::new("coop-test").expect("valid chain id");
        let genesis = Genesis {
            chain_id: chain_id.clone(),
            genesis_time_ms: 0,
            validators: vec![Address([0xEE; 32])],
            accounts: (0..8)
                .map(addr)
                .chain(ISSUER_SEEDS.map(|seed| SigningKey::from_seed(seed).address()))
                .map(|address| GenesisAccount {
                    address,
                    balance: BALANCE,
                })
                .collect(),
            params: Params {
                min_fee: 1,
                max_block_txs: 1_000,
            },
        };
        let bank = Arc::new(Bank);
        let mut runtime = Runtime::new(chain_id, genesis.params.clone(), bank.clone());
        runtime.register(bank).expect("register bank");
        runtime
            .register(Arc::new(Identity))
            .expect("register identity");
        runtime
            .register(Arc::new(CoopModule))
            .expect("register coop");
        let mut block = BlockState::new(&Empty);
        runtime.init_genesis(&mut block, &genesis).expect("genesis");
        Self {
            runtime,
            state: block.into_changes(),
            height: 0,
            time_ms: 1_000,
            nonces: BTreeMap::new(),
        }
    }

    pub(crate) fn chain_id(&self) -> &ChainId {
        self.runtime.chain_id()
    }

    /// A read view of the current state.
    pub(crate) fn view(&self) -> Layered<'_> {
        Layered::new(&Empty, vec![&self.state])
    }

    /// Runs `call` of `module` from `from` in a new block; returns the receipt.
    pub(crate) fn send_to(
        &mut self,
        from: Address,
        module: counterweight_types::ModuleId,
        payload: bytes::Bytes,
    ) -> TxReceipt {
        let nonce = self.nonces.entry(from).or_insert(0);
        let stx = SignedTransaction {
            tx: Transaction {
                chain_id: self.runtime.chain_id().clone(),
                sender: from,
                nonce: *nonce,
                fee: 1,
                call: Call { module, payload },
            },
            signature: Signature([0; 64]),
        };
        *nonce += 1;
        self.height += 1;
        let env = BlockEnv {
            height: Height(self.height),
            proposer: Address([0xEE; 32]),
            timestamp_ms: self.time_ms,
        };
        let view = Layered::new(&Empty, vec![&self.state]);
        let mut block = BlockState::new(&view);
        let receipt = self
            .runtime
            .apply_tx(&mut block, &env, 0, &stx)
            .expect("no fatal error")
            .expect("transaction accepted");
        let changes = block.into_changes();
        self.state.extend(changes);
        receipt
    }

    /// Runs a coop call from `from`; returns the receipt.
    pub(crate) fn send(&mut self, from: Address, call: &CoopCall) -> TxReceipt {
        self.send_to(from, COOP_MODULE, call.to_payload())
    }

    /// Runs a coop call that must succeed; returns its events.
    pub(crate) fn ok(&mut self, from: Address, call: &CoopCall) -> Vec<Event> {
        let receipt = self.send(from, call);
        assert_eq!(receipt.status, ReceiptStatus::Ok, "call {call:?} failed");
        receipt.events
    }

    /// Runs a coop call that must fail with `code`.
    pub(crate) fn refused(&mut self, from: Address, call: &CoopCall, code: u32) {
        let receipt = self.send(from, call);
        match receipt.status {
            ReceiptStatus::Failed { code: got, message } => {
                assert_eq!(got, code, "call {call:?} failed with {message:?}");
            }
            ReceiptStatus::Ok => panic!("call {call:?} succeeded; expected code {code}"),
        }
    }

    /// Moves funds with the bank.
    pub(crate) fn transfer(&mut self, from: Address, to: Address, amount: u64) {
        let receipt = self.send_to(
            from,
            BANK_MODULE,
            BankCall::Transfer { to, amount }.to_payload(),
        );
        assert_eq!(receipt.status, ReceiptStatus::Ok);
    }

    /// Creates a coop founded by `founder`; returns its id.
    pub(crate) fn create(&mut self, founder: Address, admission: Admission) -> Hash {
        let receipt = self.send(
            founder,
            &CoopCall::Create {
                name: "farmers".into(),
                rules: rules(admission),
            },
        );
        assert_eq!(receipt.status, ReceiptStatus::Ok);
        let id = coop_id(self.chain_id(), &receipt.tx_hash);
        assert_eq!(attr(&receipt.events, "coop_created", "coop"), id.to_hex());
        id
    }

    /// Opens a proposal from `from`; returns its id.
    pub(crate) fn propose(&mut self, from: Address, coop: Hash, kind: ProposalKind) -> Hash {
        let receipt = self.send(from, &CoopCall::Propose { coop, kind });
        assert_eq!(receipt.status, ReceiptStatus::Ok, "propose failed");
        let id = proposal_id(self.chain_id(), &receipt.tx_hash);
        assert_eq!(
            attr(&receipt.events, "proposal_created", "proposal"),
            id.to_hex()
        );
        id
    }

    /// Votes; must succeed.
    pub(crate) fn vote(&mut self, from: Address, proposal: Hash, yes: bool) {
        self.ok(from, &CoopCall::Vote { proposal, yes });
    }

    /// Admits `members` by vote into a coop whose only member is `founder`.
    pub(crate) fn admit_all(&mut self, coop: Hash, founder: Address, members: &[Address]) {
        let mut voters = vec![founder];
        for &m in members {
            let events = self.ok(
                m,
                &CoopCall::Join {
                    coop,
                    credential: None,
                },
            );
            let proposal: Hash = attr(&events, "join_requested", "proposal")
                .parse()
                .expect("hex id");
            for &v in &voters {
                self.vote(v, proposal, true);
            }
            self.ok(m, &CoopCall::Execute { proposal });
            voters.push(m);
        }
    }

    /// Runs a query; returns its JSON.
    pub(crate) fn query(&self, path: &str, data: &[u8]) -> serde_json::Value {
        let bytes = self
            .runtime
            .query(&self.view(), COOP_MODULE, path, data)
            .expect("query succeeds");
        serde_json::from_slice(&bytes).expect("query returns JSON")
    }

    /// Runs a query that must fail; returns its code.
    pub(crate) fn query_code(&self, path: &str, data: &[u8]) -> u32 {
        match self.runtime.query(&self.view(), COOP_MODULE, path, data) {
            Err(counterweight_state::CallError::Failed(e)) => e.code,
            Err(e) => panic!("fatal query error {e}"),
            Ok(_) => panic!("query {path} succeeded"),
        }
    }

    /// The bank balance of `who`.
    pub(crate) fn balance(&self, who: &Address) -> u64 {
        counterweight_bank::balance(&self.view(), who).expect("read balance")
    }
}

/// Returns attribute `key` of the first event of `kind`.
pub(crate) fn attr(events: &[Event], kind: &str, key: &str) -> String {
    events
        .iter()
        .find(|e| e.kind == kind)
        .and_then(|e| e.attributes.get(key))
        .unwrap_or_else(|| panic!("no {kind}.{key} in {events:?}"))
        .clone()
}

/// Whether an event of `kind` was emitted.
pub(crate) fn has(events: &[Event], kind: &str) -> bool {
    events.iter().any(|e| e.kind == kind)
}
