//! The float evaluator on hand-computed cases.

use counterweight_model::{Architecture, Error, Layer, Model};

use crate::support::{conv, linear, pool};

fn close(a: &[f32], b: &[f32]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() < 1e-5, "{a:?} vs {b:?}");
    }
}

#[test]
fn linear_relu_matches_hand_computation() {
    let arch = Architecture::new(vec![2], vec![linear(2, 2), Layer::Relu]).unwrap();
    // W = [[1, 2], [-3, 1]], b = [0.5, -1]
    let m = Model::from_flat(arch, vec![1.0, 2.0, -3.0, 1.0, 0.5, -1.0]).unwrap();
    close(&m.forward(&[1.0, 1.0]).unwrap(), &[3.5, 0.0]);
    close(&m.forward(&[-1.0, 0.0]).unwrap(), &[0.0, 2.0]);
}

#[test]
fn padded_conv_reads_zeros_outside() {
    // 1 channel 2x2 input, 3x3 all-ones kernel, padding 1: every output is the sum of the
    // whole input (each 3x3 window covers all four pixels), plus bias.
    let arch = Architecture::new(vec![1, 2, 2], vec![conv(1, 1, 3, 1, 1)]).unwrap();
    let mut params = vec![1.0; 9];
    params.push(0.25);
    let m = Model::from_flat(arch, params).unwrap();
    close(&m.forward(&[1.0, 2.0, 3.0, 4.0]).unwrap(), &[10.25; 4]);
}

#[test]
fn strided_conv_picks_windows() {
    // 1x3x3 input, 1x1 kernel weight 2, stride 2: picks the four corners.
    let arch = Architecture::new(vec![1, 3, 3], vec![conv(1, 1, 1, 2, 0)]).unwrap();
    let m = Model::from_flat(arch, vec![2.0, 0.0]).unwrap();
    let x: Vec<f32> = (1..=9).map(|v| v as f32).collect();
    close(&m.forward(&x).unwrap(), &[2.0, 6.0, 14.0, 18.0]);
}

#[test]
fn pools_flatten_and_softmax() {
    let arch = Architecture::new(
        vec![1, 4, 4],
        vec![Layer::MaxPool2d(pool(2, 2)), Layer::Flatten],
    )
    .unwrap();
    let m = Model::zeros(arch);
    let x: Vec<f32> = (0..16).map(|v| v as f32).collect();
    close(&m.forward(&x).unwrap(), &[5.0, 7.0, 13.0, 15.0]);

    let arch = Architecture::new(vec![1, 4, 4], vec![Layer::AvgPool2d(pool(2, 2))]).unwrap();
    close(
        &Model::zeros(arch).forward(&x).unwrap(),
        &[2.5, 4.5, 10.5, 12.5],
    );

    let arch = Architecture::new(vec![3], vec![Layer::Softmax]).unwrap();
    let y = Model::zeros(arch).forward(&[1.0, 2.0, 1000.0]).unwrap();
    close(&y, &[0.0, 0.0, 1.0]);
}

#[test]
fn rejects_bad_inputs() {
    let arch = Architecture::new(vec![2], vec![linear(2, 1)]).unwrap();
    let m = Model::zeros(arch);
    assert!(matches!(
        m.forward(&[1.0]),
        Err(Error::LengthMismatch { .. })
    ));
    assert!(matches!(
        m.forward(&[1.0, f32::NAN]),
        Err(Error::NonFinite { index: 1, .. })
    ));
}
