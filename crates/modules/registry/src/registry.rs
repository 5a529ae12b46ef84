//! Repositories, versions, forks and lineage: the module and its Rust API for other modules.

use std::collections::{BTreeMap, BTreeSet};

use commonware_codec::{Copying, Decode as _, Encode as _};
use counterweight_state::{CallError, Module, ModuleError, StateAccess, TxContext, module_key};
use counterweight_storage_api::{Result as StorageResult, StateReader, StorageError};
use counterweight_types::{Address, ChainId, Genesis, Hash, ModuleId, domain};
use serde::Serialize;

use crate::{
    call::{
        Lineage, MAX_DESCRIPTION_BYTES, MAX_LICENCE_BYTES, MAX_MAINTAINERS, MAX_NAME_BYTES,
        MAX_STORED_DATASETS, Publish, RegistryCall,
    },
    record::{EdgeKind, LineageEdge, LineageGraph, LineageNode, Repo, Version},
};

/// The registry's module id.
pub const REGISTRY_MODULE: ModuleId = ModuleId(5);

/// Most repositories one `repos` query returns.
pub const MAX_LIST: usize = 100;

/// Most versions a `lineage` walk follows through parents before it stops (and says so).
pub const MAX_LINEAGE_DEPTH: usize = 256;

/// Failure codes in receipts of registry calls and query errors (stable).
pub mod codes {
    /// The payload does not decode (or a field exceeds its size limit).
    pub const MALFORMED: u32 = 1;
    /// A field's content is invalid (empty or badly formed name or tag, duplicate metric,
    /// zero weights size, ...).
    pub const INVALID_FIELD: u32 = 2;
    /// The sender already has a repository with this name.
    pub const REPO_EXISTS: u32 = 3;
    /// No repository has this id.
    pub const UNKNOWN_REPO: u32 = 4;
    /// Only the repository's owner (or, to publish, a maintainer) may do this.
    pub const NOT_AUTHORISED: u32 = 5;
    /// The repository already has a version with this tag.
    pub const DUPLICATE_TAG: u32 = 6;
    /// No version has the id given as parent.
    pub const UNKNOWN_PARENT: u32 = 7;
    /// No version has this id (the forked version).
    pub const UNKNOWN_VERSION: u32 = 8;
    /// The named training task is not finished, or its weights, architecture or datasets
    /// differ from the version's.
    pub const TASK_MISMATCH: u32 = 9;
    /// The account is already a maintainer (or the owner).
    pub const ALREADY_MAINTAINER: u32 = 10;
    /// The repository has [`crate::MAX_MAINTAINERS`] maintainers already.
    pub const TOO_MANY_MAINTAINERS: u32 = 11;
    /// Unknown query path or bad query argument.
    pub const BAD_QUERY: u32 = 12;
}

fn repo_key(id: &Hash) -> Vec<u8> {
    module_key(REGISTRY_MODULE, &[b"repo/", &id.0])
}

fn repo_count_key() -> Vec<u8> {
    module_key(REGISTRY_MODULE, &[b"repo_count"])
}

fn repo_index_key(index: u64) -> Vec<u8> {
    module_key(REGISTRY_MODULE, &[b"repo_idx/", &index.to_be_bytes()])
}

fn version_key(id: &Hash) -> Vec<u8> {
    module_key(REGISTRY_MODULE, &[b"ver/", &id.0])
}

fn repo_version_key(repo: &Hash, index: u32) -> Vec<u8> {
    module_key(
        REGISTRY_MODULE,
        &[b"repo_ver/", &repo.0, &index.to_be_bytes()],
    )
}

/// Returns the id of the repository `owner` names `name` on `chain_id`.
pub fn repo_id(chain_id: &ChainId, owner: &Address, name: &str) -> Hash {
    Hash::digest(
        domain::MODEL_REPO_ID,
        &[
            chain_id.as_str().as_bytes(),
            &[0],
            &owner.0,
            name.as_bytes(),
        ],
    )
}

