//! Differential privacy: client-side clipping with Gaussian noise, fixed and adaptive clipping,
//! and a Rényi-DP accountant for the sampled Gaussian mechanism.
//!
//! This runs on clients and on the round coordinator, never inside the state transition, so it
//! uses floats; all randomness comes from an RNG the caller passes in (seed it for
//! reproducible simulations).

use rand::Rng;
use rand_distr::{Distribution, Normal};

use crate::error::{Error, Result};

/// Euclidean norm of a vector, accumulated in f64.
pub fn l2_norm(x: &[f32]) -> f64 {
    x.iter()
        .map(|&v| f64::from(v) * f64::from(v))
        .sum::<f64>()
        .sqrt()
}

/// What clipping did to one update.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClipOutcome {
    /// L2 norm of the update `local - global` before clipping.
    pub norm: f64,
    /// Whether the update was scaled down (`norm > clip_norm`).
    pub clipped: bool,
}

fn check_vectors(global: &[f32], local: &[f32]) -> Result<()> {
    if global.len() != local.len() {
        return Err(Error::InvalidDp {
            reason: "global and local models differ in length",
        });
    }
    if let Some(index) = local.iter().position(|x| !x.is_finite()) {
        return Err(Error::NonFinite { index });
    }
    Ok(())
}

/// Scale the update `local - global` to L2 norm at most `clip_norm`, in place in `local`.
///
/// # Errors
/// [`Error::InvalidDp`] for mismatched lengths or a non-positive/non-finite `clip_norm`;
/// [`Error::NonFinite`] for NaN/inf parameters.
pub fn clip_update(global: &[f32], local: &mut [f32], clip_norm: f64) -> Result<ClipOutcome> {
    check_vectors(global, local)?;
    if !(clip_norm.is_finite() && clip_norm > 0.0) {
        return Err(Error::InvalidDp {
            reason: "clip norm must be positive and finite",
        });
    }
    let norm = global
        .iter()
        .zip(local.iter())
        .map(|(&g, &l)| {
            let d = f64::from(l) - f64::from(g);
            d * d
        })
        .sum::<f64>()
        .sqrt();
    let clipped = norm > clip_norm;
    if clipped {
        let scale = clip_norm / norm;
        for (l, &g) in local.iter_mut().zip(global) {
            *l = (f64::from(g) + (f64::from(*l) - f64::from(g)) * scale) as f32;
        }
    }
    Ok(ClipOutcome { norm, clipped })
}

/// Add independent `N(0, std²)` noise to every coordinate.
///
/// # Errors
/// [`Error::InvalidDp`] when `std` is negative or not finite.
pub fn add_gaussian_noise<R: Rng + ?Sized>(x: &mut [f32], std: f64, rng: &mut R) -> Result<()> {
    let normal = Normal::new(0.0, std).map_err(|_| Error::InvalidDp {
        reason: "noise standard deviation must be finite and non-negative",
    })?;
    for v in x.iter_mut() {
        *v = (f64::from(*v) + normal.sample(rng)) as f32;
    }
    Ok(())
}

/// Client-side DP with a fixed clip norm: clip the update to `clip_norm`, then add Gaussian
/// noise of standard deviation `noise_multiplier × clip_norm / √share`.
///
/// With `share = 1` every client adds the full noise (local DP). With `share = n` (distributed
/// DP, for secure aggregation) each of `n` clients adds `1/√n` of it, so the *sum* carries
/// noise of standard deviation `noise_multiplier × clip_norm`, which is what the accountant
/// assumes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClientDp {
    clip_norm: f64,
    noise_multiplier: f64,
    share: u32,
}

impl ClientDp {
    /// Local DP with the given clip norm and noise multiplier.
    ///
    /// # Errors
    /// [`Error::InvalidDp`] unless `clip_norm > 0` and `noise_multiplier >= 0`, both finite.
    pub fn new(clip_norm: f64, noise_multiplier: f64) -> Result<Self> {
        if !(clip_norm.is_finite() && clip_norm > 0.0) {
            return Err(Error::InvalidDp {
                reason: "clip norm must be positive and finite",
            });
        }
        if !(noise_multiplier.is_finite() && noise_multiplier >= 0.0) {
            return Err(Error::InvalidDp {
                reason: "noise multiplier must be finite and non-negative",
            });
        }
        Ok(Self {
            clip_norm,
            noise_multiplier,
            share: 1,
        })
    }

