//! Parsing with tract and lowering the decluttered graph to the model IR.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Arc;

use counterweight_model::{Architecture, Conv2d, Layer, Linear, Model, Pool2d};
use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::binary::TypedBinOp;
use tract_onnx::tract_core::ops::change_axes::AxisOp;
use tract_onnx::tract_core::ops::cnn::{
    Conv, KernelFormat, MaxPool, PaddingSpec, PoolSpec, SumPool,
};
use tract_onnx::tract_core::ops::einsum::EinSum;
use tract_onnx::tract_core::ops::nn::{DataFormat, Softmax};

use crate::error::{Error, Result};

/// Largest ONNX file [`import_file`] reads (1 GiB).
pub const MAX_ONNX_FILE_BYTES: u64 = 1 << 30;

/// A lowering rule: the tract operator it handles and what it becomes in the IR.
#[derive(Debug, Clone, Copy)]
pub struct OpRule {
    /// tract's operator name in the decluttered graph (`Op::name`).
    pub tract_op: &'static str,
    /// What the importer produces from it.
    pub lowers_to: &'static str,
}

type Handler = fn(&mut Lowering, &TypedModel, &TypedNode) -> Result<()>;

/// The op registry: every decluttered tract operator the importer understands, in lookup
/// order. Anything else is [`Error::UnsupportedOp`].
const REGISTRY: &[(OpRule, Handler)] = &[
    (rule("Source", "the model input"), Lowering::source),
    (
        rule("Const", "a weight, bias or shape constant"),
        Lowering::konst,
    ),
    (
        rule("EinSum", "Linear (matrix product with a constant weight)"),
        Lowering::einsum,
    ),
    (
        rule("Add", "the bias of the preceding Linear/Conv2d"),
        Lowering::add,
    ),
    (rule("Max", "Relu (max with a constant 0)"), Lowering::max),
    (
        rule(
            "Conv",
            "Conv2d (groups 1, no dilation, symmetric zero padding)",
        ),
        Lowering::conv,
    ),
    (
        rule("MaxPool", "MaxPool2d (no padding)"),
        Lowering::max_pool,
    ),
    (
        rule("SumPool", "AvgPool2d (normalised, no padding)"),
        Lowering::sum_pool,
    ),
    (
        rule("Reshape", "Flatten, or nothing for a batch-axis reshape"),
        Lowering::axis_op,
    ),
    (rule("AddAxis", "nothing (unit axis)"), Lowering::axis_op),
    (
        rule("RmAxis", "nothing (unit axis), or Flatten"),
        Lowering::axis_op,
    ),
    (
        rule("MoveAxis", "nothing when only unit axes move"),
        Lowering::axis_op,
    ),
    (
        rule("Softmax", "Softmax over the feature axis"),
        Lowering::softmax,
    ),
];

const fn rule(tract_op: &'static str, lowers_to: &'static str) -> OpRule {
    OpRule {
        tract_op,
        lowers_to,
    }
}

/// The supported tract operators and what each becomes, for documentation and error messages.
pub fn supported_ops() -> Vec<OpRule> {
    REGISTRY.iter().map(|(r, _)| *r).collect()
}

/// Import an ONNX model from bytes.
///
/// The model must have one float input of fixed shape (a leading batch axis of 1 is dropped)
/// and one output, and be a chain of supported operators ([`supported_ops`]). It is parsed
/// and simplified by tract (`into_typed` then `declutter`) and lowered to a [`Model`].
///
/// # Errors
/// [`Error::Tract`]/[`Error::TractPanic`] for bytes tract cannot read; [`Error::UnsupportedOp`]
/// or [`Error::Unsupported`] for operators the IR lacks; [`Error::Interface`] for dynamic
/// shapes or several inputs/outputs; [`Error::Model`] if the result is not a valid model.
pub fn import_bytes(bytes: &[u8]) -> Result<Model> {
    let onnx = tract_onnx::onnx();
    let proto = guarded("parse", || {
        let mut reader = bytes;
        onnx.proto_model_for_read(&mut reader)
    })?;
    check_outputs_defined(&proto)?;
    let typed = guarded("parse", || onnx.model_for_proto_model(&proto))?;
    let typed = guarded("type", move || typed.into_typed())?;
    let typed = guarded("declutter", move || typed.into_decluttered())?;
    lower(&typed)
}

