//! Distance-based robust rules: Krum, Multi-Krum and Bulyan.
//!
//! Squared distances are exact (`u128`), so scores and selections never depend on rounding.
//! Ties in score are broken towards the lower [`ClientId`](crate::ClientId).

use crate::aggregator::{Aggregator, Exec, prepare};
use crate::error::{Error, Result};
use crate::strategy::{fedavg, kernels};
use crate::update::Update;

/// Krum scores of the candidate rows `alive` (indices into the `n × n` matrix `dist`): the sum
/// of squared distances to the `max(|alive| - f - 2, 1)` nearest other candidates.
fn scores(dist: &[u128], n: usize, alive: &[usize], f: usize) -> Vec<u128> {
    let k = alive.len().saturating_sub(f + 2).max(1);
    alive
        .iter()
        .map(|&i| {
            let mut d: Vec<u128> = alive
                .iter()
                .filter(|&&j| j != i)
                .map(|&j| dist[i * n + j])
                .collect();
            d.sort_unstable();
            d.iter().take(k).sum()
        })
        .collect()
}

/// Indices of `alive` ordered by (score, index): most central first.
fn ranking(dist: &[u128], n: usize, alive: &[usize], f: usize) -> Vec<usize> {
    let s = scores(dist, n, alive, f);
    let mut order: Vec<usize> = (0..alive.len()).collect();
    order.sort_by_key(|&p| (s[p], alive[p]));
    order.into_iter().map(|p| alive[p]).collect()
}

fn check_krum(f: usize, n: usize) -> Result<()> {
    let needed = 2 * f + 3;
    if n < needed {
        return Err(Error::KrumTooFewUpdates { f, needed, got: n });
    }
    Ok(())
}

fn rows<'a>(sorted: &[&'a Update]) -> Vec<&'a [i32]> {
    sorted.iter().map(|u| u.params.as_slice()).collect()
}

/// Krum (Blanchard et al. 2017): pick the single update whose `n - f - 2` nearest neighbours are
/// closest. Needs `n >= 2f + 3`.
#[derive(Debug, Clone, Copy)]
pub struct Krum {
    f: usize,
    exec: Exec,
}

impl Krum {
    /// Krum tolerating `f` Byzantine updates.
    pub fn new(f: usize) -> Self {
        Self {
            f,
            exec: Exec::Sequential,
        }
    }

    /// Choose how the work is spread (results are identical either way).
    #[must_use]
    pub fn with_exec(mut self, exec: Exec) -> Self {
        self.exec = exec;
        self
    }
}

impl Aggregator for Krum {
    fn name(&self) -> &'static str {
        "krum"
    }

    fn aggregate(&mut self, global: &[i32], updates: &[Update]) -> Result<Vec<i32>> {
        let (sorted, _) = prepare(global, updates)?;
        let n = sorted.len();
        check_krum(self.f, n)?;
        let dist = kernels::pairwise_sq_distances(&rows(&sorted), self.exec);
        let alive: Vec<usize> = (0..n).collect();
        let best = ranking(&dist, n, &alive, self.f)[0];
        Ok(sorted[best].params.clone())
    }
}

/// Multi-Krum: the sample-weighted FedAvg of the `m` updates with the best Krum scores.
/// Needs `n >= 2f + 3` and `1 <= m <= n`.
#[derive(Debug, Clone, Copy)]
pub struct MultiKrum {
    f: usize,
    m: usize,
    exec: Exec,
}

impl MultiKrum {
    /// Multi-Krum tolerating `f` Byzantine updates and averaging the best `m`.
    ///
    /// # Errors
    /// [`Error::InvalidParameters`] when `m == 0`.
    pub fn new(f: usize, m: usize) -> Result<Self> {
        if m == 0 {
            return Err(Error::InvalidParameters {
                strategy: "multikrum",
                reason: "m (updates kept) must be at least 1".into(),
            });
        }
        Ok(Self {
            f,
            m,
            exec: Exec::Sequential,
        })
    }

    /// Choose how the work is spread (results are identical either way).
    #[must_use]
    pub fn with_exec(mut self, exec: Exec) -> Self {
        self.exec = exec;
        self
    }

    /// The client ids Multi-Krum keeps from `updates`, most central first.
    ///
    /// # Errors
    /// As [`Aggregator::aggregate`].
    pub fn select(&self, global: &[i32], updates: &[Update]) -> Result<Vec<crate::ClientId>> {
        let (sorted, _) = prepare(global, updates)?;
        let keep = self.keep(&sorted)?;
        Ok(keep.iter().map(|&i| sorted[i].client).collect())
    }

    fn keep(&self, sorted: &[&Update]) -> Result<Vec<usize>> {
        let n = sorted.len();
        check_krum(self.f, n)?;
        if self.m > n {
            return Err(Error::InvalidParameters {
                strategy: "multikrum",
                reason: format!("m = {} exceeds the {n} updates received", self.m),
            });
        }
        let dist = kernels::pairwise_sq_distances(&rows(sorted), self.exec);
        let alive: Vec<usize> = (0..n).collect();
        let mut best = ranking(&dist, n, &alive, self.f);
        best.truncate(self.m);
        Ok(best)
    }
}

