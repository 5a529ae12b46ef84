//! Secure-aggregation rounds: the four SecAgg+ phases and the replay through the `fl` server.

use std::collections::{BTreeMap, BTreeSet};

use counterweight_fl::{
    ClientId,
    secagg::{
        AdvertiseKeys, EncryptedShare, MaskedInput, SecAggConfig, SecAggServer, SecAggSum, Share,
        UnmaskShares,
    },
};
use counterweight_state::{CallError, StateAccess, TxContext};
use counterweight_storage_api::{StateReader, StorageError};
use counterweight_types::{Address, Hash};

use crate::aggregate;
use crate::call::{ShareOf, ShareTo, TaskSpec, TaskStrategy};
use crate::error::LearnError;
use crate::events::LearnEvent;
use crate::participants::{allowance, check_participant, check_round, load_running};
use crate::status::RoundPhase;
use crate::store::{self, RoundState, StoredShare, TaskState};
use crate::task::{complete_round, fail_round};

/// The Shamir field modulus (2^61 − 1) of the `fl` crate's secure aggregation.
const SHAMIR_P: u64 = (1 << 61) - 1;

/// The round's secure-aggregation configuration.
fn secagg_cfg(spec: &TaskSpec, st: &TaskState, rs: &RoundState) -> Result<SecAggConfig, CallError> {
    let sa = spec.secagg.as_ref().ok_or(LearnError::NoSecAgg)?;
    aggregate::secagg_config(
        rs.secagg_round_id(),
        rs.participants.len(),
        aggregate::secagg_dim(st.param_count as usize),
        sa,
    )
    .map_err(|e| StorageError::Invariant(format!("secagg config of an open round: {e}")).into())
}

/// Common checks of a secure-aggregation message; returns the sender's client index.
fn check_message(
    state: &dyn StateReader,
    spec: &TaskSpec,
    rs: &RoundState,
    round: u32,
    phase: RoundPhase,
    sender: &Address,
) -> Result<u32, CallError> {
    if spec.secagg.is_none() {
        return Err(LearnError::MessageNeedsSecAggTask.into());
    }
    check_round(rs, round)?;
    let idx = check_participant(state, spec, rs, sender)?;
    if rs.phase != phase {
        return Err(LearnError::WrongPhase {
            round: rs.round,
            phase: rs.phase,
            expected: phase,
        }
        .into());
    }
    Ok(idx)
}

/// Runs one secure-aggregation message against the task's open round: `f` checks and
/// records it and says whether the phase is complete, which advances it.
fn step(
    ctx: &mut TxContext<'_>,
    task: Hash,
    f: impl FnOnce(
        &mut TxContext<'_>,
        &TaskSpec,
        &TaskState,
        &mut RoundState,
    ) -> Result<bool, CallError>,
) -> Result<(), CallError> {
    let (spec, mut st, mut rs) = load_running(ctx, &task)?;
    if f(ctx, &spec, &st, &mut rs)? {
        advance_phase(ctx, &task, &spec, &mut st, rs)?;
    } else {
        store::put_borsh(ctx, store::round_key(&task), &rs);
    }
    store::put_borsh(ctx, store::state_key(&task), &st);
    Ok(())
}

/// `AdvertiseKeys`: phase 1.
pub(crate) fn advertise_keys(
    ctx: &mut TxContext<'_>,
    task: Hash,
    round: u32,
    enc_key: [u8; 32],
    mask_key: [u8; 32],
) -> Result<(), CallError> {
    step(ctx, task, |ctx, spec, _, rs| {
        let sender = ctx.sender;
        let idx = check_message(ctx, spec, rs, round, RoundPhase::AdvertiseKeys, &sender)?;
        if rs.keys.contains_key(&idx) {
            return Err(LearnError::DuplicateKeys { who: sender, round }.into());
        }
        rs.keys.insert(idx, (enc_key, mask_key));
        ctx.emit_event(&LearnEvent::SecaggKeys {
            task,
            round: rs.round,
            client: sender,
        })?;
        Ok(rs.keys.len() == rs.participants.len())
    })
}

