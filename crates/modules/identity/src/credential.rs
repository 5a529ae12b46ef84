//! W3C Verifiable Credentials 2.0 secured as VC-JOSE (compact JWS, EdDSA): issued off chain
//! by an issuer's key, verified against chain state without network or clock.

use std::collections::BTreeMap;

use counterweight_crypto::SigningKey;
use counterweight_state::{CallError, ModuleError, Verdict as _};
use counterweight_storage_api::StateReader;
use counterweight_types::{Address, Hash, domain};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use ssi_jwk::{Algorithm, Base64urlUInt, JWK, OctetParams, Params};
use ssi_jws::Header;

use crate::{
    call::MAX_CREDENTIAL_TYPE_LEN,
    did_key::{address_of_did, did_key, key_of_multibase, public_jwk, verification_method_id},
    error::{Error, IdentityError, Result, codes},
    store::{did_record, is_revoked, issuer},
    time::{MAX_MS, format_ms, parse_ms},
};

/// Largest accepted credential (compact JWS), in bytes.
pub const MAX_CREDENTIAL_BYTES: usize = 8 * 1024;
/// Size of every issuer's status list, in entries: indices run from 0 to this minus one.
pub const MAX_STATUS_INDEX: u64 = 1 << 20;
/// Most claims a credential subject may carry (besides its `id`).
pub const MAX_CLAIMS: usize = 32;
/// Longest claim name, in bytes.
pub const MAX_CLAIM_NAME_LEN: usize = 64;
/// Longest claim value, in bytes.
pub const MAX_CLAIM_VALUE_LEN: usize = 256;

const VC_CONTEXT: &str = "https://www.w3.org/ns/credentials/v2";
const VC_TYPE: &str = "VerifiableCredential";
const JOSE_TYPE: &str = "vc+jwt";
const STATUS_ENTRY_TYPE: &str = "BitstringStatusListEntry";
const STATUS_PURPOSE: &str = "revocation";

/// A credential that verified against chain state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifiedCredential {
    /// The credential's id: a hash of its exact bytes.
    pub id: Hash,
    /// The issuer's DID (its address).
    pub issuer: Address,
    /// The subject's account (from its `did:key`).
    pub subject: Address,
    /// The credential type besides `VerifiableCredential`, e.g. `CooperativeMembership`.
    pub kind: String,
    /// The subject's claims (every `credentialSubject` member but `id`).
    pub claims: BTreeMap<String, String>,
    /// End of validity (`validUntil`), if any.
    pub valid_until_ms: Option<u64>,
    /// Its index in the issuer's status list (where a revocation of it is recorded).
    pub status_index: u64,
}

/// What an issuer puts in a credential (see [`sign_credential`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialDraft {
    /// The issuer's DID (its address). After a key rotation this differs from the signing key.
    pub issuer: Address,
    /// The subject's account.
    pub subject: Address,
    /// The credential type (a registered type of the issuer).
    pub kind: String,
    /// The subject's claims.
    pub claims: BTreeMap<String, String>,
    /// The credential's index in the issuer's status list.
    pub status_index: u64,
    /// Start of validity.
    pub valid_from_ms: u64,
    /// End of validity, if any (after `valid_from_ms`).
    pub valid_until_ms: Option<u64>,
}

/// Returns the id of an issuer's on-chain status list, as credentials name it in
/// `credentialStatus.statusListCredential`.
pub fn status_list_id(issuer: &Address) -> String {
    format!("counterweight:identity:status:{}", issuer.to_hex())
}

/// Returns the id of a credential: a hash of its exact bytes.
pub fn credential_id(credential: &[u8]) -> Hash {
    Hash::digest(domain::CREDENTIAL_ID, &[b"credential/", credential])
}

/// Whether `name` is an acceptable credential type: 1 to 31 bytes of `[A-Za-z0-9_-]`, not
/// `VerifiableCredential`.
pub fn is_valid_type_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_CREDENTIAL_TYPE_LEN
        && name != VC_TYPE
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum IssuerJson {
    Id(String),
    Object { id: String },
}

#[derive(Serialize, Deserialize)]
struct StatusJson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(rename = "type")]
    kind: String,
    #[serde(rename = "statusPurpose")]
    status_purpose: String,
    #[serde(rename = "statusListIndex")]
    status_list_index: String,
    #[serde(rename = "statusListCredential")]
    status_list_credential: String,
}

#[derive(Serialize, Deserialize)]
struct CredentialJson {
    #[serde(rename = "@context")]
    context: Vec<String>,
    #[serde(rename = "type")]
    types: Vec<String>,
    issuer: IssuerJson,
    #[serde(rename = "validFrom", default, skip_serializing_if = "Option::is_none")]
    valid_from: Option<String>,
    #[serde(
        rename = "validUntil",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    valid_until: Option<String>,
    #[serde(rename = "credentialSubject")]
    credential_subject: BTreeMap<String, Value>,
    #[serde(rename = "credentialStatus")]
    credential_status: StatusJson,
}

