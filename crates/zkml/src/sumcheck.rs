//! The committed sumcheck prover over sums of products of multilinear factors.

use ark_ec::CurveGroup;
use ark_ff::{AdditiveGroup, Field, Zero};
use counterweight_zkml_verifier::{
    Affine, Fr, Projective, RoundProof, SumcheckProof, Transcript, poly_eval,
};

use crate::pedersen::{Opening, commit, prove_zero};
use crate::rng::BlindRng;

/// One multilinear factor, stored densely or as a separable `row(i >> c) · col(i & (2^c - 1))`
/// product (which keeps public row-by-column tables small).
#[derive(Debug, Clone)]
pub(crate) enum Factor {
    Full(Vec<Fr>),
    Sep {
        row: Vec<Fr>,
        col: Vec<Fr>,
        cv: usize,
    },
}

impl Factor {
    pub(crate) fn sep(row: Vec<Fr>, col: Vec<Fr>) -> Self {
        let cv = counterweight_zkml_verifier::log2_ceil(col.len());
        Self::Sep { row, col, cv }
    }

    #[inline]
    fn at(&self, i: usize) -> Fr {
        match self {
            Self::Full(v) => v[i],
            Self::Sep { row, col, cv } => row[i >> cv] * col[i & ((1 << cv) - 1)],
        }
    }

    fn fold(&mut self, r: Fr) {
        fn fold_vec(v: &mut Vec<Fr>, r: Fr) {
            let half = v.len() / 2;
            for i in 0..half {
                let (a, b) = (v[2 * i], v[2 * i + 1]);
                v[i] = a + r * (b - a);
            }
            v.truncate(half.max(1));
        }
        match self {
            Self::Full(v) => fold_vec(v, r),
            Self::Sep { row, col, cv } => {
                if *cv > 0 {
                    fold_vec(col, r);
                    *cv -= 1;
                } else {
                    fold_vec(row, r);
                }
            }
        }
    }

    fn value(&self) -> Fr {
        self.at(0)
    }
}

/// A term `coef · Π factors[i]`.
#[derive(Debug, Clone)]
pub(crate) struct Term {
    pub(crate) coef: Fr,
    pub(crate) factors: Vec<usize>,
}

impl Term {
    pub(crate) fn new(factors: &[usize]) -> Self {
        Self {
            coef: Fr::ONE,
            factors: factors.to_vec(),
        }
    }
}

/// Coefficients (constant first) of the polynomial of degree `evals.len() - 1` through
/// `(0, evals[0]), (1, evals[1]), ...`.
fn interpolate(evals: &[Fr]) -> Vec<Fr> {
    let n = evals.len();
    // Newton forward differences, then expand the Newton basis x(x-1)...(x-k+1)/k!.
    let mut diffs = evals.to_vec();
    let mut newton = Vec::with_capacity(n);
    for k in 0..n {
        newton.push(diffs[0]);
        for i in 0..n - k - 1 {
            diffs[i] = diffs[i + 1] - diffs[i];
        }
    }
    let mut coeffs = vec![Fr::ZERO; n];
    let mut basis = vec![Fr::ONE]; // x(x-1)...(x-k+1)
    let mut fact = Fr::ONE;
    for (k, nk) in newton.iter().enumerate() {
        if k > 0 {
            fact *= Fr::from(k as u64);
            let mut next = vec![Fr::ZERO; basis.len() + 1];
            let shift = Fr::from((k - 1) as u64);
            for (i, b) in basis.iter().enumerate() {
                next[i + 1] += b;
                next[i] -= *b * shift;
            }
            basis = next;
        }
        let s = *nk * fact.inverse().unwrap_or(Fr::ZERO);
        for (i, b) in basis.iter().enumerate() {
            coeffs[i] += *b * s;
        }
    }
    coeffs
}

/// Output of one committed sumcheck.
pub(crate) struct SumcheckOut {
    pub(crate) point: Vec<Fr>,
    pub(crate) claim: Opening,
    pub(crate) finals: Vec<Fr>,
    pub(crate) proof: SumcheckProof,
}

