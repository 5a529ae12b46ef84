//! Coordinate-wise robust rules: median and trimmed mean.

use crate::aggregator::{Aggregator, Exec, prepare};
use crate::error::{Error, Result};
use crate::fixed;
use crate::strategy::kernels;
use crate::update::Update;

/// Coordinate-wise median (unweighted). For an even count it is the round-half-even mean of
/// the two middle values.
#[derive(Debug, Clone, Copy, Default)]
pub struct FedMedian {
    exec: Exec,
}

impl FedMedian {
    /// Sequential median.
    pub fn new() -> Self {
        Self::default()
    }

    /// Choose how the work is spread (results are identical either way).
    #[must_use]
    pub fn with_exec(mut self, exec: Exec) -> Self {
        self.exec = exec;
        self
    }
}

impl Aggregator for FedMedian {
    fn name(&self) -> &'static str {
        "median"
    }

    fn aggregate(&mut self, global: &[i32], updates: &[Update]) -> Result<Vec<i32>> {
        let (sorted, _) = prepare(global, updates)?;
        let rows: Vec<&[i32]> = sorted.iter().map(|u| u.params.as_slice()).collect();
        let n = rows.len();
        let (lo, hi) = if n % 2 == 1 {
            (n / 2, n / 2 + 1)
        } else {
            (n / 2 - 1, n / 2 + 1)
        };
        let mut out = vec![0; global.len()];
        kernels::sorted_range_mean(&rows, lo, hi, self.exec, &mut out);
        Ok(out)
    }
}

/// Coordinate-wise trimmed mean (unweighted): sort each coordinate's values, drop
/// `k = floor((β + 2^-17) · n)` from each side, and take the round-half-even mean of the rest.
#[derive(Debug, Clone, Copy)]
pub struct FedTrimmedAvg {
    beta: i32,
    exec: Exec,
}

impl FedTrimmedAvg {
    /// Trim fraction `beta` (Q16.16) per side, `0 <= beta < 0.5`.
    ///
    /// # Errors
    /// [`Error::InvalidParameters`] when `beta` is outside `[0, 0.5)`.
    pub fn new(beta: i32) -> Result<Self> {
        if !(0..fixed::ONE / 2).contains(&beta) {
            return Err(Error::InvalidParameters {
                strategy: "trimmed_mean",
                reason: format!("beta must be in [0, 0.5), got {}", fixed::to_f32(beta)),
            });
        }
        Ok(Self {
            beta,
            exec: Exec::Sequential,
        })
    }

    /// Choose how the work is spread (results are identical either way).
    #[must_use]
    pub fn with_exec(mut self, exec: Exec) -> Self {
        self.exec = exec;
        self
    }

    /// Values dropped per side for `n` updates: `floor((β + 2^-17) · n)`. The half-ulp
    /// offset undoes the rounding of decimal fractions to Q16.16, so β = 0.2 drops 2 of 10.
    pub fn trimmed_per_side(&self, n: usize) -> usize {
        (((2 * self.beta as u128 + 1) * n as u128) >> (fixed::FRAC_BITS + 1)) as usize
    }
}

impl Aggregator for FedTrimmedAvg {
    fn name(&self) -> &'static str {
        "trimmed_mean"
    }

    fn aggregate(&mut self, global: &[i32], updates: &[Update]) -> Result<Vec<i32>> {
        let (sorted, _) = prepare(global, updates)?;
        let rows: Vec<&[i32]> = sorted.iter().map(|u| u.params.as_slice()).collect();
        let n = rows.len();
        let k = self.trimmed_per_side(n);
        // beta < 0.5 guarantees 2k < n.
        let mut out = vec![0; global.len()];
        kernels::sorted_range_mean(&rows, k, n - k, self.exec, &mut out);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ClientId;

    fn ups(cols: &[Vec<i32>]) -> Vec<Update> {
        cols.iter()
            .enumerate()
            .map(|(i, p)| Update::new(ClientId(i as u64), 1, p.clone()))
            .collect()
    }

    #[test]
    fn median_ignores_arbitrarily_large_outlier() {
        let g = vec![0; 2];
        let mut u = ups(&[
            vec![1, 10],
            vec![2, 20],
            vec![3, 30],
            vec![4, 40],
            vec![5, 50],
        ]);
        let honest = FedMedian::new().aggregate(&g, &u).unwrap();
        assert_eq!(honest, vec![3, 30]);
        u[4].params = vec![i32::MAX, i32::MAX];
        assert_eq!(FedMedian::new().aggregate(&g, &u).unwrap(), vec![3, 30]);
        u[4].params = vec![1 << 20, 1 << 20];
        assert_eq!(FedMedian::new().aggregate(&g, &u).unwrap(), vec![3, 30]);
        // Even count: mean of the middle two, half to even.
        let u = ups(&[vec![1], vec![2], vec![4], vec![100]]);
        assert_eq!(FedMedian::new().aggregate(&[0], &u).unwrap(), vec![3]);
    }

    #[test]
    fn trimmed_mean_drops_beta_per_side() {
        // beta = 0.2, n = 10 -> drop 2 per side.
        let t = FedTrimmedAvg::new(fixed::from_f32(0.2).unwrap()).unwrap();
        assert_eq!(t.trimmed_per_side(10), 2);
        assert_eq!(t.trimmed_per_side(5), 1);
        assert_eq!(t.trimmed_per_side(4), 0);
        let t3 = FedTrimmedAvg::new(fixed::from_f32(0.3).unwrap()).unwrap();
        assert_eq!(t3.trimmed_per_side(5), 1);
        assert_eq!(t3.trimmed_per_side(10), 3);
        let vals = [-1000, -900, 1, 2, 3, 4, 5, 6, 800, 900];
        let u = ups(&vals.iter().map(|&v| vec![v]).collect::<Vec<_>>());
        let mut t2 = t;
        assert_eq!(t2.aggregate(&[0], &u).unwrap(), vec![4]); // (1+..+6)/6 = 3.5 -> 4
        // Moving the extremes arbitrarily far changes nothing.
        let vals = [i32::MIN, i32::MIN, 1, 2, 3, 4, 5, 6, i32::MAX, i32::MAX];
        let u = ups(&vals.iter().map(|&v| vec![v]).collect::<Vec<_>>());
        assert_eq!(t2.aggregate(&[0], &u).unwrap(), vec![4]);
        assert!(FedTrimmedAvg::new(fixed::ONE / 2).is_err());
        assert!(FedTrimmedAvg::new(-1).is_err());
    }

    #[test]
    fn many_rows_fall_back_to_sorting() {
        let n = 70;
        let u: Vec<Update> = (0..n)
            .map(|i| Update::new(ClientId(i), 1, vec![(i as i32 * 37) % 71, -(i as i32)]))
            .collect();
        let out = FedMedian::new().aggregate(&[0, 0], &u).unwrap();
        let mut c0: Vec<i32> = u.iter().map(|x| x.params[0]).collect();
        c0.sort_unstable();
        let expect = fixed::div_round_i64(i64::from(c0[34]) + i64::from(c0[35]), 2) as i32;
        assert_eq!(out[0], expect);
        assert_eq!(out[1], fixed::div_round_i64(-34 - 35, 2) as i32);
    }
}
