//! A specialised prover for the bit-matrix sumcheck (S2).
//!
//! The summand of S2 at `(row, j)` is
//! `B·Σ_t a_t(row)·c_t(j) + zr(row)·c_bb(j)·B² + zr(row)·fo(row)·c_fo(j)` with five row
//! coefficient vectors `a = (er, ur, zr, zr·fo, zr·fu)` and column tables
//! `c = (rel, val, c_b, c_bfo, c_bfu)`. The column variables are bound first. While they are,
//! the row sums can be taken before the column sums: the linear part only needs the five
//! vectors `A_t = Bᵀ·a_t` (which fold like `B`), and the square only needs three per-pair sums
//! of `zr·B0²`, `zr·B0·(B1−B0)` and `zr·(B1−B0)²`. On the first round `B` is a bit matrix, so
//! all of these are additions. Once the columns are bound, the rest is a small generic
//! sumcheck over the rows. The messages are exactly those of the generic prover.

use ark_ff::{AdditiveGroup, Field, Zero};
use counterweight_zkml_verifier::{BitTables, Fr, LayerGeom, Transcript};

use crate::pedersen::Opening;
use crate::rng::BlindRng;
use crate::sumcheck::{self, Factor, SumcheckOut, Term, commit_round};

fn fold(v: &mut Vec<Fr>, r: Fr) {
    let half = v.len() / 2;
    for i in 0..half {
        let (a, b) = (v[2 * i], v[2 * i + 1]);
        v[i] = a + r * (b - a);
    }
    v.truncate(half.max(1));
}

/// `v[2i] + x·(v[2i+1] − v[2i])` for `x = 0..=3`.
fn line(v: &[Fr], i: usize) -> [Fr; 4] {
    let (a, b) = (v[2 * i], v[2 * i + 1]);
    let d = b - a;
    let a2 = b + d;
    [a, b, a2, a2 + d]
}

/// Evaluations at `0..=3` of one column round polynomial.
fn column_round(
    c: &[Vec<Fr>; 5],
    at: &[Vec<Fr>; 5],
    c_bb: &[Fr],
    c_fo: &[Fr],
    s_fo: Fr,
    q: &[[Fr; 3]],
) -> [Fr; 4] {
    let mut evals = [Fr::ZERO; 4];
    let two = Fr::from(2u64);
    for (i, qi) in q.iter().enumerate() {
        let mut e = [Fr::ZERO; 4];
        for t in 0..5 {
            let (cl, al) = (line(&c[t], i), line(&at[t], i));
            for x in 0..4 {
                e[x] += cl[x] * al[x];
            }
        }
        let (bb, fo) = (line(c_bb, i), line(c_fo, i));
        let mut xf = Fr::ZERO;
        for x in 0..4 {
            // Σ_row zr·(B0 + x·D)² = Q0 + 2x·Q1 + x²·Q2.
            let sq = qi[0] + two * xf * qi[1] + xf.square() * qi[2];
            e[x] += bb[x] * sq + fo[x] * s_fo;
            xf += Fr::ONE;
        }
        for x in 0..4 {
            evals[x] += e[x];
        }
    }
    evals
}

