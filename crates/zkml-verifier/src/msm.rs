//! Multi-scalar multiplication for the verifier's single combined check.
//!
//! Pippenger's bucket method with signed `c`-bit digits, like arkworks' `VariableBaseMSM`, but
//! the buckets are filled with **affine** additions whose inversions are shared: in each window
//! the points are sorted by bucket and summed pairwise in rounds, and every round inverts all
//! of its denominators with one field inversion (Montgomery's trick). An affine addition then
//! costs about 5 multiplications and a squaring against about 10 for the mixed projective
//! (XYZZ) addition arkworks uses, and bucket filling is most of the work at the 400–2,000
//! terms of a proof. Nothing here is secret, so nothing needs to be constant time.
//!
//! Written here because arkworks 0.6 has no batch-affine MSM; the result is checked against
//! arkworks' MSM on random inputs, including repeated and opposite points.

use ark_ec::AffineRepr;
use ark_ff::{AdditiveGroup, BigInt, Field, PrimeField, Zero};

use crate::field::{Affine, Fr, Projective};

type Fq = ark_grumpkin::Fq;

/// Scalar bits (the scalar field modulus is below 2^254).
const SCALAR_BITS: usize = 254;

/// Window width for `n` terms, measured on this machine for 300–2,000 random terms (for
/// example 1,450 terms: 7.4 ms at 8 bits, 7.6 ms at 7, 8.3 ms at 9; arkworks 10.4 ms).
fn window_bits(n: usize) -> usize {
    match n {
        0..=31 => 3,
        32..=127 => 4,
        128..=255 => 5,
        256..=511 => 6,
        512..=1_199 => 7,
        1_200..=2_999 => 8,
        _ => 9,
    }
}

/// `c` bits of `k` starting at bit `pos`.
fn bits_at(k: &BigInt<4>, pos: usize, c: usize) -> u64 {
    let (limb, off) = (pos / 64, pos % 64);
    let mut v = k.0.get(limb).copied().unwrap_or(0) >> off;
    if off + c > 64
        && let Some(next) = k.0.get(limb + 1)
    {
        v |= next << (64 - off);
    }
    v & ((1u64 << c) - 1)
}

/// Signed base-`2^c` digits of every scalar, window-major: `out[w * n + i]` is digit `w` of
/// scalar `i`, in `[-2^(c-1), 2^(c-1)]`.
fn signed_digits(scalars: &[BigInt<4>], c: usize, windows: usize) -> Vec<i32> {
    let n = scalars.len();
    let half = 1i64 << (c - 1);
    let mut out = vec![0i32; windows * n];
    for (i, k) in scalars.iter().enumerate() {
        let mut carry = 0i64;
        for w in 0..windows {
            let mut d = bits_at(k, w * c, c) as i64 + carry;
            carry = 0;
            if d > half {
                d -= 1 << c;
                carry = 1;
            }
            out[w * n + i] = d as i32;
        }
    }
    out
}

/// A point headed for a bucket.
#[derive(Clone, Copy)]
struct Entry {
    bucket: u32,
    x: Fq,
    y: Fq,
}

/// How two entries of one bucket combine.
enum Pair {
    /// Different x: chord.
    Add,
    /// Same point: tangent.
    Double,
    /// Opposite points: they cancel.
    Cancel,
}

/// Scratch space of [`reduce_buckets`], reused across window groups.
#[derive(Default)]
struct Scratch {
    next: Vec<Entry>,
    kinds: Vec<Pair>,
    dens: Vec<Fq>,
    prefix: Vec<Fq>,
}

