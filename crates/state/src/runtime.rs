//! The runtime: module registry, transaction checks, fee and nonce handling, dispatch.

use std::{collections::BTreeMap, sync::Arc};

use counterweight_storage_api::{Result as StorageResult, StateReader};
use counterweight_types::{
    Address, ChainId, Event, Genesis, Height, MAX_ATTRIBUTE_VALUE, MAX_EVENT_ATTRIBUTES,
    MAX_EVENTS, MAX_SHORT_STRING, ModuleId, Params, ReceiptStatus, SignedTransaction, TxReceipt,
};

use crate::{
    error::{CallError, Error, ModuleError, Result, TxError},
    module::{Module, TxContext, TxInfo, module_key},
    overlay::{BlockState, StateAccess},
};

/// The reserved module id of the framework's own state (nonces, height).
pub const SYSTEM_MODULE: ModuleId = ModuleId(0);

/// Receipt code when a call emits events beyond the receipt limits.
pub const CODE_EVENT_LIMIT: u32 = 0xFFFF_0001;

/// Moves fees. Implemented by the bank module; the framework itself holds no balances.
pub trait FeeHandler: Send + Sync + 'static {
    /// Returns `who`'s spendable balance.
    ///
    /// # Errors
    /// Only fatal storage errors.
    fn balance(&self, state: &dyn StateReader, who: &Address) -> StorageResult<u64>;

    /// Moves `fee` from `payer` to `recipient`. The caller has checked that `payer` can pay;
    /// total supply must not change.
    ///
    /// # Errors
    /// Only fatal storage errors.
    fn pay_fee(
        &self,
        state: &mut BlockState<'_>,
        payer: &Address,
        recipient: &Address,
        fee: u64,
    ) -> StorageResult<()>;
}

/// Receives the events of every successful call, inside the block's state: the audit log's
/// hook. It runs after the call's writes are merged and must be deterministic like a module.
pub trait EventRecorder: Send + Sync + 'static {
    /// Records `events`, emitted by transaction `tx_hash` in the block described by `env`.
    ///
    /// # Errors
    /// Only fatal storage errors.
    fn record(
        &self,
        state: &mut BlockState<'_>,
        env: &BlockEnv,
        tx_hash: &counterweight_types::Hash,
        events: &[Event],
    ) -> StorageResult<()>;
}

/// The block a transaction executes in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockEnv {
    /// The block's height.
    pub height: Height,
    /// The block's proposer (receives fees).
    pub proposer: Address,
    /// The block's timestamp.
    pub timestamp_ms: u64,
}

