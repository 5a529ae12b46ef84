//! Submission: acceptance, every rejection, and that a rejection stores nothing.

use axum::http::StatusCode;
use counterweight_crypto::SigningKey;
use counterweight_rpc_api::{
    AccountResponse, MAX_SUBMIT_BATCH, ReceiptStatusView, StatusResponse, SubmitTxRequest,
    SubmitTxResponse, SubmitTxsRequest, SubmitTxsResponse, TxStatusResponse, paths,
};
use counterweight_types::{MAX_TX_BYTES, SignedTransaction};

use crate::http::{error_body, get_json, post_json};
use crate::node::{AppNode, CHAIN, FUNDS, app_router, transfer, transfer_on};

fn body(tx: &SignedTransaction) -> String {
    serde_json::to_string(&SubmitTxRequest::hex(&tx.to_bytes())).unwrap()
}

/// Submit, expect a refusal with `status`, `reason` and `code`, and check nothing was stored.
async fn assert_refused(
    node: &AppNode,
    router: &axum::Router,
    request: String,
    status: StatusCode,
    reason: &str,
    code: Option<u32>,
) {
    let before: StatusResponse = get_json(router, paths::STATUS).await;
    let (got, reply) = post_json(router, paths::SUBMIT_TX, request).await;
    let error = error_body(&reply);
    assert_eq!(got, status, "{error:?}");
    assert_eq!(error.reason, reason, "{error:?}");
    assert_eq!(error.code, code, "{error:?}");
    assert!(!error.message.is_empty());
    assert_eq!(
        node.pending_len(),
        0,
        "a refused transaction must not be stored"
    );
    let after: StatusResponse = get_json(router, paths::STATUS).await;
    assert_eq!(before, after);
}

#[tokio::test]
async fn accepts_a_transfer_and_reports_it_pending_then_finalized() {
    let alice = SigningKey::from_seed(1);
    let bob = SigningKey::from_seed(2);
    let node = AppNode::open(&[&alice]);
    let router = app_router(&node);
    let tx = transfer(&alice, bob.address(), 250, 0, 3);

    let (status, reply) = post_json(&router, paths::SUBMIT_TX, body(&tx)).await;
    assert_eq!(
        status,
        StatusCode::ACCEPTED,
        "{}",
        String::from_utf8_lossy(&reply)
    );
    let reply: SubmitTxResponse = serde_json::from_slice(&reply).unwrap();
    assert_eq!(reply.tx_hash, tx.hash().to_hex());
    let path = paths::fill(paths::TX, "hash", &reply.tx_hash);
    assert_eq!(
        get_json::<TxStatusResponse>(&router, &path).await,
        TxStatusResponse::Pending
    );

    let height = node.finalize_pending();
    let TxStatusResponse::Finalized {
        height: at,
        receipt,
    } = get_json(&router, &path).await
    else {
        panic!("expected finalized");
    };
    assert_eq!(at, height.0);
    assert_eq!(receipt.status, ReceiptStatusView::Ok);
    assert!(
        receipt.events.iter().any(|e| e.kind == "transfer"),
        "{receipt:?}"
    );

    let bob_account: AccountResponse = get_json(
        &router,
        &paths::fill(paths::ACCOUNT, "address", &bob.address().to_hex()),
    )
    .await;
    assert_eq!(bob_account.balance, 250);
    let alice_account: AccountResponse = get_json(
        &router,
        &paths::fill(paths::ACCOUNT, "address", &format!("0x{}", alice.address())),
    )
    .await;
    assert_eq!(alice_account.balance, FUNDS - 250 - 3);
    assert_eq!(alice_account.nonce, 1);
}

#[tokio::test]
async fn accepts_base64_and_refuses_a_duplicate() {
    let alice = SigningKey::from_seed(1);
    let node = AppNode::open(&[&alice]);
    let router = app_router(&node);
    let tx = transfer(&alice, SigningKey::from_seed(9).address(), 1, 0, 1);
    let request = serde_json::to_string(&SubmitTxRequest::base64(&tx.to_bytes())).unwrap();
    let (status, _) = post_json(&router, paths::SUBMIT_TX, request.clone()).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (status, reply) = post_json(&router, paths::SUBMIT_TX, request).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error_body(&reply).reason, "already_pending");
    assert_eq!(node.pending_len(), 1);
}

