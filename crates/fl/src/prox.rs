//! Client-side FedProx (Li et al. 2020): the proximal term `μ/2 · ‖w - w_global‖²` that keeps
//! local training near the global model. Runs on the client, in f32, next to the trainer.

use crate::error::{Error, Result};

fn check(mu: f32, local: &[f32], global: &[f32]) -> Result<()> {
    if !(mu.is_finite() && mu >= 0.0) {
        return Err(Error::InvalidParameters {
            strategy: "fedprox",
            reason: format!("mu must be finite and non-negative, got {mu}"),
        });
    }
    if local.len() != global.len() {
        return Err(Error::InvalidParameters {
            strategy: "fedprox",
            reason: format!(
                "local model has {} parameters, global has {}",
                local.len(),
                global.len()
            ),
        });
    }
    Ok(())
}

/// The proximal penalty `μ/2 · ‖local - global‖²` (accumulated in f64).
///
/// # Errors
/// [`Error::InvalidParameters`] for a negative or non-finite `mu` or mismatched lengths.
pub fn proximal_term(mu: f32, local: &[f32], global: &[f32]) -> Result<f32> {
    check(mu, local, global)?;
    let sq: f64 = local
        .iter()
        .zip(global)
        .map(|(&w, &g)| {
            let d = f64::from(w) - f64::from(g);
            d * d
        })
        .sum();
    Ok((0.5 * f64::from(mu) * sq) as f32)
}

/// Add the proximal term's gradient `μ · (local - global)` to `grad` in place.
///
/// # Errors
/// [`Error::InvalidParameters`] for a negative or non-finite `mu` or mismatched lengths
/// (including `grad`).
pub fn add_proximal_gradient(
    mu: f32,
    local: &[f32],
    global: &[f32],
    grad: &mut [f32],
) -> Result<()> {
    check(mu, local, global)?;
    if grad.len() != local.len() {
        return Err(Error::InvalidParameters {
            strategy: "fedprox",
            reason: format!(
                "gradient has {} entries, model has {}",
                grad.len(),
                local.len()
            ),
        });
    }
    for ((g, &w), &w0) in grad.iter_mut().zip(local).zip(global) {
        *g += mu * (w - w0);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradient_matches_finite_differences() {
        let mu = 0.3f32;
        let global = [0.5f32, -1.0, 2.0];
        let local = [1.0f32, -0.5, 1.0];
        let mut grad = [0.1f32, 0.0, 0.0];
        add_proximal_gradient(mu, &local, &global, &mut grad).unwrap();
        let h = 1e-2f32;
        for i in 0..3 {
            let mut up = local;
            up[i] += h;
            let mut down = local;
            down[i] -= h;
            let fd = (proximal_term(mu, &up, &global).unwrap()
                - proximal_term(mu, &down, &global).unwrap())
                / (2.0 * h);
            let base = if i == 0 { 0.1 } else { 0.0 };
            assert!((grad[i] - base - fd).abs() < 1e-3, "{i}");
        }
        assert!((proximal_term(mu, &local, &global).unwrap() - 0.15 * 1.5).abs() < 1e-6);
        assert!(proximal_term(-1.0, &local, &global).is_err());
        assert!(proximal_term(f32::NAN, &local, &global).is_err());
        assert!(add_proximal_gradient(mu, &local, &global, &mut [0.0; 2]).is_err());
        assert!(proximal_term(mu, &local, &global[..2]).is_err());
    }
}
