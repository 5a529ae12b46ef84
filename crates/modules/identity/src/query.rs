//! The identity module's queries: typed views, `null` for what does not exist.
//!
//! Every view's fields are declared in the byte order of their JSON names, so the answers keep
//! the sorted key order they have always had.

use std::collections::BTreeMap;

use counterweight_state::{
    CallError, block_time,
    query::{answer, split_path, unknown_path},
};
use counterweight_storage_api::{Result as StorageResult, StateReader};
use counterweight_types::{Address, Hash};
use serde::{Deserialize, Serialize};

use crate::{
    call::{DidRecord, PreviousKey, Recovery},
    credential::{MAX_STATUS_INDEX, VerifiedCredential, check_credential, status_list_id},
    did_key::{address_of_did, did_key, key_multibase, verification_method_id},
    error::IdentityError,
    store::{did_of_key, did_record, issuer, recovery, revoked_indices},
    time::format_ms,
};

const DID_CONTEXT: [&str; 2] = [
    "https://www.w3.org/ns/did/v1",
    "https://w3id.org/security/multikey/v1",
];

/// The W3C DID resolution result: the answer to `did` (`null` if the DID is not registered).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DidResolution {
    /// The DID document, with the current key as its only verification method.
    #[serde(rename = "didDocument")]
    pub did_document: DidDocument,
    /// Chain metadata: key history and recovery setup.
    #[serde(rename = "didDocumentMetadata")]
    pub did_document_metadata: DidMetadata,
}

/// A DID document (DID Core 1.0, `Multikey` verification method).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DidDocument {
    /// The JSON-LD contexts.
    #[serde(rename = "@context")]
    pub context: Vec<String>,
    /// Verification methods for assertions (issuing credentials).
    pub assertion_method: Vec<String>,
    /// Verification methods for authentication.
    pub authentication: Vec<String>,
    /// Verification methods for capability delegation.
    pub capability_delegation: Vec<String>,
    /// Verification methods for capability invocation.
    pub capability_invocation: Vec<String>,
    /// The DID.
    pub id: String,
    /// The DID's verification methods: its current key.
    pub verification_method: Vec<VerificationMethod>,
}

/// The type of a verification method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MethodType {
    /// A multibase-encoded public key (Controlled Identifiers 1.0).
    Multikey,
}

/// A verification method of a DID document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationMethod {
    /// The DID that controls it.
    pub controller: String,
    /// Its DID URL: `did:key:z...#z...`.
    pub id: String,
    /// The key, `z6Mk...`.
    pub public_key_multibase: String,
    /// Its type.
    #[serde(rename = "type")]
    pub method_type: MethodType,
}

/// A DID's chain metadata.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DidMetadata {
    /// The DID's address (its identifier).
    pub address: Address,
    /// When it was registered (RFC 3339).
    pub created: String,
    /// The height it was registered at.
    pub created_height: u64,
    /// The key that currently verifies for it.
    pub current_key: Address,
    /// Replaced keys, oldest first.
    pub previous_keys: Vec<PreviousKeyView>,
    /// Its recovery setup (`null` if none).
    pub recovery: Option<RecoveryView>,
}

/// A replaced key of a DID.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreviousKeyView {
    /// The key.
    pub address: Address,
    /// Its verification method id.
    pub id: String,
    /// The key, `z6Mk...`.
    pub public_key_multibase: String,
    /// When it was replaced (RFC 3339).
    pub replaced: String,
    /// The height it was replaced at.
    pub replaced_height: u64,
}

/// A DID's recovery delegates and pending approvals.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecoveryView {
    /// The delegates' DIDs.
    pub delegates: Vec<String>,
    /// Approvals gathered for the current key, in approval order.
    pub pending_approvals: Vec<PendingApproval>,
    /// Approvals needed.
    pub threshold: u8,
}

/// A delegate's approval of a new key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingApproval {
    /// The delegate's DID.
    pub delegate: String,
    /// The key it approved.
    pub new_key: Address,
}

