//! A shared harness for module tests: a chain in memory with one block per call, and the suite
//! every module runs ([`module_test_suite!`](crate::module_test_suite)).
//!
//! Behind the `test-utils` feature; modules take it as a dev-dependency.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use bytes::Bytes;
use counterweight_storage_api::{StateChanges, StateReader};
use counterweight_types::{
    Address, Call, ChainId, Event, Genesis, GenesisAccount, Hash, Height, ModuleId, Params,
    ReceiptStatus, Signature, SignedTransaction, Transaction, TxReceipt,
};

use crate::{
    BlockEnv, BlockState, CallError, EventRecorder, FeeHandler, Module, ModuleCall, Runtime,
    TxError, module_key,
};

/// The committed state of a [`TestChain`]: every block's changes merged in order.
#[derive(Debug, Default, Clone)]
pub struct MemState(pub StateChanges);

impl StateReader for MemState {
    fn get(&self, key: &[u8]) -> counterweight_storage_api::Result<Option<Vec<u8>>> {
        Ok(self.0.get(key).cloned().flatten())
    }
}

/// The events the runtime handed to the recorder, by transaction.
type Recorded = Arc<Mutex<Vec<(Hash, Vec<Event>)>>>;

/// Forwards to the real recorder (the audit log, when a test registers it) and keeps a copy.
struct Tap {
    inner: Option<Arc<dyn EventRecorder>>,
    seen: Recorded,
}

impl EventRecorder for Tap {
    fn record(
        &self,
        state: &mut BlockState<'_>,
        env: &BlockEnv,
        tx_hash: &Hash,
        events: &[Event],
    ) -> counterweight_storage_api::Result<()> {
        if let Some(inner) = &self.inner {
            inner.record(state, env, tx_hash, events)?;
        }
        self.seen
            .lock()
            .map_err(|_| counterweight_storage_api::StorageError::Invariant("tap poisoned".into()))?
            .push((*tx_hash, events.to_vec()));
        Ok(())
    }
}

/// Builds a [`TestChain`].
pub struct TestChainBuilder {
    chain_id: String,
    fees: Arc<dyn FeeHandler>,
    modules: Vec<Arc<dyn Module>>,
    recorder: Option<Arc<dyn EventRecorder>>,
    accounts: Vec<(Address, u64)>,
    min_fee: u64,
    genesis_time_ms: u64,
    block_time_ms: u64,
    proposer: Address,
}

impl TestChainBuilder {
    /// Registers a module (the fee handler is not registered on its own: add it too).
    #[must_use]
    pub fn module(mut self, module: Arc<dyn Module>) -> Self {
        self.modules.push(module);
        self
    }

    /// Hands every successful call's events to `recorder` (the audit log).
    #[must_use]
    pub fn recorder(mut self, recorder: Arc<dyn EventRecorder>) -> Self {
        self.recorder = Some(recorder);
        self
    }

    /// Funds `address` with `balance` at genesis.
    #[must_use]
    pub fn account(mut self, address: Address, balance: u64) -> Self {
        self.accounts.push((address, balance));
        self
    }

    /// Sets the chain id (default `test-chain`).
    #[must_use]
    pub fn chain_id(mut self, chain_id: &str) -> Self {
        chain_id.clone_into(&mut self.chain_id);
        self
    }

    /// Sets the fee every transaction pays, which is also the chain's minimum (default 1).
    #[must_use]
    pub fn fee(mut self, fee: u64) -> Self {
        self.min_fee = fee;
        self
    }

    /// Sets the genesis time; the first block is one block time later (default 0).
    #[must_use]
    pub fn genesis_time_ms(mut self, ms: u64) -> Self {
        self.genesis_time_ms = ms;
        self
    }

    /// Sets the time between blocks (default 1,000 ms).
    #[must_use]
    pub fn block_time_ms(mut self, ms: u64) -> Self {
        self.block_time_ms = ms;
        self
    }

    /// Sets the proposer, who receives the fees (default `Address([0xee; 32])`).
    #[must_use]
    pub fn proposer(mut self, proposer: Address) -> Self {
        self.proposer = proposer;
        self
    }

