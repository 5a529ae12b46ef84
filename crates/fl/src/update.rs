//! Client updates and their validation.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::fixed;

/// The largest total sample count a round may report. Keeping `Σ n_i ≤ 2^31` lets FedAvg
/// accumulate `Σ n_i · x_i` exactly in an `i64`.
pub const MAX_TOTAL_SAMPLES: u64 = 1 << 31;

/// Identifies a client within a federation.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
pub struct ClientId(pub u64);

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// One client's contribution to a round: its locally trained model in Q16.16.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Update {
    /// Who trained it.
    pub client: ClientId,
    /// How many local training samples it saw (the FedAvg weight).
    pub num_samples: u64,
    /// The full parameter vector after local training, Q16.16.
    pub params: Vec<i32>,
    /// Local training loss in Q16.16 (needed by QFedAvg only).
    pub loss: Option<i32>,
}

impl Update {
    /// Build an update from fixed-point parameters.
    pub fn new(client: ClientId, num_samples: u64, params: Vec<i32>) -> Self {
        Self {
            client,
            num_samples,
            params,
            loss: None,
        }
    }

    /// Build an update by quantising float parameters (round half to even).
    ///
    /// # Errors
    /// [`Error::NonFinite`] or [`Error::OutOfRange`] for the first bad value.
    pub fn from_f32(client: ClientId, num_samples: u64, params: &[f32]) -> Result<Self> {
        Ok(Self::new(client, num_samples, fixed::quantize(params)?))
    }

    /// Attach the local loss (Q16.16), used by QFedAvg.
    #[must_use]
    pub fn with_loss(mut self, loss: i32) -> Self {
        self.loss = Some(loss);
        self
    }
}

/// Check a batch of updates against the model dimension: non-empty, right shape, positive
/// sample counts, unique clients and a total sample count of at most [`MAX_TOTAL_SAMPLES`].
///
/// # Errors
/// The first violation found, scanning in slice order.
pub fn validate(updates: &[Update], dim: usize) -> Result<u64> {
    if updates.is_empty() {
        return Err(Error::NoUpdates);
    }
    let mut seen = BTreeSet::new();
    let mut total: u64 = 0;
    for u in updates {
        if u.params.len() != dim {
            return Err(Error::WrongShape {
                client: u.client,
                expected: dim,
                got: u.params.len(),
            });
        }
        if u.num_samples == 0 {
            return Err(Error::ZeroSamples { client: u.client });
        }
        if !seen.insert(u.client) {
            return Err(Error::DuplicateClient { client: u.client });
        }
        total = total.saturating_add(u.num_samples);
    }
    if total > MAX_TOTAL_SAMPLES {
        return Err(Error::TooManySamples {
            total,
            limit: MAX_TOTAL_SAMPLES,
        });
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_batches() {
        let ok = Update::new(ClientId(1), 3, vec![0; 4]);
        assert_eq!(validate(&[], 4), Err(Error::NoUpdates));
        assert_eq!(validate(std::slice::from_ref(&ok), 4), Ok(3));
        assert!(matches!(
            validate(std::slice::from_ref(&ok), 5),
            Err(Error::WrongShape {
                expected: 5,
                got: 4,
                ..
            })
        ));
        assert!(matches!(
            validate(&[ok.clone(), ok.clone()], 4),
            Err(Error::DuplicateClient { .. })
        ));
        let zero = Update::new(ClientId(2), 0, vec![0; 4]);
        assert!(matches!(
            validate(&[ok, zero], 4),
            Err(Error::ZeroSamples { .. })
        ));
        let big = Update::new(ClientId(3), MAX_TOTAL_SAMPLES + 1, vec![0; 4]);
        assert!(matches!(
            validate(&[big], 4),
            Err(Error::TooManySamples { .. })
        ));
        assert!(matches!(
            Update::from_f32(ClientId(1), 1, &[f32::NAN]),
            Err(Error::NonFinite { index: 0 })
        ));
    }
}
