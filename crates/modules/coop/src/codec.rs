//! Small encoding helpers shared by the call and record codecs.

use bytes::BufMut;
use commonware_codec::{Buf, EncodeSize, Error as CodecError, Read, Write};

/// Writes a string as a varint length followed by its UTF-8 bytes.
pub(crate) fn write_str(s: &str, buf: &mut impl BufMut) {
    s.len().write(buf);
    buf.put_slice(s.as_bytes());
}

/// Returns the encoded size of a string written by [`write_str`].
pub(crate) fn str_size(s: &str) -> usize {
    s.len().encode_size() + s.len()
}

/// Reads a string written by [`write_str`] of at most `max` bytes.
pub(crate) fn read_str(
    buf: &mut impl Buf,
    max: usize,
    what: &'static str,
) -> Result<String, CodecError> {
    let len = usize::read_cfg(buf, &(..=max).into())?;
    if buf.remaining() < len {
        return Err(CodecError::EndOfBuffer);
    }
    let mut raw = vec![0u8; len];
    buf.copy_to_slice(&mut raw);
    String::from_utf8(raw).map_err(|_| CodecError::Invalid(what, "not utf-8"))
}

/// Reads a byte string (varint length, then bytes) of at most `max` bytes.
pub(crate) fn read_bytes(buf: &mut impl Buf, max: usize) -> Result<Vec<u8>, CodecError> {
    Vec::<u8>::read_cfg(buf, &((..=max).into(), ()))
}

/// Serde helpers for an optional byte string as lowercase hex (`null` when absent).
pub(crate) mod opt_hex {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(bytes) => s.serialize_some(&hex::encode(bytes)),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Vec<u8>>, D::Error> {
        let Some(s) = Option::<String>::deserialize(d)? else {
            return Ok(None);
        };
        let s = s.strip_prefix("0x").unwrap_or(&s);
        hex::decode(s).map(Some).map_err(serde::de::Error::custom)
    }
}
