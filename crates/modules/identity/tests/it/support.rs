//! A chain in memory: bank (fees) and identity modules, funded keys, one block per call.

use std::{collections::BTreeMap, sync::Arc};

use counterweight_bank::Bank;
use counterweight_crypto::SigningKey;
use counterweight_identity::{IDENTITY_MODULE, Identity, IdentityCall, ModuleCall as _};
use counterweight_state::{BlockEnv, BlockState, Layered, Runtime, TxError};
use counterweight_storage_api::{StateChanges, StateReader};
use counterweight_types::{
    Address, Call, ChainId, Event, Genesis, GenesisAccount, Height, Params, ReceiptStatus,
    Transaction, TxReceipt,
};

/// Seeds of funded keys: 1 to `KEYS`.
pub(crate) const KEYS: u64 = 12;
/// Block time of the first block; every block adds one second.
pub(crate) const START_MS: u64 = 1_800_000_000_000;

pub(crate) struct Empty;

impl StateReader for Empty {
    fn get(&self, _: &[u8]) -> counterweight_storage_api::Result<Option<Vec<u8>>> {
        Ok(None)
    }
}

pub(crate) fn key(seed: u64) -> SigningKey {
    SigningKey::from_seed(seed)
}

pub(crate) fn addr(seed: u64) -> Address {
    key(seed).address()
}

pub(crate) struct Chain {
    runtime: Runtime,
    state: StateChanges,
    nonces: BTreeMap<Address, u64>,
    height: u64,
    pub(crate) now_ms: u64,
}

impl Chain {
    pub(crate) fn new() -> Self {
        let chain_id = ChainId::new("identity-test").expect("valid");
        let genesis = Genesis {
            chain_id: chain_id.clone(),
            genesis_time_ms: START_MS - 1_000,
            validators: vec![addr(100)],
            accounts: (1..=KEYS)
                .map(|seed| GenesisAccount {
                    address: addr(seed),
                    balance: 1_000_000,
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
        let mut block = BlockState::new(&Empty);
        runtime.init_genesis(&mut block, &genesis).expect("genesis");
        Self {
            runtime,
            state: block.into_changes(),
            nonces: BTreeMap::new(),
            height: 0,
            now_ms: START_MS - 1_000,
        }
    }

    /// The committed state.
    pub(crate) fn view(&self) -> Layered<'_> {
        Layered::new(&Empty, vec![&self.state])
    }

    /// Runs `call` from `signer` in a new block (one second after the previous one).
    pub(crate) fn send(&mut self, signer: &SigningKey, call: &IdentityCall) -> TxReceipt {
        self.send_payload(signer, call.to_payload().to_vec())
    }

    fn send_payload(&mut self, signer: &SigningKey, payload: Vec<u8>) -> TxReceipt {
        self.try_send_payload(signer, payload)
            .expect("transaction accepted")
    }

    /// Runs a raw payload; a rejected transaction changes nothing.
    pub(crate) fn try_send_payload(
        &mut self,
        signer: &SigningKey,
        payload: Vec<u8>,
    ) -> Result<TxReceipt, TxError> {
        self.height += 1;
        self.now_ms += 1_000;
        let nonce = self.nonces.get(&signer.address()).copied().unwrap_or(0);
        let stx = signer.sign_tx(Transaction {
            chain_id: self.runtime.chain_id().clone(),
            sender: signer.address(),
            nonce,
            fee: 1,
            call: Call {
                module: IDENTITY_MODULE,
                payload: payload.into(),
            },
        });
        let env = BlockEnv {
            height: Height(self.height),
            proposer: addr(100),
            timestamp_ms: self.now_ms,
        };
        let view = Layered::new(&Empty, vec![&self.state]);
        let mut block = BlockState::new(&view);
        let receipt = self
            .runtime
            .apply_tx(&mut block, &env, 0, &stx)
            .expect("no storage failure")?;
        self.runtime.finish_block(&mut block, &env);
        let changes = block.into_changes();
        self.state.extend(changes);
        *self.nonces.entry(signer.address()).or_insert(0) += 1;
        Ok(receipt)
    }

    /// Sends `call` and asserts it succeeds; returns its events.
    pub(crate) fn ok(&mut self, signer: &SigningKey, call: &IdentityCall) -> Vec<Event> {
        let receipt = self.send(signer, call);
        assert_eq!(receipt.status, ReceiptStatus::Ok, "{call:?}");
        receipt.events
    }

    /// Sends `call` and returns the failure code (panics if it succeeds).
    pub(crate) fn fails(&mut self, signer: &SigningKey, call: &IdentityCall) -> u32 {
        match self.send(signer, call).status {
            ReceiptStatus::Failed { code, .. } => code,
            ReceiptStatus::Ok => panic!("{call:?} unexpectedly succeeded"),
        }
    }

    pub(crate) fn query(&self, path: &str, data: &[u8]) -> serde_json::Value {
        let bytes = self
            .runtime
            .query(&self.view(), IDENTITY_MODULE, path, data)
            .expect("query answers");
        serde_json::from_slice(&bytes).expect("query returns JSON")
    }

    pub(crate) fn query_code(&self, path: &str, data: &[u8]) -> u32 {
        match self
            .runtime
            .query(&self.view(), IDENTITY_MODULE, path, data)
        {
            Err(counterweight_state::CallError::Failed(e)) => e.code,
            other => panic!("query {path} did not fail as expected: {other:?}"),
        }
    }

    /// Registers `seed`'s DID and an issuer for `types`.
    pub(crate) fn issuer(&mut self, seed: u64, types: &[&str]) {
        let k = key(seed);
        self.ok(&k, &IdentityCall::Register);
        self.ok(
            &k,
            &IdentityCall::RegisterIssuer {
                name: format!("issuer {seed}"),
                credential_types: types.iter().map(|t| (*t).to_owned()).collect(),
            },
        );
    }
}

pub(crate) fn event<'e>(events: &'e [Event], kind: &str) -> &'e Event {
    events
        .iter()
        .find(|e| e.kind == kind)
        .unwrap_or_else(|| panic!("no {kind} event in {events:?}"))
}