/// Sum the entries of each bucket (`cur`, sorted by bucket) until each bucket holds at most
/// one point; `cur` is left with the survivors, still sorted.
fn reduce_buckets(cur: &mut Vec<Entry>, s: &mut Scratch) {
    loop {
        s.kinds.clear();
        s.dens.clear();
        let mut i = 0;
        while i + 1 < cur.len() {
            let (a, b) = (&cur[i], &cur[i + 1]);
            if a.bucket != b.bucket {
                i += 1;
                continue;
            }
            let (kind, den) = if a.x != b.x {
                (Pair::Add, b.x - a.x)
            } else if a.y == b.y {
                (Pair::Double, a.y.double())
            } else {
                (Pair::Cancel, Fq::ONE)
            };
            s.kinds.push(kind);
            s.dens.push(den);
            i += 2;
        }
        if s.kinds.is_empty() {
            return;
        }
        // Montgomery's trick: one inversion for the whole round.
        s.prefix.clear();
        let mut acc = Fq::ONE;
        for d in &s.dens {
            acc *= d;
            s.prefix.push(acc);
        }
        // Every denominator is nonzero (distinct x, or 2y with y ≠ 0 on a prime-order curve).
        let mut inv = acc.inverse().unwrap_or(Fq::ZERO);
        for j in (0..s.dens.len()).rev() {
            let before = if j == 0 { Fq::ONE } else { s.prefix[j - 1] };
            let d = s.dens[j];
            s.dens[j] = inv * before;
            inv *= d;
        }
        s.next.clear();
        let mut pair = 0;
        let mut i = 0;
        while i < cur.len() {
            let a = cur[i];
            if i + 1 < cur.len() && cur[i + 1].bucket == a.bucket {
                let b = cur[i + 1];
                let lambda = match s.kinds[pair] {
                    Pair::Add => (b.y - a.y) * s.dens[pair],
                    Pair::Double => {
                        let xx = a.x.square();
                        (xx.double() + xx) * s.dens[pair]
                    }
                    Pair::Cancel => {
                        pair += 1;
                        i += 2;
                        continue;
                    }
                };
                let x = lambda.square() - a.x - b.x;
                let y = lambda * (a.x - x) - a.y;
                s.next.push(Entry {
                    bucket: a.bucket,
                    x,
                    y,
                });
                pair += 1;
                i += 2;
            } else {
                s.next.push(a);
                i += 1;
            }
        }
        std::mem::swap(cur, &mut s.next);
    }
}

/// Entries per window group: the group's points are sorted and reduced together, so one
/// inversion per round serves every window of the group, while the buffers stay cache-sized.
const GROUP_ENTRIES: usize = 8_192;

/// `Σ scalars[i] · bases[i]`; extra entries of the longer slice are ignored.
pub(crate) fn msm(bases: &[Affine], scalars: &[Fr]) -> Projective {
    msm_with(bases, scalars, None)
}

