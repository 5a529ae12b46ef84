//! The redb-backed store: blocks, receipts and the Jellyfish Merkle state tree.

use std::{path::Path, sync::Arc};

use counterweight_storage_api::{BlockReader, Result, StateChanges, StateReader, StorageError};
use counterweight_types::{Block, Encode as _, Hash, Height, TxReceipt};
use jmt::{
    JellyfishMerkleTree, KeyHash, OwnedValue, Version,
    storage::{LeafNode, Node, NodeBatch, NodeKey, TreeReader},
};
use redb::{
    Database, ReadOnlyTable, ReadableDatabase as _, ReadableTable as _, TableDefinition,
    backends::InMemoryBackend,
};

use counterweight_storage_api::{Blake3Hasher, StateProof, key_hash};

const NODES: TableDefinition<'_, &[u8], &[u8]> = TableDefinition::new("jmt_nodes");
const VALUES: TableDefinition<'_, &[u8], &[u8]> = TableDefinition::new("jmt_values");
const STATE: TableDefinition<'_, &[u8], &[u8]> = TableDefinition::new("state");
const BLOCKS: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("blocks");
const BLOCK_INDEX: TableDefinition<'_, &[u8], u64> = TableDefinition::new("block_index");
const RECEIPTS: TableDefinition<'_, &[u8], &[u8]> = TableDefinition::new("receipts");
const META: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("meta");

const META_HEIGHT: &str = "committed_height";

type Tree<'a, R> = JellyfishMerkleTree<'a, R, Blake3Hasher>;

fn backend(e: impl Into<redb::Error>) -> StorageError {
    StorageError::Backend(Box::new(e.into()))
}

fn tree_error(e: anyhow::Error) -> StorageError {
    StorageError::Backend(e.into())
}

fn corrupt(what: &'static str) -> StorageError {
    StorageError::Corrupt { what }
}

/// The state-tree changes of one executed but not yet committed block.
///
/// Produced by [`Store::speculate`]; pass it back as an ancestor when speculating on a child,
/// and to [`Store::commit`] once the block is finalized.
#[derive(Clone, Debug)]
pub struct TreeDelta {
    version: Version,
    root: Hash,
    batch: NodeBatch,
}

impl TreeDelta {
    /// Returns the state root after this block.
    pub fn root(&self) -> Hash {
        self.root
    }

    /// Returns the height this delta applies at.
    pub fn height(&self) -> Height {
        Height(self.version)
    }
}

/// Everything one finalized block writes, committed atomically by [`Store::commit`].
#[derive(Debug)]
pub struct BlockCommit<'a> {
    /// The finalized block.
    pub block: &'a Block,
    /// Its receipts, in transaction order.
    pub receipts: &'a [TxReceipt],
    /// Its key-value state changes.
    pub changes: &'a StateChanges,
    /// Its state-tree delta (from [`Store::speculate`] at the block's height).
    pub delta: &'a TreeDelta,
}

