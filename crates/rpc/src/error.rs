//! The crate's error type, and the one place where errors become HTTP status codes.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use counterweight_rpc_api::ErrorResponse;

use crate::node::Rejection;

/// Why a request failed. Every variant maps to one HTTP status and one stable `reason`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A path parameter, query or JSON body is not well formed.
    #[error("invalid {what}: {detail}")]
    BadRequest {
        /// What was invalid.
        what: &'static str,
        /// Why, in terms of the client's input only.
        detail: String,
    },
    /// The transaction bytes are not a canonical encoding.
    #[error("malformed transaction: {source}")]
    MalformedTx {
        /// The decoder's reason.
        #[source]
        source: counterweight_types::Error,
    },
    /// The transaction is larger than the protocol allows.
    #[error("transaction is {size} bytes, above the limit of {max} bytes")]
    OversizedTx {
        /// The decoded size in bytes.
        size: usize,
        /// The limit in bytes.
        max: usize,
    },
    /// The request body is above the server's limit.
    #[error("request body is above the limit of {max} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        max: usize,
    },
    /// The node refused the transaction under a protocol rule.
    #[error("{}", .0.message)]
    Rejected(Rejection),
    /// The mempool is full.
    #[error("mempool is full, retry later")]
    MempoolFull,
    /// The transaction is already pending.
    #[error("transaction is already pending")]
    AlreadyPending,
    /// A module refused a query (unknown path, bad argument).
    #[error("{message}")]
    QueryRefused {
        /// The module's stable failure code.
        code: u32,
        /// The module's explanation.
        message: String,
    },
    /// The requested object does not exist (yet).
    #[error("{what} not found")]
    NotFound {
        /// What was looked up.
        what: &'static str,
    },
    /// This node keeps no blob store.
    #[error("this node keeps no blob store")]
    BlobsDisabled,
    /// A fault inside the node; its details were logged, not returned.
    #[error("internal error")]
    Internal,
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Protocol codes for rejections decided by the server itself (before the node sees the
/// transaction). They match the ledger's transaction error codes for the same conditions.
pub(crate) mod codes {
    /// The bytes are not a canonical transaction encoding.
    pub(crate) const MALFORMED: u32 = 1;
    /// The transaction is above the size limit.
    pub(crate) const OVERSIZED: u32 = 2;
}

impl Error {
    /// The HTTP status for this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } | Self::MalformedTx { .. } => StatusCode::BAD_REQUEST,
            Self::OversizedTx { .. } | Self::PayloadTooLarge { .. } => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            Self::Rejected(_) | Self::QueryRefused { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::MempoolFull | Self::BlobsDisabled => StatusCode::SERVICE_UNAVAILABLE,
            Self::AlreadyPending => StatusCode::CONFLICT,
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The body sent to the client: stable reason, optional protocol code, short message.
    pub fn to_body(&self) -> ErrorResponse {
        let (reason, code) = match self {
            Self::BadRequest { .. } => ("bad_request", None),
            Self::MalformedTx { .. } => ("malformed", Some(codes::MALFORMED)),
            Self::OversizedTx { .. } => ("oversized", Some(codes::OVERSIZED)),
            Self::PayloadTooLarge { .. } => ("payload_too_large", None),
            Self::Rejected(rejection) => (rejection.reason.as_str(), Some(rejection.code)),
            Self::QueryRefused { code, .. } => ("query_refused", Some(*code)),
            Self::MempoolFull => ("mempool_full", None),
            Self::AlreadyPending => ("already_pending", None),
            Self::NotFound { .. } => ("not_found", None),
            Self::BlobsDisabled => ("blobs_disabled", None),
            Self::Internal => ("internal", None),
        };
        ErrorResponse {
            reason: reason.to_owned(),
            code,
            message: self.to_string(),
        }
    }

    /// Log a node fault once, where it is handled, and hide it from the client.
    pub(crate) fn internal(err: &(dyn std::error::Error + 'static)) -> Self {
        tracing::error!(target: "rpc", error = %DisplayChain(err), "node fault while serving a request");
        Self::Internal
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_client_error() {
            tracing::debug!(target: "rpc", %status, error = %self, "request refused");
        }
        (status, Json(self.to_body())).into_response()
    }
}

/// Formats an error with its chain of sources, for logs.
struct DisplayChain<'a>(&'a (dyn std::error::Error + 'static));

impl std::fmt::Display for DisplayChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(err) = source {
            write!(f, ": {err}")?;
            source = err.source();
        }
        Ok(())
    }
}
