//! Receipts and events: what executing a transaction did.

use std::collections::BTreeMap;

use bytes::BufMut;
use commonware_codec::{
    Buf, Copying, Decode as _, EncodeSize, Error as CodecError, Read, ReadExt, Write,
};
use serde::{Deserialize, Serialize};

use crate::{
    codec::{read_str, str_size, write_str},
    error::{Error, Result},
    primitives::{Hash, Height, ModuleId},
};

/// Maximum events per receipt.
pub const MAX_EVENTS: usize = 64;
/// Maximum attributes per event.
pub const MAX_EVENT_ATTRIBUTES: usize = 32;
/// Maximum length of an event kind, attribute key or failure message, in bytes.
pub const MAX_SHORT_STRING: usize = 256;
/// Maximum length of an attribute value, in bytes.
pub const MAX_ATTRIBUTE_VALUE: usize = 4096;

/// Something a module reports having done, for clients and the audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The emitting module.
    pub module: ModuleId,
    /// Event kind, e.g. `"transfer"`.
    pub kind: String,
    /// Named values, in key order.
    pub attributes: BTreeMap<String, String>,
}

impl Write for Event {
    fn write(&self, buf: &mut impl BufMut) {
        self.module.write(buf);
        write_str(&self.kind, buf);
        self.attributes.len().write(buf);
        for (k, v) in &self.attributes {
            write_str(k, buf);
            write_str(v, buf);
        }
    }
}

impl EncodeSize for Event {
    fn encode_size(&self) -> usize {
        self.module.encode_size()
            + str_size(&self.kind)
            + self.attributes.len().encode_size()
            + self
                .attributes
                .iter()
                .map(|(k, v)| str_size(k) + str_size(v))
                .sum::<usize>()
    }
}

impl Read for Event {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        let module = ModuleId::read(buf)?;
        let kind = read_str(buf, MAX_SHORT_STRING, "Event.kind")?;
        let n = usize::read_cfg(buf, &(..=MAX_EVENT_ATTRIBUTES).into())?;
        let mut attributes = BTreeMap::new();
        let mut last: Option<String> = None;
        for _ in 0..n {
            let k = read_str(buf, MAX_SHORT_STRING, "Event.key")?;
            let v = read_str(buf, MAX_ATTRIBUTE_VALUE, "Event.value")?;
            if last.as_ref().is_some_and(|prev| *prev >= k) {
                return Err(CodecError::Invalid(
                    "Event",
                    "attribute keys not strictly ascending",
                ));
            }
            last = Some(k.clone());
            attributes.insert(k, v);
        }
        Ok(Self {
            module,
            kind,
            attributes,
        })
    }
}

/// Whether a transaction's call succeeded. Either way its fee was charged and nonce used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ReceiptStatus {
    /// The call succeeded and its state changes were applied.
    Ok,
    /// The call failed; its state changes were discarded.
    Failed {
        /// Module-defined failure code.
        code: u32,
        /// Human-readable reason.
        message: String,
    },
}

impl Write for ReceiptStatus {
    fn write(&self, buf: &mut impl BufMut) {
        match self {
            Self::Ok => buf.put_u8(0),
            Self::Failed { code, message } => {
                buf.put_u8(1);
                code.write(buf);
                write_str(message, buf);
            }
        }
    }
}

impl EncodeSize for ReceiptStatus {
    fn encode_size(&self) -> usize {
        match self {
            Self::Ok => 1,
            Self::Failed { code, message } => 1 + code.encode_size() + str_size(message),
        }
    }
}

impl Read for ReceiptStatus {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        match u8::read(buf)? {
            0 => Ok(Self::Ok),
            1 => Ok(Self::Failed {
                code: u32::read(buf)?,
                message: read_str(buf, MAX_SHORT_STRING, "ReceiptStatus.message")?,
            }),
            tag => Err(CodecError::InvalidEnum(tag)),
        }
    }
}

/// The outcome of one included transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxReceipt {
    /// The transaction's hash.
    pub tx_hash: Hash,
    /// The height of the block that included it.
    pub height: Height,
    /// Its position in that block.
    pub index: u32,
    /// Success or failure of the call.
    pub status: ReceiptStatus,
    /// Events emitted by a successful call (empty on failure).
    pub events: Vec<Event>,
}

impl TxReceipt {
    /// Decodes a receipt, rejecting trailing bytes.
    ///
    /// # Errors
    /// [`Error::Codec`] for any non-canonical input.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Self::decode_cfg(Copying(bytes), &()).map_err(|source| Error::Codec {
            what: "receipt",
            source,
        })
    }
}

impl Write for TxReceipt {
    fn write(&self, buf: &mut impl BufMut) {
        self.tx_hash.write(buf);
        self.height.write(buf);
        self.index.write(buf);
        self.status.write(buf);
        self.events.write(buf);
    }
}

impl EncodeSize for TxReceipt {
    fn encode_size(&self) -> usize {
        self.tx_hash.encode_size()
            + self.height.encode_size()
            + self.index.encode_size()
            + self.status.encode_size()
            + self.events.encode_size()
    }
}

impl Read for TxReceipt {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        Ok(Self {
            tx_hash: Hash::read(buf)?,
            height: Height::read(buf)?,
            index: u32::read(buf)?,
            status: ReceiptStatus::read(buf)?,
            events: Vec::<Event>::read_cfg(buf, &((..=MAX_EVENTS).into(), ()))?,
        })
    }
}