/// Blocks, receipts and authenticated state in one redb database (on disk or in memory).
///
/// Each [`Store::commit`] is a single redb write transaction with immediate durability, so a
/// crash leaves the store at the previous block or the new one, never in between.
#[derive(Clone)]
pub struct Store {
    db: Arc<Database>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating if needed) the database file at `path`.
    ///
    /// # Errors
    /// Fatal [`StorageError`] if the file cannot be opened or is not a valid database.
    pub fn open(path: &Path) -> Result<Self> {
        let db = Database::create(path).map_err(backend)?;
        Self::init(db)
    }

    /// Creates an empty in-memory store (same code path as disk, nothing persisted).
    ///
    /// # Errors
    /// Fatal [`StorageError`] only if the backend fails to initialise.
    pub fn in_memory() -> Result<Self> {
        let db = Database::builder()
            .create_with_backend(InMemoryBackend::new())
            .map_err(backend)?;
        Self::init(db)
    }

    fn init(db: Database) -> Result<Self> {
        let txn = db.begin_write().map_err(backend)?;
        {
            txn.open_table(NODES).map_err(backend)?;
            txn.open_table(VALUES).map_err(backend)?;
            txn.open_table(STATE).map_err(backend)?;
            txn.open_table(BLOCKS).map_err(backend)?;
            txn.open_table(BLOCK_INDEX).map_err(backend)?;
            txn.open_table(RECEIPTS).map_err(backend)?;
            txn.open_table(META).map_err(backend)?;
        }
        txn.commit().map_err(backend)?;
        Ok(Self { db: Arc::new(db) })
    }

    /// Computes the state root after applying `changes` at `height`, on top of the committed
    /// state plus the not-yet-committed `ancestors` (oldest first, contiguous heights ending at
    /// `height - 1`; ancestors committed meanwhile are skipped). Writes nothing.
    ///
    /// # Errors
    /// [`StorageError::Invariant`] if the heights do not line up; otherwise only fatal errors.
    pub fn speculate(
        &self,
        ancestors: &[&TreeDelta],
        changes: &StateChanges,
        height: Height,
    ) -> Result<TreeDelta> {
        let next = self.committed_height()?.map_or(0, |h| h.0 + 1);
        // An ancestor may have been committed since the caller collected it (finalization
        // runs concurrently with verification); its nodes are on disk now, identical.
        let ancestors: Vec<&TreeDelta> = ancestors
            .iter()
            .copied()
            .filter(|d| d.version >= next)
            .collect();
        let mut expected = next;
        for delta in &ancestors {
            if delta.version != expected {
                return Err(StorageError::Invariant(format!(
                    "ancestor delta at height {} where {expected} was expected",
                    delta.version
                )));
            }
            expected += 1;
        }
        if height.0 != expected {
            return Err(StorageError::Invariant(format!(
                "speculating at height {height} where {expected} was expected"
            )));
        }
        let reader = self.tree_reader(&ancestors)?;
        let tree = Tree::new(&reader);
        // jmt's batch insertion hashes every new node once instead of once per key, but it
        // cannot delete; change sets with deletions take the key-by-key path. Both give the
        // same tree (checked by a test below).
        let (root, batch) = if changes.is_empty() || changes.values().any(Option::is_none) {
            let value_set = changes
                .iter()
                .map(|(k, v)| (key_hash(k), v.clone()))
                .collect::<Vec<(KeyHash, Option<OwnedValue>)>>();
            tree.put_value_set(value_set, height.0)
                .map_err(tree_error)?
        } else {
            let value_set = changes
                .iter()
                .filter_map(|(k, v)| v.as_ref().map(|v| (key_hash(k), v.clone())))
                .collect::<Vec<(KeyHash, OwnedValue)>>();
            let (mut roots, batch) = tree
                .batch_put_value_sets(vec![value_set], None, height.0)
                .map_err(tree_error)?;
            let root = roots
                .pop()
                .ok_or_else(|| StorageError::Invariant("state tree returned no root".to_owned()))?;
            (root, batch)
        };
        Ok(TreeDelta {
            version: height.0,
            root: Hash(root.0),
            batch: batch.node_batch,
        })
    }

    /// Durably commits one finalized block with its receipts and state changes.
    ///
    /// The block must be at the next height (genesis, 0, on an empty store) and its header's
    /// `state_root` must equal the delta's root.
    ///
    /// # Errors
    /// [`StorageError::Invariant`] on a height gap or root mismatch (nothing is written);
    /// otherwise fatal errors.
    pub fn commit(&self, commit: BlockCommit<'_>) -> Result<()> {
        let BlockCommit {
            block,
            receipts,
            changes,
            delta,
        } = commit;
        let height = block.header.height;
        if delta.version != height.0 || delta.root != block.header.state_root {
            return Err(StorageError::Invariant(format!(
                "state delta (height {}, root {}) does not match block {height} (root {})",
                delta.version, delta.root, block.header.state_root
            )));
        }
        let txn = self.db.begin_write().map_err(backend)?;
        {
            let mut meta = txn.open_table(META).map_err(backend)?;
            let current = match meta.get(META_HEIGHT).map_err(backend)? {
                Some(v) => Some(decode_u64(v.value())?),
                None => None,
            };
            let expected = current.map_or(0, |h| h + 1);
            if height.0 != expected {
                return Err(StorageError::Invariant(format!(
                    "committing height {height} where {expected} was expected"
                )));
            }
            meta.insert(META_HEIGHT, &height.0.to_be_bytes()[..])
                .map_err(backend)?;

            let mut nodes = txn.open_table(NODES).map_err(backend)?;
            for (key, node) in delta.batch.nodes() {
                let k = borsh::to_vec(key).map_err(|e| StorageError::Backend(Box::new(e)))?;
                let v = borsh::to_vec(node).map_err(|e| StorageError::Backend(Box::new(e)))?;
                nodes.insert(k.as_slice(), v.as_slice()).map_err(backend)?;
            }
            let mut values = txn.open_table(VALUES).map_err(backend)?;
            for ((version, kh), value) in delta.batch.values() {
                let k = value_key(kh, *version);
                let v = encode_opt(value.as_deref());
                values.insert(&k[..], v.as_slice()).map_err(backend)?;
            }
            let mut state = txn.open_table(STATE).map_err(backend)?;
            for (key, value) in changes {
                match value {
                    Some(v) => {
                        state
                            .insert(key.as_slice(), v.as_slice())
                            .map_err(backend)?;
                    }
                    None => {
                        state.remove(key.as_slice()).map_err(backend)?;
                    }
                }
            }
            let digest = block.digest();
            let mut blocks = txn.open_table(BLOCKS).map_err(backend)?;
            blocks
                .insert(height.0, &block.encode()[..])
                .map_err(backend)?;
            let mut index = txn.open_table(BLOCK_INDEX).map_err(backend)?;
            index.insert(&digest.0[..], height.0).map_err(backend)?;
            let mut rtable = txn.open_table(RECEIPTS).map_err(backend)?;
            for receipt in receipts {
                rtable
                    .insert(&receipt.tx_hash.0[..], &receipt.encode()[..])
                    .map_err(backend)?;
            }
        }
        txn.commit().map_err(backend)?;
        tracing::debug!(target: "storage::commit", height = height.0, "committed block");
        Ok(())
    }

    /// Returns the state under `key` at the committed height with a proof against that
    /// height's state root, or `None` for an empty store.
    ///
    /// # Errors
    /// Only fatal [`StorageError`]s.
    pub fn prove(&self, key: &[u8]) -> Result<Option<StateProof>> {
        let Some(height) = self.committed_height()? else {
            return Ok(None);
        };
        let Some(block) = self.block(height)? else {
            return Err(corrupt("block at committed height"));
        };
        let reader = self.tree_reader(&[])?;
        let tree = Tree::new(&reader);
        let (value, proof) = tree
            .get_with_proof(key_hash(key), height.0)
            .map_err(tree_error)?;
        let proof = borsh::to_vec(&proof).map_err(|e| StorageError::Backend(Box::new(e)))?;
        Ok(Some(StateProof {
            key: key.to_vec(),
            value,
            root: block.header.state_root,
            height,
            proof,
        }))
    }

    fn tree_reader<'a>(&self, ancestors: &'a [&'a TreeDelta]) -> Result<OverlayReader<'a>> {
        let txn = self.db.begin_read().map_err(backend)?;
        Ok(OverlayReader {
            ancestors,
            nodes: txn.open_table(NODES).map_err(backend)?,
            values: txn.open_table(VALUES).map_err(backend)?,
        })
    }
}