#[tokio::test]
async fn rejects_malformed_requests_and_bytes() {
    let alice = SigningKey::from_seed(1);
    let node = AppNode::open(&[&alice]);
    let router = app_router(&node);
    // Not JSON, and JSON of the wrong shape.
    for request in ["{", r#"{"tx": 5}"#, r#"{"tx":"00","extra":true}"#] {
        assert_refused(
            &node,
            &router,
            request.into(),
            StatusCode::BAD_REQUEST,
            "bad_request",
            None,
        )
        .await;
    }
    // Not hex.
    let request = r#"{"tx":"xyz"}"#.to_owned();
    assert_refused(
        &node,
        &router,
        request,
        StatusCode::BAD_REQUEST,
        "bad_request",
        None,
    )
    .await;
    // Hex, but not a transaction.
    let request = serde_json::to_string(&SubmitTxRequest::hex(&[1, 2, 3])).unwrap();
    assert_refused(
        &node,
        &router,
        request,
        StatusCode::BAD_REQUEST,
        "malformed",
        Some(1),
    )
    .await;
    // A valid transaction followed by a trailing byte.
    let mut bytes = transfer(&alice, alice.address(), 1, 0, 1)
        .to_bytes()
        .to_vec();
    bytes.push(0);
    let request = serde_json::to_string(&SubmitTxRequest::hex(&bytes)).unwrap();
    assert_refused(
        &node,
        &router,
        request,
        StatusCode::BAD_REQUEST,
        "malformed",
        Some(1),
    )
    .await;
}

