//! Blob endpoints: every node serves its content-addressed blob store.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use counterweight_blobs::BlobStore;
use counterweight_rpc_api::{ErrorResponse, PutBlobResponse, hexutil, paths};
use counterweight_types::Hash;

use crate::error::{Error, Result};
use crate::node::NodeApi;
use crate::routes::RpcState;

/// The response header carrying a served blob's BLAKE3 hash (hex).
pub const BLOB_HASH_HEADER: &str = "x-blake3";

/// A blob's raw bytes (only described in the OpenAPI document, never constructed).
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub(crate) struct Bytes(Vec<u8>);

fn store<N: NodeApi>(state: &RpcState<N>) -> Result<&BlobStore> {
    state.node().blobs().ok_or(Error::BlobsDisabled)
}

/// The one place blob-store errors become API errors.
fn blob_error(err: counterweight_blobs::Error) -> Error {
    use counterweight_blobs::Error as E;
    match err {
        E::TooLarge { max, .. } => Error::PayloadTooLarge {
            max: usize::try_from(max).unwrap_or(usize::MAX),
        },
        E::NotFound { .. } => Error::NotFound { what: "blob" },
        E::Body(_) => Error::BadRequest {
            what: "request body",
            detail: "the body could not be read to its end".to_owned(),
        },
        E::HashMismatch { expected, actual } => Error::BadRequest {
            what: "blob",
            detail: format!("its bytes hash to {actual}, expected {expected}"),
        },
        // Corrupt blobs, storage faults: logged, never detailed to the client.
        other => Error::internal(&other),
    }
}

/// Store the request body as a blob; answers its BLAKE3 hash. Storing the same bytes again
/// is harmless.
#[utoipa::path(
    put,
    path = paths::BLOBS,
    tag = "blobs",
    request_body(content = Bytes, content_type = "application/octet-stream", description = "The blob's bytes"),
    responses(
        (status = 201, description = "Stored", body = PutBlobResponse),
        (status = 400, description = "The body could not be read (`bad_request`)", body = ErrorResponse),
        (status = 413, description = "Above the node's blob size limit (`payload_too_large`)", body = ErrorResponse),
        (status = 503, description = "This node keeps no blob store (`blobs_disabled`)", body = ErrorResponse),
    )
)]
pub(crate) async fn put_blob<N: NodeApi>(
    State(state): State<RpcState<N>>,
    body: Body,
) -> Result<(StatusCode, Json<PutBlobResponse>)> {
    let store = store(&state)?;
    let hash = store
        .put_stream(body.into_data_stream())
        .await
        .map_err(blob_error)?;
    let size = store
        .size(&hash)
        .await
        .map_err(blob_error)?
        .ok_or(Error::Internal)?;
    tracing::debug!(target: "rpc::blobs", %hash, size, "blob stored");
    Ok((
        StatusCode::CREATED,
        Json(PutBlobResponse {
            hash: hash.to_hex(),
            size,
        }),
    ))
}

/// A blob's bytes, verified against their BLAKE3 hash before they are sent (a corrupt blob
/// is never served).
#[utoipa::path(
    get,
    path = paths::BLOB,
    tag = "blobs",
    params(("hash" = String, Path, description = "The blob's BLAKE3 hash: 32 bytes as hex, optional `0x`", pattern = "^(0[xX])?[0-9a-fA-F]{64}$", min_length = 64, max_length = 66)),
    responses(
        (status = 200, description = "The blob", content_type = "application/octet-stream", body = Bytes),
        (status = 400, description = "Malformed hash", body = ErrorResponse),
        (status = 404, description = "No such blob (`not_found`)", body = ErrorResponse),
        (status = 503, description = "This node keeps no blob store (`blobs_disabled`)", body = ErrorResponse),
    )
)]
pub(crate) async fn get_blob<N: NodeApi>(
    State(state): State<RpcState<N>>,
    Path(hash): Path<String>,
) -> Result<Response> {
    let hash = hexutil::decode_array::<32>(&hash)
        .map(Hash)
        .map_err(|err| Error::BadRequest {
            what: "blob hash",
            detail: format!("expected 32 bytes of hex: {err}"),
        })?;
    let bytes = store(&state)?.get(&hash).await.map_err(blob_error)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (
                header::HeaderName::from_static(BLOB_HASH_HEADER),
                hash.to_hex(),
            ),
        ],
        bytes,
    )
        .into_response())
}
