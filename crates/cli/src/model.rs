//! `counterweight model`: model repositories, versions, forks and lineage in the registry,
//! and weights blobs moved to and from a node's blob store.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::{Args as ClapArgs, Subcommand};
use counterweight_registry::ModuleCall as _;
use counterweight_registry::{
    Lineage, METRIC_SCALE, Metric, Publish, REGISTRY_MODULE, RegistryCall, Repo, Version, repo_id,
    version_id,
};
use counterweight_rpc_api::Client;
use counterweight_types::{Call, Hash};
use serde::Serialize;
use serde_json::Value;

use crate::chain_opts::{HomeOpt, RpcOpt};
use crate::query::resolve_address;
use crate::tx::Signer;
use crate::{Global, Output};

/// Manage models in the on-chain registry and their weights in the nodes' blob stores.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Which node.
    #[command(flatten)]
    pub rpc: RpcOpt,
    /// What to do.
    #[command(subcommand)]
    pub command: ModelCommand,
}

/// The `model` subcommands.
#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Create a model repository owned by a keystore account.
    CreateRepo(CreateRepoArgs),
    /// Upload a weights file to the node's blob store; prints its BLAKE3 hash.
    Push(PushArgs),
    /// Publish a version: upload the weights, then record them on chain.
    Publish(PublishArgs),
    /// Fork a version into a new repository of your own.
    Fork(ForkArgs),
    /// Let another account publish in a repository you own.
    AddMaintainer(AddMaintainerArgs),
    /// Show a version or a repository (with its versions) by id.
    Show(ShowArgs),
    /// Show a version's lineage: datasets → task → version → parent → … → root.
    Lineage(ShowArgs),
    /// Download a version's weights (or a blob by hash), verify them and write a file.
    Pull(PullArgs),
}

/// The signing account.
#[derive(Debug, ClapArgs)]
pub struct FromOpt {
    /// Where the keystore is.
    #[command(flatten)]
    pub home: HomeOpt,
    /// Name of the signing key in the keystore.
    #[arg(long, value_name = "NAME")]
    pub from: String,
}

/// `model create-repo`.
#[derive(Debug, ClapArgs)]
pub struct CreateRepoArgs {
    /// The signing account (the repository's owner).
    #[command(flatten)]
    pub from: FromOpt,
    /// The repository's name (letters, digits, `.`, `_`, `-`), unique among yours.
    #[arg(long, value_name = "NAME")]
    pub name: String,
    /// A short description.
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub description: String,
    /// The licence, as an SPDX expression.
    #[arg(long, value_name = "SPDX", default_value = "")]
    pub licence: String,
}