    /// Split the noise across `clients` contributors whose sum is released.
    ///
    /// # Errors
    /// [`Error::InvalidDp`] for zero clients.
    pub fn distributed(mut self, clients: u32) -> Result<Self> {
        if clients == 0 {
            return Err(Error::InvalidDp {
                reason: "distributed noise needs at least one client",
            });
        }
        self.share = clients;
        Ok(self)
    }

    /// The clip norm.
    pub fn clip_norm(&self) -> f64 {
        self.clip_norm
    }

    /// Standard deviation of the noise this client adds per coordinate.
    pub fn noise_std(&self) -> f64 {
        self.noise_multiplier * self.clip_norm / f64::from(self.share).sqrt()
    }

    /// Clip `local - global` and add this client's noise to `local`.
    ///
    /// # Errors
    /// As [`clip_update`].
    pub fn privatize<R: Rng + ?Sized>(
        &self,
        global: &[f32],
        local: &mut [f32],
        rng: &mut R,
    ) -> Result<ClipOutcome> {
        let outcome = clip_update(global, local, self.clip_norm)?;
        add_gaussian_noise(local, self.noise_std(), rng)?;
        Ok(outcome)
    }
}

/// Adaptive clipping (Andrew et al. 2021, "Differentially private learning with adaptive
/// clipping"): the clip norm follows a target quantile of the update norms, using a noised
/// count of unclipped updates.
///
/// Each round: `b̄ = (Σ 1[norm_i ≤ C] + N(0, σ_b²)) / m`, `C ← C · exp(-η_C (b̄ - γ))`. The
/// noise multiplier for the updates becomes `(z⁻² - (2σ_b)⁻²)^(-1/2)` so that the two releases
/// together cost what `z` alone would.
#[derive(Debug, Clone, PartialEq)]
pub struct AdaptiveClipping {
    clip_norm: f64,
    noise_multiplier: f64,
    target_quantile: f64,
    clip_lr: f64,
    count_stddev: f64,
}

impl AdaptiveClipping {
    /// Start at `initial_clip` with total noise multiplier `noise_multiplier`, target quantile
    /// `target_quantile` (e.g. 0.5), clip learning rate `clip_lr` (e.g. 0.2) and count noise
    /// `count_stddev` (Andrew et al. suggest `m / 20` for `m` clients per round).
    ///
    /// # Errors
    /// [`Error::InvalidDp`] for out-of-range values, including `count_stddev` too small to
    /// leave a positive noise multiplier for the updates.
    pub fn new(
        initial_clip: f64,
        noise_multiplier: f64,
        target_quantile: f64,
        clip_lr: f64,
        count_stddev: f64,
    ) -> Result<Self> {
        let finite = [
            initial_clip,
            noise_multiplier,
            target_quantile,
            clip_lr,
            count_stddev,
        ]
        .iter()
        .all(|x| x.is_finite());
        if !finite || initial_clip <= 0.0 || clip_lr <= 0.0 || count_stddev <= 0.0 {
            return Err(Error::InvalidDp {
                reason: "adaptive clipping parameters must be positive and finite",
            });
        }
        if !(0.0..=1.0).contains(&target_quantile) {
            return Err(Error::InvalidDp {
                reason: "target quantile must be in [0, 1]",
            });
        }
        if noise_multiplier <= 0.0 || 2.0 * count_stddev <= noise_multiplier {
            return Err(Error::InvalidDp {
                reason: "need 0 < noise_multiplier < 2 * count_stddev",
            });
        }
        Ok(Self {
            clip_norm: initial_clip,
            noise_multiplier,
            target_quantile,
            clip_lr,
            count_stddev,
        })
    }

    /// The clip norm for the current round.
    pub fn clip_norm(&self) -> f64 {
        self.clip_norm
    }

    /// Noise multiplier to use for the model updates (the rest of the budget pays for the
    /// noised count).
    pub fn update_noise_multiplier(&self) -> f64 {
        let z = self.noise_multiplier;
        let b = 2.0 * self.count_stddev;
        (z.powi(-2) - b.powi(-2)).powf(-0.5)
    }

    /// The client DP settings for this round.
    ///
    /// # Errors
    /// As [`ClientDp::new`].
    pub fn client_dp(&self) -> Result<ClientDp> {
        ClientDp::new(self.clip_norm, self.update_noise_multiplier())
    }

