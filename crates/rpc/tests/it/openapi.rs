//! The committed OpenAPI document matches the one generated from the types.
//!
//! To regenerate after an intended API change:
//! `COUNTERWEIGHT_BLESS=1 cargo test -p counterweight-rpc --test it openapi`.

use std::path::PathBuf;

use axum::http::StatusCode;

use crate::http::get;
use crate::node::{AppNode, app_router};

fn committed_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json")
}

#[test]
fn committed_openapi_document_matches_the_types() {
    let generated = counterweight_rpc::openapi_json();
    let path = committed_path();
    if std::env::var_os("COUNTERWEIGHT_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/openapi.json is out of date; regenerate it with \
         `COUNTERWEIGHT_BLESS=1 cargo test -p counterweight-rpc --test it openapi`"
    );
}

#[test]
fn document_lists_every_endpoint() {
    let doc: serde_json::Value = serde_json::from_str(&counterweight_rpc::openapi_json()).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        counterweight_rpc_api::paths::SUBMIT_TX,
        counterweight_rpc_api::paths::SUBMIT_TXS,
        counterweight_rpc_api::paths::TX,
        counterweight_rpc_api::paths::ACCOUNT,
        counterweight_rpc_api::paths::LATEST_BLOCK,
        counterweight_rpc_api::paths::BLOCK,
        counterweight_rpc_api::paths::STATE,
        counterweight_rpc_api::paths::STATUS,
        counterweight_rpc_api::paths::EVENTS,
    ] {
        assert!(paths.contains_key(path), "{path} missing");
    }
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for schema in [
        "SubmitTxRequest",
        "SubmitTxsRequest",
        "SubmitTxsResponse",
        "TxStatusResponse",
        "BlockResponse",
        "ErrorResponse",
        "BlockEvent",
    ] {
        assert!(schemas.contains_key(schema), "{schema} missing");
    }
}

#[tokio::test]
async fn serves_the_document() {
    let node = AppNode::open(&[]);
    let router = app_router(&node);
    let (code, body) = get(&router, counterweight_rpc_api::paths::OPENAPI).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(
        String::from_utf8(body).unwrap(),
        counterweight_rpc::openapi_json()
    );
}

fn document() -> serde_json::Value {
    serde_json::from_str(&counterweight_rpc::openapi_json()).unwrap()
}

/// The schema of parameter `name` of `GET path`.
fn param_schema(doc: &serde_json::Value, path: &str, name: &str) -> serde_json::Value {
    let params = doc["paths"][path]["get"]["parameters"]
        .as_array()
        .unwrap_or_else(|| panic!("{path} has no parameters"));
    params
        .iter()
        .find(|param| param["name"] == name)
        .unwrap_or_else(|| panic!("{path} has no parameter {name}"))["schema"]
        .clone()
}

#[test]
fn hashes_and_addresses_are_described_as_64_hex_characters() {
    let doc = document();
    for (path, name) in [
        (counterweight_rpc_api::paths::TX, "hash"),
        (counterweight_rpc_api::paths::ACCOUNT, "address"),
        (counterweight_rpc_api::paths::BLOB, "hash"),
    ] {
        let schema = param_schema(&doc, path, name);
        assert_eq!(schema["type"], "string", "{path} {name}");
        assert_eq!(
            schema["pattern"], "^(0[xX])?[0-9a-fA-F]{64}$",
            "{path} {name}"
        );
        assert_eq!(schema["minLength"], 64);
        assert_eq!(schema["maxLength"], 66);
    }
    let account = &doc["components"]["schemas"]["AccountResponse"]["properties"]["address"];
    assert_eq!(account["pattern"], "^[0-9a-f]{64}$");
}

#[test]
fn byte_string_parameters_are_bounded_like_the_server() {
    let doc = document();
    let key = param_schema(&doc, counterweight_rpc_api::paths::STATE, "key");
    assert_eq!(key["pattern"], "^(0[xX])?([0-9a-fA-F]{2}){1,1024}$");
    assert_eq!(key["maxLength"], 2 + 2 * 1024);
    let data = param_schema(&doc, "/v1/query/{module}/{path}", "data");
    assert_eq!(data["pattern"], "^(0[xX])?([0-9a-fA-F]{2}){0,16384}$");
    assert_eq!(data["maxLength"], 2 + 2 * 16 * 1024);
    let tx = &doc["components"]["schemas"]["SubmitTxRequest"]["properties"]["tx"];
    assert_eq!(tx["maxLength"], 2 + 2 * counterweight_types::MAX_TX_BYTES);
    let batch = &doc["components"]["schemas"]["SubmitTxsRequest"]["properties"]["txs"];
    assert_eq!(batch["maxItems"], counterweight_rpc_api::MAX_SUBMIT_BATCH);
    assert_eq!(batch["items"]["maxLength"], tx["maxLength"]);
}

#[test]
fn integer_parameters_carry_their_bounds() {
    let doc = document();
    let height = param_schema(&doc, counterweight_rpc_api::paths::BLOCK, "height");
    assert_eq!(height["type"], "integer");
    assert_eq!(height["minimum"], 0);
    assert_eq!(height["maximum"], u64::MAX);
    let module = param_schema(&doc, "/v1/query/{module}/{path}", "module");
    assert_eq!(module["minimum"], 0);
    assert_eq!(module["maximum"], u16::MAX);
    let balance = &doc["components"]["schemas"]["AccountResponse"]["properties"]["balance"];
    assert_eq!(balance["format"], "int64");
    assert_eq!(balance["minimum"], 0);
}

/// The values of the single-value `enum` of property `tag` across a `oneOf` schema.
fn tag_values(schema: &serde_json::Value, tag: &str) -> Vec<String> {
    schema["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|variant| {
            variant["properties"][tag]["enum"][0]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[test]
fn statuses_and_event_kinds_are_enums() {
    let doc = document();
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        tag_values(&schemas["TxStatusResponse"], "status"),
        ["pending", "finalized", "rejected", "unknown"]
    );
    assert_eq!(
        tag_values(&schemas["ReceiptStatusView"], "result"),
        ["ok", "failed"]
    );
    assert_eq!(
        schemas["StreamEventKind"]["enum"],
        serde_json::json!([
            counterweight_rpc_api::paths::BLOCK_EVENT,
            counterweight_rpc_api::paths::LAGGED_EVENT
        ])
    );
}

#[test]
fn event_stream_is_described_as_server_sent_events_with_a_data_schema() {
    let doc = document();
    let content =
        &doc["paths"][counterweight_rpc_api::paths::EVENTS]["get"]["responses"]["200"]["content"];
    let stream = &content["text/event-stream"];
    assert_eq!(
        stream["schema"]["$ref"],
        "#/components/schemas/StreamEventData"
    );
    let data = &doc["components"]["schemas"]["StreamEventData"]["oneOf"];
    assert_eq!(data[0]["$ref"], "#/components/schemas/BlockEvent");
    assert_eq!(data[1]["type"], "integer");
    assert!(content.get("application/json").is_none());
}
