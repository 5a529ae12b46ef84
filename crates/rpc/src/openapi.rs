//! The OpenAPI document, generated from the request/response types and handler annotations.

use utoipa::OpenApi;

use crate::routes;

/// The API description: every endpoint with its schemas.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Counterweight node RPC",
        description = "JSON over HTTP. Hashes, addresses and bytes are lowercase hex strings; a `0x` prefix is accepted on input. Errors carry a stable `reason`, a protocol `code` for transaction rejections, and a `message`.",
        license(name = "MIT OR Apache-2.0"),
    ),
    paths(
        routes::submit_tx,
        routes::submit_txs,
        routes::tx_status,
        routes::account,
        routes::latest_block,
        routes::block,
        routes::state_value,
        routes::query,
        routes::status,
        routes::events,
        crate::blobs::put_blob,
        crate::blobs::get_blob,
    ),
    tags(
        (name = "transactions", description = "Submit transactions and follow their status"),
        (name = "blocks", description = "Finalized blocks and the event stream"),
        (name = "state", description = "Accounts and proven state values"),
        (name = "node", description = "The node's view of the chain"),
        (name = "blobs", description = "Content-addressed blobs (model weights), named by their BLAKE3 hash"),
    )
)]
pub(crate) struct ApiDoc;

/// The OpenAPI document as a value.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The OpenAPI document as pretty JSON with a trailing newline (the form committed to the
/// repository as `docs/openapi.json`).
pub fn openapi_json() -> String {
    match openapi().to_pretty_json() {
        Ok(mut json) => {
            json.push('\n');
            json
        }
        // Serializing a document built from static annotations cannot fail; keep serving.
        Err(err) => {
            tracing::error!(target: "rpc", error = %err, "cannot serialize the OpenAPI document");
            "{}\n".to_owned()
        }
    }
}
