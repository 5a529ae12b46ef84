//! Fixed-size identifiers and small newtypes: hashes, addresses, signatures, heights.

use std::{fmt, str::FromStr};

use bytes::{Buf as _, BufMut};
use commonware_codec::{Buf, EncodeSize, Error as CodecError, FixedSize, Read, ReadExt, Write};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// Defines a fixed-size byte newtype with hex display, hex serde and a fixed-size encoding.
macro_rules! fixed_bytes {
    ($(#[$meta:meta])* $name:ident, $len:expr, $what:literal) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub [u8; $len]);

        impl $name {
            /// Length in bytes.
            pub const LEN: usize = $len;

            /// Returns the raw bytes.
            pub const fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }

            /// Parses a value from a byte slice of exactly [`Self::LEN`] bytes.
            ///
            /// # Errors
            /// Returns [`Error::Hex`] if the slice has the wrong length.
            pub fn from_slice(bytes: &[u8]) -> Result<Self> {
                <[u8; $len]>::try_from(bytes).map(Self).map_err(|_| Error::Hex {
                    what: $what,
                    reason: format!("expected {} bytes, got {}", $len, bytes.len()),
                })
            }

            /// Returns the lowercase hex form.
            pub fn to_hex(&self) -> String {
                hex::encode(self.0)
            }
        }

        impl AsRef<[u8]> for $name {
            fn as_ref(&self) -> &[u8] {
                &self.0
            }
        }

        impl From<[u8; $len]> for $name {
            fn from(bytes: [u8; $len]) -> Self {
                Self(bytes)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&hex::encode(self.0))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), hex::encode(self.0))
            }
        }

        impl FromStr for $name {
            type Err = Error;

            fn from_str(s: &str) -> Result<Self> {
                let s = s.strip_prefix("0x").unwrap_or(s);
                let mut out = [0u8; $len];
                hex::decode_to_slice(s, &mut out).map_err(|e| Error::Hex {
                    what: $what,
                    reason: e.to_string(),
                })?;
                Ok(Self(out))
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.to_hex())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
                let s = String::deserialize(deserializer)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }

        impl Write for $name {
            fn write(&self, buf: &mut impl BufMut) {
                buf.put_slice(&self.0);
            }
        }

        impl FixedSize for $name {
            const SIZE: usize = $len;
        }

        impl Read for $name {
            type Cfg = ();

            fn read_cfg(buf: &mut impl Buf, _: &()) -> std::result::Result<Self, CodecError> {
                if buf.remaining() < $len {
                    return Err(CodecError::EndOfBuffer);
                }
                let mut out = [0u8; $len];
                buf.copy_to_slice(&mut out);
                Ok(Self(out))
            }
        }
    };
}

fixed_bytes!(
    /// A 32-byte BLAKE3 digest (transaction hash, block digest, Merkle root).
    Hash,
    32,
    "hash"
);

fixed_bytes!(
    /// An account address: the account's 32-byte ed25519 public key.
    Address,
    32,
    "address"
);

fixed_bytes!(
    /// A 64-byte ed25519 signature.
    Signature,
    64,
    "signature"
);

impl Hash {
    /// The all-zero hash (the genesis block's parent).
    pub const ZERO: Self = Self([0u8; 32]);

    /// Hashes `parts`, in order, with BLAKE3 after the domain tag `domain`.
    pub fn digest(domain: &[u8], parts: &[&[u8]]) -> Self {
        let mut hasher = blake3::Hasher::new();
        hasher.update(&(domain.len() as u64).to_be_bytes());
        hasher.update(domain);
        for part in parts {
            hasher.update(part);
        }
        Self(*hasher.finalize().as_bytes())
    }
}

impl Address {
    /// The all-zero address (the genesis block's proposer; it has no key).
    pub const ZERO: Self = Self([0u8; 32]);
}

/// A block height. Genesis is height 0.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Height(pub u64);

impl Height {
    /// The genesis height.
    pub const GENESIS: Self = Self(0);

    /// Returns the next height, or `None` on overflow.
    pub fn next(self) -> Option<Self> {
        self.0.checked_add(1).map(Self)
    }
}

impl fmt::Display for Height {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Write for Height {
    fn write(&self, buf: &mut impl BufMut) {
        self.0.write(buf);
    }
}

impl FixedSize for Height {
    const SIZE: usize = u64::SIZE;
}

impl Read for Height {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> std::result::Result<Self, CodecError> {
        u64::read(buf).map(Self)
    }
}

/// Identifies the module a call is dispatched to.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct ModuleId(pub u16);

impl fmt::Display for ModuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Write for ModuleId {
    fn write(&self, buf: &mut impl BufMut) {
        self.0.write(buf);
    }
}

impl FixedSize for ModuleId {
    const SIZE: usize = u16::SIZE;
}

impl Read for ModuleId {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> std::result::Result<Self, CodecError> {
        u16::read(buf).map(Self)
    }
}

/// The chain's identifier: 1 to 32 characters from `[A-Za-z0-9._-]`.
///
/// Every transaction and header carries it, so a signature for one chain is void on another.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct ChainId(String);

impl ChainId {
    /// Maximum length in bytes.
    pub const MAX_LEN: usize = 32;

    /// Validates and wraps a chain id.
    ///
    /// # Errors
    /// Returns [`Error::ChainId`] if it is empty, longer than [`Self::MAX_LEN`] or has other
    /// characters.
    pub fn new(id: impl Into<String>) -> Result<Self> {
        let id = id.into();
        let valid = !id.is_empty()
            && id.len() <= Self::MAX_LEN
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if valid {
            Ok(Self(id))
        } else {
            Err(Error::ChainId(id))
        }
    }

    /// Returns the id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ChainId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ChainId {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::new(s)
    }
}

impl<'de> Deserialize<'de> for ChainId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::new(s).map_err(serde::de::Error::custom)
    }
}

impl Write for ChainId {
    fn write(&self, buf: &mut impl BufMut) {
        // The length fits in a byte: `new` caps it at 32.
        buf.put_u8(self.0.len() as u8);
        buf.put_slice(self.0.as_bytes());
    }
}

impl EncodeSize for ChainId {
    fn encode_size(&self) -> usize {
        1 + self.0.len()
    }
}

impl Read for ChainId {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> std::result::Result<Self, CodecError> {
        let len = usize::from(u8::read(buf)?);
        if len == 0 || len > Self::MAX_LEN {
            return Err(CodecError::InvalidLength(len));
        }
        if buf.remaining() < len {
            return Err(CodecError::EndOfBuffer);
        }
        let mut raw = vec![0u8; len];
        buf.copy_to_slice(&mut raw);
        let s = String::from_utf8(raw).map_err(|_| CodecError::Invalid("ChainId", "not utf-8"))?;
        Self::new(s).map_err(|_| CodecError::Invalid("ChainId", "invalid characters"))
    }
}

/// Serde helpers for byte strings as lowercase hex.
pub mod hex_bytes {
    use bytes::Bytes;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serializes bytes as a hex string.
    ///
    /// # Errors
    /// Only the serializer's own errors.
    pub fn serialize<S: Serializer>(bytes: &Bytes, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    /// Deserializes bytes from a hex string (an optional `0x` prefix is accepted).
    ///
    /// # Errors
    /// If the string is not hex.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Bytes, D::Error> {
        let s = String::deserialize(d)?;
        let s = s.strip_prefix("0x").unwrap_or(&s);
        hex::decode(s)
            .map(Bytes::from)
            .map_err(serde::de::Error::custom)
    }
}
