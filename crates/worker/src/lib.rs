//! Take part in federated training tasks on chain as a client worker.
//!
//! A [`Worker`] is one participant of one task: the node's client, the participant's key,
//! the task id and the local data, built by [`Worker::builder`]. [`Worker::run`] follows the
//! task until it finishes: for every round the account is a participant of, it trains locally
//! from the global model with the task's hints, applies client-side DP if the task asks for
//! it, then submits the plain update or runs the four secure-aggregation phases
//! (advertise keys, share keys, masked input, unmask), waits for the aggregate and finally
//! reads its reward. Progress is reported as [`WorkerEvent`]s to a callback; the crate never
//! prints.
//!
//! The pieces are usable alone: [`Sender`] signs and sends any call for one account,
//! [`LearnReader`] reads a task's typed views, and [`SpecBuilder`] builds the [`TaskSpec`]
//! that opens a task.
//!
//! The crate talks to a node only through the `rpc-api` client; `train` stays free of chain
//! crates (this crate depends on it, not the reverse).
//!
//! # Examples
//!
//! ```
//! use counterweight_train::Dataset;
//! use counterweight_types::Hash;
//! use counterweight_worker::SpecBuilder;
//!
//! let spec = SpecBuilder::new(Hash([1; 32]), vec![Hash([2; 32])])
//!     .rounds(5)
//!     .min_clients(3)
//!     .strategy("trimmed:0.2")
//!     .build(&Dataset::digits())
//!     .unwrap();
//! assert_eq!(spec.rounds, 5);
//! ```
//!
//! Joining a task (needs a running node):
//!
//! ```no_run
//! # fn main() -> counterweight_worker::Result<()> {
//! use counterweight_crypto::SigningKey;
//! use counterweight_rpc_api::Client;
//! use counterweight_train::Dataset;
//! use counterweight_types::Hash;
//! use counterweight_worker::Worker;
//!
//! let client = Client::new("http://127.0.0.1:26657")?;
//! let key = SigningKey::from_bytes([7; 32]);
//! let mut worker = Worker::builder(client, key, Hash([9; 32]), Dataset::digits()).build()?;
//! let report = worker.run(&mut |event| eprintln!("{event}"))?;
//! println!("reward {}", report.reward);
//! # Ok(())
//! # }
//! ```
//!
//! [`TaskSpec`]: counterweight_learn::TaskSpec

// A worker is a client off the consensus path: it measures wall time.
#![allow(clippy::disallowed_methods)]

mod error;
mod events;
mod reader;
mod secure;
mod sender;
mod spec;
mod worker;

pub use error::{Error, Result};
pub use events::{RoundTiming, WorkerEvent, WorkerReport};
pub use reader::LearnReader;
pub use sender::{Sender, wait_final};
pub use spec::{SpecBuilder, task_strategy};
pub use worker::{LocalUpdate, Worker, WorkerBuilder};