fn msm_with(bases: &[Affine], scalars: &[Fr], window: Option<usize>) -> Projective {
    let mut points = Vec::with_capacity(bases.len());
    let mut ks = Vec::with_capacity(bases.len());
    for (p, s) in bases.iter().zip(scalars) {
        if let (Some((x, y)), false) = (p.xy(), s.is_zero()) {
            points.push((x, y));
            ks.push(s.into_bigint());
        }
    }
    let n = points.len();
    if n == 0 {
        return Projective::zero();
    }
    let c = window.unwrap_or_else(|| window_bits(n));
    // One extra window takes the last carry.
    let windows = SCALAR_BITS.div_ceil(c) + 1;
    let digits = signed_digits(&ks, c, windows);
    let buckets = 1usize << (c - 1);
    let group = (GROUP_ENTRIES / n).clamp(1, windows);
    let mut counts = vec![0usize; group * buckets + 1];
    let mut entries: Vec<Entry> = Vec::with_capacity(group * n);
    let mut scratch = Scratch::default();
    let mut slots: Vec<Option<Affine>> = vec![None; group * buckets];
    // Σ b · bucket_b of every window, lowest window first.
    let mut sums = Vec::with_capacity(windows);
    for first in (0..windows).step_by(group) {
        let ws = first..(first + group).min(windows);
        // Counting sort of the group's nonzero digits by (window, bucket).
        let key = |w: usize, d: i32| (w - first) * buckets + d.unsigned_abs() as usize - 1;
        counts.iter_mut().for_each(|v| *v = 0);
        for w in ws.clone() {
            for &d in &digits[w * n..(w + 1) * n] {
                if d != 0 {
                    counts[key(w, d) + 1] += 1;
                }
            }
        }
        for i in 1..counts.len() {
            counts[i] += counts[i - 1];
        }
        let placeholder = Entry {
            bucket: 0,
            x: Fq::ZERO,
            y: Fq::ZERO,
        };
        entries.clear();
        entries.resize(counts[ws.len() * buckets], placeholder);
        for w in ws.clone() {
            for (&d, &(x, y)) in digits[w * n..(w + 1) * n].iter().zip(&points) {
                if d == 0 {
                    continue;
                }
                let k = key(w, d);
                entries[counts[k]] = Entry {
                    bucket: k as u32,
                    x,
                    y: if d < 0 { -y } else { y },
                };
                counts[k] += 1;
            }
        }
        reduce_buckets(&mut entries, &mut scratch);
        slots.iter_mut().for_each(|s| *s = None);
        for e in &entries {
            slots[e.bucket as usize] = Some(Affine::new_unchecked(e.x, e.y));
        }
        for window in slots.chunks(buckets).take(ws.len()) {
            // Running sum from the top bucket down.
            let mut running = Projective::zero();
            let mut sum = Projective::zero();
            if let Some(top) = window.iter().rposition(Option::is_some) {
                for s in window[..=top].iter().rev() {
                    if let Some(p) = s {
                        running += p;
                    }
                    sum += running;
                }
            }
            sums.push(sum);
        }
    }
    let mut total = Projective::zero();
    for sum in sums.iter().rev() {
        for _ in 0..c {
            total.double_in_place();
        }
        total += sum;
    }
    total
}

#[cfg(test)]
mod tests {
    use ark_ec::{CurveGroup, VariableBaseMSM};

    use super::*;

    /// Deterministic pseudo-random scalars.
    struct Rng(u64);
    impl Rng {
        fn fr(&mut self) -> Fr {
            self.0 += 1;
            Fr::from_le_bytes_mod_order(blake3::hash(&self.0.to_le_bytes()).as_bytes())
        }
    }

    fn check(bases: &[Affine], scalars: &[Fr]) {
        let want = Projective::msm(bases, scalars).expect("same lengths");
        assert_eq!(msm(bases, scalars).into_affine(), want.into_affine());
    }

    #[test]
    fn matches_arkworks_on_random_and_degenerate_inputs() {
        let mut rng = Rng(7);
        let g = Affine::generator();
        for n in [0usize, 1, 2, 5, 40, 200, 700, 1500, 2100] {
            let bases: Vec<Affine> = (0..n).map(|_| (g * rng.fr()).into_affine()).collect();
            let scalars: Vec<Fr> = (0..n).map(|_| rng.fr()).collect();
            check(&bases, &scalars);
        }
        // Repeated and opposite points, small, zero and negative scalars, the identity.
        let p = (g * Fr::from(5u64)).into_affine();
        let q = (g * Fr::from(11u64)).into_affine();
        let mut bases = vec![p; 30];
        bases.extend(vec![-p; 30]);
        bases.extend(vec![q; 10]);
        bases.push(Affine::zero());
        let scalars: Vec<Fr> = (0..bases.len())
            .map(|i| match i % 5 {
                0 => Fr::from(i as u64),
                1 => -Fr::from(i as u64),
                2 => Fr::ZERO,
                3 => -Fr::ONE,
                _ => rng.fr(),
            })
            .collect();
        check(&bases, &scalars);
        // Everything cancels.
        check(&[p, p, -p, -p], &[Fr::ONE, Fr::ONE, Fr::ONE, Fr::ONE]);
        check(&[p, -p], &[Fr::from(3u64), Fr::from(3u64)]);
    }
}
