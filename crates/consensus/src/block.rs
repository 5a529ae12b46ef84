//! The block as commonware's engine sees it: the chain's block plus its cached digest.

use crate::ledger::Ledger;
use bytes::BufMut;
use commonware_codec::{Buf, EncodeSize, Error as CodecError, Read, Write};
use commonware_consensus::{Heightable, types::Height};
use commonware_cryptography::{Digestible, blake3};
use std::{fmt, marker::PhantomData};

/// The digest type the engine uses for blocks (the chain's BLAKE3 header hash).
pub type Digest = blake3::Digest;

/// A chain block wrapped for commonware's `Block` traits; the digest is computed once.
pub struct ChainBlock<L: Ledger> {
    inner: L::Block,
    digest: Digest,
    height: u64,
    parent: Digest,
    _ledger: PhantomData<fn() -> L>,
}

impl<L: Ledger> ChainBlock<L> {
    /// Wrap `inner`, computing its digest.
    pub fn new(inner: L::Block) -> Self {
        let digest = blake3::Digest(L::digest(&inner));
        let height = L::height(&inner);
        let parent = blake3::Digest(L::parent(&inner));
        Self {
            inner,
            digest,
            height,
            parent,
            _ledger: PhantomData,
        }
    }

    /// The chain block.
    pub const fn inner(&self) -> &L::Block {
        &self.inner
    }

    /// The block height.
    pub const fn height_u64(&self) -> u64 {
        self.height
    }

    /// The block digest as bytes.
    pub const fn digest_bytes(&self) -> [u8; 32] {
        self.digest.0
    }
}

impl<L: Ledger> Clone for ChainBlock<L> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            digest: self.digest,
            height: self.height,
            parent: self.parent,
            _ledger: PhantomData,
        }
    }
}

impl<L: Ledger> fmt::Debug for ChainBlock<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChainBlock")
            .field("height", &self.height)
            .field("digest", &self.digest)
            .finish_non_exhaustive()
    }
}

impl<L: Ledger> PartialEq for ChainBlock<L> {
    fn eq(&self, other: &Self) -> bool {
        self.digest == other.digest
    }
}

impl<L: Ledger> Eq for ChainBlock<L> {}

impl<L: Ledger> Write for ChainBlock<L> {
    fn write(&self, buf: &mut impl BufMut) {
        self.inner.write(buf);
    }
}

impl<L: Ledger> EncodeSize for ChainBlock<L> {
    fn encode_size(&self) -> usize {
        self.inner.encode_size()
    }
}

impl<L: Ledger> Read for ChainBlock<L> {
    type Cfg = <L::Block as Read>::Cfg;

    fn read_cfg(buf: &mut impl Buf, cfg: &Self::Cfg) -> Result<Self, CodecError> {
        let inner = L::Block::read_cfg(buf, cfg)?;
        Ok(Self::new(inner))
    }
}

impl<L: Ledger> Digestible for ChainBlock<L> {
    type Digest = Digest;

    fn digest(&self) -> Digest {
        self.digest
    }
}

impl<L: Ledger> Heightable for ChainBlock<L> {
    fn height(&self) -> Height {
        Height::new(self.height)
    }
}

impl<L: Ledger> commonware_consensus::Block for ChainBlock<L> {
    fn parent(&self) -> Digest {
        self.parent
    }
}