fn decode_u64(bytes: &[u8]) -> Result<u64> {
    <[u8; 8]>::try_from(bytes)
        .map(u64::from_be_bytes)
        .map_err(|_| corrupt("height"))
}

fn value_key(kh: &KeyHash, version: Version) -> [u8; 40] {
    let mut k = [0u8; 40];
    k[..32].copy_from_slice(&kh.0);
    k[32..].copy_from_slice(&version.to_be_bytes());
    k
}

fn encode_opt(value: Option<&[u8]>) -> Vec<u8> {
    match value {
        None => vec![0],
        Some(v) => {
            let mut out = Vec::with_capacity(v.len() + 1);
            out.push(1);
            out.extend_from_slice(v);
            out
        }
    }
}

fn decode_opt(bytes: &[u8]) -> Result<Option<Vec<u8>>> {
    match bytes.split_first() {
        Some((0, [])) => Ok(None),
        Some((1, rest)) => Ok(Some(rest.to_vec())),
        _ => Err(corrupt("tree value")),
    }
}

/// Reads tree nodes from uncommitted ancestors (newest first), then from disk.
struct OverlayReader<'a> {
    ancestors: &'a [&'a TreeDelta],
    nodes: ReadOnlyTable<&'static [u8], &'static [u8]>,
    values: ReadOnlyTable<&'static [u8], &'static [u8]>,
}

