//! DIDs, key rotation, recovery, credential issuers and status lists: the module and its Rust
//! read API.

use std::collections::BTreeMap;

use commonware_codec::{Copying, Decode as _, Encode as _};
use counterweight_state::{
    CallError, Module, ModuleError, SYSTEM_MODULE, StateAccess, TxContext, module_key,
};
use counterweight_storage_api::{Result as StorageResult, StateReader, StorageError};
use counterweight_types::{Address, Genesis, ModuleId};
use serde_json::{Value, json};

use crate::{
    call::{DidRecord, IdentityCall, Issuer, MAX_ROTATIONS, PreviousKey, Recovery},
    credential::{MAX_STATUS_INDEX, check_credential, is_valid_type_name, status_list_id},
    did::{address_of_did, did_key, is_valid_key, resolution_json},
};

/// The identity module's id.
pub const IDENTITY_MODULE: ModuleId = ModuleId(2);

/// Entries per stored chunk of a status list (512 bytes).
const STATUS_CHUNK_BITS: u64 = 4096;

/// Failure codes in receipts of identity calls and credential refusals (stable).
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

fn did_state_key(did: &Address) -> Vec<u8> {
    module_key(IDENTITY_MODULE, &[b"did/", &did.0])
}

fn controller_key(key: &Address) -> Vec<u8> {
    module_key(IDENTITY_MODULE, &[b"ctl/", &key.0])
}

fn recovery_key(did: &Address) -> Vec<u8> {
    module_key(IDENTITY_MODULE, &[b"rec/", &did.0])
}

fn issuer_key(did: &Address) -> Vec<u8> {
    module_key(IDENTITY_MODULE, &[b"iss/", &did.0])
}

fn status_chunk_key(did: &Address, chunk: u64) -> Vec<u8> {
    module_key(IDENTITY_MODULE, &[b"st/", &did.0, &chunk.to_be_bytes()])
}

/// The state key of the runtime's latest block time (8 bytes, big-endian), if it keeps one.
fn block_time_key() -> Vec<u8> {
    module_key(SYSTEM_MODULE, &[b"time"])
}

fn read_record<T>(
    state: &dyn StateReader,
    key: &[u8],
    what: &'static str,
) -> StorageResult<Option<T>>
where
    T: commonware_codec::Read<Cfg = ()>,
{
    match state.get(key)? {
        None => Ok(None),
        Some(v) => T::decode_cfg(Copying(v.as_slice()), &())
            .map(Some)
            .map_err(|_| StorageError::Corrupt { what }),
    }
}

/// Returns the DID record of `did` (the DID's address), if registered.
///
/// # Errors
/// Fatal storage errors, or a corrupt record.
pub fn did_record(state: &dyn StateReader, did: &Address) -> StorageResult<Option<DidRecord>> {
    read_record(state, &did_state_key(did), "did record")
}

/// Returns the DID whose current key is `key`: the DID a transaction signed by `key` acts
/// for.
///
/// # Errors
/// Fatal storage errors, or a corrupt entry.
pub fn did_of_key(state: &dyn StateReader, key: &Address) -> StorageResult<Option<Address>> {
    match state.get(&controller_key(key))? {
        None => Ok(None),
        Some(v) => Address::from_slice(&v)
            .map(Some)
            .map_err(|_| StorageError::Corrupt {
                what: "did controller",
            }),
    }
}

/// Returns the recovery setup of `did`, if any.
///
/// # Errors
/// Fatal storage errors, or a corrupt record.
pub fn recovery(state: &dyn StateReader, did: &Address) -> StorageResult<Option<Recovery>> {
    read_record(state, &recovery_key(did), "recovery")
}

/// Returns the issuer registered for `did`, if any.
///
/// # Errors
/// Fatal storage errors, or a corrupt record.
pub fn issuer(state: &dyn StateReader, did: &Address) -> StorageResult<Option<Issuer>> {
    read_record(state, &issuer_key(did), "issuer")
}

