//! Poisoning and sybil detection: FoolsGold-style similarity of update histories, robust
//! norm outliers and direction checks, producing per-client scores and flags.
//!
//! Everything is integer arithmetic on the Q16.16 updates, so every validator computes the
//! same flags. Scores are Q16.16 (`65536` = 1.0).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::aggregator::prepare;
use crate::error::{Error, Result};
use crate::fixed::{self, ONE};
use crate::update::{ClientId, Update};

/// Detection thresholds (Q16.16).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectorConfig {
    /// Flag as sybil when the FoolsGold weight `1 - max pardoned cosine` of the client's
    /// update history is at most this. Default 0.05.
    pub sybil_weight: i32,
    /// Flag as a norm outlier when the robust z-score `(norm - median) / (1.4826 · MAD)`
    /// exceeds this. Default 3.5.
    pub norm_z: i32,
    /// Flag as pulling the wrong way when the cosine between the update and the
    /// coordinate-wise median update is below this. Default 0.
    pub min_cosine_to_median: i32,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self {
            sybil_weight: ONE / 20,
            norm_z: 7 * ONE / 2,
            min_cosine_to_median: 0,
        }
    }
}

/// Flags raised for one client in one round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Flags {
    /// Its update history is nearly parallel to another client's (FoolsGold).
    pub sybil: bool,
    /// Its update norm is a robust outlier.
    pub norm_outlier: bool,
    /// Its update points away from the median update.
    pub wrong_direction: bool,
}

impl Flags {
    /// Whether any flag is raised.
    pub fn any(&self) -> bool {
        self.sybil || self.norm_outlier || self.wrong_direction
    }
}

/// One client's scores and flags for a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientReport {
    /// The client.
    pub client: ClientId,
    /// L2 norm of its update `params - global` (Q16.16, saturated).
    pub norm: i32,
    /// Robust z-score of the norm (Q16.16, saturated).
    pub norm_z: i32,
    /// Largest cosine similarity of its history to another client's (Q16.16).
    pub max_similarity: i32,
    /// FoolsGold weight `1 - max pardoned similarity`, in `[0, 1]` (Q16.16).
    pub foolsgold_weight: i32,
    /// Cosine between its update and the coordinate-wise median update (Q16.16).
    pub cosine_to_median: i32,
    /// Raised flags.
    pub flags: Flags,
}

/// Stateful detector: keeps each client's summed update history across rounds.
#[derive(Debug, Clone, Default)]
pub struct Detector {
    config: DetectorConfig,
    history: BTreeMap<ClientId, Vec<i64>>,
}

/// Cosine of two integer vectors as Q16.16, exact up to the final rounding.
fn cosine<A, B>(a: &[A], b: &[B]) -> i32
where
    A: Copy + Into<i64>,
    B: Copy + Into<i64>,
{
    let (mut dot, mut na, mut nb) = (0i128, 0u128, 0u128);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (i128::from(x.into()), i128::from(y.into()));
        dot = dot.saturating_add(x * y);
        na = na.saturating_add((x * x).unsigned_abs());
        nb = nb.saturating_add((y * y).unsigned_abs());
    }
    let (sa, sb) = (na.isqrt(), nb.isqrt());
    if sa == 0 || sb == 0 {
        return 0;
    }
    // cos = dot / (sa · sb); scale the denominator down instead of the numerator up.
    let denom = sa.saturating_mul(sb);
    let shift = (128 - denom.leading_zeros()).saturating_sub(100);
    let d = (denom >> shift) as i128;
    let n = dot >> shift;
    let q = fixed::div_round_i128(
        n.saturating_mul(i128::from(ONE))
            .clamp(-(1 << 120), 1 << 120),
        d.max(1),
    );
    q.clamp(-i128::from(ONE), i128::from(ONE)) as i32
}

fn median_i64(sorted: &[i64]) -> i64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        fixed::div_round_i64(sorted[n / 2 - 1] + sorted[n / 2], 2)
    }
}

