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
    components(schemas(counterweight_rpc_api::StreamEventKind)),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The `maxLength` of parameter `name` of `GET path` in the document.
    fn max_length(doc: &serde_json::Value, path: &str, name: &str) -> u64 {
        doc["paths"][path]["get"]["parameters"]
            .as_array()
            .and_then(|params| params.iter().find(|param| param["name"] == name))
            .and_then(|param| param["schema"]["maxLength"].as_u64())
            .unwrap_or_else(|| panic!("{path} {name} has no maxLength"))
    }

    /// Hex of `n` bytes with a `0x` prefix, as a length in characters.
    fn hex_chars(n: usize) -> u64 {
        u64::try_from(2 + 2 * n).unwrap()
    }

    #[test]
    fn documented_lengths_are_the_server_limits() {
        let doc: serde_json::Value = serde_json::from_str(&openapi_json()).unwrap();
        assert_eq!(
            max_length(&doc, counterweight_rpc_api::paths::STATE, "key"),
            hex_chars(routes::MAX_STATE_KEY_BYTES)
        );
        assert_eq!(
            max_length(&doc, "/v1/query/{module}/{path}", "data"),
            hex_chars(routes::MAX_QUERY_DATA_BYTES)
        );
        let key = doc["paths"][counterweight_rpc_api::paths::STATE]["get"]["parameters"][0]
            ["schema"]["pattern"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(key.ends_with(&format!("{{1,{}}}$", routes::MAX_STATE_KEY_BYTES)));
        let tx = &doc["components"]["schemas"]["SubmitTxRequest"]["properties"]["tx"];
        assert_eq!(
            tx["maxLength"].as_u64(),
            Some(hex_chars(counterweight_types::MAX_TX_BYTES))
        );
    }
}
