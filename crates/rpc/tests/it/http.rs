//! One-shot requests against the router.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use counterweight_rpc_api::ErrorResponse;
use http_body_util::BodyExt as _;
use serde::de::DeserializeOwned;
use tower::ServiceExt as _;

pub(crate) async fn send(router: &Router, request: Request<Body>) -> (StatusCode, Vec<u8>) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, body.to_vec())
}

pub(crate) async fn get(router: &Router, path: &str) -> (StatusCode, Vec<u8>) {
    send(router, Request::get(path).body(Body::empty()).unwrap()).await
}

pub(crate) async fn get_json<T: DeserializeOwned>(router: &Router, path: &str) -> T {
    let (status, body) = get(router, path).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body).unwrap()
}

pub(crate) async fn post_json(router: &Router, path: &str, body: String) -> (StatusCode, Vec<u8>) {
    send(
        router,
        Request::post(path)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

pub(crate) fn error_body(body: &[u8]) -> ErrorResponse {
    serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("not an error body ({e}): {}", String::from_utf8_lossy(body)))
}
