//! The registry's queries: the stored records are the typed views (their serde form is the
//! JSON answer), `null` for what does not exist.
//!
//! Paths:
//! - `repo` — data: repository id (32 bytes) → [`Repo`] or `null`;
//! - `repos` — data: empty, or a start index (8 bytes, big-endian) → up to [`MAX_LIST`]
//!   [`Repo`]s in creation order;
//! - `version` — data: version id → [`Version`] or `null`;
//! - `versions` — data: repository id → its [`Version`]s in publication order, or `null`
//!   for an unknown repository;
//! - `lineage` — data: version id → [`LineageGraph`] or `null`.

use counterweight_state::{
    CallError,
    query::{BadQuery, answer, hash_arg, unknown_path},
};
use counterweight_storage_api::StateReader;
use counterweight_types::Hash;

use crate::{
    LineageGraph, MAX_LIST, RegistryError, Repo, Version, lineage, repo, repos, version, versions,
};

const PATHS: &str = "repo, repos, version, versions or lineage";

fn start_arg(data: &[u8]) -> Result<u64, RegistryError> {
    match <[u8; 8]>::try_from(data) {
        Ok(bytes) => Ok(u64::from_be_bytes(bytes)),
        Err(_) if data.is_empty() => Ok(0),
        Err(_) => Err(BadQuery::BadArgument {
            reason: format!(
                "argument must be empty or an 8-byte start index, got {} bytes",
                data.len()
            ),
        }
        .into()),
    }
}

pub(crate) fn answer_query(
    state: &dyn StateReader,
    path: &str,
    data: &[u8],
) -> Result<Vec<u8>, CallError> {
    let id = || hash_arg(data).map(Hash).map_err(RegistryError::from);
    match path {
        "repo" => answer::<Option<Repo>>(&repo(state, &id()?)?),
        "repos" => answer::<Vec<Repo>>(&repos(state, start_arg(data)?, MAX_LIST)?),
        "version" => answer::<Option<Version>>(&version(state, &id()?)?),
        "versions" => {
            let listed: Option<Vec<Version>> = match repo(state, &id()?)? {
                None => None,
                Some(r) => Some(versions(state, &r)?),
            };
            answer(&listed)
        }
        "lineage" => answer::<Option<LineageGraph>>(&lineage(state, &id()?)?),
        other => Err(RegistryError::from(unknown_path(other, PATHS)).into()),
    }
}