/// Dispatches transactions to modules, charging fees and enforcing nonces.
pub struct Runtime {
    chain_id: ChainId,
    params: Params,
    modules: BTreeMap<ModuleId, Arc<dyn Module>>,
    fees: Arc<dyn FeeHandler>,
    recorder: Option<Arc<dyn EventRecorder>>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("chain_id", &self.chain_id)
            .field("modules", &self.modules.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

fn nonce_key(who: &Address) -> Vec<u8> {
    module_key(SYSTEM_MODULE, &[b"nonce/", &who.0])
}

fn height_key() -> Vec<u8> {
    module_key(SYSTEM_MODULE, &[b"height"])
}

fn time_key() -> Vec<u8> {
    module_key(SYSTEM_MODULE, &[b"time"])
}

/// Returns the time of the block being executed (during execution) or of the latest block
/// (in queries), as [`Runtime::begin_block`] recorded it; `None` before the first block.
///
/// # Errors
/// Fatal storage errors, or a stored time that is not 8 bytes.
pub fn block_time(state: &dyn StateReader) -> StorageResult<Option<u64>> {
    match state.get(&time_key())? {
        Some(v) => <[u8; 8]>::try_from(v.as_slice())
            .map(|b| Some(u64::from_be_bytes(b)))
            .map_err(|_| counterweight_storage_api::StorageError::Corrupt { what: "block time" }),
        None => Ok(None),
    }
}

fn events_within_limits(events: &[Event]) -> bool {
    events.len() <= MAX_EVENTS
        && events.iter().all(|e| {
            e.kind.len() <= MAX_SHORT_STRING
                && e.attributes.len() <= MAX_EVENT_ATTRIBUTES
                && e.attributes
                    .iter()
                    .all(|(k, v)| k.len() <= MAX_SHORT_STRING && v.len() <= MAX_ATTRIBUTE_VALUE)
        })
}

impl Runtime {
    /// Builds a runtime for `chain_id` with fees handled by `fees`.
    pub fn new(chain_id: ChainId, params: Params, fees: Arc<dyn FeeHandler>) -> Self {
        Self {
            chain_id,
            params,
            modules: BTreeMap::new(),
            fees,
            recorder: None,
        }
    }

    /// Registers a module under its id.
    ///
    /// # Errors
    /// [`Error::DuplicateModule`] if the id is taken (or is the reserved system id 0).
    pub fn register(&mut self, module: Arc<dyn Module>) -> Result<()> {
        let id = module.id();
        if id == SYSTEM_MODULE || self.modules.contains_key(&id) {
            return Err(Error::DuplicateModule(id));
        }
        self.modules.insert(id, module);
        Ok(())
    }

    /// Hands the events of every successful call to `recorder` (the audit log).
    pub fn set_recorder(&mut self, recorder: Arc<dyn EventRecorder>) {
        self.recorder = Some(recorder);
    }

    /// Returns the chain id.
    pub fn chain_id(&self) -> &ChainId {
        &self.chain_id
    }

    /// Returns the chain parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Returns the registered module with this id.
    pub fn module(&self, id: ModuleId) -> Option<&Arc<dyn Module>> {
        self.modules.get(&id)
    }

    /// Writes every module's genesis state (in module-id order) and the genesis height.
    ///
    /// # Errors
    /// [`Error::Genesis`] if a module rejects the document; fatal storage errors.
    pub fn init_genesis(&self, state: &mut BlockState<'_>, genesis: &Genesis) -> Result<()> {
        for module in self.modules.values() {
            match module.init_genesis(state, genesis) {
                Ok(()) => {}
                Err(CallError::Failed(source)) => {
                    return Err(Error::Genesis {
                        module: module.name(),
                        source,
                    });
                }
                Err(CallError::Fatal(e)) => return Err(e.into()),
            }
        }
        state.set(height_key(), Height::GENESIS.0.to_be_bytes().to_vec());
        Ok(())
    }

    /// Returns the next nonce of `who`.
    ///
    /// # Errors
    /// Fatal storage errors, or a corrupt stored nonce.
    pub fn nonce(&self, state: &dyn StateReader, who: &Address) -> StorageResult<u64> {
        match state.get(&nonce_key(who))? {
            None => Ok(0),
            Some(v) => <[u8; 8]>::try_from(v.as_slice())
                .map(u64::from_be_bytes)
                .map_err(|_| counterweight_storage_api::StorageError::Corrupt { what: "nonce" }),
        }
    }

    /// Returns `who`'s balance as seen by the fee handler.
    ///
    /// # Errors
    /// Only fatal storage errors.
    pub fn balance(&self, state: &dyn StateReader, who: &Address) -> StorageResult<u64> {
        self.fees.balance(state, who)
    }

    /// Stateless checks: chain id, minimum fee, known module, decodable payload.
    /// (Signatures are checked by the caller, in batches.)
    ///
    /// # Errors
    /// The first [`TxError`] found.
    pub fn check_stateless(&self, stx: &SignedTransaction) -> Result<(), TxError> {
        let tx = &stx.tx;
        if tx.chain_id != self.chain_id {
            return Err(TxError::WrongChainId {
                expected: self.chain_id.clone(),
                got: tx.chain_id.clone(),
            });
        }
        if tx.fee < self.params.min_fee {
            return Err(TxError::FeeTooLow {
                fee: tx.fee,
                min: self.params.min_fee,
            });
        }
        let module = self
            .modules
            .get(&tx.call.module)
            .ok_or(TxError::UnknownModule(tx.call.module))?;
        module
            .check_payload(&tx.call.payload)
            .map_err(|e| TxError::Malformed { reason: e.message })
    }

    /// Checks a transaction against `state`: its nonce lies in `[next, next + max_gap]` and
    /// the sender can pay the fee. With `max_gap == 0` the nonce must be exactly the next one.
    ///
    /// # Errors
    /// Outer: fatal storage errors. Inner: the [`TxError`] rejecting the transaction.
    pub fn check_stateful(
        &self,
        state: &dyn StateReader,
        stx: &SignedTransaction,
        max_gap: u64,
    ) -> Result<Result<(), TxError>> {
        let tx = &stx.tx;
        let expected = self.nonce(state, &tx.sender)?;
        if tx.nonce < expected {
            return Ok(Err(TxError::NonceStale {
                expected,
                got: tx.nonce,
            }));
        }
        if tx.nonce - expected > max_gap {
            return Ok(Err(TxError::NonceFuture {
                expected,
                got: tx.nonce,
            }));
        }
        let balance = self.fees.balance(state, &tx.sender)?;
        if balance < tx.fee {
            return Ok(Err(TxError::InsufficientBalance {
                balance,
                fee: tx.fee,
            }));
        }
        Ok(Ok(()))
    }

    /// Applies one transaction whose signature the caller has verified.
    ///
    /// A rejected transaction (`Ok(Err(_))`) leaves `state` untouched. An accepted one pays
    /// its fee to the proposer, uses its nonce, and runs its call: if the call fails, the
    /// call's writes are discarded and the receipt says `Failed`.
    ///
    /// # Errors
    /// Outer: fatal storage errors.
    pub fn apply_tx(
        &self,
        state: &mut BlockState<'_>,
        env: &BlockEnv,
        index: u32,
        stx: &SignedTransaction,
    ) -> Result<Result<TxReceipt, TxError>> {
        if let Err(e) = self.check_stateless(stx) {
            return Ok(Err(e));
        }
        if let Err(e) = self.check_stateful(state, stx, 0)? {
            return Ok(Err(e));
        }
        let tx = &stx.tx;
        let tx_hash = stx.hash();
        self.fees
            .pay_fee(state, &tx.sender, &env.proposer, tx.fee)?;
        state.set(nonce_key(&tx.sender), (tx.nonce + 1).to_be_bytes().to_vec());

        let Some(module) = self.modules.get(&tx.call.module) else {
            // check_stateless has already rejected unknown modules.
            return Ok(Err(TxError::UnknownModule(tx.call.module)));
        };
        let info = TxInfo {
            chain_id: &self.chain_id,
            sender: tx.sender,
            tx_hash,
            height: env.height,
            proposer: env.proposer,
            timestamp_ms: env.timestamp_ms,
        };
        let outcome = {
            let mut ctx = TxContext::new(state, tx.call.module, info);
            let result = module.execute(&mut ctx, &tx.call.payload);
            (result, ctx.into_parts())
        };
        let (status, events) = match outcome {
            (Ok(()), (writes, events)) if events_within_limits(&events) => {
                state.merge(writes);
                if let Some(recorder) = &self.recorder {
                    recorder.record(state, env, &tx_hash, &events)?;
                }
                (ReceiptStatus::Ok, events)
            }
            (Ok(()), _) => (
                ReceiptStatus::Failed {
                    code: CODE_EVENT_LIMIT,
                    message: "call emitted events beyond the receipt limits".into(),
                },
                Vec::new(),
            ),
            (Err(CallError::Fatal(e)), _) => return Err(e.into()),
            (Err(CallError::Failed(ModuleError { code, message })), _) => {
                let mut message = message;
                if message.len() > MAX_SHORT_STRING {
                    let mut cut = MAX_SHORT_STRING;
                    while !message.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    message.truncate(cut);
                }
                (ReceiptStatus::Failed { code, message }, Vec::new())
            }
        };
        Ok(Ok(TxReceipt {
            tx_hash,
            height: env.height,
            index,
            status,
            events,
        }))
    }

    /// Opens a block: records its timestamp in the state before any transaction runs, so
    /// calls and queries read the block time from state ([`block_time`]).
    pub fn begin_block(&self, state: &mut BlockState<'_>, env: &BlockEnv) {
        state.set(time_key(), env.timestamp_ms.to_be_bytes().to_vec());
    }

    /// Closes a block: records its height in the state (so every block changes the root).
    pub fn finish_block(&self, state: &mut BlockState<'_>, env: &BlockEnv) {
        state.set(height_key(), env.height.0.to_be_bytes().to_vec());
    }

    /// Runs a module query against `state`.
    ///
    /// # Errors
    /// [`CallError::Failed`] for an unknown module (code 0), unknown path or bad argument;
    /// [`CallError::Fatal`] if storage fails.
    pub fn query(
        &self,
        state: &dyn StateReader,
        module: ModuleId,
        path: &str,
        data: &[u8],
    ) -> Result<Vec<u8>, CallError> {
        let m = self
            .modules
            .get(&module)
            .ok_or_else(|| ModuleError::new(0, format!("unknown module {module}")))?;
        m.query(state, path, data)
    }
}
