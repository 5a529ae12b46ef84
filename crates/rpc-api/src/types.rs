//! Request and response bodies of every endpoint.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How the transaction bytes in a [`SubmitTxRequest`] are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TxEncoding {
    /// Hex, optionally prefixed with `0x`.
    #[default]
    Hex,
    /// Standard base64 with padding.
    Base64,
}

/// Body of `POST /v1/txs`: the canonical encoding of a signed transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitTxRequest {
    /// The signed transaction's canonical bytes, written as `encoding` says: even-length hex
    /// (optional `0x`) or standard padded base64, at most `MAX_TX_BYTES` (131072) bytes once
    /// decoded.
    #[schema(
        pattern = "^((0[xX])?([0-9a-fA-F]{2})*|([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?)$",
        max_length = 262146
    )]
    pub tx: String,
    /// The text encoding of `tx` (default `hex`).
    #[serde(default)]
    pub encoding: TxEncoding,
}

impl SubmitTxRequest {
    /// A request carrying `bytes` as hex.
    pub fn hex(bytes: &[u8]) -> Self {
        Self {
            tx: hex::encode(bytes),
            encoding: TxEncoding::Hex,
        }
    }

    /// A request carrying `bytes` as base64.
    pub fn base64(bytes: &[u8]) -> Self {
        Self {
            tx: base64::engine::general_purpose::STANDARD.encode(bytes),
            encoding: TxEncoding::Base64,
        }
    }

    /// Decode the transaction bytes.
    ///
    /// # Errors
    /// A description of the decoding failure when `tx` is not valid in its encoding.
    pub fn decode_bytes(&self) -> Result<Vec<u8>, String> {
        match self.encoding {
            TxEncoding::Hex => crate::hexutil::decode(&self.tx).map_err(|err| err.to_string()),
            TxEncoding::Base64 => base64::engine::general_purpose::STANDARD
                .decode(self.tx.trim())
                .map_err(|err| err.to_string()),
        }
    }
}

/// Reply to an accepted submission: the transaction is in the mempool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SubmitTxResponse {
    /// The transaction hash (hex), the key for `GET /v1/txs/{hash}`.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub tx_hash: String,
}

/// Most transactions in one [`SubmitTxsRequest`].
pub const MAX_SUBMIT_BATCH: usize = 1_024;

/// Body of `POST /v1/txs/batch`: several signed transactions, each admitted (or refused) on its
/// own, in order, as if submitted one by one to `POST /v1/txs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SubmitTxsRequest {
    /// The signed transactions' canonical bytes, each written as `encoding` says (at most
    /// [`MAX_SUBMIT_BATCH`]; the server's body limit applies to the whole request). Each
    /// entry has the form of [`SubmitTxRequest::tx`].
    #[schema(
        max_items = 1024,
        inline,
        value_type = Vec<TxText>
    )]
    pub txs: Vec<String>,
    /// The text encoding of every entry of `txs` (default `hex`).
    #[serde(default)]
    pub encoding: TxEncoding,
}

impl SubmitTxsRequest {
    /// A request carrying each of `txs` as hex.
    pub fn hex<B: AsRef<[u8]>>(txs: &[B]) -> Self {
        Self {
            txs: txs.iter().map(hex::encode).collect(),
            encoding: TxEncoding::Hex,
        }
    }
}

/// One transaction's canonical bytes as text (schema only): even-length hex (optional `0x`)
/// or standard padded base64, at most `MAX_TX_BYTES` bytes once decoded.
#[derive(ToSchema)]
#[schema(
    value_type = String,
    pattern = "^((0[xX])?([0-9a-fA-F]{2})*|([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?)$",
    max_length = 262146
)]
#[allow(dead_code)]
pub(crate) struct TxText(String);

/// The outcome of one transaction of a batch: `tx_hash` if it entered the mempool, otherwise
/// `error`, the body `POST /v1/txs` would have answered with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SubmitTxResult {
    /// The transaction hash (hex) when accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub tx_hash: Option<String>,
    /// Why it was refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorResponse>,
}

