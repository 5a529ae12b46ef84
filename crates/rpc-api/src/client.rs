//! A typed blocking HTTP client for the node's RPC.
//!
//! `ureq` is used because the CLI and scripts are synchronous: it needs no async runtime, pulls
//! few dependencies, supports rustls for `https` nodes, and streams response bodies, which is all
//! the server-sent event follower needs.

use std::io::{BufRead, BufReader, Read};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use ureq::Agent;
use ureq::http::Response;

use crate::error::{Error, Result};
use crate::paths;
use crate::sse::SseParser;
use crate::types::{
    AccountResponse, BlockEvent, BlockResponse, ErrorResponse, StateProofResponse, StatusResponse,
    SubmitTxRequest, SubmitTxResponse, SubmitTxsRequest, SubmitTxsResponse, TxStatusResponse,
};

/// The largest reply body the client reads (a full block as JSON with hex fields).
const MAX_REPLY_BYTES: u64 = 64 * 1024 * 1024;

/// The largest blob the client downloads.
const MAX_BLOB_BYTES: u64 = 4 * 1024 * 1024 * 1024;

/// Client settings.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Timeout for one request/response exchange (not for the event stream).
    pub timeout: Duration,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
        }
    }
}

/// A client for one node's RPC endpoint.
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    agent: Agent,
    stream_agent: Agent,
}

impl Client {
    /// A client for the node at `base_url` (e.g. `http://127.0.0.1:8545`) with default settings.
    ///
    /// # Errors
    /// [`Error::BadUrl`] when the URL is not `http://` or `https://`.
    pub fn new(base_url: &str) -> Result<Self> {
        Self::with_config(base_url, ClientConfig::default())
    }

    /// A client for the node at `base_url` with explicit settings.
    ///
    /// # Errors
    /// [`Error::BadUrl`] when the URL is not `http://` or `https://`.
    pub fn with_config(base_url: &str, config: ClientConfig) -> Result<Self> {
        let base = base_url.trim().trim_end_matches('/').to_owned();
        let rest = base
            .strip_prefix("http://")
            .or_else(|| base.strip_prefix("https://"))
            .ok_or_else(|| Error::BadUrl(base_url.to_owned()))?;
        if rest.is_empty() || rest.contains(char::is_whitespace) {
            return Err(Error::BadUrl(base_url.to_owned()));
        }
        let agent: Agent = Agent::config_builder()
            .timeout_global(Some(config.timeout))
            .http_status_as_error(false)
            .build()
            .into();
        let stream_agent: Agent = Agent::config_builder()
            .timeout_connect(Some(config.timeout))
            .http_status_as_error(false)
            .build()
            .into();
        Ok(Self {
            base,
            agent,
            stream_agent,
        })
    }

    /// The base URL this client talks to.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Submit a signed transaction's canonical bytes (sent as hex).
    ///
    /// # Errors
    /// [`Error::Api`] with the node's rejection reason, or a transport/decoding error.
    pub fn submit_tx(&self, tx_bytes: &[u8]) -> Result<SubmitTxResponse> {
        self.submit(&SubmitTxRequest::hex(tx_bytes))
    }

    /// Submit a prepared request (hex or base64).
    ///
    /// # Errors
    /// [`Error::Api`] with the node's rejection reason, or a transport/decoding error.
    pub fn submit(&self, request: &SubmitTxRequest) -> Result<SubmitTxResponse> {
        self.post(paths::SUBMIT_TX, request)
    }

    /// Submit several signed transactions' canonical bytes in one request (at most
    /// [`crate::MAX_SUBMIT_BATCH`]); each is admitted or refused on its own.
    ///
    /// # Errors
    /// [`Error::Api`] if the request as a whole is refused (too many or too large), or a
    /// transport/decoding error. Refusals of single transactions are in the results.
    pub fn submit_txs<B: AsRef<[u8]>>(&self, txs: &[B]) -> Result<SubmitTxsResponse> {
        self.post(paths::SUBMIT_TXS, &SubmitTxsRequest::hex(txs))
    }

    /// A transaction's status by hash (hex).
    ///
    /// # Errors
    /// [`Error::Api`] (e.g. `bad_request` for a malformed hash), or a transport/decoding error.
    pub fn tx_status(&self, tx_hash: &str) -> Result<TxStatusResponse> {
        self.get(&paths::fill(paths::TX, "hash", tx_hash))
    }

    /// An account's balance and nonce.
    ///
    /// # Errors
    /// [`Error::Api`] (e.g. `bad_request` for a malformed address), or a transport error.
    pub fn account(&self, address: &str) -> Result<AccountResponse> {
        self.get(&paths::fill(paths::ACCOUNT, "address", address))
    }

