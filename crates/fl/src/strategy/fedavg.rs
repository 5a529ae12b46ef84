//! Sample-weighted federated averaging.

use crate::aggregator::{Aggregator, Exec, prepare};
use crate::error::Result;
use crate::strategy::kernels;
use crate::update::Update;

/// FedAvg: `out[j] = round_half_even(Σ n_i · x_ij / Σ n_i)`, computed exactly in integers.
///
/// The result is within half an ulp (2^-17) of the exact weighted mean of the Q16.16 inputs.
#[derive(Debug, Clone, Copy, Default)]
pub struct FedAvg {
    exec: Exec,
}

impl FedAvg {
    /// Sequential FedAvg.
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

impl Aggregator for FedAvg {
    fn name(&self) -> &'static str {
        "fedavg"
    }

    fn aggregate(&mut self, global: &[i32], updates: &[Update]) -> Result<Vec<i32>> {
        let (sorted, _) = prepare(global, updates)?;
        Ok(weighted_mean(&sorted, global.len(), self.exec))
    }

    fn needs_individual_updates(&self) -> bool {
        false
    }
}

/// Weighted mean of already validated updates (sample counts fit `u32` after validation).
pub(crate) fn weighted_mean(updates: &[&Update], dim: usize, exec: Exec) -> Vec<i32> {
    let rows: Vec<&[i32]> = updates.iter().map(|u| u.params.as_slice()).collect();
    let weights: Vec<u32> = updates
        .iter()
        .map(|u| u32::try_from(u.num_samples).unwrap_or(u32::MAX))
        .collect();
    let mut out = vec![0i32; dim];
    kernels::weighted_mean(&rows, &weights, exec, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ClientId, Error, fixed};

    fn upd(id: u64, n: u64, p: Vec<i32>) -> Update {
        Update::new(ClientId(id), n, p)
    }

    #[test]
    fn weights_by_samples_and_rounds_half_even() {
        let g = vec![0; 3];
        let ups = [upd(1, 1, vec![1, 3, -1]), upd(2, 1, vec![2, 4, -2])];
        // Means 1.5, 3.5, -1.5 round to even: 2, 4, -2.
        assert_eq!(FedAvg::new().aggregate(&g, &ups), Ok(vec![2, 4, -2]));
        let ups = [upd(1, 3, vec![0, 0, 0]), upd(2, 1, vec![4, 8, -4])];
        assert_eq!(FedAvg::new().aggregate(&g, &ups), Ok(vec![1, 2, -1]));
        let ext = [upd(1, 1, vec![i32::MAX; 3]), upd(2, 1, vec![i32::MAX; 3])];
        assert_eq!(FedAvg::new().aggregate(&g, &ext), Ok(vec![i32::MAX; 3]));
        let ext = [upd(1, 7, vec![i32::MIN; 3]), upd(2, 9, vec![i32::MIN; 3])];
        assert_eq!(FedAvg::new().aggregate(&g, &ext), Ok(vec![i32::MIN; 3]));
    }

    #[test]
    fn rejects_empty_and_wrong_shape() {
        let g = vec![0; 3];
        assert_eq!(FedAvg::new().aggregate(&g, &[]), Err(Error::NoUpdates));
        assert!(matches!(
            FedAvg::new().aggregate(&g, &[upd(1, 1, vec![0; 2])]),
            Err(Error::WrongShape { .. })
        ));
    }

    #[test]
    fn order_of_updates_does_not_matter() {
        let g = vec![0; 5];
        let a = upd(1, 5, vec![1, 2, 3, 4, 5]);
        let b = upd(2, 7, vec![-9, 8, 7, -6, fixed::ONE]);
        let x = FedAvg::new().aggregate(&g, &[a.clone(), b.clone()]);
        let y = FedAvg::new().aggregate(&g, &[b, a]);
        assert_eq!(x, y);
    }
}
