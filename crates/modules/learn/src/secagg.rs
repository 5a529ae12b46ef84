//! Secure-aggregation rounds: the four SecAgg+ phases and the replay through the `fl` server.

use std::collections::{BTreeMap, BTreeSet};

use counterweight_fl::{
    ClientId,
    secagg::{
        AdvertiseKeys, EncryptedShare, MaskedInput, SecAggConfig, SecAggServer, Share, UnmaskShares,
    },
};
use counterweight_state::{CallError, StateAccess, TxContext};
use counterweight_storage_api::{Result as StorageResult, StateReader, StorageError};
use counterweight_types::{Address, Hash};

use crate::aggregate;
use crate::call::{LearnCall, ShareOf, ShareTo, TaskSpec};
use crate::error::codes;
use crate::learn::{Learn, attrs, fail};
use crate::store::{
    self, PHASE_KEYS, PHASE_MASKED, PHASE_SHARES, PHASE_UNMASK, RoundState, StoredShare, TaskState,
};

/// The Shamir field modulus (2^61 − 1) of the `fl` crate's secure aggregation.
const SHAMIR_P: u64 = (1 << 61) - 1;

impl Learn {
    pub(crate) fn secagg_cfg(
        spec: &TaskSpec,
        st: &TaskState,
        rs: &RoundState,
    ) -> Result<SecAggConfig, CallError> {
        let sa = spec.secagg.as_ref().ok_or_else(|| {
            fail(
                codes::WRONG_MODE,
                "this task does not use secure aggregation",
            )
        })?;
        aggregate::secagg_config(
            rs.secagg_round_id(),
            rs.participants.len(),
            st.param_count as usize + 1,
            sa,
        )
        .map_err(|e| StorageError::Invariant(format!("secagg config of an open round: {e}")).into())
    }

    /// Common checks of a secure-aggregation message; returns the sender's client index.
    pub(crate) fn secagg_message(
        &self,
        state: &dyn StateReader,
        spec: &TaskSpec,
        rs: &RoundState,
        round: u32,
        phase: u8,
        sender: &Address,
    ) -> Result<u32, CallError> {
        if spec.secagg.is_none() {
            return Err(fail(
                codes::WRONG_MODE,
                "this task takes plain updates (SubmitUpdate), not secure aggregation",
            ));
        }
        Self::check_round(rs, round)?;
        let idx = self.check_participant(state, spec, rs, sender)?;
        if rs.phase != phase {
            return Err(fail(
                codes::WRONG_PHASE,
                format!(
                    "round {} is in phase {}, not {}",
                    rs.round,
                    store::phase_name(rs.phase),
                    store::phase_name(phase)
                ),
            ));
        }
        Ok(idx)
    }

    pub(crate) fn emit_secagg(ctx: &mut TxContext<'_>, task: &Hash, rs: &RoundState, kind: &str) {
        let sender = ctx.sender;
        ctx.emit(
            kind,
            attrs([
                ("task", task.to_hex()),
                ("round", rs.round.to_string()),
                ("client", sender.to_hex()),
            ]),
        );
    }

