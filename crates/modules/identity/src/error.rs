//! Errors: the identity module's refusals (each with its stable code) and the off-chain
//! helpers' errors (issuing credentials).

use counterweight_state::{MalformedCall, Verdict, query::BadQuery};
use counterweight_storage_api::StorageError;
use counterweight_types::Address;

use crate::{MAX_CREDENTIAL_BYTES, MAX_ROTATIONS, MAX_STATUS_INDEX, time::format_ms};

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

/// Failure codes in receipts of identity calls and credential refusals (stable: never
/// renumber one).
pub mod codes {
    /// The call payload does not decode.
    pub const MALFORMED: u32 = 1;
    /// Unknown query path or bad query argument.
    pub const BAD_QUERY: u32 = 2;
    /// The sender's DID is already registered.
    pub const DID_EXISTS: u32 = 3;
    /// No DID: the sender controls none, or the named DID is not registered.
    pub const UNKNOWN_DID: u32 = 4;
    /// The key already controls a DID (or is another DID's identifier).
    pub const KEY_IN_USE: u32 = 5;
    /// The key is not a valid ed25519 public key.
    pub const INVALID_KEY: u32 = 6;
    /// The DID's key history is full.
    pub const TOO_MANY_ROTATIONS: u32 = 7;
    /// Recovery delegates or threshold are invalid.
    pub const BAD_RECOVERY: u32 = 8;
    /// The DID has no recovery delegates.
    pub const NO_RECOVERY: u32 = 9;
    /// The sender is not one of the DID's recovery delegates.
    pub const NOT_DELEGATE: u32 = 10;
    /// The delegate already approved this key.
    pub const ALREADY_APPROVED: u32 = 11;
    /// The DID is already a registered issuer.
    pub const ISSUER_EXISTS: u32 = 12;
    /// The issuer's name or credential types are invalid.
    pub const BAD_ISSUER: u32 = 13;
    /// The sender's DID is not a registered issuer.
    pub const NOT_ISSUER: u32 = 14;
    /// The status-list index is out of range.
    pub const BAD_STATUS_INDEX: u32 = 15;
    /// The status-list index is already revoked.
    pub const ALREADY_REVOKED: u32 = 16;
    /// The new key's signature over the rotation (its proof of possession) does not verify.
    pub const BAD_KEY_PROOF: u32 = 17;
    /// Credential: not a VC 2.0 credential in a compact EdDSA JWS, or a field is invalid.
    pub const CREDENTIAL_MALFORMED: u32 = 20;
    /// Credential: larger than [`crate::MAX_CREDENTIAL_BYTES`].
    pub const CREDENTIAL_OVERSIZED: u32 = 21;
    /// Credential: the signature does not verify (forged or altered).
    pub const BAD_SIGNATURE: u32 = 22;
    /// Credential: the issuer has no DID on chain or is not a registered issuer.
    pub const UNKNOWN_ISSUER: u32 = 23;
    /// Credential: signed by a key the issuer's DID has rotated away from.
    pub const KEY_ROTATED: u32 = 24;
    /// Credential: revoked in the issuer's status list.
    pub const REVOKED: u32 = 25;
    /// Credential: past its `validUntil`.
    pub const EXPIRED: u32 = 26;
    /// Credential: before its `validFrom`.
    pub const NOT_YET_VALID: u32 = 27;
    /// Credential: its type is not one the issuer registered.
    pub const TYPE_NOT_ALLOWED: u32 = 28;
    /// Credential: storage failed while verifying (only from `verify_credential`).
    pub const STORAGE: u32 = 29;
}

