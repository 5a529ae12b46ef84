//! Server-side optimisers on top of FedAvg: FedAvgM, FedAdam, FedYogi, FedAdagrad.
//!
//! Fixed-point layout: hyper-parameters are Q16.16; the pseudo-gradient
//! `Δ = fedavg - global` is saturated to `i32` (Q16.16); the first moment `m` is kept in Q.32
//! (`i64`) and the second moment `v` in Q.32 (`u64`, saturating) so that `Δ²` is stored exactly.
//! Every product is computed in `i128` and shifted back with round-half-to-even; the final
//! model is saturated to `i32`. There is no bias correction (as in Flower's FedOpt family).

use crate::aggregator::{Aggregator, Exec, prepare};
use crate::error::{Error, Result};
use crate::fixed::{self, FRAC_BITS, ONE};
use crate::strategy::fedavg;
use crate::update::Update;

fn check_unit(strategy: &'static str, name: &str, x: i32) -> Result<()> {
    if !(0..=ONE).contains(&x) {
        return Err(Error::InvalidParameters {
            strategy,
            reason: format!("{name} must be in [0, 1], got {}", fixed::to_f32(x)),
        });
    }
    Ok(())
}

fn check_state_dim(strategy: &'static str, state: usize, dim: usize) -> Result<()> {
    if state != 0 && state != dim {
        return Err(Error::InvalidParameters {
            strategy,
            reason: format!("model has {dim} parameters but the optimiser state has {state}"),
        });
    }
    Ok(())
}

/// FedAvg with server momentum (Hsu et al. 2019):
/// `v ← μ·v + (global - fedavg)`, `global ← global - η·v`.
#[derive(Debug, Clone)]
pub struct FedAvgM {
    server_lr: i32,
    momentum: i32,
    velocity: Vec<i64>,
}

impl FedAvgM {
    /// Server learning rate `server_lr` and momentum `momentum`, both Q16.16.
    ///
    /// # Errors
    /// [`Error::InvalidParameters`] unless `0 <= momentum <= 1` and `server_lr > 0`.
    pub fn new(server_lr: i32, momentum: i32) -> Result<Self> {
        check_unit("fedavgm", "momentum", momentum)?;
        if server_lr <= 0 {
            return Err(Error::InvalidParameters {
                strategy: "fedavgm",
                reason: "server learning rate must be positive".into(),
            });
        }
        Ok(Self {
            server_lr,
            momentum,
            velocity: Vec::new(),
        })
    }
}

impl Aggregator for FedAvgM {
    fn name(&self) -> &'static str {
        "fedavgm"
    }

    fn aggregate(&mut self, global: &[i32], updates: &[Update]) -> Result<Vec<i32>> {
        let (sorted, _) = prepare(global, updates)?;
        check_state_dim("fedavgm", self.velocity.len(), global.len())?;
        let avg = fedavg::weighted_mean(&sorted, global.len(), Exec::Sequential);
        if self.velocity.is_empty() {
            self.velocity = vec![0; global.len()];
        }
        let mu = i128::from(self.momentum);
        let lr = i128::from(self.server_lr);
        let mut out = Vec::with_capacity(global.len());
        for ((&w, &a), v) in global.iter().zip(&avg).zip(self.velocity.iter_mut()) {
            let delta = i128::from(w) - i128::from(a);
            let nv = fixed::shr_round128(mu * i128::from(*v), FRAC_BITS) + delta;
            *v = nv.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
            let step = fixed::shr_round128(lr * i128::from(*v), FRAC_BITS);
            out.push(fixed::saturate128(i128::from(w) - step));
        }
        Ok(out)
    }

    fn needs_individual_updates(&self) -> bool {
        false
    }
}

/// Validated hyper-parameters of the adaptive server optimisers (all Q16.16).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FedOptParams {
    eta: i32,
    beta1: i32,
    beta2: i32,
    tau: i32,
}

