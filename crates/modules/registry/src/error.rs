//! The registry's refusals: one variant per reason, each with its stable code.

use counterweight_state::{MalformedCall, Verdict, query::BadQuery};
use counterweight_types::{Address, Hash};

use crate::{MAX_MAINTAINERS, MAX_NAME_BYTES, MAX_STORED_DATASETS};

/// Failure codes in receipts of registry calls and query errors (stable: never renumber one).
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
    /// A dataset the version names is not committed to any cooperative.
    pub const UNKNOWN_DATASET: u32 = 13;
    /// A dataset's owner does not (or no longer) consent to this use.
    pub const NO_CONSENT: u32 = 14;
}

/// Why the registry refuses a call (or a query).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The payload does not decode (or a field exceeds its size limit).
    #[error(transparent)]
    Malformed(#[from] MalformedCall),
    /// A name, tag or metric name is empty, too long or has other characters.
    #[error(
        "{what} {name:?} must be 1 to {max} bytes of letters, digits, '.', '_' or '-'",
        max = MAX_NAME_BYTES
    )]
    BadName {
        /// Which field.
        what: &'static str,
        /// Its value.
        name: String,
    },
    /// A free-text field is too long.
    #[error("{what} is {len} bytes, at most {max} allowed")]
    TooLong {
        /// Which field.
        what: &'static str,
        /// Its length in bytes.
        len: usize,
        /// The limit in bytes.
        max: usize,
    },
    /// A version's weights blob is empty.
    #[error("weights_size must be at least 1 byte")]
    ZeroWeightsSize,
    /// A metric name appears twice on one version.
    #[error("metric {name:?} appears twice")]
    DuplicateMetric {
        /// The metric.
        name: String,
    },
    /// A dataset appears twice in one version's lineage.
    #[error("dataset {dataset} appears twice in the lineage")]
    DuplicateDataset {
        /// The dataset.
        dataset: Hash,
    },
    /// The repository's version counter would overflow.
    #[error("repository has too many versions")]
    TooManyVersions,
    /// The sender already owns a repository with this name.
    #[error("you already own a repository named {name:?} ({id})")]
    RepoExists {
        /// The name.
        name: String,
        /// The existing repository.
        id: Hash,
    },
    /// No repository has this id.
    #[error("no repository {id}")]
    UnknownRepo {
        /// The repository asked for.
        id: Hash,
    },
    /// The sender is neither the owner nor a maintainer.
    #[error("only the owner or a maintainer of repository {repo} may publish")]
    NotPublisher {
        /// The repository.
        repo: Hash,
    },
    /// The sender is not the owner.
    #[error("only the owner of repository {repo} may add maintainers")]
    NotOwner {
        /// The repository.
        repo: Hash,
    },
    /// The repository already has a version with this tag.
    #[error("repository {repo} already has tag {tag:?}")]
    DuplicateTag {
        /// The repository.
        repo: Hash,
        /// The tag.
        tag: String,
    },
    /// No version has the id given as parent.
    #[error("parent {parent} is not a published version")]
    UnknownParent {
        /// The parent named.
        parent: Hash,
    },
    /// No version has the id to fork.
    #[error("no version {id} to fork")]
    UnknownVersion {
        /// The version named.
        id: Hash,
    },
    /// The named task has not finished with an aggregated model.
    #[error("task {task} is not a finished training task with an aggregated model")]
    TaskNotFinished {
        /// The task.
        task: Hash,
    },
    /// The task's weights differ from the version's.
    #[error("task {task} produced weights {trained}, the version names {named}")]
    TaskWeights {
        /// The task.
        task: Hash,
        /// The task's weights hash.
        trained: Hash,
        /// The version's weights hash.
        named: Hash,
    },
    /// The task's architecture differs from the version's.
    #[error("task {task} trained architecture {trained}, the version names {named}")]
    TaskArchitecture {
        /// The task.
        task: Hash,
        /// The task's architecture hash.
        trained: Hash,
        /// The version's architecture hash.
        named: Hash,
    },
    /// The datasets listed differ from the task's.
    #[error(
        "task {task} trained on {trained} datasets that differ from the {listed} listed; list none to take the task's"
    )]
    TaskDatasets {
        /// The task.
        task: Hash,
        /// How many datasets the task trained on.
        trained: usize,
        /// How many the version lists.
        listed: usize,
    },
    /// The task trained on more datasets than a version records.
    #[error(
        "task {task} trained on {count} datasets, more than the {max} a version records",
        max = MAX_STORED_DATASETS
    )]
    TooManyTaskDatasets {
        /// The task.
        task: Hash,
        /// How many datasets it trained on.
        count: usize,
    },
    /// The account may already publish.
    #[error("{maintainer} may already publish in repository {repo}")]
    AlreadyMaintainer {
        /// The account.
        maintainer: Address,
        /// The repository.
        repo: Hash,
    },
    /// The repository has the most maintainers allowed.
    #[error("repository {repo} has {max} maintainers, the most allowed", max = MAX_MAINTAINERS)]
    TooManyMaintainers {
        /// The repository.
        repo: Hash,
    },
    /// A dataset the version names is not committed to any cooperative.
    #[error("dataset {dataset} is not committed to any cooperative")]
    UnknownDataset {
        /// The dataset.
        dataset: Hash,
    },
    /// A dataset's owner does not (or no longer) consent to this use of its data.
    #[error("dataset {dataset} does not consent to {what}")]
    NoConsent {
        /// The dataset.
        dataset: Hash,
        /// The use: "training" or "derivative works".
        what: &'static str,
    },
    /// Unknown query path or bad query argument.
    #[error(transparent)]
    BadQuery(#[from] BadQuery),
}

