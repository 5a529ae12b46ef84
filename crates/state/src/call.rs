//! The seam between a module's typed calls and the payload bytes a transaction carries.

use bytes::Bytes;
use commonware_codec::{Copying, Decode as _, Encode, Error as CodecError, Read};

/// A module's call type: one canonical encoding, decoded once, with one malformed-payload
/// error for every module.
///
/// Implement `Write`, `EncodeSize` and `Read<Cfg = ()>` (with [`counterweight_types::codec`]
/// for strings, bytes and bounded vectors) and name the call; `to_payload`, `from_payload` and
/// `parse` come with the trait.
///
/// # Examples
///
/// ```
/// use bytes::BufMut;
/// use commonware_codec::{Buf, EncodeSize, Error, Read, ReadExt, Write};
/// use counterweight_state::ModuleCall;
///
/// #[derive(Debug, PartialEq)]
/// struct Ping(u8);
/// impl Write for Ping {
///     fn write(&self, buf: &mut impl BufMut) { self.0.write(buf) }
/// }
/// impl EncodeSize for Ping {
///     fn encode_size(&self) -> usize { 1 }
/// }
/// impl Read for Ping {
///     type Cfg = ();
///     fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, Error> { Ok(Self(u8::read(buf)?)) }
/// }
/// impl ModuleCall for Ping {
///     const WHAT: &'static str = "ping call";
/// }
///
/// assert_eq!(Ping::from_payload(&Ping(7).to_payload()).unwrap(), Ping(7));
/// let err = Ping::parse(&[7, 0]).unwrap_err();
/// assert!(err.to_string().starts_with("ping call: "), "{err}");
/// ```
pub trait ModuleCall: Encode + Read<Cfg = ()> + Sized {
    /// What the payload is, for error messages ("bank call").
    const WHAT: &'static str;

    /// Encodes the call as a transaction payload.
    fn to_payload(&self) -> Bytes {
        self.encode()
    }

    /// Decodes a payload, rejecting trailing bytes and out-of-bound lengths.
    ///
    /// # Errors
    /// The codec's reason for non-canonical input.
    fn from_payload(payload: &[u8]) -> Result<Self, CodecError> {
        Self::decode_cfg(Copying(payload), &())
    }

    /// Decodes a payload for execution or `check_payload`: the error names the call type.
    ///
    /// # Errors
    /// [`MalformedCall`] for non-canonical input.
    fn parse(payload: &[u8]) -> Result<Self, MalformedCall> {
        Self::from_payload(payload).map_err(|source| MalformedCall {
            what: Self::WHAT,
            source,
        })
    }
}

/// A payload that does not decode as the module's call. Each module's verdict enum wraps it
/// in its `Malformed` variant, which carries the module's stable code.
#[derive(Debug, thiserror::Error)]
#[error("{what}: {source}")]
pub struct MalformedCall {
    /// The call type ([`ModuleCall::WHAT`]).
    pub what: &'static str,
    /// The codec's reason.
    #[source]
    pub source: CodecError,
}