    pub(crate) fn secagg_call(
        &self,
        ctx: &mut TxContext<'_>,
        call: LearnCall,
    ) -> Result<(), CallError> {
        let task = match &call {
            LearnCall::AdvertiseKeys { task, .. }
            | LearnCall::ShareKeys { task, .. }
            | LearnCall::MaskedInput { task, .. }
            | LearnCall::UnmaskShares { task, .. }
            | LearnCall::Advance { task } => *task,
            _ => return Err(fail(codes::MALFORMED, "not a secure-aggregation call")),
        };
        let (spec, mut st, mut rs) = self.load_running(ctx, &task)?;
        let sender = ctx.sender;
        let complete = match call {
            LearnCall::AdvertiseKeys {
                round,
                enc_key,
                mask_key,
                ..
            } => {
                let idx = self.secagg_message(ctx, &spec, &rs, round, PHASE_KEYS, &sender)?;
                if rs.keys.contains_key(&idx) {
                    return Err(fail(
                        codes::DUPLICATE_SUBMISSION,
                        format!("{sender} already advertised keys in round {round}"),
                    ));
                }
                rs.keys.insert(idx, (enc_key, mask_key));
                Self::emit_secagg(ctx, &task, &rs, "secagg_keys");
                rs.keys.len() == rs.participants.len()
            }
            LearnCall::ShareKeys { round, shares, .. } => {
                let idx = self.secagg_message(ctx, &spec, &rs, round, PHASE_SHARES, &sender)?;
                self.receive_shares(ctx, &task, &spec, &st, &mut rs, idx, &shares)?;
                Self::emit_secagg(ctx, &task, &rs, "secagg_shares");
                rs.shared.len() == rs.keys.len()
            }
            LearnCall::MaskedInput { round, values, .. } => {
                let idx = self.secagg_message(ctx, &spec, &rs, round, PHASE_MASKED, &sender)?;
                if !rs.shared.contains(&idx) {
                    return Err(fail(
                        codes::NOT_PARTICIPANT,
                        format!("{sender} did not share keys in round {round}"),
                    ));
                }
                if rs.masked.contains(&idx) {
                    return Err(fail(
                        codes::DUPLICATE_SUBMISSION,
                        format!("{sender} already sent its masked input in round {round}"),
                    ));
                }
                let want = (st.param_count as usize + 1) * 4;
                if values.len() != want {
                    return Err(fail(
                        codes::WRONG_SHAPE,
                        format!(
                            "masked input must be {want} bytes ({} u32 values), got {}",
                            want / 4,
                            values.len()
                        ),
                    ));
                }
                ctx.set(store::masked_key(&task, idx), values.to_vec());
                rs.masked.insert(idx);
                Self::emit_secagg(ctx, &task, &rs, "secagg_masked");
                rs.masked.len() == rs.shared.len()
            }
            LearnCall::UnmaskShares {
                round,
                self_mask_shares,
                key_shares,
                ..
            } => {
                let idx = self.secagg_message(ctx, &spec, &rs, round, PHASE_UNMASK, &sender)?;
                if !rs.survivors.contains(&idx) {
                    return Err(fail(
                        codes::NOT_PARTICIPANT,
                        format!("{sender} is not a survivor of round {round}"),
                    ));
                }
                if rs.unmasked.contains(&idx) {
                    return Err(fail(
                        codes::DUPLICATE_SUBMISSION,
                        format!("{sender} already sent unmask shares in round {round}"),
                    ));
                }
                let stored = Self::check_unmask(&rs, &self_mask_shares, &key_shares)?;
                store::put_borsh(ctx, store::unmask_key(&task, idx), &stored);
                rs.unmasked.insert(idx);
                Self::emit_secagg(ctx, &task, &rs, "secagg_unmask");
                rs.unmasked.len() == rs.survivors.len()
            }
            LearnCall::Advance { .. } => {
                if spec.secagg.is_none() {
                    return Err(fail(
                        codes::WRONG_MODE,
                        "this task takes plain updates: use CloseRound",
                    ));
                }
                if ctx.timestamp_ms < rs.deadline_ms {
                    return Err(fail(
                        codes::DEADLINE_NOT_PASSED,
                        format!(
                            "phase {} of round {} waits until block time {} ms (now {})",
                            store::phase_name(rs.phase),
                            rs.round,
                            rs.deadline_ms,
                            ctx.timestamp_ms
                        ),
                    ));
                }
                true
            }
            _ => false,
        };
        if complete {
            self.advance_phase(ctx, &task, &spec, &mut st, rs)?;
        } else {
            store::put_borsh(ctx, store::round_key(&task), &rs);
        }
        store::put_borsh(ctx, store::state_key(&task), &st);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn receive_shares(
        &self,
        ctx: &mut TxContext<'_>,
        task: &Hash,
        spec: &TaskSpec,
        st: &TaskState,
        rs: &mut RoundState,
        idx: u32,
        shares: &[ShareTo],
    ) -> Result<(), CallError> {
        if !rs.keys.contains_key(&idx) {
            return Err(fail(
                codes::NOT_PARTICIPANT,
                format!("client {idx} did not advertise keys in round {}", rs.round),
            ));
        }
        if rs.shared.contains(&idx) {
            return Err(fail(
                codes::DUPLICATE_SUBMISSION,
                format!("client {idx} already shared its keys in round {}", rs.round),
            ));
        }
        let cfg = Self::secagg_cfg(spec, st, rs)?;
        let expected: BTreeSet<u64> = cfg
            .neighbours(ClientId(u64::from(idx)))
            .into_iter()
            .map(|c| c.0)
            .filter(|c| u32::try_from(*c).is_ok_and(|c| rs.keys.contains_key(&c)))
            .collect();
        let got: BTreeSet<u64> = shares.iter().map(|s| s.to).collect();
        if got != expected || got.len() != shares.len() {
            return Err(fail(
                codes::BAD_SHARES,
                format!(
                    "shares must go exactly once to each live neighbour {expected:?}, got {:?}",
                    shares.iter().map(|s| s.to).collect::<Vec<_>>()
                ),
            ));
        }
        for s in shares {
            let to = u32::try_from(s.to).map_err(|_| fail(codes::BAD_SHARES, "bad recipient"))?;
            ctx.set(store::share_key(task, idx, to), s.ciphertext.to_vec());
        }
        rs.shared.insert(idx);
        Ok(())
    }

    pub(crate) fn check_unmask(
        rs: &RoundState,
        self_mask: &[ShareOf],
        key: &[ShareOf],
    ) -> Result<Vec<StoredShare>, CallError> {
        let mut out = Vec::with_capacity(self_mask.len() + key.len());
        let mut seen = BTreeSet::new();
        for (list, is_self, allowed) in
            [(self_mask, true, &rs.survivors), (key, false, &rs.dropped)]
        {
            for s in list {
                let owner = u32::try_from(s.owner).ok().filter(|o| allowed.contains(o));
                let Some(owner) = owner else {
                    return Err(fail(
                        codes::BAD_SHARES,
                        format!(
                            "share of client {} is outside the unmask request (self-mask shares \
                             for survivors, key shares for dropped clients)",
                            s.owner
                        ),
                    ));
                };
                if !seen.insert(owner) {
                    return Err(fail(
                        codes::BAD_SHARES,
                        format!("two shares of client {owner}"),
                    ));
                }
                if s.x == 0 || s.x >= SHAMIR_P || s.y.iter().any(|&v| v >= SHAMIR_P) {
                    return Err(fail(codes::BAD_SHARES, "share value outside the field"));
                }
                out.push((owner, is_self, s.x, s.y));
            }
        }
        Ok(out)
    }

    /// Moves the secure-aggregation round to its next phase (or fails it) with the messages
    /// present; the last phase replays everything through [`SecAggServer`].
    pub(crate) fn advance_phase(
        &self,
        ctx: &mut TxContext<'_>,
        task: &Hash,
        spec: &TaskSpec,
        st: &mut TaskState,
        mut rs: RoundState,
    ) -> Result<(), CallError> {
        let cfg = Self::secagg_cfg(spec, st, &rs)?;
        let n = rs.participants.len();
        let (alive, next) = match rs.phase {
            PHASE_KEYS => (rs.keys.len(), PHASE_SHARES),
            PHASE_SHARES => (rs.shared.len(), PHASE_MASKED),
            PHASE_MASKED => (rs.masked.len(), PHASE_UNMASK),
            _ => return self.finish_secagg(ctx, task, spec, st, rs, cfg),
        };
        if n - alive > cfg.max_dropouts() {
            let reason = format!(
                "{} of {n} clients dropped by phase {}, at most {} tolerated",
                n - alive,
                store::phase_name(rs.phase),
                cfg.max_dropouts()
            );
            return self.fail_round(ctx, task, spec, st, rs, &reason);
        }
        if next == PHASE_UNMASK {
            if rs.masked.len() < cfg.threshold() {
                let reason = format!(
                    "{} masked inputs, threshold is {}",
                    rs.masked.len(),
                    cfg.threshold()
                );
                return self.fail_round(ctx, task, spec, st, rs, &reason);
            }
            rs.survivors = rs.masked.clone();
            rs.dropped = rs.shared.difference(&rs.masked).copied().collect();
        }
        rs.phase = next;
        rs.deadline_ms = ctx.timestamp_ms.saturating_add(spec.round_timeout_ms);
        ctx.emit(
            "secagg_phase",
            attrs([
                ("task", task.to_hex()),
                ("round", rs.round.to_string()),
                ("phase", store::phase_name(next).to_owned()),
                ("clients", alive.to_string()),
            ]),
        );
        store::put_borsh(ctx, store::round_key(task), &rs);
        Ok(())
    }

    pub(crate) fn finish_secagg(
        &self,
        ctx: &mut TxContext<'_>,
        task: &Hash,
        spec: &TaskSpec,
        st: &mut TaskState,
        rs: RoundState,
        cfg: SecAggConfig,
    ) -> Result<(), CallError> {
        let outcome = self.replay(ctx, task, &rs, cfg)?;
        let sum = match outcome {
            Ok(sum) => sum,
            Err(reason) => return self.fail_round(ctx, task, spec, st, rs, &reason),
        };
        let Some((avg, total)) = aggregate::weighted_average(&sum.sum) else {
            return self.fail_round(
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
            .map(|&i| rs.participants.get(i as usize).map_or(0, |p| p.records))
            .collect();
        let max_total: u64 = records.iter().sum();
        if total as u64 > max_total {
            let reason = format!(
                "the masked inputs claim {total} examples, the contributors hold {max_total} records"
            );
            return self.fail_round(ctx, task, spec, st, rs, &reason);
        }
        let global = store::global(ctx, task)?.ok_or(StorageError::Corrupt { what: "global" })?;
        let mut velocity = store::velocity(ctx, task)?;
        let next = aggregate::server_step(&spec.strategy, &global, avg, &mut velocity);
        if matches!(spec.strategy, crate::call::TaskStrategy::FedAvgM { .. }) {
            store::put_velocity(ctx, task, &velocity);
        }
        let points = aggregate::share_points(&records);
        let scored: Vec<(u32, u64)> = contributors.into_iter().zip(points).collect();
        self.complete_round(ctx, task, spec, st, rs, next, &scored, total as u64)
    }

    /// Replays the round through the `fl` server. Outer error: storage; inner: protocol
    /// failure (the round fails).
    pub(crate) fn replay(
        &self,
        state: &dyn StateReader,
        task: &Hash,
        rs: &RoundState,
        cfg: SecAggConfig,
    ) -> StorageResult<Result<counterweight_fl::secagg::SecAggSum, String>> {
        let mut server = SecAggServer::new(cfg);
        let run =
            |server: &mut SecAggServer| -> StorageResult<Result<(), counterweight_fl::Error>> {
                for (&idx, &(enc_key, mask_key)) in &rs.keys {
                    if let Err(e) = server.receive_keys(AdvertiseKeys {
                        client: ClientId(u64::from(idx)),
                        enc_key,
                        mask_key,
                    }) {
                        return Ok(Err(e));
                    }
                }
                if let Err(e) = server.close_keys() {
                    return Ok(Err(e));
                }
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
                    if let Err(e) = server.receive_shares(ClientId(u64::from(from)), shares) {
                        return Ok(Err(e));
                    }
                }
                if let Err(e) = server.close_shares() {
                    return Ok(Err(e));
                }
                for &idx in &rs.masked {
                    let raw =
                        state
                            .get(&store::masked_key(task, idx))?
                            .ok_or(StorageError::Corrupt {
                                what: "masked input",
                            })?;
                    let values = raw
                        .chunks_exact(4)
                        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                        .collect();
                    if let Err(e) = server.receive_masked(MaskedInput {
                        client: ClientId(u64::from(idx)),
                        values,
                    }) {
                        return Ok(Err(e));
                    }
                }
                if let Err(e) = server.close_masked() {
                    return Ok(Err(e));
                }
                for &idx in &rs.unmasked {
                    let stored: Vec<StoredShare> =
                        store::get_borsh(state, &store::unmask_key(task, idx), "unmask shares")?
                            .ok_or(StorageError::Corrupt {
                                what: "unmask shares",
                            })?;
                    let mut msg = UnmaskShares {
                        client: ClientId(u64::from(idx)),
                        self_mask_shares: BTreeMap::new(),
                        key_shares: BTreeMap::new(),
                        // The chain runs SecAgg+ as published (key shares), where keys
                        // are fresh every round.
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
                    if let Err(e) = server.receive_unmask(msg) {
                        return Ok(Err(e));
                    }
                }
                Ok(Ok(()))
            };
        if let Err(e) = run(&mut server)? {
            return Ok(Err(e.to_string()));
        }
        Ok(server.finish().map_err(|e| e.to_string()))
    }
}
