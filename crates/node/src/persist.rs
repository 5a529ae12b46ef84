//! Save pending transactions at shutdown and restore them at startup (they are re-checked).

use commonware_codec::{DecodeRangeExt as _, Encode as _};
use counterweight_types::SignedTransaction;
use std::path::Path;
use tracing::warn;

/// Most transactions restored from disk.
const MAX_SAVED: usize = 1_000_000;

/// Write `txs` to `path` (best effort: a failure only loses pending transactions).
pub(crate) fn save_mempool(path: &Path, txs: &[SignedTransaction]) {
    let bytes = txs.to_vec().encode();
    if let Err(e) = std::fs::write(path, &bytes) {
        warn!(target: "node", path = %path.display(), error = %e, "could not save the mempool");
    }
}

/// Read transactions saved by [`save_mempool`]; a missing or corrupt file yields none.
pub(crate) fn load_mempool(path: &Path) -> Vec<SignedTransaction> {
    let Ok(bytes) = std::fs::read(path) else {
        return Vec::new();
    };
    let _ = std::fs::remove_file(path);
    match Vec::<SignedTransaction>::decode_range(
        commonware_codec::Copying(bytes.as_slice()),
        ..=MAX_SAVED,
    ) {
        Ok(txs) => txs,
        Err(e) => {
            warn!(target: "node", path = %path.display(), error = %e, "ignoring a corrupt mempool file");
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrupt_or_missing_file_restores_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mempool.bin");
        assert!(load_mempool(&path).is_empty());
        std::fs::write(&path, b"\xff\xff\xff\xff garbage").unwrap();
        assert!(load_mempool(&path).is_empty());
        save_mempool(&path, &[]);
        assert!(load_mempool(&path).is_empty());
    }
}