/// `model push`.
#[derive(Debug, ClapArgs)]
pub struct PushArgs {
    /// The weights file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// `model publish`.
#[derive(Debug, ClapArgs)]
pub struct PublishArgs {
    /// The signing account (the repository's owner or a maintainer).
    #[command(flatten)]
    pub from: FromOpt,
    /// The repository id (hex).
    #[arg(long, value_name = "ID")]
    pub repo: Hash,
    /// The version's tag, unique in the repository.
    #[arg(long, value_name = "TAG")]
    pub tag: String,
    /// The weights file (uploaded to the node unless `--no-upload`).
    #[arg(long, value_name = "FILE")]
    pub weights: PathBuf,
    /// Hash of the model's architecture (hex).
    #[arg(long, value_name = "HASH")]
    pub arch_hash: Hash,
    /// The training task that produced the weights (hex).
    #[arg(long, value_name = "TASK")]
    pub task: Option<Hash>,
    /// The version these weights derive from (hex).
    #[arg(long, value_name = "VERSION")]
    pub parent: Option<Hash>,
    /// A dataset the weights were trained on (hex); repeat for several.
    #[arg(long = "dataset", value_name = "ID")]
    pub datasets: Vec<Hash>,
    /// A metric as `name=value`, e.g. `accuracy=0.9731` (stored with six decimals); repeat.
    #[arg(long = "metric", value_name = "NAME=VALUE", value_parser = parse_metric)]
    pub metrics: Vec<Metric>,
    /// Do not upload the weights (they are already in the node's blob store).
    #[arg(long)]
    pub no_upload: bool,
}

/// `model fork`.
#[derive(Debug, ClapArgs)]
pub struct ForkArgs {
    /// The signing account (the new repository's owner).
    #[command(flatten)]
    pub from: FromOpt,
    /// The version to fork (hex), the new repository's parent.
    // Not `--version`: clap propagates the `--version` flag to every subcommand.
    #[arg(long = "parent", id = "parent", value_name = "VERSION")]
    pub version: Hash,
    /// The new repository's name.
    #[arg(long, value_name = "NAME")]
    pub name: String,
}

/// `model add-maintainer`.
#[derive(Debug, ClapArgs)]
pub struct AddMaintainerArgs {
    /// The signing account (the repository's owner).
    #[command(flatten)]
    pub from: FromOpt,
    /// The repository id (hex).
    #[arg(long, value_name = "ID")]
    pub repo: Hash,
    /// The new maintainer: an address or a key name in the keystore.
    #[arg(long, value_name = "ADDR")]
    pub maintainer: String,
}

/// `model show` and `model lineage`.
#[derive(Debug, ClapArgs)]
pub struct ShowArgs {
    /// A version id or repository id (hex).
    #[arg(value_name = "ID")]
    pub id: Hash,
}

/// `model pull`.
#[derive(Debug, ClapArgs)]
pub struct PullArgs {
    /// A version id, or the hash of a blob (hex).
    #[arg(value_name = "ID")]
    pub id: Hash,
    /// Where to write the weights (replaced atomically).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// Parses `name=value` with up to six decimals into a fixed-point metric, without floats.
fn parse_metric(text: &str) -> Result<Metric, String> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not NAME=VALUE"))?;
    let value = parse_fixed(value.trim())
        .ok_or_else(|| format!("`{value}` is not a decimal number with at most six decimals"))?;
    Ok(Metric {
        name: name.trim().to_owned(),
        value,
    })
}

fn parse_fixed(text: &str) -> Option<i64> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let decimals = METRIC_SCALE.ilog10() as usize;
    if frac.len() > decimals
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let int: i64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let frac: i64 = format!("{frac:0<decimals$}").parse().ok()?;
    let value = int.checked_mul(METRIC_SCALE)?.checked_add(frac)?;
    Some(if negative { -value } else { value })
}

fn signer(client: Client, from: &FromOpt) -> anyhow::Result<Signer> {
    let key = from.home.keystore()?.load(&from.from)?;
    Signer::new(client, key)
}

fn send(signer: &mut Signer, call: &RegistryCall) -> anyhow::Result<String> {
    let receipt = signer.send_and_wait(Call {
        module: REGISTRY_MODULE,
        payload: call.to_payload(),
    })?;
    Ok(receipt.tx_hash)
}

fn query(client: &Client, path: &str, id: &Hash) -> anyhow::Result<Value> {
    let bytes = client.query(REGISTRY_MODULE.0, path, &id.0)?;
    serde_json::from_slice(&bytes)
        .with_context(|| format!("the node's `{path}` answer is not JSON"))
}

fn read_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

fn upload(client: &Client, bytes: &[u8]) -> anyhow::Result<Hash> {
    let hex = client.put_blob(bytes)?;
    hex.parse::<Hash>()
        .map_err(|e| anyhow::anyhow!("the node returned a malformed blob hash: {e}"))
}

#[derive(Serialize)]
struct Pushed {
    hash: String,
    size: u64,
}

#[derive(Serialize)]
struct Sent {
    tx_hash: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    repo: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    weights_hash: Option<String>,
}

fn report(sent: &Sent) -> anyhow::Result<Output> {
    let mut text = format!("transaction {}", sent.tx_hash);
    for (label, value) in [
        ("repository", &sent.repo),
        ("version", &sent.version),
        ("weights", &sent.weights_hash),
    ] {
        if let Some(value) = value {
            text.push_str(&format!("\n{label:<11} {value}"));
        }
    }
    Ok(Output::with_text(sent, text)?)
}

