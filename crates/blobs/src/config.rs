//! The blob store's configuration.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Default largest blob accepted: 256 MiB.
pub const DEFAULT_MAX_BLOB_BYTES: u64 = 256 * 1024 * 1024;

/// Where blobs are kept.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum BlobBackend {
    /// A directory on the local filesystem ([`BlobConfig::dir`]).
    #[default]
    Local,
    /// An S3-compatible bucket ([`BlobConfig::s3`]).
    S3,
}

/// How to reach an S3-compatible bucket.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct S3Config {
    /// The bucket's name (required for the `s3` backend).
    pub bucket: String,
    /// The region (default `us-east-1`, which most S3-compatible servers accept).
    pub region: Option<String>,
    /// The endpoint URL of an S3-compatible server; unset means AWS.
    pub endpoint: Option<String>,
    /// The access key id; unset means anonymous or instance credentials.
    pub access_key_id: Option<String>,
    /// The secret access key, with `access_key_id`.
    pub secret_access_key: Option<String>,
    /// Accept a plain-HTTP endpoint (local test servers only).
    pub allow_http: bool,
    /// A key prefix under which blobs are kept (e.g. `counterweight/blobs`).
    pub prefix: String,
}

/// The blob store's configuration (a section of the node's config file).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BlobConfig {
    /// Where blobs are kept: `local` (default) or `s3`.
    pub backend: BlobBackend,
    /// The directory of the `local` backend; a relative path is taken under the node's home
    /// (default `blobs`, i.e. `<home>/blobs`).
    pub dir: PathBuf,
    /// The bucket of the `s3` backend.
    pub s3: S3Config,
    /// The largest blob accepted or served, in bytes (default 256 MiB).
    pub max_blob_bytes: u64,
}

impl Default for BlobConfig {
    fn default() -> Self {
        Self {
            backend: BlobBackend::Local,
            dir: PathBuf::from("blobs"),
            s3: S3Config::default(),
            max_blob_bytes: DEFAULT_MAX_BLOB_BYTES,
        }
    }
}