/// Read an ONNX file of at most [`MAX_ONNX_FILE_BYTES`] and import it as [`import_bytes`] does.
///
/// # Errors
/// [`Error::Io`], [`Error::TooLarge`], or as [`import_bytes`].
pub fn import_file(path: impl AsRef<Path>) -> Result<Model> {
    let path = path.as_ref();
    let io = |source| Error::Io {
        path: path.display().to_string(),
        source,
    };
    let size_bytes = std::fs::metadata(path).map_err(io)?.len();
    if size_bytes > MAX_ONNX_FILE_BYTES {
        return Err(Error::TooLarge {
            size_bytes,
            max_bytes: MAX_ONNX_FILE_BYTES,
        });
    }
    let bytes = std::fs::read(path).map_err(io)?;
    import_bytes(&bytes)
}

/// Reject graph outputs that no input, initializer or node defines: tract indexes its name
/// table with them unchecked.
fn check_outputs_defined(proto: &tract_onnx::pb::ModelProto) -> Result<()> {
    let Some(graph) = &proto.graph else {
        return Ok(());
    };
    let defined: std::collections::BTreeSet<&str> = graph
        .input
        .iter()
        .map(|i| i.name.as_str())
        .chain(graph.initializer.iter().map(|t| t.name.as_str()))
        .chain(
            graph
                .node
                .iter()
                .flat_map(|n| n.output.iter().map(String::as_str)),
        )
        .collect();
    match graph
        .output
        .iter()
        .find(|o| !defined.contains(o.name.as_str()))
    {
        Some(o) => Err(Error::Interface {
            reason: format!("graph output {:?} is not produced by any node", o.name),
        }),
        None => Ok(()),
    }
}

/// Run a tract step, turning its errors and panics into [`Error`]s: tract is third-party code
/// fed untrusted bytes, and a panic there must not take the caller down.
fn guarded<T>(stage: &'static str, f: impl FnOnce() -> TractResult<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(Error::Tract {
            stage,
            source: e.into(),
        }),
        Err(_) => Err(Error::TractPanic { stage }),
    }
}

/// A value flowing through the graph during lowering.
#[derive(Debug, Clone)]
enum Value {
    Const(Arc<Tensor>),
    /// The activation, with its full tract shape.
    Act(Vec<usize>),
}

struct Lowering {
    values: BTreeMap<OutletId, Value>,
    input_shape: Option<Vec<usize>>,
    layers: Vec<Layer>,
    /// `(weight, bias)` per layer; empty for layers without parameters.
    params: Vec<(Vec<f32>, Vec<f32>)>,
    /// The outlet holding the current activation.
    current: Option<OutletId>,
}

/// The IR shape of a tract activation shape: drop a leading batch axis of 1 from rank 2
/// (`[1, n]` → `[n]`) and rank 4 (`[1, c, h, w]` → `[c, h, w]`).
fn ir_shape(shape: &[usize]) -> Vec<usize> {
    match shape {
        [1, rest @ ..] if shape.len() == 2 || shape.len() == 4 => rest.to_vec(),
        _ => shape.to_vec(),
    }
}

fn unsupported(node: &TypedNode, reason: impl Into<String>) -> Error {
    Error::Unsupported {
        node: node.name.clone(),
        op: node.op.name().to_string(),
        reason: reason.into(),
    }
}

fn tract_err(stage: &'static str) -> impl FnOnce(TractError) -> Error {
    move |e| Error::Tract {
        stage,
        source: e.into(),
    }
}

fn floats(t: &Tensor) -> Result<Vec<f32>> {
    let cast = t
        .cast_to::<f32>()
        .map_err(tract_err("read a constant of"))?;
    let view = cast
        .to_plain_array_view::<f32>()
        .map_err(tract_err("read a constant of"))?;
    Ok(view.iter().copied().collect())
}

fn concrete(model: &TypedModel, node: &TypedNode, outlet: OutletId) -> Result<Vec<usize>> {
    let fact = model.outlet_fact(outlet).map_err(tract_err("inspect"))?;
    fact.shape
        .as_concrete()
        .map(<[usize]>::to_vec)
        .ok_or_else(|| unsupported(node, "symbolic shape"))
}

