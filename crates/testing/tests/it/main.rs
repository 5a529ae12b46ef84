//! Deterministic simulations of the chain with the real app on the simulated network.

mod learn;
mod scenarios;
