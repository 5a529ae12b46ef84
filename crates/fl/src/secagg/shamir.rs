//! Shamir secret sharing of 32-byte secrets over the prime field GF(2^61 - 1).
//!
//! A secret is split into eight 32-bit limbs; each limb is shared with its own random
//! polynomial of degree `t - 1`, all evaluated at the same point `x`.

use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The field modulus, the Mersenne prime 2^61 - 1.
pub(crate) const P: u64 = (1 << 61) - 1;
const LIMBS: usize = 8;

/// One share of a 32-byte secret: the evaluation point and one field element per limb.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Share {
    /// Evaluation point (never 0).
    pub x: u64,
    /// Polynomial values at `x`, one per 32-bit limb of the secret.
    pub y: [u64; LIMBS],
}

pub(crate) const SHARE_BYTES: usize = 8 * (1 + LIMBS);

impl Share {
    pub(crate) fn to_bytes(self) -> [u8; SHARE_BYTES] {
        let mut out = [0u8; SHARE_BYTES];
        out[..8].copy_from_slice(&self.x.to_le_bytes());
        for (i, y) in self.y.iter().enumerate() {
            out[8 * (i + 1)..8 * (i + 2)].copy_from_slice(&y.to_le_bytes());
        }
        out
    }

    pub(crate) fn from_bytes(b: &[u8]) -> Result<Self> {
        if b.len() != SHARE_BYTES {
            return Err(Error::Malformed {
                reason: "share has the wrong length",
            });
        }
        let word = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&b[8 * i..8 * (i + 1)]);
            u64::from_le_bytes(w)
        };
        let x = word(0);
        let mut y = [0u64; LIMBS];
        for (i, v) in y.iter_mut().enumerate() {
            *v = word(i + 1);
        }
        let share = Self { x, y };
        share.check()?;
        Ok(share)
    }

    fn check(&self) -> Result<()> {
        if self.x == 0 || self.x >= P || self.y.iter().any(|&v| v >= P) {
            return Err(Error::Malformed {
                reason: "share value outside the field",
            });
        }
        Ok(())
    }
}

fn mul(a: u64, b: u64) -> u64 {
    let w = u128::from(a) * u128::from(b);
    let lo = (w as u64) & P;
    let hi = (w >> 61) as u64;
    let s = lo + hi;
    if s >= P { s - P } else { s }
}

fn add(a: u64, b: u64) -> u64 {
    let s = a + b;
    if s >= P { s - P } else { s }
}

fn sub(a: u64, b: u64) -> u64 {
    if a >= b { a - b } else { a + P - b }
}

fn pow(mut b: u64, mut e: u64) -> u64 {
    let mut acc = 1;
    while e > 0 {
        if e & 1 == 1 {
            acc = mul(acc, b);
        }
        b = mul(b, b);
        e >>= 1;
    }
    acc
}

fn inv(a: u64) -> u64 {
    pow(a, P - 2)
}

fn random_element<R: Rng + ?Sized>(rng: &mut R) -> u64 {
    loop {
        let v = rng.random::<u64>() >> 3;
        if v < P {
            return v;
        }
    }
}

/// Split `secret` into one share per evaluation point in `xs` (distinct, non-zero), any
/// `threshold` of which reconstruct it.
pub(crate) fn split<R: Rng + ?Sized>(
    secret: &[u8; 32],
    threshold: usize,
    xs: &[u64],
    rng: &mut R,
) -> Vec<Share> {
    let mut coeffs = vec![[0u64; LIMBS]; threshold];
    for (l, c0) in coeffs[0].iter_mut().enumerate() {
        let mut w = [0u8; 4];
        w.copy_from_slice(&secret[4 * l..4 * (l + 1)]);
        *c0 = u64::from(u32::from_le_bytes(w));
    }
    for c in coeffs.iter_mut().skip(1) {
        for v in c.iter_mut() {
            *v = random_element(rng);
        }
    }
    xs.iter()
        .map(|&x| {
            let mut y = [0u64; LIMBS];
            for (l, yl) in y.iter_mut().enumerate() {
                // Horner's rule from the highest coefficient.
                *yl = coeffs.iter().rev().fold(0, |acc, c| add(mul(acc, x), c[l]));
            }
            Share { x, y }
        })
        .collect()
}

