//! `counterweight zk register|prove|verify`: zero-knowledge proofs of model inference.

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, bail, ensure};
use clap::{Args as ClapArgs, Subcommand};
use counterweight_model::argmax;
use counterweight_zkml::{BlindRng, CommittedModel, ModelMeta, Store, from_quantized};
use counterweight_zkml_verifier::{ModelId, Proof, Reader, RequestBinding, Writer, verify};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use crate::{Global, Output, keystore::default_home};

/// Zero-knowledge proofs that a registered model produced an output.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Home directory [env: COUNTERWEIGHT_HOME; default: ~/.counterweight].
    #[arg(long, value_name = "DIR", global = true)]
    pub home: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: ZkCommand,
}

/// The `zk` subcommands.
#[derive(Debug, Subcommand)]
pub enum ZkCommand {
    /// Quantise an ONNX model, commit to its weights and store it; prints the model id.
    Register(RegisterArgs),
    /// Run a registered model on an input and prove the output.
    Prove(ProveArgs),
    /// Verify a proof against a registered model's public part (exit 0 only if valid).
    Verify(VerifyArgs),
}

/// `zk register`.
#[derive(Debug, ClapArgs)]
pub struct RegisterArgs {
    /// The ONNX model (float32, batch 1).
    pub model: PathBuf,
    /// Calibration samples (`.npy` of shape [N, ...input shape] or EZKL-style JSON).
    #[arg(long)]
    pub calibration: PathBuf,
    /// Held-out samples (same formats) on which to report the argmax agreement of the
    /// quantised model with the float model, besides the calibration set.
    #[arg(long)]
    pub test: Option<PathBuf>,
}

/// Request binding flags shared by prove and verify.
#[derive(Debug, ClapArgs)]
pub struct BindingArgs {
    /// Request id the proof answers (64 hex characters, or any text, which is hashed).
    #[arg(long)]
    pub request_id: Option<String>,
    /// Prover address (hex).
    #[arg(long)]
    pub prover: Option<String>,
    /// Chain id.
    #[arg(long)]
    pub chain_id: Option<String>,
}

/// `zk prove`.
#[derive(Debug, ClapArgs)]
pub struct ProveArgs {
    /// Model id (hex) of a registered model.
    #[arg(long)]
    pub model: String,
    /// Input (EZKL-style JSON `{"input_data": [[...]]}` or `.npy`).
    #[arg(long)]
    pub input: PathBuf,
    /// Where to write the proof file.
    #[arg(long)]
    pub out: PathBuf,
    /// Request binding.
    #[command(flatten)]
    pub binding: BindingArgs,
}

/// `zk verify`.
#[derive(Debug, ClapArgs)]
pub struct VerifyArgs {
    /// Model id (hex) of a registered model (only its public part is used).
    #[arg(long)]
    pub model: String,
    /// Input the proof is about (same formats as `prove`).
    #[arg(long)]
    pub input: PathBuf,
    /// The proof file written by `prove`.
    #[arg(long)]
    pub proof: PathBuf,
    /// Expected request binding (defaults to the one recorded in the proof file).
    #[command(flatten)]
    pub binding: BindingArgs,
}

/// Run a `zk` subcommand.
///
/// # Errors
/// Bad files, unknown models, failed proofs and invalid proofs.
pub fn run(args: Args, global: &Global) -> anyhow::Result<Output> {
    let home = match args.home {
        Some(h) => h,
        None => default_home()?,
    };
    let store = Store::new(&home);
    match args.command {
        ZkCommand::Register(a) => register(a, &store),
        ZkCommand::Prove(a) => prove(a, &store, global),
        ZkCommand::Verify(a) => verify_cmd(a, &store),
    }
}

const MAX_INPUT_FILE_BYTES: u64 = 512 << 20;
const MAX_VALUES: usize = 1 << 26;