fn status_chunk(state: &dyn StateReader, did: &Address, chunk: u64) -> StorageResult<Vec<u8>> {
    let size = (STATUS_CHUNK_BITS / 8) as usize;
    match state.get(&status_chunk_key(did, chunk))? {
        None => Ok(vec![0u8; size]),
        Some(v) if v.len() == size => Ok(v),
        Some(_) => Err(StorageError::Corrupt {
            what: "status list",
        }),
    }
}

/// Splits a status index into (chunk, byte in chunk, bit mask); index 0 is the first
/// byte's most significant bit, as in the Bitstring Status List.
fn status_position(index: u64) -> (u64, usize, u8) {
    let chunk = index / STATUS_CHUNK_BITS;
    let bit = index % STATUS_CHUNK_BITS;
    (chunk, (bit / 8) as usize, 0x80 >> (bit % 8))
}

/// Whether `index` of `issuer`'s status list is revoked (false for indices out of range).
///
/// # Errors
/// Fatal storage errors, or a corrupt list.
pub fn is_revoked(state: &dyn StateReader, issuer: &Address, index: u64) -> StorageResult<bool> {
    if index >= MAX_STATUS_INDEX {
        return Ok(false);
    }
    let (chunk, byte, mask) = status_position(index);
    let bits = status_chunk(state, issuer, chunk)?;
    Ok(bits.get(byte).is_some_and(|b| b & mask != 0))
}

/// Returns the revoked indices of `issuer`'s status list, ascending.
///
/// # Errors
/// Fatal storage errors, or a corrupt list.
pub fn revoked_indices(state: &dyn StateReader, issuer_did: &Address) -> StorageResult<Vec<u64>> {
    let mut out = Vec::new();
    if issuer(state, issuer_did)?.is_none_or(|i| i.revoked == 0) {
        return Ok(out);
    }
    for chunk in 0..MAX_STATUS_INDEX / STATUS_CHUNK_BITS {
        if state.get(&status_chunk_key(issuer_did, chunk))?.is_none() {
            continue;
        }
        let bits = status_chunk(state, issuer_did, chunk)?;
        for (byte, value) in bits.iter().enumerate() {
            for bit in 0..8u64 {
                if value & (0x80 >> bit) != 0 {
                    out.push(chunk * STATUS_CHUNK_BITS + byte as u64 * 8 + bit);
                }
            }
        }
    }
    Ok(out)
}

/// Returns the W3C DID resolution result (`didDocument` with the current key, and
/// `didDocumentMetadata` with key history and recovery setup) of `did`, if registered.
///
/// # Errors
/// Fatal storage errors, or a corrupt record.
pub fn did_document(state: &dyn StateReader, did: &Address) -> StorageResult<Option<Value>> {
    let Some(record) = did_record(state, did)? else {
        return Ok(None);
    };
    let recovery = recovery(state, did)?;
    Ok(Some(resolution_json(did, &record, recovery.as_ref())))
}

fn fail(code: u32, message: impl Into<String>) -> CallError {
    ModuleError::new(code, message).into()
}

fn attrs<const N: usize>(pairs: [(&str, String); N]) -> BTreeMap<String, String> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// The DID the sender acts for, or `UNKNOWN_DID`.
fn sender_did(state: &dyn StateReader, sender: &Address) -> Result<Address, CallError> {
    did_of_key(state, sender)?.ok_or_else(|| {
        fail(
            codes::UNKNOWN_DID,
            format!("{} controls no DID; register first", sender.to_hex()),
        )
    })
}