/// Returns the id of the version tagged `tag` in repository `repo` on `chain_id`.
///
/// Ids are unique because tags are unique per repository.
pub fn version_id(chain_id: &ChainId, repo: &Hash, tag: &str) -> Hash {
    Hash::digest(
        domain::MODEL_VERSION_ID,
        &[chain_id.as_str().as_bytes(), &[0], &repo.0, tag.as_bytes()],
    )
}

fn decode<T: commonware_codec::Read<Cfg = ()>>(
    bytes: &[u8],
    what: &'static str,
) -> StorageResult<T> {
    T::decode_cfg(Copying(bytes), &()).map_err(|_| StorageError::Corrupt { what })
}

/// Returns the repository with this id.
///
/// # Errors
/// Fatal storage errors, or a corrupt stored record.
pub fn repo(state: &dyn StateReader, id: &Hash) -> StorageResult<Option<Repo>> {
    state
        .get(&repo_key(id))?
        .map(|v| decode(&v, "registry repo"))
        .transpose()
}

/// Returns the version with this id.
///
/// # Errors
/// Fatal storage errors, or a corrupt stored record.
pub fn version(state: &dyn StateReader, id: &Hash) -> StorageResult<Option<Version>> {
    state
        .get(&version_key(id))?
        .map(|v| decode(&v, "registry version"))
        .transpose()
}

/// Returns how many repositories exist.
///
/// # Errors
/// Fatal storage errors, or a corrupt counter.
pub fn repo_count(state: &dyn StateReader) -> StorageResult<u64> {
    match state.get(&repo_count_key())? {
        None => Ok(0),
        Some(v) => <[u8; 8]>::try_from(v.as_slice())
            .map(u64::from_be_bytes)
            .map_err(|_| StorageError::Corrupt {
                what: "registry repo count",
            }),
    }
}

/// Returns up to `limit` (at most [`MAX_LIST`]) repositories in creation order, starting
/// at the `start`-th.
///
/// # Errors
/// Fatal storage errors, or a corrupt index.
pub fn repos(state: &dyn StateReader, start: u64, limit: usize) -> StorageResult<Vec<Repo>> {
    let count = repo_count(state)?;
    let end = count.min(start.saturating_add(limit.min(MAX_LIST) as u64));
    let mut out = Vec::new();
    for index in start..end {
        let id = state
            .get(&repo_index_key(index))?
            .ok_or(StorageError::Corrupt {
                what: "registry repo index",
            })?;
        let id = Hash::from_slice(&id).map_err(|_| StorageError::Corrupt {
            what: "registry repo index",
        })?;
        out.push(repo(state, &id)?.ok_or(StorageError::Corrupt {
            what: "registry repo index",
        })?);
    }
    Ok(out)
}

/// Returns the versions of `repo` in publication order.
///
/// # Errors
/// Fatal storage errors, or a corrupt index.
pub fn versions(state: &dyn StateReader, repo: &Repo) -> StorageResult<Vec<Version>> {
    let mut out = Vec::with_capacity(repo.version_count as usize);
    for index in 0..repo.version_count {
        let corrupt = StorageError::Corrupt {
            what: "registry version index",
        };
        let id = state
            .get(&repo_version_key(&repo.id, index))?
            .ok_or(corrupt)?;
        let id = Hash::from_slice(&id).map_err(|_| StorageError::Corrupt {
            what: "registry version index",
        })?;
        out.push(version(state, &id)?.ok_or(StorageError::Corrupt {
            what: "registry version index",
        })?);
    }
    Ok(out)
}