impl DidResolution {
    /// Builds the resolution result of `did` from its record and recovery setup.
    pub fn new(did: &Address, record: &DidRecord, recovery: Option<&Recovery>) -> Self {
        let id = did_key(did);
        let method = verification_method_id(did, &record.current_key);
        Self {
            did_document: DidDocument {
                context: DID_CONTEXT.iter().map(|c| (*c).to_owned()).collect(),
                assertion_method: vec![method.clone()],
                authentication: vec![method.clone()],
                capability_delegation: vec![method.clone()],
                capability_invocation: vec![method.clone()],
                id: id.clone(),
                verification_method: vec![VerificationMethod {
                    controller: id,
                    id: method,
                    public_key_multibase: key_multibase(&record.current_key),
                    method_type: MethodType::Multikey,
                }],
            },
            did_document_metadata: DidMetadata {
                address: *did,
                created: format_ms(record.registered_ms),
                created_height: record.registered_height,
                current_key: record.current_key,
                previous_keys: record
                    .previous_keys
                    .iter()
                    .map(|p| PreviousKeyView::new(did, p))
                    .collect(),
                recovery: recovery.map(RecoveryView::from),
            },
        }
    }
}

impl PreviousKeyView {
    fn new(did: &Address, previous: &PreviousKey) -> Self {
        Self {
            address: previous.key,
            id: verification_method_id(did, &previous.key),
            public_key_multibase: key_multibase(&previous.key),
            replaced: format_ms(previous.replaced_ms),
            replaced_height: previous.replaced_height,
        }
    }
}

impl From<&Recovery> for RecoveryView {
    fn from(r: &Recovery) -> Self {
        Self {
            delegates: r.delegates.iter().map(did_key).collect(),
            pending_approvals: r
                .approvals
                .iter()
                .map(|(d, k)| PendingApproval {
                    delegate: did_key(d),
                    new_key: *k,
                })
                .collect(),
            threshold: r.threshold,
        }
    }
}

/// Returns the W3C DID resolution result (`didDocument` with the current key, and
/// `didDocumentMetadata` with key history and recovery setup) of `did`, if registered.
///
/// # Errors
/// Fatal storage errors, or a corrupt record.
pub fn did_document(
    state: &dyn StateReader,
    did: &Address,
) -> StorageResult<Option<DidResolution>> {
    let Some(record) = did_record(state, did)? else {
        return Ok(None);
    };
    let recovery = recovery(state, did)?;
    Ok(Some(DidResolution::new(did, &record, recovery.as_ref())))
}

/// The answer to `controller` (argument: a key): the DID it controls, `null` if none.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControllerView {
    /// The DID's address.
    pub address: Address,
    /// The DID.
    pub did: String,
}

/// The answer to `issuer` (argument: a DID), `null` if it is not a registered issuer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerView {
    /// The issuer's address.
    pub address: Address,
    /// The credential types it issues.
    pub credential_types: Vec<String>,
    /// The issuer's DID.
    pub issuer: String,
    /// Its display name.
    pub name: String,
    /// The height it registered at.
    pub registered_height: u64,
    /// How many indices of its status list are revoked.
    pub revoked: u64,
    /// Its status list's id.
    pub status_list: String,
}

/// The purpose of a status list (Bitstring Status List).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusPurpose {
    /// Revocation: final.
    Revocation,
}

/// The answer to `status` (argument: a DID): the issuer's status list, `null` if it is not a
/// registered issuer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusView {
    /// The issuer's DID.
    pub issuer: String,
    /// The revoked indices, ascending.
    pub revoked: Vec<u64>,
    /// The list's size in entries.
    pub size: u64,
    /// The list's id.
    pub status_list: String,
    /// The list's purpose.
    pub status_purpose: StatusPurpose,
}

/// A verified credential as `verify` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialView {
    /// The subject's claims.
    pub claims: BTreeMap<String, String>,
    /// The credential's id.
    pub id: Hash,
    /// The issuer's DID (its address).
    pub issuer: Address,
    /// The credential type.
    pub kind: String,
    /// The subject's account.
    pub subject: Address,
    /// End of validity, if any.
    pub valid_until_ms: Option<u64>,
}

