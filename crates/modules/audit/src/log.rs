//! The audit module: the event recorder writing the MMR into chain state, its entries and
//! their offline-checkable proofs.

use std::collections::BTreeMap;

use bytes::BufMut;
use commonware_codec::{Copying, Decode as _, Encode as _};
use counterweight_state::{
    BlockEnv, BlockState, CallError, EventRecorder, Module, ModuleError, StateAccess, TxContext,
    Verdict as _, module_key,
};
use counterweight_storage_api::{Result as StorageResult, StateReader, StorageError};
use counterweight_types::{Event, Genesis, Hash, ModuleId};
use serde::{Deserialize, Serialize};

use crate::mmr::{self, MmrProof, NodeStore};
use crate::{AUDIT_MODULE, AuditError, VerifyError};

/// Modules whose events are not AI events and stay out of the log.
const UNAUDITED: [ModuleId; 2] = [ModuleId(1), AUDIT_MODULE];

/// Most entries listed for one transaction.
const MAX_ENTRIES_PER_TX: usize = 64;

fn key(parts: &[&[u8]]) -> Vec<u8> {
    module_key(AUDIT_MODULE, parts)
}

fn leaves_key() -> Vec<u8> {
    key(&[b"leaves"])
}

fn node_key(pos: u64) -> Vec<u8> {
    key(&[b"node/", &pos.to_be_bytes()])
}

fn entry_key(index: u64) -> Vec<u8> {
    key(&[b"entry/", &index.to_be_bytes()])
}

fn tx_key(tx: &Hash) -> Vec<u8> {
    key(&[b"tx/", &tx.0])
}

/// The state key under which the root of the log's first `leaves` entries is kept forever
/// (prove it with a state proof to anchor an audit proof in a block header).
pub fn root_key(leaves: u64) -> Vec<u8> {
    key(&[b"root/", &leaves.to_be_bytes()])
}

/// One recorded event: where it happened and what it said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    /// The block height.
    pub height: u64,
    /// The transaction that emitted it.
    pub tx_hash: Hash,
    /// The event.
    pub event: Event,
}

impl AuditEntry {
    /// The canonical bytes hashed into the log's leaf.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut buf =
            Vec::with_capacity(8 + 32 + commonware_codec::EncodeSize::encode_size(&self.event));
        buf.put_u64(self.height);
        buf.put_slice(&self.tx_hash.0);
        buf.put_slice(&self.event.encode());
        buf
    }

    /// Decodes canonical bytes, rejecting trailing bytes.
    ///
    /// # Errors
    /// The codec's reason.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, commonware_codec::Error> {
        let (head, rest) = bytes
            .split_at_checked(8 + 32)
            .ok_or(commonware_codec::Error::EndOfBuffer)?;
        let (height, tx) = head.split_at(8);
        let height = u64::from_be_bytes(
            height
                .try_into()
                .map_err(|_| commonware_codec::Error::EndOfBuffer)?,
        );
        let tx_hash = Hash(
            tx.try_into()
                .map_err(|_| commonware_codec::Error::EndOfBuffer)?,
        );
        // decode_cfg rejects trailing bytes.
        let event = Event::decode_cfg(Copying(rest), &())?;
        Ok(Self {
            height,
            tx_hash,
            event,
        })
    }

    /// The leaf hash committed in the log.
    pub fn leaf(&self) -> Hash {
        mmr::leaf_hash(&self.to_bytes())
    }
}

/// An entry as JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryView {
    /// The entry's index in the log.
    pub index: u64,
    /// The block height.
    pub height: u64,
    /// The emitting transaction (hex).
    pub tx_hash: String,
    /// The emitting module's id.
    pub module: u16,
    /// The event kind.
    pub kind: String,
    /// The event's attributes.
    pub attributes: BTreeMap<String, String>,
    /// The canonical bytes (hex) whose hash is the leaf.
    pub bytes: String,
}

impl EntryView {
    pub(crate) fn new(index: u64, entry: &AuditEntry) -> Self {
        Self {
            index,
            height: entry.height,
            tx_hash: entry.tx_hash.to_hex(),
            module: entry.event.module.0,
            kind: entry.event.kind.clone(),
            attributes: entry.event.attributes.clone(),
            bytes: hex_encode(&entry.to_bytes()),
        }
    }
}