impl Aggregator for MultiKrum {
    fn name(&self) -> &'static str {
        "multikrum"
    }

    fn aggregate(&mut self, global: &[i32], updates: &[Update]) -> Result<Vec<i32>> {
        let (sorted, _) = prepare(global, updates)?;
        let mut keep = self.keep(&sorted)?;
        keep.sort_unstable();
        let chosen: Vec<&Update> = keep.iter().map(|&i| sorted[i]).collect();
        Ok(fedavg::weighted_mean(&chosen, global.len(), self.exec))
    }
}

/// Bulyan (El Mhamdi et al. 2018): select `θ = n - 2f` updates by iterated Krum (re-scoring the
/// remaining set after each pick, with `max(r - f - 2, 1)` neighbours for `r` remaining), then
/// per coordinate sort the `θ` values and take the round-half-even mean of the middle
/// `β = θ - 2f` (dropping `f` per side). Refuses `n < 4f + 3` with
/// [`Error::BulyanTooFewUpdates`].
#[derive(Debug, Clone, Copy)]
pub struct Bulyan {
    f: usize,
    exec: Exec,
}

impl Bulyan {
    /// Bulyan tolerating `f` Byzantine updates.
    pub fn new(f: usize) -> Self {
        Self {
            f,
            exec: Exec::Sequential,
        }
    }

    /// Choose how the work is spread (results are identical either way).
    #[must_use]
    pub fn with_exec(mut self, exec: Exec) -> Self {
        self.exec = exec;
        self
    }
}

impl Aggregator for Bulyan {
    fn name(&self) -> &'static str {
        "bulyan"
    }

    fn aggregate(&mut self, global: &[i32], updates: &[Update]) -> Result<Vec<i32>> {
        let (sorted, _) = prepare(global, updates)?;
        let n = sorted.len();
        let f = self.f;
        let needed = 4 * f + 3;
        if n < needed {
            return Err(Error::BulyanTooFewUpdates { f, needed, got: n });
        }
        let all = rows(&sorted);
        let dist = kernels::pairwise_sq_distances(&all, self.exec);
        let theta = n - 2 * f;
        let mut alive: Vec<usize> = (0..n).collect();
        let mut selected = Vec::with_capacity(theta);
        while selected.len() < theta {
            let best = ranking(&dist, n, &alive, f)[0];
            selected.push(best);
            alive.retain(|&i| i != best);
        }
        selected.sort_unstable();
        let chosen: Vec<&[i32]> = selected.iter().map(|&i| all[i]).collect();
        let mut out = vec![0; global.len()];
        kernels::sorted_range_mean(&chosen, f, theta - f, self.exec, &mut out);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ClientId;

    fn cluster(n: usize, dim: usize) -> Vec<Update> {
        (0..n)
            .map(|i| {
                let p = (0..dim).map(|j| (i * 7 + j * 3) as i32 % 11 - 5).collect();
                Update::new(ClientId(i as u64), 10, p)
            })
            .collect()
    }

    #[test]
    fn krum_ignores_arbitrarily_large_outlier() {
        let g = vec![0; 8];
        let mut u = cluster(7, 8);
        u[3].params = vec![i32::MAX; 8];
        let out = Krum::new(2).aggregate(&g, &u).unwrap();
        assert_ne!(out, u[3].params);
        assert!(out.iter().all(|&x| x.abs() <= 5));
        let keep = MultiKrum::new(2, 4).unwrap().select(&g, &u).unwrap();
        assert!(!keep.contains(&ClientId(3)));
        let avg = MultiKrum::new(2, 4).unwrap().aggregate(&g, &u).unwrap();
        assert!(avg.iter().all(|&x| x.abs() <= 5));
    }

    #[test]
    fn bulyan_refuses_too_few_updates() {
        let g = vec![0; 4];
        let u = cluster(10, 4);
        assert_eq!(
            Bulyan::new(2).aggregate(&g, &u),
            Err(Error::BulyanTooFewUpdates {
                f: 2,
                needed: 11,
                got: 10
            })
        );
        assert!(Bulyan::new(1).aggregate(&g, &u).is_ok());
        assert!(matches!(
            Krum::new(4).aggregate(&g, &u),
            Err(Error::KrumTooFewUpdates { .. })
        ));
        assert!(MultiKrum::new(1, 0).is_err());
        assert!(MultiKrum::new(1, 11).unwrap().aggregate(&g, &u).is_err());
    }

    #[test]
    fn bulyan_ignores_outliers() {
        let g = vec![0; 6];
        let mut u = cluster(11, 6);
        u[0].params = vec![i32::MIN; 6];
        u[5].params = vec![i32::MAX; 6];
        let out = Bulyan::new(2).aggregate(&g, &u).unwrap();
        assert!(out.iter().all(|&x| x.abs() <= 5), "{out:?}");
    }
}