/// Writes `bytes` to `out` atomically: a temporary file in the same directory, synced, then
/// renamed over `out`.
fn write_atomically(out: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = match out.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut file = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    file.persist(out)
        .with_context(|| format!("cannot write {}", out.display()))?;
    Ok(())
}

/// Run `model`.
///
/// # Errors
/// Bad arguments, a missing key or file, an unreachable node, a refused or failed
/// transaction, or (for `pull`) weights that do not match their on-chain hash.
pub fn run(args: Args, _global: &Global) -> anyhow::Result<Output> {
    let client = args.rpc.client()?;
    match args.command {
        ModelCommand::CreateRepo(a) => {
            let mut signer = signer(client, &a.from)?;
            let id = repo_id(signer.chain_id(), &signer.address(), &a.name);
            let tx_hash = send(
                &mut signer,
                &RegistryCall::CreateRepo {
                    name: a.name,
                    description: a.description,
                    licence: a.licence,
                },
            )?;
            report(&Sent {
                tx_hash,
                repo: Some(id.to_hex()),
                version: None,
                weights_hash: None,
            })
        }
        ModelCommand::Push(a) => {
            let bytes = read_file(&a.file)?;
            let hash = upload(&client, &bytes)?;
            let pushed = Pushed {
                hash: hash.to_hex(),
                size: bytes.len() as u64,
            };
            let text = format!("{} ({} bytes)", pushed.hash, pushed.size);
            Ok(Output::with_text(&pushed, text)?)
        }
        ModelCommand::Publish(a) => {
            let bytes = read_file(&a.weights)?;
            let weights_hash = Hash(*blake3::hash(&bytes).as_bytes());
            if !a.no_upload {
                let stored = upload(&client, &bytes)?;
                if stored != weights_hash {
                    bail!("the node stored the weights as {stored}, expected {weights_hash}");
                }
            }
            let mut signer = signer(client, &a.from)?;
            let id = version_id(signer.chain_id(), &a.repo, &a.tag);
            let call = RegistryCall::Publish(Publish {
                repo: a.repo,
                tag: a.tag,
                weights_hash,
                weights_size: bytes.len() as u64,
                arch_hash: a.arch_hash,
                metrics: a.metrics,
                parent: a.parent,
                lineage: Lineage {
                    task: a.task,
                    datasets: a.datasets,
                },
            });
            let tx_hash = send(&mut signer, &call)?;
            report(&Sent {
                tx_hash,
                repo: Some(a.repo.to_hex()),
                version: Some(id.to_hex()),
                weights_hash: Some(weights_hash.to_hex()),
            })
        }
        ModelCommand::Fork(a) => {
            let source = query(&client, "version", &a.version)?;
            let tag = source["tag"]
                .as_str()
                .with_context(|| format!("no version {}", a.version))?
                .to_owned();
            let mut signer = signer(client, &a.from)?;
            let repo = repo_id(signer.chain_id(), &signer.address(), &a.name);
            let version = version_id(signer.chain_id(), &repo, &tag);
            let tx_hash = send(
                &mut signer,
                &RegistryCall::Fork {
                    version: a.version,
                    name: a.name,
                },
            )?;
            report(&Sent {
                tx_hash,
                repo: Some(repo.to_hex()),
                version: Some(version.to_hex()),
                weights_hash: source["weights_hash"].as_str().map(str::to_owned),
            })
        }
        ModelCommand::AddMaintainer(a) => {
            let maintainer = resolve_address(&a.maintainer, &a.from.home)?;
            let mut signer = signer(client, &a.from)?;
            let tx_hash = send(
                &mut signer,
                &RegistryCall::AddMaintainer {
                    repo: a.repo,
                    maintainer,
                },
            )?;
            report(&Sent {
                tx_hash,
                repo: Some(a.repo.to_hex()),
                version: None,
                weights_hash: None,
            })
        }
        ModelCommand::Show(a) => {
            let shown = match query_as::<Option<Version>>(&client, "version", &a.id)? {
                Some(version) => Shown::Version { version },
                None => {
                    let Some(repo) = query_as::<Option<Repo>>(&client, "repo", &a.id)? else {
                        bail!("{} is neither a version nor a repository", a.id);
                    };
                    let versions = query_as::<Option<Vec<Version>>>(&client, "versions", &a.id)?
                        .unwrap_or_default();
                    Shown::Repo { repo, versions }
                }
            };
            Ok(Output::new(&shown)?)
        }
        ModelCommand::Lineage(a) => {
            let graph = query(&client, "lineage", &a.id)?;
            if graph.is_null() {
                bail!("no version {}", a.id);
            }
            let text = lineage_text(&graph);
            Ok(Output::with_text(&graph, text)?)
        }
        ModelCommand::Pull(a) => {
            let version = query(&client, "version", &a.id)?;
            let (hash, size) = if version.is_null() {
                (a.id, None)
            } else {
                let hash = version["weights_hash"]
                    .as_str()
                    .and_then(|h| h.parse::<Hash>().ok())
                    .context("the version's weights hash is malformed")?;
                (hash, version["weights_size"].as_u64())
            };
            let bytes = client.get_blob(&hash.to_hex())?;
            // The client verified the blob against `hash`; check again here, where the
            // on-chain record is the reference, so a client bug cannot write wrong weights.
            let actual = Hash(*blake3::hash(&bytes).as_bytes());
            if actual != hash {
                bail!("downloaded weights hash to {actual}, the chain records {hash}");
            }
            if let Some(size) = size
                && size != bytes.len() as u64
            {
                bail!(
                    "downloaded weights are {} bytes, the chain records {size}",
                    bytes.len()
                );
            }
            write_atomically(&a.out, &bytes)?;
            let pulled = Pushed {
                hash: hash.to_hex(),
                size: bytes.len() as u64,
            };
            let text = format!(
                "wrote {} ({} bytes, BLAKE3 {} verified)",
                a.out.display(),
                pulled.size,
                pulled.hash
            );
            Ok(Output::with_text(&pulled, text)?)
        }
    }
}

