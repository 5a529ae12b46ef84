//! q-fair federated averaging (Li et al. 2020, "q-FFL"), as in Flower's `QFedAvg`.

use crate::aggregator::{Aggregator, prepare};
use crate::error::{Error, Result};
use crate::fixed::{self, FRAC_BITS, ONE};
use crate::update::Update;

/// QFedAvg with an integer fairness exponent `q` and the clients' learning rate `lr`
/// (`L = 1/lr` estimates the Lipschitz constant).
///
/// With `g_k = (global - x_k) / lr` and losses `F_k` (Q16.16, carried by each update):
/// `Δ_k = F_k^q · g_k`, `h_k = q · F_k^(q-1) · ‖g_k‖² + L · F_k^q`, and
/// `global ← global - Σ_k Δ_k / Σ_k h_k`. All terms are Q16.16 in `i128` with
/// round-half-to-even after every product and division, saturated to `i32` at the end.
/// `q = 0` is the unweighted mean of the client models.
#[derive(Debug, Clone, Copy)]
pub struct QFedAvg {
    q: u32,
    lr: i32,
}

impl QFedAvg {
    /// Fairness exponent `q` (0..=16) and client learning rate `lr > 0` (Q16.16).
    ///
    /// # Errors
    /// [`Error::InvalidParameters`] for `lr <= 0` or `q > 16`.
    pub fn new(q: u32, lr: i32) -> Result<Self> {
        if lr <= 0 || q > 16 {
            return Err(Error::InvalidParameters {
                strategy: "qfedavg",
                reason: format!(
                    "needs lr > 0 and q <= 16, got lr = {}, q = {q}",
                    fixed::to_f32(lr)
                ),
            });
        }
        Ok(Self { q, lr })
    }
}

const CAP: i128 = 1 << 100;

fn mul_q(a: i128, b: i128) -> i128 {
    fixed::shr_round128(
        a.clamp(-CAP, CAP).saturating_mul(b.clamp(-CAP, CAP)),
        FRAC_BITS,
    )
    .clamp(-CAP, CAP)
}

fn pow_q(x: i128, e: u32) -> i128 {
    (0..e).fold(i128::from(ONE), |acc, _| mul_q(acc, x))
}

impl Aggregator for QFedAvg {
    fn name(&self) -> &'static str {
        "qfedavg"
    }

    fn aggregate(&mut self, global: &[i32], updates: &[Update]) -> Result<Vec<i32>> {
        let (sorted, _) = prepare(global, updates)?;
        let dim = global.len();
        let lr = i128::from(self.lr);
        let mut weighted = vec![0i128; dim];
        let mut h_total: i128 = 0;
        for u in &sorted {
            let loss = u.loss.ok_or(Error::MissingLoss { client: u.client })?;
            // Flower adds 1e-10 to the loss; here the loss is floored at one ulp.
            let f = i128::from(loss.max(1));
            let fq = pow_q(f, self.q);
            let mut norm2: i128 = 0;
            for ((&w, &x), acc) in global.iter().zip(&u.params).zip(weighted.iter_mut()) {
                let g = fixed::div_round_i128((i128::from(w) - i128::from(x)) << FRAC_BITS, lr);
                norm2 = norm2.saturating_add(g * g);
                *acc = acc.saturating_add(fq.saturating_mul(g));
            }
            let norm2 = fixed::shr_round128(norm2, FRAC_BITS).clamp(-CAP, CAP);
            let lips = fixed::div_round_i128(i128::from(ONE) << FRAC_BITS, lr);
            let first = if self.q == 0 {
                0
            } else {
                mul_q(i128::from(self.q) * pow_q(f, self.q - 1), norm2)
            };
            h_total = h_total.saturating_add(first + mul_q(lips, fq));
        }
        let h = h_total.max(1);
        Ok(global
            .iter()
            .zip(&weighted)
            .map(|(&w, &acc)| fixed::saturate128(i128::from(w) - fixed::div_round_i128(acc, h)))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ClientId;

    fn fx(x: f32) -> i32 {
        fixed::from_f32(x).unwrap()
    }

    #[test]
    fn matches_float_reference() {
        let g = [fx(1.0), fx(-0.5), fx(0.25)];
        let ups = [
            Update::new(ClientId(1), 10, vec![fx(0.9), fx(-0.4), fx(0.3)]).with_loss(fx(0.8)),
            Update::new(ClientId(2), 10, vec![fx(1.2), fx(-0.7), fx(0.2)]).with_loss(fx(2.0)),
        ];
        let (q, lr) = (2u32, 0.1f64);
        let out = QFedAvg::new(q, fx(0.1))
            .unwrap()
            .aggregate(&g, &ups)
            .unwrap();
        let gf: Vec<f64> = g.iter().map(|&x| f64::from(fixed::to_f32(x))).collect();
        let mut num = [0.0; 3];
        let mut h = 0.0;
        for u in &ups {
            let f = f64::from(fixed::to_f32(u.loss.unwrap()));
            let grads: Vec<f64> = gf
                .iter()
                .zip(&u.params)
                .map(|(w, &x)| (w - f64::from(fixed::to_f32(x))) / lr)
                .collect();
            let n2: f64 = grads.iter().map(|x| x * x).sum();
            for (a, gr) in num.iter_mut().zip(&grads) {
                *a += f.powi(q as i32) * gr;
            }
            h += f64::from(q) * f.powi(q as i32 - 1) * n2 + f.powi(q as i32) / lr;
        }
        for j in 0..3 {
            let expect = gf[j] - num[j] / h;
            assert!(
                (f64::from(fixed::to_f32(out[j])) - expect).abs() < 1e-4,
                "{j}"
            );
        }
        let no_loss = [Update::new(ClientId(1), 1, vec![0; 3])];
        assert!(matches!(
            QFedAvg::new(1, fx(0.1)).unwrap().aggregate(&g, &no_loss),
            Err(Error::MissingLoss { .. })
        ));
        assert!(QFedAvg::new(1, 0).is_err());
    }
}
