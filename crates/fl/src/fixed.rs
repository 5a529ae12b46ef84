//! Q16.16 fixed-point parameters and the crate's rounding primitives.
//!
//! A parameter is an `i32` holding `round_half_even(x · 2^16)`; the representable range is
//! `[-32768, 32768 - 2^-16]` with a resolution of `2^-16 ≈ 1.53e-5`. Every division in the
//! crate rounds half to even ([`div_round_i64`], [`div_round_i128`]) and every result that may
//! leave the `i32` range saturates ([`saturate`]).

use crate::error::{Error, Result};

/// Number of fractional bits of a parameter.
pub const FRAC_BITS: u32 = 16;
/// The value 1.0 in Q16.16.
pub const ONE: i32 = 1 << FRAC_BITS;
const SCALE_F64: f64 = (1u64 << FRAC_BITS) as f64;

/// Convert one float to Q16.16, rounding half to even.
///
/// # Errors
/// [`Error::NonFinite`] for NaN/±inf and [`Error::OutOfRange`] when the rounded value does not
/// fit an `i32`; the reported index is 0.
pub fn from_f32(x: f32) -> Result<i32> {
    from_f32_at(x, 0)
}

fn from_f32_at(x: f32, index: usize) -> Result<i32> {
    if !x.is_finite() {
        return Err(Error::NonFinite { index });
    }
    // Multiplying by a power of two is exact in f64, so the only rounding is the final one.
    let r = (f64::from(x) * SCALE_F64).round_ties_even();
    if r < f64::from(i32::MIN) || r > f64::from(i32::MAX) {
        return Err(Error::OutOfRange { index });
    }
    // In range and integral, so the cast is exact.
    Ok(r as i32)
}

/// Convert a float slice to Q16.16, rounding half to even.
///
/// # Errors
/// The first NaN/inf ([`Error::NonFinite`]) or out-of-range value ([`Error::OutOfRange`]),
/// with its index.
pub fn quantize(xs: &[f32]) -> Result<Vec<i32>> {
    xs.iter()
        .enumerate()
        .map(|(i, &x)| from_f32_at(x, i))
        .collect()
}

/// Convert one Q16.16 value to the nearest f32.
pub fn to_f32(q: i32) -> f32 {
    (f64::from(q) / SCALE_F64) as f32
}

/// Convert Q16.16 values to f32.
pub fn dequantize(qs: &[i32]) -> Vec<f32> {
    qs.iter().map(|&q| to_f32(q)).collect()
}

/// Clamp an `i64` into the `i32` range.
#[inline]
pub fn saturate(x: i64) -> i32 {
    x.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
}

/// Clamp an `i128` into the `i32` range.
#[inline]
pub fn saturate128(x: i128) -> i32 {
    x.clamp(i128::from(i32::MIN), i128::from(i32::MAX)) as i32
}

/// `n / d` rounded half to even, for `d > 0`.
///
/// # Panics
/// If `d <= 0` (callers pass validated positive denominators).
#[inline]
pub fn div_round_i64(n: i64, d: i64) -> i64 {
    debug_assert!(d > 0);
    let q = n.div_euclid(d);
    let r = n.rem_euclid(d);
    // r in [0, d): compare 2r with d without overflow.
    let twice = r.abs_diff(0) * 2;
    let d_u = d.unsigned_abs();
    if twice > d_u || (twice == d_u && q & 1 == 1) {
        q + 1
    } else {
        q
    }
}

/// `n / d` rounded half to even, for `d > 0`, in 128-bit arithmetic.
#[inline]
pub fn div_round_i128(n: i128, d: i128) -> i128 {
    debug_assert!(d > 0);
    let q = n.div_euclid(d);
    let r = n.rem_euclid(d);
    let twice = r.unsigned_abs() * 2;
    let d_u = d.unsigned_abs();
    if twice > d_u || (twice == d_u && q & 1 == 1) {
        q + 1
    } else {
        q
    }
}

/// Multiply two Q16.16 values: `round_half_even(a · b / 2^16)`, saturated.
#[inline]
pub fn mul(a: i32, b: i32) -> i32 {
    saturate(shr_round(i64::from(a) * i64::from(b), FRAC_BITS))
}

/// `x / 2^s` rounded half to even.
#[inline]
pub fn shr_round(x: i64, s: u32) -> i64 {
    if s == 0 {
        return x;
    }
    let q = x >> s;
    let r = x - (q << s);
    let half = 1i64 << (s - 1);
    if r > half || (r == half && q & 1 == 1) {
        q + 1
    } else {
        q
    }
}

/// `x / 2^s` rounded half to even, in 128-bit arithmetic.
#[inline]
pub fn shr_round128(x: i128, s: u32) -> i128 {
    if s == 0 {
        return x;
    }
    let q = x >> s;
    let r = x - (q << s);
    let half = 1i128 << (s - 1);
    if r > half || (r == half && q & 1 == 1) {
        q + 1
    } else {
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_half_to_even() {
        let ulp = 1.0 / 65536.0_f32;
        assert_eq!(from_f32(0.5 * ulp), Ok(0));
        assert_eq!(from_f32(1.5 * ulp), Ok(2));
        assert_eq!(from_f32(2.5 * ulp), Ok(2));
        assert_eq!(from_f32(-0.5 * ulp), Ok(0));
        assert_eq!(from_f32(-1.5 * ulp), Ok(-2));
        assert_eq!(from_f32(1.0), Ok(ONE));
        assert_eq!(from_f32(-32768.0), Ok(i32::MIN));
    }

    #[test]
    fn rejects_nan_inf_and_out_of_range() {
        assert_eq!(
            quantize(&[1.0, f32::NAN]),
            Err(Error::NonFinite { index: 1 })
        );
        assert_eq!(from_f32(f32::INFINITY), Err(Error::NonFinite { index: 0 }));
        assert_eq!(
            quantize(&[0.0, 0.0, 32768.0]),
            Err(Error::OutOfRange { index: 2 })
        );
        assert_eq!(from_f32(-32768.01), Err(Error::OutOfRange { index: 0 }));
        assert!(from_f32(32767.99).is_ok());
    }

    #[test]
    fn round_trips_within_half_ulp() {
        for &x in &[0.1f32, -3.25, 1234.5678, -0.000_01] {
            let q = from_f32(x).unwrap();
            assert!((to_f32(q) - x).abs() <= 0.5 / 65536.0 + 1e-6, "{x}");
        }
    }

    #[test]
    fn division_rounds_half_to_even() {
        assert_eq!(div_round_i64(5, 2), 2);
        assert_eq!(div_round_i64(7, 2), 4);
        assert_eq!(div_round_i64(-5, 2), -2);
        assert_eq!(div_round_i64(-7, 2), -4);
        assert_eq!(div_round_i64(10, 3), 3);
        assert_eq!(div_round_i64(11, 3), 4);
        assert_eq!(div_round_i64(-11, 3), -4);
        assert_eq!(div_round_i128(-10, 4), -2);
        assert_eq!(shr_round(3, 1), 2);
        assert_eq!(shr_round(5, 1), 2);
        assert_eq!(shr_round(-3, 1), -2);
        assert_eq!(shr_round128(-5, 1), -2);
        assert_eq!(mul(ONE / 2, ONE / 2), ONE / 4);
    }
}
