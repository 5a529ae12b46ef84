//! Errors of the off-chain helpers (issuing credentials).

/// Why a credential could not be issued.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The credential type is not a valid type name.
    #[error(
        "credential type {kind:?} must be 1 to 31 characters of [A-Za-z0-9_-], not VerifiableCredential"
    )]
    InvalidKind {
        /// The refused type.
        kind: String,
    },
    /// Too many claims.
    #[error("{count} claims, at most {max} allowed")]
    TooManyClaims {
        /// How many were given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A claim is out of bounds.
    #[error("claim {name:?}: {reason}")]
    Claim {
        /// The claim's name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// The status-list index is out of range.
    #[error("status index {index} is not below {max}")]
    StatusIndex {
        /// The refused index.
        index: u64,
        /// The list size.
        max: u64,
    },
    /// The validity window is empty.
    #[error("validity from {from_ms} ms until {until_ms} ms is empty or beyond the year 9999")]
    ValidityWindow {
        /// Start of validity.
        from_ms: u64,
        /// End of validity.
        until_ms: u64,
    },
    /// The signed credential exceeds the size limit.
    #[error("credential is {size} bytes, above the limit of {max}")]
    Oversized {
        /// Its size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The credential could not be serialised.
    #[error("cannot serialise credential")]
    Json(#[from] serde_json::Error),
    /// Signing failed.
    #[error("cannot sign credential")]
    Sign {
        /// The signer's error.
        #[source]
        source: ssi_jws::Error,
    },
}

/// Result with this crate's [`enum@Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