/// Prove layer `g`'s bit-matrix sumcheck for `claim` over the row-major `bits`
/// (`2^j_vars` columns per row). Returns the same messages, point and final values
/// `(B̃, F̃_over, F̃_under, ...)` as the generic prover.
pub(crate) fn prove_bits(
    tr: &mut Transcript,
    rng: &mut BlindRng,
    claim: Opening,
    g: &LayerGeom,
    bits: &[u8],
    tables: &BitTables,
) -> SumcheckOut {
    let cols = 1usize << g.j_vars;
    let rows = 1usize << g.row_vars();
    debug_assert_eq!(bits.len(), rows * cols);
    let flag = |col: usize| -> Vec<Fr> {
        (0..rows)
            .map(|r| Fr::from(u64::from(bits[r * cols + col])))
            .collect()
    };
    let (fo, fu) = (flag(g.col_flag_over()), flag(g.col_flag_under()));
    let zr = &tables.zr;
    let a: [Vec<Fr>; 5] = [
        tables.er.clone(),
        tables.ur.clone(),
        zr.clone(),
        zr.iter().zip(&fo).map(|(z, f)| *z * f).collect(),
        zr.iter().zip(&fu).map(|(z, f)| *z * f).collect(),
    ];
    let s_fo: Fr = a[3].iter().sum();
    let mut c = [
        tables.rel.clone(),
        tables.val.clone(),
        tables.c_b.clone(),
        tables.c_bfo.clone(),
        tables.c_bfu.clone(),
    ];
    let (mut c_bb, mut c_fo) = (tables.c_bb.clone(), tables.c_fo.clone());

    // A_t = Bᵀ·a_t and the first round's square sums, from the bits by additions.
    let mut at: [Vec<Fr>; 5] = std::array::from_fn(|_| vec![Fr::ZERO; cols]);
    let mut q = vec![[Fr::ZERO; 3]; cols / 2];
    for row in 0..rows {
        let rb = &bits[row * cols..(row + 1) * cols];
        let coef: [Fr; 5] = std::array::from_fn(|t| a[t][row]);
        if coef.iter().all(Zero::is_zero) {
            continue;
        }
        for (j, &b) in rb.iter().enumerate() {
            if b != 0 {
                for t in 0..5 {
                    at[t][j] += coef[t];
                }
            }
        }
        let z = zr[row];
        for (i, qi) in q.iter_mut().enumerate() {
            match (rb[2 * i], rb[2 * i + 1]) {
                (0, 0) => {}
                (0, _) => qi[2] += z,
                (_, 0) => {
                    qi[0] += z;
                    qi[1] -= z;
                    qi[2] += z;
                }
                _ => qi[0] += z,
            }
        }
    }

    let mut claim = claim;
    let mut point = Vec::with_capacity(g.j_vars + g.row_vars());
    let mut rounds = Vec::with_capacity(g.j_vars + g.row_vars());
    let mut b: Vec<Fr> = Vec::new();
    let mut width = cols;
    for round in 0..g.j_vars {
        if round > 0 {
            q = vec![[Fr::ZERO; 3]; width / 2];
            for (row, brow) in b.chunks_exact(width).enumerate() {
                let z = zr[row];
                if z.is_zero() {
                    continue;
                }
                for (i, qi) in q.iter_mut().enumerate() {
                    let (b0, b1) = (brow[2 * i], brow[2 * i + 1]);
                    if b0.is_zero() && b1.is_zero() {
                        continue;
                    }
                    let d = b1 - b0;
                    let (u, v) = (z * b0, z * d);
                    qi[0] += u * b0;
                    qi[1] += u * d;
                    qi[2] += v * d;
                }
            }
        }
        let evals = column_round(&c, &at, &c_bb, &c_fo, s_fo, &q);
        debug_assert_eq!(
            evals[0] + evals[1],
            claim.v,
            "bit sumcheck round {round} inconsistent"
        );
        let (r, rp) = commit_round(tr, rng, &mut claim, &evals);
        point.push(r);
        rounds.push(rp);
        c.iter_mut().chain(at.iter_mut()).for_each(|v| fold(v, r));
        fold(&mut c_bb, r);
        fold(&mut c_fo, r);
        let half = width / 2;
        if round == 0 {
            // Folding bits: (0,0) → 0, (1,0) → 1 − r, (0,1) → r, (1,1) → 1.
            let lut = [Fr::ZERO, Fr::ONE - r, r, Fr::ONE];
            b = bits
                .chunks_exact(2)
                .map(|p| lut[usize::from(p[0] != 0) + 2 * usize::from(p[1] != 0)])
                .collect();
        } else {
            let mut next = Vec::with_capacity(b.len() / 2);
            for p in b.chunks_exact(2) {
                next.push(p[0] + r * (p[1] - p[0]));
            }
            b = next;
        }
        width = half;
    }
    debug_assert_eq!(b.len(), rows);

    // The row phase: every column table is now a scalar.
    let scaled = |row: &[Fr], s: Fr| -> Vec<Fr> { row.iter().map(|v| *v * s).collect() };
    let factors = vec![
        Factor::Full(b),
        Factor::Full(fo),
        Factor::Full(fu),
        Factor::Full(scaled(&tables.er, c[0][0])),
        Factor::Full(scaled(&tables.ur, c[1][0])),
        Factor::Full(scaled(zr, c[2][0])),
        Factor::Full(scaled(zr, c_fo[0])),
        Factor::Full(scaled(zr, c[3][0])),
        Factor::Full(scaled(zr, c[4][0])),
        Factor::Full(scaled(zr, c_bb[0])),
    ];
    let terms = s2_terms();
    let rest = sumcheck::prove_sparse(tr, rng, claim, factors, &terms, g.row_vars(), 3, &[0, 1, 2]);
    SumcheckOut::after(point, rounds, rest)
}

/// The terms of S2 over the factors
/// `(B, F_over, F_under, er·rel, ur·val, zr·c_b, zr·c_fo, zr·c_bfo, zr·c_bfu, zr·c_bb)`.
pub(crate) fn s2_terms() -> [Term; 7] {
    [
        Term::new(&[0, 3]),
        Term::new(&[0, 4]),
        Term::new(&[0, 5]),
        Term::new(&[1, 6]),
        Term::new(&[0, 1, 7]),
        Term::new(&[0, 2, 8]),
        Term::new(&[0, 0, 9]),
    ]
}

#[cfg(test)]
mod tests {
    use counterweight_zkml_verifier::{Circuit, LayerKind, LayerSpec, Requant};

    use super::*;
    use crate::test_utils::TestRng;

