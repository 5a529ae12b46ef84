//! A Merkle mountain range over a key-value store: append, peaks, root and inclusion proofs.
//!
//! Nodes are numbered in post-order (the standard MMR layout): leaf `i` sits at position
//! `2i - popcount(i)`, a parent follows its two children. Only appends exist, so a node once
//! written never changes, and a proof for `n` leaves stays valid forever against the root of
//! `n` leaves.

use counterweight_types::{Hash, domain};
use serde::{Deserialize, Serialize};

/// Prefix of the bagged root of the peaks (with the node count).
pub(crate) const ROOT_TAG: &[u8] = b"counterweight/v1/audit-root";

/// Most leaves an MMR proof may claim (keeps verification of untrusted proofs bounded).
const MAX_PROOF_LEN: usize = 64;

/// Hash of two children.
pub(crate) fn parent(left: &Hash, right: &Hash) -> Hash {
    Hash::digest(domain::AUDIT_NODE, &[&left.0, &right.0])
}

/// Hash of a leaf's bytes.
pub fn leaf_hash(bytes: &[u8]) -> Hash {
    Hash::digest(domain::AUDIT_LEAF, &[bytes])
}

/// The root committing to `size` nodes whose peaks (left to right) are `peaks`.
pub(crate) fn bag(size: u64, peaks: &[Hash]) -> Hash {
    let mut parts: Vec<&[u8]> = Vec::with_capacity(peaks.len() + 1);
    let size = size.to_be_bytes();
    parts.push(&size);
    for p in peaks {
        parts.push(&p.0);
    }
    Hash::digest(ROOT_TAG, &parts)
}

fn bit_length(x: u64) -> u32 {
    u64::BITS - x.leading_zeros()
}

/// Height of the node at `pos` (leaves are 0).
pub(crate) fn height(pos: u64) -> u32 {
    // In 1-based numbering, a node whose index is all ones is the last node of a perfect tree;
    // jumping left over whole perfect trees reaches such an index.
    let mut x = pos + 1;
    while x & (x + 1) != 0 {
        x -= (1u64 << (bit_length(x) - 1)) - 1;
    }
    bit_length(x) - 1
}

/// Position of leaf number `index`.
pub fn leaf_position(index: u64) -> u64 {
    2 * index - u64::from(index.count_ones())
}

/// Node count of an MMR with `leaves` leaves.
pub fn size_for(leaves: u64) -> u64 {
    2 * leaves - u64::from(leaves.count_ones())
}

/// Positions of the peaks (left to right) of an MMR with `size` nodes; `None` when `size` is
/// not a valid MMR size.
pub(crate) fn peaks(size: u64) -> Option<Vec<u64>> {
    let mut out = Vec::new();
    let mut offset = 0u64;
    let mut remaining = size;
    while remaining > 0 {
        // The largest perfect tree (2^(h+1) - 1 nodes) that fits.
        let h = bit_length(remaining + 1) - 2;
        let tree = (1u64 << (h + 1)) - 1;
        out.push(offset + tree - 1);
        offset += tree;
        remaining -= tree;
        if let Some(&last) = out.iter().rev().nth(1) {
            // Peaks strictly shrink left to right in a valid MMR.
            if height(last) <= h {
                return None;
            }
        }
    }
    Some(out)
}

/// Reads and writes MMR nodes by position.
pub(crate) trait NodeStore {
    type Error;
    fn node(&self, pos: u64) -> Result<Option<Hash>, Self::Error>;
    fn set_node(&mut self, pos: u64, hash: Hash);
}

/// Appends leaf hash `leaf` to an MMR of `size` nodes; returns the new size.
pub(crate) fn append<S: NodeStore>(
    store: &mut S,
    size: u64,
    leaf: Hash,
    missing: impl Fn(u64) -> S::Error,
) -> Result<u64, S::Error> {
    let mut pos = size;
    let mut current = leaf;
    store.set_node(pos, current);
    let mut h = 0;
    while height(pos + 1) > h {
        let left_pos = pos + 1 - (2u64 << h);
        let left = store.node(left_pos)?.ok_or_else(|| missing(left_pos))?;
        current = parent(&left, &current);
        pos += 1;
        store.set_node(pos, current);
        h += 1;
    }
    Ok(pos + 1)
}

