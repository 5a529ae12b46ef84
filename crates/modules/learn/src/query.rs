//! The learn module's queries: typed views (the shapes CLI, RPC and explorer show), `null`
//! for a task or round that does not exist.

use std::collections::BTreeSet;

use counterweight_state::{
    CallError,
    query::{BadQuery, answer, hash_arg, unknown_path},
};
use counterweight_storage_api::StateReader;
use counterweight_types::{Address, Hash};
use serde::{Deserialize, Serialize};

use crate::call::{DpParams, SecAggParams, TaskStrategy, TrainHints, hex_arr};
use crate::error::LearnError;
use crate::status::{RoundPhase, TaskStatus};
use crate::store::{self, HistoryEntry, RoundState, Settlement};
use crate::task::task_escrow_account;

/// `task` (argument: the task id): a task's settings and status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskView {
    /// Task id.
    pub id: Hash,
    /// Its cooperative.
    pub coop: Hash,
    /// Who opened it.
    pub creator: Address,
    /// `proposed`, `running`, `finished`, `failed` or `cancelled`.
    pub status: TaskStatus,
    /// Named datasets.
    pub datasets: Vec<Hash>,
    /// Rounds to run.
    pub rounds: u32,
    /// Rounds aggregated so far.
    pub rounds_done: u32,
    /// The open round (0 before the start).
    pub current_round: u32,
    /// Minimum submissions to close a round at its deadline.
    pub min_clients: u32,
    /// Aggregation rule.
    pub strategy: TaskStrategy,
    /// Secure aggregation settings.
    pub secagg: Option<SecAggParams>,
    /// Client-side differential privacy promised.
    pub dp: Option<DpParams>,
    /// Local training hints.
    pub train: TrainHints,
    /// Round / phase timeout in block time.
    pub round_timeout_ms: u64,
    /// Reward pool.
    pub reward: u64,
    /// The escrow account holding the pool.
    pub escrow: Address,
    /// Model parameters.
    pub param_count: u32,
    /// Architecture hash.
    pub arch_hash: Hash,
    /// Current global weights hash.
    pub weights_hash: Hash,
    /// Why the task finished (empty while running).
    pub finished_reason: String,
}

/// One participant of the open round.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantView {
    /// Its client id in this round (index in the ordered participant list).
    pub client: u64,
    /// Its address.
    pub address: Address,
    /// Records of its approved datasets (the cap on its example count).
    pub records: u64,
    /// Whether it has sent the current phase's message (plain: its update).
    pub sent: bool,
}

/// `round` (argument: the task id): the open round, `null` if none is open.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundView {
    /// Round number (from 1).
    pub round: u32,
    /// Attempt (a failed round reopens with the next attempt).
    pub attempt: u32,
    /// Phase: `collect_updates`, `advertise_keys`, `share_keys`, `masked_input`, `unmask`.
    pub phase: RoundPhase,
    /// Block time the round opened.
    pub opened_ms: u64,
    /// Block time after which the round / phase may be closed or advanced.
    pub deadline_ms: u64,
    /// Participants, in client-id order.
    pub participants: Vec<ParticipantView>,
    /// Secure-aggregation round id (mixed into the clients' keys).
    pub secagg_round_id: u64,
}

/// `global` (argument: the task id): the current global model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GlobalView {
    /// Task id.
    pub task: Hash,
    /// Rounds aggregated into it.
    pub rounds_done: u32,
    /// Its hash.
    pub weights_hash: Hash,
    /// Architecture hash.
    pub arch_hash: Hash,
    /// Architecture, canonical encoding in hex.
    pub architecture: String,
    /// Parameters, Q16.16.
    pub params: Vec<i32>,
}

/// One aggregated round in `history` (argument: the task id).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryView {
    /// Round.
    pub round: u32,
    /// New global weights hash.
    pub weights_hash: Hash,
    /// Participants when the round opened.
    pub participants: Vec<Address>,
    /// Whose updates are in the aggregate.
    pub contributors: Vec<Address>,
    /// Participants without an update in the aggregate.
    pub dropped: Vec<Address>,
    /// Total examples aggregated.
    pub examples: u64,
    /// Block height of the aggregation.
    pub height: u64,
    /// Block time of the aggregation.
    pub timestamp_ms: u64,
}

/// A participant's advertised keys in `secagg/roster`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterEntry {
    /// Client id.
    pub client: u64,
    /// X25519 key for share encryption (hex in JSON).
    #[serde(with = "hex_arr")]
    pub enc_key: [u8; 32],
    /// X25519 key for pairwise masks (hex in JSON).
    #[serde(with = "hex_arr")]
    pub mask_key: [u8; 32],
}

