//! Repositories, versions, forks and lineage: the module and its Rust API for other modules.

use std::collections::BTreeSet;

use commonware_codec::{Copying, Decode as _, Encode as _};
use counterweight_state::{
    CallError, Module, ModuleCall as _, ModuleError, StateAccess, TxContext, Verdict as _,
    module_key,
};
use counterweight_storage_api::{Result as StorageResult, StateReader, StorageError};
use counterweight_types::{Address, ChainId, Genesis, Hash, ModuleId, domain};

use crate::{
    RegistryError, RegistryEvent,
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

fn check_name(what: &'static str, name: &str) -> Result<(), RegistryError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_BYTES
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(RegistryError::BadName {
            what,
            name: name.to_owned(),
        })
    }
}

fn check_len(what: &'static str, value: &str, max: usize) -> Result<(), RegistryError> {
    if value.len() > max {
        return Err(RegistryError::TooLong {
            what,
            len: value.len(),
            max,
        });
    }
    Ok(())
}

fn check_publish(p: &Publish) -> Result<(), RegistryError> {
    check_name("tag", &p.tag)?;
    if p.weights_size == 0 {
        return Err(RegistryError::ZeroWeightsSize);
    }
    let mut names = BTreeSet::new();
    for metric in &p.metrics {
        check_name("metric name", &metric.name)?;
        if !names.insert(metric.name.as_str()) {
            return Err(RegistryError::DuplicateMetric {
                name: metric.name.clone(),
            });
        }
    }
    let mut datasets = BTreeSet::new();
    for dataset in &p.lineage.datasets {
        if !datasets.insert(*dataset) {
            return Err(RegistryError::DuplicateDataset { dataset: *dataset });
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
    let model = counterweight_learn::finished_model(state, &task)?
        .ok_or(RegistryError::TaskNotFinished { task })?;
    if model.weights_hash != p.weights_hash {
        return Err(RegistryError::TaskWeights {
            task,
            trained: model.weights_hash,
            named: p.weights_hash,
        }
        .into());
    }
    if model.arch_hash != p.arch_hash {
        return Err(RegistryError::TaskArchitecture {
            task,
            trained: model.arch_hash,
            named: p.arch_hash,
        }
        .into());
    }
    let claimed: BTreeSet<Hash> = p.lineage.datasets.iter().copied().collect();
    let trained: BTreeSet<Hash> = model.datasets.iter().copied().collect();
    if !claimed.is_empty() && claimed != trained {
        return Err(RegistryError::TaskDatasets {
            task,
            trained: trained.len(),
            listed: claimed.len(),
        }
        .into());
    }
    if model.datasets.len() > MAX_STORED_DATASETS {
        return Err(RegistryError::TooManyTaskDatasets {
            task,
            count: model.datasets.len(),
        }
        .into());
    }
    Ok(Lineage {
        task: Some(task),
        datasets: model.datasets,
    })
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
        return Err(RegistryError::RepoExists { name, id }.into());
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
    ctx.emit_event(&RegistryEvent::RepoCreated {
        repo: id,
        owner,
        name: record.name.clone(),
        forked_from,
    })?;
    Ok(record)
}

/// Checks a version's datasets against the coop module (audit L8):
/// - every dataset in its lineage is committed to a cooperative;
/// - datasets the publisher lists without naming a task consent to training now (a task's
///   datasets were checked by `learn` when they trained, round by round);
/// - a derivative — a version with a parent, which includes the first version of a fork —
///   needs every dataset of its parent's lineage to consent to derivative works now (so a
///   revocation stops later forks and fine-tunes, not the model already published).
fn check_consent(state: &dyn StateReader, p: &Publish, lineage: &Lineage) -> Result<(), CallError> {
    for id in &lineage.datasets {
        let dataset = counterweight_coop::dataset(state, id)?
            .ok_or(RegistryError::UnknownDataset { dataset: *id })?;
        if lineage.task.is_none() && (dataset.revoked || !dataset.consent.training) {
            return Err(RegistryError::NoConsent {
                dataset: *id,
                what: "training",
            }
            .into());
        }
    }
    let Some(parent) = p.parent else {
        return Ok(());
    };
    let parent = version(state, &parent)?.ok_or(RegistryError::UnknownParent { parent })?;
    for id in &parent.lineage.datasets {
        let consents = counterweight_coop::dataset(state, id)?
            .is_some_and(|d| d.consent.derivatives && !d.revoked);
        if !consents {
            return Err(RegistryError::NoConsent {
                dataset: *id,
                what: "derivative works",
            }
            .into());
        }
    }
    Ok(())
}

fn publish(ctx: &mut TxContext<'_>, p: Publish) -> Result<Version, CallError> {
    check_publish(&p)?;
    let mut target = repo(ctx, &p.repo)?.ok_or(RegistryError::UnknownRepo { id: p.repo })?;
    if !target.can_publish(&ctx.sender) {
        return Err(RegistryError::NotPublisher { repo: target.id }.into());
    }
    let id = version_id(ctx.chain_id, &target.id, &p.tag);
    if version(ctx, &id)?.is_some() {
        return Err(RegistryError::DuplicateTag {
            repo: target.id,
            tag: p.tag,
        }
        .into());
    }
    if let Some(parent) = p.parent
        && version(ctx, &parent)?.is_none()
    {
        return Err(RegistryError::UnknownParent { parent }.into());
    }
    let lineage = resolve_lineage(ctx, &p)?;
    check_consent(ctx, &p, &lineage)?;
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
        .ok_or(RegistryError::TooManyVersions)?;
    put_repo(ctx, &target);
    ctx.set(version_key(&id), record.encode().to_vec());
    ctx.emit_event(&RegistryEvent::VersionPublished {
        version: id,
        repo: target.id,
        tag: record.tag.clone(),
        weights_hash: record.weights_hash,
        arch_hash: record.arch_hash,
        signer: record.signer,
        parent: record.parent,
        task: record.lineage.task,
    })?;
    Ok(record)
}

fn fork(ctx: &mut TxContext<'_>, source_id: Hash, name: String) -> Result<(), CallError> {
    let source =
        version(ctx, &source_id)?.ok_or(RegistryError::UnknownVersion { id: source_id })?;
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
    ctx.emit_event(&RegistryEvent::RepoForked {
        repo: created.id,
        version: first.id,
        from_version: source_id,
        from_repo: source.repo,
        owner: created.owner,
    })?;
    Ok(())
}

fn add_maintainer(
    ctx: &mut TxContext<'_>,
    repo_id: Hash,
    maintainer: Address,
) -> Result<(), CallError> {
    let mut target = repo(ctx, &repo_id)?.ok_or(RegistryError::UnknownRepo { id: repo_id })?;
    if target.owner != ctx.sender {
        return Err(RegistryError::NotOwner { repo: repo_id }.into());
    }
    if target.can_publish(&maintainer) {
        return Err(RegistryError::AlreadyMaintainer {
            maintainer,
            repo: repo_id,
        }
        .into());
    }
    if target.maintainers.len() >= MAX_MAINTAINERS {
        return Err(RegistryError::TooManyMaintainers { repo: repo_id }.into());
    }
    target.maintainers.push(maintainer);
    put_repo(ctx, &target);
    ctx.emit_event(&RegistryEvent::MaintainerAdded {
        repo: repo_id,
        maintainer,
    })?;
    Ok(())
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
        RegistryCall::parse(payload)
            .map(drop)
            .map_err(|e| RegistryError::from(e).to_module_error())
    }

    fn init_genesis(&self, _: &mut dyn StateAccess, _: &Genesis) -> Result<(), CallError> {
        Ok(())
    }

    fn execute(&self, ctx: &mut TxContext<'_>, payload: &[u8]) -> Result<(), CallError> {
        let call = RegistryCall::parse(payload).map_err(RegistryError::from)?;
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

    /// Answers JSON; a missing object is `null` (see the crate docs for the paths).
    fn query(
        &self,
        state: &dyn StateReader,
        path: &str,
        data: &[u8],
    ) -> Result<Vec<u8>, CallError> {
        crate::query::answer_query(state, path, data)
    }
}
