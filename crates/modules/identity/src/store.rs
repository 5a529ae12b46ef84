//! The identity module's state keys and records, and its Rust read API.

use commonware_codec::{Copying, Decode as _};
use counterweight_state::module_key;
use counterweight_storage_api::{Result as StorageResult, StateReader, StorageError};
use counterweight_types::Address;

use crate::{
    IDENTITY_MODULE,
    call::{DidRecord, Issuer, Recovery},
    credential::MAX_STATUS_INDEX,
};

/// Entries per stored chunk of a status list (512 bytes).
pub(crate) const STATUS_CHUNK_BITS: u64 = 4096;

pub(crate) fn did_state_key(did: &Address) -> Vec<u8> {
    module_key(IDENTITY_MODULE, &[b"did/", &did.0])
}

pub(crate) fn controller_key(key: &Address) -> Vec<u8> {
    module_key(IDENTITY_MODULE, &[b"ctl/", &key.0])
}

pub(crate) fn recovery_key(did: &Address) -> Vec<u8> {
    module_key(IDENTITY_MODULE, &[b"rec/", &did.0])
}

pub(crate) fn issuer_key(did: &Address) -> Vec<u8> {
    module_key(IDENTITY_MODULE, &[b"iss/", &did.0])
}

pub(crate) fn status_chunk_key(did: &Address, chunk: u64) -> Vec<u8> {
    module_key(IDENTITY_MODULE, &[b"st/", &did.0, &chunk.to_be_bytes()])
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

/// Returns chunk `chunk` of `did`'s status list (all zero if never written).
pub(crate) fn status_chunk(
    state: &dyn StateReader,
    did: &Address,
    chunk: u64,
) -> StorageResult<Vec<u8>> {
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
pub(crate) fn status_position(index: u64) -> (u64, usize, u8) {
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
