//! Corrupt, truncated and random bytes give errors, never panics (mirrors the fuzz target).

use counterweight_onnx::{Error, import_bytes, import_file};
use proptest::prelude::*;

fn good_bytes() -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/cnn_pools.onnx");
    std::fs::read(path).expect("fixture exists")
}

#[test]
fn rejects_empty_truncated_and_garbage_files() {
    assert!(import_bytes(&[]).is_err());
    let good = good_bytes();
    for cut in [1, 10, good.len() / 2, good.len() - 1] {
        assert!(import_bytes(&good[..cut]).is_err(), "truncated at {cut}");
    }
    assert!(matches!(
        import_bytes(b"not an onnx file at all"),
        Err(Error::Tract { .. })
    ));
    assert!(matches!(
        import_file("/nonexistent/model.onnx"),
        Err(Error::Io { .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn importer_survives_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = import_bytes(&bytes);
    }

    #[test]
    fn importer_survives_corrupted_models(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6)) {
        let mut bytes = good_bytes();
        let n = bytes.len();
        for (i, v) in flips {
            bytes[i % n] ^= v | 1;
        }
        if let Ok(model) = import_bytes(&bytes) {
            let x = vec![0.5f32; model.architecture().input_len()];
            let _ = model.forward(&x);
        }
    }
}

/// Found by the `onnx_import` fuzz target: a graph output that no node produces made tract
/// panic on an unchecked name lookup (caught, but reported as `TractPanic`); it is now
/// refused up front with a clear message.
#[test]
fn rejects_graph_output_that_no_node_produces() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/fuzz/output_not_produced.onnx"
    );
    let bytes = std::fs::read(path).expect("fixture exists");
    match import_bytes(&bytes) {
        Err(Error::Interface { reason }) => assert!(reason.contains("not produced"), "{reason}"),
        other => panic!("expected an interface error, got {other:?}"),
    }
}
