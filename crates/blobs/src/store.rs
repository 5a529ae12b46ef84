//! The content-addressed store over an `object_store` backend.

use std::{
    fmt,
    path::Path as FsPath,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use bytes::Bytes;
use counterweight_types::Hash;
use futures_util::{Stream, StreamExt as _};
use object_store::{
    ObjectStore, ObjectStoreExt as _, PutPayload, WriteMultipart, aws::AmazonS3Builder,
    local::LocalFileSystem, memory::InMemory, path::Path,
};

use crate::{
    config::{BlobBackend, BlobConfig},
    error::{Error, Result},
};

/// Blobs at least this large are hashed on a blocking thread, off the async executor.
const HASH_INLINE_MAX: usize = 256 * 1024;

/// Size of the parts a streamed put uploads.
const PART_BYTES: usize = 8 * 1024 * 1024;

/// Returns a blob's address: the plain BLAKE3 hash of its bytes.
pub fn blob_hash(bytes: &[u8]) -> Hash {
    Hash(*blake3::hash(bytes).as_bytes())
}

async fn hash_off_executor(bytes: Bytes) -> Result<Hash> {
    if bytes.len() < HASH_INLINE_MAX {
        return Ok(blob_hash(&bytes));
    }
    Ok(tokio::task::spawn_blocking(move || blob_hash(&bytes)).await?)
}

/// A content-addressed blob store: blobs are named by the BLAKE3 hash of their bytes.
///
/// Guarantees:
/// - `put` returns the blob's hash; `get` hashes what it read and returns
///   [`Error::Corrupt`] instead of bytes that do not match their address.
/// - Writes are atomic: a blob is written under a temporary name and moved into place only
///   when complete, so a crash never leaves a partial blob under its address (the local
///   backend also syncs files and directories before returning).
/// - Putting the same blob twice, even concurrently, is harmless: both writes carry the same
///   bytes.
/// - Blobs above [`BlobStore::max_blob_bytes`] are neither accepted nor served.
#[derive(Clone)]
pub struct BlobStore {
    store: Arc<dyn ObjectStore>,
    root: Path,
    max_blob_bytes: u64,
}

impl fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlobStore")
            .field("store", &self.store.to_string())
            .field("root", &self.root)
            .field("max_blob_bytes", &self.max_blob_bytes)
            .finish()
    }
}

impl BlobStore {
    /// Opens the store `config` describes; a relative local directory is taken under `home`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an unusable configuration, [`Error::Io`] if the directory
    /// cannot be created, [`Error::Store`] if the S3 client cannot be built.
    pub fn open(config: &BlobConfig, home: &FsPath) -> Result<Self> {
        if config.max_blob_bytes == 0 {
            return Err(Error::InvalidConfig {
                field: "max_blob_bytes",
                problem: "must be at least 1",
            });
        }
        match config.backend {
            BlobBackend::Local => {
                let dir = if config.dir.is_absolute() {
                    config.dir.clone()
                } else {
                    home.join(&config.dir)
                };
                Self::local(&dir, config.max_blob_bytes)
            }
            BlobBackend::S3 => {
                let s3 = &config.s3;
                if s3.bucket.is_empty() {
                    return Err(Error::InvalidConfig {
                        field: "s3.bucket",
                        problem: "is required by the s3 backend",
                    });
                }
                if s3.access_key_id.is_some() != s3.secret_access_key.is_some() {
                    return Err(Error::InvalidConfig {
                        field: "s3.secret_access_key",
                        problem: "must be given together with s3.access_key_id",
                    });
                }
                let mut builder = AmazonS3Builder::new()
                    .with_bucket_name(&s3.bucket)
                    .with_region(s3.region.as_deref().unwrap_or("us-east-1"))
                    .with_allow_http(s3.allow_http);
                if let Some(endpoint) = &s3.endpoint {
                    builder = builder.with_endpoint(endpoint);
                }
                if let (Some(id), Some(secret)) = (&s3.access_key_id, &s3.secret_access_key) {
                    builder = builder
                        .with_access_key_id(id)
                        .with_secret_access_key(secret);
                }
                Ok(Self {
                    store: Arc::new(builder.build()?),
                    root: Path::from(s3.prefix.as_str()),
                    max_blob_bytes: config.max_blob_bytes,
                })
            }
        }
    }