impl Verdict for RegistryError {
    fn code(&self) -> u32 {
        match self {
            Self::Malformed(_) => codes::MALFORMED,
            Self::BadName { .. }
            | Self::TooLong { .. }
            | Self::ZeroWeightsSize
            | Self::DuplicateMetric { .. }
            | Self::DuplicateDataset { .. }
            | Self::TooManyVersions => codes::INVALID_FIELD,
            Self::RepoExists { .. } => codes::REPO_EXISTS,
            Self::UnknownRepo { .. } => codes::UNKNOWN_REPO,
            Self::NotPublisher { .. } | Self::NotOwner { .. } => codes::NOT_AUTHORISED,
            Self::DuplicateTag { .. } => codes::DUPLICATE_TAG,
            Self::UnknownParent { .. } => codes::UNKNOWN_PARENT,
            Self::UnknownVersion { .. } => codes::UNKNOWN_VERSION,
            Self::TaskNotFinished { .. }
            | Self::TaskWeights { .. }
            | Self::TaskArchitecture { .. }
            | Self::TaskDatasets { .. }
            | Self::TooManyTaskDatasets { .. } => codes::TASK_MISMATCH,
            Self::AlreadyMaintainer { .. } => codes::ALREADY_MAINTAINER,
            Self::TooManyMaintainers { .. } => codes::TOO_MANY_MAINTAINERS,
            Self::BadQuery(_) => codes::BAD_QUERY,
            Self::UnknownDataset { .. } => codes::UNKNOWN_DATASET,
            Self::NoConsent { .. } => codes::NO_CONSENT,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_spell_out_their_limits() {
        let h = Hash([1; 32]);
        assert_eq!(
            RegistryError::BadName {
                what: "tag",
                name: String::new()
            }
            .to_string(),
            "tag \"\" must be 1 to 64 bytes of letters, digits, '.', '_' or '-'"
        );
        assert_eq!(
            RegistryError::TooManyMaintainers { repo: h }.to_string(),
            format!("repository {h} has 16 maintainers, the most allowed")
        );
        assert_eq!(
            RegistryError::TooManyTaskDatasets { task: h, count: 5 }.to_string(),
            format!("task {h} trained on 5 datasets, more than the 4096 a version records")
        );
        assert_eq!(
            RegistryError::RepoExists {
                name: "digits".into(),
                id: h
            }
            .to_string(),
            format!("you already own a repository named \"digits\" ({h})")
        );
        assert_eq!(
            RegistryError::TooLong {
                what: "licence",
                len: 65,
                max: 64
            }
            .code(),
            codes::INVALID_FIELD
        );
    }
}
