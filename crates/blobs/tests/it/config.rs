//! Configuration parsing and validation.

use std::path::Path;

use counterweight_blobs::{BlobBackend, BlobConfig, BlobStore, DEFAULT_MAX_BLOB_BYTES, Error};

#[test]
fn empty_section_means_local_blobs_under_home() {
    let config: BlobConfig = toml::from_str("").expect("parses");
    assert_eq!(config, BlobConfig::default());
    assert_eq!(config.backend, BlobBackend::Local);
    assert_eq!(config.dir, Path::new("blobs"));
    assert_eq!(config.max_blob_bytes, DEFAULT_MAX_BLOB_BYTES);
}

#[test]
fn parses_s3_section_and_rejects_unknown_fields() {
    let config: BlobConfig = toml::from_str(
        "backend = \"s3\"\nmax_blob_bytes = 1024\n[s3]\nbucket = \"models\"\nendpoint = \"http://127.0.0.1:9000\"\nallow_http = true\n",
    )
    .expect("parses");
    assert_eq!(config.backend, BlobBackend::S3);
    assert_eq!(config.s3.bucket, "models");
    assert!(toml::from_str::<BlobConfig>("bogus = 1").is_err());
    assert!(toml::from_str::<BlobConfig>("[s3]\nbukket = \"x\"").is_err());
}

#[test]
fn opens_relative_dir_under_home() {
    let home = tempfile::tempdir().expect("tempdir");
    BlobStore::open(&BlobConfig::default(), home.path()).expect("opens");
    assert!(home.path().join("blobs").is_dir());
}

#[test]
fn rejects_unusable_configs() {
    let home = tempfile::tempdir().expect("tempdir");
    let zero = BlobConfig {
        max_blob_bytes: 0,
        ..BlobConfig::default()
    };
    assert!(matches!(
        BlobStore::open(&zero, home.path()),
        Err(Error::InvalidConfig {
            field: "max_blob_bytes",
            ..
        })
    ));
    let no_bucket = BlobConfig {
        backend: BlobBackend::S3,
        ..BlobConfig::default()
    };
    assert!(matches!(
        BlobStore::open(&no_bucket, home.path()),
        Err(Error::InvalidConfig {
            field: "s3.bucket",
            ..
        })
    ));
    let mut half_credentials = BlobConfig {
        backend: BlobBackend::S3,
        ..BlobConfig::default()
    };
    half_credentials.s3.bucket = "models".into();
    half_credentials.s3.access_key_id = Some("id".into());
    assert!(matches!(
        BlobStore::open(&half_credentials, home.path()),
        Err(Error::InvalidConfig { .. })
    ));
    half_credentials.s3.secret_access_key = Some("secret".into());
    half_credentials.s3.endpoint = Some("http://127.0.0.1:9".into());
    half_credentials.s3.allow_http = true;
    BlobStore::open(&half_credentials, home.path()).expect("an S3 client builds without I/O");
}
