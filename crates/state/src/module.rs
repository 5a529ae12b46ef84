//! The `Module` trait and the context a call executes in.

use counterweight_storage_api::{Result as StorageResult, StateReader};
use counterweight_types::{Address, ChainId, Event, Genesis, Hash, Height, ModuleId};

use crate::{
    error::CallError,
    event::ModuleEvent,
    overlay::{StateAccess, TxState},
};

/// Returns a state key in `module`'s namespace: the module id (big-endian) then `parts`.
///
/// Modules keep their state under their own prefix, so two modules never collide.
pub fn module_key(module: ModuleId, parts: &[&[u8]]) -> Vec<u8> {
    let len = 2 + parts.iter().map(|p| p.len()).sum::<usize>();
    let mut key = Vec::with_capacity(len);
    key.extend_from_slice(&module.0.to_be_bytes());
    for part in parts {
        key.extend_from_slice(part);
    }
    key
}

/// An on-chain module: its own transactions (decoded from `Call.payload`), queries, events
/// and genesis state.
///
/// Contract: every method is deterministic — no clock, no randomness, no floats, no hash-map
/// iteration — because every validator runs it and must reach the same state root.
pub trait Module: Send + Sync + 'static {
    /// The id that calls name to reach this module.
    fn id(&self) -> ModuleId;

    /// A short lowercase name, for logs and errors.
    fn name(&self) -> &'static str;

    /// Checks that `payload` decodes as one of this module's calls, without reading state.
    /// Used by `check_tx` so malformed calls never reach the mempool.
    ///
    /// # Errors
    /// A [`ModuleError`](crate::ModuleError) naming the decoding problem.
    fn check_payload(&self, payload: &[u8]) -> Result<(), crate::ModuleError>;

    /// Writes the module's genesis state.
    ///
    /// # Errors
    /// [`CallError::Failed`] if the genesis document is unacceptable to this module,
    /// [`CallError::Fatal`] if storage fails.
    fn init_genesis(&self, state: &mut dyn StateAccess, genesis: &Genesis)
    -> Result<(), CallError>;

    /// Executes one call. On `Err`, every write the call made is discarded and the receipt
    /// reports the failure; the fee stays charged.
    ///
    /// # Errors
    /// [`CallError::Failed`] for a call that cannot be carried out (e.g. insufficient funds);
    /// [`CallError::Fatal`] if storage fails (this stops the node, it is not a receipt).
    fn execute(&self, ctx: &mut TxContext<'_>, payload: &[u8]) -> Result<(), CallError>;

    /// Answers a read-only query `path` with argument `data` against `state`.
    ///
    /// # Errors
    /// [`CallError::Failed`] for an unknown path or bad argument, [`CallError::Fatal`] if
    /// storage fails.
    fn query(&self, state: &dyn StateReader, path: &str, data: &[u8])
    -> Result<Vec<u8>, CallError>;
}

/// What a call sees: the transaction's facts, the state (with rollback) and an event sink.
pub struct TxContext<'b> {
    state: TxState<'b>,
    events: Vec<Event>,
    module: ModuleId,
    /// The chain id.
    pub chain_id: &'b ChainId,
    /// The signer and fee payer.
    pub sender: Address,
    /// The transaction's hash (unique per sender and nonce: a good seed for ids).
    pub tx_hash: Hash,
    /// The block height being executed.
    pub height: Height,
    /// The block's proposer.
    pub proposer: Address,
    /// The block's timestamp (proposer's clock, monotonic across blocks).
    pub timestamp_ms: u64,
}

/// The facts of one transaction and its block, handed to [`TxContext`].
#[derive(Clone, Copy, Debug)]
pub struct TxInfo<'b> {
    /// The chain id.
    pub chain_id: &'b ChainId,
    /// The signer.
    pub sender: Address,
    /// The transaction hash.
    pub tx_hash: Hash,
    /// The block height.
    pub height: Height,
    /// The block proposer.
    pub proposer: Address,
    /// The block timestamp.
    pub timestamp_ms: u64,
}

impl<'b> TxContext<'b> {
    pub(crate) fn new(block: &'b dyn StateReader, module: ModuleId, info: TxInfo<'b>) -> Self {
        Self {
            state: TxState::new(block),
            events: Vec::new(),
            module,
            chain_id: info.chain_id,
            sender: info.sender,
            tx_hash: info.tx_hash,
            height: info.height,
            proposer: info.proposer,
            timestamp_ms: info.timestamp_ms,
        }
    }

    /// Records a typed event from the executing module (see [`ModuleEvent`]).
    ///
    /// # Errors
    /// [`CallError::Fatal`] if the event does not have an event's shape (a module bug).
    pub fn emit_event<E: ModuleEvent>(&mut self, event: &E) -> Result<(), CallError> {
        let (kind, attributes) = event.to_parts().map_err(|e| {
            CallError::Fatal(counterweight_storage_api::StorageError::Invariant(
                e.to_string(),
            ))
        })?;
        self.events.push(Event {
            module: self.module,
            kind,
            attributes,
        });
        Ok(())
    }

    pub(crate) fn into_parts(self) -> (counterweight_storage_api::StateChanges, Vec<Event>) {
        (self.state.writes, self.events)
    }
}

impl StateReader for TxContext<'_> {
    fn get(&self, key: &[u8]) -> StorageResult<Option<Vec<u8>>> {
        self.state.get(key)
    }
}

impl StateAccess for TxContext<'_> {
    fn set(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.state.writes.insert(key, Some(value));
    }

    fn delete(&mut self, key: Vec<u8>) {
        self.state.writes.insert(key, None);
    }
}