/// `ShareKeys`: phase 2.
pub(crate) fn share_keys(
    ctx: &mut TxContext<'_>,
    task: Hash,
    round: u32,
    shares: &[ShareTo],
) -> Result<(), CallError> {
    step(ctx, task, |ctx, spec, st, rs| {
        let sender = ctx.sender;
        let idx = check_message(ctx, spec, rs, round, RoundPhase::ShareKeys, &sender)?;
        receive_shares(ctx, &task, spec, st, rs, idx, shares)?;
        ctx.emit_event(&LearnEvent::SecaggShares {
            task,
            round: rs.round,
            client: sender,
        })?;
        Ok(rs.shared.len() == rs.keys.len())
    })
}

/// `MaskedInput`: phase 3.
pub(crate) fn masked_input(
    ctx: &mut TxContext<'_>,
    task: Hash,
    round: u32,
    values: &[u8],
) -> Result<(), CallError> {
    step(ctx, task, |ctx, spec, st, rs| {
        let sender = ctx.sender;
        let idx = check_message(ctx, spec, rs, round, RoundPhase::MaskedInput, &sender)?;
        if !rs.shared.contains(&idx) {
            return Err(LearnError::KeysNotShared { who: sender, round }.into());
        }
        if rs.masked.contains(&idx) {
            return Err(LearnError::DuplicateMasked { who: sender, round }.into());
        }
        let want = aggregate::secagg_dim(st.param_count as usize) * 4;
        if values.len() != want {
            return Err(LearnError::MaskedShape {
                want,
                got: values.len(),
            }
            .into());
        }
        ctx.set(store::masked_key(&task, idx), values.to_vec());
        rs.masked.insert(idx);
        ctx.emit_event(&LearnEvent::SecaggMasked {
            task,
            round: rs.round,
            client: sender,
        })?;
        Ok(rs.masked.len() == rs.shared.len())
    })
}

/// `UnmaskShares`: phase 4.
pub(crate) fn unmask_shares(
    ctx: &mut TxContext<'_>,
    task: Hash,
    round: u32,
    self_mask_shares: &[ShareOf],
    key_shares: &[ShareOf],
) -> Result<(), CallError> {
    step(ctx, task, |ctx, spec, _, rs| {
        let sender = ctx.sender;
        let idx = check_message(ctx, spec, rs, round, RoundPhase::Unmask, &sender)?;
        if !rs.survivors.contains(&idx) {
            return Err(LearnError::NotSurvivor { who: sender, round }.into());
        }
        if rs.unmasked.contains(&idx) {
            return Err(LearnError::DuplicateUnmask { who: sender, round }.into());
        }
        let stored = check_unmask(rs, self_mask_shares, key_shares)?;
        store::put_borsh(ctx, store::unmask_key(&task, idx), &stored);
        rs.unmasked.insert(idx);
        ctx.emit_event(&LearnEvent::SecaggUnmask {
            task,
            round: rs.round,
            client: sender,
        })?;
        Ok(rs.unmasked.len() == rs.survivors.len())
    })
}

/// `Advance`: moves a phase on after its deadline with the messages present.
pub(crate) fn advance(ctx: &mut TxContext<'_>, task: Hash) -> Result<(), CallError> {
    step(ctx, task, |ctx, spec, _, rs| {
        if spec.secagg.is_none() {
            return Err(LearnError::AdvanceNeedsSecAggTask.into());
        }
        if ctx.timestamp_ms < rs.deadline_ms {
            return Err(LearnError::PhaseDeadline {
                phase: rs.phase,
                round: rs.round,
                deadline_ms: rs.deadline_ms,
                now_ms: ctx.timestamp_ms,
            }
            .into());
        }
        Ok(true)
    })
}

fn receive_shares(
    ctx: &mut TxContext<'_>,
    task: &Hash,
    spec: &TaskSpec,
    st: &TaskState,
    rs: &mut RoundState,
    idx: u32,
    shares: &[ShareTo],
) -> Result<(), CallError> {
    if !rs.keys.contains_key(&idx) {
        return Err(LearnError::NoKeys {
            client: idx,
            round: rs.round,
        }
        .into());
    }
    if rs.shared.contains(&idx) {
        return Err(LearnError::DuplicateShares {
            client: idx,
            round: rs.round,
        }
        .into());
    }
    let cfg = secagg_cfg(spec, st, rs)?;
    let expected: BTreeSet<u64> = cfg
        .neighbours(ClientId(u64::from(idx)))
        .into_iter()
        .map(|c| c.0)
        .filter(|c| u32::try_from(*c).is_ok_and(|c| rs.keys.contains_key(&c)))
        .collect();
    let got: BTreeSet<u64> = shares.iter().map(|s| s.to).collect();
    if got != expected || got.len() != shares.len() {
        return Err(LearnError::MisaddressedShares {
            expected,
            got: shares.iter().map(|s| s.to).collect(),
        }
        .into());
    }
    for s in shares {
        let to = u32::try_from(s.to).map_err(|_| LearnError::BadRecipient)?;
        ctx.set(store::share_key(task, idx, to), s.ciphertext.to_vec());
    }
    rs.shared.insert(idx);
    Ok(())
}

