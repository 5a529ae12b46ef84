//! The transaction pool: per-account nonce ordering, size caps, fee-based eviction.

use crate::config::MempoolConfig;
use counterweight_app::MAX_NONCE_GAP;
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
    /// The sender's balance does not cover the fees of its whole pending queue with this
    /// transaction (audit H1: one unit of balance cannot queue two transactions).
    #[error("balance {balance} does not cover the pending queue's fees ({needed})")]
    QueueUnpayable {
        /// The sender's committed balance.
        balance: u64,
        /// The fees of its pending queue with this transaction.
        needed: u64,
    },
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
            Self::QueueUnpayable { .. } => 106,
        }
    }
}

struct Entry {
    tx: SignedTransaction,
    hash: Hash,
    size: usize,
}

/// One sender's pending transactions and its committed next nonce as last seen.
struct Queue {
    /// The sender's next nonce in committed state: read at admission (under the pool's lock)
    /// and raised by every finalized block that includes one of its transactions.
    next: u64,
    txs: BTreeMap<u64, Entry>,
}

impl Queue {
    /// The fees of the transactions that may still execute, except the one at `replaced`.
    fn pending_fees(&self, replaced: u64) -> u128 {
        self.txs
            .range(self.next..)
            .filter(|(nonce, _)| **nonce != replaced)
            .map(|(_, e)| u128::from(e.tx.tx.fee))
            .sum()
    }
}

/// What admission needs to know about a sender, read from committed state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SenderState {
    /// Its next nonce.
    pub next_nonce: u64,
    /// Its balance.
    pub balance: u64,
}

#[derive(Default)]
struct Inner {
    by_sender: BTreeMap<Address, Queue>,
    by_hash: BTreeMap<Hash, (Address, u64)>,
    bytes: usize,
    /// The sender of the last transaction [`Mempool::candidates`] picked: the next call starts
    /// after it, so every sender gets its turn whatever its address.
    cursor: Option<Address>,
}

impl Inner {
    fn remove(&mut self, sender: &Address, nonce: u64) -> Option<Entry> {
        let queue = self.by_sender.get_mut(sender)?;
        let entry = queue.txs.remove(&nonce)?;
        if queue.txs.is_empty() {
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
                let (nonce, entry) = queue.txs.last_key_value()?;
                Some((*sender, *nonce, entry.tx.tx.fee))
            })
            .min_by_key(|(_, _, fee)| *fee)
    }
}

/// A thread-safe pool of pending transactions.
///
/// Promises against a spammer (audit H1): a sender's queue is admitted only while its
/// balance covers the fees of all of it; a transaction the block builder drops is evicted
/// ([`Mempool::evict_dropped`]); candidates start at each sender's next nonce, go one
/// transaction per sender per round (highest fee first within a round) and rotate the
/// starting sender, so no address order decides who gets block space.
pub struct Mempool {
    config: MempoolConfig,
    inner: Mutex<Inner>,
}