    /// Registers the modules and writes genesis.
    ///
    /// # Panics
    /// If two modules share an id or a module refuses the genesis document: the test's setup
    /// is wrong.
    pub fn build(self) -> TestChain {
        let chain_id = ChainId::new(self.chain_id).expect("a valid test chain id");
        let genesis = Genesis {
            chain_id: chain_id.clone(),
            genesis_time_ms: self.genesis_time_ms,
            validators: vec![self.proposer],
            accounts: self
                .accounts
                .iter()
                .map(|&(address, balance)| GenesisAccount { address, balance })
                .collect(),
            params: Params {
                min_fee: self.min_fee,
                max_block_txs: 10_000,
            },
        };
        let mut runtime = Runtime::new(chain_id.clone(), genesis.params.clone(), self.fees);
        for module in self.modules {
            runtime.register(module).expect("module ids are distinct");
        }
        let recorded = Recorded::default();
        runtime.set_recorder(Arc::new(Tap {
            inner: self.recorder,
            seen: recorded.clone(),
        }));
        let empty = MemState::default();
        let mut block = BlockState::new(&empty);
        runtime
            .init_genesis(&mut block, &genesis)
            .expect("the modules accept the test genesis");
        let state = MemState(block.into_changes());
        TestChain {
            runtime,
            state,
            chain_id,
            fee: self.min_fee,
            nonces: BTreeMap::new(),
            height: 0,
            now_ms: self.genesis_time_ms,
            block_time_ms: self.block_time_ms,
            proposer: self.proposer,
            recorded,
        }
    }
}

/// A chain in memory for module tests: the real [`Runtime`] (fees, nonces, rollback of failed
/// calls, event limits), one block per call, unsigned transactions (the runtime does not check
/// signatures; the app does).
pub struct TestChain {
    runtime: Runtime,
    state: MemState,
    chain_id: ChainId,
    fee: u64,
    nonces: BTreeMap<Address, u64>,
    height: u64,
    now_ms: u64,
    block_time_ms: u64,
    proposer: Address,
    recorded: Recorded,
}

/// A failed call's receipt: its code and message.
pub type Refusal = (u32, String);

impl TestChain {
    /// Starts a builder whose fees are handled by `fees` (the bank).
    pub fn builder(fees: Arc<dyn FeeHandler>) -> TestChainBuilder {
        TestChainBuilder {
            chain_id: "test-chain".into(),
            fees,
            modules: Vec::new(),
            recorder: None,
            accounts: Vec::new(),
            min_fee: 1,
            genesis_time_ms: 0,
            block_time_ms: 1_000,
            proposer: Address([0xee; 32]),
        }
    }

    /// Returns the chain id.
    pub fn chain_id(&self) -> &ChainId {
        &self.chain_id
    }

    /// Returns the runtime.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// Returns the committed state.
    pub fn state(&self) -> &MemState {
        &self.state
    }

    /// Returns the height of the last block.
    pub fn height(&self) -> u64 {
        self.height
    }

    /// Returns the timestamp of the last block (the next one is one block time later).
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    /// Moves the clock: the next block is stamped `ms` later than it would have been.
    pub fn advance_ms(&mut self, ms: u64) {
        self.now_ms += ms;
    }

    /// Returns the proposer (who receives the fees).
    pub fn proposer(&self) -> Address {
        self.proposer
    }

    /// Returns the fee every transaction pays.
    pub fn fee(&self) -> u64 {
        self.fee
    }

    /// Returns `who`'s next nonce as the harness tracks it.
    pub fn nonce(&self, who: &Address) -> u64 {
        self.nonces.get(who).copied().unwrap_or(0)
    }

    /// Builds the (unsigned) transaction `from` would send next.
    pub fn transaction(
        &self,
        from: Address,
        module: ModuleId,
        payload: Bytes,
    ) -> SignedTransaction {
        SignedTransaction {
            tx: Transaction {
                chain_id: self.chain_id.clone(),
                sender: from,
                nonce: self.nonce(&from),
                fee: self.fee,
                call: Call { module, payload },
            },
            signature: Signature([0; 64]),
        }
    }