fn hex_encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

/// Everything needed to check an entry offline: the entry, its MMR proof and the root, plus
/// the state key that holds that root on chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditProof {
    /// The entry.
    pub entry: EntryView,
    /// Its inclusion proof.
    pub proof: MmrProof,
    /// The root of the log's first `proof.leaves` entries.
    pub root: Hash,
    /// The state key (hex) holding `root`, for a state proof against a block's state root.
    pub root_key: String,
}

impl AuditProof {
    /// Checks, offline, that the entry is number `proof.leaf_index` of the log whose root over
    /// `proof.leaves` entries is `root`. (Anchor `root` in a block with a state proof of
    /// `root_key`.)
    ///
    /// # Errors
    /// [`VerifyError`] naming the first check that failed.
    pub fn verify(&self) -> Result<AuditEntry, VerifyError> {
        let bytes = hex_decode(&self.entry.bytes).ok_or(VerifyError::MalformedEntry)?;
        let entry = AuditEntry::from_bytes(&bytes).map_err(|_| VerifyError::MalformedEntry)?;
        let checks = [
            (entry.height == self.entry.height, "height"),
            (entry.tx_hash.to_hex() == self.entry.tx_hash, "tx_hash"),
            (entry.event.module.0 == self.entry.module, "module"),
            (entry.event.kind == self.entry.kind, "kind"),
            (
                entry.event.attributes == self.entry.attributes,
                "attributes",
            ),
            (self.entry.index == self.proof.leaf_index, "index"),
        ];
        if let Some((_, what)) = checks.iter().find(|(ok, _)| !ok) {
            return Err(VerifyError::EntryMismatch(what));
        }
        if hex_encode(&root_key(self.proof.leaves)) != self.root_key {
            return Err(VerifyError::RootKeyMismatch);
        }
        self.proof.verify(&entry.leaf(), &self.root)?;
        Ok(entry)
    }
}

fn hex_decode(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

fn read_u64(state: &dyn StateReader, key: &[u8], what: &'static str) -> StorageResult<u64> {
    match state.get(key)? {
        None => Ok(0),
        Some(v) => <[u8; 8]>::try_from(v.as_slice())
            .map(u64::from_be_bytes)
            .map_err(|_| StorageError::Corrupt { what }),
    }
}

fn read_hash(
    state: &dyn StateReader,
    key: &[u8],
    what: &'static str,
) -> StorageResult<Option<Hash>> {
    match state.get(key)? {
        None => Ok(None),
        Some(v) => <[u8; 32]>::try_from(v.as_slice())
            .map(|b| Some(Hash(b)))
            .map_err(|_| StorageError::Corrupt { what }),
    }
}

fn missing(_: u64) -> StorageError {
    StorageError::Corrupt {
        what: "audit mmr node",
    }
}

struct Reader<'a>(&'a dyn StateReader);

impl NodeStore for Reader<'_> {
    type Error = StorageError;
    fn node(&self, pos: u64) -> StorageResult<Option<Hash>> {
        read_hash(self.0, &node_key(pos), "audit mmr node")
    }
    fn set_node(&mut self, _: u64, _: Hash) {
        unreachable!("a reader never appends")
    }
}

struct Writer<'a, 'b>(&'a mut BlockState<'b>);

impl NodeStore for Writer<'_, '_> {
    type Error = StorageError;
    fn node(&self, pos: u64) -> StorageResult<Option<Hash>> {
        read_hash(&*self.0, &node_key(pos), "audit mmr node")
    }
    fn set_node(&mut self, pos: u64, hash: Hash) {
        self.0.set(node_key(pos), hash.0.to_vec());
    }
}

/// Number of entries in the log.
///
/// # Errors
/// Fatal storage errors.
pub fn leaves(state: &dyn StateReader) -> StorageResult<u64> {
    read_u64(state, &leaves_key(), "audit leaf count")
}

/// The root of the whole log (of an empty log for no entries).
///
/// # Errors
/// Fatal storage errors.
pub fn current_root(state: &dyn StateReader) -> StorageResult<Hash> {
    mmr::root(&Reader(state), mmr::size_for(leaves(state)?), missing)
}