impl Lowering {
    /// The node's inputs split into the single activation input and the constants.
    fn split_inputs(&self, node: &TypedNode) -> Result<(Vec<usize>, Vec<Arc<Tensor>>)> {
        let mut act = None;
        let mut consts = Vec::new();
        for i in &node.inputs {
            match self.values.get(i) {
                Some(Value::Act(shape)) => {
                    if act.is_some() || Some(*i) != self.current {
                        return Err(unsupported(
                            node,
                            "only a single chain of layers is supported",
                        ));
                    }
                    act = Some(shape.clone());
                }
                Some(Value::Const(t)) => consts.push(t.clone()),
                None => return Err(unsupported(node, "input produced by an unsupported node")),
            }
        }
        let act = act.ok_or_else(|| unsupported(node, "no activation input"))?;
        Ok((act, consts))
    }

    fn push(
        &mut self,
        model: &TypedModel,
        node: &TypedNode,
        layer: Option<(Layer, Vec<f32>, Vec<f32>)>,
    ) -> Result<()> {
        if let Some((layer, w, b)) = layer {
            self.layers.push(layer);
            self.params.push((w, b));
        }
        let outlet = OutletId::new(node.id, 0);
        let shape = concrete(model, node, outlet)?;
        self.values.insert(outlet, Value::Act(shape));
        self.current = Some(outlet);
        Ok(())
    }

    fn source(&mut self, model: &TypedModel, node: &TypedNode) -> Result<()> {
        if self.input_shape.is_some() {
            return Err(Error::Interface {
                reason: "more than one input".into(),
            });
        }
        let outlet = OutletId::new(node.id, 0);
        let fact = model.outlet_fact(outlet).map_err(tract_err("inspect"))?;
        if !fact.datum_type.is_float() {
            return Err(Error::Interface {
                reason: format!("input type {:?} is not float", fact.datum_type),
            });
        }
        let shape = fact
            .shape
            .as_concrete()
            .map(<[usize]>::to_vec)
            .ok_or_else(|| Error::Interface {
                reason: "input shape is not fixed (set a batch size of 1 when exporting)".into(),
            })?;
        self.input_shape = Some(ir_shape(&shape));
        self.values.insert(outlet, Value::Act(shape));
        self.current = Some(outlet);
        Ok(())
    }

    fn konst(&mut self, model: &TypedModel, node: &TypedNode) -> Result<()> {
        let outlet = OutletId::new(node.id, 0);
        let fact = model.outlet_fact(outlet).map_err(tract_err("inspect"))?;
        let t = fact
            .konst
            .clone()
            .ok_or_else(|| unsupported(node, "constant without a value"))?;
        self.values.insert(outlet, Value::Const(t));
        Ok(())
    }

