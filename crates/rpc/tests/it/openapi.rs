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