fn check_claims(claims: &BTreeMap<String, String>) -> Result<()> {
    if claims.len() > MAX_CLAIMS {
        return Err(Error::TooManyClaims {
            count: claims.len(),
            max: MAX_CLAIMS,
        });
    }
    for (name, value) in claims {
        if name.is_empty() || name.len() > MAX_CLAIM_NAME_LEN || name == "id" {
            return Err(Error::Claim {
                name: name.clone(),
                reason: format!("names are 1 to {MAX_CLAIM_NAME_LEN} bytes and not \"id\""),
            });
        }
        if value.len() > MAX_CLAIM_VALUE_LEN {
            return Err(Error::Claim {
                name: name.clone(),
                reason: format!("value is above {MAX_CLAIM_VALUE_LEN} bytes"),
            });
        }
    }
    Ok(())
}

/// Issues a credential off chain: `issuer_key` signs a VC 2.0 credential (VC-JOSE compact
/// JWS, `alg` EdDSA) whose issuer is `did:key` of that key. Returns the JWS bytes.
///
/// For an issuer whose DID key has been rotated, use [`sign_credential`] with the DID.
///
/// # Errors
/// [`Error`] if a field is out of bounds (type name, claims, status index, validity
/// window, total size) or signing fails.
pub fn issue_credential(
    issuer_key: &SigningKey,
    subject: &Address,
    kind: &str,
    claims: BTreeMap<String, String>,
    status_index: u64,
    valid_from_ms: u64,
    valid_until_ms: Option<u64>,
) -> Result<Vec<u8>> {
    sign_credential(
        issuer_key,
        &CredentialDraft {
            issuer: issuer_key.address(),
            subject: *subject,
            kind: kind.to_owned(),
            claims,
            status_index,
            valid_from_ms,
            valid_until_ms,
        },
    )
}

/// Signs `draft` with `issuer_key` (the issuer DID's current key) into a compact JWS.
///
/// # Errors
/// As [`issue_credential`].
pub fn sign_credential(issuer_key: &SigningKey, draft: &CredentialDraft) -> Result<Vec<u8>> {
    if !is_valid_type_name(&draft.kind) {
        return Err(Error::InvalidKind {
            kind: draft.kind.clone(),
        });
    }
    check_claims(&draft.claims)?;
    if draft.status_index >= MAX_STATUS_INDEX {
        return Err(Error::StatusIndex {
            index: draft.status_index,
            max: MAX_STATUS_INDEX,
        });
    }
    if draft.valid_from_ms > MAX_MS {
        return Err(Error::ValidityWindow {
            from_ms: draft.valid_from_ms,
            until_ms: MAX_MS,
        });
    }
    if let Some(until) = draft.valid_until_ms
        && (until <= draft.valid_from_ms || until > MAX_MS)
    {
        return Err(Error::ValidityWindow {
            from_ms: draft.valid_from_ms,
            until_ms: until,
        });
    }
    let issuer_did = did_key(&draft.issuer);
    let list = status_list_id(&draft.issuer);
    let mut subject: BTreeMap<String, Value> = draft
        .claims
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    subject.insert("id".to_owned(), Value::String(did_key(&draft.subject)));
    let vc = CredentialJson {
        context: vec![VC_CONTEXT.to_owned()],
        types: vec![VC_TYPE.to_owned(), draft.kind.clone()],
        issuer: IssuerJson::Id(issuer_did),
        valid_from: Some(format_ms(draft.valid_from_ms)),
        valid_until: draft.valid_until_ms.map(format_ms),
        credential_subject: subject,
        credential_status: StatusJson {
            id: Some(format!("{list}#{}", draft.status_index)),
            kind: STATUS_ENTRY_TYPE.to_owned(),
            status_purpose: STATUS_PURPOSE.to_owned(),
            status_list_index: draft.status_index.to_string(),
            status_list_credential: list,
        },
    };
    let payload = serde_json::to_string(&vc)?;
    let header = Header {
        algorithm: Algorithm::EdDSA,
        key_id: Some(verification_method_id(&draft.issuer, &issuer_key.address())),
        type_: Some(JOSE_TYPE.to_owned()),
        ..Default::default()
    };
    let jwk = JWK::from(Params::OKP(OctetParams {
        curve: "Ed25519".to_owned(),
        public_key: Base64urlUInt(issuer_key.address().0.to_vec()),
        private_key: Some(Base64urlUInt(issuer_key.to_bytes().to_vec())),
    }));
    let jws = ssi_jws::encode_sign_custom_header(&payload, &jwk, &header)
        .map_err(|source| Error::Sign { source })?;
    if jws.len() > MAX_CREDENTIAL_BYTES {
        return Err(Error::Oversized {
            size: jws.len(),
            max: MAX_CREDENTIAL_BYTES,
        });
    }
    Ok(jws.into_bytes())
}