/// What `model show` found: a version, or a repository with its versions.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Shown {
    Version { version: Version },
    Repo { repo: Repo, versions: Vec<Version> },
}

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Version { version } => write_version(f, version, ""),
            Self::Repo { repo, versions } => {
                writeln!(f, "repository  {}", repo.id)?;
                writeln!(f, "name        {}", repo.name)?;
                writeln!(f, "owner       {}", repo.owner)?;
                if !repo.description.is_empty() {
                    writeln!(f, "description {}", repo.description)?;
                }
                if !repo.licence.is_empty() {
                    writeln!(f, "licence     {}", repo.licence)?;
                }
                for maintainer in &repo.maintainers {
                    writeln!(f, "maintainer  {maintainer}")?;
                }
                if let Some(source) = &repo.forked_from {
                    writeln!(f, "forked from {source}")?;
                }
                writeln!(
                    f,
                    "created     at height {} ({} ms)",
                    repo.created_height, repo.created_ms
                )?;
                write!(f, "versions    {}", repo.version_count)?;
                for version in versions {
                    writeln!(f)?;
                    write_version(f, version, "  ")?;
                }
                Ok(())
            }
        }
    }
}

/// A version as a few aligned lines, each starting with `indent`.
fn write_version(f: &mut fmt::Formatter<'_>, v: &Version, indent: &str) -> fmt::Result {
    writeln!(f, "{indent}version     {} (tag {})", v.id, v.tag)?;
    writeln!(f, "{indent}repository  {}", v.repo)?;
    writeln!(
        f,
        "{indent}weights     {} ({} bytes)",
        v.weights_hash, v.weights_size
    )?;
    writeln!(f, "{indent}arch        {}", v.arch_hash)?;
    for metric in &v.metrics {
        writeln!(
            f,
            "{indent}metric      {} = {}",
            metric.name,
            fixed_text(metric.value)
        )?;
    }
    if let Some(parent) = &v.parent {
        writeln!(f, "{indent}parent      {parent}")?;
    }
    if let Some(task) = &v.lineage.task {
        writeln!(f, "{indent}task        {task}")?;
    }
    for dataset in &v.lineage.datasets {
        writeln!(f, "{indent}dataset     {dataset}")?;
    }
    writeln!(f, "{indent}signer      {}", v.signer)?;
    write!(
        f,
        "{indent}published   tx {} at height {} ({} ms)",
        v.tx_hash, v.height, v.timestamp_ms
    )
}

