//! The runtime through its public API, with a minimal fee handler and a probe module (the
//! `FeeHandler` and `Module` seams): checks, fees, nonces, rollback of failed calls, event
//! limits, the recorder hook and queries.

use std::sync::Arc;

use bytes::Bytes;
use counterweight_state::{
    BlockState, CODE_EVENT_LIMIT, CallError, FeeHandler, Module, ModuleError, ModuleEvent, Runtime,
    StateAccess, TxContext, TxError, module_key,
    test_utils::{MemState, TestChain},
};
use counterweight_storage_api::{Result as StorageResult, StateReader, StorageError};
use counterweight_types::{Address, ChainId, Genesis, MAX_EVENTS, ModuleId, Params, ReceiptStatus};

const LEDGER: ModuleId = ModuleId(1);
const PROBE: ModuleId = ModuleId(2);

fn addr(i: u8) -> Address {
    Address([i; 32])
}

/// Balances under module 1 as big-endian u64s; genesis accounts are credited.
struct Ledger;

fn bal_key(who: &Address) -> Vec<u8> {
    module_key(LEDGER, &[b"bal/", &who.0])
}

fn read_bal(state: &dyn StateReader, who: &Address) -> StorageResult<u64> {
    Ok(state
        .get(&bal_key(who))?
        .and_then(|v| <[u8; 8]>::try_from(v.as_slice()).ok())
        .map_or(0, u64::from_be_bytes))
}

impl FeeHandler for Ledger {
    fn balance(&self, state: &dyn StateReader, who: &Address) -> StorageResult<u64> {
        read_bal(state, who)
    }
    fn pay_fee(
        &self,
        state: &mut BlockState<'_>,
        payer: &Address,
        recipient: &Address,
        fee: u64,
    ) -> StorageResult<()> {
        let from = read_bal(state, payer)?;
        let to = read_bal(state, recipient)?;
        let left = from
            .checked_sub(fee)
            .ok_or_else(|| StorageError::Invariant("fee above balance".into()))?;
        state.set(bal_key(payer), left.to_be_bytes().to_vec());
        state.set(bal_key(recipient), (to + fee).to_be_bytes().to_vec());
        Ok(())
    }
}

impl Module for Ledger {
    fn id(&self) -> ModuleId {
        LEDGER
    }
    fn name(&self) -> &'static str {
        "ledger"
    }
    fn check_payload(&self, _: &[u8]) -> Result<(), ModuleError> {
        Err(ModuleError::new(1, "the ledger takes no calls"))
    }
    fn init_genesis(
        &self,
        state: &mut dyn StateAccess,
        genesis: &Genesis,
    ) -> Result<(), CallError> {
        for a in &genesis.accounts {
            state.set(bal_key(&a.address), a.balance.to_be_bytes().to_vec());
        }
        Ok(())
    }
    fn execute(&self, _: &mut TxContext<'_>, _: &[u8]) -> Result<(), CallError> {
        Err(ModuleError::new(1, "the ledger takes no calls").into())
    }
    fn query(&self, _: &dyn StateReader, _: &str, _: &[u8]) -> Result<Vec<u8>, CallError> {
        Err(ModuleError::new(2, "no queries").into())
    }
}

#[derive(serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum ProbeEvent {
    Probed { i: u8 },
    Never,
    Flood,
}

impl ModuleEvent for ProbeEvent {}

/// Payload `[op, n]`: op 0 writes key n and emits n events; op 1 writes then fails; op 2 emits
/// more events than a receipt may hold; anything else is malformed.
struct Probe;

