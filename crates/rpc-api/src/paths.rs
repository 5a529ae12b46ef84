//! The URL paths of every endpoint, shared by the server's router and the client.

/// `POST`: submit a signed transaction ([`crate::SubmitTxRequest`]).
pub const SUBMIT_TX: &str = "/v1/txs";
/// `POST`: submit several signed transactions at once ([`crate::SubmitTxsRequest`]).
pub const SUBMIT_TXS: &str = "/v1/txs/batch";
/// `GET`: a transaction's status by hash (`/v1/txs/{hash}`).
pub const TX: &str = "/v1/txs/{hash}";
/// `GET`: an account's balance and nonce (`/v1/accounts/{address}`).
pub const ACCOUNT: &str = "/v1/accounts/{address}";
/// `GET`: the latest finalized block.
pub const LATEST_BLOCK: &str = "/v1/blocks/latest";
/// `GET`: a finalized block by height (`/v1/blocks/{height}`).
pub const BLOCK: &str = "/v1/blocks/{height}";
/// `GET`: a state value with its inclusion proof (`/v1/state/{key}`, key in hex).
pub const STATE: &str = "/v1/state/{key}";
/// `GET`: chain id, height, state root and peers.
pub const STATUS: &str = "/v1/status";
/// `GET`: server-sent events, one `block` event per finalized block.
pub const EVENTS: &str = "/v1/events";
/// `GET`: a module query (`/v1/query/{module}/{path}?data=<hex>`); the path may hold slashes.
pub const QUERY: &str = "/v1/query/{module}/{*path}";
/// `PUT`: store a blob (body: its bytes); answers a [`crate::PutBlobResponse`].
pub const BLOBS: &str = "/v1/blobs";
/// `GET`: a blob's bytes by BLAKE3 hash (`/v1/blobs/{hash}`), verified before they are sent.
pub const BLOB: &str = "/v1/blobs/{hash}";
/// `GET`: the OpenAPI document.
pub const OPENAPI: &str = "/openapi.json";
/// `GET`: Prometheus metrics in the text exposition format.
pub const METRICS: &str = "/metrics";

/// The name of the server-sent event that carries a [`crate::BlockEvent`].
pub const BLOCK_EVENT: &str = "block";
/// The name of the server-sent event sent when a slow follower missed events.
pub const LAGGED_EVENT: &str = "lagged";

/// Fill `{name}` in a path template with `value`.
pub fn fill(template: &str, name: &str, value: &str) -> String {
    template.replace(&format!("{{{name}}}"), value)
}