    /// A product of the activation with a constant weight, contracting every non-unit axis
    /// of the activation. tract folds ONNX `Flatten`/`Reshape` into the product (the weight
    /// then carries the activation's axes, e.g. `mbak,nbak->mn`), so the contracted axes are
    /// flattened in the activation's own row-major order, and a `Flatten` layer is emitted when
    /// the activation has more than one axis.
    fn einsum(&mut self, model: &TypedModel, node: &TypedNode) -> Result<()> {
        let op = node
            .op_as::<EinSum>()
            .ok_or_else(|| unsupported(node, "unexpected operator type"))?;
        if op.q_params.is_some() || node.inputs.len() != 2 {
            return Err(unsupported(node, "only float products of two operands"));
        }
        let act_slot = node
            .inputs
            .iter()
            .position(|i| matches!(self.values.get(i), Some(Value::Act(_))))
            .ok_or_else(|| unsupported(node, "no activation input"))?;
        let w_slot = 1 - act_slot;
        let (act_shape, consts) = self.split_inputs(node)?;
        let [w] = consts.as_slice() else {
            return Err(unsupported(node, "the weight must be a constant"));
        };
        let out_shape = concrete(model, node, OutletId::new(node.id, 0))?;
        let w_shape = w.shape().to_vec();
        // Classify every axis by where it appears: contracted (activation and weight, not
        // output), output features (weight and output), or a unit axis anywhere else.
        let mut contracted: Vec<(usize, usize)> = Vec::new(); // (position in act, in weight)
        let mut n_axis = None;
        let not_matvec = || unsupported(node, format!("not a matrix-vector product: {}", op.axes));
        for axis in op.axes.iter_all_axes() {
            let pos = |v: Option<&TVec<usize>>| -> Result<Option<usize>> {
                match v.map(|v| v.as_slice()) {
                    None | Some([]) => Ok(None),
                    Some([p]) => Ok(Some(*p)),
                    Some(_) => Err(not_matvec()),
                }
            };
            let in_act = pos(axis.inputs.get(act_slot))?;
            let in_w = pos(axis.inputs.get(w_slot))?;
            let in_out = pos(axis.outputs.first())?;
            let dim = |p: Option<usize>, shape: &[usize]| p.and_then(|p| shape.get(p)).copied();
            match (in_act, in_w, in_out) {
                (Some(a), Some(b), None) => contracted.push((a, b)),
                (None, Some(b), Some(_)) if n_axis.is_none() => n_axis = Some(b),
                (a, b, o)
                    if dim(a, &act_shape).unwrap_or(1) == 1
                        && dim(b, &w_shape).unwrap_or(1) == 1
                        && dim(o, &out_shape).unwrap_or(1) == 1 => {}
                _ => return Err(not_matvec()),
            }
        }
        let n_axis = n_axis.ok_or_else(not_matvec)?;
        contracted.sort_unstable();
        let sizes: Vec<usize> = contracted
            .iter()
            .map(|&(a, _)| act_shape.get(a).copied().unwrap_or(0))
            .collect();
        let k: usize = sizes.iter().product();
        let n = w_shape.get(n_axis).copied().unwrap_or(0);
        let in_shape = ir_shape(&act_shape);
        if k != in_shape.iter().product::<usize>() || k == 0 || n == 0 {
            return Err(unsupported(
                node,
                "the product must contract the whole activation",
            ));
        }
        let cast = w
            .cast_to::<f32>()
            .map_err(tract_err("read a constant of"))?;
        let view = cast
            .to_plain_array_view::<f32>()
            .map_err(tract_err("read a constant of"))?;
        let mut weight = Vec::with_capacity(n * k);
        let mut idx = vec![0usize; view.ndim()];
        for o in 0..n {
            idx[n_axis] = o;
            for flat in 0..k {
                // Row-major decomposition of `flat` over the contracted activation axes.
                let mut rest = flat;
                for (&(_, w_pos), &size) in contracted.iter().zip(&sizes).rev() {
                    idx[w_pos] = rest % size;
                    rest /= size;
                }
                weight.push(view[idx.as_slice()]);
            }
        }
        if in_shape.len() > 1 {
            self.layers.push(Layer::Flatten);
            self.params.push((vec![], vec![]));
        }
        let layer = Layer::Linear(Linear {
            in_features: k,
            out_features: n,
        });
        self.push(model, node, Some((layer, weight, vec![0.0; n])))
    }

    fn add(&mut self, model: &TypedModel, node: &TypedNode) -> Result<()> {
        let (act_shape, consts) = self.split_inputs(node)?;
        let [c] = consts.as_slice() else {
            return Err(unsupported(
                node,
                "only adding a constant bias is supported",
            ));
        };
        let Some((Layer::Linear(_) | Layer::Conv2d(_), (_, bias))) =
            self.layers.last().zip(self.params.last_mut())
        else {
            return Err(unsupported(
                node,
                "a constant add must follow Linear or Conv2d",
            ));
        };
        // The constant broadcasts against the activation; it must be constant across
        // everything but the channel/feature axis, which is axis 1 of [1, n] and [1, c, h, w].
        let values = floats(c)?;
        let channels = bias.len();
        let rank = act_shape.len();
        let mut cshape = c.shape().to_vec();
        while cshape.len() < rank {
            cshape.insert(0, 1);
        }
        let channel_axis = usize::from(rank == 2 || rank == 4);
        let per_channel = cshape
            .iter()
            .enumerate()
            .all(|(a, &d)| d == 1 || (a == channel_axis && d == channels));
        if !per_channel {
            return Err(unsupported(
                node,
                format!("bias of shape {:?} is not per channel", c.shape()),
            ));
        }
        for (ch, b) in bias.iter_mut().enumerate() {
            *b += if values.len() == 1 {
                values[0]
            } else {
                values[ch]
            };
        }
        self.push(model, node, None)
    }