/// The root of an MMR of `size` nodes.
pub(crate) fn root<S: NodeStore>(
    store: &S,
    size: u64,
    missing: impl Fn(u64) -> S::Error,
) -> Result<Hash, S::Error> {
    let positions = peaks(size).ok_or_else(|| missing(size))?;
    let mut digests = Vec::with_capacity(positions.len());
    for p in positions {
        digests.push(store.node(p)?.ok_or_else(|| missing(p))?);
    }
    Ok(bag(size, &digests))
}

/// Proof that a leaf is in the MMR with a given root.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MmrProof {
    /// The leaf's index (0-based, in append order).
    pub leaf_index: u64,
    /// Leaves in the MMR the proof is against.
    pub leaves: u64,
    /// Sibling hashes from the leaf up to its peak.
    pub siblings: Vec<Hash>,
    /// Every peak of the MMR, left to right.
    pub peaks: Vec<Hash>,
}

/// Why an inclusion proof does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// The proof's shape does not fit an MMR of its claimed size.
    #[error("malformed audit proof: {0}")]
    Malformed(&'static str),
    /// The proof computes a different root.
    #[error("audit proof computes root {computed}, expected {expected}")]
    RootMismatch {
        /// The root the proof leads to.
        computed: Hash,
        /// The root it was checked against.
        expected: Hash,
    },
}

/// Builds the proof for leaf `index` in an MMR of `leaves` leaves.
pub(crate) fn prove<S: NodeStore>(
    store: &S,
    leaves: u64,
    index: u64,
    missing: impl Fn(u64) -> S::Error,
) -> Result<MmrProof, S::Error> {
    let size = size_for(leaves);
    let peak_positions = peaks(size).ok_or_else(|| missing(size))?;
    let mut siblings = Vec::new();
    let mut pos = leaf_position(index);
    let mut h = 0;
    while !peak_positions.contains(&pos) {
        let (sibling, up) = if height(pos + 1) > h {
            (pos + 1 - (2u64 << h), pos + 1)
        } else {
            (pos + (2u64 << h) - 1, pos + (2u64 << h))
        };
        siblings.push(store.node(sibling)?.ok_or_else(|| missing(sibling))?);
        pos = up;
        h += 1;
    }
    let mut peak_digests = Vec::with_capacity(peak_positions.len());
    for p in peak_positions {
        peak_digests.push(store.node(p)?.ok_or_else(|| missing(p))?);
    }
    Ok(MmrProof {
        leaf_index: index,
        leaves,
        siblings,
        peaks: peak_digests,
    })
}

