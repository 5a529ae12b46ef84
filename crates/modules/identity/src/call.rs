//! The identity module's transactions and stored records, with their canonical encodings.

use bytes::BufMut;
use commonware_codec::{Buf, EncodeSize, Error as CodecError, FixedSize, Read, ReadExt, Write};
use counterweight_state::ModuleCall;
use counterweight_types::{
    Address, Signature,
    codec::{read_str, read_vec, str_size, write_str},
};
use serde::{Deserialize, Serialize};

/// Most recovery delegates a DID may name.
pub const MAX_DELEGATES: usize = 16;
/// Most credential types one issuer may register.
pub const MAX_CREDENTIAL_TYPES: usize = 8;
/// Longest credential type name, in bytes (`[A-Za-z0-9_-]`).
pub const MAX_CREDENTIAL_TYPE_LEN: usize = 31;
/// Longest issuer name, in bytes.
pub const MAX_ISSUER_NAME_LEN: usize = 128;
/// Most key rotations one DID may record (its key history is bounded).
pub const MAX_ROTATIONS: usize = 64;

/// An identity transaction, carried in `Call.payload` with module id
/// [`crate::IDENTITY_MODULE`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum IdentityCall {
    /// Registers the sender's DID, `did:key` of the sender's key, with the sender's key as
    /// its current verification key.
    Register,
    /// Replaces the current verification key of the sender's DID with `new_key`. The DID
    /// string stays the same; the old key moves to the DID's key history.
    RotateKey {
        /// The new ed25519 public key (it must not control another DID).
        new_key: Address,
        /// The new key's signature over the rotation ([`crate::rotation_message`]): proof
        /// that whoever rotates holds it.
        proof: Signature,
    },
    /// Names the recovery delegates of the sender's DID: any `threshold` of them can rotate
    /// its key together. Pending approvals are dropped.
    SetRecovery {
        /// The delegates' DIDs (their addresses), 1 to [`MAX_DELEGATES`], distinct.
        delegates: Vec<Address>,
        /// Approvals needed, 1 to `delegates.len()`.
        threshold: u8,
    },
    /// Approves, as a delegate of `did_owner`, rotating its key to `new_key`. At `threshold`
    /// approvals for the same key the key rotates.
    ApproveRecovery {
        /// The DID (its address) to recover.
        did_owner: Address,
        /// The key to rotate to.
        new_key: Address,
        /// The new key's signature over the rotation ([`crate::rotation_message`]).
        proof: Signature,
    },
    /// Registers the sender's DID as a credential issuer for `credential_types`.
    RegisterIssuer {
        /// A display name (at most [`MAX_ISSUER_NAME_LEN`] bytes).
        name: String,
        /// The credential types it issues (1 to [`MAX_CREDENTIAL_TYPES`]).
        credential_types: Vec<String>,
    },
    /// Revokes the credential at `index` of the sender's (issuer's) status list. Revocation is
    /// final, as the Bitstring Status List `revocation` purpose requires.
    Revoke {
        /// The status-list index (below [`crate::MAX_STATUS_INDEX`]).
        index: u64,
    },
}

impl ModuleCall for IdentityCall {
    const WHAT: &'static str = "identity call";
}

/// Writes credential types: a varint count, then each name.
fn write_types(types: &[String], buf: &mut impl BufMut) {
    types.len().write(buf);
    for t in types {
        write_str(t, buf);
    }
}

fn types_size(types: &[String]) -> usize {
    types.len().encode_size() + types.iter().map(|t| str_size(t)).sum::<usize>()
}

/// Reads at most [`MAX_CREDENTIAL_TYPES`] names of at most [`MAX_CREDENTIAL_TYPE_LEN`] bytes.
fn read_types(buf: &mut impl Buf) -> Result<Vec<String>, CodecError> {
    let count = usize::read_cfg(buf, &(..=MAX_CREDENTIAL_TYPES).into())?;
    (0..count)
        .map(|_| read_str(buf, MAX_CREDENTIAL_TYPE_LEN, "credential type"))
        .collect()
}

impl Write for IdentityCall {
    fn write(&self, buf: &mut impl BufMut) {
        match self {
            Self::Register => buf.put_u8(0),
            Self::RotateKey { new_key, proof } => {
                buf.put_u8(1);
                new_key.write(buf);
                proof.write(buf);
            }
            Self::SetRecovery {
                delegates,
                threshold,
            } => {
                buf.put_u8(2);
                delegates.write(buf);
                threshold.write(buf);
            }
            Self::ApproveRecovery {
                did_owner,
                new_key,
                proof,
            } => {
                buf.put_u8(3);
                did_owner.write(buf);
                new_key.write(buf);
                proof.write(buf);
            }
            Self::RegisterIssuer {
                name,
                credential_types,
            } => {
                buf.put_u8(4);
                write_str(name, buf);
                write_types(credential_types, buf);
            }
            Self::Revoke { index } => {
                buf.put_u8(5);
                index.write(buf);
            }
        }
    }
}

impl EncodeSize for IdentityCall {
    fn encode_size(&self) -> usize {
        1 + match self {
            Self::Register => 0,
            Self::RotateKey { .. } => Address::SIZE + Signature::SIZE,
            Self::SetRecovery { delegates, .. } => delegates.encode_size() + u8::SIZE,
            Self::ApproveRecovery { .. } => 2 * Address::SIZE + Signature::SIZE,
            Self::RegisterIssuer {
                name,
                credential_types,
            } => str_size(name) + types_size(credential_types),
            Self::Revoke { .. } => u64::SIZE,
        }
    }
}

