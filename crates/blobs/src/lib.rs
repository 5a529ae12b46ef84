//! Store content-addressed blobs (model weights, large updates) on disk or in S3.
//!
//! [`BlobStore`] names each blob by the BLAKE3 hash of its bytes ([`blob_hash`]). It is
//! backed by `object_store`: a local directory by default, or an S3-compatible bucket,
//! chosen by [`BlobConfig`]. `get` re-verifies the hash before returning bytes, writes are
//! atomic, large uploads stream in parts, and a size limit bounds what is accepted and
//! served. Every node serves its store over RPC.
//!
//! # Examples
//!
//! ```
//! use bytes::Bytes;
//! use counterweight_blobs::{BlobStore, blob_hash};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let dir = std::env::temp_dir().join(format!("blobs-doc-{}", std::process::id()));
//! let store = BlobStore::local(&dir, 1 << 20).unwrap();
//! let hash = store.put(Bytes::from_static(b"weights")).await.unwrap();
//! assert_eq!(hash, blob_hash(b"weights"));
//! assert_eq!(store.get(&hash).await.unwrap(), Bytes::from_static(b"weights"));
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # });
//! ```

// Off the consensus path: staging names for uploads use the wall clock.
#![allow(clippy::disallowed_methods)]

mod config;
mod error;
mod store;

pub use config::{BlobBackend, BlobConfig, DEFAULT_MAX_BLOB_BYTES, S3Config};
pub use error::{Error, Result};
pub use store::{BlobStore, blob_hash};