/// Reply to `POST /v1/txs/batch`: one result per submitted transaction, in request order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SubmitTxsResponse {
    /// The outcomes, in the order of the request's `txs`.
    pub results: Vec<SubmitTxResult>,
}

/// Body of every error reply.
///
/// `reason` is a stable machine-readable name (snake case); `code` is the protocol's numeric
/// rejection code when the error is a transaction rejection; `message` is for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorResponse {
    /// Stable machine-readable reason, e.g. `bad_signature`, `not_found`.
    pub reason: String,
    /// The protocol's numeric rejection code, for transaction rejections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<u32>,
    /// A short human-readable message.
    pub message: String,
}

/// Where a transaction is in its life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum TxStatusResponse {
    /// Accepted into the mempool, not yet in a finalized block.
    Pending,
    /// Included in a finalized block (its receipt says whether it succeeded).
    Finalized {
        /// Height of the block that includes it.
        height: u64,
        /// The execution receipt.
        receipt: ReceiptView,
    },
    /// Accepted earlier, then dropped before inclusion.
    Rejected {
        /// The protocol's numeric rejection code.
        code: u32,
        /// Stable machine-readable reason.
        reason: String,
        /// Human-readable message.
        message: String,
    },
    /// Never seen by this node (or forgotten).
    Unknown,
}

/// Result of executing one transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum ReceiptStatusView {
    /// The call succeeded.
    Ok,
    /// The call failed in its module; the fee was charged and the nonce consumed.
    Failed {
        /// The module's numeric failure code.
        code: u32,
        /// Human-readable message.
        message: String,
    },
}

/// A transaction's execution receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReceiptView {
    /// The transaction hash (hex).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub tx_hash: String,
    /// Height of the including block.
    pub height: u64,
    /// Position within the block.
    pub index: u32,
    /// Success or the module's failure.
    pub status: ReceiptStatusView,
    /// Events emitted by the call, in order.
    pub events: Vec<EventView>,
}

/// An event emitted by a module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EventView {
    /// The emitting module's id.
    pub module: u16,
    /// The event kind, e.g. `transfer`.
    pub kind: String,
    /// Event attributes, sorted by key.
    pub attributes: BTreeMap<String, String>,
}

/// An account's balance and next nonce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccountResponse {
    /// The account address (hex of its ed25519 public key).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub address: String,
    /// Spendable balance.
    pub balance: u64,
    /// The nonce the account's next transaction must carry.
    pub nonce: u64,
}

/// A block header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HeaderView {
    /// Chain id.
    pub chain_id: String,
    /// Block height.
    pub height: u64,
    /// Parent block hash (hex).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub parent: String,
    /// Proposer's timestamp, milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
    /// Proposer address (hex).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub proposer: String,
    /// Root of the block's transactions (hex).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub tx_root: String,
    /// Authenticated-state root after executing this block (hex).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub state_root: String,
}

/// A signed transaction as included in a block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TxView {
    /// Transaction hash (hex).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub hash: String,
    /// Sender address (hex).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub sender: String,
    /// Sender's nonce.
    pub nonce: u64,
    /// Fee paid.
    pub fee: u64,
    /// Target module id.
    pub module: u16,
    /// The module's call payload (hex).
    #[schema(pattern = "^([0-9a-f]{2})*$")]
    pub payload: String,
    /// ed25519 signature (hex).
    #[schema(pattern = "^[0-9a-f]{128}$")]
    pub signature: String,
}

/// A finalized block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BlockResponse {
    /// Block hash (hex): the digest of the header.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub hash: String,
    /// The header.
    pub header: HeaderView,
    /// Transactions, in execution order.
    pub txs: Vec<TxView>,
}

