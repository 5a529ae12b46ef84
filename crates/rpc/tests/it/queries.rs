//! Blocks, accounts, state proofs, status, metrics, and malformed query parameters.

use axum::http::StatusCode;
use counterweight_crypto::SigningKey;
use counterweight_rpc_api::{
    AccountResponse, BlockResponse, StateProofResponse, StatusResponse, hexutil, paths,
};
use counterweight_types::Hash;

use crate::http::{error_body, get, get_json, post_json};
use crate::node::{AppNode, CHAIN, FUNDS, app_router, transfer};

#[tokio::test]
async fn serves_blocks_by_height_and_latest() {
    let alice = SigningKey::from_seed(1);
    let node = AppNode::open(&[&alice]);
    let router = app_router(&node);
    let genesis: BlockResponse = get_json(&router, "/v1/blocks/0").await;
    assert_eq!(genesis.header.height, 0);
    assert_eq!(genesis.header.chain_id, CHAIN);

    let tx = transfer(&alice, SigningKey::from_seed(2).address(), 5, 0, 1);
    let request =
        serde_json::to_string(&counterweight_rpc_api::SubmitTxRequest::hex(&tx.to_bytes()))
            .unwrap();
    assert_eq!(
        post_json(&router, paths::SUBMIT_TX, request).await.0,
        StatusCode::ACCEPTED
    );
    node.finalize_pending();

    let latest: BlockResponse = get_json(&router, paths::LATEST_BLOCK).await;
    let first: BlockResponse = get_json(&router, "/v1/blocks/1").await;
    assert_eq!(latest, first);
    assert_eq!(first.header.parent, genesis.hash);
    assert_eq!(first.txs.len(), 1);
    assert_eq!(first.txs[0].hash, tx.hash().to_hex());
    assert_eq!(first.txs[0].sender, alice.address().to_hex());

    let status: StatusResponse = get_json(&router, paths::STATUS).await;
    assert_eq!(status.height, 1);
    assert_eq!(status.block_hash, first.hash);
    assert_eq!(status.state_root, first.header.state_root);
    assert_eq!(status.chain_id, CHAIN);

    let (code, body) = get(&router, "/v1/blocks/2").await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert_eq!(error_body(&body).reason, "not_found");
}

#[tokio::test]
async fn refuses_malformed_parameters() {
    let node = AppNode::open(&[]);
    let router = app_router(&node);
    for path in [
        "/v1/blocks/-1",
        "/v1/blocks/abc",
        "/v1/blocks/99999999999999999999999",
        "/v1/txs/1234",
        "/v1/txs/zz",
        "/v1/accounts/00",
        "/v1/accounts/not-an-address",
        "/v1/state/xyz",
    ] {
        let (code, body) = get(&router, path).await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(error_body(&body).reason, "bad_request", "{path}");
    }
    let (code, body) = get(&router, "/v1/nope").await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert_eq!(error_body(&body).reason, "not_found");
    // An unknown but well-formed hash and a fresh account are answers, not errors.
    let unknown = get_json::<counterweight_rpc_api::TxStatusResponse>(
        &router,
        &paths::fill(paths::TX, "hash", &Hash([9; 32]).to_hex()),
    )
    .await;
    assert_eq!(unknown, counterweight_rpc_api::TxStatusResponse::Unknown);
    let fresh: AccountResponse = get_json(
        &router,
        &paths::fill(
            paths::ACCOUNT,
            "address",
            &SigningKey::from_seed(77).address().to_hex(),
        ),
    )
    .await;
    assert_eq!((fresh.balance, fresh.nonce), (0, 0));
}

fn verify(reply: &StateProofResponse) -> Result<(), counterweight_storage::ProofError> {
    let root: Hash = reply.root.parse().unwrap();
    let key = hexutil::decode(&reply.key).unwrap();
    let value = reply.value.as_deref().map(|v| hexutil::decode(v).unwrap());
    let proof = hexutil::decode(&reply.proof).unwrap();
    counterweight_storage::verify_state_proof(&root, &key, value.as_deref(), &proof)
}

