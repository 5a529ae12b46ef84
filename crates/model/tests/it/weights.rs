//! safetensors load/save and its failure modes.

use counterweight_model::{Architecture, Error, Model};
use proptest::prelude::*;
use safetensors::{Dtype, tensor::TensorView};

use crate::support::{cnn_arch, linear, mlp_arch};

fn encode(tensors: &[(&str, Dtype, Vec<usize>, Vec<u8>)]) -> Vec<u8> {
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .map(|(n, d, s, b)| (n.to_string(), TensorView::new(*d, s.clone(), b).unwrap()))
        .collect();
    safetensors::serialize(views, None).unwrap()
}

fn f32s(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn tiny() -> Architecture {
    Architecture::new(vec![2], vec![linear(2, 1)]).unwrap()
}

#[test]
fn round_trips_through_bytes_and_files() {
    let model = Model::init_he(cnn_arch(), 3);
    let bytes = model.to_safetensors().unwrap();
    let back = Model::from_safetensors(cnn_arch(), &bytes).unwrap();
    assert_eq!(back, model);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.safetensors");
    model.save_safetensors(&path).unwrap();
    assert_eq!(Model::load_safetensors(cnn_arch(), &path).unwrap(), model);
    assert!(matches!(
        Model::load_safetensors(cnn_arch(), dir.path().join("missing")),
        Err(Error::Io { .. })
    ));
}

#[test]
fn rejects_weights_for_another_architecture() {
    let bytes = Model::init_he(mlp_arch(), 3).to_safetensors().unwrap();
    assert!(Model::from_safetensors(cnn_arch(), &bytes).is_err());
}

#[test]
fn rejects_wrong_shape_dtype_missing_and_extra_tensors() {
    let wrong_shape = encode(&[
        ("layers.0.weight", Dtype::F32, vec![2, 1], f32s(&[1.0, 2.0])),
        ("layers.0.bias", Dtype::F32, vec![1], f32s(&[0.0])),
    ]);
    assert!(matches!(
        Model::from_safetensors(tiny(), &wrong_shape),
        Err(Error::TensorShape { .. })
    ));
    let wrong_dtype = encode(&[
        ("layers.0.weight", Dtype::I32, vec![1, 2], vec![0; 8]),
        ("layers.0.bias", Dtype::F32, vec![1], f32s(&[0.0])),
    ]);
    assert!(matches!(
        Model::from_safetensors(tiny(), &wrong_dtype),
        Err(Error::WeightsFile {
            reason: "dtype is not F32",
            ..
        })
    ));
    let missing = encode(&[("layers.0.weight", Dtype::F32, vec![1, 2], f32s(&[1.0, 2.0]))]);
    assert!(matches!(
        Model::from_safetensors(tiny(), &missing),
        Err(Error::WeightsFile {
            reason: "missing tensor",
            ..
        })
    ));
    let extra = encode(&[
        ("layers.0.weight", Dtype::F32, vec![1, 2], f32s(&[1.0, 2.0])),
        ("layers.0.bias", Dtype::F32, vec![1], f32s(&[0.0])),
        ("layers.9.bias", Dtype::F32, vec![1], f32s(&[0.0])),
    ]);
    match Model::from_safetensors(tiny(), &extra) {
        Err(Error::WeightsFile { tensor, reason }) => {
            assert_eq!(
                (tensor.as_str(), reason),
                ("layers.9.bias", "unexpected tensor")
            )
        }
        other => panic!("expected unexpected-tensor error, got {other:?}"),
    }
}

#[test]
fn rejects_nan_and_infinite_weights() {
    for bad in [f32::NAN, f32::NEG_INFINITY] {
        let bytes = encode(&[
            ("layers.0.weight", Dtype::F32, vec![1, 2], f32s(&[1.0, bad])),
            ("layers.0.bias", Dtype::F32, vec![1], f32s(&[0.0])),
        ]);
        assert!(matches!(
            Model::from_safetensors(tiny(), &bytes),
            Err(Error::NonFinite { index: 1, .. })
        ));
    }
}

#[test]
fn rejects_corrupt_bytes() {
    let good = Model::init_he(mlp_arch(), 1).to_safetensors().unwrap();
    for cut in [0, 7, 8, 20, good.len() - 1] {
        assert!(
            matches!(
                Model::from_safetensors(mlp_arch(), &good[..cut]),
                Err(Error::Safetensors(_))
            ),
            "truncated at {cut}"
        );
    }
    let mut header_len_huge = good.clone();
    header_len_huge[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(Model::from_safetensors(mlp_arch(), &header_len_huge).is_err());
    let mut bad_json = good;
    bad_json[8] = b'[';
    assert!(Model::from_safetensors(mlp_arch(), &bad_json).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The loader never panics on arbitrary bytes (mirrors the fuzz target).
    #[test]
    fn loader_survives_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Model::from_safetensors(tiny(), &bytes);
    }

    /// Nor on a valid file with random bytes flipped.
    #[test]
    fn loader_survives_corrupted_files(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
        let mut bytes = Model::init_he(tiny(), 5).to_safetensors().unwrap();
        let n = bytes.len();
        for (i, v) in flips {
            bytes[i % n] ^= v | 1;
        }
        let _ = Model::from_safetensors(tiny(), &bytes);
    }
}