/// A fixed-point metric as a decimal (the inverse of [`parse_fixed`]), without floats.
fn fixed_text(value: i64) -> String {
    let decimals = METRIC_SCALE.ilog10() as usize;
    let scale = METRIC_SCALE.unsigned_abs();
    let magnitude = value.unsigned_abs();
    let sign = if value < 0 { "-" } else { "" };
    let frac = format!("{:0decimals$}", magnitude % scale);
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        format!("{sign}{}", magnitude / scale)
    } else {
        format!("{sign}{}.{frac}", magnitude / scale)
    }
}

fn query_as<T: serde::de::DeserializeOwned>(
    client: &Client,
    path: &str,
    id: &Hash,
) -> anyhow::Result<T> {
    let bytes = client.query(REGISTRY_MODULE.0, path, &id.0)?;
    serde_json::from_slice(&bytes)
        .with_context(|| format!("the node's `{path}` answer is malformed"))
}

fn lineage_text(graph: &Value) -> String {
    let mut text = String::new();
    let empty = Vec::new();
    for node in graph["nodes"].as_array().unwrap_or(&empty) {
        let kind = node["kind"].as_str().unwrap_or("?");
        let id = node["id"].as_str().unwrap_or("?");
        match kind {
            "version" => text.push_str(&format!(
                "version {id} tag {} weights {}\n",
                node["tag"].as_str().unwrap_or("?"),
                node["weights_hash"].as_str().unwrap_or("?")
            )),
            other => text.push_str(&format!("{other:<7} {id}\n")),
        }
    }
    for edge in graph["edges"].as_array().unwrap_or(&empty) {
        text.push_str(&format!(
            "{} -[{}]-> {}\n",
            edge["from"].as_str().unwrap_or("?"),
            edge["kind"].as_str().unwrap_or("?"),
            edge["to"].as_str().unwrap_or("?")
        ));
    }
    if graph["truncated"].as_bool() == Some(true) {
        text.push_str("(truncated: the walk stopped before the root)\n");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_metrics_as_fixed_point_without_floats() {
        assert_eq!(parse_fixed("0.9731"), Some(973_100));
        assert_eq!(parse_fixed("12"), Some(12_000_000));
        assert_eq!(parse_fixed("-1.5"), Some(-1_500_000));
        assert_eq!(parse_fixed(".25"), Some(250_000));
        assert_eq!(parse_fixed("1.0000001"), None);
        assert_eq!(parse_fixed("1e3"), None);
        assert_eq!(parse_fixed(""), None);
        assert_eq!(parse_fixed("99999999999999"), None);
        let metric = parse_metric("accuracy=0.5").expect("parses");
        assert_eq!(metric.name, "accuracy");
        assert_eq!(metric.value, 500_000);
        assert!(parse_metric("accuracy").is_err());
    }

    #[test]
    fn prints_fixed_point_metrics_as_the_decimals_they_were_parsed_from() {
        for text in [
            "0.9731",
            "12",
            "-1.5",
            "0.25",
            "0",
            "-0.000001",
            "123456.000001",
        ] {
            let value = parse_fixed(text).expect("parses");
            assert_eq!(fixed_text(value), text, "{value}");
        }
        assert_eq!(fixed_text(i64::MIN), "-9223372036854.775808");
    }

    #[test]
    fn writes_files_atomically() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("weights.bin");
        std::fs::write(&out, b"old").expect("write");
        write_atomically(&out, b"new weights").expect("written");
        assert_eq!(std::fs::read(&out).expect("read"), b"new weights");
        // Only the target remains: no temporary files left behind.
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 1);
    }
}