impl FedOptParams {
    /// Server learning rate `eta > 0`, decays `beta1, beta2` in `[0, 1]`, and `tau >= 2^-16`.
    ///
    /// # Errors
    /// [`Error::InvalidParameters`] for out-of-range values.
    pub fn new(eta: i32, beta1: i32, beta2: i32, tau: i32) -> Result<Self> {
        check_unit("fedopt", "beta1", beta1)?;
        check_unit("fedopt", "beta2", beta2)?;
        if eta <= 0 || tau <= 0 {
            return Err(Error::InvalidParameters {
                strategy: "fedopt",
                reason: "eta must be positive and tau at least 2^-16 (one Q16.16 ulp)".into(),
            });
        }
        Ok(Self {
            eta,
            beta1,
            beta2,
            tau,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SecondMoment {
    Adam,
    Yogi,
    Adagrad,
}

#[derive(Debug, Clone)]
struct FedOpt {
    p: FedOptParams,
    kind: SecondMoment,
    m: Vec<i64>,
    v: Vec<u64>,
}

impl FedOpt {
    fn new(p: FedOptParams, kind: SecondMoment) -> Self {
        Self {
            p,
            kind,
            m: Vec::new(),
            v: Vec::new(),
        }
    }

    fn step(&mut self, name: &'static str, global: &[i32], updates: &[Update]) -> Result<Vec<i32>> {
        let (sorted, _) = prepare(global, updates)?;
        check_state_dim(name, self.m.len(), global.len())?;
        let avg = fedavg::weighted_mean(&sorted, global.len(), Exec::Sequential);
        if self.m.is_empty() {
            self.m = vec![0; global.len()];
            self.v = vec![0; global.len()];
        }
        let one = i128::from(ONE);
        let (b1, b2) = (i128::from(self.p.beta1), i128::from(self.p.beta2));
        let eta = i128::from(self.p.eta);
        let tau = u64::try_from(self.p.tau).unwrap_or(1);
        let mut out = Vec::with_capacity(global.len());
        for (((&w, &a), m), v) in global
            .iter()
            .zip(&avg)
            .zip(self.m.iter_mut())
            .zip(self.v.iter_mut())
        {
            let delta = fixed::saturate(i64::from(a) - i64::from(w));
            // Q.32 views of Δ and Δ².
            let d32 = i128::from(delta) << FRAC_BITS;
            let d2 = i128::from(delta) * i128::from(delta);
            let nm = fixed::shr_round128(b1 * i128::from(*m) + (one - b1) * d32, FRAC_BITS);
            *m = nm.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
            let vv = i128::from(*v);
            let nv = match self.kind {
                SecondMoment::Adam => fixed::shr_round128(b2 * vv + (one - b2) * d2, FRAC_BITS),
                SecondMoment::Yogi => {
                    let t = fixed::shr_round128((one - b2) * d2, FRAC_BITS);
                    match vv.cmp(&d2) {
                        std::cmp::Ordering::Greater => vv - t,
                        std::cmp::Ordering::Less => vv + t,
                        std::cmp::Ordering::Equal => vv,
                    }
                }
                SecondMoment::Adagrad => vv + d2,
            };
            *v = nv.clamp(0, i128::from(u64::MAX)) as u64;
            // sqrt of a Q.32 value is Q16.16.
            let denom = i128::from(v.isqrt().saturating_add(tau)) << FRAC_BITS;
            let step = fixed::div_round_i128(eta * i128::from(*m), denom);
            out.push(fixed::saturate128(i128::from(w) + step));
        }
        Ok(out)
    }
}

macro_rules! fedopt_strategy {
    ($(#[$doc:meta])* $name:ident, $kind:expr, $label:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name(FedOpt);

        impl $name {
            /// Build the optimiser with validated hyper-parameters; state starts at zero.
            pub fn new(params: FedOptParams) -> Self {
                Self(FedOpt::new(params, $kind))
            }
        }

        impl Aggregator for $name {
            fn name(&self) -> &'static str {
                $label
            }

            fn aggregate(&mut self, global: &[i32], updates: &[Update]) -> Result<Vec<i32>> {
                self.0.step($label, global, updates)
            }

            fn needs_individual_updates(&self) -> bool {
                false
            }
        }
    };
}

fedopt_strategy!(
    /// FedAdam (Reddi et al. 2021): `m ← β1·m + (1-β1)·Δ`, `v ← β2·v + (1-β2)·Δ²`,
    /// `global ← global + η·m / (√v + τ)`.
    FedAdam,
    SecondMoment::Adam,
    "fedadam"
);
fedopt_strategy!(
    /// FedYogi (Reddi et al. 2021): as FedAdam with `v ← v - (1-β2)·Δ²·sign(v - Δ²)`.
    FedYogi,
    SecondMoment::Yogi,
    "fedyogi"
);
fedopt_strategy!(
    /// FedAdagrad (Reddi et al. 2021): as FedAdam with `v ← v + Δ²`.
    FedAdagrad,
    SecondMoment::Adagrad,
    "fedadagrad"
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ClientId;

    fn fx(x: f32) -> i32 {
        fixed::from_f32(x).unwrap()
    }

    fn one_update(p: Vec<i32>) -> Vec<Update> {
        vec![Update::new(ClientId(1), 1, p)]
    }

    #[test]
    fn fedavgm_accumulates_momentum() {
        let mut s = FedAvgM::new(ONE, ONE / 2).unwrap();
        let g = vec![fx(1.0)];
        // Round 1: delta = 1.0 - 0.5 = 0.5 -> v = 0.5 -> new = 0.5.
        assert_eq!(
            s.aggregate(&g, &one_update(vec![fx(0.5)])).unwrap(),
            vec![fx(0.5)]
        );
        // Round 2 from 0.5 with avg 0.25: delta 0.25, v = 0.25 + 0.25 = 0.5 -> new = 0.0.
        assert_eq!(
            s.aggregate(&[fx(0.5)], &one_update(vec![fx(0.25)]))
                .unwrap(),
            vec![0]
        );
        assert!(s.aggregate(&[0, 0], &one_update(vec![0, 0])).is_err());
        assert!(FedAvgM::new(0, ONE).is_err());
        assert!(FedAvgM::new(ONE, ONE + 1).is_err());
    }

    #[test]
    fn adaptive_optimisers_track_float_reference() {
        let p = FedOptParams::new(fx(0.1), fx(0.9), fx(0.99), fx(0.001)).unwrap();
        let mut adam = FedAdam::new(p);
        let mut yogi = FedYogi::new(p);
        let mut ada = FedAdagrad::new(p);
        let (mut m, mut va, mut vy, mut vg) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
        let (mut wa, mut wy, mut wg) = (fx(0.5), fx(0.5), fx(0.5));
        for round in 0..5 {
            let target = fx(0.2 + 0.05 * round as f32);
            let d = fixed::to_f32(target) as f64 - fixed::to_f32(wa) as f64;
            m = 0.9 * m + 0.1 * d;
            va = 0.99 * va + 0.01 * d * d;
            let expect = fixed::to_f32(wa) as f64 + 0.1 * m / (va.sqrt() + 0.001);
            wa = adam.aggregate(&[wa], &one_update(vec![target])).unwrap()[0];
            assert!(
                (fixed::to_f32(wa) as f64 - expect).abs() < 2e-3,
                "adam round {round}"
            );

            let dy = fixed::to_f32(target) as f64 - fixed::to_f32(wy) as f64;
            vy -= 0.01 * dy * dy * (vy - dy * dy).signum();
            let my = 0.1 * dy; // m only after round 0 is checked below
            wy = yogi.aggregate(&[wy], &one_update(vec![target])).unwrap()[0];
            let dg = fixed::to_f32(target) as f64 - fixed::to_f32(wg) as f64;
            vg += dg * dg;
            wg = ada.aggregate(&[wg], &one_update(vec![target])).unwrap()[0];
            if round == 0 {
                let ey = 0.5 + 0.1 * my / (vy.sqrt() + 0.001);
                assert!((fixed::to_f32(wy) as f64 - ey).abs() < 2e-3);
                let eg = 0.5 + 0.1 * (0.1 * dg) / (vg.sqrt() + 0.001);
                assert!((fixed::to_f32(wg) as f64 - eg).abs() < 2e-3);
            }
        }
        assert!(FedOptParams::new(fx(0.1), fx(0.9), fx(0.99), 0).is_err());
    }
}
