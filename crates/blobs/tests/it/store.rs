//! Put/get behaviour on the local and in-memory backends.

use std::{convert::Infallible, path::PathBuf};

use bytes::Bytes;
use counterweight_blobs::{BlobStore, Error, blob_hash};
use counterweight_types::Hash;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn blob_file(dir: &std::path::Path, hash: &Hash) -> PathBuf {
    let hex = hash.to_hex();
    dir.join("blobs").join(&hex[..2]).join(hex)
}

#[test]
fn round_trips_on_disk_and_in_memory() {
    runtime().block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let stores = [
            BlobStore::local(dir.path(), 1 << 20).expect("opens"),
            BlobStore::in_memory(1 << 20),
        ];
        for store in stores {
            let data = Bytes::from(vec![7u8; 300_000]);
            let hash = store.put(data.clone()).await.expect("put");
            assert_eq!(hash, blob_hash(&data));
            assert_eq!(store.get(&hash).await.expect("get"), data);
            assert_eq!(store.size(&hash).await.expect("size"), Some(300_000));
            // Putting again is idempotent.
            assert_eq!(store.put(data.clone()).await.expect("again"), hash);
        }
        assert!(blob_file(dir.path(), &blob_hash(&[7u8; 300_000])).is_file());
    });
}

#[test]
fn survives_reopening() {
    runtime().block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let hash = BlobStore::local(dir.path(), 1 << 20)
            .expect("opens")
            .put(Bytes::from_static(b"persisted"))
            .await
            .expect("put");
        let reopened = BlobStore::local(dir.path(), 1 << 20).expect("reopens");
        assert_eq!(
            reopened.get(&hash).await.expect("get"),
            Bytes::from_static(b"persisted")
        );
    });
}

#[test]
fn corrupt_file_is_detected_and_never_served() {
    runtime().block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = BlobStore::local(dir.path(), 1 << 20).expect("opens");
        let hash = store
            .put(Bytes::from_static(b"honest weights"))
            .await
            .expect("put");
        std::fs::write(blob_file(dir.path(), &hash), b"tampered weights").expect("tamper");
        match store.get(&hash).await {
            Err(Error::Corrupt { hash: h, actual }) => {
                assert_eq!(h, hash);
                assert_eq!(actual, blob_hash(b"tampered weights"));
            }
            other => panic!("expected Corrupt, got {other:?}"),
        }
        // Putting the right bytes again repairs it.
        store
            .put(Bytes::from_static(b"honest weights"))
            .await
            .expect("repair");
        assert!(store.get(&hash).await.is_ok());
    });
}

#[test]
fn missing_blob_is_not_found() {
    runtime().block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = BlobStore::local(dir.path(), 1 << 20).expect("opens");
        let hash = Hash([0xAB; 32]);
        assert!(matches!(store.get(&hash).await, Err(Error::NotFound { hash: h }) if h == hash));
        assert_eq!(store.size(&hash).await.expect("size"), None);
    });
}

#[test]
fn size_limit_applies_to_put_stream_and_get() {
    runtime().block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = BlobStore::local(dir.path(), 100).expect("opens");
        assert!(store.put(Bytes::from(vec![0u8; 100])).await.is_ok());
        assert!(matches!(
            store.put(Bytes::from(vec![0u8; 101])).await,
            Err(Error::TooLarge {
                size: 101,
                max: 100
            })
        ));
        let chunks = (0..3).map(|_| Ok::<_, Infallible>(Bytes::from(vec![1u8; 40])));
        assert!(matches!(
            store.put_stream(futures_util::stream::iter(chunks)).await,
            Err(Error::TooLarge { max: 100, .. })
        ));
        // Nothing of the refused stream is visible.
        assert!(store.get(&blob_hash(&[1u8; 120])).await.is_err());

        // A store with a lower limit refuses to serve a larger blob.
        let big = BlobStore::local(dir.path(), 1 << 20).expect("opens");
        let hash = big.put(Bytes::from(vec![2u8; 500])).await.expect("put");
        assert!(matches!(
            store.get(&hash).await,
            Err(Error::TooLarge { size: 500, .. })
        ));
    });
}