impl Module for Probe {
    fn id(&self) -> ModuleId {
        PROBE
    }
    fn name(&self) -> &'static str {
        "probe"
    }
    fn check_payload(&self, payload: &[u8]) -> Result<(), ModuleError> {
        match payload {
            [0..=2, _] => Ok(()),
            _ => Err(ModuleError::new(9, "probe call: two bytes")),
        }
    }
    fn init_genesis(&self, _: &mut dyn StateAccess, _: &Genesis) -> Result<(), CallError> {
        Ok(())
    }
    fn execute(&self, ctx: &mut TxContext<'_>, payload: &[u8]) -> Result<(), CallError> {
        let &[op, n] = payload else {
            return Err(ModuleError::new(9, "probe call: two bytes").into());
        };
        ctx.set(module_key(PROBE, &[&[n]]), vec![op]);
        match op {
            0 => {
                for i in 0..n {
                    ctx.emit_event(&ProbeEvent::Probed { i })?;
                }
                Ok(())
            }
            1 => {
                ctx.emit_event(&ProbeEvent::Never)?;
                Err(ModuleError::new(7, "refused after writing").into())
            }
            _ => {
                for _ in 0..=MAX_EVENTS {
                    ctx.emit_event(&ProbeEvent::Flood)?;
                }
                Ok(())
            }
        }
    }
    fn query(
        &self,
        state: &dyn StateReader,
        path: &str,
        data: &[u8],
    ) -> Result<Vec<u8>, CallError> {
        match (path, data) {
            ("key", &[n]) => Ok(state.get(&module_key(PROBE, &[&[n]]))?.unwrap_or_default()),
            _ => Err(ModuleError::new(8, format!("unknown query {path:?}")).into()),
        }
    }
}

fn chain() -> TestChain {
    let ledger = Arc::new(Ledger);
    TestChain::builder(ledger.clone())
        .module(ledger)
        .module(Arc::new(Probe))
        .account(addr(1), 100)
        .fee(3)
        .proposer(addr(9))
        .build()
}

fn balance(chain: &TestChain, who: u8) -> u64 {
    read_bal(chain.state(), &addr(who)).expect("read")
}

#[test]
fn a_successful_call_pays_its_fee_uses_its_nonce_and_keeps_its_writes() {
    let mut chain = chain();
    let receipt = chain
        .try_send(addr(1), PROBE, Bytes::from_static(&[0, 2]))
        .expect("accepted");
    assert_eq!(receipt.status, ReceiptStatus::Ok);
    assert_eq!(receipt.events.len(), 2);
    assert!(receipt.events.iter().all(|e| e.module == PROBE));
    assert_eq!(balance(&chain, 1), 97);
    assert_eq!(balance(&chain, 9), 3, "the proposer receives the fee");
    assert_eq!(
        chain
            .runtime()
            .nonce(chain.state(), &addr(1))
            .expect("read"),
        1
    );
    assert_eq!(chain.query(PROBE, "key", &[2]).expect("answers"), vec![0]);
    assert_eq!(chain.recorded().len(), 1, "the recorder saw the call");
}

#[test]
fn a_failed_call_keeps_its_fee_and_nonce_and_loses_its_writes_and_events() {
    let mut chain = chain();
    let receipt = chain
        .try_send(addr(1), PROBE, Bytes::from_static(&[1, 5]))
        .expect("accepted");
    assert_eq!(
        receipt.status,
        ReceiptStatus::Failed {
            code: 7,
            message: "refused after writing".into()
        }
    );
    assert!(receipt.events.is_empty());
    assert_eq!(balance(&chain, 1), 97);
    assert_eq!(
        chain
            .runtime()
            .nonce(chain.state(), &addr(1))
            .expect("read"),
        1
    );
    assert!(chain.query(PROBE, "key", &[5]).expect("answers").is_empty());
    assert!(chain.recorded().is_empty(), "nothing recorded");
}

#[test]
fn a_call_over_the_event_limit_fails_with_its_own_code() {
    let mut chain = chain();
    let receipt = chain
        .try_send(addr(1), PROBE, Bytes::from_static(&[2, 1]))
        .expect("accepted");
    match receipt.status {
        ReceiptStatus::Failed { code, .. } => assert_eq!(code, CODE_EVENT_LIMIT),
        ReceiptStatus::Ok => panic!("a flood of events is refused"),
    }
    assert!(chain.query(PROBE, "key", &[1]).expect("answers").is_empty());
}