/// `secagg/roster` (argument: the task id): the open round's keys and who sent each phase's
/// message, `null` if no round is open.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecAggView {
    /// Round.
    pub round: u32,
    /// Secure-aggregation round id.
    pub round_id: u64,
    /// Phase.
    pub phase: RoundPhase,
    /// Participants.
    pub clients: u64,
    /// Advertised keys.
    pub keys: Vec<RosterEntry>,
    /// Clients that shared keys.
    pub shared: Vec<u64>,
    /// Clients that sent masked inputs.
    pub masked: Vec<u64>,
    /// Unmask request: survivors (set once the masked phase closes).
    pub survivors: Vec<u64>,
    /// Unmask request: clients that shared keys but sent no masked input.
    pub dropped: Vec<u64>,
    /// Clients that sent unmask shares.
    pub unmasked: Vec<u64>,
}

/// One encrypted share in `secagg/inbox` (argument: the task id, then the recipient's client
/// id as a big-endian u64).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxEntry {
    /// Sender (owner of the shared secrets).
    pub from: u64,
    /// Recipient.
    pub to: u64,
    /// Ciphertext, hex.
    pub ciphertext: String,
}

/// One payout in `rewards/{task}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutView {
    /// Payee.
    pub address: Address,
    /// Amount paid (0 before settlement).
    pub amount: u64,
    /// Contribution points.
    pub points: u64,
}

/// `rewards` (argument: the task id): points so far and, once finished, the payouts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RewardsView {
    /// Whether the pool has been paid out.
    pub settled: bool,
    /// Reward pool.
    pub pool: u64,
    /// Treasury that received the coop's share and remainders.
    pub treasury: Option<Address>,
    /// Amount the treasury received.
    pub treasury_amount: u64,
    /// Per contributor.
    pub payouts: Vec<PayoutView>,
    /// What returned to the task's creator (the unearned part of the pool).
    pub refunded: u64,
}

const PATHS: &str = "task, round, global, history, secagg/roster, secagg/inbox or rewards";

pub(crate) fn answer_query(
    state: &dyn StateReader,
    path: &str,
    data: &[u8],
) -> Result<Vec<u8>, CallError> {
    let task = || hash_arg(data).map(Hash).map_err(LearnError::from);
    match path {
        "task" => answer(&task_view(state, &task()?)?),
        "round" => answer(&round_view(state, &task()?)?),
        "global" => answer(&global_view(state, &task()?)?),
        "history" => answer(&history(state, &task()?)?),
        "secagg/roster" => answer(&roster(state, &task()?)?),
        "secagg/inbox" => {
            let (task, to) = inbox_arg(data)?;
            answer(&inbox(state, &task, to)?)
        }
        "rewards" => answer(&rewards(state, &task()?)?),
        other => Err(LearnError::from(unknown_path(other, PATHS)).into()),
    }
}

fn open_round(state: &dyn StateReader, task: &Hash) -> Result<Option<RoundState>, CallError> {
    Ok(store::get_borsh::<RoundState>(
        state,
        &store::round_key(task),
        "round",
    )?)
}

fn task_view(state: &dyn StateReader, id: &Hash) -> Result<Option<TaskView>, CallError> {
    let Some((spec, st)) = store::task(state, id)? else {
        return Ok(None);
    };
    Ok(Some(TaskView {
        id: *id,
        coop: spec.coop,
        creator: Address(st.creator),
        status: st.status,
        datasets: spec.datasets,
        rounds: spec.rounds,
        rounds_done: st.rounds_done,
        current_round: st.round,
        min_clients: spec.min_clients,
        strategy: spec.strategy,
        secagg: spec.secagg,
        dp: spec.dp,
        train: spec.train,
        round_timeout_ms: spec.round_timeout_ms,
        reward: spec.reward,
        escrow: task_escrow_account(id),
        param_count: st.param_count,
        arch_hash: Hash(st.arch_hash),
        weights_hash: Hash(st.global_hash),
        finished_reason: st.finished_reason,
    }))
}

fn round_view(state: &dyn StateReader, task: &Hash) -> Result<Option<RoundView>, CallError> {
    let Some(rs) = open_round(state, task)? else {
        return Ok(None);
    };
    let participants = rs
        .participants
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let c = i as u32;
            let sent = match rs.phase {
                RoundPhase::CollectUpdates => rs.submitted.contains_key(&c),
                RoundPhase::AdvertiseKeys => rs.keys.contains_key(&c),
                RoundPhase::ShareKeys => rs.shared.contains(&c),
                RoundPhase::MaskedInput => rs.masked.contains(&c),
                RoundPhase::Unmask => rs.unmasked.contains(&c),
            };
            ParticipantView {
                client: i as u64,
                address: Address(p.address),
                records: p.records,
                sent,
            }
        })
        .collect();
    Ok(Some(RoundView {
        round: rs.round,
        attempt: rs.attempt,
        phase: rs.phase,
        opened_ms: rs.opened_ms,
        deadline_ms: rs.deadline_ms,
        participants,
        secagg_round_id: rs.secagg_round_id(),
    }))
}

