//! Signatures already verified by this node, so each transaction is verified once per node.

use std::collections::{BTreeMap, VecDeque};

use counterweight_types::{Hash, Signature, SignedTransaction};

/// Most entries kept; the oldest are forgotten first (they are only verified again).
pub(crate) const SIG_CACHE_CAPACITY: usize = 262_144;

/// Transactions whose signatures verified here, keyed by transaction hash *and* signature
/// (the hash does not cover the signature, so a different signature is a cache miss).
///
/// A transaction checked at admission (RPC or gossip) is then not verified again when a block
/// containing it is built or verified. This cannot make validators disagree: signatures follow
/// ZIP-215, under which single and batch verification accept exactly the same signatures, so a
/// cached "valid" is what the block's batch check would have decided. Only valid signatures
/// are cached.
#[derive(Debug)]
pub(crate) struct SigCache {
    capacity: usize,
    verified: BTreeMap<Hash, Signature>,
    order: VecDeque<Hash>,
}

impl SigCache {
    /// An empty cache holding at most `capacity` signatures.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            verified: BTreeMap::new(),
            order: VecDeque::new(),
        }
    }

    /// Whether `stx` (with hash `hash`) is known to carry a valid signature.
    pub(crate) fn contains(&self, hash: &Hash, stx: &SignedTransaction) -> bool {
        self.verified.get(hash) == Some(&stx.signature)
    }

    /// Remember that `stx` (with hash `hash`) carries a valid signature.
    pub(crate) fn insert(&mut self, hash: Hash, stx: &SignedTransaction) {
        if self.verified.insert(hash, stx.signature).is_none() {
            self.order.push_back(hash);
        }
        while self.verified.len() > self.capacity {
            match self.order.pop_front() {
                Some(old) => {
                    self.verified.remove(&old);
                }
                None => break,
            }
        }
        // Hashes forgotten by `remove` stay queued; keep the queue bounded too.
        while self.order.len() > 2 * self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.verified.remove(&old);
            }
        }
    }

    /// Forget `hash` (its transaction is finalized: its nonce is spent, it never comes back).
    pub(crate) fn remove(&mut self, hash: &Hash) {
        self.verified.remove(hash);
    }

    /// Number of cached signatures.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.verified.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use counterweight_types::{Address, Call, ChainId, ModuleId, Transaction};

    fn tx(nonce: u64, sig: u8) -> SignedTransaction {
        SignedTransaction {
            tx: Transaction {
                chain_id: ChainId::new("t").expect("valid"),
                sender: Address([1; 32]),
                nonce,
                fee: 1,
                call: Call {
                    module: ModuleId(1),
                    payload: Bytes::from_static(b"x"),
                },
            },
            signature: Signature([sig; 64]),
        }
    }

    #[test]
    fn a_different_signature_on_the_same_transaction_misses() {
        let mut cache = SigCache::new(8);
        let good = tx(0, 1);
        cache.insert(good.hash(), &good);
        assert!(cache.contains(&good.hash(), &good));
        let forged = tx(0, 2);
        assert_eq!(forged.hash(), good.hash(), "the hash ignores the signature");
        assert!(!cache.contains(&forged.hash(), &forged));
        cache.remove(&good.hash());
        assert!(!cache.contains(&good.hash(), &good));
    }

    #[test]
    fn stays_within_capacity_oldest_first() {
        let mut cache = SigCache::new(16);
        let txs: Vec<_> = (0..19).map(|n| tx(n, 1)).collect();
        for t in &txs {
            cache.insert(t.hash(), t);
        }
        assert_eq!(cache.len(), 16);
        assert!(!cache.contains(&txs[0].hash(), &txs[0]));
        assert!(!cache.contains(&txs[2].hash(), &txs[2]));
        assert!(cache.contains(&txs[3].hash(), &txs[3]));
        let last = txs.last().expect("non-empty");
        assert!(cache.contains(&last.hash(), last));
    }
}
