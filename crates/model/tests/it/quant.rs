//! The quantisation scheme: requantisation arithmetic, validation, trace structure and
//! bit-exact golden values.

use counterweight_model::{
    Architecture, Error, Layer, Model, QLayer, QuantizedModel, QuantizedModelSpec, Requant,
    quantize,
};
use proptest::prelude::*;

use crate::support::{cnn_arch, linear, mlp_arch};

#[test]
fn requantisation_rounds_half_up() {
    // m / 2^sh = 1/2: 5 → 2.5 → 3, −5 → −2.5 → −2, 3 → 1.5 → 2, −3 → −1.5 → −1.
    let half = Requant {
        multiplier: 1 << 30,
        shift: 31,
    };
    let got: Vec<i64> = [5, -5, 3, -3, 4, -4]
        .iter()
        .map(|&a| half.apply(a).unwrap())
        .collect();
    assert_eq!(got, vec![3, -2, 2, -1, 2, -2]);
    assert_eq!(half.requantize(1000, false), Some(127));
    assert_eq!(half.requantize(-1000, false), Some(-128));
    assert_eq!(half.requantize(-6, true), Some(0));
    assert_eq!(half.requantize(6, true), Some(3));
}

#[test]
fn requantisation_never_overflows_within_the_documented_bound() {
    // |acc| ≤ 2^31 + MAX_DOT_LENGTH · 2^14 with the largest multiplier and every shift.
    let bound = (1i64 << 31) + (counterweight_model::MAX_DOT_LENGTH as i64) * (1 << 14);
    for sh in [1u8, 31, 62] {
        let r = Requant {
            multiplier: (1u32 << 31) - 1,
            shift: sh,
        };
        assert!(
            r.apply(bound).is_some() && r.apply(-bound).is_some(),
            "shift {sh}"
        );
    }
}

#[test]
fn from_ratio_normalises_the_multiplier() {
    let r = Requant::from_ratio(0.5).unwrap();
    assert_eq!((r.multiplier, r.shift), (1 << 30, 31));
    let r = Requant::from_ratio(0.003).unwrap();
    assert!((1u32 << 30..1u32 << 31).contains(&r.multiplier));
    assert!((r.ratio() - 0.003).abs() / 0.003 < 1e-9);
    // Too large for shift ≥ 1, not positive, not finite, or vanishing at shift 62.
    for bad in [2f64.powi(31), 0.0, -1.0, f64::NAN, f64::INFINITY, 1e-30] {
        assert!(Requant::from_ratio(bad).is_none(), "{bad}");
    }
    // Tiny ratios fall back to shift 62 with a smaller multiplier.
    let tiny = Requant::from_ratio(2f64.powi(-40)).unwrap();
    assert_eq!(tiny.shift, 62);
    assert_eq!(tiny.multiplier, 1 << 22);
}

#[test]
fn multiplier_bits_cut_the_shift_and_keep_the_ratio() {
    let r = Requant::from_ratio(0.003).unwrap().with_multiplier_bits(14);
    assert!((1u32 << 13..1u32 << 14).contains(&r.multiplier), "{r:?}");
    assert!((r.ratio() - 0.003).abs() / 0.003 <= 2f64.powi(-13));
    // Rounding up into a new top bit halves the multiplier instead.
    let carry = Requant {
        multiplier: (1 << 31) - 1,
        shift: 40,
    }
    .with_multiplier_bits(14);
    assert_eq!((carry.multiplier, carry.shift), (1 << 13, 22));
    // The shift never drops below 1; already-short multipliers are unchanged.
    let low = Requant {
        multiplier: (1 << 30) + 5,
        shift: 3,
    }
    .with_multiplier_bits(14);
    assert_eq!(low.shift, 1);
    assert!(low.is_valid());
    let short = Requant {
        multiplier: 77,
        shift: 9,
    };
    assert_eq!(short.with_multiplier_bits(14), short);
}