impl Mempool {
    /// An empty pool with `config`'s limits (a nonce gap above the app's
    /// [`MAX_NONCE_GAP`] is lowered to it).
    pub fn new(mut config: MempoolConfig) -> Self {
        config.max_nonce_gap = config.max_nonce_gap.min(MAX_NONCE_GAP);
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

    /// Add `tx` (already checked against committed state) given its sender's committed
    /// state.
    ///
    /// # Errors
    /// A [`MempoolError`] saying why the pool refused it.
    pub fn insert(&self, tx: SignedTransaction, sender: SenderState) -> Result<Hash, MempoolError> {
        self.insert_with(tx, |_| Ok::<_, std::convert::Infallible>(sender))
            .unwrap_or_else(|never| match never {})
    }

    /// Add `tx` (already checked against committed state), reading its sender's committed
    /// state with `read` while the pool is locked: a block finalized concurrently is then
    /// seen either by `read` or by [`Mempool::remove_finalized`] afterwards, never by neither.
    ///
    /// # Errors
    /// Outer: `read`'s error. Inner: a [`MempoolError`] saying why the pool refused it.
    pub fn insert_with<E>(
        &self,
        tx: SignedTransaction,
        read: impl FnOnce(&Address) -> Result<SenderState, E>,
    ) -> Result<Result<Hash, MempoolError>, E> {
        let hash = tx.hash();
        let sender = tx.tx.sender;
        let nonce = tx.tx.nonce;
        let fee = tx.tx.fee;
        let size = tx.to_bytes().len();
        let mut inner = self.lock();
        let state = read(&sender)?;
        let next_nonce = inner
            .by_sender
            .get(&sender)
            .map_or(state.next_nonce, |q| q.next.max(state.next_nonce));
        if nonce < next_nonce {
            return Ok(Err(MempoolError::StaleNonce {
                nonce,
                expected: next_nonce,
            }));
        }
        if nonce - next_nonce > self.config.max_nonce_gap {
            return Ok(Err(MempoolError::NonceTooFar {
                nonce,
                expected: next_nonce,
            }));
        }
        if inner.by_hash.contains_key(&hash) {
            return Ok(Err(MempoolError::Duplicate));
        }
        let (queued, existing_fee, queued_fees) = match inner.by_sender.get_mut(&sender) {
            Some(queue) => {
                queue.next = next_nonce;
                (
                    queue.txs.len(),
                    queue.txs.get(&nonce).map(|e| e.tx.tx.fee),
                    queue.pending_fees(nonce),
                )
            }
            None => (0, None, 0),
        };
        let needed = queued_fees + u128::from(fee);
        if needed > u128::from(state.balance) {
            return Ok(Err(MempoolError::QueueUnpayable {
                balance: state.balance,
                needed: u64::try_from(needed).unwrap_or(u64::MAX),
            }));
        }
        match existing_fee {
            Some(existing) if existing >= fee => {
                return Ok(Err(MempoolError::NonceTaken {
                    nonce,
                    fee: existing,
                }));
            }
            // Replace-by-fee.
            Some(_) => {
                inner.remove(&sender, nonce);
            }
            None if queued >= self.config.max_txs_per_account => {
                return Ok(Err(MempoolError::AccountFull {
                    max: self.config.max_txs_per_account,
                }));
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
                _ => return Ok(Err(MempoolError::Full)),
            }
        }
        inner.bytes += size;
        inner.by_hash.insert(hash, (sender, nonce));
        inner
            .by_sender
            .entry(sender)
            .or_insert_with(|| Queue {
                next: next_nonce,
                txs: BTreeMap::new(),
            })
            .txs
            .insert(nonce, Entry { tx, hash, size });
        Ok(Ok(hash))
    }

    /// Up to `max` transactions for a block on a parent whose unfinalized ancestry holds the
    /// transactions `exclude` and moved the senders of `ancestry_next` to those next nonces.
    ///
    /// Each sender contributes its run of consecutive nonces from its next one (a sender
    /// whose next nonce is missing contributes nothing). Runs are taken one transaction per
    /// sender per round; within a round higher fees go first and equal fees in sender order
    /// starting after the sender served last by the previous call, so the block space left
    /// at the margin rotates through every sender.
    pub fn candidates(
        &self,
        max: usize,
        exclude: &BTreeSet<Hash>,
        ancestry_next: &BTreeMap<Address, u64>,
    ) -> Vec<SignedTransaction> {
        use std::ops::Bound::{Excluded, Unbounded};
        let mut inner = self.lock();
        if max == 0 {
            return Vec::new();
        }
        let (after, upto) = match inner.cursor {
            Some(c) => (
                inner.by_sender.range((Excluded(c), Unbounded)),
                inner.by_sender.range(..=c),
            ),
            None => (
                inner.by_sender.range(..),
                inner.by_sender.range(..Address::ZERO),
            ),
        };
        // In rotated sender order: (sender, run).
        let runs: Vec<(Address, Vec<&Entry>)> = after
            .chain(upto)
            .filter_map(|(sender, queue)| {
                let mut expected = ancestry_next
                    .get(sender)
                    .map_or(queue.next, |n| (*n).max(queue.next));
                let mut run = Vec::new();
                for (nonce, entry) in queue.txs.range(expected..) {
                    if *nonce != expected || run.len() >= max {
                        break;
                    }
                    expected = expected.saturating_add(1);
                    if !exclude.contains(&entry.hash) {
                        run.push(entry);
                    }
                }
                (!run.is_empty()).then_some((*sender, run))
            })
            .collect();
        let mut out = Vec::with_capacity(max.min(inner.by_hash.len()));
        let mut last = None;
        let mut round = 0;
        while out.len() < max {
            // (fee, rotated position) of every sender with a transaction in this round.
            let mut heads: Vec<(u64, usize)> = runs
                .iter()
                .enumerate()
                .filter_map(|(pos, (_, run))| run.get(round).map(|e| (e.tx.tx.fee, pos)))
                .collect();
            if heads.is_empty() {
                break;
            }
            heads.sort_by_key(|(fee, pos)| (std::cmp::Reverse(*fee), *pos));
            for (_, pos) in heads.into_iter().take(max - out.len()) {
                let (sender, run) = &runs[pos];
                out.push(run[round].tx.clone());
                last = Some(*sender);
            }
            round += 1;
        }
        if last.is_some() {
            inner.cursor = last;
        }
        out
    }

    /// Evict transactions the block builder dropped as unable to execute on top of the
    /// pool's view (audit H1: otherwise they are picked, and dropped, by every build).
    ///
    /// A transaction dropped for its nonce goes alone (its sender's later transactions may
    /// still run); one dropped for any other reason takes its sender's later nonces with it,
    /// since they cannot run before a replacement is submitted. Returns how many left.
    pub fn evict_dropped(&self, dropped: &[(Hash, DropReason)]) -> usize {
        let mut inner = self.lock();
        let mut evicted = 0;
        for (hash, reason) in dropped {
            let Some((sender, nonce)) = inner.by_hash.get(hash).copied() else {
                continue;
            };
            let doomed: Vec<u64> = match (reason, inner.by_sender.get(&sender)) {
                (DropReason::Nonce, _) | (_, None) => vec![nonce],
                (DropReason::Other, Some(queue)) => {
                    queue.txs.range(nonce..).map(|(n, _)| *n).collect()
                }
            };
            for n in doomed {
                evicted += usize::from(inner.remove(&sender, n).is_some());
            }
        }
        evicted
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
            let stale: Vec<u64> = match inner.by_sender.get_mut(&sender) {
                Some(queue) => {
                    queue.next = queue.next.max(max_nonce.saturating_add(1));
                    queue.txs.range(..=max_nonce).map(|(n, _)| *n).collect()
                }
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
                    .txs
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
            .flat_map(|q| q.txs.values().map(|e| e.tx.clone()))
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

/// Why the block builder dropped a transaction, as far as eviction cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// Its nonce did not follow on: it goes, its sender's later transactions stay.
    Nonce,
    /// Anything else (it cannot pay, ...): it and its sender's later transactions go.
    Other,
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

    /// A sender at next nonce `next` with more balance than any queue needs.
    fn at(next: u64) -> SenderState {
        SenderState {
            next_nonce: next,
            balance: u64::MAX,
        }
    }

    fn picked(txs: &[SignedTransaction]) -> Vec<(u8, u64)> {
        txs.iter().map(|t| (t.tx.sender.0[0], t.tx.nonce)).collect()
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
        pool.insert(tx(1, 1, 1), at(0)).unwrap();
        pool.insert(tx(1, 0, 1), at(0)).unwrap();
        pool.insert(tx(2, 5, 1), at(5)).unwrap();
        pool.insert(tx(1, 3, 1), at(0)).unwrap(); // gap: not a candidate yet
        let picked: Vec<(u8, u64)> = pool
            .candidates(10, &BTreeSet::new(), &BTreeMap::new())
            .iter()
            .map(|t| (t.tx.sender.0[0], t.tx.nonce))
            .collect();
        assert_eq!(picked, vec![(1, 0), (2, 5), (1, 1)]);
        assert_eq!(
            pool.candidates(1, &BTreeSet::new(), &BTreeMap::new()).len(),
            1
        );
    }

    #[test]
    fn rejects_stale_far_duplicate_and_enforces_caps() {
        let pool = Mempool::new(small());
        assert_eq!(
            pool.insert(tx(1, 0, 1), at(1)),
            Err(MempoolError::StaleNonce {
                nonce: 0,
                expected: 1
            })
        );
        assert!(matches!(
            pool.insert(tx(1, 50, 1), at(0)),
            Err(MempoolError::NonceTooFar { .. })
        ));
        pool.insert(tx(1, 0, 1), at(0)).unwrap();
        assert_eq!(
            pool.insert(tx(1, 0, 1), at(0)),
            Err(MempoolError::Duplicate)
        );
        assert!(matches!(
            pool.insert(tx(1, 0, 0), at(0)),
            Err(MempoolError::NonceTaken { .. })
        ));
        // Replace-by-fee keeps one transaction per nonce.
        pool.insert(tx(1, 0, 5), at(0)).unwrap();
        assert_eq!(pool.len(), 1);
        pool.insert(tx(1, 1, 1), at(0)).unwrap();
        pool.insert(tx(1, 2, 1), at(0)).unwrap();
        assert_eq!(
            pool.insert(tx(1, 3, 1), at(0)),
            Err(MempoolError::AccountFull { max: 3 })
        );
        // Full: a cheap tx is refused, a better-paying one evicts the cheapest tail.
        pool.insert(tx(2, 0, 1), at(0)).unwrap();
        assert_eq!(pool.insert(tx(3, 0, 1), at(0)), Err(MempoolError::Full));
        pool.insert(tx(3, 0, 9), at(0)).unwrap();
        assert_eq!(pool.len(), 4);
    }

    #[test]
    fn removes_finalized_and_lower_nonces() {
        let pool = Mempool::new(MempoolConfig::default());
        for n in 0..4 {
            pool.insert(tx(1, n, 1), at(0)).unwrap();
        }
        pool.remove_finalized(&[tx(1, 2, 1)]);
        let left: Vec<u64> = pool.snapshot().iter().map(|t| t.tx.nonce).collect();
        assert_eq!(left, vec![3]);
        assert_eq!(pool.retain(|_| false), 1);
        assert!(pool.is_empty());
        assert_eq!(pool.bytes(), 0);
    }

    #[test]
    fn admission_counts_the_senders_whole_queue_against_its_balance() {
        let pool = Mempool::new(MempoolConfig::default());
        let one_fee = SenderState {
            next_nonce: 0,
            balance: 1,
        };
        // Audit H1: one unit of balance cannot queue two transactions.
        pool.insert(tx(1, 0, 1), one_fee).unwrap();
        assert_eq!(
            pool.insert(tx(1, 1, 1), one_fee),
            Err(MempoolError::QueueUnpayable {
                balance: 1,
                needed: 2
            })
        );
        let three = SenderState {
            next_nonce: 0,
            balance: 3,
        };
        for n in 0..3 {
            pool.insert(tx(2, n, 1), three).unwrap();
        }
        assert!(matches!(
            pool.insert(tx(2, 3, 1), three),
            Err(MempoolError::QueueUnpayable { needed: 4, .. })
        ));
        // Replacing a transaction counts its new fee instead of the old one.
        assert!(matches!(
            pool.insert(tx(2, 2, 2), three),
            Err(MempoolError::QueueUnpayable { needed: 4, .. })
        ));
        let four = SenderState {
            next_nonce: 0,
            balance: 4,
        };
        pool.insert(tx(2, 2, 2), four).unwrap();
        // Transactions below the committed nonce no longer count.
        let moved_on = SenderState {
            next_nonce: 2,
            balance: 3,
        };
        pool.insert(tx(2, 3, 1), moved_on).unwrap();
        assert_eq!(pool.len(), 5);
    }

    #[test]
    fn evicts_dropped_transactions_and_what_waits_on_them() {
        let pool = Mempool::new(MempoolConfig::default());
        let hashes: Vec<Hash> = (0..5)
            .map(|n| pool.insert(tx(1, n, 1), at(0)).unwrap())
            .collect();
        pool.insert(tx(2, 0, 1), at(0)).unwrap();
        // Cannot pay: it and its sender's later nonces go.
        assert_eq!(pool.evict_dropped(&[(hashes[2], DropReason::Other)]), 3);
        // A nonce mismatch: only that one goes.
        assert_eq!(pool.evict_dropped(&[(hashes[0], DropReason::Nonce)]), 1);
        // Unknown hashes are ignored.
        assert_eq!(pool.evict_dropped(&[(hashes[4], DropReason::Other)]), 0);
        assert_eq!(picked(&pool.snapshot()), vec![(1, 1), (2, 0)]);
    }

    #[test]
    fn candidates_rotate_through_senders_and_keep_nonce_order() {
        let pool = Mempool::new(MempoolConfig::default());
        for sender in 1..=4 {
            for n in 0..2 {
                pool.insert(tx(sender, n, 1), at(0)).unwrap();
            }
        }
        let none = BTreeSet::new();
        let fresh = BTreeMap::new();
        // Nothing is finalized between the calls: the margin rotates over the senders.
        assert_eq!(
            picked(&pool.candidates(2, &none, &fresh)),
            vec![(1, 0), (2, 0)]
        );
        assert_eq!(
            picked(&pool.candidates(2, &none, &fresh)),
            vec![(3, 0), (4, 0)]
        );
        assert_eq!(
            picked(&pool.candidates(3, &none, &fresh)),
            vec![(1, 0), (2, 0), (3, 0)]
        );
        // One transaction per sender per round; each sender's nonces stay in order.
        assert_eq!(
            picked(&pool.candidates(6, &none, &fresh)),
            vec![(4, 0), (1, 0), (2, 0), (3, 0), (4, 1), (1, 1)]
        );
        // Within a round a higher fee goes first.
        pool.insert(tx(9, 0, 5), at(0)).unwrap();
        assert_eq!(picked(&pool.candidates(1, &none, &fresh)), vec![(9, 0)]);
    }

    #[test]
    fn candidates_start_at_the_senders_next_nonce() {
        let pool = Mempool::new(MempoolConfig::default());
        // Nonce 0 is missing: 1 and 2 cannot execute yet and are not offered.
        pool.insert(tx(1, 1, 1), at(0)).unwrap();
        pool.insert(tx(1, 2, 1), at(0)).unwrap();
        let none = BTreeSet::new();
        assert!(pool.candidates(10, &none, &BTreeMap::new()).is_empty());
        // A parent whose ancestry used nonce 0 can take them.
        let ancestry = BTreeMap::from([(Address([1; 32]), 1)]);
        assert_eq!(
            picked(&pool.candidates(10, &none, &ancestry)),
            vec![(1, 1), (1, 2)]
        );
        // So can any parent once a block with nonce 0 is finalized.
        pool.remove_finalized(&[tx(1, 0, 1)]);
        assert_eq!(
            picked(&pool.candidates(10, &none, &BTreeMap::new())),
            vec![(1, 1), (1, 2)]
        );
    }

    #[test]
    fn nonce_gap_agrees_with_the_apps() {
        // Audit L7: the pool holds no transaction the app's `check_tx` would refuse.
        assert_eq!(MempoolConfig::default().max_nonce_gap, MAX_NONCE_GAP);
        let pool = Mempool::new(MempoolConfig {
            max_nonce_gap: 4 * MAX_NONCE_GAP,
            ..MempoolConfig::default()
        });
        pool.insert(tx(1, MAX_NONCE_GAP, 1), at(0)).unwrap();
        assert!(matches!(
            pool.insert(tx(1, MAX_NONCE_GAP + 1, 1), at(0)),
            Err(MempoolError::NonceTooFar { .. })
        ));
        // A config may lower it.
        let pool = Mempool::new(MempoolConfig {
            max_nonce_gap: 2,
            ..MempoolConfig::default()
        });
        assert!(matches!(
            pool.insert(tx(1, 3, 1), at(0)),
            Err(MempoolError::NonceTooFar { .. })
        ));
    }
}