/// Checks that `did` may rotate to `key`: a valid ed25519 key that controls no DID and is no
/// other DID's identifier.
fn check_new_key(state: &dyn StateReader, did: &Address, key: &Address) -> Result<(), CallError> {
    if !is_valid_key(key) {
        return Err(fail(
            codes::INVALID_KEY,
            format!("{} is not an ed25519 public key", key.to_hex()),
        ));
    }
    if did_of_key(state, key)?.is_some() || (key != did && did_record(state, key)?.is_some()) {
        return Err(fail(
            codes::KEY_IN_USE,
            format!("key {} already controls or names a DID", key.to_hex()),
        ));
    }
    Ok(())
}

/// Rotates `did` to `new_key` (checked by the caller) and emits `key_rotated`.
fn rotate(
    ctx: &mut TxContext<'_>,
    did: &Address,
    new_key: &Address,
    by: &str,
) -> Result<(), CallError> {
    let mut record = did_record(ctx, did)?
        .ok_or_else(|| fail(codes::UNKNOWN_DID, format!("no DID {}", did_key(did))))?;
    if record.previous_keys.len() >= MAX_ROTATIONS {
        return Err(fail(
            codes::TOO_MANY_ROTATIONS,
            format!(
                "{} has rotated {MAX_ROTATIONS} times, the most kept",
                did_key(did)
            ),
        ));
    }
    let old = record.current_key;
    record.previous_keys.push(PreviousKey {
        key: old,
        replaced_height: ctx.height.0,
        replaced_ms: ctx.timestamp_ms,
    });
    record.current_key = *new_key;
    ctx.set(did_state_key(did), record.encode().to_vec());
    ctx.delete(controller_key(&old));
    ctx.set(controller_key(new_key), did.0.to_vec());
    // Approvals gathered for the old key are void once the key changes.
    if let Some(mut rec) = recovery(ctx, did)?
        && !rec.approvals.is_empty()
    {
        rec.approvals.clear();
        ctx.set(recovery_key(did), rec.encode().to_vec());
    }
    ctx.emit(
        "key_rotated",
        attrs([
            ("did", did_key(did)),
            ("address", did.to_hex()),
            ("old_key", old.to_hex()),
            ("new_key", new_key.to_hex()),
            ("by", by.to_owned()),
        ]),
    );
    Ok(())
}

fn register(ctx: &mut TxContext<'_>) -> Result<(), CallError> {
    let sender = ctx.sender;
    if did_record(ctx, &sender)?.is_some() {
        return Err(fail(
            codes::DID_EXISTS,
            format!("{} is already registered", did_key(&sender)),
        ));
    }
    if let Some(other) = did_of_key(ctx, &sender)? {
        return Err(fail(
            codes::KEY_IN_USE,
            format!("this key already controls {}", did_key(&other)),
        ));
    }
    let record = DidRecord {
        current_key: sender,
        registered_height: ctx.height.0,
        registered_ms: ctx.timestamp_ms,
        previous_keys: Vec::new(),
    };
    ctx.set(did_state_key(&sender), record.encode().to_vec());
    ctx.set(controller_key(&sender), sender.0.to_vec());
    ctx.emit(
        "did_registered",
        attrs([("did", did_key(&sender)), ("address", sender.to_hex())]),
    );
    Ok(())
}

fn set_recovery(
    ctx: &mut TxContext<'_>,
    delegates: Vec<Address>,
    threshold: u8,
) -> Result<(), CallError> {
    let did = sender_did(ctx, &ctx.sender)?;
    let mut sorted = delegates.clone();
    sorted.sort_unstable();
    sorted.dedup();
    if delegates.is_empty()
        || sorted.len() != delegates.len()
        || delegates.contains(&did)
        || threshold == 0
        || usize::from(threshold) > delegates.len()
    {
        return Err(fail(
            codes::BAD_RECOVERY,
            "delegates must be 1 to 16 distinct DIDs other than your own, threshold 1 to their number",
        ));
    }
    let count = delegates.len();
    let rec = Recovery {
        delegates,
        threshold,
        approvals: Vec::new(),
    };
    ctx.set(recovery_key(&did), rec.encode().to_vec());
    ctx.emit(
        "recovery_set",
        attrs([
            ("did", did_key(&did)),
            ("delegates", count.to_string()),
            ("threshold", threshold.to_string()),
        ]),
    );
    Ok(())
}

