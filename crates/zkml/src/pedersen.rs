//! Pedersen commitments and the Σ-protocols the prover runs over them.

use std::sync::OnceLock;

use ark_ec::{AffineRepr, CurveGroup, VariableBaseMSM};
use ark_ff::{AdditiveGroup, BigInteger, PrimeField};
use counterweight_zkml_verifier::{
    Affine, DotProof, Fr, Generators, Layout, ProductProof, Projective, Transcript, ZeroProof,
};

use crate::rng::BlindRng;

/// Precomputed multiples `i · 2^(8w) · P` for fast fixed-base multiplication.
pub(crate) struct FixedBase {
    table: Vec<Vec<Affine>>,
}

impl FixedBase {
    fn new(p: Affine) -> Self {
        let mut base: Projective = p.into_group();
        let mut table = Vec::with_capacity(32);
        for _ in 0..32 {
            let mut row = Vec::with_capacity(256);
            let mut acc = Projective::ZERO;
            for _ in 0..256 {
                row.push(acc);
                acc += base;
            }
            table.push(Projective::normalize_batch(&row));
            base = acc;
        }
        Self { table }
    }

    pub(crate) fn mul(&self, s: &Fr) -> Projective {
        let bytes = s.into_bigint().to_bytes_le();
        let mut acc = Projective::ZERO;
        for (row, &b) in self.table.iter().zip(bytes.iter()) {
            if b != 0 {
                acc += row[b as usize];
            }
        }
        acc
    }
}

pub(crate) struct Bases {
    pub(crate) g: FixedBase,
    pub(crate) h: FixedBase,
}

pub(crate) fn bases() -> &'static Bases {
    static B: OnceLock<Bases> = OnceLock::new();
    B.get_or_init(|| {
        let gens = Generators::get();
        Bases {
            g: FixedBase::new(gens.g),
            h: FixedBase::new(gens.h),
        }
    })
}

/// `v·G + r·H`.
pub(crate) fn commit(v: &Fr, r: &Fr) -> Projective {
    let b = bases();
    b.g.mul(v) + b.h.mul(r)
}

/// A committed scalar on the prover's side: the value and its blinding. Linear operations
/// mirror the verifier's symbolic combinations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Opening {
    pub(crate) v: Fr,
    pub(crate) r: Fr,
}

impl Opening {
    pub(crate) fn public(v: Fr) -> Self {
        Self { v, r: Fr::ZERO }
    }
    pub(crate) fn fresh(v: Fr, rng: &mut BlindRng) -> Self {
        Self { v, r: rng.fr() }
    }
    pub(crate) fn point(&self) -> Affine {
        commit(&self.v, &self.r).into_affine()
    }
    pub(crate) fn add_scaled(&mut self, o: &Self, s: Fr) {
        self.v += o.v * s;
        self.r += o.r * s;
    }
}

/// Prove that a combination with blinding `t` (and value zero) opens to zero.
pub(crate) fn prove_zero(tr: &mut Transcript, rng: &mut BlindRng, d: &Opening) -> ZeroProof {
    debug_assert!(d.v == Fr::ZERO, "zero proof of a nonzero value");
    let k = rng.fr();
    let a = bases().h.mul(&k).into_affine();
    tr.append_point(b"zero.a", &a);
    let c = tr.challenge(b"zero.c");
    let z = k + c * d.r;
    tr.append_fr(b"zero.z", &z);
    ZeroProof { a, z }
}

/// Prove `Z = X·Y` for committed `x`, `y`, `z` (with `Y`'s point given).
pub(crate) fn prove_product(
    tr: &mut Transcript,
    rng: &mut BlindRng,
    x: &Opening,
    y: &Opening,
    y_point: Affine,
    z: &Opening,
) -> ProductProof {
    let b: Vec<Fr> = rng.frs(5);
    let alpha = commit(&b[0], &b[1]);
    let beta = commit(&b[2], &b[3]);
    let delta = y_point * b[0] + bases().h.mul(&b[4]);
    let pts = Projective::normalize_batch(&[alpha, beta, delta]);
    let points = [pts[0], pts[1], pts[2]];
    tr.append_points(b"prod.commit", &points);
    let c = tr.challenge(b"prod.c");
    let zs = [
        b[0] + c * x.v,
        b[1] + c * x.r,
        b[2] + c * y.v,
        b[3] + c * y.r,
        b[4] + c * (z.r - x.v * y.r),
    ];
    tr.append_frs(b"prod.z", &zs);
    ProductProof { points, z: zs }
}