/// Returns the lineage graph of version `id`: its datasets and task, then its parent's, up
/// to the root (or [`MAX_LINEAGE_DEPTH`] versions). `None` if no version has this id.
///
/// # Errors
/// Fatal storage errors, or a corrupt record (including a dangling parent).
pub fn lineage(state: &dyn StateReader, id: &Hash) -> StorageResult<Option<LineageGraph>> {
    let Some(mut current) = version(state, id)? else {
        return Ok(None);
    };
    let mut graph = LineageGraph {
        root: *id,
        nodes: Vec::new(),
        edges: Vec::new(),
        truncated: false,
    };
    let mut seen = BTreeSet::new();
    let mut add = |graph: &mut LineageGraph, node: LineageNode| {
        if seen.insert(node.id()) {
            graph.nodes.push(node);
        }
    };
    let mut edges = BTreeSet::new();
    let mut add_edge = |graph: &mut LineageGraph, from: Hash, to: Hash, kind: EdgeKind| {
        if edges.insert((from, to, kind)) {
            graph.edges.push(LineageEdge { from, to, kind });
        }
    };
    for depth in 0.. {
        add(
            &mut graph,
            LineageNode::Version {
                id: current.id,
                repo: current.repo,
                tag: current.tag.clone(),
                weights_hash: current.weights_hash,
            },
        );
        let consumer = match current.lineage.task {
            Some(task) => {
                add(&mut graph, LineageNode::Task { id: task });
                add_edge(&mut graph, task, current.id, EdgeKind::Produced);
                task
            }
            None => current.id,
        };
        for dataset in &current.lineage.datasets {
            add(&mut graph, LineageNode::Dataset { id: *dataset });
            add_edge(&mut graph, *dataset, consumer, EdgeKind::TrainedOn);
        }
        let Some(parent) = current.parent else {
            break;
        };
        add_edge(&mut graph, parent, current.id, EdgeKind::Parent);
        if depth + 1 >= MAX_LINEAGE_DEPTH {
            graph.truncated = true;
            break;
        }
        current = version(state, &parent)?.ok_or(StorageError::Corrupt {
            what: "registry version parent",
        })?;
    }
    Ok(Some(graph))
}

fn failed(code: u32, message: impl Into<String>) -> CallError {
    ModuleError::new(code, message).into()
}

fn check_name(what: &str, name: &str) -> Result<(), CallError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_BYTES
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(failed(
            codes::INVALID_FIELD,
            format!(
                "{what} {name:?} must be 1 to {MAX_NAME_BYTES} bytes of letters, digits, '.', '_' or '-'"
            ),
        ))
    }
}

fn check_len(what: &str, value: &str, max: usize) -> Result<(), CallError> {
    if value.len() > max {
        return Err(failed(
            codes::INVALID_FIELD,
            format!("{what} is {} bytes, at most {max} allowed", value.len()),
        ));
    }
    Ok(())
}

fn check_publish(p: &Publish) -> Result<(), CallError> {
    check_name("tag", &p.tag)?;
    if p.weights_size == 0 {
        return Err(failed(
            codes::INVALID_FIELD,
            "weights_size must be at least 1 byte",
        ));
    }
    let mut names = BTreeSet::new();
    for metric in &p.metrics {
        check_name("metric name", &metric.name)?;
        if !names.insert(metric.name.as_str()) {
            return Err(failed(
                codes::INVALID_FIELD,
                format!("metric {:?} appears twice", metric.name),
            ));
        }
    }
    let mut datasets = BTreeSet::new();
    for dataset in &p.lineage.datasets {
        if !datasets.insert(*dataset) {
            return Err(failed(
                codes::INVALID_FIELD,
                format!("dataset {dataset} appears twice in the lineage"),
            ));
        }
    }
    Ok(())
}

