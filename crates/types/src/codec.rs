//! The canonical encoding helpers every module's call and record codec shares.
//!
//! Strings and byte strings are a varint length followed by their bytes; vectors are a varint
//! count followed by their items. Every reader takes an explicit maximum, so a decoder never
//! allocates more than its caller allows, and reports which field broke.
//!
//! # Examples
//!
//! ```
//! use commonware_codec::Copying;
//! use counterweight_types::codec::{read_str, str_size, write_str};
//!
//! let mut buf = Vec::new();
//! write_str("digits", &mut buf);
//! assert_eq!(buf.len(), str_size("digits"));
//! assert_eq!(read_str(&mut Copying(&buf[..]), 16, "name").unwrap(), "digits");
//! assert!(read_str(&mut Copying(&buf[..]), 3, "name").is_err(), "longer than the maximum");
//! ```

use bytes::{BufMut, Bytes};
use commonware_codec::{Buf, EncodeSize, Error as CodecError, RangeCfg, Read, Write};

/// Writes a string as a varint length followed by its UTF-8 bytes.
pub fn write_str(s: &str, buf: &mut impl BufMut) {
    s.len().write(buf);
    buf.put_slice(s.as_bytes());
}

/// Returns the encoded size of a string written by [`write_str`].
pub fn str_size(s: &str) -> usize {
    s.len().encode_size() + s.len()
}

/// Reads a string written by [`write_str`] of at most `max` bytes; `what` names the field in
/// the error.
///
/// # Errors
/// A length above `max`, a short buffer, or bytes that are not UTF-8.
pub fn read_str(buf: &mut impl Buf, max: usize, what: &'static str) -> Result<String, CodecError> {
    let len = usize::read_cfg(buf, &(..=max).into())?;
    if buf.remaining() < len {
        return Err(CodecError::EndOfBuffer);
    }
    let mut raw = vec![0u8; len];
    buf.copy_to_slice(&mut raw);
    String::from_utf8(raw).map_err(|_| CodecError::Invalid(what, "not utf-8"))
}

/// Reads a byte string (varint length, then bytes) of at most `max` bytes.
///
/// # Errors
/// A length above `max` or a short buffer.
pub fn read_byte_vec(buf: &mut impl Buf, max: usize) -> Result<Vec<u8>, CodecError> {
    Vec::<u8>::read_cfg(buf, &((..=max).into(), ()))
}

/// Reads a byte string (varint length, then bytes) of at most `max` bytes, as [`Bytes`].
///
/// # Errors
/// A length above `max` or a short buffer.
pub fn read_bytes(buf: &mut impl Buf, max: usize) -> Result<Bytes, CodecError> {
    Bytes::read_cfg(buf, &(..=max).into())
}

/// The read configuration of a vector of at most `max` items that need none of their own.
pub fn vec_cfg(max: usize) -> (RangeCfg<usize>, ()) {
    ((..=max).into(), ())
}

/// Reads a vector (varint count, then items) of at most `max` items.
///
/// # Errors
/// A count above `max`, a short buffer, or an item's own error.
pub fn read_vec<T: Read<Cfg = ()>>(buf: &mut impl Buf, max: usize) -> Result<Vec<T>, CodecError> {
    Vec::<T>::read_cfg(buf, &vec_cfg(max))
}

/// Serde helpers for an optional byte string as lowercase hex (`null` when absent; an optional
/// `0x` prefix is accepted on input).
pub mod opt_hex {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serializes `Some(bytes)` as a hex string and `None` as `null`.
    ///
    /// # Errors
    /// Only the serializer's own errors.
    pub fn serialize<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(bytes) => s.serialize_some(&hex::encode(bytes)),
            None => s.serialize_none(),
        }
    }

    /// Deserializes an optional hex string.
    ///
    /// # Errors
    /// A string that is not hex.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        let Some(s) = Option::<String>::deserialize(d)? else {
            return Ok(None);
        };
        let s = s.strip_prefix("0x").unwrap_or(&s);
        hex::decode(s).map(Some).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use commonware_codec::Copying;

    #[test]
    fn strings_round_trip_and_respect_their_maximum() {
        let mut buf = Vec::new();
        write_str("héllo", &mut buf);
        assert_eq!(buf.len(), str_size("héllo"));
        assert_eq!(
            read_str(&mut Copying(&buf[..]), 6, "s").expect("fits"),
            "héllo"
        );
        assert!(read_str(&mut Copying(&buf[..]), 5, "s").is_err());
    }

    #[test]
    fn rejects_non_utf8_and_short_input() {
        let bad = [2u8, 0xff, 0xfe];
        assert!(matches!(
            read_str(&mut Copying(&bad[..]), 8, "s"),
            Err(CodecError::Invalid("s", _))
        ));
        let short = [5u8, b'a'];
        assert!(matches!(
            read_str(&mut Copying(&short[..]), 8, "s"),
            Err(CodecError::EndOfBuffer)
        ));
        assert!(read_byte_vec(&mut Copying(&short[..]), 8).is_err());
        assert!(read_bytes(&mut Copying(&short[..]), 8).is_err());
    }

    #[test]
    fn vectors_respect_their_maximum_count() {
        let mut buf = Vec::new();
        vec![1u64, 2, 3].write(&mut buf);
        assert_eq!(
            read_vec::<u64>(&mut Copying(&buf[..]), 3).expect("fits"),
            vec![1, 2, 3]
        );
        assert!(read_vec::<u64>(&mut Copying(&buf[..]), 2).is_err());
    }
}