impl From<VerifiedCredential> for CredentialView {
    fn from(v: VerifiedCredential) -> Self {
        Self {
            claims: v.claims,
            id: v.id,
            issuer: v.issuer,
            kind: v.kind,
            subject: v.subject,
            valid_until_ms: v.valid_until_ms,
        }
    }
}

/// The answer to `verify[/{now_ms}]` (data: the credential): valid or why not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum VerifyView {
    /// The credential verifies.
    Valid {
        /// The credential.
        credential: CredentialView,
        /// The issuer's DID.
        issuer_did: String,
        /// The time it was checked at.
        now_ms: u64,
        /// The subject's DID.
        subject_did: String,
        /// Always `true`.
        valid: bool,
    },
    /// The credential is refused.
    Invalid {
        /// The refusal's code.
        code: u32,
        /// The refusal's message.
        error: String,
        /// The time it was checked at.
        now_ms: u64,
        /// Always `false`.
        valid: bool,
    },
}

const PATHS: &str = "did, controller, issuer, status or verify";

/// Reads an address argument: from the path suffix (hex or `did:key`), else from `data`
/// (32 raw bytes, or hex / `did:key` text).
fn address_arg(suffix: Option<&str>, data: &[u8]) -> Result<Address, IdentityError> {
    if suffix.is_none()
        && let Ok(raw) = <[u8; 32]>::try_from(data)
    {
        return Ok(Address(raw));
    }
    let text = match suffix {
        Some(s) => s,
        None => std::str::from_utf8(data).map_err(|_| IdentityError::BadAddressArgument)?,
    };
    let text = text.trim();
    if text.starts_with("did:") {
        return address_of_did(text).ok_or(IdentityError::NotEd25519Did);
    }
    text.parse::<Address>()
        .map_err(|_| IdentityError::BadAddressArgument)
}

fn verify(
    state: &dyn StateReader,
    suffix: Option<&str>,
    data: &[u8],
) -> Result<VerifyView, CallError> {
    let now_ms = match suffix {
        Some(ms) => ms
            .parse::<u64>()
            .map_err(|_| IdentityError::BadVerifyTime)?,
        None => block_time(state)?.ok_or(IdentityError::NoBlockTime)?,
    };
    match check_credential(state, data, now_ms) {
        Ok(v) => Ok(VerifyView::Valid {
            issuer_did: did_key(&v.issuer),
            subject_did: did_key(&v.subject),
            credential: v.into(),
            now_ms,
            valid: true,
        }),
        Err(CallError::Failed(e)) => Ok(VerifyView::Invalid {
            code: e.code,
            error: e.message,
            now_ms,
            valid: false,
        }),
        Err(e) => Err(e),
    }
}

pub(crate) fn answer_query(
    state: &dyn StateReader,
    path: &str,
    data: &[u8],
) -> Result<Vec<u8>, CallError> {
    let (name, suffix) = split_path(path);
    match name {
        "did" => answer(&did_document(state, &address_arg(suffix, data)?)?),
        "controller" => {
            let key = address_arg(suffix, data)?;
            answer(&did_of_key(state, &key)?.map(|did| ControllerView {
                address: did,
                did: did_key(&did),
            }))
        }
        "issuer" => {
            let did = address_arg(suffix, data)?;
            answer(&issuer(state, &did)?.map(|i| IssuerView {
                address: did,
                credential_types: i.credential_types,
                issuer: did_key(&did),
                name: i.name,
                registered_height: i.registered_height,
                revoked: i.revoked,
                status_list: status_list_id(&did),
            }))
        }
        "status" => {
            let did = address_arg(suffix, data)?;
            let view = match issuer(state, &did)? {
                None => None,
                Some(_) => Some(StatusView {
                    issuer: did_key(&did),
                    revoked: revoked_indices(state, &did)?,
                    size: MAX_STATUS_INDEX,
                    status_list: status_list_id(&did),
                    status_purpose: StatusPurpose::Revocation,
                }),
            };
            answer(&view)
        }
        "verify" => answer(&verify(state, suffix, data)?),
        _ => Err(IdentityError::from(unknown_path(name, PATHS)).into()),
    }
}