/// Read float samples: JSON `{"input_data": [[...], ...]}` (one row per sample) or `.npy`
/// (first axis = samples when `per_sample` divides the total).
fn read_samples(path: &Path, per_sample: usize) -> anyhow::Result<Vec<Vec<f32>>> {
    ensure!(per_sample > 0, "model input is empty");
    let len = fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    ensure!(
        len <= MAX_INPUT_FILE_BYTES,
        "{} is too large ({len} bytes)",
        path.display()
    );
    let values: Vec<f32> = if path.extension().is_some_and(|e| e == "npy") {
        read_npy(path, len)?
    } else {
        let v: serde_json::Value = serde_json::from_slice(&fs::read(path)?)
            .with_context(|| format!("{} is not JSON", path.display()))?;
        let data = v.get("input_data").unwrap_or(&v);
        let mut out = Vec::new();
        flatten_json(data, &mut out)?;
        out
    };
    ensure!(!values.is_empty(), "{} holds no values", path.display());
    ensure!(
        values.len().is_multiple_of(per_sample),
        "{} holds {} values, not a multiple of the model input length {per_sample}",
        path.display(),
        values.len()
    );
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        bail!("{}: value {i} is not finite", path.display());
    }
    Ok(values.chunks(per_sample).map(<[f32]>::to_vec).collect())
}

fn flatten_json(v: &serde_json::Value, out: &mut Vec<f32>) -> anyhow::Result<()> {
    match v {
        serde_json::Value::Array(a) => a.iter().try_for_each(|x| flatten_json(x, out)),
        serde_json::Value::Number(n) => {
            ensure!(out.len() < MAX_VALUES, "too many values");
            out.push(n.as_f64().context("number out of range")? as f32);
            Ok(())
        }
        _ => bail!("input must be numbers in (nested) arrays"),
    }
}

fn read_npy(path: &Path, file_len: u64) -> anyhow::Result<Vec<f32>> {
    use npyz::{DType, TypeChar};
    let npy = npyz::NpyFile::new(BufReader::new(File::open(path)?))
        .with_context(|| format!("{}: unreadable .npy header", path.display()))?;
    ensure!(
        npy.order() == npyz::Order::C,
        "Fortran-order arrays are not supported"
    );
    let total = npy
        .shape()
        .iter()
        .try_fold(1u64, |a, &d| a.checked_mul(d))
        .filter(|&t| t <= MAX_VALUES as u64)
        .context("array too large")?;
    let DType::Plain(ts) = npy.dtype() else {
        bail!("structured dtypes are not supported")
    };
    ensure!(
        total.saturating_mul(ts.size_field()) <= file_len,
        "header claims more data than the file holds"
    );
    Ok(match (ts.type_char(), ts.size_field()) {
        (TypeChar::Float, 4) => npy.into_vec::<f32>()?,
        (TypeChar::Float, 8) => npy
            .into_vec::<f64>()?
            .into_iter()
            .map(|v| v as f32)
            .collect(),
        (TypeChar::Uint, 1) => npy.into_vec::<u8>()?.into_iter().map(f32::from).collect(),
        (TypeChar::Int, 4) => npy
            .into_vec::<i32>()?
            .into_iter()
            .map(|v| v as f32)
            .collect(),
        (TypeChar::Int, 8) => npy
            .into_vec::<i64>()?
            .into_iter()
            .map(|v| v as f32)
            .collect(),
        _ => bail!("unsupported dtype {ts}"),
    })
}

fn quantize_input(meta: &ModelMeta, x: &[f32]) -> Vec<i8> {
    x.iter()
        .map(|v| (v / meta.input_scale).round().clamp(-128.0, 127.0) as i8)
        .collect()
}

fn parse_id(s: &str) -> anyhow::Result<ModelId> {
    ModelId::from_hex(s).with_context(|| format!("model id must be 64 hex characters, got {s:?}"))
}

fn binding(a: &BindingArgs, recorded: Option<&RequestBinding>) -> anyhow::Result<RequestBinding> {
    let mut b = recorded.cloned().unwrap_or_default();
    if let Some(r) = &a.request_id {
        b.request_id = match hex::decode(r.strip_prefix("0x").unwrap_or(r)) {
            Ok(v) if v.len() == 32 => v.try_into().unwrap_or([0; 32]),
            _ => *blake3::hash(r.as_bytes()).as_bytes(),
        };
    }
    if let Some(p) = &a.prover {
        b.prover =
            hex::decode(p.strip_prefix("0x").unwrap_or(p)).context("--prover must be hex")?;
    }
    if let Some(c) = &a.chain_id {
        b.chain_id.clone_from(c);
    }
    Ok(b)
}

fn cpu_seconds() -> f64 {
    cpu_time::ProcessTime::try_now()
        .map(|t| t.as_duration().as_secs_f64())
        .unwrap_or(0.0)
}

