//! Exact conversion of f32 bit patterns to Q16.16 (no float operations) and parameter hashing.

use counterweight_types::{Hash, domain};

/// Why a parameter vector is unacceptable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamError {
    /// The byte length is not `4 · expected`.
    WrongLength {
        /// Expected number of values.
        expected: usize,
        /// Bytes received.
        got_bytes: usize,
    },
    /// A NaN or infinity at `index`.
    NonFinite {
        /// Position of the value.
        index: usize,
    },
    /// A value at `index` outside the Q16.16 range `[-32768, 32768)`.
    OutOfRange {
        /// Position of the value.
        index: usize,
    },
}

impl std::error::Error for ParamError {}

impl std::fmt::Display for ParamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Self::WrongLength {
                expected,
                got_bytes,
            } => write!(
                f,
                "expected {expected} f32 values ({} bytes), got {got_bytes} bytes",
                expected * 4
            ),
            Self::NonFinite { index } => write!(f, "value {index} is NaN or infinite"),
            Self::OutOfRange { index } => {
                write!(
                    f,
                    "value {index} is outside the Q16.16 range [-32768, 32768)"
                )
            }
        }
    }
}

/// Converts the bits of an f32 to Q16.16 (`round_half_even(x · 2^16)`) with integer
/// operations only, bit-identical to the `fl` crate's float conversion.
///
/// # Errors
/// `Err(true)` for NaN/±inf, `Err(false)` for values outside `[-32768, 32768)`.
pub fn q16_from_f32_bits(bits: u32) -> Result<i32, bool> {
    let negative = bits >> 31 == 1;
    let exp = (bits >> 23) & 0xff;
    let frac = u64::from(bits & 0x7f_ffff);
    if exp == 0xff {
        return Err(true);
    }
    // Subnormals are below 2^-126, far under half an ulp of Q16.16: they round to 0.
    if exp == 0 {
        return Ok(0);
    }
    // value = m · 2^(exp − 150); scaled by 2^16: m · 2^(exp − 134).
    let m = frac | (1 << 23);
    let e = i64::from(exp) - 134;
    let magnitude: u64 = if e >= 0 {
        if e > 8 {
            return Err(false);
        }
        m << e
    } else {
        let s = (-e) as u32;
        if s > 25 {
            0
        } else {
            let q = m >> s;
            let r = m & ((1u64 << s) - 1);
            let half = 1u64 << (s - 1);
            if r > half || (r == half && q & 1 == 1) {
                q + 1
            } else {
                q
            }
        }
    };
    if negative {
        if magnitude > 1 << 31 {
            return Err(false);
        }
        Ok((-(magnitude as i64)) as i32)
    } else {
        i32::try_from(magnitude).map_err(|_| false)
    }
}

/// Parses `count` f32 little-endian values and converts them exactly to Q16.16.
///
/// # Errors
/// [`ParamError`] for a wrong length, NaN/inf or an out-of-range value (first index).
pub fn q16_from_f32_le(bytes: &[u8], count: usize) -> Result<Vec<i32>, ParamError> {
    if bytes.len() != count * 4 {
        return Err(ParamError::WrongLength {
            expected: count,
            got_bytes: bytes.len(),
        });
    }
    bytes
        .chunks_exact(4)
        .enumerate()
        .map(|(index, c)| {
            let bits = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            q16_from_f32_bits(bits).map_err(|nan| {
                if nan {
                    ParamError::NonFinite { index }
                } else {
                    ParamError::OutOfRange { index }
                }
            })
        })
        .collect()
}

/// Encodes Q16.16 parameters as i32 little-endian bytes (the form hashed and stored).
pub(crate) fn params_to_le(params: &[i32]) -> Vec<u8> {
    params.iter().flat_map(|p| p.to_le_bytes()).collect()
}

/// Decodes i32 little-endian bytes; `None` if the length is not a multiple of 4.
pub(crate) fn params_from_le(bytes: &[u8]) -> Option<Vec<i32>> {
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    Some(
        bytes
            .chunks_exact(4)
            .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
    )
}

/// The hash of a model's Q16.16 parameters:
/// `Hash::digest(domain::MODEL_WEIGHTS, [i32 little-endian bytes])`.
pub fn weights_hash(params: &[i32]) -> Hash {
    Hash::digest(domain::MODEL_WEIGHTS, &[&params_to_le(params)])
}

/// The hash of a model architecture: `Hash::digest(domain::MODEL_IR, [canonical bytes])`.
pub fn arch_hash(canonical: &[u8]) -> Hash {
    Hash::digest(domain::MODEL_IR, &[canonical])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_like_the_fl_crate() {
        let samples = [
            0.0f32,
            -0.0,
            1.0,
            -1.0,
            0.5 / 65536.0,
            1.5 / 65536.0,
            2.5 / 65536.0,
            -1.5 / 65536.0,
            1234.5678,
            -32768.0,
            32767.99,
            1e-30,
            f32::MIN_POSITIVE / 2.0,
        ];
        for x in samples {
            assert_eq!(
                q16_from_f32_bits(x.to_bits()).ok(),
                counterweight_fl::fixed::from_f32(x).ok(),
                "{x}"
            );
        }
        assert_eq!(q16_from_f32_bits(f32::NAN.to_bits()), Err(true));
        assert_eq!(q16_from_f32_bits(f32::INFINITY.to_bits()), Err(true));
        assert_eq!(q16_from_f32_bits(32768.0f32.to_bits()), Err(false));
        assert_eq!(q16_from_f32_bits((-32768.01f32).to_bits()), Err(false));
        assert_eq!(q16_from_f32_bits(1e30f32.to_bits()), Err(false));
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn integer_conversion_equals_the_float_conversion(bits in any::<u32>()) {
            let x = f32::from_bits(bits);
            let expected = counterweight_fl::fixed::from_f32(x);
            match q16_from_f32_bits(bits) {
                Ok(q) => prop_assert_eq!(Ok(q), expected),
                Err(true) => prop_assert!(!x.is_finite()),
                Err(false) => {
                    let out_of_range = matches!(expected, Err(counterweight_fl::Error::OutOfRange { .. }));
                    prop_assert!(out_of_range);
                }
            }
        }

        #[test]
        fn small_values_convert_like_the_float_conversion(x in -40_000.0f32..40_000.0) {
            let expected = counterweight_fl::fixed::from_f32(x).ok();
            prop_assert_eq!(q16_from_f32_bits(x.to_bits()).ok(), expected);
        }
    }
}