/// Checks a version's named training task against the learn module and returns the lineage
/// to store: the task must be finished with an aggregated model whose weights and
/// architecture hashes equal the version's; its datasets become the version's (datasets the
/// publisher lists must be exactly those).
fn resolve_lineage(state: &dyn StateReader, p: &Publish) -> Result<Lineage, CallError> {
    let Some(task) = p.lineage.task else {
        return Ok(p.lineage.clone());
    };
    let model = counterweight_learn::finished_model(state, &task)?.ok_or_else(|| {
        failed(
            codes::TASK_MISMATCH,
            format!("task {task} is not a finished training task with an aggregated model"),
        )
    })?;
    if model.weights_hash != p.weights_hash {
        return Err(failed(
            codes::TASK_MISMATCH,
            format!(
                "task {task} produced weights {}, the version names {}",
                model.weights_hash, p.weights_hash
            ),
        ));
    }
    if model.arch_hash != p.arch_hash {
        return Err(failed(
            codes::TASK_MISMATCH,
            format!(
                "task {task} trained architecture {}, the version names {}",
                model.arch_hash, p.arch_hash
            ),
        ));
    }
    let claimed: BTreeSet<Hash> = p.lineage.datasets.iter().copied().collect();
    let trained: BTreeSet<Hash> = model.datasets.iter().copied().collect();
    if !claimed.is_empty() && claimed != trained {
        return Err(failed(
            codes::TASK_MISMATCH,
            format!(
                "task {task} trained on {} datasets that differ from the {} listed; list none to take the task's",
                trained.len(),
                claimed.len()
            ),
        ));
    }
    if model.datasets.len() > MAX_STORED_DATASETS {
        return Err(failed(
            codes::TASK_MISMATCH,
            format!(
                "task {task} trained on {} datasets, more than the {MAX_STORED_DATASETS} a version records",
                model.datasets.len()
            ),
        ));
    }
    Ok(Lineage {
        task: Some(task),
        datasets: model.datasets,
    })
}

fn attrs<const N: usize>(pairs: [(&str, String); N]) -> BTreeMap<String, String> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

fn put_repo(state: &mut dyn StateAccess, repo: &Repo) {
    state.set(repo_key(&repo.id), repo.encode().to_vec());
}

fn create_repo(
    ctx: &mut TxContext<'_>,
    name: String,
    description: String,
    licence: String,
    forked_from: Option<Hash>,
) -> Result<Repo, CallError> {
    check_name("repository name", &name)?;
    check_len("description", &description, MAX_DESCRIPTION_BYTES)?;
    check_len("licence", &licence, MAX_LICENCE_BYTES)?;
    let owner = ctx.sender;
    let id = repo_id(ctx.chain_id, &owner, &name);
    if repo(ctx, &id)?.is_some() {
        return Err(failed(
            codes::REPO_EXISTS,
            format!("you already own a repository named {name:?} ({id})"),
        ));
    }
    let record = Repo {
        id,
        owner,
        name,
        description,
        licence,
        maintainers: Vec::new(),
        forked_from,
        version_count: 0,
        created_height: ctx.height,
        created_ms: ctx.timestamp_ms,
    };
    let index = repo_count(ctx)?;
    ctx.set(repo_index_key(index), id.0.to_vec());
    ctx.set(repo_count_key(), (index + 1).to_be_bytes().to_vec());
    put_repo(ctx, &record);
    let mut event = attrs([
        ("repo", id.to_hex()),
        ("owner", owner.to_hex()),
        ("name", record.name.clone()),
    ]);
    if let Some(from) = forked_from {
        event.insert("forked_from".into(), from.to_hex());
    }
    ctx.emit("repo_created", event);
    Ok(record)
}