#[tokio::test]
async fn rejects_oversized_transactions_and_bodies() {
    let alice = SigningKey::from_seed(1);
    let node = AppNode::open(&[&alice]);
    let router = app_router(&node);
    let request =
        serde_json::to_string(&SubmitTxRequest::base64(&vec![7u8; MAX_TX_BYTES + 1])).unwrap();
    assert_refused(
        &node,
        &router,
        request,
        StatusCode::PAYLOAD_TOO_LARGE,
        "oversized",
        Some(2),
    )
    .await;
    let request = format!(r#"{{"tx":"{}"}}"#, "00".repeat(600 * 1024));
    assert_refused(
        &node,
        &router,
        request,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        None,
    )
    .await;
}

#[tokio::test]
async fn rejects_protocol_violations_with_stable_codes() {
    let alice = SigningKey::from_seed(1);
    let pauper = SigningKey::from_seed(5);
    let node = AppNode::open(&[&alice]);
    let router = app_router(&node);
    let to = SigningKey::from_seed(2).address();

    let wrong_chain = transfer_on("other-chain", &alice, to, 1, 0, 1);
    assert_refused(
        &node,
        &router,
        body(&wrong_chain),
        StatusCode::UNPROCESSABLE_ENTITY,
        "wrong_chain_id",
        Some(3),
    )
    .await;

    let mut forged = transfer(&alice, to, 1, 0, 1);
    forged.signature.0[0] ^= 1;
    assert_refused(
        &node,
        &router,
        body(&forged),
        StatusCode::UNPROCESSABLE_ENTITY,
        "bad_signature",
        Some(4),
    )
    .await;

    let broke = transfer(&pauper, to, 1, 0, 1);
    assert_refused(
        &node,
        &router,
        body(&broke),
        StatusCode::UNPROCESSABLE_ENTITY,
        "insufficient_balance",
        Some(7),
    )
    .await;

    let cheap = transfer(&alice, to, 1, 0, 0);
    assert_refused(
        &node,
        &router,
        body(&cheap),
        StatusCode::UNPROCESSABLE_ENTITY,
        "fee_too_low",
        Some(8),
    )
    .await;

    // Replay: the same transaction after it was finalized.
    let tx = transfer(&alice, to, 10, 0, 1);
    let (status, _) = post_json(&router, paths::SUBMIT_TX, body(&tx)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    node.finalize_pending();
    assert_refused(
        &node,
        &router,
        body(&tx),
        StatusCode::UNPROCESSABLE_ENTITY,
        "stale_nonce",
        Some(5),
    )
    .await;
    let account: AccountResponse = get_json(
        &router,
        &paths::fill(paths::ACCOUNT, "address", &to.to_hex()),
    )
    .await;
    assert_eq!(account.balance, 10, "the replay must not move funds twice");
    assert_eq!(CHAIN, "rpc-test");
}

#[tokio::test]
async fn reports_a_dropped_transaction_as_rejected() {
    let alice = SigningKey::from_seed(1);
    let node = AppNode::open(&[&alice]);
    let router = app_router(&node);
    let to = SigningKey::from_seed(2).address();
    // Two transactions with the same nonce: one is included, the other goes stale.
    let first = transfer(&alice, to, 1, 0, 1);
    let second = transfer(&alice, to, 2, 0, 1);
    for tx in [&first, &second] {
        let (status, _) = post_json(&router, paths::SUBMIT_TX, body(tx)).await;
        assert_eq!(status, StatusCode::ACCEPTED);
    }
    node.finalize_pending();
    let statuses = [
        get_json::<TxStatusResponse>(
            &router,
            &paths::fill(paths::TX, "hash", &first.hash().to_hex()),
        )
        .await,
        get_json::<TxStatusResponse>(
            &router,
            &paths::fill(paths::TX, "hash", &second.hash().to_hex()),
        )
        .await,
    ];
    let finalized = statuses
        .iter()
        .filter(|s| matches!(s, TxStatusResponse::Finalized { .. }))
        .count();
    let rejected: Vec<_> = statuses
        .iter()
        .filter_map(|s| match s {
            TxStatusResponse::Rejected { code, reason, .. } => Some((*code, reason.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(finalized, 1, "{statuses:?}");
    assert_eq!(rejected, vec![(5, "stale_nonce".to_owned())]);
}

#[tokio::test]
async fn batch_submission_admits_each_transaction_on_its_own_in_order() {
    let alice = SigningKey::from_seed(1);
    let bob = SigningKey::from_seed(2);
    let node = AppNode::open(&[&alice]);
    let router = app_router(&node);
    let first = transfer(&alice, bob.address(), 10, 0, 3);
    let second = transfer(&alice, bob.address(), 10, 1, 3);
    let mut forged = transfer(&alice, bob.address(), 10, 2, 3);
    forged.signature.0[0] ^= 1;
    let mut request = SubmitTxsRequest::hex(&[
        first.to_bytes(),
        second.to_bytes(),
        forged.to_bytes(),
        first.to_bytes(),
    ]);
    request.txs.push("zz".into());
    let (status, reply) = post_json(
        &router,
        paths::SUBMIT_TXS,
        serde_json::to_string(&request).unwrap(),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&reply)
    );
    let reply: SubmitTxsResponse = serde_json::from_slice(&reply).unwrap();
    let outcomes: Vec<(Option<String>, Option<String>)> = reply
        .results
        .into_iter()
        .map(|r| (r.tx_hash, r.error.map(|e| e.reason)))
        .collect();
    assert_eq!(
        outcomes,
        vec![
            (Some(first.hash().to_hex()), None),
            (Some(second.hash().to_hex()), None),
            (None, Some("bad_signature".into())),
            (None, Some("already_pending".into())),
            (None, Some("bad_request".into())),
        ]
    );
    assert_eq!(
        node.pending_len(),
        2,
        "only the two valid transfers are stored"
    );
    node.finalize_pending();
    let path = paths::fill(paths::ACCOUNT, "address", &alice.address().to_hex());
    assert_eq!(get_json::<AccountResponse>(&router, &path).await.nonce, 2);
}

#[tokio::test]
async fn batch_submission_refuses_too_many_transactions_and_stores_nothing() {
    let alice = SigningKey::from_seed(1);
    let node = AppNode::open(&[&alice]);
    let router = app_router(&node);
    let request = SubmitTxsRequest {
        txs: vec!["00".into(); MAX_SUBMIT_BATCH + 1],
        encoding: Default::default(),
    };
    let (status, reply) = post_json(
        &router,
        paths::SUBMIT_TXS,
        serde_json::to_string(&request).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_body(&reply).reason, "bad_request");
    assert_eq!(node.pending_len(), 0);
}
