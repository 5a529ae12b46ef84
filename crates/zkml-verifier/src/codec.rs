//! Canonical, size-limited byte encoding shared by models and proofs.

use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Validate};

use crate::error::{Error, Result};
use crate::field::{Affine, Fr};

/// Append-only encoder.
#[derive(Debug, Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }
    /// The bytes written so far.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
    /// Raw bytes.
    pub fn bytes(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }
    /// A byte.
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    /// A little-endian u16.
    pub fn u16(&mut self, v: u16) {
        self.bytes(&v.to_le_bytes());
    }
    /// A little-endian u32.
    pub fn u32(&mut self, v: u32) {
        self.bytes(&v.to_le_bytes());
    }
    /// A little-endian u64.
    pub fn u64(&mut self, v: u64) {
        self.bytes(&v.to_le_bytes());
    }
    /// A field element (32 bytes, little endian, canonical).
    pub fn fr(&mut self, v: &Fr) {
        let _ = v.serialize_compressed(&mut self.buf);
    }
    /// A group element (64 bytes, uncompressed affine).
    pub fn point(&mut self, p: &Affine) {
        let _ = p.serialize_uncompressed(&mut self.buf);
    }
    /// A group element (32 bytes, compressed).
    pub fn point_compressed(&mut self, p: &Affine) {
        let _ = p.serialize_compressed(&mut self.buf);
    }
}

/// Bounds-checked decoder over a byte slice.
#[derive(Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

/// Encoded size of a field element.
pub(crate) const FR_BYTES: usize = 32;
/// Encoded size of an uncompressed group element.
pub(crate) const POINT_BYTES: usize = 64;
/// Encoded size of a compressed group element.
pub(crate) const POINT_COMPRESSED_BYTES: usize = 32;

impl<'a> Reader<'a> {
    /// Read from `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }
    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }
    /// Fail unless every byte was read.
    pub fn finish(&self) -> Result<()> {
        match self.remaining() {
            0 => Ok(()),
            count => Err(Error::TrailingBytes { count }),
        }
    }
    /// The next `n` raw bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len());
        match end {
            Some(end) => {
                let s = self.buf.get(self.pos..end).ok_or(Error::Truncated {
                    offset: self.pos,
                    needed: n,
                })?;
                self.pos = end;
                Ok(s)
            }
            None => Err(Error::Truncated {
                offset: self.pos,
                needed: n - self.remaining().min(n),
            }),
        }
    }
    /// A fixed-size array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }
    /// A byte.
    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }
    /// A little-endian u16.
    pub fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_le_bytes(self.array()?))
    }
    /// A little-endian u32.
    pub fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    /// A little-endian u64.
    pub fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array()?))
    }
    /// A count prefix (u32) that must not exceed `max`; also bounded by the bytes left, given
    /// each item takes at least `min_item_bytes`.
    pub fn count(
        &mut self,
        what: &'static str,
        max: usize,
        min_item_bytes: usize,
    ) -> Result<usize> {
        let n = self.u32()? as usize;
        let fits = n
            .checked_mul(min_item_bytes)
            .is_some_and(|b| b <= self.remaining());
        if n > max || !fits {
            return Err(Error::TooLarge {
                what,
                got: n as u64,
                max: max as u64,
            });
        }
        Ok(n)
    }
    /// A canonical field element.
    pub fn fr(&mut self) -> Result<Fr> {
        let offset = self.pos;
        let s = self.take(FR_BYTES)?;
        let bad = Error::NonCanonical {
            what: "field element",
            offset,
        };
        Fr::deserialize_with_mode(s, Compress::Yes, Validate::Yes).map_err(|_| bad)
    }
    /// A 4-byte magic tag then a u16 format version, of which only `version` is read; `hint`
    /// tells the user what to do with another version.
    ///
    /// # Errors
    /// [`Error::BadHeader`] for another tag, [`Error::Version`] for another version.
    pub fn header(
        &mut self,
        magic: &[u8; 4],
        what: &'static str,
        version: u16,
        hint: &'static str,
    ) -> Result<()> {
        if self.take(4)? != magic {
            return Err(Error::BadHeader { what });
        }
        let got = self.u16()?;
        if got != version {
            return Err(Error::Version {
                what,
                got,
                supported: version,
                hint,
            });
        }
        Ok(())
    }
    /// A canonical uncompressed group element (on the curve).
    pub fn point(&mut self) -> Result<Affine> {
        self.point_with(POINT_BYTES, Compress::No)
    }
    /// A canonical compressed group element.
    pub fn point_compressed(&mut self) -> Result<Affine> {
        self.point_with(POINT_COMPRESSED_BYTES, Compress::Yes)
    }
    fn point_with(&mut self, n: usize, compress: Compress) -> Result<Affine> {
        let offset = self.pos;
        let s = self.take(n)?;
        let bad = Error::NonCanonical {
            what: "group element",
            offset,
        };
        let p =
            Affine::deserialize_with_mode(s, compress, Validate::Yes).map_err(|_| bad.clone())?;
        let mut again = Vec::with_capacity(n);
        p.serialize_with_mode(&mut again, compress)
            .map_err(|_| bad.clone())?;
        if again != s {
            return Err(bad);
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generators::Generators;

    #[test]
    fn round_trips_and_rejects_bad_bytes() {
        let g = Generators::get().g;
        let mut w = Writer::new();
        w.u32(7);
        w.fr(&Fr::from(5u64));
        w.point(&g);
        w.point_compressed(&g);
        let bytes = w.into_bytes();
        let mut r = Reader::new(&bytes);
        assert_eq!(r.u32().unwrap(), 7);
        assert_eq!(r.fr().unwrap(), Fr::from(5u64));
        assert_eq!(r.point().unwrap(), g);
        assert_eq!(r.point_compressed().unwrap(), g);
        r.finish().unwrap();
        assert!(Reader::new(&[0xff; 32]).fr().is_err());
        assert!(Reader::new(&[0x01; 64]).point().is_err());
        assert!(Reader::new(&[0x01; 3]).u64().is_err());
        let mut r = Reader::new(&[0xff, 0xff, 0xff, 0xff]);
        assert!(r.count("x", 10, 1).is_err());
    }
}
