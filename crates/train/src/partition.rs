//! Split a labelled data set over clients: IID, Dirichlet label skew, quantity skew.
//!
//! Every partitioner is deterministic for a given seed (ChaCha8), assigns each sample to
//! exactly one client, and returns each client's sample indices in ascending order.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How many times a skewed draw is repeated to give every client its minimum size.
pub const MAX_REDRAWS: usize = 10_000;

/// A rule that splits sample indices over clients.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Partitioner {
    /// Shuffle, then deal out equal shares (sizes differ by at most one).
    Iid,
    /// Per-class Dirichlet(`alpha`) proportions over clients (Hsu et al., 2019): small
    /// `alpha` gives each client few classes. Redrawn until every client has `min_size`.
    Dirichlet {
        /// Concentration; smaller is more skewed. Must be positive and finite.
        alpha: f64,
        /// Smallest acceptable client share.
        min_size: usize,
    },
    /// Client sizes drawn from Dirichlet(`beta`) over a shuffled (label-balanced) pool.
    /// Redrawn until every client has `min_size`.
    Quantity {
        /// Concentration of the size proportions; smaller is more unequal.
        beta: f64,
        /// Smallest acceptable client share.
        min_size: usize,
    },
}

impl Partitioner {
    /// Split the samples whose labels are `labels` over `clients` clients.
    ///
    /// Returns one ascending index list per client; together they hold every index once.
    ///
    /// # Errors
    /// [`Error::Partition`] if `clients` is zero or exceeds the sample count, a concentration
    /// is not positive and finite, or no draw within [`MAX_REDRAWS`] gives every client
    /// `min_size` samples.
    pub fn split(&self, labels: &[u32], clients: usize, seed: u64) -> Result<Vec<Vec<usize>>> {
        let n = labels.len();
        if clients == 0 {
            return Err(partition_err("need at least one client".into()));
        }
        if clients > n {
            return Err(partition_err(format!("{clients} clients for {n} samples")));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut parts = match *self {
            Self::Iid => {
                let mut idx: Vec<usize> = (0..n).collect();
                idx.shuffle(&mut rng);
                let mut parts = vec![Vec::new(); clients];
                for (k, chunk) in split_sizes(n, clients)
                    .into_iter()
                    .scan(0, |start, len| {
                        let range = *start..*start + len;
                        *start += len;
                        Some(range)
                    })
                    .enumerate()
                {
                    parts[k] = idx[chunk].to_vec();
                }
                parts
            }
            Self::Dirichlet { alpha, min_size } => {
                check_min_size(min_size, clients, n)?;
                let gamma = gamma(alpha, "alpha")?;
                let num_classes = labels.iter().max().map_or(0, |&m| m as usize + 1);
                let mut by_class = vec![Vec::new(); num_classes];
                for (i, &l) in labels.iter().enumerate() {
                    by_class[l as usize].push(i);
                }
                redraw(min_size, || {
                    let mut parts = vec![Vec::new(); clients];
                    for class in &by_class {
                        let mut idx = class.clone();
                        idx.shuffle(&mut rng);
                        let p = dirichlet(&gamma, clients, &mut rng);
                        for (k, range) in cuts(&p, idx.len()).into_iter().enumerate() {
                            parts[k].extend_from_slice(&idx[range]);
                        }
                    }
                    parts
                })?
            }
            Self::Quantity { beta, min_size } => {
                check_min_size(min_size, clients, n)?;
                let gamma = gamma(beta, "beta")?;
                let mut idx: Vec<usize> = (0..n).collect();
                redraw(min_size, || {
                    idx.shuffle(&mut rng);
                    let p = dirichlet(&gamma, clients, &mut rng);
                    cuts(&p, n)
                        .into_iter()
                        .map(|range| idx[range].to_vec())
                        .collect()
                })?
            }
        };
        for p in &mut parts {
            p.sort_unstable();
        }
        Ok(parts)
    }
}

fn partition_err(reason: String) -> Error {
    Error::Partition { reason }
}

fn check_min_size(min_size: usize, clients: usize, n: usize) -> Result<()> {
    if min_size.saturating_mul(clients) > n {
        return Err(partition_err(format!(
            "{clients} clients with at least {min_size} samples each need more than {n} samples"
        )));
    }
    Ok(())
}

fn gamma(concentration: f64, name: &str) -> Result<Gamma<f64>> {
    if !(concentration.is_finite() && concentration > 0.0) {
        return Err(partition_err(format!(
            "{name} must be positive and finite, got {concentration}"
        )));
    }
    Gamma::new(concentration, 1.0)
        .map_err(|e| partition_err(format!("{name} = {concentration}: {e}")))
}

/// One Dirichlet draw as normalised Gamma variates; an all-zero draw (possible for tiny
/// concentrations) falls back to one uniformly chosen client taking everything.
fn dirichlet(gamma: &Gamma<f64>, k: usize, rng: &mut ChaCha8Rng) -> Vec<f64> {
    let mut p: Vec<f64> = (0..k).map(|_| gamma.sample(rng)).collect();
    let sum: f64 = p.iter().sum();
    if sum > 0.0 && sum.is_finite() {
        p.iter_mut().for_each(|v| *v /= sum);
    } else {
        let mut idx: Vec<usize> = (0..k).collect();
        idx.shuffle(rng);
        p = vec![0.0; k];
        p[idx[0]] = 1.0;
    }
    p
}

/// Contiguous ranges of `0..len` with proportions `p`: cut points at `floor(cumsum(p)·len)`.
fn cuts(p: &[f64], len: usize) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::with_capacity(p.len());
    let mut acc = 0.0;
    let mut start = 0;
    for (k, &pk) in p.iter().enumerate() {
        acc += pk;
        let end = if k + 1 == p.len() {
            len
        } else {
            ((acc * len as f64) as usize).clamp(start, len)
        };
        out.push(start..end);
        start = end;
    }
    out
}

