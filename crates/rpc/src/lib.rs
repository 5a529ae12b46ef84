//! Serve the node's JSON RPC, event stream, OpenAPI document and metrics.
//!
//! The node implements [`NodeApi`] over its app and mempool and serves [`router`]; this crate
//! decodes requests, enforces limits, converts domain values to the wire types of
//! `counterweight-rpc-api`, and is the only place where errors become HTTP status codes
//! ([`Error::status`]).
//!
//! Endpoints (see [`counterweight_rpc_api::paths`]): submit a transaction, transaction status,
//! account, block by height or latest, state value with proof, status, a server-sent event
//! stream of finalized blocks, blobs (`PUT /v1/blobs`, `GET /v1/blobs/{hash}`, verified
//! against their BLAKE3 hash before they are served), `/openapi.json` and `/metrics`.
//!
//! # Examples
//! ```no_run
//! # async fn serve<N: counterweight_rpc::NodeApi>(node: std::sync::Arc<N>) -> std::io::Result<()> {
//! use counterweight_rpc::{RpcConfig, RpcState, router};
//!
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:26657").await?;
//! let state = RpcState::new(node, RpcConfig::default()).with_node_metrics(|| String::from("# EOF\n"));
//! axum::serve(listener, router(state)).await
//! # }
//! ```

// The server is off the consensus path: it reads the clock for request latency, and its
// metrics label sets are hashed by the Prometheus client.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

mod blobs;
mod config;
mod convert;
mod error;
mod metrics;
mod node;
mod openapi;
mod routes;

pub use blobs::BLOB_HASH_HEADER;
pub use config::RpcConfig;
pub use error::{Error, Result};
pub use metrics::MetricsSource;
pub use node::{
    Account, ChainEvent, FinalizedBlock, NodeApi, NodeStatus, Rejection, StateProof, SubmitError,
    TxStatus,
};
pub use openapi::{openapi, openapi_json};
pub use routes::{RpcState, router};
