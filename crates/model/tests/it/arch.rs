//! Shape inference, validation, hashing and the flat parameter layout.

use counterweight_model::{Architecture, Error, Layer, Model};

use crate::support::{cnn_arch, conv, linear, mlp_arch, pool};

#[test]
fn infers_every_shape_of_the_cnn() {
    let arch = cnn_arch();
    let shapes: Vec<Vec<usize>> = arch.shapes().to_vec();
    assert_eq!(
        shapes,
        vec![
            vec![1, 8, 8],
            vec![8, 8, 8],
            vec![8, 8, 8],
            vec![8, 4, 4],
            vec![16, 4, 4],
            vec![16, 4, 4],
            vec![16, 2, 2],
            vec![64],
            vec![10],
        ]
    );
    assert_eq!(arch.output_shape(), &[10]);
}

#[test]
fn strided_conv_output_uses_floor() {
    let arch = Architecture::new(vec![2, 7, 6], vec![conv(2, 3, 3, 2, 0)]).unwrap();
    assert_eq!(arch.output_shape(), &[3, 3, 2]);
}

#[test]
fn rejects_linear_on_rank3_input() {
    let err = Architecture::new(vec![1, 4, 4], vec![linear(16, 2)]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::ShapeMismatch {
                layer: 0,
                op: "Linear",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn rejects_wrong_in_features_channels_and_oversized_window() {
    assert!(matches!(
        Architecture::new(vec![5], vec![linear(4, 2)]),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        Architecture::new(vec![2, 4, 4], vec![conv(3, 2, 3, 1, 0)]),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        Architecture::new(vec![1, 2, 2], vec![Layer::MaxPool2d(pool(3, 1))]),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        Architecture::new(vec![1, 4, 4], vec![Layer::Softmax]),
        Err(Error::ShapeMismatch { .. })
    ));
}

#[test]
fn rejects_zero_sizes_and_degenerate_geometry() {
    assert!(matches!(
        Architecture::new(vec![], vec![]),
        Err(Error::InvalidShape { .. })
    ));
    assert!(matches!(
        Architecture::new(vec![0], vec![]),
        Err(Error::InvalidShape { .. })
    ));
    assert!(matches!(
        Architecture::new(vec![4], vec![linear(4, 0)]),
        Err(Error::InvalidLayer { .. })
    ));
    assert!(matches!(
        Architecture::new(vec![1, 4, 4], vec![conv(1, 1, 3, 0, 0)]),
        Err(Error::InvalidLayer { .. })
    ));
    assert!(matches!(
        Architecture::new(vec![1, 4, 4], vec![conv(1, 1, 3, 1, 3)]),
        Err(Error::InvalidLayer { .. })
    ));
}

#[test]
fn rejects_tensors_and_parameter_counts_beyond_limits() {
    assert!(matches!(
        Architecture::new(vec![usize::MAX, 2], vec![]),
        Err(Error::InvalidShape { .. })
    ));
    assert!(matches!(
        Architecture::new(vec![1 << 20], vec![linear(1 << 20, 1 << 20)]),
        Err(Error::InvalidLayer { .. })
    ));
}

#[test]
fn hash_is_stable_and_sensitive() {
    let a = mlp_arch();
    // Golden value: changing the canonical encoding is a breaking, reviewed change.
    assert_eq!(
        a.hash().to_string(),
        "cd6d7f60f877c2a061eff57918224f66869a9dcd3439bcbef04ff35738ad5d5e"
    );
    assert_eq!(a.hash(), mlp_arch().hash());
    let b = Architecture::new(vec![64], vec![linear(64, 64), Layer::Relu, linear(64, 10)]).unwrap();
    assert_ne!(a.hash(), b.hash());
    let c = Architecture::new(
        vec![64],
        vec![linear(64, 32), Layer::Relu, linear(32, 10), Layer::Softmax],
    )
    .unwrap();
    assert_ne!(a.hash(), c.hash());
}

#[test]
fn serde_round_trips_and_validates() {
    let arch = cnn_arch();
    let json = serde_json::to_string(&arch).unwrap();
    let back: Architecture = serde_json::from_str(&json).unwrap();
    assert_eq!(back, arch);
    let bad = r#"{"input_shape":[3],"layers":[{"Linear":{"in_features":4,"out_features":2}}]}"#;
    assert!(serde_json::from_str::<Architecture>(bad).is_err());
}

#[test]
fn flat_layout_is_layers_in_order_weight_then_bias() {
    let arch = cnn_arch();
    let spans = arch.param_spans();
    assert_eq!(
        spans.iter().map(|s| s.layer).collect::<Vec<_>>(),
        vec![0, 3, 7]
    );
    assert_eq!((spans[0].weight_offset, spans[0].weight_len), (0, 8 * 9));
    assert_eq!((spans[0].bias_offset, spans[0].bias_len), (72, 8));
    assert_eq!(spans[1].weight_offset, 80);
    assert_eq!(spans[1].weight_shape, vec![16, 8, 3, 3]);
    assert_eq!(arch.parameter_count(), 80 + 16 * 8 * 9 + 16 + 64 * 10 + 10);

    let flat: Vec<f32> = (0..arch.parameter_count())
        .map(|i| i as f32 * 1e-3)
        .collect();
    let model = Model::from_flat(arch.clone(), flat.clone()).unwrap();
    assert_eq!(model.to_flat(), flat);
    let (w, b) = model.layer_params(3).unwrap();
    assert_eq!(w[0], flat[80]);
    assert_eq!(b[0], flat[80 + 1152]);
    assert!(model.layer_params(1).is_none());
}

#[test]
fn from_flat_rejects_wrong_length_and_non_finite() {
    let arch = mlp_arch();
    let n = arch.parameter_count();
    assert!(matches!(
        Model::from_flat(arch.clone(), vec![0.0; n - 1]),
        Err(Error::LengthMismatch { .. })
    ));
    let mut flat = vec![0.0; n];
    flat[17] = f32::NAN;
    assert!(matches!(
        Model::from_flat(arch.clone(), flat.clone()),
        Err(Error::NonFinite { index: 17, .. })
    ));
    flat[17] = f32::INFINITY;
    let mut m = Model::zeros(arch);
    assert!(m.set_flat(&flat).is_err());
    assert!(
        m.params().iter().all(|&p| p == 0.0),
        "failed set_flat leaves the model unchanged"
    );
}

#[test]
fn he_init_is_reproducible_and_scaled() {
    let a = Model::init_he(mlp_arch(), 1);
    assert_eq!(a, Model::init_he(mlp_arch(), 1));
    assert_ne!(a, Model::init_he(mlp_arch(), 2));
    let (w, b) = a.layer_params(0).unwrap();
    let var = w.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>() / w.len() as f64;
    assert!(
        (var - 2.0 / 64.0).abs() < 0.2 * 2.0 / 64.0,
        "variance {var}"
    );
    assert!(b.iter().all(|&v| v == 0.0));
}