fn lagrange_at(shares: &[Share], at: u64) -> [u64; LIMBS] {
    let mut out = [0u64; LIMBS];
    for (i, si) in shares.iter().enumerate() {
        let mut num = 1;
        let mut den = 1;
        for (j, sj) in shares.iter().enumerate() {
            if i != j {
                num = mul(num, sub(sj.x, at));
                den = mul(den, sub(sj.x, si.x));
            }
        }
        let w = mul(num, inv(den));
        for (o, &y) in out.iter_mut().zip(&si.y) {
            *o = add(*o, mul(w, y));
        }
    }
    out
}

/// Reconstruct a secret from at least `threshold` shares. The first `threshold` shares define
/// the polynomial; every further share must lie on it.
///
/// # Errors
/// [`Error::TooManyDropouts`] with fewer than `threshold` shares; [`Error::Malformed`] for
/// repeated points, out-of-field values, inconsistent extra shares, or a secret limb that does
/// not fit 32 bits.
pub(crate) fn reconstruct(shares: &[Share], threshold: usize) -> Result<[u8; 32]> {
    if shares.len() < threshold || threshold == 0 {
        return Err(Error::TooManyDropouts {
            reason: format!(
                "only {} shares of a secret survive, {threshold} are needed",
                shares.len()
            ),
        });
    }
    for (i, s) in shares.iter().enumerate() {
        s.check()?;
        if shares[..i].iter().any(|o| o.x == s.x) {
            return Err(Error::Malformed {
                reason: "two shares at the same point",
            });
        }
    }
    let (base, extra) = shares.split_at(threshold);
    for s in extra {
        if lagrange_at(base, s.x) != s.y {
            return Err(Error::Malformed {
                reason: "shares are inconsistent",
            });
        }
    }
    let limbs = lagrange_at(base, 0);
    let mut out = [0u8; 32];
    for (l, &v) in limbs.iter().enumerate() {
        let v = u32::try_from(v).map_err(|_| Error::Malformed {
            reason: "reconstructed secret is out of range",
        })?;
        out[4 * l..4 * (l + 1)].copy_from_slice(&v.to_le_bytes());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn any_threshold_subset_reconstructs() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let secret: [u8; 32] = std::array::from_fn(|i| (i * 7 + 1) as u8);
        let xs: Vec<u64> = (1..=6).collect();
        let shares = split(&secret, 4, &xs, &mut rng);
        assert_eq!(reconstruct(&shares[..4], 4), Ok(secret));
        assert_eq!(reconstruct(&shares[2..], 4), Ok(secret));
        assert_eq!(reconstruct(&shares, 4), Ok(secret));
        assert!(matches!(
            reconstruct(&shares[..3], 4),
            Err(Error::TooManyDropouts { .. })
        ));
        let mut bad = shares.clone();
        bad[5].y[0] = add(bad[5].y[0], 1);
        assert!(matches!(reconstruct(&bad, 4), Err(Error::Malformed { .. })));
        let dup = [shares[0], shares[0], shares[1], shares[2]];
        assert!(matches!(reconstruct(&dup, 4), Err(Error::Malformed { .. })));
        let bytes = shares[1].to_bytes();
        assert_eq!(Share::from_bytes(&bytes), Ok(shares[1]));
        assert!(Share::from_bytes(&bytes[1..]).is_err());
        assert!(Share::from_bytes(&[0xff; SHARE_BYTES]).is_err());
    }

    #[test]
    fn fewer_shares_than_threshold_reveal_nothing_structural() {
        // With t = 2 a single share is a uniformly random field element per limb:
        // two different secrets give different shares under different randomness.
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let a = split(&[0; 32], 2, &[1], &mut rng);
        assert!(a[0].y.iter().all(|&v| v != 0));
    }
}