    /// A finalized block by height, or the latest one for `None`.
    ///
    /// # Errors
    /// [`Error::Api`] with reason `not_found` when no block has that height yet.
    pub fn block(&self, height: Option<u64>) -> Result<BlockResponse> {
        match height {
            Some(height) => self.get(&paths::fill(paths::BLOCK, "height", &height.to_string())),
            None => self.get(paths::LATEST_BLOCK),
        }
    }

    /// A state value with its inclusion proof.
    ///
    /// # Errors
    /// [`Error::Api`] (e.g. `bad_request` for a malformed key), or a transport error.
    pub fn state(&self, key: &[u8]) -> Result<StateProofResponse> {
        self.get(&paths::fill(paths::STATE, "key", &hex::encode(key)))
    }

    /// The node's chain id, height, root and peers.
    ///
    /// # Errors
    /// A transport or decoding error.
    pub fn status(&self) -> Result<StatusResponse> {
        self.get(paths::STATUS)
    }

    /// Asks module `module` the query `path` with argument `data`; returns the module's
    /// answer bytes (JSON for every module of the chain).
    ///
    /// # Errors
    /// [`Error::Api`] with reason `query_refused` (and the module's code) for an unknown path
    /// or a bad argument, or a transport/decoding error.
    pub fn query(&self, module: u16, path: &str, data: &[u8]) -> Result<Vec<u8>> {
        let mut url = paths::fill(
            &paths::fill(paths::QUERY, "module", &module.to_string()),
            "*path",
            path.trim_start_matches('/'),
        );
        if !data.is_empty() {
            url.push_str("?data=");
            url.push_str(&crate::hexutil::encode(data));
        }
        let reply: crate::QueryResponse = self.get(&url)?;
        match (reply.value, reply.bytes) {
            (Some(value), _) => Ok(serde_json::to_vec(&value).unwrap_or_default()),
            (None, Some(hex)) => crate::hexutil::decode(&hex).map_err(|e| Error::BadAnswer {
                what: "query bytes",
                detail: e.to_string(),
            }),
            // `"value": null` (a module answering JSON `null`, e.g. "not found") arrives as
            // `None`: the server sends `bytes` for every answer that is not JSON.
            (None, None) => Ok(b"null".to_vec()),
        }
    }

    /// Asks a module query and decodes its JSON answer into `T`.
    ///
    /// # Errors
    /// As [`Client::query`], or the answer does not decode as `T`.
    pub fn query_json<T: DeserializeOwned>(
        &self,
        module: u16,
        path: &str,
        data: &[u8],
    ) -> Result<T> {
        let bytes = self.query(module, path, data)?;
        serde_json::from_slice(&bytes).map_err(|e| Error::BadAnswer {
            what: "query answer",
            detail: e.to_string(),
        })
    }

    /// Stores `bytes` in the node's blob store and returns their BLAKE3 hash (hex), after
    /// checking that the node computed the same hash.
    ///
    /// # Errors
    /// [`Error::Api`] (`payload_too_large` above the node's limit, `blobs_disabled`),
    /// [`Error::BlobMismatch`] if the node reports another hash, or a transport error.
    pub fn put_blob(&self, bytes: &[u8]) -> Result<String> {
        let expected = blake3::hash(bytes).to_hex().to_string();
        let url = self.url(paths::BLOBS);
        tracing::debug!(target: "rpc_api::client", %url, size = bytes.len(), "PUT blob");
        let response = self
            .stream_agent
            .put(&url)
            .header("content-type", "application/octet-stream")
            .send(bytes)
            .map_err(|source| transport(&url, source))?;
        let reply: crate::PutBlobResponse = read_json(check_status(response)?)?;
        if reply.hash != expected {
            return Err(Error::BlobMismatch {
                expected,
                actual: reply.hash,
            });
        }
        Ok(reply.hash)
    }

    /// Downloads the blob with BLAKE3 hash `hash` (hex) and checks its bytes hash to it.
    ///
    /// # Errors
    /// [`Error::Api`] (`not_found`, `bad_request` for a malformed hash), [`Error::BlobMismatch`]
    /// if the bytes do not match, or a transport error.
    pub fn get_blob(&self, hash: &str) -> Result<Vec<u8>> {
        let url = self.url(&paths::fill(paths::BLOB, "hash", hash));
        tracing::debug!(target: "rpc_api::client", %url, "GET blob");
        let response = self
            .stream_agent
            .get(&url)
            .call()
            .map_err(|source| transport(&url, source))?;
        let bytes = check_status(response)?
            .into_body()
            .with_config()
            .limit(MAX_BLOB_BYTES)
            .read_to_vec()
            .map_err(|source| Error::Decode {
                source: Box::new(source),
            })?;
        let actual = blake3::hash(&bytes).to_hex().to_string();
        let expected = hash.trim().trim_start_matches("0x").to_ascii_lowercase();
        if actual != expected {
            return Err(Error::BlobMismatch { expected, actual });
        }
        Ok(bytes)
    }