    fn max(&mut self, model: &TypedModel, node: &TypedNode) -> Result<()> {
        let _ = node
            .op_as::<TypedBinOp>()
            .ok_or_else(|| unsupported(node, "unexpected operator type"))?;
        let (_, consts) = self.split_inputs(node)?;
        let is_zero =
            |c: &Arc<Tensor>| floats(c).map(|v| !v.is_empty() && v.iter().all(|x| *x == 0.0));
        let not_relu = || unsupported(node, "only max(x, 0) (Relu) is supported");
        let [c] = consts.as_slice() else {
            return Err(not_relu());
        };
        if !is_zero(c)? {
            return Err(not_relu());
        }
        self.push(model, node, Some((Layer::Relu, vec![], vec![])))
    }

    fn conv(&mut self, model: &TypedModel, node: &TypedNode) -> Result<()> {
        let op = node
            .op_as::<Conv>()
            .ok_or_else(|| unsupported(node, "unexpected operator type"))?;
        if op.group != 1 || op.q_params.is_some() || op.kernel_fmt != KernelFormat::OIHW {
            return Err(unsupported(
                node,
                "only float, ungrouped, OIHW convolutions",
            ));
        }
        let (act_shape, consts) = self.split_inputs(node)?;
        let (kernel, bias) = match consts.as_slice() {
            [k] => (k.clone(), None),
            [k, b] => (k.clone(), Some(b.clone())),
            _ => return Err(unsupported(node, "kernel and bias must be constants")),
        };
        let (kh, kw, stride, padding) = window(node, &op.pool_spec, &act_shape)?;
        let in_shape = ir_shape(&act_shape);
        let [ic, _, _] = in_shape[..] else {
            return Err(unsupported(node, "Conv2d needs a [1, c, h, w] input"));
        };
        let oc = op.pool_spec.output_channels;
        if kernel.shape() != [oc, ic, kh, kw] {
            return Err(unsupported(
                node,
                format!("kernel shape {:?}", kernel.shape()),
            ));
        }
        let weight = floats(&kernel)?;
        let bias = match bias {
            Some(b) => {
                let v = floats(&b)?;
                match v.len() {
                    1 => vec![v[0]; oc],
                    n if n == oc => v,
                    _ => {
                        return Err(unsupported(
                            node,
                            "bias length differs from output channels",
                        ));
                    }
                }
            }
            None => vec![0.0; oc],
        };
        let layer = Layer::Conv2d(Conv2d {
            in_channels: ic,
            out_channels: oc,
            kernel: [kh, kw],
            stride,
            padding,
        });
        self.push(model, node, Some((layer, weight, bias)))
    }

    fn max_pool(&mut self, model: &TypedModel, node: &TypedNode) -> Result<()> {
        let op = node
            .op_as::<MaxPool>()
            .ok_or_else(|| unsupported(node, "unexpected operator type"))?;
        if op.with_index_outputs.is_some() {
            return Err(unsupported(node, "index outputs"));
        }
        let (act_shape, _) = self.split_inputs(node)?;
        let (kh, kw, stride, padding) = window(node, &op.pool_spec, &act_shape)?;
        if padding != [0, 0] {
            return Err(unsupported(node, "padded pooling"));
        }
        let layer = Layer::MaxPool2d(Pool2d {
            kernel: [kh, kw],
            stride,
        });
        self.push(model, node, Some((layer, vec![], vec![])))
    }

    fn sum_pool(&mut self, model: &TypedModel, node: &TypedNode) -> Result<()> {
        let op = node
            .op_as::<SumPool>()
            .ok_or_else(|| unsupported(node, "unexpected operator type"))?;
        if !op.normalize {
            return Err(unsupported(node, "only averaging (normalised) sum pools"));
        }
        let (act_shape, _) = self.split_inputs(node)?;
        let (kh, kw, stride, padding) = window(node, &op.pool_spec, &act_shape)?;
        if padding != [0, 0] {
            return Err(unsupported(node, "padded pooling"));
        }
        let layer = Layer::AvgPool2d(Pool2d {
            kernel: [kh, kw],
            stride,
        });
        self.push(model, node, Some((layer, vec![], vec![])))
    }

