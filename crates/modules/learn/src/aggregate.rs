//! Fixed-point aggregation as every validator runs it: the `fl` crate's rules, server
//! momentum, leave-one-out contribution scores and the secure-aggregation replay.

use counterweight_fl::{
    Aggregator, Bulyan, ClientId, Error as FlError, FedAvg, FedAvgM, FedMedian, FedTrimmedAvg,
    Krum, MultiKrum, Update,
    fixed::{FRAC_BITS, div_round_i64, saturate, saturate128, shr_round128},
    secagg::SecAggConfig,
};

use crate::call::{FULL_SHARE_BPS, MAX_DATASETS, MAX_PAYLOAD_BYTES, SecAggParams, TaskStrategy};

/// Points shared among a round's contributors.
pub const ROUND_POINTS: u64 = 1_000_000;

/// Checks a strategy's hyper-parameters by building its `fl` aggregator.
///
/// # Errors
/// The `fl` crate's reason.
pub(crate) fn validate_strategy(strategy: &TaskStrategy) -> Result<(), FlError> {
    match *strategy {
        TaskStrategy::FedAvgM {
            server_lr,
            momentum,
        } => FedAvgM::new(server_lr, momentum).map(|_| ()),
        TaskStrategy::TrimmedMean { beta } => FedTrimmedAvg::new(beta).map(|_| ()),
        TaskStrategy::MultiKrum { f, m } => MultiKrum::new(f as usize, m as usize).map(|_| ()),
        _ => Ok(()),
    }
}

/// The stateless part of the rule (FedAvgM's average before the momentum step).
fn base_rule(
    strategy: &TaskStrategy,
    global: &[i32],
    updates: &[Update],
) -> Result<Vec<i32>, FlError> {
    match *strategy {
        TaskStrategy::FedAvg | TaskStrategy::FedAvgM { .. } => {
            FedAvg::new().aggregate(global, updates)
        }
        TaskStrategy::Median => FedMedian::new().aggregate(global, updates),
        TaskStrategy::TrimmedMean { beta } => FedTrimmedAvg::new(beta)?.aggregate(global, updates),
        TaskStrategy::Krum { f } => Krum::new(f as usize).aggregate(global, updates),
        TaskStrategy::MultiKrum { f, m } => {
            MultiKrum::new(f as usize, m as usize)?.aggregate(global, updates)
        }
        TaskStrategy::Bulyan { f } => Bulyan::new(f as usize).aggregate(global, updates),
    }
}

/// FedAvgM's server step, bit-identical to the `fl` crate's `FedAvgM`:
/// `v ← μ·v + (global − avg)`, `global ← global − η·v`. `velocity` is empty before the first
/// round.
pub fn momentum_step(
    global: &[i32],
    avg: &[i32],
    server_lr: i32,
    momentum: i32,
    velocity: &mut Vec<i64>,
) -> Vec<i32> {
    if velocity.len() != global.len() {
        *velocity = vec![0; global.len()];
    }
    let mu = i128::from(momentum);
    let lr = i128::from(server_lr);
    let mut out = Vec::with_capacity(global.len());
    for ((&w, &a), v) in global.iter().zip(avg).zip(velocity.iter_mut()) {
        let delta = i128::from(w) - i128::from(a);
        let nv = shr_round128(mu * i128::from(*v), FRAC_BITS) + delta;
        *v = nv.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
        let step = shr_round128(lr * i128::from(*v), FRAC_BITS);
        out.push(saturate128(i128::from(w) - step));
    }
    out
}

/// Applies the server rule to an already averaged model (secure aggregation yields the
/// average directly).
pub(crate) fn server_step(
    strategy: &TaskStrategy,
    global: &[i32],
    avg: Vec<i32>,
    velocity: &mut Vec<i64>,
) -> Vec<i32> {
    match *strategy {
        TaskStrategy::FedAvgM {
            server_lr,
            momentum,
        } => momentum_step(global, &avg, server_lr, momentum, velocity),
        _ => avg,
    }
}

