//! The server-sent event stream of finalized blocks.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use counterweight_crypto::SigningKey;
use counterweight_rpc_api::{BlockEvent, SseParser, SubmitTxRequest, paths};
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

use crate::http::post_json;
use crate::node::{AppNode, app_router, transfer};

#[tokio::test]
async fn streams_finalized_blocks_with_receipts() {
    let alice = SigningKey::from_seed(1);
    let node = AppNode::open(&[&alice]);
    let router = app_router(&node);
    let response = router
        .clone()
        .oneshot(Request::get(paths::EVENTS).body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut body = response.into_body();

    let tx = transfer(&alice, SigningKey::from_seed(2).address(), 7, 0, 1);
    let request = serde_json::to_string(&SubmitTxRequest::hex(&tx.to_bytes())).unwrap();
    assert_eq!(
        post_json(&router, paths::SUBMIT_TX, request).await.0,
        StatusCode::ACCEPTED
    );
    node.finalize_pending();
    node.finalize_pending();

    let mut parser = SseParser::new();
    let mut events = Vec::new();
    let mut buffer = String::new();
    while events.len() < 2 {
        let frame = tokio::time::timeout(Duration::from_secs(5), body.frame())
            .await
            .expect("an event within 5 s")
            .expect("the stream stays open")
            .unwrap();
        let Ok(data) = frame.into_data() else {
            continue;
        };
        buffer.push_str(std::str::from_utf8(&data).unwrap());
        while let Some(end) = buffer.find('\n') {
            let line: String = buffer.drain(..=end).collect();
            if let Some(event) = parser.push_line(&line) {
                assert_eq!(event.event, paths::BLOCK_EVENT);
                events.push(serde_json::from_str::<BlockEvent>(&event.data).unwrap());
            }
        }
    }
    assert_eq!(events[0].height, 1);
    assert_eq!(events[0].receipts.len(), 1);
    assert_eq!(events[0].receipts[0].tx_hash, tx.hash().to_hex());
    assert!(
        events[0].receipts[0]
            .events
            .iter()
            .any(|e| e.kind == "transfer")
    );
    assert_eq!(events[1].height, 2);
    assert!(events[1].receipts.is_empty());
}
