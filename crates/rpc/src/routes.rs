//! The router and its handlers.

use std::convert::Infallible;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, FromRequest, MatchedPath, Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use counterweight_rpc_api::{
    AccountResponse, BlockResponse, ErrorResponse, MAX_SUBMIT_BATCH, QueryParams, QueryResponse,
    StateProofResponse, StatusResponse, StreamEventData, SubmitTxRequest, SubmitTxResponse,
    SubmitTxResult, SubmitTxsRequest, SubmitTxsResponse, TxStatusResponse, hexutil, paths,
};
use counterweight_types::{Address, Hash, Height, MAX_TX_BYTES, ModuleId, SignedTransaction};
use futures_util::{Stream, StreamExt as _};
use serde::de::DeserializeOwned;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

use crate::config::RpcConfig;
use crate::convert;
use crate::error::{Error, Result};
use crate::metrics::{MetricsSource, RpcMetrics};
use crate::node::{ChainEvent, NodeApi, SubmitError};

/// Largest state key accepted in a query, in bytes.
pub(crate) const MAX_STATE_KEY_BYTES: usize = 1024;

/// What the handlers share: the node, the server's metrics and settings.
pub struct RpcState<N> {
    node: Arc<N>,
    metrics: Arc<RpcMetrics>,
    node_metrics: Option<MetricsSource>,
    config: Arc<RpcConfig>,
}

impl<N> Clone for RpcState<N> {
    fn clone(&self) -> Self {
        Self {
            node: Arc::clone(&self.node),
            metrics: Arc::clone(&self.metrics),
            node_metrics: self.node_metrics.clone(),
            config: Arc::clone(&self.config),
        }
    }
}

impl<N> std::fmt::Debug for RpcState<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RpcState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<N: NodeApi> RpcState<N> {
    /// State over `node` with `config`; `/metrics` shows only the server's own metrics until
    /// [`RpcState::with_node_metrics`] adds the node's.
    pub fn new(node: Arc<N>, config: RpcConfig) -> Self {
        Self {
            node,
            metrics: Arc::new(RpcMetrics::new()),
            node_metrics: None,
            config: Arc::new(config),
        }
    }

    /// Serve the node's metrics registry on `/metrics`: `encode` renders it in the Prometheus
    /// text format (e.g. the runtime context's `encode()`); the server appends its own.
    #[must_use]
    pub fn with_node_metrics(
        mut self,
        encode: impl Fn() -> String + Send + Sync + 'static,
    ) -> Self {
        self.node_metrics = Some(Arc::new(encode));
        self
    }

    /// The node this state serves.
    pub(crate) fn node(&self) -> &N {
        &self.node
    }

    /// The settings this state was built with.
    pub fn config(&self) -> &RpcConfig {
        &self.config
    }
}

/// Build the HTTP router over `state`: every endpoint in [`counterweight_rpc_api::paths`].
pub fn router<N: NodeApi>(state: RpcState<N>) -> Router {
    let max_body = state.config.max_body_bytes;
    Router::new()
        .route(paths::SUBMIT_TX, post(submit_tx::<N>))
        .route(paths::SUBMIT_TXS, post(submit_txs::<N>))
        .route(paths::TX, get(tx_status::<N>))
        .route(paths::ACCOUNT, get(account::<N>))
        .route(paths::LATEST_BLOCK, get(latest_block::<N>))
        .route(paths::BLOCK, get(block::<N>))
        .route(paths::STATE, get(state_value::<N>))
        .route(paths::QUERY, get(query::<N>))
        // Blobs stream past the body limit; the blob store enforces its own.
        .route(
            paths::BLOBS,
            put(crate::blobs::put_blob::<N>).layer(DefaultBodyLimit::disable()),
        )
        .route(paths::BLOB, get(crate::blobs::get_blob::<N>))
        .route(paths::STATUS, get(status::<N>))
        .route(paths::EVENTS, get(events::<N>))
        .route(paths::OPENAPI, get(openapi_json))
        .route(paths::METRICS, get(metrics::<N>))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), track::<N>))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(state)
}

