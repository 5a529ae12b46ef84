//! The registry's transactions, with their canonical encodings and size limits.

use bytes::BufMut;
use commonware_codec::{Buf, EncodeSize, Error as CodecError, FixedSize, Read, ReadExt, Write};
use counterweight_state::ModuleCall;
use counterweight_types::{
    Address, Hash,
    codec::{read_str, read_vec, str_size, write_str},
};
use serde::{Deserialize, Serialize};

/// Most bytes in a repository name or a version tag.
pub const MAX_NAME_BYTES: usize = 64;
/// Most bytes in a repository description.
pub const MAX_DESCRIPTION_BYTES: usize = 256;
/// Most bytes in a licence identifier (an SPDX expression, e.g. `Apache-2.0`).
pub const MAX_LICENCE_BYTES: usize = 64;
/// Most metrics on one version.
pub const MAX_METRICS: usize = 16;
/// Most datasets in one version's lineage.
pub const MAX_DATASETS: usize = 64;
/// Most datasets in a stored version's lineage: a version naming a training task takes the
/// task's datasets, which may be more than a call can list.
pub const MAX_STORED_DATASETS: usize = 4_096;
/// Most maintainers of one repository (besides its owner).
pub const MAX_MAINTAINERS: usize = 16;
/// Scale of metric values: a metric is stored as `round(value * METRIC_SCALE)`, so
/// `accuracy = 0.9731` is `973_100` (six decimal places).
pub const METRIC_SCALE: i64 = 1_000_000;

/// Where a version's weights came from: the training task that produced them (if any) and
/// the datasets it was trained on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lineage {
    /// The learn module's task that produced the weights.
    pub task: Option<Hash>,
    /// The datasets (coop module ids) the weights were trained on, at most [`MAX_DATASETS`].
    pub datasets: Vec<Hash>,
}

impl Write for Lineage {
    fn write(&self, buf: &mut impl BufMut) {
        self.task.write(buf);
        self.datasets.write(buf);
    }
}

impl EncodeSize for Lineage {
    fn encode_size(&self) -> usize {
        self.task.encode_size() + self.datasets.encode_size()
    }
}

/// Reads a lineage with at most `max_datasets` datasets.
impl Read for Lineage {
    type Cfg = usize;

    fn read_cfg(buf: &mut impl Buf, max_datasets: &usize) -> Result<Self, CodecError> {
        Ok(Self {
            task: Option::<Hash>::read(buf)?,
            datasets: read_vec(buf, *max_datasets)?,
        })
    }
}

/// A metric of a version: a name and a fixed-point value scaled by [`METRIC_SCALE`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metric {
    /// The metric's name (e.g. `accuracy`), at most [`MAX_NAME_BYTES`].
    pub name: String,
    /// The value times [`METRIC_SCALE`].
    pub value: i64,
}

impl Write for Metric {
    fn write(&self, buf: &mut impl BufMut) {
        write_str(&self.name, buf);
        self.value.write(buf);
    }
}

impl EncodeSize for Metric {
    fn encode_size(&self) -> usize {
        str_size(&self.name) + i64::SIZE
    }
}

impl Read for Metric {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        Ok(Self {
            name: read_str(buf, MAX_NAME_BYTES, "Metric.name")?,
            value: i64::read(buf)?,
        })
    }
}

/// The fields of a version to publish (see [`RegistryCall::Publish`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Publish {
    /// The repository.
    pub repo: Hash,
    /// The tag, unique in the repository (e.g. `v1`), at most [`MAX_NAME_BYTES`].
    pub tag: String,
    /// BLAKE3 of the weights blob (its address in the blob store).
    pub weights_hash: Hash,
    /// Size of the weights blob in bytes (at least 1).
    pub weights_size: u64,
    /// Hash of the model's architecture (IR).
    pub arch_hash: Hash,
    /// Evaluation metrics, names unique, at most [`MAX_METRICS`].
    pub metrics: Vec<Metric>,
    /// The version these weights derive from (fine-tuned from, forked from).
    pub parent: Option<Hash>,
    /// The task and datasets that produced these weights.
    pub lineage: Lineage,
}

impl Write for Publish {
    fn write(&self, buf: &mut impl BufMut) {
        self.repo.write(buf);
        write_str(&self.tag, buf);
        self.weights_hash.write(buf);
        self.weights_size.write(buf);
        self.arch_hash.write(buf);
        self.metrics.write(buf);
        self.parent.write(buf);
        self.lineage.write(buf);
    }
}

impl EncodeSize for Publish {
    fn encode_size(&self) -> usize {
        Hash::SIZE
            + str_size(&self.tag)
            + Hash::SIZE
            + u64::SIZE
            + Hash::SIZE
            + self.metrics.encode_size()
            + self.parent.encode_size()
            + self.lineage.encode_size()
    }
}

impl Read for Publish {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        Ok(Self {
            repo: Hash::read(buf)?,
            tag: read_str(buf, MAX_NAME_BYTES, "Publish.tag")?,
            weights_hash: Hash::read(buf)?,
            weights_size: u64::read(buf)?,
            arch_hash: Hash::read(buf)?,
            metrics: read_vec(buf, MAX_METRICS)?,
            parent: Option::<Hash>::read(buf)?,
            lineage: Lineage::read_cfg(buf, &MAX_DATASETS)?,
        })
    }
}