    /// Runs `stx` in a new block. A rejected transaction changes nothing (not even the height).
    ///
    /// # Errors
    /// The runtime's rejection.
    ///
    /// # Panics
    /// On a fatal error: a module failed its storage or broke an invariant.
    pub fn apply(&mut self, stx: &SignedTransaction) -> Result<TxReceipt, TxError> {
        let env = BlockEnv {
            height: Height(self.height + 1),
            proposer: self.proposer,
            timestamp_ms: self.now_ms + self.block_time_ms,
        };
        let mut block = BlockState::new(&self.state);
        self.runtime.begin_block(&mut block, &env);
        let receipt = self
            .runtime
            .apply_tx(&mut block, &env, 0, stx)
            .expect("no fatal error")?;
        self.runtime.finish_block(&mut block, &env);
        let changes = block.into_changes();
        self.state.0.extend(changes);
        self.height = env.height.0;
        self.now_ms = env.timestamp_ms;
        self.nonces.insert(stx.tx.sender, stx.tx.nonce + 1);
        Ok(receipt)
    }

    /// Sends `payload` to `module` from `from` in a new block.
    ///
    /// # Errors
    /// The runtime's rejection.
    pub fn try_send(
        &mut self,
        from: Address,
        module: ModuleId,
        payload: Bytes,
    ) -> Result<TxReceipt, TxError> {
        let stx = self.transaction(from, module, payload);
        self.apply(&stx)
    }

    /// Sends `payload`; returns the transaction hash and events, or the refusal.
    ///
    /// # Panics
    /// If the runtime rejects the transaction (use [`TestChain::try_send`] to test that).
    pub fn send_raw(
        &mut self,
        from: Address,
        module: ModuleId,
        payload: Bytes,
    ) -> Result<(Hash, Vec<Event>), Refusal> {
        let receipt = self
            .try_send(from, module, payload)
            .expect("transaction accepted");
        match receipt.status {
            ReceiptStatus::Ok => Ok((receipt.tx_hash, receipt.events)),
            ReceiptStatus::Failed { code, message } => {
                assert!(!message.is_empty(), "failure code {code} has a message");
                Err((code, message))
            }
        }
    }

    /// Sends a typed call; returns the transaction hash and events, or the refusal.
    ///
    /// # Errors
    /// The failed receipt's code and message.
    ///
    /// # Panics
    /// If the runtime rejects the transaction.
    pub fn send<C: ModuleCall>(
        &mut self,
        from: Address,
        module: ModuleId,
        call: &C,
    ) -> Result<(Hash, Vec<Event>), Refusal> {
        self.send_raw(from, module, call.to_payload())
    }

    /// Runs a query against the committed state.
    ///
    /// # Errors
    /// The module's answer to a bad query, or a fatal error.
    pub fn query(&self, module: ModuleId, path: &str, data: &[u8]) -> Result<Vec<u8>, CallError> {
        self.runtime.query(&self.state, module, path, data)
    }

    /// Runs a query that must answer, and parses its JSON.
    ///
    /// # Panics
    /// If the query fails or the answer is not JSON.
    pub fn query_json(&self, module: ModuleId, path: &str, data: &[u8]) -> serde_json::Value {
        let bytes = self
            .query(module, path, data)
            .unwrap_or_else(|e| panic!("query {path} answers: {e}"));
        serde_json::from_slice(&bytes).expect("query answers JSON")
    }

    /// Runs a query that must fail with a module verdict; returns its code.
    ///
    /// # Panics
    /// If the query answers or fails fatally.
    pub fn query_code(&self, module: ModuleId, path: &str, data: &[u8]) -> u32 {
        match self.query(module, path, data) {
            Err(CallError::Failed(e)) => e.code,
            Err(e) => panic!("query {path} failed fatally: {e}"),
            Ok(answer) => panic!("query {path} answered {}", String::from_utf8_lossy(&answer)),
        }
    }

    /// Returns the events the recorder received, by transaction, in order.
    pub fn recorded(&self) -> Vec<(Hash, Vec<Event>)> {
        self.recorded.lock().expect("tap not poisoned").clone()
    }

    /// Returns every state key whose value differs between `before` and now.
    pub fn changed_keys(&self, before: &MemState) -> Vec<Vec<u8>> {
        let mut keys: Vec<Vec<u8>> = before
            .0
            .keys()
            .chain(self.state.0.keys())
            .filter(|k| before.get(k).ok().flatten() != self.state.get(k).ok().flatten())
            .cloned()
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }
}

/// Returns whether `key` lies in `module`'s namespace.
pub fn in_namespace(key: &[u8], module: ModuleId) -> bool {
    key.starts_with(&module_key(module, &[]))
}