/// Records every request in the server's metrics.
async fn track<N: NodeApi>(
    State(state): State<RpcState<N>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let response = next.run(request).await;
    state.metrics.observe(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// A JSON body whose rejections become this crate's errors.
struct ApiJson<T>(T);

impl<N: NodeApi, T: DeserializeOwned> FromRequest<RpcState<N>> for ApiJson<T> {
    type Rejection = Error;

    async fn from_request(request: Request, state: &RpcState<N>) -> Result<Self> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(Error::PayloadTooLarge {
                    max: state.config.max_body_bytes,
                })
            }
            Err(rejection) => Err(Error::BadRequest {
                what: "request body",
                detail: rejection.body_text(),
            }),
        }
    }
}

fn node_fault<E: std::error::Error + 'static>(err: E) -> Error {
    Error::internal(&err)
}

fn parse_hash(text: &str) -> Result<Hash> {
    hexutil::decode_array::<32>(text)
        .map(Hash)
        .map_err(|err| Error::BadRequest {
            what: "transaction hash",
            detail: format!("expected 32 bytes of hex: {err}"),
        })
}

fn parse_address(text: &str) -> Result<Address> {
    hexutil::decode_array::<32>(text)
        .map(Address)
        .map_err(|err| Error::BadRequest {
            what: "address",
            detail: format!("expected 32 bytes of hex: {err}"),
        })
}

/// Decode the submitted text into a transaction, enforcing the protocol's size limit.
fn decode_tx(request: &SubmitTxRequest) -> Result<SignedTransaction> {
    let bytes = request.decode_bytes().map_err(|detail| Error::BadRequest {
        what: "transaction encoding",
        detail,
    })?;
    if bytes.len() > MAX_TX_BYTES {
        return Err(Error::OversizedTx {
            size: bytes.len(),
            max: MAX_TX_BYTES,
        });
    }
    SignedTransaction::from_bytes(&bytes).map_err(|source| match source {
        counterweight_types::Error::TooLarge { size, max, .. } => Error::OversizedTx { size, max },
        source => Error::MalformedTx { source },
    })
}

/// Submit a signed transaction.
#[utoipa::path(
    post,
    path = paths::SUBMIT_TX,
    tag = "transactions",
    request_body(content = SubmitTxRequest, description = "A signed transaction; the whole body is capped by the server's `max_body_bytes` (512 KiB by default), the decoded transaction by `MAX_TX_BYTES` (131072 bytes)"),
    responses(
        (status = 202, description = "Accepted into the mempool", body = SubmitTxResponse),
        (status = 400, description = "Malformed request or transaction (`bad_request`, `malformed`)", body = ErrorResponse),
        (status = 409, description = "Already pending (`already_pending`)", body = ErrorResponse),
        (status = 413, description = "Oversized (`oversized`, `payload_too_large`)", body = ErrorResponse),
        (status = 422, description = "Rejected by a protocol rule: wrong chain id, bad signature, bad nonce, insufficient balance, fee too low, ...", body = ErrorResponse),
        (status = 503, description = "Mempool full (`mempool_full`)", body = ErrorResponse),
    )
)]
async fn submit_tx<N: NodeApi>(
    State(state): State<RpcState<N>>,
    ApiJson(request): ApiJson<SubmitTxRequest>,
) -> Result<(StatusCode, Json<SubmitTxResponse>)> {
    let outcome = match decode_tx(&request) {
        Ok(tx) => state.node.submit(tx).await.map_err(submit_error),
        Err(err) => Err(err),
    };
    record_submission(&state, &outcome);
    outcome.map(|hash| {
        (
            StatusCode::ACCEPTED,
            Json(SubmitTxResponse {
                tx_hash: hash.to_hex(),
            }),
        )
    })
}

fn submit_error<E: std::error::Error + 'static>(err: SubmitError<E>) -> Error {
    match err {
        SubmitError::Rejected(rejection) => Error::Rejected(rejection),
        SubmitError::MempoolFull => Error::MempoolFull,
        SubmitError::AlreadyPending => Error::AlreadyPending,
        SubmitError::Node(err) => node_fault(err),
    }
}

fn record_submission<N: NodeApi>(state: &RpcState<N>, outcome: &Result<Hash>) {
    match outcome {
        Ok(hash) => {
            state.metrics.txs_accepted.inc();
            tracing::debug!(target: "rpc", tx = %hash, "transaction accepted");
        }
        Err(err) => state.metrics.refused(&err.to_body().reason),
    }
}