    /// Update the clip norm from the round's per-client "was not clipped" bits; returns the
    /// new clip norm.
    ///
    /// # Errors
    /// [`Error::InvalidDp`] for an empty round.
    pub fn update<R: Rng + ?Sized>(&mut self, unclipped: &[bool], rng: &mut R) -> Result<f64> {
        if unclipped.is_empty() {
            return Err(Error::InvalidDp {
                reason: "adaptive clipping needs at least one client bit",
            });
        }
        let normal = Normal::new(0.0, self.count_stddev).map_err(|_| Error::InvalidDp {
            reason: "count noise must be finite",
        })?;
        let count = unclipped.iter().filter(|&&b| b).count() as f64;
        let frac = (count + normal.sample(rng)) / unclipped.len() as f64;
        self.clip_norm *= (-self.clip_lr * (frac - self.target_quantile)).exp();
        Ok(self.clip_norm)
    }
}

/// Rényi-DP accountant for the sampled Gaussian mechanism, following Mironov et al. 2019 and
/// the RDP accountant of Opacus/Flower (same orders, same RDP formulas, and the
/// Balle et al. 2020 conversion to (ε, δ)).
#[derive(Debug, Clone, PartialEq)]
pub struct RdpAccountant {
    orders: Vec<f64>,
    rdp: Vec<f64>,
}

impl Default for RdpAccountant {
    fn default() -> Self {
        Self::new()
    }
}

impl RdpAccountant {
    /// Accountant over the default orders `1.1, 1.2, …, 10.9, 12, 13, …, 63`.
    pub fn new() -> Self {
        let mut orders: Vec<f64> = (1..100).map(|x| 1.0 + f64::from(x) / 10.0).collect();
        orders.extend((12..64).map(f64::from));
        let rdp = vec![0.0; orders.len()];
        Self { orders, rdp }
    }

    /// Record `steps` releases with noise multiplier `noise_multiplier` (noise std divided by
    /// the clip norm) and sampling rate `sample_rate` (probability each client takes part).
    ///
    /// # Errors
    /// [`Error::InvalidDp`] for `sample_rate` outside `[0, 1]` or a negative/non-finite
    /// noise multiplier.
    pub fn step(&mut self, noise_multiplier: f64, sample_rate: f64, steps: u32) -> Result<()> {
        if !(0.0..=1.0).contains(&sample_rate) {
            return Err(Error::InvalidDp {
                reason: "sample rate must be in [0, 1]",
            });
        }
        if !(noise_multiplier.is_finite() && noise_multiplier >= 0.0) {
            return Err(Error::InvalidDp {
                reason: "noise multiplier must be finite and non-negative",
            });
        }
        for (r, &a) in self.rdp.iter_mut().zip(&self.orders) {
            *r += f64::from(steps) * rdp_sampled_gaussian(sample_rate, noise_multiplier, a);
        }
        Ok(())
    }

    /// The smallest ε over the orders for the given δ, with the order that achieves it.
    ///
    /// # Errors
    /// [`Error::InvalidDp`] unless `0 < δ < 1`.
    pub fn epsilon(&self, delta: f64) -> Result<(f64, f64)> {
        if !(delta > 0.0 && delta < 1.0) {
            return Err(Error::InvalidDp {
                reason: "delta must be in (0, 1)",
            });
        }
        let mut best = (f64::INFINITY, f64::NAN);
        for (&r, &a) in self.rdp.iter().zip(&self.orders) {
            let eps = r - (delta.ln() + a.ln()) / (a - 1.0) + ((a - 1.0) / a).ln();
            if eps.is_finite() && eps < best.0 {
                best = (eps, a);
            }
        }
        Ok(best)
    }
}

/// ε after `rounds` rounds of the sampled Gaussian mechanism.
///
/// # Errors
/// As [`RdpAccountant::step`] and [`RdpAccountant::epsilon`].
pub fn epsilon(noise_multiplier: f64, sample_rate: f64, rounds: u32, delta: f64) -> Result<f64> {
    let mut acc = RdpAccountant::new();
    acc.step(noise_multiplier, sample_rate, rounds)?;
    Ok(acc.epsilon(delta)?.0)
}

