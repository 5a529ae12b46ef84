//! The committed sumcheck prover over sums of products of multilinear factors.

use ark_ec::CurveGroup;
use ark_ff::{AdditiveGroup, Field, Zero};
use counterweight_zkml_verifier::{
    Affine, Fr, Projective, RoundProof, SumcheckProof, Transcript, poly_eval,
};

use crate::pedersen::{Opening, commit};
use crate::rng::BlindRng;

/// One multilinear factor, stored densely.
#[derive(Debug, Clone)]
pub(crate) enum Factor {
    Full(Vec<Fr>),
}

impl Factor {
    #[inline]
    fn at(&self, i: usize) -> Fr {
        match self {
            Self::Full(v) => v[i],
        }
    }

    fn fold(&mut self, r: Fr) {
        match self {
            Self::Full(v) => {
                let half = v.len() / 2;
                for i in 0..half {
                    let (a, b) = (v[2 * i], v[2 * i + 1]);
                    v[i] = a + r * (b - a);
                }
                v.truncate(half.max(1));
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

impl SumcheckOut {
    /// The sumcheck whose first rounds were `point` / `rounds` (proved by a specialised prover)
    /// and whose remaining rounds are `rest`.
    pub(crate) fn after(mut point: Vec<Fr>, mut rounds: Vec<RoundProof>, rest: Self) -> Self {
        point.extend_from_slice(&rest.point);
        rounds.extend(rest.proof.rounds);
        Self {
            point,
            claim: rest.claim,
            finals: rest.finals,
            proof: SumcheckProof { rounds },
        }
    }
}

/// Commit to one round polynomial given by its evaluations at `0..=degree`, draw the round
/// challenge `r` and move `claim` to the committed `g(r)`.
///
/// Only the coefficients of degree 1 and up are committed: the constant term is fixed by
/// `g(0) + g(1) = claim`, so the verifier derives its commitment as
/// `(claim − Σ_{k≥1} C_k) / 2` and the round needs no proof of its sum.
pub(crate) fn commit_round(
    tr: &mut Transcript,
    rng: &mut BlindRng,
    claim: &mut Opening,
    evals: &[Fr],
) -> (Fr, RoundProof) {
    let coeffs = interpolate(evals);
    let blinds = rng.frs(coeffs.len() - 1);
    let pts: Vec<Projective> = coeffs[1..]
        .iter()
        .zip(&blinds)
        .map(|(c, r)| commit(c, r))
        .collect();
    let pts: Vec<Affine> = Projective::normalize_batch(&pts);
    tr.append_points(b"sc.coeffs", &pts);
    let half = Fr::from(2u64).inverse().unwrap_or(Fr::ZERO);
    let mut c0 = *claim;
    for (c, r) in coeffs[1..].iter().zip(&blinds) {
        c0.add_scaled(&Opening { v: *c, r: *r }, -Fr::ONE);
    }
    c0.v *= half;
    c0.r *= half;
    debug_assert_eq!(
        c0.v, coeffs[0],
        "round polynomial does not sum to the claim"
    );
    let r = tr.challenge(b"sc.r");
    let mut next = c0;
    let mut pow = Fr::ONE;
    for (c, b) in coeffs[1..].iter().zip(&blinds) {
        pow *= r;
        next.add_scaled(&Opening { v: *c, r: *b }, pow);
    }
    debug_assert_eq!(next.v, poly_eval(&coeffs, r));
    *claim = next;
    (r, RoundProof { coeffs: pts })
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
        let (r, rp) = commit_round(tr, rng, &mut claim, &evals);
        for fac in &mut factors {
            fac.fold(r);
        }
        point.push(r);
        rounds.push(rp);
    }
    SumcheckOut {
        point,
        claim,
        finals: factors.iter().map(Factor::value).collect(),
        proof: SumcheckProof { rounds },
    }
}

/// [`prove`] for `Σ_x v(x)·w(x)` with `v` a 0/1 vector (`bits`, zero-padded to `2^vars`):
/// the first round needs only additions and folds `v` by table lookup.
pub(crate) fn prove_bits_dot(
    tr: &mut Transcript,
    rng: &mut BlindRng,
    claim: Opening,
    bits: &[u8],
    weights: Vec<Fr>,
    vars: usize,
) -> SumcheckOut {
    let n = 1usize << vars;
    if vars == 0 || weights.len() != n || bits.len() > n {
        let mut v: Vec<Fr> = bits.iter().map(|&b| Fr::from(u64::from(b))).collect();
        v.resize(n, Fr::ZERO);
        return prove(
            tr,
            rng,
            claim,
            vec![Factor::Full(v), Factor::Full(weights)],
            &[Term::new(&[0, 1])],
            vars,
            2,
        );
    }
    let bit = |i: usize| bits.get(i).is_some_and(|&b| b != 0);
    let mut evals = [Fr::ZERO; 3];
    for i in 0..n / 2 {
        let (b0, b1) = (bit(2 * i), bit(2 * i + 1));
        if !b0 && !b1 {
            continue;
        }
        let (w0, w1) = (weights[2 * i], weights[2 * i + 1]);
        // v(2) = 2·v1 − v0 and w(2) = 2·w1 − w0.
        let w2 = w1.double() - w0;
        match (b0, b1) {
            (true, false) => {
                evals[0] += w0;
                evals[2] -= w2;
            }
            (false, true) => {
                evals[1] += w1;
                evals[2] += w2.double();
            }
            _ => {
                evals[0] += w0;
                evals[1] += w1;
                evals[2] += w2;
            }
        }
    }
    debug_assert_eq!(evals[0] + evals[1], claim.v, "bit dot round 0 inconsistent");
    let mut claim = claim;
    let (r, first) = commit_round(tr, rng, &mut claim, &evals);
    let lut = [Fr::ZERO, Fr::ONE - r, r, Fr::ONE];
    let v: Vec<Fr> = (0..n / 2)
        .map(|i| lut[usize::from(bit(2 * i)) + 2 * usize::from(bit(2 * i + 1))])
        .collect();
    let mut w = Factor::Full(weights);
    w.fold(r);
    let rest = prove(
        tr,
        rng,
        claim,
        vec![Factor::Full(v), w],
        &[Term::new(&[0, 1])],
        vars - 1,
        2,
    );
    SumcheckOut::after(vec![r], vec![first], rest)
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

    #[test]
    fn bit_dot_matches_the_generic_prover() {
        let vars = 6;
        let bits: Vec<u8> = (0..60u64)
            .map(|i| u8::from((i * 7 + i / 3) % 3 == 0))
            .collect();
        let weights: Vec<Fr> = (0..64u64).map(|i| Fr::from(i * i + 3)).collect();
        let sum: Fr = bits
            .iter()
            .zip(&weights)
            .map(|(&b, w)| Fr::from(u64::from(b)) * w)
            .sum();
        let claim = Opening {
            v: sum,
            r: Fr::from(5u64),
        };
        let mut v: Vec<Fr> = bits.iter().map(|&b| Fr::from(u64::from(b))).collect();
        v.resize(64, Fr::ZERO);
        let (mut t1, mut t2) = (Transcript::new(b"t"), Transcript::new(b"t"));
        let (mut r1, mut r2) = (BlindRng::from_seed([2; 32]), BlindRng::from_seed([2; 32]));
        let a = prove_bits_dot(&mut t1, &mut r1, claim, &bits, weights.clone(), vars);
        let factors = vec![Factor::Full(v), Factor::Full(weights)];
        let b = prove(
            &mut t2,
            &mut r2,
            claim,
            factors,
            &[Term::new(&[0, 1])],
            vars,
            2,
        );
        assert_eq!(a.proof, b.proof);
        assert_eq!(a.point, b.point);
        assert_eq!(a.claim, b.claim);
        assert_eq!(a.finals, b.finals);
    }
}