proptest! {
    #[test]
    fn multiplier_bits_stay_valid_and_close(ratio in 1e-9f64..1e6, bits in 8u32..=31) {
        let r = Requant::from_ratio(ratio).unwrap().with_multiplier_bits(bits);
        prop_assert!(r.is_valid());
        prop_assert!(r.multiplier < 1 << bits || r.shift == 1);
        if r.shift > 1 {
            prop_assert!((r.ratio() - ratio).abs() / ratio <= 2f64.powi(1 - bits as i32));
        }
    }

    #[test]
    fn from_ratio_is_accurate_and_valid(ratio in 1e-9f64..1e6) {
        let r = Requant::from_ratio(ratio).unwrap();
        prop_assert!(r.is_valid());
        prop_assert!(r.multiplier >= 1 << 30);
        prop_assert!((r.ratio() - ratio).abs() / ratio <= 2f64.powi(-30));
    }

    /// The integer rule equals exact rational rounding half up: floor(acc·m / 2^sh + 1/2).
    #[test]
    fn apply_equals_rational_rounding(acc in -(3i64 << 30)..(3i64 << 30), m in 1u32..(1 << 31), sh in 1u8..=62) {
        let r = Requant { multiplier: m, shift: sh };
        let exact = (i128::from(acc) * i128::from(m) + (1i128 << (sh - 1))).div_euclid(1i128 << sh);
        prop_assert_eq!(i128::from(r.apply(acc).unwrap()), exact);
    }
}

/// A model from an integer formula (no transcendental functions), so its bits are the same on
/// every platform.
fn formula_model() -> Model {
    let arch = mlp_arch();
    let flat = (0..arch.parameter_count())
        .map(|i| ((i * 7919 % 201) as f32 - 100.0) / 800.0)
        .collect();
    Model::from_flat(arch, flat).unwrap()
}

fn mlp_spec() -> QuantizedModelSpec {
    let model = formula_model();
    let calib: Vec<Vec<f32>> = (0..8)
        .map(|i| (0..64).map(|j| ((i * 64 + j) % 17) as f32 / 16.0).collect())
        .collect();
    quantize(&model, &calib).unwrap().spec().clone()
}

#[test]
fn quantiser_fuses_relu_and_drops_trailing_softmax() {
    let spec = mlp_spec();
    assert_eq!(spec.layers.len(), 2);
    assert!(matches!(&spec.layers[0], QLayer::Linear(l) if l.relu));
    assert!(matches!(&spec.layers[1], QLayer::Linear(l) if !l.relu));
    assert!(spec.softmax);
    let q = QuantizedModel::new(spec).unwrap();
    assert_eq!(q.architecture().unwrap().hash(), mlp_arch().hash());
}

#[test]
fn rejects_softmax_before_the_end_and_empty_calibration() {
    let arch = Architecture::new(vec![4], vec![Layer::Softmax, linear(4, 2)]).unwrap();
    let m = Model::init_he(arch, 1);
    assert!(matches!(
        quantize(&m, &[vec![0.0; 4]]),
        Err(Error::UnsupportedSequence { layer: 0, .. })
    ));
    assert!(matches!(quantize(&m, &[]), Err(Error::NoCalibrationData)));
    let ok = Model::init_he(mlp_arch(), 1);
    assert!(matches!(
        quantize(&ok, &[vec![f32::NAN; 64]]),
        Err(Error::NonFinite { .. })
    ));
    assert!(matches!(
        quantize(&ok, &[vec![0.0; 3]]),
        Err(Error::LengthMismatch { .. })
    ));
}