fn split_sizes(n: usize, k: usize) -> Vec<usize> {
    (0..k).map(|i| n / k + usize::from(i < n % k)).collect()
}

fn redraw(min_size: usize, mut draw: impl FnMut() -> Vec<Vec<usize>>) -> Result<Vec<Vec<usize>>> {
    for _ in 0..MAX_REDRAWS {
        let parts = draw();
        if parts.iter().all(|p| p.len() >= min_size) {
            return Ok(parts);
        }
    }
    Err(partition_err(format!(
        "no draw in {MAX_REDRAWS} gave every client {min_size} samples; lower the minimum or raise the concentration"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::Dataset;

    fn check_cover(parts: &[Vec<usize>], n: usize) {
        let mut all: Vec<usize> = parts.iter().flatten().copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..n).collect::<Vec<_>>(), "every sample exactly once");
        for p in parts {
            assert!(p.windows(2).all(|w| w[0] < w[1]), "ascending");
        }
    }

    /// Mean over clients of the largest class share of the client's data.
    fn mean_dominant_share(parts: &[Vec<usize>], labels: &[u32]) -> f64 {
        let mut total = 0.0;
        for p in parts {
            let mut counts = [0usize; 10];
            for &i in p {
                counts[labels[i] as usize] += 1;
            }
            total += *counts.iter().max().unwrap() as f64 / p.len() as f64;
        }
        total / parts.len() as f64
    }

    #[test]
    fn every_partitioner_conserves_counts_and_is_deterministic() {
        let digits = Dataset::digits();
        let labels = digits.labels();
        for part in [
            Partitioner::Iid,
            Partitioner::Dirichlet {
                alpha: 0.5,
                min_size: 10,
            },
            Partitioner::Quantity {
                beta: 1.0,
                min_size: 5,
            },
        ] {
            let a = part.split(labels, 10, 7).unwrap();
            check_cover(&a, labels.len());
            assert_eq!(
                a,
                part.split(labels, 10, 7).unwrap(),
                "{part:?} deterministic"
            );
            assert_ne!(
                a,
                part.split(labels, 10, 8).unwrap(),
                "{part:?} depends on the seed"
            );
        }
    }

    #[test]
    fn iid_shares_differ_by_at_most_one() {
        let labels: Vec<u32> = (0..103).map(|i| i % 3).collect();
        let parts = Partitioner::Iid.split(&labels, 10, 1).unwrap();
        let sizes: Vec<usize> = parts.iter().map(Vec::len).collect();
        assert_eq!(sizes.iter().sum::<usize>(), 103);
        assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1);
    }

    #[test]
    fn small_alpha_skews_labels_more_than_large_alpha() {
        let digits = Dataset::digits();
        let labels = digits.labels();
        let skewed = Partitioner::Dirichlet {
            alpha: 0.1,
            min_size: 5,
        }
        .split(labels, 10, 3)
        .unwrap();
        let even = Partitioner::Dirichlet {
            alpha: 100.0,
            min_size: 5,
        }
        .split(labels, 10, 3)
        .unwrap();
        let iid = Partitioner::Iid.split(labels, 10, 3).unwrap();
        let (s, e, i) = (
            mean_dominant_share(&skewed, labels),
            mean_dominant_share(&even, labels),
            mean_dominant_share(&iid, labels),
        );
        assert!(
            s > 0.45,
            "alpha 0.1 should make one class dominate, got {s}"
        );
        assert!(
            e < 0.2 && i < 0.2,
            "near-uniform classes expected, got {e} and {i}"
        );
        for p in &skewed {
            assert!(p.len() >= 5);
        }
    }

    #[test]
    fn quantity_skew_gives_unequal_sizes_with_minimum() {
        let labels: Vec<u32> = (0..1000).map(|i| i % 10).collect();
        let parts = Partitioner::Quantity {
            beta: 0.3,
            min_size: 8,
        }
        .split(&labels, 10, 11)
        .unwrap();
        check_cover(&parts, 1000);
        let sizes: Vec<usize> = parts.iter().map(Vec::len).collect();
        assert!(sizes.iter().all(|&s| s >= 8));
        assert!(sizes.iter().max().unwrap() > &(3 * sizes.iter().min().unwrap()));
    }

    #[test]
    fn rejects_impossible_parameters() {
        let labels = vec![0u32; 20];
        assert!(Partitioner::Iid.split(&labels, 0, 1).is_err());
        assert!(Partitioner::Iid.split(&labels, 21, 1).is_err());
        for alpha in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let err = Partitioner::Dirichlet { alpha, min_size: 1 }.split(&labels, 2, 1);
            assert!(matches!(err, Err(Error::Partition { .. })), "alpha {alpha}");
        }
        let err = Partitioner::Quantity {
            beta: 1.0,
            min_size: 11,
        }
        .split(&labels, 2, 1);
        assert!(matches!(err, Err(Error::Partition { .. })));
    }
}