fn register(a: RegisterArgs, store: &Store) -> anyhow::Result<Output> {
    let model = counterweight_onnx::import_file(&a.model)
        .with_context(|| format!("cannot import {}", a.model.display()))?;
    let n_in: usize = model.architecture().input_shape().iter().product();
    let samples = read_samples(&a.calibration, n_in)?;
    // Short multipliers keep the proof's range checks small (see docs/zkml.md); the agreement
    // below is measured on exactly the model that gets committed.
    let q = counterweight_model::quantize(&model, &samples)
        .and_then(|q| q.with_multiplier_bits(counterweight_zkml::MULTIPLIER_BITS))
        .context("quantisation failed")?;
    let agreement = argmax_agreement(&model, &q, &samples)?;
    let test = match &a.test {
        Some(path) => {
            let held_out = read_samples(path, n_in)?;
            Some((argmax_agreement(&model, &q, &held_out)?, held_out.len()))
        }
        None => None,
    };
    let secret = from_quantized(&q)?;
    let t = Instant::now();
    let committed = CommittedModel::commit(secret, &mut BlindRng::from_os()?)?;
    let commit_ms = t.elapsed().as_secs_f64() * 1e3;
    let id = committed.public.id();
    let meta = ModelMeta {
        model_id: id.to_hex(),
        input_scale: q.input_scale(),
        output_scale: q.output_scale(),
        input_len: q.input_len(),
        output_len: q.output_len(),
    };
    let dir = store.save(&committed, &meta)?;
    let registered = json!({
        "model_id": id.to_hex(),
        "layers": committed.public.circuit.layers.len(),
        "calibration_samples": samples.len(),
        "argmax_agreement": agreement,
        "test_samples": test.map(|t| t.1),
        "test_argmax_agreement": test.map(|t| t.0),
        "commit_ms": commit_ms,
        "weight_rows": committed.public.weight_rows.len(),
        "dir": dir,
    });
    let mut text = format!("model id    {}\n", id.to_hex());
    let _ = writeln!(
        text,
        "layers      {} (int8 weights, per-channel scales, committed in {} Hyrax rows in {commit_ms:.0} ms)",
        committed.public.circuit.layers.len(),
        committed.public.weight_rows.len()
    );
    let _ = writeln!(
        text,
        "agreement   {:.2}% argmax agreement of quantised vs float on {} calibration samples",
        agreement * 100.0,
        samples.len()
    );
    if let Some((t, n)) = test {
        let _ = writeln!(
            text,
            "            {:.2}% on {n} held-out test samples",
            t * 100.0
        );
    }
    let _ = write!(text, "stored in   {}", dir.display());
    Ok(Output::with_text(&registered, text)?)
}

/// Share of `samples` on which the quantised model's argmax equals the float model's.
fn argmax_agreement(
    model: &counterweight_model::Model,
    q: &counterweight_model::QuantizedModel,
    samples: &[Vec<f32>],
) -> anyhow::Result<f64> {
    let mut agree = 0usize;
    for s in samples {
        let f = argmax(&model.forward(s)?);
        let qv = argmax(&q.evaluate(&q.quantize_input(s)?)?);
        agree += usize::from(f == qv);
    }
    Ok(agree as f64 / samples.len().max(1) as f64)
}

const PROOF_FILE_MAGIC: &[u8; 4] = b"CWZF";
const PROOF_FILE_VERSION: u16 = 1;

/// The proof file: the claimed output, the binding and the proof.
fn encode_proof_file(output: &[i8], b: &RequestBinding, proof: &Proof) -> Vec<u8> {
    let mut w = Writer::new();
    w.bytes(PROOF_FILE_MAGIC);
    w.u16(PROOF_FILE_VERSION);
    w.u32(output.len() as u32);
    w.bytes(&output.iter().map(|&v| v as u8).collect::<Vec<_>>());
    w.bytes(&b.request_id);
    w.u32(b.prover.len() as u32);
    w.bytes(&b.prover);
    w.u32(b.chain_id.len() as u32);
    w.bytes(b.chain_id.as_bytes());
    let p = proof.encode();
    w.u32(p.len() as u32);
    w.bytes(&p);
    w.into_bytes()
}

