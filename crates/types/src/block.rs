//! Blocks: the header every validator signs off on and the ordered transactions.

use bytes::BufMut;
use commonware_codec::{
    Buf, Copying, Decode as _, Encode as _, EncodeSize, Error as CodecError, Read, ReadExt, Write,
};
use serde::{Deserialize, Serialize};

use crate::{
    domain,
    error::{Error, Result},
    primitives::{Address, ChainId, Hash, Height},
    tx::SignedTransaction,
};

/// Hard limit on the encoded size of a block, in bytes (8 MiB).
pub const MAX_BLOCK_BYTES: usize = 8 * 1024 * 1024;

/// Hard limit on the number of transactions in a block.
pub const MAX_BLOCK_TXS: usize = 50_000;

/// A block header. Its hash is the block's digest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// The chain this block belongs to.
    pub chain_id: ChainId,
    /// The block's height; genesis is 0.
    pub height: Height,
    /// The parent block's digest ([`Hash::ZERO`] for genesis).
    pub parent: Hash,
    /// The proposer's timestamp in milliseconds since the Unix epoch; never below the parent's.
    pub timestamp_ms: u64,
    /// The proposing validator, who receives the block's fees.
    pub proposer: Address,
    /// Merkle root of the transaction hashes (see [`tx_root`]).
    pub tx_root: Hash,
    /// Root of the authenticated state after executing this block.
    pub state_root: Hash,
}

impl Header {
    /// Returns the block digest: BLAKE3 of the domain tag and the header's canonical encoding.
    pub fn digest(&self) -> Hash {
        Hash::digest(domain::BLOCK_HASH, &[&self.encode()])
    }
}

impl Write for Header {
    fn write(&self, buf: &mut impl BufMut) {
        self.chain_id.write(buf);
        self.height.write(buf);
        self.parent.write(buf);
        self.timestamp_ms.write(buf);
        self.proposer.write(buf);
        self.tx_root.write(buf);
        self.state_root.write(buf);
    }
}

impl EncodeSize for Header {
    fn encode_size(&self) -> usize {
        self.chain_id.encode_size()
            + self.height.encode_size()
            + self.parent.encode_size()
            + self.timestamp_ms.encode_size()
            + self.proposer.encode_size()
            + self.tx_root.encode_size()
            + self.state_root.encode_size()
    }
}

impl Read for Header {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        Ok(Self {
            chain_id: ChainId::read(buf)?,
            height: Height::read(buf)?,
            parent: Hash::read(buf)?,
            timestamp_ms: u64::read(buf)?,
            proposer: Address::read(buf)?,
            tx_root: Hash::read(buf)?,
            state_root: Hash::read(buf)?,
        })
    }
}

/// A block: a header and its ordered transactions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    /// The header.
    pub header: Header,
    /// The transactions, executed in this order.
    pub txs: Vec<SignedTransaction>,
}

impl Block {
    /// Returns the block digest (the header's; see [`Header::digest`]).
    pub fn digest(&self) -> Hash {
        self.header.digest()
    }

    /// Returns the block's height.
    pub fn height(&self) -> Height {
        self.header.height
    }

    /// Returns the parent's digest.
    pub fn parent(&self) -> Hash {
        self.header.parent
    }

    /// Returns the canonical encoding.
    pub fn to_bytes(&self) -> bytes::Bytes {
        self.encode()
    }

    /// Decodes a block, enforcing [`MAX_BLOCK_BYTES`] and [`MAX_BLOCK_TXS`] and rejecting
    /// trailing bytes.
    ///
    /// # Errors
    /// [`Error::TooLarge`] above the size limit, [`Error::Codec`] for any non-canonical input.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.len() > MAX_BLOCK_BYTES {
            return Err(Error::TooLarge {
                what: "block",
                size: bytes.len(),
                max: MAX_BLOCK_BYTES,
            });
        }
        Self::decode_cfg(Copying(bytes), &()).map_err(|source| Error::Codec {
            what: "block",
            source,
        })
    }
}

impl Write for Block {
    fn write(&self, buf: &mut impl BufMut) {
        self.header.write(buf);
        self.txs.write(buf);
    }
}

impl EncodeSize for Block {
    fn encode_size(&self) -> usize {
        self.header.encode_size() + self.txs.encode_size()
    }
}

impl Read for Block {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        let before = buf.remaining();
        let header = Header::read(buf)?;
        let txs = Vec::<SignedTransaction>::read_cfg(buf, &((..=MAX_BLOCK_TXS).into(), ()))?;
        if before - buf.remaining() > MAX_BLOCK_BYTES {
            return Err(CodecError::Invalid("Block", "above MAX_BLOCK_BYTES"));
        }
        // The digest is the header's: a body that does not match the header's transaction root
        // (e.g. a copy with one signature corrupted or re-encoded) must not decode as the block
        // with that digest, from a peer or from disk.
        if signed_tx_root(&txs) != header.tx_root {
            return Err(CodecError::Invalid(
                "Block",
                "transactions do not match the header's tx_root",
            ));
        }
        Ok(Self { header, txs })
    }
}

/// Returns the transaction root of a block's transactions: the Merkle root ([`tx_root`]) over
/// their witness hashes ([`SignedTransaction::witness_hash`]), so it covers each
/// transaction's full signed encoding, signature included.
pub fn signed_tx_root(txs: &[SignedTransaction]) -> Hash {
    let witnesses: Vec<Hash> = txs.iter().map(SignedTransaction::witness_hash).collect();
    tx_root(&witnesses)
}

/// Returns the Merkle root over hashes, in order (a block's header holds it over the
/// transactions' witness hashes: see [`signed_tx_root`]).
///
/// Leaves are `H(TX_ROOT_LEAF, hash)`, inner nodes `H(TX_ROOT_NODE, left, right)`; an odd
/// node at the end of a level moves up unchanged; an empty list has root `H(TX_ROOT_EMPTY)`.
pub fn tx_root<'a>(tx_hashes: impl IntoIterator<Item = &'a Hash>) -> Hash {
    let mut level: Vec<Hash> = tx_hashes
        .into_iter()
        .map(|h| Hash::digest(domain::TX_ROOT_LEAF, &[&h.0]))
        .collect();
    if level.is_empty() {
        return Hash::digest(domain::TX_ROOT_EMPTY, &[]);
    }
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| match pair {
                [left, right] => Hash::digest(domain::TX_ROOT_NODE, &[&left.0, &right.0]),
                [single] => *single,
                _ => unreachable!("chunks(2) yields one or two items"),
            })
            .collect();
    }
    level[0]
}
