//! Fixed-point aggregation as every validator runs it: the `fl` crate's rules, server
//! momentum, leave-one-out contribution scores and the secure-aggregation replay.

use counterweight_fl::{
    Aggregator, Bulyan, ClientId, Error as FlError, FedAvg, FedAvgM, FedMedian, FedTrimmedAvg,
    Krum, MultiKrum, Update,
    fixed::{FRAC_BITS, div_round_i64, saturate, saturate128, shr_round128},
    secagg::SecAggConfig,
};

use crate::call::{SecAggParams, TaskStrategy};

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

/// The secure-aggregation configuration of a round: clients `0..n` (participant indices),
/// vectors of `dim` values (the model's parameters plus the example count).
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

/// Divides the unmasked sum `[Σ n·w…, Σ n]` into the weighted average.
///
/// # Errors
/// `None` if the total example count is not positive.
pub fn weighted_average(sum: &[i32]) -> Option<(Vec<i32>, i64)> {
    let (weights, total) = sum.split_at(sum.len().checked_sub(1)?);
    let total = i64::from(*total.first()?);
    if total <= 0 {
        return None;
    }
    Some((
        weights
            .iter()
            .map(|&s| saturate(div_round_i64(i64::from(s), total)))
            .collect(),
        total,
    ))
}