fn decode_proof_file(bytes: &[u8]) -> anyhow::Result<(Vec<i8>, RequestBinding, Proof)> {
    let mut r = Reader::new(bytes);
    ensure!(r.take(4)? == PROOF_FILE_MAGIC, "not a proof file");
    ensure!(
        r.u16()? == PROOF_FILE_VERSION,
        "unsupported proof file version"
    );
    let n = r.count("output", 1 << 20, 1)?;
    let output = r.take(n)?.iter().map(|&b| b as i8).collect();
    let request_id = r.array::<32>()?;
    let n = r.count("prover", counterweight_zkml_verifier::MAX_BINDING_FIELD, 1)?;
    let prover = r.take(n)?.to_vec();
    let n = r.count(
        "chain id",
        counterweight_zkml_verifier::MAX_BINDING_FIELD,
        1,
    )?;
    let chain_id = String::from_utf8(r.take(n)?.to_vec()).context("chain id is not UTF-8")?;
    let n = r.count("proof", counterweight_zkml_verifier::MAX_PROOF_BYTES, 1)?;
    let proof = Proof::decode(r.take(n)?)?;
    r.finish()?;
    Ok((
        output,
        RequestBinding {
            request_id,
            prover,
            chain_id,
        },
        proof,
    ))
}

fn prove(a: ProveArgs, store: &Store, global: &Global) -> anyhow::Result<Output> {
    let id = parse_id(&a.model)?;
    let (prover, meta) = store.load_prover(&id)?;
    let x = read_samples(&a.input, meta.input_len)?;
    ensure!(
        x.len() == 1,
        "input file must hold exactly one sample, found {}",
        x.len()
    );
    let xq = quantize_input(&meta, &x[0]);
    let b = binding(&a.binding, None)?;
    let steps = prover.public().geoms.len() as u64 + 3;
    let bar = if global.json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(steps).with_style(
            ProgressStyle::with_template("{spinner} proving [{bar:30}] {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        )
    };
    let mut rng = BlindRng::from_os()?;
    let (t, c) = (Instant::now(), cpu_seconds());
    let (output, proof) = prover.prove_with_progress(&xq, &b, &mut rng, &mut |msg| {
        bar.set_message(msg.to_string());
        bar.inc(1);
    })?;
    let (wall, cpu) = (t.elapsed().as_secs_f64(), cpu_seconds() - c);
    bar.finish_and_clear();
    let bytes = encode_proof_file(&output, &b, &proof);
    fs::write(&a.out, &bytes).with_context(|| format!("cannot write {}", a.out.display()))?;
    let proof_bytes = proof.encode().len();
    let class = argmax(&output).unwrap_or(0);
    let proved = json!({
        "model_id": id.to_hex(),
        "output": output,
        "class": class,
        "prove_wall_s": wall,
        "prove_cpu_s": cpu,
        "proof_bytes": proof_bytes,
        "out": a.out,
    });
    let text = format!(
        "output      {output:?} (class {class})\nproved in   {wall:.3} s wall, {cpu:.3} s CPU; proof {proof_bytes} bytes\nwritten to  {}",
        a.out.display()
    );
    Ok(Output::with_text(&proved, text)?)
}

fn verify_cmd(a: VerifyArgs, store: &Store) -> anyhow::Result<Output> {
    let id = parse_id(&a.model)?;
    let (model, meta) = store.load_public(&id)?;
    let x = read_samples(&a.input, meta.input_len)?;
    ensure!(
        x.len() == 1,
        "input file must hold exactly one sample, found {}",
        x.len()
    );
    let xq = quantize_input(&meta, &x[0]);
    let len = fs::metadata(&a.proof)?.len();
    ensure!(
        len <= 2 * counterweight_zkml_verifier::MAX_PROOF_BYTES as u64,
        "proof file too large"
    );
    let bytes = fs::read(&a.proof).with_context(|| format!("cannot read {}", a.proof.display()))?;
    let (output, recorded, proof) = decode_proof_file(&bytes).context("malformed proof file")?;
    let b = binding(&a.binding, Some(&recorded))?;
    let _ = counterweight_zkml_verifier::Generators::get();
    let t = Instant::now();
    let res = verify(&model, &xq, &output, &b, &proof);
    let ms = t.elapsed().as_secs_f64() * 1e3;
    match res {
        Ok(()) => {
            let verified =
                json!({"valid": true, "model_id": id.to_hex(), "output": output, "verify_ms": ms});
            let text = format!(
                "valid       model {} output {output:?} ({ms:.1} ms)",
                id.to_hex()
            );
            Ok(Output::with_text(&verified, text)?)
        }
        Err(e) => bail!("invalid proof: {e}"),
    }
}