fn approve_recovery(
    ctx: &mut TxContext<'_>,
    did: Address,
    new_key: Address,
) -> Result<(), CallError> {
    if did_record(ctx, &did)?.is_none() {
        return Err(fail(
            codes::UNKNOWN_DID,
            format!("no DID {}", did_key(&did)),
        ));
    }
    let mut rec = recovery(ctx, &did)?.ok_or_else(|| {
        fail(
            codes::NO_RECOVERY,
            format!("{} has no recovery delegates", did_key(&did)),
        )
    })?;
    // A delegate acts through the key currently controlling its DID, or its own account.
    // A DID's replaced key no longer speaks for it.
    let delegate = match did_of_key(ctx, &ctx.sender)? {
        Some(did) => did,
        None if did_record(ctx, &ctx.sender)?.is_some() => {
            return Err(fail(
                codes::NOT_DELEGATE,
                format!("{} is a replaced key of its DID", ctx.sender.to_hex()),
            ));
        }
        None => ctx.sender,
    };
    if !rec.delegates.contains(&delegate) {
        return Err(fail(
            codes::NOT_DELEGATE,
            format!(
                "{} is not a recovery delegate of {}",
                did_key(&delegate),
                did_key(&did)
            ),
        ));
    }
    check_new_key(ctx, &did, &new_key)?;
    if rec.approvals.contains(&(delegate, new_key)) {
        return Err(fail(
            codes::ALREADY_APPROVED,
            "this delegate already approved this key",
        ));
    }
    rec.approvals.retain(|(d, _)| *d != delegate);
    rec.approvals.push((delegate, new_key));
    let approvals = rec.approvals.iter().filter(|(_, k)| *k == new_key).count();
    ctx.emit(
        "recovery_approved",
        attrs([
            ("did", did_key(&did)),
            ("delegate", did_key(&delegate)),
            ("new_key", new_key.to_hex()),
            ("approvals", approvals.to_string()),
            ("threshold", rec.threshold.to_string()),
        ]),
    );
    ctx.set(recovery_key(&did), rec.encode().to_vec());
    if approvals >= usize::from(rec.threshold) {
        rotate(ctx, &did, &new_key, "recovery")?;
        ctx.emit(
            "recovery_completed",
            attrs([
                ("did", did_key(&did)),
                ("new_key", new_key.to_hex()),
                ("approvals", approvals.to_string()),
            ]),
        );
    }
    Ok(())
}

fn register_issuer(
    ctx: &mut TxContext<'_>,
    name: String,
    credential_types: Vec<String>,
) -> Result<(), CallError> {
    let did = sender_did(ctx, &ctx.sender)?;
    if issuer(ctx, &did)?.is_some() {
        return Err(fail(
            codes::ISSUER_EXISTS,
            format!("{} is already a registered issuer", did_key(&did)),
        ));
    }
    let mut sorted = credential_types.clone();
    sorted.sort_unstable();
    sorted.dedup();
    if name.trim().is_empty() || name.chars().any(char::is_control) {
        return Err(fail(
            codes::BAD_ISSUER,
            "issuer name must be 1 to 128 bytes without control characters",
        ));
    }
    if credential_types.is_empty()
        || sorted.len() != credential_types.len()
        || !credential_types.iter().all(|t| is_valid_type_name(t))
    {
        return Err(fail(
            codes::BAD_ISSUER,
            "credential types must be 1 to 8 distinct names of [A-Za-z0-9_-], up to 31 bytes",
        ));
    }
    let types = credential_types.join(",");
    let record = Issuer {
        name: name.clone(),
        credential_types,
        registered_height: ctx.height.0,
        revoked: 0,
    };
    ctx.set(issuer_key(&did), record.encode().to_vec());
    ctx.emit(
        "issuer_registered",
        attrs([
            ("issuer", did_key(&did)),
            ("address", did.to_hex()),
            ("name", name),
            ("credential_types", types),
        ]),
    );
    Ok(())
}

