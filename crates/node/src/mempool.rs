//! The transaction pool: per-account nonce ordering, size caps, fee-based eviction.

use crate::config::MempoolConfig;
use counterweight_types::{Address, Hash, SignedTransaction};
use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Mutex,
};

/// Why the pool refused a transaction (a protocol value, reported to the submitter).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MempoolError {
    /// The same transaction is already pending.
    #[error("transaction already pending")]
    Duplicate,
    /// The nonce is below the sender's committed nonce.
    #[error("nonce {nonce} already used (next is {expected})")]
    StaleNonce {
        /// The transaction's nonce.
        nonce: u64,
        /// The sender's next nonce.
        expected: u64,
    },
    /// The nonce is too far ahead of the sender's committed nonce.
    #[error("nonce {nonce} is too far ahead (next is {expected})")]
    NonceTooFar {
        /// The transaction's nonce.
        nonce: u64,
        /// The sender's next nonce.
        expected: u64,
    },
    /// Another transaction with this nonce is pending and this one does not pay more.
    #[error("another transaction with nonce {nonce} is pending with a fee of at least {fee}")]
    NonceTaken {
        /// The contested nonce.
        nonce: u64,
        /// The pending transaction's fee.
        fee: u64,
    },
    /// The sender already has the maximum number of pending transactions.
    #[error("sender has {max} pending transactions")]
    AccountFull {
        /// The per-account cap.
        max: usize,
    },
    /// The pool is full and this transaction's fee does not beat the cheapest evictable one.
    #[error("mempool is full")]
    Full,
}

impl MempoolError {
    /// A stable numeric code for RPC clients (distinct from the app's transaction codes).
    pub const fn code(&self) -> u32 {
        match self {
            Self::Duplicate => 100,
            Self::StaleNonce { .. } => 101,
            Self::NonceTooFar { .. } => 102,
            Self::NonceTaken { .. } => 103,
            Self::AccountFull { .. } => 104,
            Self::Full => 105,
        }
    }
}

struct Entry {
    tx: SignedTransaction,
    hash: Hash,
    size: usize,
}

#[derive(Default)]
struct Inner {
    by_sender: BTreeMap<Address, BTreeMap<u64, Entry>>,
    by_hash: BTreeMap<Hash, (Address, u64)>,
    bytes: usize,
}

impl Inner {
    fn remove(&mut self, sender: &Address, nonce: u64) -> Option<Entry> {
        let queue = self.by_sender.get_mut(sender)?;
        let entry = queue.remove(&nonce)?;
        if queue.is_empty() {
            self.by_sender.remove(sender);
        }
        self.by_hash.remove(&entry.hash);
        self.bytes -= entry.size;
        Some(entry)
    }

    /// The cheapest highest-nonce transaction (evicting it never strands a lower nonce).
    fn cheapest_tail(&self) -> Option<(Address, u64, u64)> {
        self.by_sender
            .iter()
            .filter_map(|(sender, queue)| {
                let (nonce, entry) = queue.last_key_value()?;
                Some((*sender, *nonce, entry.tx.tx.fee))
            })
            .min_by_key(|(_, _, fee)| *fee)
    }
}

/// A thread-safe pool of pending transactions.
pub struct Mempool {
    config: MempoolConfig,
    inner: Mutex<Inner>,
}