/// Submit several signed transactions at once; each is admitted or refused on its own, in
/// order, exactly as `POST /v1/txs` would, and the reply lists every outcome.
#[utoipa::path(
    post,
    path = paths::SUBMIT_TXS,
    tag = "transactions",
    request_body(content = SubmitTxsRequest, description = "At most 1024 signed transactions; the whole body is capped by the server's `max_body_bytes` (512 KiB by default)"),
    responses(
        (status = 200, description = "One outcome per transaction, in request order: a hash if accepted into the mempool, otherwise the error body `POST /v1/txs` would answer", body = SubmitTxsResponse),
        (status = 400, description = "Malformed request or more than 1024 transactions (`bad_request`)", body = ErrorResponse),
        (status = 413, description = "Request body too large (`payload_too_large`)", body = ErrorResponse),
    )
)]
async fn submit_txs<N: NodeApi>(
    State(state): State<RpcState<N>>,
    ApiJson(request): ApiJson<SubmitTxsRequest>,
) -> Result<Json<SubmitTxsResponse>> {
    if request.txs.len() > MAX_SUBMIT_BATCH {
        return Err(Error::BadRequest {
            what: "transaction batch",
            detail: format!(
                "{} transactions; at most {MAX_SUBMIT_BATCH} per request",
                request.txs.len()
            ),
        });
    }
    // Decode everything first, then hand the decodable ones to the node as one batch.
    let SubmitTxsRequest {
        txs: entries,
        encoding,
    } = request;
    let mut txs = Vec::with_capacity(entries.len());
    let mut slots = Vec::with_capacity(entries.len());
    for tx in entries {
        match decode_tx(&SubmitTxRequest { tx, encoding }) {
            Ok(tx) => {
                txs.push(tx);
                slots.push(None);
            }
            Err(err) => slots.push(Some(err)),
        }
    }
    let mut admitted = state.node.submit_batch(txs).await.into_iter();
    let mut results = Vec::with_capacity(slots.len());
    for slot in slots {
        let outcome = match slot {
            Some(err) => Err(err),
            None => match admitted.next() {
                Some(outcome) => outcome.map_err(submit_error),
                None => Err(Error::internal(&std::io::Error::other(
                    "the node answered fewer outcomes than transactions",
                ))),
            },
        };
        record_submission(&state, &outcome);
        results.push(match outcome {
            Ok(hash) => SubmitTxResult {
                tx_hash: Some(hash.to_hex()),
                error: None,
            },
            Err(err) => SubmitTxResult {
                tx_hash: None,
                error: Some(err.to_body()),
            },
        });
    }
    Ok(Json(SubmitTxsResponse { results }))
}

/// A transaction's status: pending, finalized (with receipt), rejected, or unknown.
#[utoipa::path(
    get,
    path = paths::TX,
    tag = "transactions",
    params(("hash" = String, Path, description = "Transaction hash: 32 bytes as hex, optional `0x`", pattern = "^(0[xX])?[0-9a-fA-F]{64}$", min_length = 64, max_length = 66)),
    responses(
        (status = 200, description = "The status", body = TxStatusResponse),
        (status = 400, description = "Malformed hash", body = ErrorResponse),
    )
)]
async fn tx_status<N: NodeApi>(
    State(state): State<RpcState<N>>,
    Path(hash): Path<String>,
) -> Result<Json<TxStatusResponse>> {
    let hash = parse_hash(&hash)?;
    let status = state.node.tx_status(&hash).map_err(node_fault)?;
    Ok(Json(convert::tx_status(&status)))
}

/// An account's committed balance and next nonce.
#[utoipa::path(
    get,
    path = paths::ACCOUNT,
    tag = "state",
    params(("address" = String, Path, description = "Account address: 32 bytes as hex, optional `0x`", pattern = "^(0[xX])?[0-9a-fA-F]{64}$", min_length = 64, max_length = 66)),
    responses(
        (status = 200, description = "The account (zero balance and nonce if never seen)", body = AccountResponse),
        (status = 400, description = "Malformed address", body = ErrorResponse),
    )
)]
async fn account<N: NodeApi>(
    State(state): State<RpcState<N>>,
    Path(address): Path<String>,
) -> Result<Json<AccountResponse>> {
    let address = parse_address(&address)?;
    let account = state.node.account(&address).map_err(node_fault)?;
    Ok(Json(AccountResponse {
        address: address.to_hex(),
        balance: account.balance,
        nonce: account.nonce,
    }))
}