/// The smallest noise multiplier (to 0.1% relative precision) whose ε after `rounds` rounds is
/// at most `target_epsilon`.
///
/// # Errors
/// [`Error::InvalidDp`] for a non-positive target or one that even a multiplier of 1000
/// cannot reach.
pub fn noise_multiplier_for_epsilon(
    target_epsilon: f64,
    sample_rate: f64,
    rounds: u32,
    delta: f64,
) -> Result<f64> {
    if !(target_epsilon.is_finite() && target_epsilon > 0.0) {
        return Err(Error::InvalidDp {
            reason: "target epsilon must be positive",
        });
    }
    let (mut lo, mut hi) = (0.0f64, 1000.0f64);
    if epsilon(hi, sample_rate, rounds, delta)? > target_epsilon {
        return Err(Error::InvalidDp {
            reason: "target epsilon is unreachable",
        });
    }
    while hi - lo > 1e-3 * hi {
        let mid = 0.5 * (lo + hi);
        if epsilon(mid, sample_rate, rounds, delta)? > target_epsilon {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(hi)
}

fn log_add(a: f64, b: f64) -> f64 {
    let (hi, lo) = if a > b { (a, b) } else { (b, a) };
    if lo == f64::NEG_INFINITY {
        return hi;
    }
    (lo - hi).exp().ln_1p() + hi
}

fn log_sub(a: f64, b: f64) -> f64 {
    if b == f64::NEG_INFINITY {
        return a;
    }
    if a <= b {
        // Opacus raises here; the series terms it subtracts are always smaller in practice.
        return f64::NEG_INFINITY;
    }
    // ln(e^a - e^b) = a + ln(1 - e^(b-a)).
    a + (-(b - a).exp_m1()).ln()
}

fn log_erfc(x: f64) -> f64 {
    let v = libm::erfc(x);
    if v > 0.0 {
        v.ln()
    } else {
        // Asymptotic expansion for large x, where erfc underflows.
        -x * x - x.ln() - 0.5 * std::f64::consts::PI.ln() + (1.0 - 0.5 / (x * x)).ln()
    }
}

fn rdp_sampled_gaussian(q: f64, sigma: f64, alpha: f64) -> f64 {
    if q == 0.0 {
        return 0.0;
    }
    if sigma == 0.0 {
        return f64::INFINITY;
    }
    if q == 1.0 {
        return alpha / (2.0 * sigma * sigma);
    }
    let log_a = if alpha.fract() == 0.0 {
        log_a_int(q, sigma, alpha as u32)
    } else {
        log_a_frac(q, sigma, alpha)
    };
    log_a / (alpha - 1.0)
}

fn log_binom(n: f64, k: u32) -> (f64, bool) {
    // Generalised binomial coefficient as a product, returning (ln |c|, c > 0).
    let mut log = 0.0;
    let mut positive = true;
    for j in 0..k {
        let num = n - f64::from(j);
        if num < 0.0 {
            positive = !positive;
        }
        log += num.abs().ln() - f64::from(j + 1).ln();
    }
    (log, positive)
}

fn log_a_int(q: f64, sigma: f64, alpha: u32) -> f64 {
    let mut log_a = f64::NEG_INFINITY;
    for i in 0..=alpha {
        let (lb, _) = log_binom(f64::from(alpha), i);
        let fi = f64::from(i);
        let coef = lb + fi * q.ln() + (f64::from(alpha) - fi) * (1.0 - q).ln();
        let s = coef + (fi * fi - fi) / (2.0 * sigma * sigma);
        log_a = log_add(log_a, s);
    }
    log_a
}

fn log_a_frac(q: f64, sigma: f64, alpha: f64) -> f64 {
    let (mut log_a0, mut log_a1) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
    let z0 = sigma * sigma * (1.0 / q - 1.0).ln() + 0.5;
    let sqrt2 = std::f64::consts::SQRT_2;
    let mut i: u32 = 0;
    loop {
        let (log_coef, positive) = log_binom(alpha, i);
        let fi = f64::from(i);
        let j = alpha - fi;
        let log_t0 = log_coef + fi * q.ln() + j * (1.0 - q).ln();
        let log_t1 = log_coef + j * q.ln() + fi * (1.0 - q).ln();
        let log_e0 = 0.5f64.ln() + log_erfc((fi - z0) / (sqrt2 * sigma));
        let log_e1 = 0.5f64.ln() + log_erfc((z0 - j) / (sqrt2 * sigma));
        let log_s0 = log_t0 + (fi * fi - fi) / (2.0 * sigma * sigma) + log_e0;
        let log_s1 = log_t1 + (j * j - j) / (2.0 * sigma * sigma) + log_e1;
        if positive {
            log_a0 = log_add(log_a0, log_s0);
            log_a1 = log_add(log_a1, log_s1);
        } else {
            log_a0 = log_sub(log_a0, log_s0);
            log_a1 = log_sub(log_a1, log_s1);
        }
        i += 1;
        if log_s0.max(log_s1) < -30.0 || i > 10_000 {
            break;
        }
    }
    log_add(log_a0, log_a1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn close(got: f64, want: f64) {
        assert!(
            ((got - want) / want).abs() < 0.01,
            "epsilon {got} not within 1% of {want}"
        );
    }

    #[test]
    fn accountant_matches_reference_full_participation() {
        close(epsilon(0.5, 1.0, 20, 1e-5).unwrap(), 81.1);
        close(epsilon(1.0, 1.0, 20, 1e-5).unwrap(), 30.1);
        close(epsilon(2.0, 1.0, 20, 1e-5).unwrap(), 12.3);
    }

    #[test]
    fn accountant_matches_reference_poisson_sampling() {
        close(epsilon(0.5, 0.1, 20, 1e-5).unwrap(), 18.2);
        close(epsilon(1.0, 0.1, 20, 1e-5).unwrap(), 4.22);
        close(epsilon(2.0, 0.1, 20, 1e-5).unwrap(), 1.23);
    }

    #[test]
    fn accountant_accumulates_per_round_and_inverts() {
        let mut acc = RdpAccountant::new();
        let mut last = 0.0;
        for _ in 0..5 {
            acc.step(1.0, 0.1, 1).unwrap();
            let (eps, _) = acc.epsilon(1e-5).unwrap();
            assert!(eps > last);
            last = eps;
        }
        let z = noise_multiplier_for_epsilon(4.22, 0.1, 20, 1e-5).unwrap();
        assert!((z - 1.0).abs() < 0.02, "{z}");
        assert!(acc.epsilon(0.0).is_err());
        assert!(acc.step(1.0, 1.5, 1).is_err());
        assert!(noise_multiplier_for_epsilon(-1.0, 0.1, 20, 1e-5).is_err());
    }

    #[test]
    fn noise_std_is_multiplier_times_clip() {
        let dp = ClientDp::new(2.0, 1.5).unwrap();
        assert!((dp.noise_std() - 3.0).abs() < 1e-12);
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let n = 200_000;
        let global = vec![0.0f32; n];
        let mut local = vec![0.0f32; n];
        let out = dp.privatize(&global, &mut local, &mut rng).unwrap();
        assert!(!out.clipped);
        let mean = local.iter().map(|&x| f64::from(x)).sum::<f64>() / n as f64;
        let var = local
            .iter()
            .map(|&x| (f64::from(x) - mean).powi(2))
            .sum::<f64>()
            / n as f64;
        assert!((var.sqrt() - 3.0).abs() < 0.03, "std {}", var.sqrt());
        // Distributed over 9 clients, each adds a third of the std.
        let d = dp.distributed(9).unwrap();
        assert!((d.noise_std() - 1.0).abs() < 1e-12);
        assert!(ClientDp::new(0.0, 1.0).is_err());
        assert!(ClientDp::new(1.0, f64::NAN).is_err());
    }

    #[test]
    fn clipping_bounds_the_update_norm() {
        let global = vec![1.0f32, 1.0, 1.0, 1.0];
        let mut local = vec![4.0f32, 5.0, 1.0, 1.0];
        let out = clip_update(&global, &mut local, 1.0).unwrap();
        assert!(out.clipped);
        assert!((out.norm - 5.0).abs() < 1e-9);
        let d: Vec<f32> = local.iter().zip(&global).map(|(l, g)| l - g).collect();
        assert!((l2_norm(&d) - 1.0).abs() < 1e-6);
        assert!((d[0] - 0.6).abs() < 1e-6 && (d[1] - 0.8).abs() < 1e-6);
        let mut nan = vec![f32::NAN; 4];
        assert!(matches!(
            clip_update(&global, &mut nan, 1.0),
            Err(Error::NonFinite { index: 0 })
        ));
        assert!(clip_update(&global, &mut [0.0; 3], 1.0).is_err());
    }

    #[test]
    fn adaptive_clip_tracks_target_quantile() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let mut ac = AdaptiveClipping::new(0.1, 0.8, 0.5, 0.2, 0.5).unwrap();
        // Update norms are 1..=10; the median is about 5.5.
        for _ in 0..300 {
            let c = ac.clip_norm();
            let bits: Vec<bool> = (1..=10).map(|n| f64::from(n) <= c).collect();
            ac.update(&bits, &mut rng).unwrap();
        }
        let c = ac.clip_norm();
        assert!((3.0..=8.0).contains(&c), "clip {c}");
        assert!(ac.update_noise_multiplier() > 0.8);
        assert!(AdaptiveClipping::new(0.1, 1.0, 0.5, 0.2, 0.4).is_err());
        assert!(ac.update(&[], &mut rng).is_err());
    }
}
