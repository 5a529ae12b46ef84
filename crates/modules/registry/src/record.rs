//! Stored records (repositories and versions) with their canonical encodings.
//!
//! The JSON form (serde) is what queries return; hashes and addresses are lowercase hex.

use bytes::BufMut;
use commonware_codec::{Buf, EncodeSize, Error as CodecError, FixedSize, Read, ReadExt, Write};
use counterweight_types::{
    Address, Hash, Height,
    codec::{read_str, read_vec, str_size, write_str},
};
use serde::{Deserialize, Serialize};

use crate::call::{
    Lineage, MAX_DESCRIPTION_BYTES, MAX_LICENCE_BYTES, MAX_MAINTAINERS, MAX_METRICS,
    MAX_NAME_BYTES, MAX_STORED_DATASETS, Metric,
};

/// A model repository: a named, owned series of versions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repo {
    /// The id ([`crate::repo_id`] of chain, owner and name).
    pub id: Hash,
    /// The owner: may publish and add maintainers.
    pub owner: Address,
    /// The name, unique per owner.
    pub name: String,
    /// A free-text description.
    pub description: String,
    /// The licence (SPDX expression).
    pub licence: String,
    /// Accounts besides the owner that may publish.
    pub maintainers: Vec<Address>,
    /// The version this repository was forked from, if it is a fork.
    pub forked_from: Option<Hash>,
    /// How many versions were published (they are listed by `versions`).
    pub version_count: u32,
    /// The height of the creating block.
    pub created_height: Height,
    /// The creating block's timestamp.
    pub created_ms: u64,
}

impl Repo {
    /// Returns whether `who` may publish in this repository (owner or maintainer).
    pub fn can_publish(&self, who: &Address) -> bool {
        self.owner == *who || self.maintainers.contains(who)
    }
}

impl Write for Repo {
    fn write(&self, buf: &mut impl BufMut) {
        self.id.write(buf);
        self.owner.write(buf);
        write_str(&self.name, buf);
        write_str(&self.description, buf);
        write_str(&self.licence, buf);
        self.maintainers.write(buf);
        self.forked_from.write(buf);
        self.version_count.write(buf);
        self.created_height.write(buf);
        self.created_ms.write(buf);
    }
}

impl EncodeSize for Repo {
    fn encode_size(&self) -> usize {
        Hash::SIZE
            + Address::SIZE
            + str_size(&self.name)
            + str_size(&self.description)
            + str_size(&self.licence)
            + self.maintainers.encode_size()
            + self.forked_from.encode_size()
            + u32::SIZE
            + Height::SIZE
            + u64::SIZE
    }
}

impl Read for Repo {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        Ok(Self {
            id: Hash::read(buf)?,
            owner: Address::read(buf)?,
            name: read_str(buf, MAX_NAME_BYTES, "Repo.name")?,
            description: read_str(buf, MAX_DESCRIPTION_BYTES, "Repo.description")?,
            licence: read_str(buf, MAX_LICENCE_BYTES, "Repo.licence")?,
            maintainers: read_vec(buf, MAX_MAINTAINERS)?,
            forked_from: Option::<Hash>::read(buf)?,
            version_count: u32::read(buf)?,
            created_height: Height::read(buf)?,
            created_ms: u64::read(buf)?,
        })
    }
}

/// A published model version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    /// The id ([`crate::version_id`] of chain, repository and tag).
    pub id: Hash,
    /// The repository.
    pub repo: Hash,
    /// The tag, unique in the repository.
    pub tag: String,
    /// BLAKE3 of the weights blob.
    pub weights_hash: Hash,
    /// Size of the weights blob in bytes.
    pub weights_size: u64,
    /// Hash of the architecture (IR).
    pub arch_hash: Hash,
    /// Metrics, fixed-point with [`crate::METRIC_SCALE`].
    pub metrics: Vec<Metric>,
    /// The version these weights derive from.
    pub parent: Option<Hash>,
    /// The task and datasets that produced the weights.
    pub lineage: Lineage,
    /// Who signed the publishing transaction.
    pub signer: Address,
    /// The publishing transaction.
    pub tx_hash: Hash,
    /// The height of the publishing block.
    pub height: Height,
    /// The publishing block's timestamp.
    pub timestamp_ms: u64,
}

impl Write for Version {
    fn write(&self, buf: &mut impl BufMut) {
        self.id.write(buf);
        self.repo.write(buf);
        write_str(&self.tag, buf);
        self.weights_hash.write(buf);
        self.weights_size.write(buf);
        self.arch_hash.write(buf);
        self.metrics.write(buf);
        self.parent.write(buf);
        self.lineage.write(buf);
        self.signer.write(buf);
        self.tx_hash.write(buf);
        self.height.write(buf);
        self.timestamp_ms.write(buf);
    }
}

impl EncodeSize for Version {
    fn encode_size(&self) -> usize {
        Hash::SIZE * 2
            + str_size(&self.tag)
            + Hash::SIZE
            + u64::SIZE
            + Hash::SIZE
            + self.metrics.encode_size()
            + self.parent.encode_size()
            + self.lineage.encode_size()
            + Address::SIZE
            + Hash::SIZE
            + Height::SIZE
            + u64::SIZE
    }
}

impl Read for Version {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        Ok(Self {
            id: Hash::read(buf)?,
            repo: Hash::read(buf)?,
            tag: read_str(buf, MAX_NAME_BYTES, "Version.tag")?,
            weights_hash: Hash::read(buf)?,
            weights_size: u64::read(buf)?,
            arch_hash: Hash::read(buf)?,
            metrics: read_vec(buf, MAX_METRICS)?,
            parent: Option::<Hash>::read(buf)?,
            lineage: Lineage::read_cfg(buf, &MAX_STORED_DATASETS)?,
            signer: Address::read(buf)?,
            tx_hash: Hash::read(buf)?,
            height: Height::read(buf)?,
            timestamp_ms: u64::read(buf)?,
        })
    }
}

/// A node of a lineage graph.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LineageNode {
    /// A published version.
    Version {
        /// Its id.
        id: Hash,
        /// Its repository.
        repo: Hash,
        /// Its tag.
        tag: String,
        /// BLAKE3 of its weights.
        weights_hash: Hash,
    },
    /// A training task (learn module).
    Task {
        /// Its id.
        id: Hash,
    },
    /// A dataset (coop module).
    Dataset {
        /// Its id.
        id: Hash,
    },
}

impl LineageNode {
    /// Returns the node's id.
    pub fn id(&self) -> Hash {
        match self {
            Self::Version { id, .. } | Self::Task { id } | Self::Dataset { id } => *id,
        }
    }
}

/// How one lineage node feeds another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EdgeKind {
    /// A dataset was trained on by a task (or directly by a version without a task).
    TrainedOn,
    /// A task produced a version's weights.
    Produced,
    /// A version derives from its parent.
    Parent,
}

/// A directed lineage edge: `from` feeds `to`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineageEdge {
    /// The source (dataset, task or parent version).
    pub from: Hash,
    /// The target (task or version).
    pub to: Hash,
    /// The relation.
    pub kind: EdgeKind,
}

/// The lineage of a version: datasets → task → version → parent → … → root.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineageGraph {
    /// The version asked about.
    pub root: Hash,
    /// Every node, the asked version first, then in walk order; each id once.
    pub nodes: Vec<LineageNode>,
    /// Every edge, each once.
    pub edges: Vec<LineageEdge>,
    /// Whether the walk stopped at [`crate::MAX_LINEAGE_DEPTH`] before reaching a root.
    pub truncated: bool,
}