fn global_view(state: &dyn StateReader, id: &Hash) -> Result<Option<GlobalView>, CallError> {
    let Some((spec, st)) = store::task(state, id)? else {
        return Ok(None);
    };
    let params = store::global(state, id)?.unwrap_or_default();
    Ok(Some(GlobalView {
        task: *id,
        rounds_done: st.rounds_done,
        weights_hash: Hash(st.global_hash),
        arch_hash: Hash(st.arch_hash),
        architecture: hex::encode(&spec.architecture),
        params,
    }))
}

fn history(state: &dyn StateReader, id: &Hash) -> Result<Option<Vec<HistoryView>>, CallError> {
    let Some((_, st)) = store::task(state, id)? else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for round in 1..=st.rounds_done.max(st.round) {
        if let Some(h) =
            store::get_borsh::<HistoryEntry>(state, &store::history_key(id, round), "history")?
        {
            out.push(HistoryView {
                round: h.round,
                weights_hash: Hash(h.weights_hash),
                participants: h.participants.into_iter().map(Address).collect(),
                contributors: h.contributors.into_iter().map(Address).collect(),
                dropped: h.dropped.into_iter().map(Address).collect(),
                examples: h.examples,
                height: h.height,
                timestamp_ms: h.timestamp_ms,
            });
        }
    }
    Ok(Some(out))
}

fn roster(state: &dyn StateReader, task: &Hash) -> Result<Option<SecAggView>, CallError> {
    let Some(rs) = open_round(state, task)? else {
        return Ok(None);
    };
    let ids = |s: &BTreeSet<u32>| s.iter().map(|&c| u64::from(c)).collect();
    Ok(Some(SecAggView {
        round: rs.round,
        round_id: rs.secagg_round_id(),
        phase: rs.phase,
        clients: rs.participants.len() as u64,
        keys: rs
            .keys
            .iter()
            .map(|(&c, &(enc_key, mask_key))| RosterEntry {
                client: u64::from(c),
                enc_key,
                mask_key,
            })
            .collect(),
        shared: ids(&rs.shared),
        masked: ids(&rs.masked),
        survivors: ids(&rs.survivors),
        dropped: ids(&rs.dropped),
        unmasked: ids(&rs.unmasked),
    }))
}

/// The `secagg/inbox` argument: the task id (32 bytes), then the client id (u64 big-endian).
fn inbox_arg(data: &[u8]) -> Result<(Hash, u32), LearnError> {
    let bad = |reason: &str| {
        LearnError::from(BadQuery::BadArgument {
            reason: reason.to_owned(),
        })
    };
    let (Some(task), Some(client)) = (
        data.get(..32).and_then(|t| <[u8; 32]>::try_from(t).ok()),
        data.get(32..).and_then(|c| <[u8; 8]>::try_from(c).ok()),
    ) else {
        return Err(bad(
            "argument must be a task id and a u64 client id (40 bytes)",
        ));
    };
    let to = u32::try_from(u64::from_be_bytes(client)).map_err(|_| bad("client id too large"))?;
    Ok((Hash(task), to))
}

fn inbox(
    state: &dyn StateReader,
    task: &Hash,
    to: u32,
) -> Result<Option<Vec<InboxEntry>>, CallError> {
    let Some(rs) = open_round(state, task)? else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for &from in &rs.shared {
        if let Some(ct) = state.get(&store::share_key(task, from, to))? {
            out.push(InboxEntry {
                from: u64::from(from),
                to: u64::from(to),
                ciphertext: hex::encode(ct),
            });
        }
    }
    Ok(Some(out))
}

fn rewards(state: &dyn StateReader, id: &Hash) -> Result<Option<RewardsView>, CallError> {
    let Some((spec, _)) = store::task(state, id)? else {
        return Ok(None);
    };
    let settled = store::get_borsh::<Settlement>(state, &store::settlement_key(id), "settlement")?;
    Ok(Some(match settled {
        Some(s) => RewardsView {
            settled: true,
            pool: s.pool,
            treasury: Some(Address(s.treasury)),
            treasury_amount: s.treasury_amount,
            payouts: s
                .payouts
                .into_iter()
                .map(|(a, amount, points)| PayoutView {
                    address: Address(a),
                    amount,
                    points,
                })
                .collect(),
            refunded: s.refunded,
        },
        None => RewardsView {
            settled: false,
            pool: spec.reward,
            treasury: None,
            treasury_amount: 0,
            payouts: store::points(state, id)?
                .into_iter()
                .map(|(a, points)| PayoutView {
                    address: Address(a),
                    amount: 0,
                    points,
                })
                .collect(),
            refunded: 0,
        },
    }))
}
