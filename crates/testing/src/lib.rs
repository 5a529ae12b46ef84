//! Simulate multi-node networks deterministically and provide fixtures.
//!
//! [`run`] starts N validators — each with the real app (on a temporary directory), mempool,
//! transaction gossip and consensus engine — on commonware's deterministic runtime and simulated
//! network, feeds them signed transfers from funded dev accounts, executes a script of
//! [`Step`]s (wait for a height, crash, restart, partition, heal) and returns every honest
//! validator's finalized chain in a [`Report`]. The same seed always gives the same report.
//!
//! # Examples
//! ```no_run
//! use counterweight_testing::{SimConfig, Step, run};
//!
//! let report = run(&SimConfig::new(7), &[Step::WaitHeight(5)])?;
//! report.assert_consistent();
//! # Ok::<(), counterweight_testing::SimError>(())
//! ```

// Test fixtures are off the consensus path.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

mod byzantine;
mod sim;

pub use byzantine::{Behaviour, Byzantine, attacker_account};
pub use sim::{Report, SimConfig, SimError, Step, ValidatorReport, run, transfer};
