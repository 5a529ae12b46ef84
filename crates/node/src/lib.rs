//! Compose a validator node: config, runtime, networking, mempool, RPC, shutdown.
//!
//! [`service::run`] runs one validator from a [`Home`] directory: it opens the app, restores the
//! mempool, starts authenticated p2p between the genesis validators, the consensus engine, the
//! transaction gossip and the RPC server, and stops cleanly on SIGINT/SIGTERM (saving pending
//! transactions). [`Chain`] is the piece both consensus ([`counterweight_consensus::Ledger`]) and
//! RPC ([`counterweight_rpc::NodeApi`]) see. [`testnet::init`] lays out a local network.
//!
//! # Examples
//! ```
//! use counterweight_node::{Home, NodeConfig};
//!
//! let config = NodeConfig::from_toml("[rpc]\nlisten = \"127.0.0.1:0\"\n")?;
//! assert_eq!(config.rpc.listen.port(), 0);
//! let home = Home::new("/tmp/example-node");
//! assert!(home.genesis().ends_with("genesis.json"));
//! # Ok::<(), counterweight_node::Error>(())
//! ```

// The node is off the consensus path: it reads the clock for logs and may use hash maps.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

mod chain;
pub mod config;
mod error;
pub mod gossip;
mod home;
pub mod keys;
mod mempool;
mod persist;
pub mod service;
pub mod testnet;

pub use chain::Chain;
pub use config::NodeConfig;
pub use error::{Error, Result};
pub use home::Home;
pub use mempool::{Mempool, MempoolError};