#[test]
fn validation_rejects_broken_parameters() {
    let good = mlp_spec();
    let mut bad = good.clone();
    if let QLayer::Linear(l) = &mut bad.layers[0] {
        l.requant[3].multiplier = 0;
    }
    assert!(matches!(
        QuantizedModel::new(bad),
        Err(Error::InvalidQuantized { layer: 0, .. })
    ));
    let mut bad = good.clone();
    if let QLayer::Linear(l) = &mut bad.layers[1] {
        l.requant[0].shift = 63;
    }
    assert!(QuantizedModel::new(bad).is_err());
    let mut bad = good.clone();
    if let QLayer::Linear(l) = &mut bad.layers[1] {
        l.weight.pop();
    }
    assert!(QuantizedModel::new(bad).is_err());
    let mut bad = good.clone();
    bad.activation_scales[1] = f32::NAN;
    assert!(QuantizedModel::new(bad).is_err());
    let mut bad = good.clone();
    bad.activation_scales.pop();
    assert!(QuantizedModel::new(bad).is_err());
    let mut bad = good;
    bad.input_shape = vec![63];
    assert!(QuantizedModel::new(bad).is_err());
    // A huge dot product is refused before any evaluation could overflow.
    let arch = Architecture::new(vec![1 << 17], vec![linear(1 << 17, 1)]).unwrap();
    let m = Model::zeros(arch);
    assert!(matches!(
        quantize(&m, &[vec![0.0; 1 << 17]]),
        Err(Error::InvalidQuantized { .. })
    ));
}

#[test]
fn serde_round_trips_and_revalidates() {
    let q = QuantizedModel::new(mlp_spec()).unwrap();
    let json = serde_json::to_string(&q).unwrap();
    let back: QuantizedModel = serde_json::from_str(&json).unwrap();
    assert_eq!(back, q);
    let broken = json.replacen("\"shift\":", "\"shift\":99,\"x\":", 1);
    assert!(serde_json::from_str::<QuantizedModel>(&broken).is_err());
}

#[test]
fn trace_is_consistent_with_evaluate_and_requantisation() {
    let model = Model::init_he(cnn_arch(), 5);
    let calib: Vec<Vec<f32>> = (0..4)
        .map(|i| (0..64).map(|j| ((i + j) % 9) as f32 / 8.0).collect())
        .collect();
    let q = quantize(&model, &calib).unwrap();
    let x = q.quantize_input(&calib[1]).unwrap();
    let trace = q.trace(&x).unwrap();
    assert_eq!(trace.output, q.evaluate(&x).unwrap());
    assert_eq!(trace.layers.len(), q.layers().len());
    assert_eq!(trace.layers[0].input, x);
    for (i, (lt, layer)) in trace.layers.iter().zip(q.layers()).enumerate() {
        let out_len: usize = q.shapes()[i + 1].iter().product();
        assert_eq!(lt.output.len(), out_len);
        if let Some(next) = trace.layers.get(i + 1) {
            assert_eq!(next.input, lt.output);
        }
        match layer {
            QLayer::Conv2d(c) => {
                let per = out_len / c.geometry.out_channels;
                for (j, (&acc, &y)) in lt.accumulators.iter().zip(&lt.output).enumerate() {
                    assert_eq!(c.requant[j / per].requantize(acc, c.relu), Some(y));
                }
            }
            QLayer::Linear(l) => {
                for (j, (&acc, &y)) in lt.accumulators.iter().zip(&lt.output).enumerate() {
                    assert_eq!(l.requant[j].requantize(acc, l.relu), Some(y));
                }
            }
            QLayer::AvgPool2d(_) => assert_eq!(lt.accumulators.len(), out_len),
            _ => assert!(lt.accumulators.is_empty()),
        }
    }
    assert!(matches!(
        q.evaluate(&x[1..]),
        Err(Error::LengthMismatch { .. })
    ));
}

/// Bit-exactness: these values are what every machine must compute. Changing them is a
/// deliberate change of the quantisation format.
#[test]
fn golden_quantised_model_and_trace() {
    let q = QuantizedModel::new(mlp_spec()).unwrap();
    let x = q
        .quantize_input(&(0..64).map(|j| (j % 7) as f32 / 7.0).collect::<Vec<_>>())
        .unwrap();
    let out = q.evaluate(&x).unwrap();
    assert_eq!(
        q.weights_hash().to_string(),
        "7f8bd1e1d10b68efe58b60e52e3356bd6b697d9025f2c3ecd05128595319e64f"
    );
    assert_eq!(
        q.public_params_hash().to_string(),
        "8767c426f417db0ed8a7c3e2762c88a6a69f0ec6664c0980a3a8149038cdac88"
    );
    assert_eq!(out, vec![-62, 117, -63, 53, -73, 13, 11, -29, -51, -60]);
}