/// Why the identity module refuses a call, a query or a credential.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// The payload does not decode.
    #[error(transparent)]
    Malformed(#[from] MalformedCall),
    /// Unknown query path.
    #[error(transparent)]
    BadQuery(#[from] BadQuery),
    /// A query argument is neither 32 bytes, nor hex, nor a `did:key`.
    #[error("argument must be 32 bytes, hex or a did:key")]
    BadAddressArgument,
    /// A query argument is a DID, but not an ed25519 `did:key`.
    #[error("argument is not an ed25519 did:key")]
    NotEd25519Did,
    /// The `verify/{now_ms}` suffix is not a decimal.
    #[error("verify/{{now_ms}}: now_ms must be a decimal")]
    BadVerifyTime,
    /// `verify` without a time, and the state keeps no block time.
    #[error("the state holds no block time: ask verify/{{now_ms}}")]
    NoBlockTime,
    /// The sender's DID is already registered.
    #[error("{did} is already registered")]
    DidExists {
        /// The DID.
        did: String,
    },
    /// The sender's key already controls another DID.
    #[error("this key already controls {did}")]
    KeyControlsDid {
        /// The DID it controls.
        did: String,
    },
    /// The new key already controls a DID or is another DID's identifier.
    #[error("key {key} already controls or names a DID")]
    KeyInUse {
        /// The refused key.
        key: Address,
    },
    /// The sender controls no DID.
    #[error("{sender} controls no DID; register first")]
    NoDid {
        /// The sender.
        sender: Address,
    },
    /// The named DID is not registered.
    #[error("no DID {did}")]
    UnknownDid {
        /// The DID.
        did: String,
    },
    /// The key is not an ed25519 public key.
    #[error("{key} is not an ed25519 public key")]
    InvalidKey {
        /// The refused key.
        key: Address,
    },
    /// The new key did not sign the rotation (no proof that the rotator holds it).
    #[error("key {key} did not sign this rotation: the new key must sign it (proof of possession)")]
    BadKeyProof {
        /// The new key.
        key: Address,
    },
    /// The DID's key history is full.
    #[error("{did} has rotated {MAX_ROTATIONS} times, the most kept")]
    TooManyRotations {
        /// The DID.
        did: String,
    },
    /// The recovery delegates or threshold are invalid.
    #[error(
        "delegates must be 1 to 16 distinct DIDs other than your own, threshold 1 to their number"
    )]
    BadRecovery,
    /// The DID has no recovery delegates.
    #[error("{did} has no recovery delegates")]
    NoRecovery {
        /// The DID.
        did: String,
    },
    /// The sender is a key its DID has rotated away from.
    #[error("{key} is a replaced key of its DID")]
    ReplacedKey {
        /// The sender.
        key: Address,
    },
    /// The sender's DID is not a recovery delegate of the DID.
    #[error("{delegate} is not a recovery delegate of {did}")]
    NotDelegate {
        /// The sender's DID.
        delegate: String,
        /// The DID to recover.
        did: String,
    },
    /// The delegate already approved this key.
    #[error("this delegate already approved this key")]
    AlreadyApproved,
    /// The DID is already a registered issuer.
    #[error("{issuer} is already a registered issuer")]
    IssuerExists {
        /// The issuer's DID.
        issuer: String,
    },
    /// The issuer's name is empty or has control characters.
    #[error("issuer name must be 1 to 128 bytes without control characters")]
    BadIssuerName,
    /// The issuer's credential types are invalid.
    #[error("credential types must be 1 to 8 distinct names of [A-Za-z0-9_-], up to 31 bytes")]
    BadCredentialTypes,
    /// The sender's DID is not a registered issuer.
    #[error("{did} is not a registered issuer")]
    NotIssuer {
        /// The sender's DID.
        did: String,
    },
    /// The status-list index is out of range.
    #[error("status index {index} is not below {MAX_STATUS_INDEX}")]
    BadStatusIndex {
        /// The refused index.
        index: u64,
    },
    /// The status-list index is already revoked.
    #[error("status index {index} is already revoked")]
    AlreadyRevoked {
        /// The index.
        index: u64,
    },
    /// The credential is not a VC 2.0 credential in a compact EdDSA JWS, or a field is
    /// invalid.
    #[error("{reason}")]
    CredentialMalformed {
        /// What is wrong.
        reason: String,
    },
    /// The credential is larger than [`MAX_CREDENTIAL_BYTES`].
    #[error("credential is {size} bytes, above the limit of {MAX_CREDENTIAL_BYTES}")]
    CredentialOversized {
        /// Its size.
        size: usize,
    },
    /// The credential's signature does not verify.
    #[error("credential signature does not verify with the issuer's key")]
    BadSignature,
    /// The credential's issuer has no DID on chain.
    #[error("issuer {issuer} has no DID on chain")]
    IssuerHasNoDid {
        /// The issuer as the credential names it.
        issuer: String,
    },
    /// The credential's issuer is not a registered credential issuer.
    #[error("{issuer} is not a registered credential issuer")]
    UnknownIssuer {
        /// The issuer as the credential names it.
        issuer: String,
    },
    /// The credential is signed by a key the issuer's DID rotated away from.
    #[error("credential is signed by {issuer}'s replaced key {key}")]
    KeyRotated {
        /// The issuer as the credential names it.
        issuer: String,
        /// The replaced key.
        key: Address,
    },
    /// The issuer is not registered for the credential's type.
    #[error("issuer is not registered for credential type {kind:?}")]
    TypeNotAllowed {
        /// The credential's type.
        kind: String,
    },
    /// The credential is not valid yet.
    #[error(
        "credential is valid from {} (now {})",
        format_ms(*valid_from_ms),
        format_ms(*now_ms)
    )]
    NotYetValid {
        /// Start of validity.
        valid_from_ms: u64,
        /// The time of the check.
        now_ms: u64,
    },
    /// The credential has expired.
    #[error(
        "credential expired at {} (now {})",
        format_ms(*valid_until_ms),
        format_ms(*now_ms)
    )]
    Expired {
        /// End of validity.
        valid_until_ms: u64,
        /// The time of the check.
        now_ms: u64,
    },
    /// The credential is revoked in its issuer's status list.
    #[error("credential at status index {index} is revoked by its issuer")]
    Revoked {
        /// Its status-list index.
        index: u64,
    },
    /// Storage failed while verifying (only from [`crate::verify_credential`]).
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl Verdict for IdentityError {
    fn code(&self) -> u32 {
        match self {
            Self::Malformed(_) => codes::MALFORMED,
            Self::BadQuery(_)
            | Self::BadAddressArgument
            | Self::NotEd25519Did
            | Self::BadVerifyTime
            | Self::NoBlockTime => codes::BAD_QUERY,
            Self::DidExists { .. } => codes::DID_EXISTS,
            Self::NoDid { .. } | Self::UnknownDid { .. } => codes::UNKNOWN_DID,
            Self::KeyControlsDid { .. } | Self::KeyInUse { .. } => codes::KEY_IN_USE,
            Self::InvalidKey { .. } => codes::INVALID_KEY,
            Self::TooManyRotations { .. } => codes::TOO_MANY_ROTATIONS,
            Self::BadKeyProof { .. } => codes::BAD_KEY_PROOF,
            Self::BadRecovery => codes::BAD_RECOVERY,
            Self::NoRecovery { .. } => codes::NO_RECOVERY,
            Self::ReplacedKey { .. } | Self::NotDelegate { .. } => codes::NOT_DELEGATE,
            Self::AlreadyApproved => codes::ALREADY_APPROVED,
            Self::IssuerExists { .. } => codes::ISSUER_EXISTS,
            Self::BadIssuerName | Self::BadCredentialTypes => codes::BAD_ISSUER,
            Self::NotIssuer { .. } => codes::NOT_ISSUER,
            Self::BadStatusIndex { .. } => codes::BAD_STATUS_INDEX,
            Self::AlreadyRevoked { .. } => codes::ALREADY_REVOKED,
            Self::CredentialMalformed { .. } => codes::CREDENTIAL_MALFORMED,
            Self::CredentialOversized { .. } => codes::CREDENTIAL_OVERSIZED,
            Self::BadSignature => codes::BAD_SIGNATURE,
            Self::IssuerHasNoDid { .. } | Self::UnknownIssuer { .. } => codes::UNKNOWN_ISSUER,
            Self::KeyRotated { .. } => codes::KEY_ROTATED,
            Self::Revoked { .. } => codes::REVOKED,
            Self::Expired { .. } => codes::EXPIRED,
            Self::NotYetValid { .. } => codes::NOT_YET_VALID,
            Self::TypeNotAllowed { .. } => codes::TYPE_NOT_ALLOWED,
            Self::Storage(_) => codes::STORAGE,
        }
    }
}

impl IdentityError {
    /// A malformed-credential refusal.
    pub(crate) fn malformed(reason: impl Into<String>) -> Self {
        Self::CredentialMalformed {
            reason: reason.into(),
        }
    }
}