fn check_unmask(
    rs: &RoundState,
    self_mask: &[ShareOf],
    key: &[ShareOf],
) -> Result<Vec<StoredShare>, LearnError> {
    let mut out = Vec::with_capacity(self_mask.len() + key.len());
    let mut seen = BTreeSet::new();
    for (list, is_self, allowed) in [(self_mask, true, &rs.survivors), (key, false, &rs.dropped)] {
        for s in list {
            let owner = u32::try_from(s.owner).ok().filter(|o| allowed.contains(o));
            let Some(owner) = owner else {
                return Err(LearnError::ShareOutsideRequest { owner: s.owner });
            };
            if !seen.insert(owner) {
                return Err(LearnError::DuplicateShareOwner { owner });
            }
            if s.x == 0 || s.x >= SHAMIR_P || s.y.iter().any(|&v| v >= SHAMIR_P) {
                return Err(LearnError::ShareOutsideField);
            }
            out.push((owner, is_self, s.x, s.y));
        }
    }
    Ok(out)
}

/// Moves the secure-aggregation round to its next phase (or fails it) with the messages
/// present; the last phase replays everything through [`SecAggServer`].
fn advance_phase(
    ctx: &mut TxContext<'_>,
    task: &Hash,
    spec: &TaskSpec,
    st: &mut TaskState,
    mut rs: RoundState,
) -> Result<(), CallError> {
    let cfg = secagg_cfg(spec, st, &rs)?;
    let n = rs.participants.len();
    let (alive, next) = match rs.phase {
        RoundPhase::AdvertiseKeys => (rs.keys.len(), RoundPhase::ShareKeys),
        RoundPhase::ShareKeys => (rs.shared.len(), RoundPhase::MaskedInput),
        RoundPhase::MaskedInput => (rs.masked.len(), RoundPhase::Unmask),
        _ => return finish_secagg(ctx, task, spec, st, rs, cfg),
    };
    if n - alive > cfg.max_dropouts() {
        let reason = format!(
            "{} of {n} clients dropped by phase {}, at most {} tolerated",
            n - alive,
            rs.phase,
            cfg.max_dropouts()
        );
        return fail_round(ctx, task, spec, st, rs, &reason);
    }
    if next == RoundPhase::Unmask {
        if rs.masked.len() < cfg.threshold() {
            let reason = format!(
                "{} masked inputs, threshold is {}",
                rs.masked.len(),
                cfg.threshold()
            );
            return fail_round(ctx, task, spec, st, rs, &reason);
        }
        rs.survivors = rs.masked.clone();
        rs.dropped = rs.shared.difference(&rs.masked).copied().collect();
    }
    rs.phase = next;
    rs.deadline_ms = ctx.timestamp_ms.saturating_add(spec.round_timeout_ms);
    ctx.emit_event(&LearnEvent::SecaggPhase {
        task: *task,
        round: rs.round,
        phase: next,
        clients: alive,
    })?;
    store::put_borsh(ctx, store::round_key(task), &rs);
    Ok(())
}