/// The latest finalized block.
#[utoipa::path(
    get,
    path = paths::LATEST_BLOCK,
    tag = "blocks",
    responses((status = 200, description = "The block", body = BlockResponse))
)]
async fn latest_block<N: NodeApi>(State(state): State<RpcState<N>>) -> Result<Json<BlockResponse>> {
    let block = state.node.block(None).map_err(node_fault)?;
    let block = block.ok_or(Error::NotFound { what: "block" })?;
    Ok(Json(convert::block(&block)))
}

/// A finalized block by height.
#[utoipa::path(
    get,
    path = paths::BLOCK,
    tag = "blocks",
    params(("height" = u64, Path, description = "Block height (genesis is 0)", minimum = 0, maximum = 18446744073709551615_u64)),
    responses(
        (status = 200, description = "The block", body = BlockResponse),
        (status = 400, description = "Malformed height", body = ErrorResponse),
        (status = 404, description = "No finalized block at that height yet", body = ErrorResponse),
    )
)]
async fn block<N: NodeApi>(
    State(state): State<RpcState<N>>,
    Path(height): Path<String>,
) -> Result<Json<BlockResponse>> {
    let height: u64 = height.parse().map_err(|_| Error::BadRequest {
        what: "height",
        detail: "expected a non-negative integer".to_owned(),
    })?;
    let block = state.node.block(Some(Height(height))).map_err(node_fault)?;
    let block = block.ok_or(Error::NotFound { what: "block" })?;
    Ok(Json(convert::block(&block)))
}

/// Largest module-query argument accepted, in bytes.
pub(crate) const MAX_QUERY_DATA_BYTES: usize = 16 * 1024;

/// Ask a module a read-only question against committed state (every module answers in JSON).
#[utoipa::path(
    get,
    path = "/v1/query/{module}/{path}",
    tag = "state",
    params(
        ("module" = u16, Path, description = "Module id (1 bank, 2 identity, 3 coop, 4 learn, 5 registry, 6 audit); another id is refused with 422", minimum = 0, maximum = 65535),
        ("path" = String, Path, description = "The module's query path, e.g. `balance` or `task/by_id`; may contain slashes; a path the module does not know is refused with 422", min_length = 1),
        QueryParams,
    ),
    responses(
        (status = 200, description = "The module's answer", body = QueryResponse),
        (status = 400, description = "Malformed module id or argument", body = ErrorResponse),
        (status = 422, description = "The module refused the query (unknown path, bad argument)", body = ErrorResponse),
    )
)]
async fn query<N: NodeApi>(
    State(state): State<RpcState<N>>,
    Path((module, path)): Path<(String, String)>,
    Query(params): Query<QueryParams>,
) -> Result<Json<QueryResponse>> {
    let module: u16 = module.parse().map_err(|_| Error::BadRequest {
        what: "module",
        detail: "expected a module id from 0 to 65535".to_owned(),
    })?;
    let data = match params.data.as_deref() {
        None | Some("") => Vec::new(),
        Some(text) => hexutil::decode(text).map_err(|err| Error::BadRequest {
            what: "query data",
            detail: format!("expected hex: {err}"),
        })?,
    };
    if data.len() > MAX_QUERY_DATA_BYTES {
        return Err(Error::BadRequest {
            what: "query data",
            detail: format!("expected at most {MAX_QUERY_DATA_BYTES} bytes"),
        });
    }
    let node = Arc::clone(&state.node);
    let answer = {
        let path = path.clone();
        tokio::task::spawn_blocking(move || node.query(ModuleId(module), &path, &data))
            .await
            .map_err(|_| Error::Internal)?
            .map_err(node_fault)?
    };
    let bytes = answer.map_err(|refusal| Error::QueryRefused {
        code: refusal.code,
        message: refusal.message,
    })?;
    let (value, bytes) = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(value) => (Some(value), None),
        Err(_) => (None, Some(hexutil::encode(&bytes))),
    };
    Ok(Json(QueryResponse {
        module,
        path,
        value,
        bytes,
    }))
}