fn revoke(ctx: &mut TxContext<'_>, index: u64) -> Result<(), CallError> {
    let did = sender_did(ctx, &ctx.sender)?;
    let mut record = issuer(ctx, &did)?.ok_or_else(|| {
        fail(
            codes::NOT_ISSUER,
            format!("{} is not a registered issuer", did_key(&did)),
        )
    })?;
    if index >= MAX_STATUS_INDEX {
        return Err(fail(
            codes::BAD_STATUS_INDEX,
            format!("status index {index} is not below {MAX_STATUS_INDEX}"),
        ));
    }
    let (chunk, byte, mask) = status_position(index);
    let mut bits = status_chunk(ctx, &did, chunk)?;
    let Some(slot) = bits.get_mut(byte) else {
        return Err(StorageError::Invariant("status chunk too short".into()).into());
    };
    if *slot & mask != 0 {
        return Err(fail(
            codes::ALREADY_REVOKED,
            format!("status index {index} is already revoked"),
        ));
    }
    *slot |= mask;
    record.revoked = record.revoked.saturating_add(1);
    ctx.set(status_chunk_key(&did, chunk), bits);
    ctx.set(issuer_key(&did), record.encode().to_vec());
    ctx.emit(
        "credential_revoked",
        attrs([
            ("issuer", did_key(&did)),
            ("address", did.to_hex()),
            ("index", index.to_string()),
            ("status_list", status_list_id(&did)),
        ]),
    );
    Ok(())
}

fn bad_query(message: impl Into<String>) -> CallError {
    fail(codes::BAD_QUERY, message)
}

/// Reads an address argument: from the path suffix (hex or `did:key`), else from `data`
/// (32 raw bytes, or hex / `did:key` text).
fn address_arg(suffix: Option<&str>, data: &[u8]) -> Result<Address, CallError> {
    if suffix.is_none()
        && let Ok(raw) = <[u8; 32]>::try_from(data)
    {
        return Ok(Address(raw));
    }
    let text = match suffix {
        Some(s) => s,
        None => std::str::from_utf8(data)
            .map_err(|_| bad_query("argument must be 32 bytes, hex or a did:key"))?,
    };
    let text = text.trim();
    if text.starts_with("did:") {
        return address_of_did(text).ok_or_else(|| bad_query("argument is not an ed25519 did:key"));
    }
    text.parse::<Address>()
        .map_err(|_| bad_query("argument must be 32 bytes, hex or a did:key"))
}

