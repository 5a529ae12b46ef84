//! The blob endpoints over a node that keeps a blob store (and one that does not).

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use counterweight_blobs::{BlobStore, blob_hash};
use counterweight_rpc::{
    Account, ChainEvent, NodeApi, NodeStatus, RpcConfig, RpcState, StateProof, SubmitError,
    TxStatus, router,
};
use counterweight_rpc_api::{PutBlobResponse, paths};
use counterweight_state::ModuleError;
use counterweight_types::{Address, Block, Hash, ModuleId, SignedTransaction};
use tokio::sync::broadcast;

use crate::http::{error_body, get, send};

/// A node that only keeps blobs: the chain endpoints are not exercised here.
struct BlobNode {
    blobs: Option<BlobStore>,
    events: broadcast::Sender<ChainEvent>,
}

impl NodeApi for BlobNode {
    type Error = std::io::Error;

    async fn submit(&self, _: SignedTransaction) -> Result<Hash, SubmitError<Self::Error>> {
        Err(SubmitError::MempoolFull)
    }

    fn tx_status(&self, _: &Hash) -> Result<TxStatus, Self::Error> {
        Ok(TxStatus::Unknown)
    }

    fn account(&self, _: &Address) -> Result<Account, Self::Error> {
        Ok(Account::default())
    }

    fn block(&self, _: Option<counterweight_types::Height>) -> Result<Option<Block>, Self::Error> {
        Ok(None)
    }

    fn state_proof(&self, _: &[u8]) -> Result<StateProof, Self::Error> {
        Err(std::io::Error::other("no state"))
    }

    fn query(
        &self,
        _: ModuleId,
        _: &str,
        _: &[u8],
    ) -> Result<Result<Vec<u8>, ModuleError>, Self::Error> {
        Ok(Err(ModuleError::new(0, "no modules")))
    }

    fn status(&self) -> Result<NodeStatus, Self::Error> {
        Err(std::io::Error::other("no chain"))
    }

    fn subscribe(&self) -> broadcast::Receiver<ChainEvent> {
        self.events.subscribe()
    }

    fn blobs(&self) -> Option<&BlobStore> {
        self.blobs.as_ref()
    }
}

fn blob_router(blobs: Option<BlobStore>) -> Router {
    let (events, _) = broadcast::channel(1);
    router(RpcState::new(
        Arc::new(BlobNode { blobs, events }),
        RpcConfig::default(),
    ))
}

async fn put(router: &Router, body: Vec<u8>) -> (StatusCode, Vec<u8>) {
    send(
        router,
        Request::put(paths::BLOBS)
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

fn blob_path(hash: &str) -> String {
    paths::fill(paths::BLOB, "hash", hash)
}

#[tokio::test]
async fn put_then_get_round_trips() {
    let router = blob_router(Some(BlobStore::in_memory(1 << 20)));
    let data = b"model weights".to_vec();
    let (status, body) = put(&router, data.clone()).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&body)
    );
    let reply: PutBlobResponse = serde_json::from_slice(&body).unwrap();
    assert_eq!(reply.hash, blob_hash(&data).to_hex());
    assert_eq!(reply.size, data.len() as u64);

    let response = tower::ServiceExt::oneshot(
        router.clone(),
        Request::get(blob_path(&reply.hash))
            .body(Body::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "application/octet-stream"
    );
    assert_eq!(response.headers()["x-blake3"], reply.hash.as_str());
    let (_, body) = get(&router, &blob_path(&reply.hash)).await;
    assert_eq!(body, data);
}

#[tokio::test]
async fn blobs_above_the_store_limit_are_refused() {
    let router = blob_router(Some(BlobStore::in_memory(8)));
    let (status, body) = put(&router, vec![0; 9]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_body(&body).reason, "payload_too_large");
}

#[tokio::test]
async fn blobs_may_exceed_the_transaction_body_limit() {
    let size = RpcConfig::default().max_body_bytes + 1;
    let router = blob_router(Some(BlobStore::in_memory(size as u64 * 2)));
    let (status, body) = put(&router, vec![3; size]).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&body)
    );
}

#[tokio::test]
async fn missing_and_malformed_hashes() {
    let router = blob_router(Some(BlobStore::in_memory(1 << 20)));
    let (status, body) = get(&router, &blob_path(&Hash([7; 32]).to_hex())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_body(&body).reason, "not_found");
    let (status, body) = get(&router, &blob_path("xyz")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_body(&body).reason, "bad_request");
}

#[tokio::test]
async fn a_corrupt_blob_is_never_served() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::local(dir.path(), 1 << 20).unwrap();
    let router = blob_router(Some(store));
    let (_, body) = put(&router, b"honest".to_vec()).await;
    let reply: PutBlobResponse = serde_json::from_slice(&body).unwrap();
    let file = dir
        .path()
        .join("blobs")
        .join(&reply.hash[..2])
        .join(&reply.hash);
    std::fs::write(file, b"forged").unwrap();
    let (status, body) = get(&router, &blob_path(&reply.hash)).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(error_body(&body).reason, "internal");
}

#[tokio::test]
async fn a_node_without_a_store_says_so() {
    let router = blob_router(None);
    let (status, body) = put(&router, b"x".to_vec()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(error_body(&body).reason, "blobs_disabled");
    let (status, _) = get(&router, &blob_path(&Hash([1; 32]).to_hex())).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
}