fn finish_secagg(
    ctx: &mut TxContext<'_>,
    task: &Hash,
    spec: &TaskSpec,
    st: &mut TaskState,
    rs: RoundState,
    cfg: SecAggConfig,
) -> Result<(), CallError> {
    let sum = match replay(ctx, task, &rs, cfg) {
        Ok(sum) => sum,
        Err(ReplayError::Protocol(e)) => {
            return fail_round(ctx, task, spec, st, rs, &e.to_string());
        }
        Err(ReplayError::Storage(e)) => return Err(e.into()),
    };
    let Some((avg, total)) = aggregate::weighted_average(&sum.sum) else {
        return fail_round(
            ctx,
            task,
            spec,
            st,
            rs,
            "total example count is not positive",
        );
    };
    let contributors: Vec<u32> = sum
        .contributors
        .iter()
        .filter_map(|c| u32::try_from(c.0).ok())
        .collect();
    let records: Vec<u64> = contributors
        .iter()
        .map(|&i| {
            rs.participants
                .get(i as usize)
                .map_or(0, |p| allowance(spec, p))
        })
        .collect();
    let max_total: u64 = records.iter().sum();
    if total as u64 > max_total {
        let reason = format!(
            "the masked inputs claim {total} examples, the contributors hold {max_total} records"
        );
        return fail_round(ctx, task, spec, st, rs, &reason);
    }
    let global = store::global(ctx, task)?.ok_or(StorageError::Corrupt { what: "global" })?;
    let mut velocity = store::velocity(ctx, task)?;
    let next = aggregate::server_step(&spec.strategy, &global, avg, &mut velocity);
    if matches!(spec.strategy, TaskStrategy::FedAvgM { .. }) {
        store::put_velocity(ctx, task, &velocity);
    }
    let points =
        aggregate::share_points(&aggregate::cap_shares(&records, spec.max_client_share_bps));
    let scored: Vec<(u32, u64)> = contributors.into_iter().zip(points).collect();
    complete_round(ctx, task, spec, st, rs, next, &scored, total as u64)
}

/// Why replaying a round's messages stops.
enum ReplayError {
    /// Reading the stored messages failed: fatal.
    Storage(StorageError),
    /// The protocol failed (too many dropouts, inconsistent shares): the round fails.
    Protocol(counterweight_fl::Error),
}

impl From<StorageError> for ReplayError {
    fn from(e: StorageError) -> Self {
        Self::Storage(e)
    }
}

impl From<counterweight_fl::Error> for ReplayError {
    fn from(e: counterweight_fl::Error) -> Self {
        Self::Protocol(e)
    }
}

/// Replays the round's stored messages through the `fl` server and returns the exact sum.
fn replay(
    state: &dyn StateReader,
    task: &Hash,
    rs: &RoundState,
    cfg: SecAggConfig,
) -> Result<SecAggSum, ReplayError> {
    let mut server = SecAggServer::new(cfg);
    for (&idx, &(enc_key, mask_key)) in &rs.keys {
        server.receive_keys(AdvertiseKeys {
            client: ClientId(u64::from(idx)),
            enc_key,
            mask_key,
        })?;
    }
    server.close_keys()?;
    for &from in &rs.shared {
        let mut shares = Vec::new();
        for &to in rs.keys.keys() {
            if let Some(ct) = state.get(&store::share_key(task, from, to))? {
                shares.push(EncryptedShare {
                    from: ClientId(u64::from(from)),
                    to: ClientId(u64::from(to)),
                    ciphertext: ct,
                });
            }
        }
        server.receive_shares(ClientId(u64::from(from)), shares)?;
    }
    server.close_shares()?;
    for &idx in &rs.masked {
        let raw = state
            .get(&store::masked_key(task, idx))?
            .ok_or(StorageError::Corrupt {
                what: "masked input",
            })?;
        let values = raw
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        server.receive_masked(MaskedInput {
            client: ClientId(u64::from(idx)),
            values,
        })?;
    }
    server.close_masked()?;
    for &idx in &rs.unmasked {
        let stored: Vec<StoredShare> =
            store::get_borsh(state, &store::unmask_key(task, idx), "unmask shares")?.ok_or(
                StorageError::Corrupt {
                    what: "unmask shares",
                },
            )?;
        let mut msg = UnmaskShares {
            client: ClientId(u64::from(idx)),
            self_mask_shares: BTreeMap::new(),
            key_shares: BTreeMap::new(),
            // The chain runs SecAgg+ as published (key shares), where keys are fresh every
            // round.
            pair_seeds: BTreeMap::new(),
        };
        for (owner, is_self, x, y) in stored {
            let share = Share { x, y };
            if is_self {
                msg.self_mask_shares
                    .insert(ClientId(u64::from(owner)), share);
            } else {
                msg.key_shares.insert(ClientId(u64::from(owner)), share);
            }
        }
        server.receive_unmask(msg)?;
    }
    Ok(server.finish()?)
}