#[tokio::test]
async fn state_proofs_verify_offline_against_the_header_root() {
    let alice = SigningKey::from_seed(1);
    let node = AppNode::open(&[&alice]);
    let router = app_router(&node);
    let key = counterweight_bank::balance_state_key(&alice.address());
    let reply: StateProofResponse = get_json(
        &router,
        &paths::fill(paths::STATE, "key", &hex::encode(&key)),
    )
    .await;
    assert_eq!(reply.value, Some(hex::encode(FUNDS.to_be_bytes())));
    verify(&reply).unwrap();
    let header: BlockResponse = get_json(&router, &format!("/v1/blocks/{}", reply.height)).await;
    assert_eq!(header.header.state_root, reply.root);

    // A different value, or a different root, does not verify.
    let mut lie = reply.clone();
    lie.value = Some(hex::encode((FUNDS + 1).to_be_bytes()));
    assert!(verify(&lie).is_err());
    let mut lie = reply.clone();
    lie.value = None;
    assert!(verify(&lie).is_err());
    let mut lie = reply.clone();
    lie.root = Hash([1; 32]).to_hex();
    assert!(verify(&lie).is_err());
    let mut lie = reply.clone();
    lie.proof = "00".into();
    assert!(verify(&lie).is_err());

    // Absence is proven too.
    let absent_key = counterweight_bank::balance_state_key(&SigningKey::from_seed(3).address());
    let absent: StateProofResponse = get_json(
        &router,
        &paths::fill(paths::STATE, "key", &hex::encode(&absent_key)),
    )
    .await;
    assert_eq!(absent.value, None);
    verify(&absent).unwrap();
}

#[tokio::test]
async fn serves_node_and_server_metrics() {
    let node = AppNode::open(&[]);
    let router = app_router(&node);
    let _ = get(&router, paths::STATUS).await;
    let (code, body) = get(&router, paths::METRICS).await;
    assert_eq!(code, StatusCode::OK);
    let text = String::from_utf8(body).unwrap();
    assert!(text.contains("node_up 1"), "{text}");
    assert!(
        text.contains(r#"rpc_http_requests_total{method="GET",route="/v1/status",status="200"} 1"#),
        "{text}"
    );
    assert_eq!(text.matches("# EOF").count(), 1);
}

#[tokio::test]
async fn answers_module_queries_in_json_and_refuses_bad_ones() {
    let alice = SigningKey::from_seed(1);
    let node = AppNode::open(&[&alice]);
    let router = app_router(&node);
    let path = format!(
        "/v1/query/1/balance?data={}",
        hexutil::encode(alice.address().0)
    );
    let answer: counterweight_rpc_api::QueryResponse = get_json(&router, &path).await;
    assert_eq!(answer.module, 1);
    assert_eq!(answer.path, "balance");
    let value = answer.value.expect("bank answers in JSON");
    assert_eq!(value["balance"], serde_json::json!(FUNDS));
    assert_eq!(
        value["address"],
        serde_json::json!(alice.address().to_hex())
    );

    // An unknown path is the module's refusal, with its code.
    let (code, body) = get(&router, "/v1/query/1/no/such/path").await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    let body = error_body(&body);
    assert_eq!(body.reason, "query_refused");
    assert_eq!(body.code, Some(counterweight_bank::codes::BAD_QUERY));
    // A bad argument, an unknown module, malformed hex and a non-numeric module id.
    for (path, status) in [
        (
            "/v1/query/1/balance?data=00",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("/v1/query/999/anything", StatusCode::UNPROCESSABLE_ENTITY),
        ("/v1/query/1/balance?data=zz", StatusCode::BAD_REQUEST),
        ("/v1/query/bank/balance", StatusCode::BAD_REQUEST),
    ] {
        assert_eq!(get(&router, path).await.0, status, "{path}");
    }
}