fn to_json(value: &Value) -> Vec<u8> {
    // Serialising a `Value` cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}

fn query_verify(
    state: &dyn StateReader,
    suffix: Option<&str>,
    data: &[u8],
) -> Result<Vec<u8>, CallError> {
    let now_ms = match suffix {
        Some(ms) => ms
            .parse::<u64>()
            .map_err(|_| bad_query("verify/{now_ms}: now_ms must be a decimal"))?,
        None => match state.get(&block_time_key())? {
            Some(v) => <[u8; 8]>::try_from(v.as_slice())
                .map(u64::from_be_bytes)
                .map_err(|_| StorageError::Corrupt { what: "block time" })?,
            None => {
                return Err(bad_query(
                    "the state holds no block time: ask verify/{now_ms}",
                ));
            }
        },
    };
    let out = match check_credential(state, data, now_ms) {
        Ok(v) => json!({
            "valid": true,
            "now_ms": now_ms,
            "credential": v,
            "issuer_did": did_key(&v.issuer),
            "subject_did": did_key(&v.subject),
        }),
        Err(CallError::Failed(e)) => json!({
            "valid": false,
            "now_ms": now_ms,
            "code": e.code,
            "error": e.message,
        }),
        Err(e) => return Err(e),
    };
    Ok(to_json(&out))
}

/// The identity module: DIDs, key rotation and recovery, credential issuers, revocation.
#[derive(Clone, Copy, Debug, Default)]
pub struct Identity;

impl Module for Identity {
    fn id(&self) -> ModuleId {
        IDENTITY_MODULE
    }

    fn name(&self) -> &'static str {
        "identity"
    }

    fn check_payload(&self, payload: &[u8]) -> Result<(), ModuleError> {
        IdentityCall::from_payload(payload)
            .map(|_| ())
            .map_err(|e| ModuleError::new(codes::MALFORMED, format!("identity call: {e}")))
    }

    fn init_genesis(&self, _: &mut dyn StateAccess, _: &Genesis) -> Result<(), CallError> {
        Ok(())
    }

    fn execute(&self, ctx: &mut TxContext<'_>, payload: &[u8]) -> Result<(), CallError> {
        let call = IdentityCall::from_payload(payload)
            .map_err(|e| ModuleError::new(codes::MALFORMED, format!("identity call: {e}")))?;
        match call {
            IdentityCall::Register => register(ctx),
            IdentityCall::RotateKey { new_key } => {
                let did = sender_did(ctx, &ctx.sender)?;
                check_new_key(ctx, &did, &new_key)?;
                rotate(ctx, &did, &new_key, "owner")
            }
            IdentityCall::SetRecovery {
                delegates,
                threshold,
            } => set_recovery(ctx, delegates, threshold),
            IdentityCall::ApproveRecovery { did_owner, new_key } => {
                approve_recovery(ctx, did_owner, new_key)
            }
            IdentityCall::RegisterIssuer {
                name,
                credential_types,
            } => register_issuer(ctx, name, credential_types),
            IdentityCall::Revoke { index } => revoke(ctx, index),
        }
    }

    fn query(
        &self,
        state: &dyn StateReader,
        path: &str,
        data: &[u8],
    ) -> Result<Vec<u8>, CallError> {
        let (name, suffix) = match path.split_once('/') {
            Some((name, rest)) => (name, Some(rest)),
            None => (path, None),
        };
        match name {
            "did" => {
                let did = address_arg(suffix, data)?;
                Ok(to_json(&did_document(state, &did)?.unwrap_or(Value::Null)))
            }
            "controller" => {
                let key = address_arg(suffix, data)?;
                let out = did_of_key(state, &key)?.map_or(
                    Value::Null,
                    |did| json!({ "did": did_key(&did), "address": did.to_hex() }),
                );
                Ok(to_json(&out))
            }
            "issuer" => {
                let did = address_arg(suffix, data)?;
                let out = issuer(state, &did)?.map_or(Value::Null, |i| {
                    json!({
                        "issuer": did_key(&did),
                        "address": did.to_hex(),
                        "name": i.name,
                        "credential_types": i.credential_types,
                        "registered_height": i.registered_height,
                        "revoked": i.revoked,
                        "status_list": status_list_id(&did),
                    })
                });
                Ok(to_json(&out))
            }
            "status" => {
                let did = address_arg(suffix, data)?;
                if issuer(state, &did)?.is_none() {
                    return Ok(to_json(&Value::Null));
                }
                let out = json!({
                    "issuer": did_key(&did),
                    "status_list": status_list_id(&did),
                    "status_purpose": "revocation",
                    "size": MAX_STATUS_INDEX,
                    "revoked": revoked_indices(state, &did)?,
                });
                Ok(to_json(&out))
            }
            "verify" => query_verify(state, suffix, data),
            other => Err(bad_query(format!(
                "unknown query {other:?}; expected did, controller, issuer, status or verify"
            ))),
        }
    }
}