/// Aggregates plain updates with the task's rule.
///
/// # Errors
/// The `fl` crate's reason (e.g. too few updates for Bulyan).
pub(crate) fn aggregate(
    strategy: &TaskStrategy,
    global: &[i32],
    updates: &[Update],
    velocity: &mut Vec<i64>,
) -> Result<Vec<i32>, FlError> {
    let base = base_rule(strategy, global, updates)?;
    Ok(server_step(strategy, global, base, velocity))
}

fn isqrt(n: u128) -> u64 {
    u64::try_from(n.isqrt()).unwrap_or(u64::MAX)
}

/// Leave-one-out influence of each update: the L2 distance (in Q16.16 units, integer square
/// root) between the rule's result with and without it. Without the only update, the result
/// is the previous global model. An update whose removal breaks the rule scores 0.
pub(crate) fn leave_one_out(
    strategy: &TaskStrategy,
    global: &[i32],
    updates: &[Update],
) -> Vec<u64> {
    let Ok(full) = base_rule(strategy, global, updates) else {
        return vec![0; updates.len()];
    };
    (0..updates.len())
        .map(|i| {
            let rest: Vec<Update> = updates
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, u)| u.clone())
                .collect();
            let without = if rest.is_empty() {
                Ok(global.to_vec())
            } else {
                base_rule(strategy, global, &rest)
            };
            match without {
                Ok(w) => {
                    let sq: u128 = full
                        .iter()
                        .zip(&w)
                        .map(|(&a, &b)| {
                            let d = i128::from(a) - i128::from(b);
                            (d * d) as u128
                        })
                        .fold(0u128, u128::saturating_add);
                    isqrt(sq)
                }
                Err(_) => 0,
            }
        })
        .collect()
}

/// Splits [`ROUND_POINTS`] in proportion to `weights` (integer division; an all-zero weight
/// list gives nothing).
pub(crate) fn share_points(weights: &[u64]) -> Vec<u64> {
    let total: u128 = weights.iter().map(|&w| u128::from(w)).sum();
    if total == 0 {
        return vec![0; weights.len()];
    }
    weights
        .iter()
        .map(|&w| (u128::from(ROUND_POINTS) * u128::from(w) / total) as u64)
        .collect()
}

/// Round points of plain-update contributors: half by examples, half by leave-one-out
/// influence (all by examples if no update has any influence).
pub(crate) fn plain_points(examples: &[u64], influence: &[u64]) -> Vec<u64> {
    let by_examples = share_points(examples);
    if influence.iter().all(|&i| i == 0) {
        return by_examples;
    }
    let by_influence = share_points(influence);
    by_examples
        .iter()
        .zip(&by_influence)
        .map(|(a, b)| a / 2 + b / 2)
        .collect()
}

/// Caps every weight so that none exceeds `max_share_bps` basis points of their sum
/// (water-filling: the largest cap `c` with `c ≤ share · Σ min(wᵢ, c)`, found by bisection,
/// in integers). When the cap cannot be met because there are fewer than `10000 / share`
/// weights, every weight becomes the smallest one (equal shares, the closest to the cap).
pub(crate) fn cap_shares(weights: &[u64], max_share_bps: u16) -> Vec<u64> {
    let (Some(&max), Some(&min)) = (weights.iter().max(), weights.iter().min()) else {
        return Vec::new();
    };
    if max_share_bps >= FULL_SHARE_BPS || weights.len() < 2 {
        return weights.to_vec();
    }
    let share = u128::from(max_share_bps);
    let fits = |c: u64| {
        let total: u128 = weights.iter().map(|&w| u128::from(w.min(c))).sum();
        u128::from(c) * u128::from(FULL_SHARE_BPS) <= share * total
    };
    // `fits` holds on an interval [0, c*] (the slack is concave in c and 0 at c = 0).
    let (mut lo, mut hi) = (0u64, max);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if fits(mid) { lo = mid } else { hi = mid - 1 }
    }
    let cap = lo.max(min);
    weights.iter().map(|&w| w.min(cap)).collect()
}