/// Finds the first event of `kind`.
///
/// # Panics
/// If there is none.
pub fn event<'a>(events: &'a [Event], kind: &str) -> &'a Event {
    events
        .iter()
        .find(|e| e.kind == kind)
        .unwrap_or_else(|| panic!("no {kind} event in {events:?}"))
}

/// Returns attribute `key` of the first event of `kind`.
///
/// # Panics
/// If there is no such event or attribute.
pub fn attr(events: &[Event], kind: &str, key: &str) -> String {
    event(events, kind)
        .attributes
        .get(key)
        .unwrap_or_else(|| panic!("no {key} in {kind} event"))
        .clone()
}

/// What a module's suite needs: a fresh chain, the module, its codes, one accepted call and one
/// refused call from a funded sender.
pub struct SuiteCase {
    /// The chain, with the module (and the bank) registered and `sender` funded.
    pub chain: TestChain,
    /// The module under test.
    pub module: ModuleId,
    /// Its code for a payload that does not decode.
    pub malformed: u32,
    /// Its code for an unknown query path.
    pub bad_query: u32,
    /// A funded sender.
    pub sender: Address,
    /// A call that succeeds on the fresh chain and emits at least one event.
    pub accepted: Bytes,
    /// A call that the module refuses on the fresh chain, and its code.
    pub refused: (Bytes, u32),
    /// The modules whose namespace the fee and nonce may touch (the bank and the system).
    pub fee_modules: Vec<ModuleId>,
    /// The audit module, when the chain registers it (as module and recorder) and audits this
    /// module's events: the suite then reads the accepted call's entries back from its
    /// `tx/HASH` query.
    pub audit: Option<ModuleId>,
}

/// The checks of the shared suite, one function each, called by [`module_test_suite!`].
pub mod suite {
    use super::*;

    fn only_fee_and_nonce_changed(case: &SuiteCase, before: &MemState) {
        for key in case.chain.changed_keys(before) {
            assert!(
                case.fee_modules.iter().any(|m| in_namespace(&key, *m)),
                "a refused call wrote outside the fee and nonce: key {}",
                hex_key(&key)
            );
            assert!(
                !in_namespace(&key, case.module) || case.fee_modules.contains(&case.module),
                "a refused call wrote the module's own state"
            );
        }
    }