/// A registry transaction, carried in `Call.payload` with module id
/// [`crate::REGISTRY_MODULE`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RegistryCall {
    /// Creates a model repository owned by the sender. Its id is
    /// [`crate::repo_id`]`(chain, sender, name)`, reported in a `repo_created` event.
    CreateRepo {
        /// The name, unique per owner: 1 to [`MAX_NAME_BYTES`] of `[A-Za-z0-9._-]`.
        name: String,
        /// A free-text description, at most [`MAX_DESCRIPTION_BYTES`].
        description: String,
        /// The licence (an SPDX expression), at most [`MAX_LICENCE_BYTES`].
        licence: String,
    },
    /// Publishes a version in a repository. Only its owner or a maintainer may.
    Publish(Publish),
    /// Creates a repository owned by the sender whose first version copies `version` (same
    /// weights, tag, metrics and lineage) with `version` as its parent.
    Fork {
        /// The version forked.
        version: Hash,
        /// The new repository's name.
        name: String,
    },
    /// Lets `maintainer` publish in `repo`. Only the repository's owner may.
    AddMaintainer {
        /// The repository.
        repo: Hash,
        /// The new maintainer.
        maintainer: Address,
    },
}

/// Decoding enforces every size limit and rejects trailing bytes.
impl ModuleCall for RegistryCall {
    const WHAT: &'static str = "registry call";
}

impl Write for RegistryCall {
    fn write(&self, buf: &mut impl BufMut) {
        match self {
            Self::CreateRepo {
                name,
                description,
                licence,
            } => {
                buf.put_u8(0);
                write_str(name, buf);
                write_str(description, buf);
                write_str(licence, buf);
            }
            Self::Publish(publish) => {
                buf.put_u8(1);
                publish.write(buf);
            }
            Self::Fork { version, name } => {
                buf.put_u8(2);
                version.write(buf);
                write_str(name, buf);
            }
            Self::AddMaintainer { repo, maintainer } => {
                buf.put_u8(3);
                repo.write(buf);
                maintainer.write(buf);
            }
        }
    }
}

impl EncodeSize for RegistryCall {
    fn encode_size(&self) -> usize {
        1 + match self {
            Self::CreateRepo {
                name,
                description,
                licence,
            } => str_size(name) + str_size(description) + str_size(licence),
            Self::Publish(publish) => publish.encode_size(),
            Self::Fork { name, .. } => Hash::SIZE + str_size(name),
            Self::AddMaintainer { .. } => Hash::SIZE + Address::SIZE,
        }
    }
}

impl Read for RegistryCall {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        match u8::read(buf)? {
            0 => Ok(Self::CreateRepo {
                name: read_str(buf, MAX_NAME_BYTES, "CreateRepo.name")?,
                description: read_str(buf, MAX_DESCRIPTION_BYTES, "CreateRepo.description")?,
                licence: read_str(buf, MAX_LICENCE_BYTES, "CreateRepo.licence")?,
            }),
            1 => Ok(Self::Publish(Publish::read(buf)?)),
            2 => Ok(Self::Fork {
                version: Hash::read(buf)?,
                name: read_str(buf, MAX_NAME_BYTES, "Fork.name")?,
            }),
            3 => Ok(Self::AddMaintainer {
                repo: Hash::read(buf)?,
                maintainer: Address::read(buf)?,
            }),
            tag => Err(CodecError::InvalidEnum(tag)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn publish() -> RegistryCall {
        RegistryCall::Publish(Publish {
            repo: Hash([1; 32]),
            tag: "v1".into(),
            weights_hash: Hash([2; 32]),
            weights_size: 10,
            arch_hash: Hash([3; 32]),
            metrics: vec![Metric {
                name: "accuracy".into(),
                value: 973_100,
            }],
            parent: Some(Hash([4; 32])),
            lineage: Lineage {
                task: Some(Hash([5; 32])),
                datasets: vec![Hash([6; 32])],
            },
        })
    }

    #[test]
    fn every_call_round_trips() {
        let calls = [
            RegistryCall::CreateRepo {
                name: "mnist".into(),
                description: "digits".into(),
                licence: "MIT".into(),
            },
            publish(),
            RegistryCall::Fork {
                version: Hash([9; 32]),
                name: "fork".into(),
            },
            RegistryCall::AddMaintainer {
                repo: Hash([1; 32]),
                maintainer: Address([2; 32]),
            },
        ];
        for call in calls {
            let bytes = call.to_payload();
            assert_eq!(bytes.len(), call.encode_size());
            assert_eq!(RegistryCall::from_payload(&bytes).expect("decodes"), call);
        }
    }

    #[test]
    fn rejects_trailing_bytes_and_unknown_tags() {
        let mut bytes = publish().to_payload().to_vec();
        bytes.push(0);
        assert!(RegistryCall::from_payload(&bytes).is_err());
        assert!(RegistryCall::from_payload(&[9]).is_err());
        assert!(RegistryCall::from_payload(&[]).is_err());
    }

    #[test]
    fn rejects_oversized_fields() {
        let long = RegistryCall::CreateRepo {
            name: "n".repeat(MAX_NAME_BYTES + 1),
            description: String::new(),
            licence: String::new(),
        };
        assert!(RegistryCall::from_payload(&long.to_payload()).is_err());
        let RegistryCall::Publish(mut p) = publish() else {
            unreachable!()
        };
        p.lineage.datasets = vec![Hash::ZERO; MAX_DATASETS + 1];
        assert!(RegistryCall::from_payload(&RegistryCall::Publish(p).to_payload()).is_err());
    }
}
