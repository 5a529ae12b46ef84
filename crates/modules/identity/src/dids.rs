//! DID calls: registration, key rotation and k-of-n recovery.

use commonware_codec::{Encode as _, Write as _};
use counterweight_crypto::{SigningKey, domain, verify_message};
use counterweight_state::{CallError, StateAccess as _, TxContext};
use counterweight_storage_api::StateReader;
use counterweight_types::{Address, ChainId, Signature};

use crate::{
    call::{DidRecord, MAX_ROTATIONS, PreviousKey, Recovery},
    did_key::{did_key, is_valid_key},
    error::IdentityError,
    events::{IdentityEvent, RotatedBy},
    store::{controller_key, did_of_key, did_record, did_state_key, recovery, recovery_key},
};

/// The DID the sender acts for, or `UNKNOWN_DID`.
pub(crate) fn sender_did(state: &dyn StateReader, sender: &Address) -> Result<Address, CallError> {
    Ok(did_of_key(state, sender)?.ok_or(IdentityError::NoDid { sender: *sender })?)
}

/// Checks that `did` may rotate to `key`: a valid ed25519 key that controls no DID and is no
/// other DID's identifier.
fn check_new_key(state: &dyn StateReader, did: &Address, key: &Address) -> Result<(), CallError> {
    if !is_valid_key(key) {
        return Err(IdentityError::InvalidKey { key: *key }.into());
    }
    if did_of_key(state, key)?.is_some() || (key != did && did_record(state, key)?.is_some()) {
        return Err(IdentityError::KeyInUse { key: *key }.into());
    }
    Ok(())
}

/// Returns the bytes a new key signs, under [`domain::KEY_ROTATION`], to consent to become
/// `did`'s key: the chain id, the DID, its current key, its rotation count (the length of its
/// key history) and the new key. Binding the count and the current key makes each proof good
/// for one rotation only; binding the chain id and the DID keeps it from being replayed
/// elsewhere.
pub fn rotation_message(
    chain_id: &ChainId,
    did: &Address,
    old_key: &Address,
    rotation: u64,
    new_key: &Address,
) -> Vec<u8> {
    let mut msg = Vec::new();
    chain_id.write(&mut msg);
    did.write(&mut msg);
    old_key.write(&mut msg);
    rotation.write(&mut msg);
    new_key.write(&mut msg);
    msg
}

/// Signs, with the new key, its consent to rotate `did` from `old_key` (the DID's current
/// key, with `rotation` replaced keys so far): the `proof` of
/// [`IdentityCall::RotateKey`](crate::IdentityCall::RotateKey) and
/// [`IdentityCall::ApproveRecovery`](crate::IdentityCall::ApproveRecovery).
pub fn sign_rotation(
    new_key: &SigningKey,
    chain_id: &ChainId,
    did: &Address,
    old_key: &Address,
    rotation: u64,
) -> Signature {
    let msg = rotation_message(chain_id, did, old_key, rotation, &new_key.address());
    new_key.sign_message(domain::KEY_ROTATION, &msg)
}

/// Checks that `proof` is `new_key`'s signature over the next rotation of `did`.
fn check_proof(
    ctx: &TxContext<'_>,
    did: &Address,
    new_key: &Address,
    proof: &Signature,
) -> Result<(), CallError> {
    let record =
        did_record(ctx, did)?.ok_or_else(|| IdentityError::UnknownDid { did: did_key(did) })?;
    let rotation = u64::try_from(record.previous_keys.len()).unwrap_or(u64::MAX);
    let msg = rotation_message(ctx.chain_id, did, &record.current_key, rotation, new_key);
    if !verify_message(new_key, domain::KEY_ROTATION, &msg, proof) {
        return Err(IdentityError::BadKeyProof { key: *new_key }.into());
    }
    Ok(())
}

