//! A runtime with the bank and the registry over an in-memory state.

use std::sync::Arc;

use counterweight_bank::Bank;
use counterweight_coop::CoopModule;
use counterweight_learn::Learn;
use counterweight_registry::{
    Lineage, Publish, REGISTRY_MODULE, Registry, RegistryCall, repo_id, version_id,
};
use counterweight_state::{BlockEnv, BlockState, Runtime, TxError};
use counterweight_storage_api::{StateChanges, StateReader};
use counterweight_types::{
    Address, Call, ChainId, Event, Genesis, GenesisAccount, Hash, Height, ModuleId, Params,
    ReceiptStatus, Signature, SignedTransaction, Transaction,
};

pub(crate) struct Mem(pub(crate) StateChanges);

impl StateReader for Mem {
    fn get(&self, key: &[u8]) -> counterweight_storage_api::Result<Option<Vec<u8>>> {
        Ok(self.0.get(key).cloned().flatten())
    }
}

pub(crate) fn addr(i: u8) -> Address {
    Address([i; 32])
}

pub(crate) const ALICE: u8 = 1;
pub(crate) const BOB: u8 = 2;
pub(crate) const CAROL: u8 = 3;

pub(crate) struct Chain {
    pub(crate) runtime: Runtime,
    pub(crate) state: Mem,
    pub(crate) chain_id: ChainId,
    nonces: [u64; 8],
    height: u64,
}

impl Chain {
    pub(crate) fn new() -> Self {
        let chain_id = ChainId::new("registry-test").expect("valid");
        let genesis = Genesis {
            chain_id: chain_id.clone(),
            genesis_time_ms: 0,
            validators: vec![addr(7)],
            accounts: (1..=3)
                .map(|i| GenesisAccount {
                    address: addr(i),
                    balance: 1_000_000,
                })
                .collect(),
            params: Params {
                min_fee: 1,
                max_block_txs: 1_000,
            },
        };
        let bank = Arc::new(Bank);
        let mut runtime = Runtime::new(chain_id.clone(), genesis.params.clone(), bank.clone());
        runtime.register(bank).expect("register bank");
        runtime
            .register(Arc::new(CoopModule))
            .expect("register coop");
        runtime
            .register(Arc::new(Learn::default()))
            .expect("register learn");
        runtime
            .register(Arc::new(Registry))
            .expect("register registry");
        let empty = Mem(StateChanges::new());
        let mut block = BlockState::new(&empty);
        runtime.init_genesis(&mut block, &genesis).expect("genesis");
        Self {
            runtime,
            state: Mem(block.into_changes()),
            chain_id,
            nonces: [0; 8],
            height: 0,
        }
    }

    /// Runs `call` from account `from` in its own block; returns the receipt's outcome.
    pub(crate) fn send(&mut self, from: u8, call: &RegistryCall) -> Result<Vec<Event>, u32> {
        self.call(from, REGISTRY_MODULE, call.to_payload())
            .map(|(_, events)| events)
    }

    /// Runs a call to any module; returns the transaction hash and events, or the code.
    pub(crate) fn call(
        &mut self,
        from: u8,
        module: ModuleId,
        payload: bytes::Bytes,
    ) -> Result<(Hash, Vec<Event>), u32> {
        self.height += 1;
        let nonce = &mut self.nonces[from as usize];
        let stx = SignedTransaction {
            tx: Transaction {
                chain_id: self.chain_id.clone(),
                sender: addr(from),
                nonce: *nonce,
                fee: 1,
                call: Call { module, payload },
            },
            signature: Signature([0; 64]),
        };
        let env = BlockEnv {
            height: Height(self.height),
            proposer: addr(7),
            timestamp_ms: self.height * 1_000,
        };
        let mut block = BlockState::new(&self.state);
        let receipt = self
            .runtime
            .apply_tx(&mut block, &env, 0, &stx)
            .expect("no fault")
            .expect("transaction accepted");
        *nonce += 1;
        let changes = block.into_changes();
        self.state.0.extend(changes);
        match receipt.status {
            ReceiptStatus::Ok => Ok((receipt.tx_hash, receipt.events)),
            ReceiptStatus::Failed { code, message } => {
                assert!(!message.is_empty(), "failure code {code} has a message");
                Err(code)
            }
        }
    }

    /// Runs a transaction the runtime must reject before execution; returns why.
    pub(crate) fn reject(&mut self, from: u8, payload: bytes::Bytes) -> TxError {
        let stx = SignedTransaction {
            tx: Transaction {
                chain_id: self.chain_id.clone(),
                sender: addr(from),
                nonce: self.nonces[from as usize],
                fee: 1,
                call: Call {
                    module: REGISTRY_MODULE,
                    payload,
                },
            },
            signature: Signature([0; 64]),
        };
        let env = BlockEnv {
            height: Height(self.height + 1),
            proposer: addr(7),
            timestamp_ms: 0,
        };
        let mut block = BlockState::new(&self.state);
        self.runtime
            .apply_tx(&mut block, &env, 0, &stx)
            .expect("no fault")
            .expect_err("transaction rejected")
    }

    pub(crate) fn query(&self, path: &str, data: &[u8]) -> serde_json::Value {
        let bytes = self
            .runtime
            .query(&self.state, REGISTRY_MODULE, path, data)
            .expect("query answers");
        serde_json::from_slice(&bytes).expect("query answers JSON")
    }

    pub(crate) fn create_repo(&mut self, from: u8, name: &str) -> Hash {
        self.send(
            from,
            &RegistryCall::CreateRepo {
                name: name.into(),
                description: "a model".into(),
                licence: "MIT".into(),
            },
        )
        .expect("repo created");
        repo_id(&self.chain_id, &addr(from), name)
    }

    pub(crate) fn publish(&mut self, from: u8, publish: Publish) -> Result<Hash, u32> {
        let id = version_id(&self.chain_id, &publish.repo, &publish.tag);
        self.send(from, &RegistryCall::Publish(publish)).map(|_| id)
    }
}

pub(crate) fn version(repo: Hash, tag: &str) -> Publish {
    Publish {
        repo,
        tag: tag.into(),
        weights_hash: Hash::digest(b"weights", &[tag.as_bytes()]),
        weights_size: 1_024,
        arch_hash: Hash([9; 32]),
        metrics: Vec::new(),
        parent: None,
        lineage: Lineage::default(),
    }
}

pub(crate) fn event<'a>(events: &'a [Event], kind: &str) -> &'a Event {
    events
        .iter()
        .find(|e| e.kind == kind)
        .unwrap_or_else(|| panic!("no {kind} event in {events:?}"))
}
