//! The audit log as the runtime writes it: events of audited modules become provable entries,
//! bank events and failed calls do not, and tampering with a proof is caught offline.

mod log;
mod suite;

use std::sync::Arc;

use counterweight_audit::Audit;
use counterweight_bank::Bank;
use counterweight_state::{
    CallError, Module, ModuleError, ModuleEvent, StateAccess, TxContext, test_utils::TestChain,
};
use counterweight_storage_api::StateReader;
use counterweight_types::{Address, Genesis, ModuleId};
use serde::Serialize;

/// The stand-in AI module's id.
pub(crate) const EMITTER: ModuleId = ModuleId(9);

/// The stand-in's codes.
pub(crate) const EMITTER_MALFORMED: u32 = 1;
pub(crate) const EMITTER_REFUSED: u32 = 2;
pub(crate) const EMITTER_BAD_QUERY: u32 = 3;

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum EmitterEvent {
    DatasetCommitted { n: u8 },
    NeverRecorded,
}

impl ModuleEvent for EmitterEvent {}

/// A stand-in for an AI module (the seam the audit log listens at): payload `[n]` emits `n`
/// events, `[0]` emits one and then fails (so the runtime must drop it), any other payload is
/// malformed.
struct Emitter;

fn count(payload: &[u8]) -> Result<u8, ModuleError> {
    match payload {
        [n] => Ok(*n),
        _ => Err(ModuleError::new(
            EMITTER_MALFORMED,
            "emitter call: one byte",
        )),
    }
}

impl Module for Emitter {
    fn id(&self) -> ModuleId {
        EMITTER
    }
    fn name(&self) -> &'static str {
        "emitter"
    }
    fn check_payload(&self, payload: &[u8]) -> Result<(), ModuleError> {
        count(payload).map(drop)
    }
    fn init_genesis(&self, _: &mut dyn StateAccess, _: &Genesis) -> Result<(), CallError> {
        Ok(())
    }
    fn execute(&self, ctx: &mut TxContext<'_>, payload: &[u8]) -> Result<(), CallError> {
        let n = count(payload)?;
        if n == 0 {
            ctx.emit_event(&EmitterEvent::NeverRecorded)?;
            return Err(ModuleError::new(EMITTER_REFUSED, "nothing to emit").into());
        }
        for n in 0..n {
            ctx.emit_event(&EmitterEvent::DatasetCommitted { n })?;
        }
        Ok(())
    }
    fn query(&self, _: &dyn StateReader, path: &str, _: &[u8]) -> Result<Vec<u8>, CallError> {
        Err(ModuleError::new(EMITTER_BAD_QUERY, format!("unknown query {path:?}")).into())
    }
}

pub(crate) fn addr(i: u8) -> Address {
    Address([i; 32])
}

/// A chain with the bank, the audit log (as module and recorder) and the emitter; `addr(1)`
/// holds 1,000.
pub(crate) fn chain() -> TestChain {
    let bank = Arc::new(Bank);
    TestChain::builder(bank.clone())
        .module(bank)
        .module(Arc::new(Audit))
        .module(Arc::new(Emitter))
        .recorder(Arc::new(Audit))
        .account(addr(1), 1_000)
        .chain_id("audit-test")
        .proposer(addr(9))
        .build()
}
