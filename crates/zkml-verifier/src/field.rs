//! The field and group, and multilinear-extension helpers.
//!
//! The proof system works over Grumpkin (a pairing-free, prime-order curve whose scalar field is
//! BN254's base field). All other modules name the types only through these aliases, so another
//! backend changes this file and the commitment module.

use ark_ff::{AdditiveGroup, Field, PrimeField};

/// Scalar field of the commitment group; every circuit value lives here.
pub type Fr = ark_grumpkin::Fr;
/// A group element in affine form (what proofs carry).
pub type Affine = ark_grumpkin::Affine;
/// A group element in projective form (what arithmetic uses).
pub type Projective = ark_grumpkin::Projective;

/// Map a signed 64-bit integer into the field (negative values wrap to `p - |v|`).
pub fn fr_i64(v: i64) -> Fr {
    if v < 0 {
        -Fr::from(v.unsigned_abs())
    } else {
        Fr::from(v as u64)
    }
}

/// Map a signed 128-bit integer into the field.
pub fn fr_i128(v: i128) -> Fr {
    if v < 0 {
        -Fr::from(v.unsigned_abs())
    } else {
        Fr::from(v as u128)
    }
}

/// The table `eq(r, i)` for every `i < 2^r.len()`; bit `t` of `i` pairs with `r[t]`.
pub fn eq_table(r: &[Fr]) -> Vec<Fr> {
    let mut t = Vec::with_capacity(1 << r.len());
    t.push(Fr::ONE);
    for &ri in r {
        let n = t.len();
        t.extend_from_within(..n);
        for i in 0..n {
            let hi = t[i] * ri;
            t[i] -= hi;
            t[i + n] = hi;
        }
    }
    t
}

/// `eq(r, index)` for one hypercube point given by the bits of `index`.
pub fn eq_at_index(r: &[Fr], index: usize) -> Fr {
    r.iter().enumerate().fold(Fr::ONE, |acc, (t, &ri)| {
        if (index >> t) & 1 == 1 {
            acc * ri
        } else {
            acc * (Fr::ONE - ri)
        }
    })
}

/// `eq(a, b)` for two points of the same length.
pub fn eq_eval(a: &[Fr], b: &[Fr]) -> Fr {
    a.iter().zip(b).fold(Fr::ONE, |acc, (&x, &y)| {
        acc * (x * y + (Fr::ONE - x) * (Fr::ONE - y))
    })
}

/// Evaluate the multilinear extension of `table` (zero-padded to `2^r.len()`) at `r`.
pub fn mle_eval(table: &[Fr], r: &[Fr]) -> Fr {
    let n = 1usize << r.len();
    let mut t: Vec<Fr> = table.iter().take(n).copied().collect();
    t.resize(n, Fr::ZERO);
    for &ri in r {
        let half = t.len() / 2;
        for i in 0..half {
            let (a, b) = (t[2 * i], t[2 * i + 1]);
            t[i] = a + ri * (b - a);
        }
        t.truncate(half);
    }
    t.first().copied().unwrap_or(Fr::ZERO)
}

/// The point's coordinates for a hypercube index: bit `t` of `index` as 0 or 1, `vars` of them.
pub fn index_bits(index: usize, vars: usize) -> Vec<Fr> {
    (0..vars)
        .map(|t| {
            if (index >> t) & 1 == 1 {
                Fr::ONE
            } else {
                Fr::ZERO
            }
        })
        .collect()
}

/// Number of variables of the smallest hypercube holding `n` entries (`0` for `n <= 1`).
pub fn log2_ceil(n: usize) -> usize {
    if n <= 1 {
        0
    } else {
        (usize::BITS - (n - 1).leading_zeros()) as usize
    }
}

/// Evaluate the polynomial with coefficients `c` (constant first) at `x`.
pub fn poly_eval(c: &[Fr], x: Fr) -> Fr {
    c.iter().rev().fold(Fr::ZERO, |acc, &ci| acc * x + ci)
}

/// Reduce 64 uniformly random bytes to a field element (bias below 2^-250).
pub fn fr_from_wide(bytes: &[u8; 64]) -> Fr {
    Fr::from_le_bytes_mod_order(bytes)
}

/// `x^-1`, or zero for zero.
pub fn inv_or_zero(x: Fr) -> Fr {
    x.inverse().unwrap_or(Fr::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eq_table_matches_pointwise_eq_and_mle_eval() {
        let r: Vec<Fr> = (1..=3u64).map(|v| Fr::from(v * 7 + 3)).collect();
        let t = eq_table(&r);
        for (i, v) in t.iter().enumerate() {
            assert_eq!(*v, eq_at_index(&r, i));
            assert_eq!(*v, eq_eval(&r, &index_bits(i, 3)));
        }
        let table: Vec<Fr> = (0..8u64).map(|v| Fr::from(v * v + 1)).collect();
        let direct: Fr = table.iter().zip(&t).map(|(a, b)| *a * b).sum();
        assert_eq!(mle_eval(&table, &r), direct);
        assert_eq!(mle_eval(&table, &index_bits(5, 3)), table[5]);
        assert_eq!(fr_i64(-5) + Fr::from(5u64), Fr::ZERO);
        assert_eq!(log2_ceil(1), 0);
        assert_eq!(log2_ceil(784), 10);
        assert_eq!(log2_ceil(1024), 10);
    }
}