fn malformed(reason: impl Into<String>) -> IdentityError {
    IdentityError::malformed(reason)
}

/// A parsed credential whose signature is not yet checked.
struct Parsed {
    header: Header,
    signing_input: Vec<u8>,
    signature: Vec<u8>,
    vc: CredentialJson,
}

fn parse(credential: &[u8]) -> Result<Parsed, IdentityError> {
    if credential.len() > MAX_CREDENTIAL_BYTES {
        return Err(IdentityError::CredentialOversized {
            size: credential.len(),
        });
    }
    let text = std::str::from_utf8(credential)
        .map_err(|_| malformed("credential must be a compact JWS (ASCII text)"))?;
    let (header_b64, payload_b64, signature_b64) = ssi_jws::split_jws(text)
        .map_err(|_| malformed("credential must be a compact JWS: header.payload.signature"))?;
    let (jws, signing_input) =
        ssi_jws::decode_jws_parts(header_b64, payload_b64.as_bytes(), signature_b64)
            .map_err(|e| malformed(format!("credential JWS does not decode: {e}")))?
            .into_jws_and_signing_bytes();
    let header = jws.header;
    if header.algorithm != Algorithm::EdDSA {
        return Err(malformed(format!(
            "credential alg is {}, expected EdDSA",
            header.algorithm
        )));
    }
    if header.critical.is_some() || header.base64urlencode_payload.is_some() {
        return Err(malformed(
            "credential JWS must not carry crit or b64 headers",
        ));
    }
    if header.type_.as_deref().is_some_and(|t| t != JOSE_TYPE) {
        return Err(malformed(format!("credential typ must be {JOSE_TYPE}")));
    }
    let vc: CredentialJson = serde_json::from_slice(&jws.payload).map_err(|e| {
        malformed(format!(
            "credential payload is not a VC 2.0 credential: {e}"
        ))
    })?;
    Ok(Parsed {
        header,
        signing_input: signing_input.to_vec(),
        signature: jws.signature.as_bytes().to_vec(),
        vc,
    })
}

fn kind_of(types: &[String]) -> Result<String, IdentityError> {
    let others: Vec<&String> = types.iter().filter(|t| *t != VC_TYPE).collect();
    match (types.iter().any(|t| t == VC_TYPE), others.as_slice()) {
        (true, [kind]) if types.len() == 2 => Ok((*kind).clone()),
        _ => Err(malformed(
            "credential type must be [\"VerifiableCredential\", <one type>]",
        )),
    }
}

fn claims_of(
    subject: BTreeMap<String, Value>,
) -> Result<(Address, BTreeMap<String, String>), IdentityError> {
    let mut claims = BTreeMap::new();
    let mut id = None;
    for (name, value) in subject {
        let Value::String(text) = value else {
            return Err(malformed(format!("claim {name:?} must be a string")));
        };
        if name == "id" {
            id = Some(text);
        } else {
            claims.insert(name, text);
        }
    }
    let id = id.ok_or_else(|| malformed("credentialSubject.id is missing"))?;
    let subject = address_of_did(&id)
        .ok_or_else(|| malformed("credentialSubject.id must be an ed25519 did:key"))?;
    if claims.len() > MAX_CLAIMS
        || claims
            .iter()
            .any(|(k, v)| k.len() > MAX_CLAIM_NAME_LEN || v.len() > MAX_CLAIM_VALUE_LEN)
    {
        return Err(malformed(format!(
            "at most {MAX_CLAIMS} claims, names up to {MAX_CLAIM_NAME_LEN} bytes, values up to {MAX_CLAIM_VALUE_LEN}"
        )));
    }
    Ok((subject, claims))
}

fn status_index_of(status: &StatusJson, issuer: &Address) -> Result<u64, IdentityError> {
    if status.kind != STATUS_ENTRY_TYPE || status.status_purpose != STATUS_PURPOSE {
        return Err(malformed(format!(
            "credentialStatus must be a {STATUS_ENTRY_TYPE} with purpose {STATUS_PURPOSE}"
        )));
    }
    if status.status_list_credential != status_list_id(issuer) {
        return Err(malformed(format!(
            "credentialStatus must point at the issuer's list {}",
            status_list_id(issuer)
        )));
    }
    let text = &status.status_list_index;
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    match text.parse::<u64>() {
        Ok(index) if canonical && index < MAX_STATUS_INDEX => Ok(index),
        _ => Err(malformed(format!(
            "statusListIndex must be a decimal below {MAX_STATUS_INDEX}"
        ))),
    }
}