/// Bits of the low limb of a secure-aggregation input value (see [`secagg_input`]).
pub const SECAGG_LIMB_BITS: u32 = 24;

/// The most parameters a secure-aggregation task may have: its masked input carries
/// [`secagg_dim`] `u32` values and must fit one learn payload.
pub const MAX_SECAGG_PARAMS: usize = 15_000;

const _: () = assert!((2 * MAX_SECAGG_PARAMS + 1) * 4 + 64 <= MAX_PAYLOAD_BYTES);
// The low limbs of every client sum below 2^31: (2^24 − 1) · 64 clients.
const _: () = assert!(MAX_DATASETS as u64 * (1 << SECAGG_LIMB_BITS) <= 1 << 31);

/// The length of a secure-aggregation input for a model of `params` parameters: two limbs
/// per weighted parameter and the example count, `[hi₀, lo₀, hi₁, lo₁, …, n]`.
pub fn secagg_dim(params: usize) -> usize {
    2 * params + 1
}

/// Why a client's weighted input cannot be encoded for secure aggregation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecAggInputError {
    /// The weights do not match the round's configuration.
    #[error("expected {expected} weights for this round, got {got}")]
    WrongShape {
        /// Weights the round's dimension implies.
        expected: usize,
        /// Weights given.
        got: usize,
    },
    /// `n·w` at `index` (or `n` itself, at `index == weights`) exceeds what the round's
    /// clients can sum exactly.
    #[error("weighted value {index} is too large for an exact secure sum ({value})")]
    TooLarge {
        /// Position of the value.
        index: usize,
        /// The weighted value.
        value: i64,
    },
}

/// Encodes a client's input to a secure-aggregation round exactly: each weighted parameter
/// `v = n·w` (`w` in Q16.16, `n` the examples) as the two limbs
/// `hi = ⌊v / 2^24⌋`, `lo = v − hi·2^24 ∈ [0, 2^24)`, then `n`. Every limb stays within
/// `cfg.max_abs_param()`, so the sum over the round's clients wraps nowhere and
/// [`weighted_average`] recovers `Σ n·w` exactly as `Σhi·2^24 + Σlo` (in `i64`). Nothing is
/// clamped: a value beyond the range is an error. The range is `|n·w| < 2^24 · ⌊(2^31 − 1)
/// / clients⌋`, at least 2^49 with 64 clients, so weights up to 2^15 (the whole Q16.16
/// range) with 2^17 examples, or weights of 256 with 2^25 examples, always fit.
///
/// Pass the result to `SecAggClient::mask`.
///
/// # Errors
/// [`SecAggInputError`] for a wrong length or a value beyond the exact range.
pub fn secagg_input(
    weights: &[i32],
    examples: u32,
    cfg: &SecAggConfig,
) -> Result<Vec<i32>, SecAggInputError> {
    let expected = cfg.dim().saturating_sub(1) / 2;
    if secagg_dim(weights.len()) != cfg.dim() {
        return Err(SecAggInputError::WrongShape {
            expected,
            got: weights.len(),
        });
    }
    let limit = i64::from(cfg.max_abs_param());
    let n = i64::from(examples);
    let mut out = Vec::with_capacity(cfg.dim());
    for (index, &w) in weights.iter().enumerate() {
        let value = i64::from(w) * n;
        let hi = value >> SECAGG_LIMB_BITS;
        let lo = value & ((1 << SECAGG_LIMB_BITS) - 1);
        if hi.abs() > limit || lo > limit {
            return Err(SecAggInputError::TooLarge { index, value });
        }
        out.push(hi as i32);
        out.push(lo as i32);
    }
    if n > limit {
        return Err(SecAggInputError::TooLarge {
            index: weights.len(),
            value: n,
        });
    }
    out.push(examples as i32);
    Ok(out)
}

