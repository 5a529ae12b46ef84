//! Order and finalize blocks with commonware simplex and marshal.
//!
//! This is the only crate that knows the consensus engine. The chain plugs in through the
//! [`Ledger`] trait (build, verify and durably apply blocks); [`start`] wires simplex (votes and
//! certificates), marshal (ordered, durable delivery of finalized blocks with backfill), a
//! buffered broadcast of full blocks and a p2p resolver around it. Finalized blocks reach
//! [`Ledger::finalize`] in height order, at least once, and are acknowledged to marshal only after
//! it returns, so a crash between apply and acknowledge replays the block (which must then be a
//! no-op). The validator set is fixed (from genesis) in a single epoch.
//!
//! The engine is generic over the runtime and the p2p channels: production uses the tokio runtime
//! with authenticated p2p, tests the deterministic runtime with the simulated network.

mod application;
mod block;
mod engine;
mod error;
mod finalizer;
mod ledger;
mod metrics;

pub use application::{MAX_TIMESTAMP_DRIFT, Scheme, timestamp_in_bound};
pub use block::{ChainBlock, Digest};
pub use engine::{Channels, Config, Running, Timeouts, max_consensus_message_size, start};
pub use error::{Error, Result};
pub use ledger::{BlockDigest, Ledger, Verdict};
