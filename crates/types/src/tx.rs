//! Transactions: the unsigned body, the module call it carries, and the signed envelope.

use bytes::{BufMut, Bytes};
use commonware_codec::{
    Buf, Copying, Decode as _, Encode as _, EncodeSize, Error as CodecError, Read, ReadExt, Write,
};
use serde::{Deserialize, Serialize};

use crate::{
    domain,
    error::{Error, Result},
    primitives::{Address, ChainId, Hash, ModuleId, Signature},
};

/// Hard limit on the encoded size of a signed transaction, in bytes (128 KiB).
pub const MAX_TX_BYTES: usize = 128 * 1024;

/// A call into one module: the module decodes `payload` itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Call {
    /// The module that handles the call.
    pub module: ModuleId,
    /// The module-specific encoded call (hex in JSON).
    #[serde(with = "crate::primitives::hex_bytes")]
    pub payload: Bytes,
}

impl Write for Call {
    fn write(&self, buf: &mut impl BufMut) {
        self.module.write(buf);
        self.payload.write(buf);
    }
}

impl EncodeSize for Call {
    fn encode_size(&self) -> usize {
        self.module.encode_size() + self.payload.encode_size()
    }
}

impl Read for Call {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        let module = ModuleId::read(buf)?;
        let payload = Bytes::read_cfg(buf, &(..=MAX_TX_BYTES).into())?;
        Ok(Self { module, payload })
    }
}

/// The signed body of a transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    /// The chain this transaction is valid on.
    pub chain_id: ChainId,
    /// The paying and signing account.
    pub sender: Address,
    /// The sender's next nonce; each account's transactions execute in nonce order.
    pub nonce: u64,
    /// The fee paid to the block's proposer, charged even if the call fails.
    pub fee: u64,
    /// What the transaction does.
    pub call: Call,
}

impl Transaction {
    /// Returns the canonical encoding: the message that is signed and hashed.
    pub fn to_bytes(&self) -> Bytes {
        self.encode()
    }

    /// Returns the transaction hash: BLAKE3 of the domain tag and the canonical encoding.
    pub fn hash(&self) -> Hash {
        Hash::digest(domain::TX_HASH, &[&self.to_bytes()])
    }
}

impl Write for Transaction {
    fn write(&self, buf: &mut impl BufMut) {
        self.chain_id.write(buf);
        self.sender.write(buf);
        self.nonce.write(buf);
        self.fee.write(buf);
        self.call.write(buf);
    }
}

impl EncodeSize for Transaction {
    fn encode_size(&self) -> usize {
        self.chain_id.encode_size()
            + self.sender.encode_size()
            + self.nonce.encode_size()
            + self.fee.encode_size()
            + self.call.encode_size()
    }
}

impl Read for Transaction {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        Ok(Self {
            chain_id: ChainId::read(buf)?,
            sender: Address::read(buf)?,
            nonce: u64::read(buf)?,
            fee: u64::read(buf)?,
            call: Call::read(buf)?,
        })
    }
}

/// A transaction with the sender's ed25519 signature over its canonical encoding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedTransaction {
    /// The signed body.
    pub tx: Transaction,
    /// Signature by `tx.sender` under the [`domain::TX_SIGNATURE`] namespace.
    pub signature: Signature,
}

impl SignedTransaction {
    /// Returns the transaction hash (of the body; see [`Transaction::hash`]).
    pub fn hash(&self) -> Hash {
        self.tx.hash()
    }

    /// Returns the witness hash: BLAKE3 of [`domain::TX_WITNESS`] and the full signed
    /// encoding (body and signature). A block's transaction root is built from these, so the
    /// block digest commits to every byte of every transaction: a copy of a block with one
    /// signature corrupted or re-encoded has another digest.
    pub fn witness_hash(&self) -> Hash {
        Hash::digest(domain::TX_WITNESS, &[&self.encode()])
    }

    /// Returns the canonical encoding of the signed transaction.
    pub fn to_bytes(&self) -> Bytes {
        self.encode()
    }

    /// Decodes a signed transaction, enforcing [`MAX_TX_BYTES`] and rejecting trailing bytes.
    ///
    /// # Errors
    /// [`Error::TooLarge`] above the limit, [`Error::Codec`] for any non-canonical input.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.len() > MAX_TX_BYTES {
            return Err(Error::TooLarge {
                what: "transaction",
                size: bytes.len(),
                max: MAX_TX_BYTES,
            });
        }
        Self::decode_cfg(Copying(bytes), &()).map_err(|source| Error::Codec {
            what: "transaction",
            source,
        })
    }
}

impl Write for SignedTransaction {
    fn write(&self, buf: &mut impl BufMut) {
        self.tx.write(buf);
        self.signature.write(buf);
    }
}

impl EncodeSize for SignedTransaction {
    fn encode_size(&self) -> usize {
        self.tx.encode_size() + self.signature.encode_size()
    }
}

impl Read for SignedTransaction {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        let before = buf.remaining();
        let tx = Transaction::read(buf)?;
        let signature = Signature::read(buf)?;
        if before - buf.remaining() > MAX_TX_BYTES {
            return Err(CodecError::Invalid(
                "SignedTransaction",
                "above MAX_TX_BYTES",
            ));
        }
        Ok(Self { tx, signature })
    }
}