impl TreeReader for OverlayReader<'_> {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        for delta in self.ancestors.iter().rev() {
            if let Some(node) = delta.batch.get_node(node_key) {
                return Ok(Some(node.clone()));
            }
        }
        let k = borsh::to_vec(node_key)?;
        match self.nodes.get(k.as_slice())? {
            Some(v) => Ok(Some(borsh::from_slice(v.value())?)),
            None => Ok(None),
        }
    }

    fn get_value_option(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        for delta in self.ancestors.iter().rev() {
            if delta.version <= max_version
                && let Some(v) = delta.batch.values().get(&(delta.version, key_hash))
            {
                return Ok(v.clone());
            }
        }
        let lo = value_key(&key_hash, 0);
        let hi = value_key(&key_hash, max_version);
        let mut range = self.values.range(&lo[..]..=&hi[..])?;
        match range.next_back() {
            Some(entry) => {
                let (_, v) = entry?;
                Ok(decode_opt(v.value())?)
            }
            None => Ok(None),
        }
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        // Only tree restoration from a snapshot needs this, and the store never restores.
        anyhow::bail!("the state store does not support restoring the tree from a snapshot")
    }
}

impl StateReader for Store {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let txn = self.db.begin_read().map_err(backend)?;
        let table = txn.open_table(STATE).map_err(backend)?;
        Ok(table.get(key).map_err(backend)?.map(|v| v.value().to_vec()))
    }
}

impl BlockReader for Store {
    fn committed_height(&self) -> Result<Option<Height>> {
        let txn = self.db.begin_read().map_err(backend)?;
        let meta = txn.open_table(META).map_err(backend)?;
        match meta.get(META_HEIGHT).map_err(backend)? {
            Some(v) => Ok(Some(Height(decode_u64(v.value())?))),
            None => Ok(None),
        }
    }

    fn block(&self, height: Height) -> Result<Option<Block>> {
        let txn = self.db.begin_read().map_err(backend)?;
        let table = txn.open_table(BLOCKS).map_err(backend)?;
        match table.get(height.0).map_err(backend)? {
            Some(v) => Block::from_bytes(v.value())
                .map(Some)
                .map_err(|_| corrupt("block")),
            None => Ok(None),
        }
    }

    fn block_height(&self, digest: &Hash) -> Result<Option<Height>> {
        let txn = self.db.begin_read().map_err(backend)?;
        let table = txn.open_table(BLOCK_INDEX).map_err(backend)?;
        Ok(table
            .get(&digest.0[..])
            .map_err(backend)?
            .map(|v| Height(v.value())))
    }

