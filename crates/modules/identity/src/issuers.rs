//! Issuer calls: registering a DID as a credential issuer, revoking status-list entries.

use commonware_codec::Encode as _;
use counterweight_state::{CallError, StateAccess as _, TxContext};
use counterweight_storage_api::StorageError;

use crate::{
    call::Issuer,
    credential::{MAX_STATUS_INDEX, is_valid_type_name, status_list_id},
    did_key::did_key,
    dids::sender_did,
    error::IdentityError,
    events::IdentityEvent,
    store::{issuer, issuer_key, status_chunk, status_chunk_key, status_position},
};

pub(crate) fn register_issuer(
    ctx: &mut TxContext<'_>,
    name: String,
    credential_types: Vec<String>,
) -> Result<(), CallError> {
    let did = sender_did(ctx, &ctx.sender)?;
    if issuer(ctx, &did)?.is_some() {
        return Err(IdentityError::IssuerExists {
            issuer: did_key(&did),
        }
        .into());
    }
    let mut sorted = credential_types.clone();
    sorted.sort_unstable();
    sorted.dedup();
    if name.trim().is_empty() || name.chars().any(char::is_control) {
        return Err(IdentityError::BadIssuerName.into());
    }
    if credential_types.is_empty()
        || sorted.len() != credential_types.len()
        || !credential_types.iter().all(|t| is_valid_type_name(t))
    {
        return Err(IdentityError::BadCredentialTypes.into());
    }
    let types = credential_types.join(",");
    let record = Issuer {
        name: name.clone(),
        credential_types,
        registered_height: ctx.height.0,
        revoked: 0,
    };
    ctx.set(issuer_key(&did), record.encode().to_vec());
    ctx.emit_event(&IdentityEvent::IssuerRegistered {
        issuer: did_key(&did),
        address: did,
        name,
        credential_types: types,
    })?;
    Ok(())
}

pub(crate) fn revoke(ctx: &mut TxContext<'_>, index: u64) -> Result<(), CallError> {
    let did = sender_did(ctx, &ctx.sender)?;
    let mut record =
        issuer(ctx, &did)?.ok_or_else(|| IdentityError::NotIssuer { did: did_key(&did) })?;
    if index >= MAX_STATUS_INDEX {
        return Err(IdentityError::BadStatusIndex { index }.into());
    }
    let (chunk, byte, mask) = status_position(index);
    let mut bits = status_chunk(ctx, &did, chunk)?;
    let Some(slot) = bits.get_mut(byte) else {
        return Err(StorageError::Invariant("status chunk too short".into()).into());
    };
    if *slot & mask != 0 {
        return Err(IdentityError::AlreadyRevoked { index }.into());
    }
    *slot |= mask;
    record.revoked = record.revoked.saturating_add(1);
    ctx.set(status_chunk_key(&did, chunk), bits);
    ctx.set(issuer_key(&did), record.encode().to_vec());
    ctx.emit_event(&IdentityEvent::CredentialRevoked {
        issuer: did_key(&did),
        address: did,
        index,
        status_list: status_list_id(&did),
    })?;
    Ok(())
}