fn publish(ctx: &mut TxContext<'_>, p: Publish) -> Result<Version, CallError> {
    check_publish(&p)?;
    let mut target = repo(ctx, &p.repo)?
        .ok_or_else(|| failed(codes::UNKNOWN_REPO, format!("no repository {}", p.repo)))?;
    if !target.can_publish(&ctx.sender) {
        return Err(failed(
            codes::NOT_AUTHORISED,
            format!(
                "only the owner or a maintainer of repository {} may publish",
                target.id
            ),
        ));
    }
    let id = version_id(ctx.chain_id, &target.id, &p.tag);
    if version(ctx, &id)?.is_some() {
        return Err(failed(
            codes::DUPLICATE_TAG,
            format!("repository {} already has tag {:?}", target.id, p.tag),
        ));
    }
    if let Some(parent) = p.parent
        && version(ctx, &parent)?.is_none()
    {
        return Err(failed(
            codes::UNKNOWN_PARENT,
            format!("parent {parent} is not a published version"),
        ));
    }
    let lineage = resolve_lineage(ctx, &p)?;
    let record = Version {
        id,
        repo: target.id,
        tag: p.tag,
        weights_hash: p.weights_hash,
        weights_size: p.weights_size,
        arch_hash: p.arch_hash,
        metrics: p.metrics,
        parent: p.parent,
        lineage,
        signer: ctx.sender,
        tx_hash: ctx.tx_hash,
        height: ctx.height,
        timestamp_ms: ctx.timestamp_ms,
    };
    ctx.set(
        repo_version_key(&target.id, target.version_count),
        id.0.to_vec(),
    );
    target.version_count = target
        .version_count
        .checked_add(1)
        .ok_or_else(|| failed(codes::INVALID_FIELD, "repository has too many versions"))?;
    put_repo(ctx, &target);
    ctx.set(version_key(&id), record.encode().to_vec());
    let mut event = attrs([
        ("version", id.to_hex()),
        ("repo", target.id.to_hex()),
        ("tag", record.tag.clone()),
        ("weights_hash", record.weights_hash.to_hex()),
        ("arch_hash", record.arch_hash.to_hex()),
        ("signer", record.signer.to_hex()),
    ]);
    if let Some(parent) = record.parent {
        event.insert("parent".into(), parent.to_hex());
    }
    if let Some(task) = record.lineage.task {
        event.insert("task".into(), task.to_hex());
    }
    ctx.emit("version_published", event);
    Ok(record)
}

fn fork(ctx: &mut TxContext<'_>, source_id: Hash, name: String) -> Result<(), CallError> {
    let source = version(ctx, &source_id)?.ok_or_else(|| {
        failed(
            codes::UNKNOWN_VERSION,
            format!("no version {source_id} to fork"),
        )
    })?;
    let source_repo = repo(ctx, &source.repo)?.ok_or(StorageError::Corrupt {
        what: "registry version without repository",
    })?;
    let created = create_repo(
        ctx,
        name,
        source_repo.description,
        source_repo.licence,
        Some(source_id),
    )?;
    let first = publish(
        ctx,
        Publish {
            repo: created.id,
            tag: source.tag,
            weights_hash: source.weights_hash,
            weights_size: source.weights_size,
            arch_hash: source.arch_hash,
            metrics: source.metrics,
            parent: Some(source_id),
            lineage: source.lineage,
        },
    )?;
    ctx.emit(
        "repo_forked",
        attrs([
            ("repo", created.id.to_hex()),
            ("version", first.id.to_hex()),
            ("from_version", source_id.to_hex()),
            ("from_repo", source.repo.to_hex()),
            ("owner", created.owner.to_hex()),
        ]),
    );
    Ok(())
}

fn add_maintainer(
    ctx: &mut TxContext<'_>,
    repo_id: Hash,
    maintainer: Address,
) -> Result<(), CallError> {
    let mut target = repo(ctx, &repo_id)?
        .ok_or_else(|| failed(codes::UNKNOWN_REPO, format!("no repository {repo_id}")))?;
    if target.owner != ctx.sender {
        return Err(failed(
            codes::NOT_AUTHORISED,
            format!("only the owner of repository {repo_id} may add maintainers"),
        ));
    }
    if target.can_publish(&maintainer) {
        return Err(failed(
            codes::ALREADY_MAINTAINER,
            format!("{maintainer} may already publish in repository {repo_id}"),
        ));
    }
    if target.maintainers.len() >= MAX_MAINTAINERS {
        return Err(failed(
            codes::TOO_MANY_MAINTAINERS,
            format!("repository {repo_id} has {MAX_MAINTAINERS} maintainers, the most allowed"),
        ));
    }
    target.maintainers.push(maintainer);
    put_repo(ctx, &target);
    ctx.emit(
        "maintainer_added",
        attrs([
            ("repo", repo_id.to_hex()),
            ("maintainer", maintainer.to_hex()),
        ]),
    );
    Ok(())
}

