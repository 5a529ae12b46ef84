//! Run the deterministic state-transition framework: modules, dispatch, fees, state root.
//!
//! A [`Runtime`] holds the registered [`Module`]s (dispatched by `Call.module`) and a
//! [`FeeHandler`] (the bank). For each transaction it checks chain id, minimum fee, nonce and
//! fee balance ([`TxError`] on failure, nothing written), charges the fee to the proposer,
//! bumps the nonce and runs the call in a [`TxContext`] whose writes are discarded if the call
//! fails. State is read through [`Layered`] / [`BlockState`] views over a
//! `StateReader`, so a block can execute on top of unfinalized ancestors; the resulting
//! ordered change set is what the storage layer turns into the state root.
//!
//! Everything here is deterministic: ordered maps, integers, no clock.
//!
//! # Examples
//!
//! ```
//! use std::collections::BTreeMap;
//! use counterweight_state::{BlockState, Layered, StateAccess};
//! use counterweight_storage_api::{StateChanges, StateReader};
//!
//! struct Empty;
//! impl StateReader for Empty {
//!     fn get(&self, _: &[u8]) -> counterweight_storage_api::Result<Option<Vec<u8>>> { Ok(None) }
//! }
//!
//! // A parent block's pending changes, then a child block writing over them.
//! let parent: StateChanges = BTreeMap::from([(b"a".to_vec(), Some(b"1".to_vec()))]);
//! let view = Layered::new(&Empty, vec![&parent]);
//! let mut block = BlockState::new(&view);
//! assert_eq!(block.get(b"a").unwrap(), Some(b"1".to_vec()));
//! block.delete(b"a".to_vec());
//! assert_eq!(block.get(b"a").unwrap(), None);
//! assert_eq!(block.into_changes().get(&b"a"[..]), Some(&None));
//! ```

mod call;
mod error;
mod event;
mod module;
mod overlay;
pub mod query;
mod runtime;
#[cfg(any(test, feature = "test-utils"))]
pub mod test_utils;

pub use call::{MalformedCall, ModuleCall};
pub use error::{CallError, Error, ModuleError, Result, TxError, Verdict};
pub use event::{EventError, ModuleEvent};
pub use module::{Module, TxContext, TxInfo, module_key};
pub use overlay::{BlockState, Layered, StateAccess};
pub use runtime::{
    BlockEnv, CODE_EVENT_LIMIT, EventRecorder, FeeHandler, Runtime, SYSTEM_MODULE, block_time,
};