/// Prove `Σ_x Σ_t coef_t · Π_{f ∈ t} f(x) = claim.v` over `vars` variables, committing to each
/// round polynomial (degree `degree`) so nothing about the summand is revealed.
pub(crate) fn prove(
    tr: &mut Transcript,
    rng: &mut BlindRng,
    claim: Opening,
    factors: Vec<Factor>,
    terms: &[Term],
    vars: usize,
    degree: usize,
) -> SumcheckOut {
    prove_sparse(tr, rng, claim, factors, terms, vars, degree, &[])
}

/// [`prove`], skipping every pair of entries where all factors in `sparse` vanish; valid only
/// when every term contains at least one factor of `sparse`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn prove_sparse(
    tr: &mut Transcript,
    rng: &mut BlindRng,
    claim: Opening,
    mut factors: Vec<Factor>,
    terms: &[Term],
    vars: usize,
    degree: usize,
    sparse: &[usize],
) -> SumcheckOut {
    debug_assert!(
        sparse.is_empty()
            || terms
                .iter()
                .all(|t| t.factors.iter().any(|f| sparse.contains(f)))
    );
    let mut claim = claim;
    let mut point = Vec::with_capacity(vars);
    let mut rounds = Vec::with_capacity(vars);
    let nf = factors.len();
    for round in 0..vars {
        let half = 1usize << (vars - round - 1);
        let mut evals = vec![Fr::ZERO; degree + 1];
        let mut v0 = vec![Fr::ZERO; nf];
        let mut dv = vec![Fr::ZERO; nf];
        let mut cur = vec![Fr::ZERO; nf];
        for i in 0..half {
            if !sparse.is_empty()
                && sparse
                    .iter()
                    .all(|&f| factors[f].at(2 * i).is_zero() && factors[f].at(2 * i + 1).is_zero())
            {
                continue;
            }
            for (f, fac) in factors.iter().enumerate() {
                let a = fac.at(2 * i);
                let b = fac.at(2 * i + 1);
                v0[f] = a;
                dv[f] = b - a;
            }
            cur.copy_from_slice(&v0);
            for (x, e) in evals.iter_mut().enumerate() {
                if x > 0 {
                    for f in 0..nf {
                        cur[f] += dv[f];
                    }
                }
                for t in terms {
                    let mut p = t.coef;
                    for &f in &t.factors {
                        p *= cur[f];
                    }
                    *e += p;
                }
            }
        }
        debug_assert_eq!(
            evals[0] + evals[1],
            claim.v,
            "sumcheck round {round} inconsistent"
        );
        let coeffs = interpolate(&evals);
        let blinds = rng.frs(coeffs.len());
        let pts: Vec<Projective> = coeffs
            .iter()
            .zip(&blinds)
            .map(|(c, r)| commit(c, r))
            .collect();
        let pts: Vec<Affine> = Projective::normalize_batch(&pts);
        tr.append_points(b"sc.coeffs", &pts);
        let mut d = Opening::default();
        for (k, (c, r)) in coeffs.iter().zip(&blinds).enumerate() {
            let s = if k == 0 { Fr::from(2u64) } else { Fr::ONE };
            d.add_scaled(&Opening { v: *c, r: *r }, s);
        }
        d.add_scaled(&claim, -Fr::ONE);
        let zero = prove_zero(tr, rng, &d);
        let r = tr.challenge(b"sc.r");
        let mut next = Opening::default();
        let mut pow = Fr::ONE;
        for (c, b) in coeffs.iter().zip(&blinds) {
            next.add_scaled(&Opening { v: *c, r: *b }, pow);
            pow *= r;
        }
        debug_assert_eq!(next.v, poly_eval(&coeffs, r));
        claim = next;
        for fac in &mut factors {
            fac.fold(r);
        }
        point.push(r);
        rounds.push(RoundProof { coeffs: pts, zero });
    }
    SumcheckOut {
        point,
        claim,
        finals: factors.iter().map(Factor::value).collect(),
        proof: SumcheckProof { rounds },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolation_recovers_coefficients() {
        let c = [3u64, 5, 7, 11].map(Fr::from);
        let evals: Vec<Fr> = (0..4u64).map(|x| poly_eval(&c, Fr::from(x))).collect();
        assert_eq!(interpolate(&evals), c.to_vec());
    }
}