impl MmrProof {
    /// Checks that `leaf` (a [`leaf_hash`]) is leaf number `leaf_index` of the MMR whose root
    /// is `root`. Runs in time bounded by the proof's length; never panics on hostile input.
    ///
    /// # Errors
    /// [`ProofError`] when the proof is malformed or leads to another root.
    pub fn verify(&self, leaf: &Hash, root: &Hash) -> Result<(), ProofError> {
        if self.leaf_index >= self.leaves || self.leaves > (u64::MAX >> 2) {
            return Err(ProofError::Malformed("leaf index outside the MMR"));
        }
        if self.siblings.len() > MAX_PROOF_LEN || self.peaks.len() > MAX_PROOF_LEN {
            return Err(ProofError::Malformed("too many hashes"));
        }
        let size = size_for(self.leaves);
        let peak_positions = peaks(size).ok_or(ProofError::Malformed("invalid MMR size"))?;
        if peak_positions.len() != self.peaks.len() {
            return Err(ProofError::Malformed("wrong number of peaks"));
        }
        let mut pos = leaf_position(self.leaf_index);
        let mut current = *leaf;
        let mut h = 0;
        let mut siblings = self.siblings.iter();
        while !peak_positions.contains(&pos) {
            let sibling = siblings
                .next()
                .ok_or(ProofError::Malformed("too few siblings"))?;
            if height(pos + 1) > h {
                current = parent(sibling, &current);
                pos += 1;
            } else {
                current = parent(&current, sibling);
                pos += 2u64 << h;
            }
            h += 1;
            if pos >= size {
                return Err(ProofError::Malformed("path leaves the MMR"));
            }
        }
        if siblings.next().is_some() {
            return Err(ProofError::Malformed("too many siblings"));
        }
        let at = peak_positions
            .iter()
            .position(|p| *p == pos)
            .ok_or(ProofError::Malformed("path ends off a peak"))?;
        if self.peaks.get(at) != Some(&current) {
            return Err(ProofError::RootMismatch {
                computed: current,
                expected: *root,
            });
        }
        let computed = bag(size, &self.peaks);
        if computed != *root {
            return Err(ProofError::RootMismatch {
                computed,
                expected: *root,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[derive(Default)]
    struct Mem(BTreeMap<u64, Hash>);

    impl NodeStore for Mem {
        type Error = u64;
        fn node(&self, pos: u64) -> Result<Option<Hash>, u64> {
            Ok(self.0.get(&pos).copied())
        }
        fn set_node(&mut self, pos: u64, hash: Hash) {
            self.0.insert(pos, hash);
        }
    }

    fn leaf(i: u64) -> Hash {
        leaf_hash(&i.to_be_bytes())
    }

    /// A reference root: build perfect trees over the leaves greedily from the left.
    fn reference_root(n: u64) -> Hash {
        let mut peaks = Vec::new();
        let mut start = 0;
        let mut remaining = n;
        while remaining > 0 {
            let width = 1u64 << (bit_length(remaining) - 1);
            let mut level: Vec<Hash> = (start..start + width).map(leaf).collect();
            while level.len() > 1 {
                level = level.chunks(2).map(|c| parent(&c[0], &c[1])).collect();
            }
            peaks.push(level[0]);
            start += width;
            remaining -= width;
        }
        bag(size_for(n), &peaks)
    }

    #[test]
    fn heights_and_positions_follow_the_post_order_layout() {
        let heights: Vec<u32> = (0..11).map(height).collect();
        assert_eq!(heights, [0, 0, 1, 0, 0, 1, 2, 0, 0, 1, 0]);
        assert_eq!(
            (0..6).map(leaf_position).collect::<Vec<_>>(),
            [0, 1, 3, 4, 7, 8]
        );
        assert_eq!(peaks(11), Some(vec![6, 9, 10]));
        assert_eq!(peaks(0), Some(vec![]));
        assert_eq!(peaks(2), None, "two nodes is not an MMR");
    }

    #[test]
    fn root_matches_a_reference_and_every_leaf_proves() {
        let mut store = Mem::default();
        let mut size = 0;
        for n in 1..=70u64 {
            size = append(&mut store, size, leaf(n - 1), |p| p).unwrap();
            assert_eq!(size, size_for(n));
            let r = root(&store, size, |p| p).unwrap();
            assert_eq!(r, reference_root(n), "n = {n}");
            for i in 0..n {
                let proof = prove(&store, n, i, |p| p).unwrap();
                proof.verify(&leaf(i), &r).unwrap();
                assert!(
                    proof.verify(&leaf(i + 1), &r).is_err(),
                    "wrong leaf, n={n} i={i}"
                );
            }
        }
    }

    #[test]
    fn tampered_proofs_are_refused() {
        let mut store = Mem::default();
        let mut size = 0;
        for i in 0..13 {
            size = append(&mut store, size, leaf(i), |p| p).unwrap();
        }
        let r = root(&store, size, |p| p).unwrap();
        let good = prove(&store, 13, 5, |p| p).unwrap();
        good.verify(&leaf(5), &r).unwrap();

        let mut p = good.clone();
        p.siblings[0].0[0] ^= 1;
        assert!(matches!(
            p.verify(&leaf(5), &r),
            Err(ProofError::RootMismatch { .. })
        ));
        let mut p = good.clone();
        p.siblings.pop();
        assert!(p.verify(&leaf(5), &r).is_err());
        let mut p = good.clone();
        p.leaves = 14;
        assert!(p.verify(&leaf(5), &r).is_err());
        let mut p = good.clone();
        p.leaf_index = 99;
        assert!(matches!(
            p.verify(&leaf(5), &r),
            Err(ProofError::Malformed(_))
        ));
        let mut p = good;
        p.peaks.push(Hash([0; 32]));
        assert!(matches!(
            p.verify(&leaf(5), &r),
            Err(ProofError::Malformed(_))
        ));
    }
}
