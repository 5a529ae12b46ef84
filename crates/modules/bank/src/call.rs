//! The bank's transactions and stored records, with their canonical encodings.

use bytes::BufMut;
use commonware_codec::{Buf, EncodeSize, Error as CodecError, FixedSize, Read, ReadExt, Write};
use counterweight_state::ModuleCall;
use counterweight_types::{Address, Hash};
use serde::{Deserialize, Serialize};

/// A bank transaction, carried in `Call.payload` with module id [`crate::BANK_MODULE`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BankCall {
    /// Moves `amount` from the sender to `to`.
    Transfer {
        /// The recipient.
        to: Address,
        /// The amount (at least 1).
        amount: u64,
    },
    /// Locks `amount` of the sender's funds in a new escrow. Its id is derived from the
    /// sender and the transaction hash (see [`crate::escrow_id`]) and reported in an event.
    EscrowOpen {
        /// The amount (at least 1).
        amount: u64,
    },
    /// Pays an escrow out to `to`. Only its depositor may.
    EscrowRelease {
        /// The escrow.
        id: Hash,
        /// The payee.
        to: Address,
    },
    /// Returns an escrow to its depositor. Only its depositor may.
    EscrowRefund {
        /// The escrow.
        id: Hash,
    },
}

impl ModuleCall for BankCall {
    const WHAT: &'static str = "bank call";
}

impl Write for BankCall {
    fn write(&self, buf: &mut impl BufMut) {
        match self {
            Self::Transfer { to, amount } => {
                buf.put_u8(0);
                to.write(buf);
                amount.write(buf);
            }
            Self::EscrowOpen { amount } => {
                buf.put_u8(1);
                amount.write(buf);
            }
            Self::EscrowRelease { id, to } => {
                buf.put_u8(2);
                id.write(buf);
                to.write(buf);
            }
            Self::EscrowRefund { id } => {
                buf.put_u8(3);
                id.write(buf);
            }
        }
    }
}

impl EncodeSize for BankCall {
    fn encode_size(&self) -> usize {
        1 + match self {
            Self::Transfer { .. } => Address::SIZE + u64::SIZE,
            Self::EscrowOpen { .. } => u64::SIZE,
            Self::EscrowRelease { .. } => Hash::SIZE + Address::SIZE,
            Self::EscrowRefund { .. } => Hash::SIZE,
        }
    }
}

impl Read for BankCall {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        match u8::read(buf)? {
            0 => Ok(Self::Transfer {
                to: Address::read(buf)?,
                amount: u64::read(buf)?,
            }),
            1 => Ok(Self::EscrowOpen {
                amount: u64::read(buf)?,
            }),
            2 => Ok(Self::EscrowRelease {
                id: Hash::read(buf)?,
                to: Address::read(buf)?,
            }),
            3 => Ok(Self::EscrowRefund {
                id: Hash::read(buf)?,
            }),
            tag => Err(CodecError::InvalidEnum(tag)),
        }
    }
}

/// Funds locked by a depositor until released to a payee or refunded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escrow {
    /// Who locked the funds (and gets them back on refund).
    pub depositor: Address,
    /// The locked amount.
    pub amount: u64,
}

impl Write for Escrow {
    fn write(&self, buf: &mut impl BufMut) {
        self.depositor.write(buf);
        self.amount.write(buf);
    }
}

impl FixedSize for Escrow {
    const SIZE: usize = Address::SIZE + u64::SIZE;
}

impl Read for Escrow {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        Ok(Self {
            depositor: Address::read(buf)?,
            amount: u64::read(buf)?,
        })
    }
}