impl Mempool {
    /// An empty pool with `config`'s limits.
    pub fn new(config: MempoolConfig) -> Self {
        Self {
            config,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves only plain data behind; keep serving.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Add `tx` (already checked against committed state) given the sender's committed next
    /// nonce.
    ///
    /// # Errors
    /// A [`MempoolError`] saying why the pool refused it.
    pub fn insert(&self, tx: SignedTransaction, next_nonce: u64) -> Result<Hash, MempoolError> {
        let hash = tx.hash();
        let sender = tx.tx.sender;
        let nonce = tx.tx.nonce;
        let fee = tx.tx.fee;
        let size = tx.to_bytes().len();
        if nonce < next_nonce {
            return Err(MempoolError::StaleNonce {
                nonce,
                expected: next_nonce,
            });
        }
        if nonce - next_nonce > self.config.max_nonce_gap {
            return Err(MempoolError::NonceTooFar {
                nonce,
                expected: next_nonce,
            });
        }
        let mut inner = self.lock();
        if inner.by_hash.contains_key(&hash) {
            return Err(MempoolError::Duplicate);
        }
        let (queued, existing_fee) = match inner.by_sender.get(&sender) {
            Some(queue) => (queue.len(), queue.get(&nonce).map(|e| e.tx.tx.fee)),
            None => (0, None),
        };
        match existing_fee {
            Some(existing) if existing >= fee => {
                return Err(MempoolError::NonceTaken {
                    nonce,
                    fee: existing,
                });
            }
            // Replace-by-fee.
            Some(_) => {
                inner.remove(&sender, nonce);
            }
            None if queued >= self.config.max_txs_per_account => {
                return Err(MempoolError::AccountFull {
                    max: self.config.max_txs_per_account,
                });
            }
            None => {}
        }
        while inner.by_hash.len() + 1 > self.config.max_txs
            || inner.bytes + size > self.config.max_bytes
        {
            match inner.cheapest_tail() {
                Some((victim, victim_nonce, victim_fee))
                    if victim_fee < fee && victim != sender =>
                {
                    inner.remove(&victim, victim_nonce);
                }
                _ => return Err(MempoolError::Full),
            }
        }
        inner.bytes += size;
        inner.by_hash.insert(hash, (sender, nonce));
        inner
            .by_sender
            .entry(sender)
            .or_default()
            .insert(nonce, Entry { tx, hash, size });
        Ok(hash)
    }

    /// Up to `max` transactions for a block, skipping `exclude`: each sender's run of
    /// consecutive nonces from its lowest pending one, interleaved across senders.
    pub fn candidates(&self, max: usize, exclude: &BTreeSet<Hash>) -> Vec<SignedTransaction> {
        let inner = self.lock();
        let mut runs: Vec<Vec<&Entry>> = inner
            .by_sender
            .values()
            .map(|queue| {
                let mut run = Vec::new();
                let mut expected: Option<u64> = None;
                for (nonce, entry) in queue {
                    if exclude.contains(&entry.hash) {
                        continue;
                    }
                    if expected.is_some_and(|e| e != *nonce) {
                        break;
                    }
                    run.push(entry);
                    expected = nonce.checked_add(1);
                }
                run.reverse();
                run
            })
            .filter(|run| !run.is_empty())
            .collect();
        let mut out = Vec::with_capacity(max.min(inner.by_hash.len()));
        while out.len() < max && !runs.is_empty() {
            runs.retain_mut(|run| {
                if out.len() >= max {
                    return true;
                }
                match run.pop() {
                    Some(entry) => {
                        out.push(entry.tx.clone());
                        !run.is_empty()
                    }
                    None => false,
                }
            });
        }
        out
    }

    /// Drop transactions included in a finalized block, and any of their senders' transactions
    /// with lower or equal nonces (they can never be included any more).
    pub fn remove_finalized(&self, txs: &[SignedTransaction]) {
        let mut inner = self.lock();
        let mut highest: BTreeMap<Address, u64> = BTreeMap::new();
        for tx in txs {
            let entry = highest.entry(tx.tx.sender).or_insert(tx.tx.nonce);
            *entry = (*entry).max(tx.tx.nonce);
        }
        for (sender, max_nonce) in highest {
            let stale: Vec<u64> = match inner.by_sender.get(&sender) {
                Some(queue) => queue.range(..=max_nonce).map(|(n, _)| *n).collect(),
                None => continue,
            };
            for nonce in stale {
                inner.remove(&sender, nonce);
            }
        }
    }

    /// Keep only the transactions `still_valid` accepts (used after a restart).
    pub fn retain(&self, mut still_valid: impl FnMut(&SignedTransaction) -> bool) -> usize {
        let mut inner = self.lock();
        let doomed: Vec<(Address, u64)> = inner
            .by_sender
            .iter()
            .flat_map(|(sender, queue)| {
                queue
                    .iter()
                    .filter(|(_, e)| !still_valid(&e.tx))
                    .map(|(n, _)| (*sender, *n))
                    .collect::<Vec<_>>()
            })
            .collect();
        for (sender, nonce) in &doomed {
            inner.remove(sender, *nonce);
        }
        doomed.len()
    }

    /// Whether `hash` is pending.
    pub fn contains(&self, hash: &Hash) -> bool {
        self.lock().by_hash.contains_key(hash)
    }

    /// Every pending transaction (for persisting across restarts).
    pub fn snapshot(&self) -> Vec<SignedTransaction> {
        let inner = self.lock();
        inner
            .by_sender
            .values()
            .flat_map(|q| q.values().map(|e| e.tx.clone()))
            .collect()
    }

    /// Number of pending transactions.
    pub fn len(&self) -> usize {
        self.lock().by_hash.len()
    }

    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Encoded bytes of the pending transactions.
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use counterweight_types::{Call, ChainId, ModuleId, Signature, Transaction};

    fn tx(sender: u8, nonce: u64, fee: u64) -> SignedTransaction {
        SignedTransaction {
            tx: Transaction {
                chain_id: ChainId::new("test").unwrap(),
                sender: Address([sender; 32]),
                nonce,
                fee,
                call: Call {
                    module: ModuleId(1),
                    payload: Bytes::from_static(b"x"),
                },
            },
            signature: Signature([0; 64]),
        }
    }

    fn small() -> MempoolConfig {
        MempoolConfig {
            max_txs: 4,
            max_bytes: 1 << 20,
            max_txs_per_account: 3,
            max_nonce_gap: 10,
        }
    }

    #[test]
    fn orders_by_nonce_and_interleaves_senders() {
        let pool = Mempool::new(MempoolConfig::default());
        pool.insert(tx(1, 1, 1), 0).unwrap();
        pool.insert(tx(1, 0, 1), 0).unwrap();
        pool.insert(tx(2, 5, 1), 5).unwrap();
        pool.insert(tx(1, 3, 1), 0).unwrap(); // gap: not a candidate yet
        let picked: Vec<(u8, u64)> = pool
            .candidates(10, &BTreeSet::new())
            .iter()
            .map(|t| (t.tx.sender.0[0], t.tx.nonce))
            .collect();
        assert_eq!(picked, vec![(1, 0), (2, 5), (1, 1)]);
        assert_eq!(pool.candidates(1, &BTreeSet::new()).len(), 1);
    }

    #[test]
    fn rejects_stale_far_duplicate_and_enforces_caps() {
        let pool = Mempool::new(small());
        assert_eq!(
            pool.insert(tx(1, 0, 1), 1),
            Err(MempoolError::StaleNonce {
                nonce: 0,
                expected: 1
            })
        );
        assert!(matches!(
            pool.insert(tx(1, 50, 1), 0),
            Err(MempoolError::NonceTooFar { .. })
        ));
        pool.insert(tx(1, 0, 1), 0).unwrap();
        assert_eq!(pool.insert(tx(1, 0, 1), 0), Err(MempoolError::Duplicate));
        assert!(matches!(
            pool.insert(tx(1, 0, 0), 0),
            Err(MempoolError::NonceTaken { .. })
        ));
        // Replace-by-fee keeps one transaction per nonce.
        pool.insert(tx(1, 0, 5), 0).unwrap();
        assert_eq!(pool.len(), 1);
        pool.insert(tx(1, 1, 1), 0).unwrap();
        pool.insert(tx(1, 2, 1), 0).unwrap();
        assert_eq!(
            pool.insert(tx(1, 3, 1), 0),
            Err(MempoolError::AccountFull { max: 3 })
        );
        // Full: a cheap tx is refused, a better-paying one evicts the cheapest tail.
        pool.insert(tx(2, 0, 1), 0).unwrap();
        assert_eq!(pool.insert(tx(3, 0, 1), 0), Err(MempoolError::Full));
        pool.insert(tx(3, 0, 9), 0).unwrap();
        assert_eq!(pool.len(), 4);
    }

    #[test]
    fn removes_finalized_and_lower_nonces() {
        let pool = Mempool::new(MempoolConfig::default());
        for n in 0..4 {
            pool.insert(tx(1, n, 1), 0).unwrap();
        }
        pool.remove_finalized(&[tx(1, 2, 1)]);
        let left: Vec<u64> = pool.snapshot().iter().map(|t| t.tx.nonce).collect();
        assert_eq!(left, vec![3]);
        assert_eq!(pool.retain(|_| false), 1);
        assert!(pool.is_empty());
        assert_eq!(pool.bytes(), 0);
    }
}
