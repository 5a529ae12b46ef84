//! Layered state views: pending writes over a base reader, with per-transaction rollback.

use counterweight_storage_api::{Result as StorageResult, StateChanges, StateReader};

/// Read and write access to the key-value state, as modules see it (reads via
/// [`StateReader::get`]).
pub trait StateAccess: StateReader {
    /// Sets `key` to `value`.
    fn set(&mut self, key: Vec<u8>, value: Vec<u8>);
    /// Removes `key`.
    fn delete(&mut self, key: Vec<u8>);
}

/// Reads through a stack of pending change sets (newest first) down to a base reader.
///
/// This is the view of a block whose unfinalized ancestors' changes are not yet on disk.
pub struct Layered<'a> {
    base: &'a dyn StateReader,
    layers: Vec<&'a StateChanges>,
}

impl<'a> Layered<'a> {
    /// Builds the view: `layers` are ordered oldest first (the order blocks executed in).
    pub fn new(base: &'a dyn StateReader, layers: Vec<&'a StateChanges>) -> Self {
        Self { base, layers }
    }
}

impl StateReader for Layered<'_> {
    fn get(&self, key: &[u8]) -> StorageResult<Option<Vec<u8>>> {
        for layer in self.layers.iter().rev() {
            if let Some(v) = layer.get(key) {
                return Ok(v.clone());
            }
        }
        self.base.get(key)
    }
}

/// The writes of one block in progress, over a base view.
pub struct BlockState<'a> {
    base: &'a dyn StateReader,
    writes: StateChanges,
}

impl<'a> BlockState<'a> {
    /// Starts a block over `base`.
    pub fn new(base: &'a dyn StateReader) -> Self {
        Self {
            base,
            writes: StateChanges::new(),
        }
    }

    /// Returns the block's accumulated changes.
    pub fn into_changes(self) -> StateChanges {
        self.writes
    }

    pub(crate) fn merge(&mut self, changes: StateChanges) {
        self.writes.extend(changes);
    }
}

impl StateReader for BlockState<'_> {
    fn get(&self, key: &[u8]) -> StorageResult<Option<Vec<u8>>> {
        match self.writes.get(key) {
            Some(v) => Ok(v.clone()),
            None => self.base.get(key),
        }
    }
}

impl StateAccess for BlockState<'_> {
    fn set(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.writes.insert(key, Some(value));
    }

    fn delete(&mut self, key: Vec<u8>) {
        self.writes.insert(key, None);
    }
}

/// Writes of one call, kept apart until the call succeeds.
pub(crate) struct TxState<'b> {
    block: &'b dyn StateReader,
    pub(crate) writes: StateChanges,
}

impl<'b> TxState<'b> {
    pub(crate) fn new(block: &'b dyn StateReader) -> Self {
        Self {
            block,
            writes: StateChanges::new(),
        }
    }

    pub(crate) fn get(&self, key: &[u8]) -> StorageResult<Option<Vec<u8>>> {
        match self.writes.get(key) {
            Some(v) => Ok(v.clone()),
            None => self.block.get(key),
        }
    }
}