    fn hex_key(key: &[u8]) -> String {
        key.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// A malformed payload is refused with the module's code and writes nothing but the fee.
    pub fn malformed_payload_is_refused_and_writes_nothing(mut case: SuiteCase) {
        let malformed_payloads: [&[u8]; 3] = [&[], &[0xff, 0xff, 0xff, 0xff], &[0xff; 64]];
        let module = case.module;
        let check = case
            .chain
            .runtime()
            .module(module)
            .expect("the module is registered")
            .clone();
        for payload in malformed_payloads {
            let err = check
                .check_payload(payload)
                .expect_err("check_payload refuses a malformed payload");
            assert_eq!(err.code, case.malformed, "check_payload's code: {err}");
            // The runtime refuses it before execution: nothing is written, not even the fee.
            let before = case.chain.state().clone();
            let sender = case.sender;
            let rejected = case
                .chain
                .try_send(sender, module, Bytes::copy_from_slice(payload))
                .expect_err("malformed payload rejected before execution");
            assert!(matches!(rejected, TxError::Malformed { .. }), "{rejected}");
            assert!(
                case.chain.changed_keys(&before).is_empty(),
                "nothing written"
            );
            // Executed anyway (a block built by a faulty proposer), it fails with the module's
            // code and leaves no write and no event behind.
            let info = crate::TxInfo {
                chain_id: case.chain.chain_id(),
                sender,
                tx_hash: Hash::ZERO,
                height: Height(case.chain.height() + 1),
                proposer: case.chain.proposer(),
                timestamp_ms: case.chain.now_ms() + 1,
            };
            let mut ctx = crate::TxContext::new(case.chain.state(), module, info);
            match check.execute(&mut ctx, payload) {
                Err(CallError::Failed(e)) => assert_eq!(e.code, case.malformed, "{e}"),
                other => panic!("execute of a malformed payload: {other:?}"),
            }
            let (writes, events) = ctx.into_parts();
            assert!(writes.is_empty() && events.is_empty());
        }
        // Trailing bytes after a valid call are malformed too.
        let mut trailing = case.accepted.to_vec();
        trailing.push(0);
        let err = check.check_payload(&trailing).expect_err("trailing bytes");
        assert_eq!(err.code, case.malformed);
        assert!(check.check_payload(&case.accepted).is_ok());
    }

    /// An unknown query path is the module's `BAD_QUERY`.
    pub fn unknown_query_is_bad_query(case: SuiteCase) {
        for path in ["", "no-such-query", "no-such-query/1", "\u{0}"] {
            assert_eq!(
                case.chain.query_code(case.module, path, &[1, 2, 3]),
                case.bad_query,
                "query {path:?}"
            );
        }
    }

    /// A refused call emits no event and changes nothing but the fee and nonce.
    pub fn failed_call_emits_nothing_and_changes_only_the_fee(mut case: SuiteCase) {
        let before = case.chain.state().clone();
        let recorded = case.chain.recorded().len();
        let balance = case
            .chain
            .runtime()
            .balance(&before, &case.sender)
            .expect("read");
        let (payload, code) = case.refused.clone();
        let sender = case.sender;
        let receipt = case
            .chain
            .try_send(sender, case.module, payload)
            .expect("accepted into the block");
        assert!(receipt.events.is_empty());
        match receipt.status {
            ReceiptStatus::Failed { code: got, .. } => assert_eq!(got, code, "refusal code"),
            ReceiptStatus::Ok => panic!("expected refusal code {code}, the call succeeded"),
        }
        assert_eq!(case.chain.recorded().len(), recorded, "nothing recorded");
        only_fee_and_nonce_changed(&case, &before);
        let after = case
            .chain
            .runtime()
            .balance(case.chain.state(), &case.sender)
            .expect("read");
        assert_eq!(
            after + case.chain.fee(),
            balance,
            "only the fee was charged"
        );
        assert_eq!(
            case.chain
                .runtime()
                .nonce(case.chain.state(), &case.sender)
                .expect("read"),
            case.chain
                .runtime()
                .nonce(&before, &case.sender)
                .expect("read")
                + 1
        );
    }

    /// Every successful call's events reach the recorder (the audit log), exactly.
    pub fn successful_events_reach_the_audit_log(mut case: SuiteCase) {
        let sender = case.sender;
        let payload = case.accepted.clone();
        let (hash, events) = case
            .chain
            .send_raw(sender, case.module, payload)
            .unwrap_or_else(|(code, message)| panic!("accepted call refused: {code} {message}"));
        assert!(!events.is_empty(), "the accepted call emits events");
        let recorded = case.chain.recorded();
        let (tx, seen) = recorded.last().expect("recorded");
        assert_eq!(*tx, hash);
        assert_eq!(*seen, events);
        if let Some(audit) = case.audit {
            let path = format!("tx/{}", hash.to_hex());
            let entries = case.chain.query_json(audit, &path, &[]);
            let entries = entries.as_array().expect("a list of entries");
            assert_eq!(entries.len(), events.len(), "one audit entry per event");
            for (entry, event) in entries.iter().zip(&events) {
                assert_eq!(entry["kind"], event.kind.as_str());
                assert_eq!(entry["module"], event.module.0);
                let attributes: BTreeMap<String, String> =
                    serde_json::from_value(entry["attributes"].clone()).expect("attributes");
                assert_eq!(attributes, event.attributes);
            }
        }
    }
}

/// Generates the shared module suite: `$case` is an expression (usually a function call)
/// that builds a fresh [`SuiteCase`] for each test.
///
/// ```ignore
/// counterweight_state::module_test_suite!(bank, support::suite_case());
/// ```
#[macro_export]
macro_rules! module_test_suite {
    ($name:ident, $case:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[test]
            fn malformed_payload_is_refused_and_writes_nothing() {
                $crate::test_utils::suite::malformed_payload_is_refused_and_writes_nothing($case);
            }

            #[test]
            fn unknown_query_is_bad_query() {
                $crate::test_utils::suite::unknown_query_is_bad_query($case);
            }

            #[test]
            fn failed_call_emits_nothing_and_changes_only_the_fee() {
                $crate::test_utils::suite::failed_call_emits_nothing_and_changes_only_the_fee(
                    $case,
                );
            }

            #[test]
            fn successful_events_reach_the_audit_log() {
                $crate::test_utils::suite::successful_events_reach_the_audit_log($case);
            }
        }
    };
}