/// A state value with an inclusion (or exclusion) proof against a committed state root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StateProofResponse {
    /// The state key (hex).
    #[schema(pattern = "^([0-9a-f]{2})*$")]
    pub key: String,
    /// The value (hex), absent when the key is not in the state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^([0-9a-f]{2})*$")]
    pub value: Option<String>,
    /// The proof's canonical encoding (hex); verify it offline against `root`.
    #[schema(pattern = "^([0-9a-f]{2})*$")]
    pub proof: String,
    /// The state root the proof is against (hex).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub root: String,
    /// Height of the block whose header carries `root`.
    pub height: u64,
}

/// The node's view of the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StatusResponse {
    /// Chain id.
    pub chain_id: String,
    /// Latest finalized height.
    pub height: u64,
    /// Hash of the latest finalized block (hex).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub block_hash: String,
    /// State root after the latest finalized block (hex).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub state_root: String,
    /// Connected peers.
    pub peers: u32,
    /// Transactions waiting in the mempool.
    pub mempool_size: u64,
}

/// One finalized block on the event stream, with its receipts (and so its events).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BlockEvent {
    /// Block height.
    pub height: u64,
    /// Block hash (hex).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub hash: String,
    /// Proposer's timestamp, milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
    /// State root after the block (hex).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub state_root: String,
    /// Receipts of the block's transactions, in order.
    pub receipts: Vec<ReceiptView>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn submit_request_round_trips_both_encodings() {
        let bytes = [0u8, 1, 2, 254, 255];
        assert_eq!(SubmitTxRequest::hex(&bytes).decode_bytes().unwrap(), bytes);
        assert_eq!(
            SubmitTxRequest::base64(&bytes).decode_bytes().unwrap(),
            bytes
        );
        let bad = SubmitTxRequest {
            tx: "not base64!".into(),
            encoding: TxEncoding::Base64,
        };
        assert!(bad.decode_bytes().is_err());
    }

    #[test]
    fn submit_request_rejects_unknown_fields() {
        let parsed: Result<SubmitTxRequest, _> = serde_json::from_str(r#"{"tx":"00","extra":1}"#);
        assert!(parsed.is_err());
    }

    #[test]
    fn tx_status_uses_a_status_tag() {
        let status = TxStatusResponse::Rejected {
            code: 4,
            reason: "bad_nonce".into(),
            message: "nonce".into(),
        };
        let json = serde_json::to_value(&status).unwrap();
        assert_eq!(json["status"], "rejected");
        assert_eq!(json["code"], 4);
        let back: TxStatusResponse = serde_json::from_value(json).unwrap();
        assert_eq!(back, status);
    }
}

/// The argument of a module query.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema, utoipa::IntoParams,
)]
#[into_params(parameter_in = Query)]
pub struct QueryParams {
    /// The query's argument as even-length hex, optional `0x` (usually an id or an address),
    /// at most 16384 bytes; empty when absent.
    #[serde(default)]
    #[param(pattern = "^(0[xX])?([0-9a-fA-F]{2}){0,16384}$", max_length = 32770)]
    pub data: Option<String>,
}

/// A module's answer to a query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct QueryResponse {
    /// The module id.
    pub module: u16,
    /// The query path inside the module.
    pub path: String,
    /// The module's answer when it is JSON (every module answers in JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub value: Option<serde_json::Value>,
    /// The module's answer as hex when it is not JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^([0-9a-f]{2})*$")]
    pub bytes: Option<String>,
}

/// The name of a frame on the event stream (`GET /v1/events`, its SSE `event` field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StreamEventKind {
    /// A finalized block; the data is a [`BlockEvent`].
    Block,
    /// The follower fell behind; the data is the number of blocks it missed.
    Lagged,
}

/// The data of a frame on the event stream: a [`BlockEvent`] for a `block` frame, the number
/// of missed blocks for a `lagged` frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum StreamEventData {
    /// The data of a `block` frame.
    Block(BlockEvent),
    /// The data of a `lagged` frame: how many blocks the follower missed.
    Lagged(u64),
}

/// The answer to storing a blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PutBlobResponse {
    /// The blob's BLAKE3 hash (hex): its address in every node's blob store.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub hash: String,
    /// Its size in bytes.
    pub size: u64,
}
