//! The audit module's refusals (each with its stable code) and why an audit proof fails.

use counterweight_state::{Verdict, query::BadQuery};

use crate::mmr;

/// Failure codes of the audit module (stable: never renumber one).
pub mod codes {
    /// The audit log takes no transactions: the other modules write it.
    pub const NO_CALLS: u32 = 1;
    /// Unknown query path or bad query argument.
    pub const BAD_QUERY: u32 = 2;
    /// Reserved: no entry has this index. Queries answer `null` for a missing entry, so no
    /// refusal carries this code; the number stays taken.
    pub const UNKNOWN_ENTRY: u32 = 3;
}

/// Why the audit module refuses a transaction or a query.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// A payload was offered to the audit module (refused before execution).
    #[error("the audit log takes no transactions: other modules write it")]
    NoCalls,
    /// A transaction to the audit module reached execution anyway.
    #[error("the audit log takes no transactions")]
    NotExecutable,
    /// Unknown query path or bad query argument.
    #[error(transparent)]
    BadQuery(#[from] BadQuery),
}

impl Verdict for AuditError {
    fn code(&self) -> u32 {
        match self {
            Self::NoCalls | Self::NotExecutable => codes::NO_CALLS,
            Self::BadQuery(_) => codes::BAD_QUERY,
        }
    }
}

/// Why an audit proof does not hold.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The entry's bytes are not hex or not a canonical entry.
    #[error("the entry's bytes are malformed")]
    MalformedEntry,
    /// The entry's fields disagree with its bytes.
    #[error("the entry's fields disagree with its bytes ({0})")]
    EntryMismatch(&'static str),
    /// The root key is not the one for the proof's size.
    #[error("the root key does not match the proof's size")]
    RootKeyMismatch,
    /// The MMR proof fails.
    #[error(transparent)]
    Proof(#[from] mmr::ProofError),
}
