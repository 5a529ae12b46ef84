//! The audit log's queries: typed views, `null` for an entry that does not exist.

use counterweight_state::{
    CallError,
    query::{BadQuery, answer, split_path, unknown_path},
};
use counterweight_storage_api::StateReader;
use counterweight_types::Hash;
use serde::{Deserialize, Serialize};

use crate::{
    AuditError,
    log::{EntryView, current_root, entries_of_tx, entry, leaves, prove},
};

/// The answer to `status`: the log's size and root.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusView {
    /// Number of entries.
    pub leaves: u64,
    /// The root over all of them.
    pub root: Hash,
}

const PATHS: &str = "status, entry/N, prove/N or tx/HASH";

fn bad_argument(reason: &str) -> AuditError {
    BadQuery::BadArgument {
        reason: reason.to_owned(),
    }
    .into()
}

/// An entry index: in the path (`entry/7`) or as 8 big-endian bytes of data.
fn index_arg(path_arg: Option<&str>, data: &[u8]) -> Result<u64, AuditError> {
    if let Some(text) = path_arg {
        return text
            .parse()
            .map_err(|_| bad_argument("the entry index must be a non-negative integer"));
    }
    <[u8; 8]>::try_from(data)
        .map(u64::from_be_bytes)
        .map_err(|_| bad_argument("the argument must be an 8-byte entry index"))
}

/// A transaction hash: in the path (`tx/HEX`) or as 32 bytes of data.
fn tx_arg(path_arg: Option<&str>, data: &[u8]) -> Result<Hash, AuditError> {
    if let Some(text) = path_arg {
        return text
            .parse()
            .map_err(|_| bad_argument("the transaction hash must be 64 hex characters"));
    }
    <[u8; 32]>::try_from(data)
        .map(Hash)
        .map_err(|_| bad_argument("the argument must be a 32-byte transaction hash"))
}

pub(crate) fn answer_query(
    state: &dyn StateReader,
    path: &str,
    data: &[u8],
) -> Result<Vec<u8>, CallError> {
    let (name, arg) = split_path(path);
    match name {
        "status" => answer(&StatusView {
            leaves: leaves(state)?,
            root: current_root(state)?,
        }),
        "entry" => {
            let index = index_arg(arg, data)?;
            answer(&entry(state, index)?.map(|e| EntryView::new(index, &e)))
        }
        "prove" => answer(&prove(state, index_arg(arg, data)?)?),
        "tx" => {
            let tx = tx_arg(arg, data)?;
            let mut out = Vec::new();
            for index in entries_of_tx(state, &tx)? {
                if let Some(e) = entry(state, index)? {
                    out.push(EntryView::new(index, &e));
                }
            }
            answer(&out)
        }
        other => Err(AuditError::from(unknown_path(other, PATHS)).into()),
    }
}