/// The entry with this index.
///
/// # Errors
/// Fatal storage errors or a corrupt entry.
pub fn entry(state: &dyn StateReader, index: u64) -> StorageResult<Option<AuditEntry>> {
    match state.get(&entry_key(index))? {
        None => Ok(None),
        Some(bytes) => {
            AuditEntry::from_bytes(&bytes)
                .map(Some)
                .map_err(|_| StorageError::Corrupt {
                    what: "audit entry",
                })
        }
    }
}

/// Indices of the entries a transaction wrote.
///
/// # Errors
/// Fatal storage errors.
pub fn entries_of_tx(state: &dyn StateReader, tx: &Hash) -> StorageResult<Vec<u64>> {
    Ok(state
        .get(&tx_key(tx))?
        .unwrap_or_default()
        .chunks_exact(8)
        .filter_map(|c| <[u8; 8]>::try_from(c).ok().map(u64::from_be_bytes))
        .collect())
}

/// The offline-checkable proof of entry `index` against the current log.
///
/// # Errors
/// Fatal storage errors; `Ok(None)` when there is no such entry.
pub fn prove(state: &dyn StateReader, index: u64) -> StorageResult<Option<AuditProof>> {
    let n = leaves(state)?;
    let Some(e) = (index < n)
        .then(|| entry(state, index))
        .transpose()?
        .flatten()
    else {
        return Ok(None);
    };
    let proof = mmr::prove(&Reader(state), n, index, missing)?;
    let root = read_hash(state, &root_key(n), "audit root")?
        .ok_or(StorageError::Corrupt { what: "audit root" })?;
    Ok(Some(AuditProof {
        entry: EntryView::new(index, &e),
        proof,
        root,
        root_key: hex_encode(&root_key(n)),
    }))
}

/// The audit module: records events into the MMR (as the runtime's [`EventRecorder`]) and
/// answers queries. It takes no transactions.
#[derive(Clone, Copy, Debug, Default)]
pub struct Audit;

impl EventRecorder for Audit {
    fn record(
        &self,
        state: &mut BlockState<'_>,
        env: &BlockEnv,
        tx_hash: &Hash,
        events: &[Event],
    ) -> StorageResult<()> {
        let audited: Vec<&Event> = events
            .iter()
            .filter(|e| !UNAUDITED.contains(&e.module))
            .collect();
        if audited.is_empty() {
            return Ok(());
        }
        let mut n = leaves(state)?;
        let mut size = mmr::size_for(n);
        let mut indices = state.get(&tx_key(tx_hash))?.unwrap_or_default();
        for event in audited {
            let entry = AuditEntry {
                height: env.height.0,
                tx_hash: *tx_hash,
                event: event.clone(),
            };
            let bytes = entry.to_bytes();
            size = mmr::append(&mut Writer(state), size, mmr::leaf_hash(&bytes), missing)?;
            state.set(entry_key(n), bytes);
            if indices.len() < MAX_ENTRIES_PER_TX * 8 {
                indices.extend_from_slice(&n.to_be_bytes());
            }
            n += 1;
        }
        let root = mmr::root(&Writer(state), size, missing)?;
        state.set(root_key(n), root.0.to_vec());
        state.set(leaves_key(), n.to_be_bytes().to_vec());
        state.set(tx_key(tx_hash), indices);
        Ok(())
    }
}

impl Module for Audit {
    fn id(&self) -> ModuleId {
        AUDIT_MODULE
    }

    fn name(&self) -> &'static str {
        "audit"
    }

    fn check_payload(&self, _: &[u8]) -> Result<(), ModuleError> {
        Err(AuditError::NoCalls.to_module_error())
    }

    fn init_genesis(&self, _: &mut dyn StateAccess, _: &Genesis) -> Result<(), CallError> {
        Ok(())
    }

    fn execute(&self, _: &mut TxContext<'_>, _: &[u8]) -> Result<(), CallError> {
        Err(AuditError::NotExecutable.into())
    }

    fn query(
        &self,
        state: &dyn StateReader,
        path: &str,
        data: &[u8],
    ) -> Result<Vec<u8>, CallError> {
        crate::query::answer_query(state, path, data)
    }
}

/// Decodes an [`AuditProof`] from JSON bytes.
///
/// # Errors
/// The JSON error.
pub fn proof_from_json(bytes: &[u8]) -> Result<AuditProof, serde_json::Error> {
    serde_json::from_slice(bytes)
}