/// The secure-aggregation configuration of a round: clients `0..n` (participant indices),
/// vectors of `dim` values ([`secagg_dim`] of the model's parameters).
///
/// # Errors
/// The `fl` crate's reason for parameters that cannot work (e.g. fewer than 2 clients).
pub fn secagg_config(
    round_id: u64,
    participants: usize,
    dim: usize,
    params: &SecAggParams,
) -> Result<SecAggConfig, FlError> {
    let clients = (0..participants as u64).map(ClientId).collect();
    let mut b = SecAggConfig::builder(round_id, clients, dim)
        .max_dropout_permille(u32::from(params.max_dropout_permille));
    if params.neighbours > 0 {
        b = b.neighbours(usize::from(params.neighbours));
    }
    b.build()
}

/// Divides the unmasked sum of [`secagg_input`] vectors, `[Σhi₀, Σlo₀, …, Σn]`, into the
/// weighted average `round(Σ n·w / Σ n)` (Q16.16, saturated), with `Σ n`.
///
/// # Errors
/// `None` if the total example count is not positive or the length is not `2·params + 1`.
pub fn weighted_average(sum: &[i32]) -> Option<(Vec<i32>, i64)> {
    let (limbs, total) = sum.split_at(sum.len().checked_sub(1)?);
    let total = i64::from(*total.first()?);
    if total <= 0 || limbs.len() % 2 != 0 {
        return None;
    }
    Some((
        limbs
            .chunks_exact(2)
            .map(|c| {
                let exact = (i64::from(c[0]) << SECAGG_LIMB_BITS) + i64::from(c[1] as u32);
                saturate(div_round_i64(exact, total))
            })
            .collect(),
        total,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn share_bps(weights: &[u64], i: usize) -> u128 {
        let total: u128 = weights.iter().map(|&w| u128::from(w)).sum();
        u128::from(weights[i]) * 10_000 / total
    }

    #[test]
    fn capped_shares_stay_under_the_cap() {
        assert_eq!(cap_shares(&[1_000, 199], 5_000), vec![199, 199]);
        assert_eq!(cap_shares(&[50, 100, 150], 5_000), vec![50, 100, 150]);
        assert_eq!(cap_shares(&[7], 1), vec![7]);
        assert_eq!(cap_shares(&[3, 9], FULL_SHARE_BPS), vec![3, 9]);
        let capped = cap_shares(&[1 << 25, 10, 20, 30, 40], 3_000);
        for i in 0..capped.len() {
            assert!(share_bps(&capped, i) <= 3_000, "{capped:?}");
        }
        assert_eq!(&capped[1..], &[10, 20, 30, 40]);
        // Infeasible (two clients cannot each hold at most 30%): equal weights.
        assert_eq!(cap_shares(&[5, 9], 3_000), vec![5, 5]);
    }

    #[test]
    fn secagg_inputs_sum_exactly() {
        let sa = SecAggParams {
            max_dropout_permille: 0,
            neighbours: 0,
        };
        let cfg = secagg_config(1, 64, secagg_dim(3), &sa).expect("config");
        let w = [i32::MAX, i32::MIN, -3];
        let n = 1 << 17;
        let input = secagg_input(&w, n, &cfg).expect("in range");
        assert_eq!(input.len(), secagg_dim(3));
        let mut sum = vec![0i32; input.len()];
        for _ in 0..64 {
            for (s, &x) in sum.iter_mut().zip(&input) {
                *s = s.wrapping_add(x);
            }
        }
        let (avg, total) = weighted_average(&sum).expect("positive total");
        assert_eq!(total, 64 << 17);
        assert_eq!(avg, w.to_vec());
        assert!(matches!(
            secagg_input(&w, 1 << 25, &cfg),
            Err(SecAggInputError::TooLarge { index: 0, .. })
        ));
        assert!(matches!(
            secagg_input(&w[..2], n, &cfg),
            Err(SecAggInputError::WrongShape {
                expected: 3,
                got: 2
            })
        ));
    }
}