    /// The raw OpenAPI document.
    ///
    /// # Errors
    /// A transport or decoding error.
    pub fn openapi(&self) -> Result<serde_json::Value> {
        self.get(paths::OPENAPI)
    }

    /// Follow finalized blocks as they arrive over server-sent events.
    ///
    /// The iterator blocks until the next block; it ends when the node closes the stream.
    ///
    /// # Errors
    /// A transport error or an error status when opening the stream.
    pub fn follow_blocks(&self) -> Result<BlockFollower> {
        let url = self.url(paths::EVENTS);
        let response = self
            .stream_agent
            .get(&url)
            .header("accept", "text/event-stream")
            .call()
            .map_err(|source| transport(&url, source))?;
        let response = check_status(response)?;
        let reader = response.into_body().into_reader();
        Ok(BlockFollower {
            reader: BufReader::new(Box::new(reader)),
            parser: SseParser::new(),
            line: String::new(),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        let url = self.url(path);
        tracing::debug!(target: "rpc_api::client", %url, "GET");
        let response = self
            .agent
            .get(&url)
            .call()
            .map_err(|source| transport(&url, source))?;
        read_json(check_status(response)?)
    }

    fn post<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T> {
        let url = self.url(path);
        tracing::debug!(target: "rpc_api::client", %url, "POST");
        let response = self
            .agent
            .post(&url)
            .send_json(body)
            .map_err(|source| transport(&url, source))?;
        read_json(check_status(response)?)
    }
}

fn transport(url: &str, source: ureq::Error) -> Error {
    Error::Transport {
        url: url.to_owned(),
        source: Box::new(source),
    }
}

fn check_status(response: Response<ureq::Body>) -> Result<Response<ureq::Body>> {
    let status = response.status().as_u16();
    if status < 400 {
        return Ok(response);
    }
    let body = response
        .into_body()
        .with_config()
        .limit(MAX_REPLY_BYTES)
        .read_json::<ErrorResponse>();
    match body {
        Ok(body) => Err(Error::Api { status, body }),
        Err(_) => Err(Error::Status { status }),
    }
}

fn read_json<T: DeserializeOwned>(response: Response<ureq::Body>) -> Result<T> {
    response
        .into_body()
        .with_config()
        .limit(MAX_REPLY_BYTES)
        .read_json::<T>()
        .map_err(|source| Error::Decode {
            source: Box::new(source),
        })
}

/// An iterator over finalized blocks from the node's event stream.
///
/// Yields [`Error::Lagged`] (and keeps going) when the node dropped events because this
/// follower was too slow; ends when the stream closes.
pub struct BlockFollower {
    reader: BufReader<Box<dyn Read + Send>>,
    parser: SseParser,
    line: String,
}

impl std::fmt::Debug for BlockFollower {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockFollower").finish_non_exhaustive()
    }
}

impl Iterator for BlockFollower {
    type Item = Result<BlockEvent>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            self.line.clear();
            match self.reader.read_line(&mut self.line) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(err) => return Some(Err(Error::Stream(err))),
            }
            let Some(event) = self.parser.push_line(&self.line) else {
                continue;
            };
            match event.event.as_str() {
                paths::BLOCK_EVENT => {
                    return Some(serde_json::from_str(&event.data).map_err(|source| {
                        Error::BadEvent {
                            event: event.event,
                            source,
                        }
                    }));
                }
                paths::LAGGED_EVENT => {
                    let missed = event.data.trim().parse().unwrap_or(0);
                    return Some(Err(Error::Lagged { missed }));
                }
                _ => continue,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_urls_without_a_scheme() {
        assert!(matches!(
            Client::new("localhost:8545"),
            Err(Error::BadUrl(_))
        ));
        assert!(matches!(Client::new("http://"), Err(Error::BadUrl(_))));
        let client = Client::new("http://127.0.0.1:1/").unwrap();
        assert_eq!(client.base_url(), "http://127.0.0.1:1");
    }

    #[test]
    fn reports_an_unreachable_node_as_a_transport_error() {
        // Port 1 on loopback is closed on any sane machine.
        let client = Client::new("http://127.0.0.1:1").unwrap();
        let err = client.status().unwrap_err();
        assert!(matches!(err, Error::Transport { .. }), "{err:?}");
        assert!(err.to_string().contains("127.0.0.1:1"));
    }
}