fn time_of(field: Option<&String>, name: &str) -> Result<Option<u64>, IdentityError> {
    field
        .map(|text| {
            parse_ms(text).ok_or_else(|| malformed(format!("{name} must be an RFC 3339 date-time")))
        })
        .transpose()
}

/// Verifies a credential against chain state at block time `now_ms`, keeping fatal storage
/// errors apart from refusals. Prefer this inside `Module::execute`.
///
/// Checks, in order: size, JWS and VC 2.0 structure, the issuer is a registered DID and
/// credential issuer, the signature verifies with the issuer DID's current key, the type is
/// one the issuer registered, the validity window holds at `now_ms`, and the status-list
/// entry is not revoked.
///
/// # Errors
/// [`CallError::Failed`] with a credential code from [`codes`]; [`CallError::Fatal`] if
/// storage fails.
pub fn check_credential(
    state: &dyn StateReader,
    credential: &[u8],
    now_ms: u64,
) -> Result<VerifiedCredential, CallError> {
    let Parsed {
        header,
        signing_input,
        signature,
        vc,
    } = parse(credential)?;
    if vc.context.first().map(String::as_str) != Some(VC_CONTEXT) {
        return Err(malformed(format!("@context must start with {VC_CONTEXT}")).into());
    }
    let kind = kind_of(&vc.types)?;
    let issuer_text = match &vc.issuer {
        IssuerJson::Id(id) | IssuerJson::Object { id } => id,
    };
    let issuer_did = address_of_did(issuer_text)
        .ok_or_else(|| malformed("issuer must be an ed25519 did:key"))?;
    let record = did_record(state, &issuer_did)?.ok_or_else(|| IdentityError::IssuerHasNoDid {
        issuer: issuer_text.clone(),
    })?;
    let registered = issuer(state, &issuer_did)?.ok_or_else(|| IdentityError::UnknownIssuer {
        issuer: issuer_text.clone(),
    })?;

    // The `kid` names the signing key; only a key from the DID's history is worth trying
    // besides the current one, so at most one signature is checked.
    let named_key = header
        .key_id
        .as_deref()
        .and_then(|kid| kid.split_once('#'))
        .filter(|(did, _)| *did == issuer_text.as_str())
        .and_then(|(_, fragment)| key_of_multibase(fragment));
    let key = match named_key {
        Some(k) if record.previous_keys.iter().any(|p| p.key == k) => k,
        _ => record.current_key,
    };
    if ssi_jws::verify_bytes(
        Algorithm::EdDSA,
        &signing_input,
        &public_jwk(&key),
        &signature,
    )
    .is_err()
    {
        return Err(IdentityError::BadSignature.into());
    }
    if key != record.current_key {
        return Err(IdentityError::KeyRotated {
            issuer: issuer_text.clone(),
            key,
        }
        .into());
    }

    if !registered.credential_types.contains(&kind) {
        return Err(IdentityError::TypeNotAllowed { kind }.into());
    }
    let (subject, claims) = claims_of(vc.credential_subject)?;
    let valid_from = time_of(vc.valid_from.as_ref(), "validFrom")?;
    let valid_until = time_of(vc.valid_until.as_ref(), "validUntil")?;
    if let Some(from) = valid_from
        && now_ms < from
    {
        return Err(IdentityError::NotYetValid {
            valid_from_ms: from,
            now_ms,
        }
        .into());
    }
    if let Some(until) = valid_until
        && now_ms >= until
    {
        return Err(IdentityError::Expired {
            valid_until_ms: until,
            now_ms,
        }
        .into());
    }
    let index = status_index_of(&vc.credential_status, &issuer_did)?;
    if is_revoked(state, &issuer_did, index)? {
        return Err(IdentityError::Revoked { index }.into());
    }
    Ok(VerifiedCredential {
        id: credential_id(credential),
        issuer: issuer_did,
        subject,
        kind,
        claims,
        valid_until_ms: valid_until,
        status_index: index,
    })
}

/// Verifies a credential (compact JWS bytes) against chain state at block time `now_ms`:
/// no network, no clock. See [`check_credential`] for the checks.
///
/// # Errors
/// A [`ModuleError`] with a credential code from [`codes`]; a storage failure is reported
/// as [`codes::STORAGE`] (use [`check_credential`] to keep it fatal).
pub fn verify_credential(
    state: &dyn StateReader,
    credential: &[u8],
    now_ms: u64,
) -> Result<VerifiedCredential, ModuleError> {
    match check_credential(state, credential, now_ms) {
        Ok(v) => Ok(v),
        Err(CallError::Failed(e)) => Err(e),
        Err(CallError::Fatal(e)) => Err(IdentityError::Storage(e).to_module_error()),
        Err(e) => Err(ModuleError::new(codes::STORAGE, e.to_string())),
    }
}