#[test]
fn rejected_transactions_write_nothing() {
    let mut chain = chain();
    let before: MemState = chain.state().clone();
    // Malformed payload, unknown module, fee too low, stale and future nonce, unfunded sender,
    // wrong chain.
    let malformed = chain.try_send(addr(1), PROBE, Bytes::from_static(&[5]));
    assert!(
        matches!(malformed, Err(TxError::Malformed { .. })),
        "{malformed:?}"
    );
    let unknown = chain.try_send(addr(1), ModuleId(77), Bytes::from_static(&[0, 0]));
    assert!(matches!(unknown, Err(TxError::UnknownModule(ModuleId(77)))));
    let mut cheap = chain.transaction(addr(1), PROBE, Bytes::from_static(&[0, 0]));
    cheap.tx.fee = 2;
    assert!(matches!(
        chain.apply(&cheap),
        Err(TxError::FeeTooLow { fee: 2, min: 3 })
    ));
    let mut future = chain.transaction(addr(1), PROBE, Bytes::from_static(&[0, 0]));
    future.tx.nonce = 1;
    assert!(matches!(
        chain.apply(&future),
        Err(TxError::NonceFuture { .. })
    ));
    let pauper = chain.try_send(addr(2), PROBE, Bytes::from_static(&[0, 0]));
    assert!(matches!(
        pauper,
        Err(TxError::InsufficientBalance { balance: 0, fee: 3 })
    ));
    let mut foreign = chain.transaction(addr(1), PROBE, Bytes::from_static(&[0, 0]));
    foreign.tx.chain_id = ChainId::new("other").expect("valid");
    assert!(matches!(
        chain.apply(&foreign),
        Err(TxError::WrongChainId { .. })
    ));
    assert!(
        chain.changed_keys(&before).is_empty(),
        "nothing was written"
    );
    // The same nonce is still the next one; once used, it is stale.
    chain
        .try_send(addr(1), PROBE, Bytes::from_static(&[0, 0]))
        .expect("accepted");
    let mut stale = chain.transaction(addr(1), PROBE, Bytes::from_static(&[0, 0]));
    stale.tx.nonce = 0;
    assert!(matches!(
        chain.apply(&stale),
        Err(TxError::NonceStale {
            expected: 1,
            got: 0
        })
    ));
}

#[test]
fn queries_reach_their_module_and_unknown_modules_are_refused() {
    let chain = chain();
    assert!(matches!(
        chain.query(ModuleId(77), "x", &[]),
        Err(CallError::Failed(ModuleError { code: 0, .. }))
    ));
    assert_eq!(chain.query_code(PROBE, "nope", &[]), 8);
}

#[test]
fn module_ids_are_unique_and_zero_is_reserved() {
    let fees = Arc::new(Ledger);
    let mut runtime = Runtime::new(
        ChainId::new("c").expect("valid"),
        Params {
            min_fee: 1,
            max_block_txs: 10,
        },
        fees.clone(),
    );
    runtime.register(fees.clone()).expect("first");
    assert!(runtime.register(fees).is_err(), "a second module 1");
    struct Zero;
    impl Module for Zero {
        fn id(&self) -> ModuleId {
            ModuleId(0)
        }
        fn name(&self) -> &'static str {
            "zero"
        }
        fn check_payload(&self, _: &[u8]) -> Result<(), ModuleError> {
            Ok(())
        }
        fn init_genesis(&self, _: &mut dyn StateAccess, _: &Genesis) -> Result<(), CallError> {
            Ok(())
        }
        fn execute(&self, _: &mut TxContext<'_>, _: &[u8]) -> Result<(), CallError> {
            Ok(())
        }
        fn query(&self, _: &dyn StateReader, _: &str, _: &[u8]) -> Result<Vec<u8>, CallError> {
            Ok(Vec::new())
        }
    }
    assert!(runtime.register(Arc::new(Zero)).is_err(), "the system id");
}

/// The recorder sees exactly the successful calls' events, in order, even across blocks.
#[test]
fn the_recorder_sees_successful_events_in_order() {
    let mut chain = chain();
    for (op, n) in [(0u8, 1u8), (1, 2), (0, 3)] {
        let _ = chain.try_send(addr(1), PROBE, Bytes::copy_from_slice(&[op, n]));
    }
    let recorded = chain.recorded();
    let counts: Vec<usize> = recorded.iter().map(|(_, e)| e.len()).collect();
    assert_eq!(counts, vec![1, 3]);
}
