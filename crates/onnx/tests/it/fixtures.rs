//! "ONNX import equals the float evaluator": every fixture's reference outputs (computed by
//! onnxruntime when the fixtures were generated) are reproduced by the imported model.

use std::path::PathBuf;

use counterweight_model::{Layer, Linear, quantize};
use counterweight_onnx::{Error, import_file};

#[derive(serde::Deserialize)]
struct Reference {
    input_shape: Vec<usize>,
    inputs: Vec<Vec<f32>>,
    outputs: Vec<Vec<f32>>,
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn reference(name: &str) -> anyhow::Result<Reference> {
    let text = std::fs::read_to_string(fixture(&format!("{name}.json")))?;
    Ok(serde_json::from_str(&text)?)
}

/// Import `name`, check its input shape and its outputs against onnxruntime within 1e-4
/// (absolute, plus 1e-4 relative).
fn check(name: &str) -> anyhow::Result<counterweight_model::Model> {
    let model = import_file(fixture(&format!("{name}.onnx")))?;
    let r = reference(name)?;
    assert_eq!(
        model.architecture().input_shape(),
        r.input_shape.as_slice(),
        "{name}"
    );
    assert!(!r.inputs.is_empty());
    for (x, want) in r.inputs.iter().zip(&r.outputs) {
        let got = model.forward(x)?;
        assert_eq!(got.len(), want.len(), "{name}");
        for (g, w) in got.iter().zip(want) {
            assert!(
                (g - w).abs() <= 1e-4 + 1e-4 * w.abs(),
                "{name}: {got:?} vs {want:?}"
            );
        }
    }
    Ok(model)
}

#[test]
fn imports_gemm_mlp_with_softmax() -> anyhow::Result<()> {
    let m = check("mlp_gemm")?;
    assert_eq!(
        m.architecture().layers(),
        &[
            Layer::Linear(Linear {
                in_features: 8,
                out_features: 16
            }),
            Layer::Relu,
            Layer::Linear(Linear {
                in_features: 16,
                out_features: 4
            }),
            Layer::Softmax,
        ]
    );
    Ok(())
}

#[test]
fn imports_matmul_add_and_untransposed_gemm() -> anyhow::Result<()> {
    let m = check("mlp_matmul")?;
    assert_eq!(m.architecture().layers().len(), 3);
    Ok(())
}

#[test]
fn imports_cnn_with_padding_stride_and_both_pools() -> anyhow::Result<()> {
    let m = check("cnn_pools")?;
    let ops: Vec<&str> = m
        .architecture()
        .layers()
        .iter()
        .map(Layer::op_name)
        .collect();
    assert_eq!(
        ops,
        [
            "Conv2d",
            "Relu",
            "MaxPool2d",
            "Conv2d",
            "Relu",
            "AvgPool2d",
            "Flatten",
            "Linear"
        ]
    );
    Ok(())
}

#[test]
fn imports_bias_free_conv_and_reshape() -> anyhow::Result<()> {
    let m = check("cnn_reshape")?;
    let ops: Vec<&str> = m
        .architecture()
        .layers()
        .iter()
        .map(Layer::op_name)
        .collect();
    assert_eq!(ops, ["Conv2d", "Relu", "Flatten", "Linear"]);
    Ok(())
}

/// The three models of the EZKL anchor benchmark, byte for byte.
#[test]
fn imports_the_anchor_benchmark_models() -> anyhow::Result<()> {
    for (name, params) in [
        ("anchors/mlp_64_32_10", 64 * 32 + 32 + 32 * 10 + 10),
        ("anchors/mlp_784_128_10", 784 * 128 + 128 + 128 * 10 + 10),
        ("anchors/cnn_28", 4 * 9 + 4 + 2704 * 10 + 10),
    ] {
        let m = check(name)?;
        assert_eq!(m.parameter_count(), params, "{name}");
        // The fixed-point model built from it agrees with the float argmax on the kit's input.
        let r = reference(name)?;
        let q = quantize(&m, &r.inputs)?;
        let float_class = counterweight_model::argmax(&m.forward(&r.inputs[0])?);
        assert_eq!(Some(q.predict(&r.inputs[0])?), float_class, "{name}");
    }
    Ok(())
}

#[test]
fn rejects_unknown_operators_by_name() {
    match import_file(fixture("unsupported_sigmoid.onnx")) {
        Err(Error::UnsupportedOp { op, .. }) => assert!(op.contains("igmoid"), "{op}"),
        other => panic!("expected UnsupportedOp, got {other:?}"),
    }
}

#[test]
fn lists_its_supported_operators() {
    let ops = counterweight_onnx::supported_ops();
    for op in [
        "EinSum", "Conv", "MaxPool", "SumPool", "Softmax", "Max", "Add",
    ] {
        assert!(ops.iter().any(|r| r.tract_op == op), "{op}");
    }
}