    /// The generic prover over the same factors, as a reference.
    fn generic(
        tr: &mut Transcript,
        rng: &mut BlindRng,
        claim: Opening,
        g: &LayerGeom,
        bits: &[u8],
        t: &BitTables,
    ) -> SumcheckOut {
        let (cols, rows) = (1usize << g.j_vars, 1usize << g.row_vars());
        let bfull: Vec<Fr> = bits.iter().map(|&b| Fr::from(u64::from(b))).collect();
        let flag = |col: usize| -> Vec<Fr> { (0..rows).map(|r| bfull[r * cols + col]).collect() };
        let ones = vec![Fr::ONE; cols];
        // A row-by-column product table, index `row · cols + j`.
        let sep = |row: Vec<Fr>, col: Vec<Fr>| {
            Factor::Full(
                row.iter()
                    .flat_map(|r| col.iter().map(move |c| *r * c))
                    .collect(),
            )
        };
        let factors = vec![
            Factor::Full(bfull.clone()),
            sep(flag(g.col_flag_over()), ones.clone()),
            sep(flag(g.col_flag_under()), ones),
            sep(t.er.clone(), t.rel.clone()),
            sep(t.ur.clone(), t.val.clone()),
            sep(t.zr.clone(), t.c_b.clone()),
            sep(t.zr.clone(), t.c_fo.clone()),
            sep(t.zr.clone(), t.c_bfo.clone()),
            sep(t.zr.clone(), t.c_bfu.clone()),
            sep(t.zr.clone(), t.c_bb.clone()),
        ];
        let vars = g.j_vars + g.row_vars();
        sumcheck::prove_sparse(tr, rng, claim, factors, &s2_terms(), vars, 3, &[0, 1, 2])
    }

    /// The S2 sum computed directly.
    fn direct_sum(g: &LayerGeom, bits: &[u8], t: &BitTables) -> Fr {
        let cols = 1usize << g.j_vars;
        let mut s = Fr::ZERO;
        for (i, &bit) in bits.iter().enumerate() {
            let (row, j) = (i / cols, i % cols);
            let b = Fr::from(u64::from(bit));
            let fo = Fr::from(u64::from(bits[row * cols + g.col_flag_over()]));
            let fu = Fr::from(u64::from(bits[row * cols + g.col_flag_under()]));
            let z = t.zr[row];
            s += b * (t.er[row] * t.rel[j] + t.ur[row] * t.val[j] + z * t.c_b[j])
                + fo * z * t.c_fo[j]
                + b * fo * z * t.c_bfo[j]
                + b * fu * z * t.c_bfu[j]
                + b * b * z * t.c_bb[j];
        }
        s
    }

    #[test]
    fn specialised_bit_sumcheck_matches_the_generic_prover() {
        let circuit = Circuit {
            input_len: 16,
            layers: vec![LayerSpec {
                kind: LayerKind::Linear {
                    in_features: 16,
                    out_features: 5,
                },
                relu: true,
                requant: vec![
                    Requant {
                        multiplier: 1 << 29,
                        shift: 35
                    };
                    5
                ],
                bias_bits: 16,
            }],
        };
        let g = &circuit.geometry().unwrap()[0];
        let (cols, rows) = (1usize << g.j_vars, 1usize << g.row_vars());
        let mut trng = TestRng::new(42);
        // Arbitrary bits on real rows (the identity holds for any matrix), zero padding rows.
        let bits: Vec<u8> = (0..rows * cols)
            .map(|i| u8::from(g.flat(i / cols).is_some() && trng.next_u64().is_multiple_of(3)))
            .collect();
        let mut tr = Transcript::new(b"bits test");
        let ch = |tr: &mut Transcript, n| tr.challenges(b"c", n);
        let tau = ch(&mut tr, g.row_vars());
        let u_out = ch(&mut tr, 3);
        let tau_z = ch(&mut tr, g.j_vars + g.row_vars());
        let (beta, gamma) = (tr.challenge(b"b"), tr.challenge(b"g"));
        let tables = BitTables::new(g, &tau, &u_out, beta, gamma, &tau_z);
        let claim = Opening {
            v: direct_sum(g, &bits, &tables),
            r: Fr::from(7u64),
        };
        let (mut tr1, mut tr2) = (tr.clone(), tr);
        let mut rng1 = BlindRng::from_seed([4; 32]);
        let mut rng2 = BlindRng::from_seed([4; 32]);
        let a = prove_bits(&mut tr1, &mut rng1, claim, g, &bits, &tables);
        let b = generic(&mut tr2, &mut rng2, claim, g, &bits, &tables);
        assert_eq!(a.proof, b.proof);
        assert_eq!(a.point, b.point);
        assert_eq!(a.claim, b.claim);
        assert_eq!(a.finals[..3], b.finals[..3]);
        assert_eq!(tr1.challenge(b"end"), tr2.challenge(b"end"));
    }
}