    fn receipt(&self, tx_hash: &Hash) -> Result<Option<TxReceipt>> {
        let txn = self.db.begin_read().map_err(backend)?;
        let table = txn.open_table(RECEIPTS).map_err(backend)?;
        match table.get(&tx_hash.0[..]).map_err(backend)? {
            Some(v) => TxReceipt::from_bytes(v.value())
                .map(Some)
                .map_err(|_| corrupt("receipt")),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use counterweight_types::{Address, ChainId, Header, tx_root};

    use super::*;

    fn block(height: u64, parent: Hash, root: Hash) -> Block {
        Block {
            header: Header {
                chain_id: ChainId::new("t").expect("valid"),
                height: Height(height),
                parent,
                timestamp_ms: height,
                proposer: Address::ZERO,
                tx_root: tx_root([]),
                state_root: root,
            },
            txs: vec![],
        }
    }

    fn changes(pairs: &[(&[u8], Option<&[u8]>)]) -> StateChanges {
        pairs
            .iter()
            .map(|(k, v)| (k.to_vec(), v.map(<[u8]>::to_vec)))
            .collect::<BTreeMap<_, _>>()
    }

    fn commit(store: &Store, b: &Block, c: &StateChanges, d: &TreeDelta) -> Result<()> {
        store.commit(BlockCommit {
            block: b,
            receipts: &[],
            changes: c,
            delta: d,
        })
    }

    #[test]
    fn speculative_chain_matches_committing_one_block_at_a_time() {
        let c0 = changes(&[(b"a", Some(b"1")), (b"b", Some(b"2"))]);
        let c1 = changes(&[(b"a", None), (b"c", Some(b"3"))]);
        let c2 = changes(&[(b"b", Some(b"4"))]);

        let speculative = Store::in_memory().expect("store");
        let d0 = speculative.speculate(&[], &c0, Height(0)).expect("root 0");
        let d1 = speculative
            .speculate(&[&d0], &c1, Height(1))
            .expect("root 1");
        let d2 = speculative
            .speculate(&[&d0, &d1], &c2, Height(2))
            .expect("root 2");

        let stepwise = Store::in_memory().expect("store");
        let mut parent = Hash::ZERO;
        for (h, (c, d)) in [(&c0, &d0), (&c1, &d1), (&c2, &d2)].into_iter().enumerate() {
            let own = stepwise.speculate(&[], c, Height(h as u64)).expect("root");
            assert_eq!(own.root(), d.root(), "height {h}");
            let b = block(h as u64, parent, own.root());
            commit(&stepwise, &b, c, &own).expect("commit");
            parent = b.digest();
        }
        assert_eq!(stepwise.get(b"a").expect("read"), None);
        assert_eq!(stepwise.get(b"b").expect("read"), Some(b"4".to_vec()));
        let proof = stepwise.prove(b"a").expect("read").expect("proof");
        assert_eq!(proof.value, None);
        proof
            .verify()
            .expect("deleted key has a non-inclusion proof");
        let proof = stepwise.prove(b"c").expect("read").expect("proof");
        assert_eq!(proof.root, d2.root());
        proof.verify().expect("inclusion proof");
    }

    #[test]
    fn batch_and_key_by_key_insertion_give_the_same_roots() {
        let keys: Vec<Vec<u8>> = (0u32..300).map(|i| i.to_be_bytes().to_vec()).collect();
        let first: StateChanges = keys.iter().map(|k| (k.clone(), Some(k.clone()))).collect();
        let second: StateChanges = keys
            .iter()
            .step_by(3)
            .map(|k| (k.clone(), Some(b"x".to_vec())))
            .chain([(b"new".to_vec(), Some(b"y".to_vec()))])
            .collect();
        // A deletion forces the key-by-key path; the rest use the batch path.
        let mut with_delete = second.clone();
        with_delete.insert(keys[1].clone(), None);

        let store = Store::in_memory().expect("store");
        let d0 = store.speculate(&[], &first, Height(0)).expect("root");
        let batched = store.speculate(&[&d0], &second, Height(1)).expect("root");
        let mut one_by_one = second;
        one_by_one.insert(b"absent".to_vec(), None);
        let by_key = store
            .speculate(&[&d0], &one_by_one, Height(1))
            .expect("root");
        assert_eq!(
            batched.root(),
            by_key.root(),
            "deleting an absent key changes nothing"
        );
        let deleted = store
            .speculate(&[&d0], &with_delete, Height(1))
            .expect("root");
        assert_ne!(deleted.root(), batched.root());
    }

    #[test]
    fn rejected_commits_write_nothing() {
        let store = Store::in_memory().expect("store");
        let c0 = changes(&[(b"a", Some(b"1"))]);
        let d0 = store.speculate(&[], &c0, Height(0)).expect("root");
        let wrong_root = block(0, Hash::ZERO, Hash([7; 32]));
        assert!(matches!(
            commit(&store, &wrong_root, &c0, &d0),
            Err(StorageError::Invariant(_))
        ));
        let gap = block(3, Hash::ZERO, d0.root());
        assert!(commit(&store, &gap, &c0, &d0).is_err());
        assert_eq!(store.committed_height().expect("read"), None);
        assert_eq!(store.get(b"a").expect("read"), None);
        assert!(
            store.speculate(&[], &c0, Height(1)).is_err(),
            "heights must line up"
        );
    }

    #[test]
    fn disk_store_survives_reopen() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("db.redb");
        let c0 = changes(&[(b"k", Some(b"v"))]);
        let b0 = {
            let store = Store::open(&path).expect("open");
            let d0 = store.speculate(&[], &c0, Height(0)).expect("root");
            let b0 = block(0, Hash::ZERO, d0.root());
            commit(&store, &b0, &c0, &d0).expect("commit");
            b0
        };
        let store = Store::open(&path).expect("reopen");
        assert_eq!(store.committed_height().expect("read"), Some(Height(0)));
        assert_eq!(store.block(Height(0)).expect("read"), Some(b0.clone()));
        assert_eq!(
            store.block_height(&b0.digest()).expect("read"),
            Some(Height(0))
        );
        assert_eq!(store.get(b"k").expect("read"), Some(b"v".to_vec()));
    }

    #[test]
    fn corrupt_proof_bytes_are_rejected_without_panic() {
        let root = Hash([1; 32]);
        assert!(crate::verify_state_proof(&root, b"k", None, &[0xff; 7]).is_err());
        assert!(crate::verify_state_proof(&root, b"k", Some(b"v"), &[]).is_err());
    }
}
