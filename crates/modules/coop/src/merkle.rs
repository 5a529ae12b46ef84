//! The dataset commitment: a BLAKE3 Merkle tree over a dataset's records.

use counterweight_types::{Hash, domain};

/// Returns the Merkle root committing to `records`, in order.
///
/// Each record's leaf is `Hash::digest(DATASET_LEAF, [record])`; each inner node is
/// `Hash::digest(DATASET_NODE, [left, right])`. Levels pair nodes left to right and an odd
/// last node is promoted unchanged to the next level. The root of no records is
/// `Hash::digest(DATASET_NODE, [])`, which no leaf or inner node can equal (an inner node
/// always hashes 64 bytes, and leaves use another tag). A single record's root is its leaf.
pub fn dataset_root(records: &[&[u8]]) -> Hash {
    let empty = Hash::digest(domain::DATASET_NODE, &[]);
    let mut level: Vec<Hash> = records
        .iter()
        .map(|r| Hash::digest(domain::DATASET_LEAF, &[r]))
        .collect();
    while level.len() > 1 {
        let mut pairs = level.chunks_exact(2);
        let mut next: Vec<Hash> = pairs
            .by_ref()
            .map(|pair| {
                let parts: Vec<&[u8]> = pair.iter().map(|h| h.0.as_slice()).collect();
                Hash::digest(domain::DATASET_NODE, &parts)
            })
            .collect();
        next.extend_from_slice(pairs.remainder());
        level = next;
    }
    level.first().copied().unwrap_or(empty)
}

#[cfg(test)]
mod tests {
    use counterweight_types::{Hash, domain};

    use super::dataset_root;

    /// Tagged BLAKE3 written out by hand, independent of `Hash::digest`.
    fn tagged(tag: &[u8], data: &[u8]) -> Hash {
        let mut h = blake3::Hasher::new();
        h.update(&(tag.len() as u64).to_be_bytes());
        h.update(tag);
        h.update(data);
        Hash(*h.finalize().as_bytes())
    }

    fn leaf(r: &[u8]) -> Hash {
        tagged(domain::DATASET_LEAF, r)
    }

    fn node(l: Hash, r: Hash) -> Hash {
        tagged(domain::DATASET_NODE, &[l.0, r.0].concat())
    }

    #[test]
    fn matches_the_specified_tree_shape() {
        let [a, b, c, d, e]: [&[u8]; 5] = [b"a", b"b", b"c", b"d", b"e"];
        assert_eq!(dataset_root(&[]), tagged(domain::DATASET_NODE, b""));
        assert_eq!(dataset_root(&[a]), leaf(a));
        assert_eq!(dataset_root(&[a, b]), node(leaf(a), leaf(b)));
        // An odd last node is promoted unchanged.
        assert_eq!(
            dataset_root(&[a, b, c]),
            node(node(leaf(a), leaf(b)), leaf(c))
        );
        let ab_cd = node(node(leaf(a), leaf(b)), node(leaf(c), leaf(d)));
        assert_eq!(dataset_root(&[a, b, c, d]), ab_cd);
        assert_eq!(dataset_root(&[a, b, c, d, e]), node(ab_cd, leaf(e)));
    }

    #[test]
    fn known_vectors() {
        let vectors: [(&[&[u8]], &str); 4] = [
            (
                &[],
                "2d17478078640bd3f57fbedb1086c7dcc516644d097a35ee6aa210aaa1696188",
            ),
            (
                &[b""],
                "68d06f0716508b9723a87927b073b089e012bb31bdf10f3d37fd9f2a93fb99da",
            ),
            (
                &[b"a,b", b"1,2"],
                "9731992ac01b388c1d2f756773603af306f0cefe7dcde741a8fd7ef1c7fdc8d3",
            ),
            (
                &[b"1", b"2", b"3"],
                "1fce0f95533581f141bd7552a0849c4691b354285dba2ab9951003baac1e64a6",
            ),
        ];
        for (records, expected) in vectors {
            assert_eq!(dataset_root(records).to_hex(), expected, "{records:?}");
        }
    }

    #[test]
    fn is_order_sensitive_and_distinguishes_empty_inputs() {
        let r1: &[u8] = b"2026-05-01,north,310";
        let r2: &[u8] = b"2026-05-01,south,295";
        assert_ne!(dataset_root(&[r1, r2]), dataset_root(&[r2, r1]));
        assert_ne!(dataset_root(&[]), dataset_root(&[b""]));
        assert_ne!(dataset_root(&[r1]), dataset_root(&[r1, r1]));
        // A leaf never equals an inner node over the same bytes.
        let joined = [leaf(r1).0, leaf(r2).0].concat();
        assert_ne!(dataset_root(&[&joined]), dataset_root(&[r1, r2]));
    }
}
