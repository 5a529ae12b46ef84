//! The worker against an in-process one-validator devnet: a plain FedAvg task end to end,
//! and the refusals a worker must report clearly.

// Tests start a node and wait on the wall clock; they are off the consensus path.
#![allow(clippy::disallowed_methods)]

mod devnet;
mod fedavg;
mod refusals;