    fn axis_op(&mut self, model: &TypedModel, node: &TypedNode) -> Result<()> {
        let op = node
            .op_as::<AxisOp>()
            .ok_or_else(|| unsupported(node, "unexpected operator type"))?;
        let (act_shape, _) = self.split_inputs(node)?;
        if let AxisOp::Move(from, to) = op {
            // A move keeps the row-major order when the moved axis has size 1.
            if act_shape.get(*from) != Some(&1) || *to >= act_shape.len() {
                return Err(unsupported(node, "axis permutation of non-unit axes"));
            }
        }
        let out_shape = concrete(model, node, OutletId::new(node.id, 0))?;
        let (before, after) = (ir_shape(&act_shape), ir_shape(&out_shape));
        let layer = if before == after {
            None
        } else if before.len() > 1 && after.len() == 1 {
            Some((Layer::Flatten, vec![], vec![]))
        } else {
            return Err(unsupported(
                node,
                format!("reshape {act_shape:?} -> {out_shape:?}"),
            ));
        };
        self.push(model, node, layer)
    }

    fn softmax(&mut self, model: &TypedModel, node: &TypedNode) -> Result<()> {
        let op = node
            .op_as::<Softmax>()
            .ok_or_else(|| unsupported(node, "unexpected operator type"))?;
        let (act_shape, _) = self.split_inputs(node)?;
        if ir_shape(&act_shape).len() != 1
            || op.axes.as_slice() != [act_shape.len() - 1]
            || op.quant_output_dt.is_some()
        {
            return Err(unsupported(
                node,
                "only a float softmax over the feature axis",
            ));
        }
        self.push(model, node, Some((Layer::Softmax, vec![], vec![])))
    }
}

/// `(kh, kw, stride, padding)` of a 2-D window op on a `[1, c, h, w]` or `[c, h, w]` input.
fn window(
    node: &TypedNode,
    spec: &PoolSpec,
    act_shape: &[usize],
) -> Result<(usize, usize, [usize; 2], [usize; 2])> {
    let layout_ok = match spec.data_format {
        DataFormat::NCHW => act_shape.len() == 4 && act_shape[0] == 1,
        DataFormat::CHW => act_shape.len() == 3,
        _ => false,
    };
    if !layout_ok {
        return Err(unsupported(node, "only NCHW (batch 1) or CHW layouts"));
    }
    let [kh, kw] = spec.kernel_shape[..] else {
        return Err(unsupported(node, "only 2-D windows"));
    };
    if spec.dilations().iter().any(|&d| d != 1) {
        return Err(unsupported(node, "dilation"));
    }
    let strides = spec.strides();
    let [sh, sw] = strides[..] else {
        return Err(unsupported(node, "only 2-D strides"));
    };
    let padding = match &spec.padding {
        PaddingSpec::Valid => [0, 0],
        PaddingSpec::Explicit(before, after)
        | PaddingSpec::ExplicitOnnxPool(before, after, false)
            if before == after && before.len() == 2 =>
        {
            [before[0], before[1]]
        }
        _ => return Err(unsupported(node, "only symmetric explicit or no padding")),
    };
    Ok((kh, kw, [sh, sw], padding))
}

fn lower(model: &TypedModel) -> Result<Model> {
    let mut lowering = Lowering {
        values: BTreeMap::new(),
        input_shape: None,
        layers: Vec::new(),
        params: Vec::new(),
        current: None,
    };
    let order = model.eval_order().map_err(tract_err("order"))?;
    for id in order {
        let node = model.node(id);
        let name = node.op.name();
        let handler = REGISTRY
            .iter()
            .find(|(r, _)| r.tract_op == name)
            .map(|(_, h)| *h)
            .ok_or_else(|| Error::UnsupportedOp {
                node: node.name.clone(),
                op: name.to_string(),
            })?;
        handler(&mut lowering, model, node)?;
        tracing::trace!(target: "onnx::import", node = %node.name, op = %name, "lowered");
    }
    let outputs = model.output_outlets().map_err(tract_err("inspect"))?;
    if outputs.len() != 1 || Some(outputs[0]) != lowering.current {
        return Err(Error::Interface {
            reason: "the graph must have one output: the end of the layer chain".into(),
        });
    }
    let input_shape = lowering.input_shape.ok_or_else(|| Error::Interface {
        reason: "no input".into(),
    })?;
    let arch = Architecture::new(input_shape, lowering.layers)?;
    let flat: Vec<f32> = lowering
        .params
        .into_iter()
        .flat_map(|(w, b)| w.into_iter().chain(b))
        .collect();
    Ok(Model::from_flat(arch, flat)?)
}
