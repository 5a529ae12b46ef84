//! Pedersen generators derived by hashing to the curve: no trusted setup.
//!
//! Generator `i` is the first point whose x-coordinate is
//! `BLAKE3-XOF(derive_key(GENERATOR_CONTEXT), label ‖ i ‖ counter)` reduced into the base field,
//! for the smallest counter giving a point on the curve, with the smaller of the two
//! y-coordinates. Grumpkin has cofactor 1, so every such point is in the prime-order group and
//! nobody knows a discrete-log relation between them.

use std::sync::OnceLock;

use ark_ff::PrimeField;

use crate::field::Affine;

/// Key-derivation context of the generator hash (part of the model id's proof-system params).
pub const GENERATOR_CONTEXT: &str = "counterweight zkml-v1 pedersen generators grumpkin";

/// Most columns of a Hyrax matrix (and so most vector generators).
pub const MAX_COLUMNS: usize = 1024;

/// The fixed generators: `g` (values), `h` (blinding) and `vec` (vector entries).
#[derive(Debug, Clone)]
pub struct Generators {
    /// Generator for committed scalar values.
    pub g: Affine,
    /// Generator for blinding factors.
    pub h: Affine,
    /// Generators for the entries of a committed vector (one Hyrax row).
    pub vec: Vec<Affine>,
}

fn hash_to_curve(label: &[u8], index: u64) -> Affine {
    let mut counter: u64 = 0;
    loop {
        let mut h = blake3::Hasher::new_derive_key(GENERATOR_CONTEXT);
        h.update(label);
        h.update(&index.to_le_bytes());
        h.update(&counter.to_le_bytes());
        let mut wide = [0u8; 64];
        h.finalize_xof().fill(&mut wide);
        let x = ark_grumpkin::Fq::from_le_bytes_mod_order(&wide);
        if let Some(p) = Affine::get_point_from_x_unchecked(x, false) {
            return p;
        }
        counter += 1;
    }
}

impl Generators {
    /// The process-wide generators (derived once, on first use).
    pub fn get() -> &'static Self {
        static GENS: OnceLock<Generators> = OnceLock::new();
        GENS.get_or_init(|| Self {
            g: hash_to_curve(b"g", 0),
            h: hash_to_curve(b"h", 0),
            vec: (0..MAX_COLUMNS as u64)
                .map(|i| hash_to_curve(b"vec", i))
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::AffineRepr;

    #[test]
    fn generators_are_distinct_points_on_the_curve() {
        let g = Generators::get();
        assert!(g.g.is_on_curve() && g.h.is_on_curve());
        assert_ne!(g.g, g.h);
        assert!(!g.g.is_zero());
        assert_eq!(g.vec.len(), MAX_COLUMNS);
        assert_ne!(g.vec[0], g.vec[1]);
        assert_eq!(hash_to_curve(b"vec", 7), g.vec[7]);
    }
}