    /// Opens (creating it if needed) a store in the local directory `dir`.
    ///
    /// # Errors
    /// [`Error::Io`] if the directory cannot be created, [`Error::Store`] if it cannot be
    /// opened.
    pub fn local(dir: &FsPath, max_blob_bytes: u64) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let fs = LocalFileSystem::new_with_prefix(dir)?.with_fsync(true);
        Ok(Self {
            store: Arc::new(fs),
            root: Path::default(),
            max_blob_bytes,
        })
    }

    /// Returns a store kept in memory (tests, ephemeral nodes).
    pub fn in_memory(max_blob_bytes: u64) -> Self {
        Self {
            store: Arc::new(InMemory::new()),
            root: Path::default(),
            max_blob_bytes,
        }
    }

    /// Returns the largest blob accepted or served, in bytes.
    pub fn max_blob_bytes(&self) -> u64 {
        self.max_blob_bytes
    }

    fn blob_path(&self, hash: &Hash) -> Path {
        let hex = hash.to_hex();
        self.root
            .clone()
            .join("blobs")
            .join(&hex[..2])
            .join(hex.as_str())
    }

    fn staging_path(&self) -> Path {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let name = format!(
            "{}-{nanos}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        self.root.clone().join("staging").join(name.as_str())
    }

    fn check_size(&self, size: u64) -> Result<()> {
        if size > self.max_blob_bytes {
            return Err(Error::TooLarge {
                size,
                max: self.max_blob_bytes,
            });
        }
        Ok(())
    }

    /// Stores `bytes` and returns their hash.
    ///
    /// # Errors
    /// [`Error::TooLarge`] above the size limit; [`Error::Store`] if the backend fails.
    pub async fn put(&self, bytes: Bytes) -> Result<Hash> {
        self.check_size(bytes.len() as u64)?;
        let hash = hash_off_executor(bytes.clone()).await?;
        self.store
            .put(&self.blob_path(&hash), PutPayload::from(bytes))
            .await?;
        tracing::debug!(target: "blobs", %hash, "stored blob");
        Ok(hash)
    }

    /// Stores `bytes` only if they hash to `expected`.
    ///
    /// # Errors
    /// [`Error::HashMismatch`] if they do not (nothing is stored); otherwise as [`Self::put`].
    pub async fn put_expecting(&self, expected: &Hash, bytes: Bytes) -> Result<()> {
        self.check_size(bytes.len() as u64)?;
        let actual = hash_off_executor(bytes.clone()).await?;
        if actual != *expected {
            return Err(Error::HashMismatch {
                expected: *expected,
                actual,
            });
        }
        self.put(bytes).await.map(|_| ())
    }

    /// Stores a blob arriving as a stream of chunks, hashing while uploading in parts, and
    /// returns its hash. Memory use is bounded by the part size, not the blob size.
    ///
    /// # Errors
    /// [`Error::TooLarge`] as soon as the stream passes the limit, [`Error::Body`] if the
    /// stream fails, [`Error::Store`] if the backend fails. Nothing is stored on error.
    pub async fn put_stream<S, E>(&self, mut body: S) -> Result<Hash>
    where
        S: Stream<Item = Result<Bytes, E>> + Send + Unpin,
        E: std::error::Error + Send + Sync + 'static,
    {
        let staging = self.staging_path();
        let upload = self.store.put_multipart(&staging).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
        let mut hasher = blake3::Hasher::new();
        let mut size: u64 = 0;
        let outcome: Result<()> = async {
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|e| Error::Body(Box::new(e)))?;
                size += chunk.len() as u64;
                self.check_size(size)?;
                hasher.update(&chunk);
                writer.wait_for_capacity(4).await?;
                writer.put(chunk);
            }
            Ok(())
        }
        .await;
        if let Err(e) = outcome {
            if let Err(abort) = writer.abort().await {
                tracing::warn!(target: "blobs", error = %abort, "aborting a failed upload failed");
            }
            return Err(e);
        }
        writer.finish().await?;
        let hash = Hash(*hasher.finalize().as_bytes());
        if let Err(e) = self.store.rename(&staging, &self.blob_path(&hash)).await {
            let _ = self.store.delete(&staging).await;
            return Err(e.into());
        }
        tracing::debug!(target: "blobs", %hash, size, "stored streamed blob");
        Ok(hash)
    }

    /// Returns the blob with this hash after checking that its bytes hash to it.
    ///
    /// # Errors
    /// [`Error::NotFound`] if absent, [`Error::Corrupt`] if the stored bytes do not match,
    /// [`Error::TooLarge`] if it exceeds the size limit, [`Error::Store`] if the backend fails.
    pub async fn get(&self, hash: &Hash) -> Result<Bytes> {
        let result = match self.store.get(&self.blob_path(hash)).await {
            Ok(r) => r,
            Err(object_store::Error::NotFound { .. }) => {
                return Err(Error::NotFound { hash: *hash });
            }
            Err(e) => return Err(e.into()),
        };
        self.check_size(result.meta.size)?;
        let bytes = result.bytes().await?;
        let actual = hash_off_executor(bytes.clone()).await?;
        if actual != *hash {
            tracing::error!(target: "blobs", %hash, %actual, "stored blob is corrupt");
            return Err(Error::Corrupt {
                hash: *hash,
                actual,
            });
        }
        Ok(bytes)
    }

    /// Returns the stored size of the blob with this hash, if present (without verifying it).
    ///
    /// # Errors
    /// [`Error::Store`] if the backend fails.
    pub async fn size(&self, hash: &Hash) -> Result<Option<u64>> {
        match self.store.head(&self.blob_path(hash)).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}