/// Rotates `did` to `new_key` (checked by the caller) and emits `key_rotated`.
fn rotate(
    ctx: &mut TxContext<'_>,
    did: &Address,
    new_key: &Address,
    by: RotatedBy,
) -> Result<(), CallError> {
    let mut record =
        did_record(ctx, did)?.ok_or_else(|| IdentityError::UnknownDid { did: did_key(did) })?;
    if record.previous_keys.len() >= MAX_ROTATIONS {
        return Err(IdentityError::TooManyRotations { did: did_key(did) }.into());
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
    ctx.emit_event(&IdentityEvent::KeyRotated {
        did: did_key(did),
        address: *did,
        old_key: old,
        new_key: *new_key,
        by,
    })?;
    Ok(())
}

pub(crate) fn register(ctx: &mut TxContext<'_>) -> Result<(), CallError> {
    let sender = ctx.sender;
    if did_record(ctx, &sender)?.is_some() {
        return Err(IdentityError::DidExists {
            did: did_key(&sender),
        }
        .into());
    }
    if let Some(other) = did_of_key(ctx, &sender)? {
        return Err(IdentityError::KeyControlsDid {
            did: did_key(&other),
        }
        .into());
    }
    let record = DidRecord {
        current_key: sender,
        registered_height: ctx.height.0,
        registered_ms: ctx.timestamp_ms,
        previous_keys: Vec::new(),
    };
    ctx.set(did_state_key(&sender), record.encode().to_vec());
    ctx.set(controller_key(&sender), sender.0.to_vec());
    ctx.emit_event(&IdentityEvent::DidRegistered {
        did: did_key(&sender),
        address: sender,
    })?;
    Ok(())
}

pub(crate) fn rotate_key(
    ctx: &mut TxContext<'_>,
    new_key: Address,
    proof: Signature,
) -> Result<(), CallError> {
    let did = sender_did(ctx, &ctx.sender)?;
    check_new_key(ctx, &did, &new_key)?;
    check_proof(ctx, &did, &new_key, &proof)?;
    rotate(ctx, &did, &new_key, RotatedBy::Owner)
}

pub(crate) fn set_recovery(
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
        return Err(IdentityError::BadRecovery.into());
    }
    let count = delegates.len();
    let rec = Recovery {
        delegates,
        threshold,
        approvals: Vec::new(),
    };
    ctx.set(recovery_key(&did), rec.encode().to_vec());
    ctx.emit_event(&IdentityEvent::RecoverySet {
        did: did_key(&did),
        delegates: count,
        threshold,
    })?;
    Ok(())
}

pub(crate) fn approve_recovery(
    ctx: &mut TxContext<'_>,
    did: Address,
    new_key: Address,
    proof: Signature,
) -> Result<(), CallError> {
    if did_record(ctx, &did)?.is_none() {
        return Err(IdentityError::UnknownDid { did: did_key(&did) }.into());
    }
    let mut rec =
        recovery(ctx, &did)?.ok_or_else(|| IdentityError::NoRecovery { did: did_key(&did) })?;
    // A delegate acts through the key currently controlling its DID, or its own account.
    // A DID's replaced key no longer speaks for it.
    let delegate = match did_of_key(ctx, &ctx.sender)? {
        Some(did) => did,
        None if did_record(ctx, &ctx.sender)?.is_some() => {
            return Err(IdentityError::ReplacedKey { key: ctx.sender }.into());
        }
        None => ctx.sender,
    };
    if !rec.delegates.contains(&delegate) {
        return Err(IdentityError::NotDelegate {
            delegate: did_key(&delegate),
            did: did_key(&did),
        }
        .into());
    }
    check_new_key(ctx, &did, &new_key)?;
    check_proof(ctx, &did, &new_key, &proof)?;
    if rec.approvals.contains(&(delegate, new_key)) {
        return Err(IdentityError::AlreadyApproved.into());
    }
    rec.approvals.retain(|(d, _)| *d != delegate);
    rec.approvals.push((delegate, new_key));
    let approvals = rec.approvals.iter().filter(|(_, k)| *k == new_key).count();
    ctx.emit_event(&IdentityEvent::RecoveryApproved {
        did: did_key(&did),
        delegate: did_key(&delegate),
        new_key,
        approvals,
        threshold: rec.threshold,
    })?;
    ctx.set(recovery_key(&did), rec.encode().to_vec());
    if approvals >= usize::from(rec.threshold) {
        rotate(ctx, &did, &new_key, RotatedBy::Recovery)?;
        ctx.emit_event(&IdentityEvent::RecoveryCompleted {
            did: did_key(&did),
            new_key,
            approvals,
        })?;
    }
    Ok(())
}