#[test]
fn streamed_put_matches_whole_put() {
    runtime().block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = BlobStore::local(dir.path(), 64 << 20).expect("opens");
        // Above one upload part, in uneven chunks.
        let data: Vec<u8> = (0..9_500_000u32).map(|i| (i % 251) as u8).collect();
        let chunks: Vec<Result<Bytes, Infallible>> = data
            .chunks(777_777)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let hash = store
            .put_stream(futures_util::stream::iter(chunks))
            .await
            .expect("streamed");
        assert_eq!(hash, blob_hash(&data));
        assert_eq!(store.get(&hash).await.expect("get").as_ref(), &data[..]);
        // No staging leftovers.
        let staging = dir.path().join("staging");
        let leftovers = std::fs::read_dir(&staging).map(|d| d.count()).unwrap_or(0);
        assert_eq!(leftovers, 0);
    });
}

#[test]
fn failed_stream_stores_nothing() {
    runtime().block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = BlobStore::local(dir.path(), 1 << 20).expect("opens");
        let chunks = vec![
            Ok(Bytes::from_static(b"half a blob")),
            Err(std::io::Error::other("connection reset")),
        ];
        assert!(matches!(
            store.put_stream(futures_util::stream::iter(chunks)).await,
            Err(Error::Body(_))
        ));
        assert!(store.get(&blob_hash(b"half a blob")).await.is_err());
    });
}

#[test]
fn put_expecting_refuses_wrong_bytes() {
    runtime().block_on(async {
        let store = BlobStore::in_memory(1 << 20);
        let expected = blob_hash(b"right");
        assert!(matches!(
            store
                .put_expecting(&expected, Bytes::from_static(b"wrong"))
                .await,
            Err(Error::HashMismatch { .. })
        ));
        assert!(store.get(&blob_hash(b"wrong")).await.is_err());
        store
            .put_expecting(&expected, Bytes::from_static(b"right"))
            .await
            .expect("matches");
    });
}

#[test]
fn concurrent_puts_of_the_same_blob_agree() {
    runtime().block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = BlobStore::local(dir.path(), 8 << 20).expect("opens");
        let data = Bytes::from(vec![42u8; 2_000_000]);
        let mut tasks = Vec::new();
        for i in 0..8 {
            let store = store.clone();
            let data = data.clone();
            tasks.push(tokio::spawn(async move {
                if i % 2 == 0 {
                    store.put(data).await
                } else {
                    let chunks: Vec<Result<Bytes, Infallible>> = data
                        .chunks(300_000)
                        .map(|c| Ok(Bytes::copy_from_slice(c)))
                        .collect();
                    store.put_stream(futures_util::stream::iter(chunks)).await
                }
            }));
        }
        for task in tasks {
            assert_eq!(task.await.expect("joined").expect("put"), blob_hash(&data));
        }
        assert_eq!(store.get(&blob_hash(&data)).await.expect("get"), data);
    });
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(32))]

    /// Whatever the bytes and however they are chunked, a blob's address is their BLAKE3 hash
    /// and reading it back gives the same bytes.
    #[test]
    fn any_blob_round_trips_whole_or_streamed(
        data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4096),
        chunk in 1usize..512,
    ) {
        let (whole, streamed, back) = runtime().block_on(async {
            let store = BlobStore::in_memory(1 << 20);
            let whole = store.put(Bytes::from(data.clone())).await.expect("put");
            let chunks: Vec<Result<Bytes, Infallible>> =
                data.chunks(chunk).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
            let streamed = store
                .put_stream(futures_util::stream::iter(chunks))
                .await
                .expect("streamed");
            let back = store.get(&whole).await.expect("get");
            (whole, streamed, back)
        });
        proptest::prop_assert_eq!(whole, blob_hash(&data));
        proptest::prop_assert_eq!(streamed, whole);
        proptest::prop_assert_eq!(back.as_ref(), &data[..]);
    }
}