fn json<T: Serialize>(value: &T) -> Result<Vec<u8>, CallError> {
    serde_json::to_vec(value)
        .map_err(|e| StorageError::Invariant(format!("registry query encoding: {e}")).into())
}

/// The registry module: register it with the runtime.
#[derive(Clone, Copy, Debug, Default)]
pub struct Registry;

impl Module for Registry {
    fn id(&self) -> ModuleId {
        REGISTRY_MODULE
    }

    fn name(&self) -> &'static str {
        "registry"
    }

    fn check_payload(&self, payload: &[u8]) -> Result<(), ModuleError> {
        RegistryCall::from_payload(payload)
            .map(|_| ())
            .map_err(|e| ModuleError::new(codes::MALFORMED, format!("registry call: {e}")))
    }

    fn init_genesis(&self, _: &mut dyn StateAccess, _: &Genesis) -> Result<(), CallError> {
        Ok(())
    }

    fn execute(&self, ctx: &mut TxContext<'_>, payload: &[u8]) -> Result<(), CallError> {
        let call = RegistryCall::from_payload(payload)
            .map_err(|e| ModuleError::new(codes::MALFORMED, format!("registry call: {e}")))?;
        match call {
            RegistryCall::CreateRepo {
                name,
                description,
                licence,
            } => create_repo(ctx, name, description, licence, None).map(|_| ()),
            RegistryCall::Publish(p) => publish(ctx, p).map(|_| ()),
            RegistryCall::Fork { version, name } => fork(ctx, version, name),
            RegistryCall::AddMaintainer { repo, maintainer } => {
                add_maintainer(ctx, repo, maintainer)
            }
        }
    }

    /// Paths (answers are JSON; a missing object is `null`):
    /// - `repo` — data: repository id (32 bytes) → [`Repo`];
    /// - `repos` — data: empty, or a start index (8 bytes, big-endian) → up to
    ///   [`MAX_LIST`] [`Repo`]s;
    /// - `version` — data: version id → [`Version`];
    /// - `versions` — data: repository id → its [`Version`]s in publication order;
    /// - `lineage` — data: version id → [`LineageGraph`].
    fn query(
        &self,
        state: &dyn StateReader,
        path: &str,
        data: &[u8],
    ) -> Result<Vec<u8>, CallError> {
        let id = || {
            <[u8; 32]>::try_from(data).map(Hash).map_err(|_| {
                failed(
                    codes::BAD_QUERY,
                    format!("argument must be a 32-byte id, got {} bytes", data.len()),
                )
            })
        };
        match path {
            "repo" => json(&repo(state, &id()?)?),
            "repos" => {
                let start = match data.len() {
                    0 => 0,
                    8 => u64::from_be_bytes(<[u8; 8]>::try_from(data).unwrap_or_default()),
                    n => {
                        return Err(failed(
                            codes::BAD_QUERY,
                            format!(
                                "argument must be empty or an 8-byte start index, got {n} bytes"
                            ),
                        ));
                    }
                };
                json(&repos(state, start, MAX_LIST)?)
            }
            "version" => json(&version(state, &id()?)?),
            "versions" => match repo(state, &id()?)? {
                None => json(&Option::<()>::None),
                Some(r) => json(&versions(state, &r)?),
            },
            "lineage" => json(&lineage(state, &id()?)?),
            other => Err(failed(
                codes::BAD_QUERY,
                format!(
                    "unknown query {other:?}; expected repo, repos, version, versions or lineage"
                ),
            )),
        }
    }
}