/// Prove that the row combination `w` (committed with blinding `r_t` under the vector
/// generators) has inner product `y.v` with the public `rv`, where `y` is committed.
pub(crate) fn prove_dot(
    tr: &mut Transcript,
    rng: &mut BlindRng,
    w: &[Fr],
    r_t: Fr,
    rv: &[Fr],
    y: &Opening,
) -> DotProof {
    let gens = Generators::get();
    let d = rng.frs(w.len());
    let (r_delta, r_beta) = (rng.fr(), rng.fr());
    let delta = Projective::msm_unchecked(&gens.vec[..w.len()], &d) + bases().h.mul(&r_delta);
    let ip: Fr = d.iter().zip(rv).map(|(a, b)| *a * b).sum();
    let beta = commit(&ip, &r_beta);
    let pts = Projective::normalize_batch(&[delta, beta]);
    tr.append_point(b"dot.delta", &pts[0]);
    tr.append_point(b"dot.beta", &pts[1]);
    let c = tr.challenge(b"dot.c");
    let z: Vec<Fr> = w.iter().zip(&d).map(|(wi, di)| c * wi + di).collect();
    let z_delta = c * r_t + r_delta;
    let z_beta = c * y.r + r_beta;
    tr.append_frs(b"dot.z", &z);
    tr.append_fr(b"dot.zd", &z_delta);
    tr.append_fr(b"dot.zb", &z_beta);
    DotProof {
        delta: pts[0],
        beta: pts[1],
        z,
        z_delta,
        z_beta,
    }
}

/// Hyrax row commitments of a vector of small integers laid out in rows of `2^col_vars`; the
/// layout's padding rows (all zero by construction) get no blinding, so they commit to the
/// identity.
pub(crate) fn commit_rows_small(
    values: &[i64],
    layout: &Layout,
    rng: &mut BlindRng,
) -> (Vec<Affine>, Vec<Fr>) {
    let gens = Generators::get();
    let c = 1usize << layout.col_vars;
    let mut blinds = rng.frs(layout.rows);
    for (b, pad) in blinds.iter_mut().zip(&layout.padding) {
        if *pad {
            *b = Fr::ZERO;
        }
    }
    let mut out = Vec::with_capacity(layout.rows);
    for (i, r) in blinds.iter().enumerate() {
        let start = (i * c).min(values.len());
        let end = ((i + 1) * c).min(values.len());
        let vals: Vec<Fr> = values[start..end]
            .iter()
            .map(|&v| counterweight_zkml_verifier::fr_i64(v))
            .collect();
        let acc = Projective::msm_unchecked(&gens.vec[..vals.len()], &vals) + bases().h.mul(r);
        out.push(acc);
    }
    (Projective::normalize_batch(&out), blinds)
}

/// `Σ_j v_j · G_j` for a row of bits.
pub(crate) fn commit_bits_row(bits: &[u8], r: &Fr) -> Projective {
    let gens = Generators::get();
    let mut acc = bases().h.mul(r);
    for (j, &b) in bits.iter().enumerate() {
        if b != 0 {
            acc += gens.vec[j];
        }
    }
    acc
}

/// One Hyrax row commitment `Σ_j v_j·G_j + r·H` (used to check stored openings).
pub(crate) fn commit_row(values: &[Fr], r: &Fr) -> Affine {
    let gens = Generators::get();
    (Projective::msm_unchecked(&gens.vec[..values.len()], values) + bases().h.mul(r)).into_affine()
}