impl Read for IdentityCall {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        match u8::read(buf)? {
            0 => Ok(Self::Register),
            1 => Ok(Self::RotateKey {
                new_key: Address::read(buf)?,
                proof: Signature::read(buf)?,
            }),
            2 => Ok(Self::SetRecovery {
                delegates: read_vec::<Address>(buf, MAX_DELEGATES)?,
                threshold: u8::read(buf)?,
            }),
            3 => Ok(Self::ApproveRecovery {
                did_owner: Address::read(buf)?,
                new_key: Address::read(buf)?,
                proof: Signature::read(buf)?,
            }),
            4 => {
                let name = read_str(buf, MAX_ISSUER_NAME_LEN, "issuer name")?;
                Ok(Self::RegisterIssuer {
                    name,
                    credential_types: read_types(buf)?,
                })
            }
            5 => Ok(Self::Revoke {
                index: u64::read(buf)?,
            }),
            tag => Err(CodecError::InvalidEnum(tag)),
        }
    }
}

/// A key that verified for a DID until a rotation replaced it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviousKey {
    /// The replaced key.
    pub key: Address,
    /// The height of the rotation.
    pub replaced_height: u64,
    /// The block time of the rotation.
    pub replaced_ms: u64,
}

impl Write for PreviousKey {
    fn write(&self, buf: &mut impl BufMut) {
        self.key.write(buf);
        self.replaced_height.write(buf);
        self.replaced_ms.write(buf);
    }
}

impl FixedSize for PreviousKey {
    const SIZE: usize = Address::SIZE + 2 * u64::SIZE;
}

impl Read for PreviousKey {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        Ok(Self {
            key: Address::read(buf)?,
            replaced_height: u64::read(buf)?,
            replaced_ms: u64::read(buf)?,
        })
    }
}

/// A DID as stored on chain. The DID's address (its identifier) is the storage key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DidRecord {
    /// The key that currently verifies for (and controls) the DID.
    pub current_key: Address,
    /// The height it was registered at.
    pub registered_height: u64,
    /// The block time it was registered at.
    pub registered_ms: u64,
    /// Replaced keys, oldest first (at most [`MAX_ROTATIONS`]).
    pub previous_keys: Vec<PreviousKey>,
}

impl Write for DidRecord {
    fn write(&self, buf: &mut impl BufMut) {
        self.current_key.write(buf);
        self.registered_height.write(buf);
        self.registered_ms.write(buf);
        self.previous_keys.write(buf);
    }
}

impl EncodeSize for DidRecord {
    fn encode_size(&self) -> usize {
        Address::SIZE + 2 * u64::SIZE + self.previous_keys.encode_size()
    }
}

impl Read for DidRecord {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        Ok(Self {
            current_key: Address::read(buf)?,
            registered_height: u64::read(buf)?,
            registered_ms: u64::read(buf)?,
            previous_keys: read_vec::<PreviousKey>(buf, MAX_ROTATIONS)?,
        })
    }
}

/// A DID's recovery delegates and threshold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recovery {
    /// The delegates' DIDs (addresses).
    pub delegates: Vec<Address>,
    /// Approvals needed.
    pub threshold: u8,
    /// Pending approvals: (delegate, proposed key), one per delegate, in approval order.
    pub approvals: Vec<(Address, Address)>,
}

impl Write for Recovery {
    fn write(&self, buf: &mut impl BufMut) {
        self.delegates.write(buf);
        self.threshold.write(buf);
        self.approvals.len().write(buf);
        for (delegate, key) in &self.approvals {
            delegate.write(buf);
            key.write(buf);
        }
    }
}

impl EncodeSize for Recovery {
    fn encode_size(&self) -> usize {
        self.delegates.encode_size()
            + u8::SIZE
            + self.approvals.len().encode_size()
            + self.approvals.len() * 2 * Address::SIZE
    }
}

impl Read for Recovery {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        let delegates = read_vec::<Address>(buf, MAX_DELEGATES)?;
        let threshold = u8::read(buf)?;
        let count = usize::read_cfg(buf, &(..=MAX_DELEGATES).into())?;
        let mut approvals = Vec::with_capacity(count);
        for _ in 0..count {
            approvals.push((Address::read(buf)?, Address::read(buf)?));
        }
        Ok(Self {
            delegates,
            threshold,
            approvals,
        })
    }
}

/// A registered credential issuer. Its DID's address is the storage key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issuer {
    /// Display name.
    pub name: String,
    /// The credential types it may issue.
    pub credential_types: Vec<String>,
    /// The height it registered at.
    pub registered_height: u64,
    /// How many indices of its status list are revoked.
    pub revoked: u64,
}

impl Write for Issuer {
    fn write(&self, buf: &mut impl BufMut) {
        write_str(&self.name, buf);
        write_types(&self.credential_types, buf);
        self.registered_height.write(buf);
        self.revoked.write(buf);
    }
}

impl EncodeSize for Issuer {
    fn encode_size(&self) -> usize {
        str_size(&self.name) + types_size(&self.credential_types) + 2 * u64::SIZE
    }
}

impl Read for Issuer {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        let name = read_str(buf, MAX_ISSUER_NAME_LEN, "issuer name")?;
        Ok(Self {
            name,
            credential_types: read_types(buf)?,
            registered_height: u64::read(buf)?,
            revoked: u64::read(buf)?,
        })
    }
}
