//! Define the RPC types and a typed client.
//!
//! The node's HTTP API speaks JSON. Hashes, addresses and raw bytes travel as lowercase hex
//! strings (a leading `0x` is accepted on input); amounts and heights are JSON integers. Every
//! type here derives a `utoipa` schema, so the OpenAPI document served at `/openapi.json` is
//! generated from the same definitions the server and the clients use.
//!
//! [`Client`] is a small blocking client (built on `ureq`) for the CLI and scripts, including
//! [`Client::follow_blocks`], which follows the server-sent event stream of finalized blocks.
//!
//! # Examples
//! ```
//! use counterweight_rpc_api::{SubmitTxRequest, TxEncoding, TxStatusResponse};
//!
//! let request = SubmitTxRequest::hex(&[0xab, 0xcd]);
//! assert_eq!(request.tx, "abcd");
//! assert_eq!(request.encoding, TxEncoding::Hex);
//!
//! let status: TxStatusResponse = serde_json::from_str(r#"{"status":"pending"}"#).unwrap();
//! assert_eq!(status, TxStatusResponse::Pending);
//! ```

mod client;
mod error;
pub mod hexutil;
pub mod paths;
mod sse;
mod types;

pub use client::{BlockFollower, Client, ClientConfig};
pub use error::{Error, Result};
pub use sse::{SseEvent, SseParser};
pub use types::{
    AccountResponse, BlockEvent, BlockResponse, ErrorResponse, EventView, HeaderView,
    MAX_SUBMIT_BATCH, PutBlobResponse, QueryParams, QueryResponse, ReceiptStatusView, ReceiptView,
    StateProofResponse, StatusResponse, StreamEventData, StreamEventKind, SubmitTxRequest,
    SubmitTxResponse, SubmitTxResult, SubmitTxsRequest, SubmitTxsResponse, TxEncoding,
    TxStatusResponse, TxView,
};

/// The TCP port a node's RPC listens on unless configured otherwise.
pub const DEFAULT_RPC_PORT: u16 = 26_657;
/// The URL clients use unless told otherwise: the local devnet's RPC.
pub const DEFAULT_RPC_URL: &str = "http://127.0.0.1:26657";