impl Detector {
    /// A detector with the given thresholds.
    pub fn new(config: DetectorConfig) -> Self {
        Self {
            config,
            history: BTreeMap::new(),
        }
    }

    /// Score this round's updates against `global`, add them to the histories, and return
    /// one report per update in client-id order.
    ///
    /// # Errors
    /// The [`crate::validate`] errors; [`Error::InvalidParameters`] if the model dimension
    /// changed since earlier rounds.
    pub fn observe(&mut self, global: &[i32], updates: &[Update]) -> Result<Vec<ClientReport>> {
        let (sorted, _) = prepare(global, updates)?;
        if let Some(h) = self.history.values().next()
            && h.len() != global.len()
        {
            return Err(Error::InvalidParameters {
                strategy: "detector",
                reason: "model dimension changed between rounds".into(),
            });
        }
        let deltas: Vec<Vec<i64>> = sorted
            .iter()
            .map(|u| {
                u.params
                    .iter()
                    .zip(global)
                    .map(|(&x, &g)| i64::from(x) - i64::from(g))
                    .collect()
            })
            .collect();
        for (u, d) in sorted.iter().zip(&deltas) {
            let h = self
                .history
                .entry(u.client)
                .or_insert_with(|| vec![0; global.len()]);
            for (a, &b) in h.iter_mut().zip(d) {
                *a = a.saturating_add(b);
            }
        }
        let n = sorted.len();

        // Norm outliers: median and MAD of the update norms.
        let norms: Vec<i64> = deltas
            .iter()
            .map(|d| {
                let s: u128 = d
                    .iter()
                    .map(|&x| (i128::from(x) * i128::from(x)).unsigned_abs())
                    .sum();
                i64::try_from(s.isqrt()).unwrap_or(i64::MAX)
            })
            .collect();
        let mut sorted_norms = norms.clone();
        sorted_norms.sort_unstable();
        let med = median_i64(&sorted_norms);
        let mut dev: Vec<i64> = norms.iter().map(|&x| (x - med).abs()).collect();
        dev.sort_unstable();
        // Floor the MAD at 1% of the median so identical honest norms do not make every tiny
        // difference an outlier.
        let mad = median_i64(&dev).max(med / 100).max(1);
        let scale = i128::from(mad) * 97_163; // 1.4826 in Q16.16

        // Direction: cosine to the coordinate-wise median update.
        let dim = global.len();
        let mut median_delta = vec![0i64; dim];
        let mut col = vec![0i64; n];
        for (j, m) in median_delta.iter_mut().enumerate() {
            for (c, d) in col.iter_mut().zip(&deltas) {
                *c = d[j];
            }
            col.sort_unstable();
            *m = median_i64(&col);
        }

        // FoolsGold over the histories of this round's clients.
        let hist: Vec<&Vec<i64>> = sorted
            .iter()
            .filter_map(|u| self.history.get(&u.client))
            .collect();
        let mut cs = vec![vec![0i32; n]; n];
        for i in 0..n {
            for j in i + 1..n {
                let c = cosine(hist[i], hist[j]);
                cs[i][j] = c;
                cs[j][i] = c;
            }
        }
        let v: Vec<i32> = (0..n)
            .map(|i| {
                (0..n)
                    .filter(|&j| j != i)
                    .map(|j| cs[i][j])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut reports = Vec::with_capacity(n);
        for i in 0..n {
            // Pardoning: similarity to a client that is itself more similar to others is
            // scaled down by v_i / v_j.
            let mut max_pardoned = i32::MIN;
            for j in (0..n).filter(|&j| j != i) {
                let mut c = i64::from(cs[i][j]);
                if v[j] > v[i] && v[j] > 0 {
                    c = fixed::div_round_i64(c * i64::from(v[i].max(0)), i64::from(v[j]));
                }
                max_pardoned = max_pardoned.max(c as i32);
            }
            let max_pardoned = if n == 1 { 0 } else { max_pardoned };
            let weight = (ONE - max_pardoned.max(0)).clamp(0, ONE);
            let z = fixed::saturate128(fixed::div_round_i128(
                i128::from(norms[i] - med) << 32,
                scale,
            ));
            let cos_med = cosine(&deltas[i], &median_delta);
            let flags = Flags {
                sybil: n > 1 && weight <= self.config.sybil_weight,
                norm_outlier: z > self.config.norm_z,
                wrong_direction: cos_med < self.config.min_cosine_to_median,
            };
            reports.push(ClientReport {
                client: sorted[i].client,
                norm: fixed::saturate(norms[i]),
                norm_z: z,
                max_similarity: v[i],
                foolsgold_weight: weight,
                cosine_to_median: cos_med,
                flags,
            });
        }
        Ok(reports)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn honest(c: u64, dim: usize) -> Vec<i32> {
        // Distinct pseudo-random directions around a common drift.
        (0..dim)
            .map(|j| {
                let h = (c * 2_654_435_761 + j as u64 * 40_503) % 1000;
                200 + h as i32 - 500
            })
            .collect()
    }

    #[test]
    fn flags_sybils_scalers_and_sign_flippers() {
        let dim = 64;
        let global = vec![0; dim];
        let mut det = Detector::new(DetectorConfig::default());
        let mut last = Vec::new();
        for round in 0..3u64 {
            let mut ups: Vec<Update> = (0..6)
                .map(|c| Update::new(ClientId(c), 10, honest(c * 31 + round * 7, dim)))
                .collect();
            // Two sybils send the same crafted update.
            let sybil: Vec<i32> = (0..dim)
                .map(|j| if j % 2 == 0 { 900 } else { -900 })
                .collect();
            ups.push(Update::new(ClientId(10), 10, sybil.clone()));
            ups.push(Update::new(ClientId(11), 10, sybil));
            // A scaled-up update and a sign-flipped one.
            ups.push(Update::new(
                ClientId(12),
                10,
                honest(99, dim).iter().map(|x| x * 50).collect(),
            ));
            let flipped = honest(5 * 31 + round * 7, dim)
                .iter()
                .map(|x| -4 * x)
                .collect();
            ups.push(Update::new(ClientId(13), 10, flipped));
            last = det.observe(&global, &ups).unwrap();
        }
        let by: BTreeMap<ClientId, ClientReport> = last.iter().map(|r| (r.client, *r)).collect();
        assert!(by[&ClientId(10)].flags.sybil && by[&ClientId(11)].flags.sybil);
        assert!(by[&ClientId(12)].flags.norm_outlier);
        assert!(by[&ClientId(13)].flags.wrong_direction);
        for c in 0..6 {
            assert!(!by[&ClientId(c)].flags.sybil, "honest {c} flagged sybil");
            assert!(
                !by[&ClientId(c)].flags.norm_outlier,
                "honest {c} flagged norm"
            );
        }
        // Deterministic: a fresh detector fed the same rounds reports the same.
        let again = det
            .clone()
            .observe(&global, &[Update::new(ClientId(0), 1, vec![1; dim])]);
        assert!(again.is_ok());
        assert!(
            det.observe(&[0; 3], &[Update::new(ClientId(0), 1, vec![0; 3])])
                .is_err()
        );
    }

    #[test]
    fn cosine_is_exact_at_the_extremes() {
        assert_eq!(cosine(&[1i64, 0], &[2i64, 0]), ONE);
        assert_eq!(cosine(&[1i64, 0], &[-3i64, 0]), -ONE);
        assert_eq!(cosine(&[1i64, 0], &[0i64, 5]), 0);
        assert_eq!(
            cosine(&[i64::from(i32::MAX) * 1000; 4], &[i64::from(i32::MAX); 4]),
            ONE
        );
        assert_eq!(cosine(&[0i64; 3], &[1i64; 3]), 0);
    }
}