/// A committed state value with an inclusion (or exclusion) proof, verifiable offline.
#[utoipa::path(
    get,
    path = paths::STATE,
    tag = "state",
    params(("key" = String, Path, description = "State key: 1 to 1024 bytes as hex, optional `0x`", pattern = "^(0[xX])?([0-9a-fA-F]{2}){1,1024}$", min_length = 2, max_length = 2050)),
    responses(
        (status = 200, description = "The value and its proof", body = StateProofResponse),
        (status = 400, description = "Malformed key", body = ErrorResponse),
    )
)]
async fn state_value<N: NodeApi>(
    State(state): State<RpcState<N>>,
    Path(key): Path<String>,
) -> Result<Json<StateProofResponse>> {
    let key = hexutil::decode(&key).map_err(|err| Error::BadRequest {
        what: "state key",
        detail: format!("expected hex: {err}"),
    })?;
    if key.is_empty() || key.len() > MAX_STATE_KEY_BYTES {
        return Err(Error::BadRequest {
            what: "state key",
            detail: format!("expected 1 to {MAX_STATE_KEY_BYTES} bytes"),
        });
    }
    let proof = state.node.state_proof(&key).map_err(node_fault)?;
    Ok(Json(convert::state_proof(&key, &proof)))
}

/// Chain id, latest finalized height and root, peers, mempool size.
#[utoipa::path(
    get,
    path = paths::STATUS,
    tag = "node",
    responses((status = 200, description = "The status", body = StatusResponse))
)]
async fn status<N: NodeApi>(State(state): State<RpcState<N>>) -> Result<Json<StatusResponse>> {
    let status = state.node.status().map_err(node_fault)?;
    Ok(Json(convert::status(&status)))
}

/// Finalized blocks with their receipts and events, as server-sent events named `block`
/// (data: a `BlockEvent`). A follower that falls behind gets a `lagged` event whose data is
/// the number of blocks it missed. Comment lines keep the connection alive.
#[utoipa::path(
    get,
    path = paths::EVENTS,
    tag = "blocks",
    responses((
        status = 200,
        description = "A never-ending stream of server-sent events: each frame's `event` field is a `StreamEventKind` and its `data` field one JSON `StreamEventData` (a `BlockEvent` for `block`, the count of missed blocks for `lagged`)",
        content_type = "text/event-stream",
        body = StreamEventData
    ))
)]
async fn events<N: NodeApi>(
    State(state): State<RpcState<N>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let receiver = state.node.subscribe();
    let gauge = StreamGauge::new(Arc::clone(&state.metrics));
    let stream = BroadcastStream::new(receiver).filter_map(move |item| {
        // The gauge lives as long as the stream does.
        let _open = &gauge;
        std::future::ready(to_sse(item))
    });
    let keep_alive =
        KeepAlive::new().interval(Duration::from_millis(state.config.keep_alive_ms.max(1)));
    Sse::new(stream).keep_alive(keep_alive)
}

fn to_sse(item: Result<ChainEvent, BroadcastStreamRecvError>) -> Option<Result<Event, Infallible>> {
    match item {
        Ok(ChainEvent::Finalized(block)) => {
            let data = convert::block_event(&block);
            match Event::default().event(paths::BLOCK_EVENT).json_data(&data) {
                Ok(event) => Some(Ok(event)),
                Err(err) => {
                    tracing::error!(target: "rpc", error = %err, "cannot encode a block event");
                    None
                }
            }
        }
        Err(BroadcastStreamRecvError::Lagged(missed)) => Some(Ok(Event::default()
            .event(paths::LAGGED_EVENT)
            .data(missed.to_string()))),
    }
}

/// Counts open event streams while alive.
struct StreamGauge(Arc<RpcMetrics>);

impl StreamGauge {
    fn new(metrics: Arc<RpcMetrics>) -> Self {
        metrics.event_streams.inc();
        Self(metrics)
    }
}

impl Drop for StreamGauge {
    fn drop(&mut self) {
        self.0.event_streams.dec();
    }
}

/// The OpenAPI document generated from the types.
async fn openapi_json() -> Response {
    static DOC: OnceLock<String> = OnceLock::new();
    let doc = DOC.get_or_init(crate::openapi::openapi_json);
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        doc.clone(),
    )
        .into_response()
}

/// Node and server metrics in the Prometheus text format.
async fn metrics<N: NodeApi>(State(state): State<RpcState<N>>) -> Response {
    let text = state.metrics.render(state.node_metrics.as_ref());
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        )],
        text,
    )
        .into_response()
}

async fn not_found() -> Error {
    Error::NotFound { what: "route" }
}
