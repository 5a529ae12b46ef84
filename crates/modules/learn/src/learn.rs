//! The learn module: tasks, rounds, plain and secure aggregation, scores and rewards.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use counterweight_fl::{
    ClientId, Update,
    secagg::{
        AdvertiseKeys, EncryptedShare, MaskedInput, SecAggConfig, SecAggServer, Share, UnmaskShares,
    },
};
use counterweight_state::{CallError, Module, ModuleError, StateAccess, TxContext};
use counterweight_storage_api::{Result as StorageResult, StateReader, StorageError};
use counterweight_types::{Address, Genesis, Hash, ModuleId, domain};

use crate::aggregate;
use crate::arch::decode_architecture;
use crate::call::{
    LearnCall, MAX_PARAMS, MAX_PAYLOAD_BYTES, MAX_ROUNDS, ShareOf, ShareTo, TaskSpec,
};
use crate::coop::CoopReader;
use crate::fixed::{self, ParamError};
use crate::query;
use crate::store::{
    self, HistoryEntry, PHASE_COLLECT, PHASE_KEYS, PHASE_MASKED, PHASE_SHARES, PHASE_UNMASK,
    Participant, RoundState, STATUS_FINISHED, STATUS_PROPOSED, STATUS_RUNNING, Settlement,
    StoredShare, TaskState,
};

/// The learn module's id.
pub const LEARN_MODULE: ModuleId = ModuleId(4);

/// Domain tag of a task's keyless escrow account.
pub const TASK_ESCROW_ACCOUNT: &[u8] = b"counterweight/v1/learn-task-escrow";

/// The Shamir field modulus (2^61 − 1) of the `fl` crate's secure aggregation.
const SHAMIR_P: u64 = (1 << 61) - 1;

/// Failure codes in receipts of learn calls and queries (stable).
pub mod codes {
    /// The payload does not decode.
    pub const MALFORMED: u32 = 1;
    /// The payload exceeds [`crate::MAX_PAYLOAD_BYTES`].
    pub const OVERSIZED: u32 = 2;
    /// No task has this id.
    pub const UNKNOWN_TASK: u32 = 3;
    /// No cooperative has this id.
    pub const UNKNOWN_COOP: u32 = 4;
    /// The sender is not a member of the task's cooperative.
    pub const NOT_MEMBER: u32 = 5;
    /// A named dataset does not exist.
    pub const UNKNOWN_DATASET: u32 = 6;
    /// A named dataset belongs to another cooperative.
    pub const DATASET_NOT_IN_COOP: u32 = 7;
    /// A named dataset is revoked or its consent does not allow training.
    pub const DATASET_NO_CONSENT: u32 = 8;
    /// The architecture or initial parameters are unacceptable.
    pub const BAD_MODEL: u32 = 9;
    /// Task settings out of bounds (rounds, clients, timeout, hints, duplicate datasets).
    pub const BAD_TASK: u32 = 10;
    /// The aggregation rule's parameters are invalid.
    pub const BAD_STRATEGY: u32 = 11;
    /// Secure aggregation needs a sum-based rule (FedAvg, FedAvgM).
    pub const SECAGG_NEEDS_SUM_RULE: u32 = 12;
    /// The creator cannot fund the reward pool.
    pub const INSUFFICIENT_FUNDS: u32 = 13;
    /// The cooperative has not approved the task.
    pub const NOT_APPROVED: u32 = 14;
    /// The task has already started.
    pub const ALREADY_STARTED: u32 = 15;
    /// Fewer eligible participants than the task needs.
    pub const NOT_ENOUGH_PARTICIPANTS: u32 = 16;
    /// The task has not started (not approved or no `Start` yet).
    pub const TASK_NOT_RUNNING: u32 = 17;
    /// The message names a round that is not open yet.
    pub const WRONG_ROUND: u32 = 18;
    /// The message names a round that has closed.
    pub const ROUND_CLOSED: u32 = 19;
    /// The sender has no approved dataset in this round.
    pub const NOT_PARTICIPANT: u32 = 20;
    /// The sender's dataset consent was revoked.
    pub const CONSENT_REVOKED: u32 = 21;
    /// The sender already sent this message in this round (or phase).
    pub const DUPLICATE_SUBMISSION: u32 = 22;
    /// The parameter vector has the wrong length.
    pub const WRONG_SHAPE: u32 = 23;
    /// A parameter is NaN or infinite.
    pub const NON_FINITE: u32 = 24;
    /// A parameter is outside the Q16.16 range.
    pub const OUT_OF_RANGE: u32 = 25;
    /// The example count is 0 or above the sender's records.
    pub const BAD_EXAMPLES: u32 = 26;
    /// The call does not fit the task's mode (plain vs secure aggregation).
    pub const WRONG_MODE: u32 = 27;
    /// The secure-aggregation message does not belong to the current phase.
    pub const WRONG_PHASE: u32 = 28;
    /// The round or phase deadline has not passed.
    pub const DEADLINE_NOT_PASSED: u32 = 29;
    /// Fewer than `min_clients` submissions.
    pub const TOO_FEW_SUBMISSIONS: u32 = 30;
    /// Encrypted or revealed shares are malformed or misaddressed.
    pub const BAD_SHARES: u32 = 31;
    /// Unknown query path or bad query argument.
    pub const BAD_QUERY: u32 = 32;
    /// The task has finished.
    pub const TASK_FINISHED: u32 = 33;
}

/// Returns the id of the task opened by transaction `tx_hash` on chain `chain_id`.
pub fn task_id(chain_id: &str, tx_hash: &Hash) -> Hash {
    Hash::digest(domain::TASK_ID, &[chain_id.as_bytes(), &tx_hash.0])
}

/// Returns the keyless account holding task `task`'s reward pool until it is paid out.
pub fn task_escrow_account(task: &Hash) -> Address {
    Address(Hash::digest(TASK_ESCROW_ACCOUNT, &[&task.0]).0)
}

/// A finished task's model, as the registry records it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FinishedModel {
    /// The task.
    pub task: Hash,
    /// Its cooperative.
    pub coop: Hash,
    /// Datasets whose owners contributed to at least one aggregated round.
    pub datasets: Vec<Hash>,
    /// Hash of the final Q16.16 parameters (see [`crate::weights_hash`]).
    pub weights_hash: Hash,
    /// Hash of the architecture's canonical encoding (see [`crate::arch_hash`]).
    pub arch_hash: Hash,
    /// Rounds aggregated.
    pub rounds: u32,
}

/// Returns the model of a finished task (`None` if unknown, unfinished, or no round was
/// aggregated).
///
/// # Errors
/// Fatal storage errors.
pub fn finished_model(
    state: &dyn StateReader,
    task: &Hash,
) -> StorageResult<Option<FinishedModel>> {
    let Some((spec, st)) = store::task(state, task)? else {
        return Ok(None);
    };
    if st.status != STATUS_FINISHED || st.rounds_done == 0 {
        return Ok(None);
    }
    Ok(Some(FinishedModel {
        task: *task,
        coop: spec.coop,
        datasets: st.used_datasets.iter().map(|d| Hash(*d)).collect(),
        weights_hash: Hash(st.global_hash),
        arch_hash: Hash(st.arch_hash),
        rounds: st.rounds_done,
    }))
}

/// Returns a task's current global parameters (Q16.16), if the task exists.
///
/// # Errors
/// Fatal storage errors.
pub fn global_params(state: &dyn StateReader, task: &Hash) -> StorageResult<Option<Vec<i32>>> {
    store::global(state, task)
}

fn fail(code: u32, message: impl Into<String>) -> CallError {
    ModuleError::new(code, message).into()
}

fn attrs<const N: usize>(pairs: [(&str, String); N]) -> BTreeMap<String, String> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// The learn module. Construct it with the coop module's reader.
pub struct Learn {
    coop: Arc<dyn CoopReader>,
}

impl std::fmt::Debug for Learn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Learn").finish_non_exhaustive()
    }
}

impl Default for Learn {
    /// The learn module over the coop module's state (what the chain registers).
    fn default() -> Self {
        Self::new(Arc::new(crate::coop::CoopModuleReader))
    }
}

impl Learn {
    /// A learn module reading cooperatives, members, datasets and approvals through `coop`.
    pub fn new(coop: Arc<dyn CoopReader>) -> Self {
        Self { coop }
    }

    /// Participants a round would have now: owners of the task's datasets that still belong
    /// to the coop, whose owners are members, with training consent and not revoked.
    fn eligible(
        &self,
        state: &dyn StateReader,
        spec: &TaskSpec,
    ) -> StorageResult<Vec<Participant>> {
        let mut by_owner: BTreeMap<[u8; 32], Participant> = BTreeMap::new();
        let mut membership: BTreeMap<[u8; 32], bool> = BTreeMap::new();
        for id in &spec.datasets {
            let Some(ds) = self.coop.dataset(state, id)? else {
                continue;
            };
            if ds.coop != spec.coop || ds.revoked || !ds.training_consent {
                continue;
            }
            let member = match membership.get(&ds.owner.0) {
                Some(&m) => m,
                None => {
                    let m = self.coop.is_member(state, &spec.coop, &ds.owner)?;
                    membership.insert(ds.owner.0, m);
                    m
                }
            };
            if !member {
                continue;
            }
            let p = by_owner.entry(ds.owner.0).or_insert_with(|| Participant {
                address: ds.owner.0,
                records: 0,
                datasets: Vec::new(),
            });
            p.records = p.records.saturating_add(ds.records);
            p.datasets.push(id.0);
        }
        Ok(by_owner.into_values().collect())
    }

    fn min_participants(spec: &TaskSpec) -> usize {
        let min = spec.min_clients as usize;
        if spec.secagg.is_some() {
            min.max(2)
        } else {
            min
        }
    }

    /// Checks that `sender` may send a message in `rs`, returning its client index.
    fn check_participant(
        &self,
        state: &dyn StateReader,
        spec: &TaskSpec,
        rs: &RoundState,
        sender: &Address,
    ) -> Result<u32, CallError> {
        let member = self.coop.is_member(state, &spec.coop, sender)?;
        if !member {
            return Err(fail(
                codes::NOT_MEMBER,
                format!("{sender} is not a member of coop {}", spec.coop),
            ));
        }
        let now = self.eligible(state, spec)?;
        let still = now.iter().find(|p| p.address == sender.0);
        match rs.index_of(&sender.0) {
            Some(idx) => {
                let was = &rs.participants[idx as usize].datasets;
                if still.is_none_or(|p| !p.datasets.iter().any(|d| was.contains(d))) {
                    return Err(fail(
                        codes::CONSENT_REVOKED,
                        format!(
                            "training consent of {sender}'s datasets was revoked; its data is \
                             excluded from this and later rounds"
                        ),
                    ));
                }
                Ok(idx)
            }
            None => {
                // Owns a dataset of the task that is revoked or lacks consent?
                for id in &spec.datasets {
                    if let Some(ds) = self.coop.dataset(state, id)?
                        && ds.owner == *sender
                        && (ds.revoked || !ds.training_consent)
                    {
                        return Err(fail(
                            codes::CONSENT_REVOKED,
                            format!("training consent of {sender}'s dataset {id} was revoked"),
                        ));
                    }
                }
                Err(fail(
                    codes::NOT_PARTICIPANT,
                    format!(
                        "{sender} has no approved dataset in round {} of this task",
                        rs.round
                    ),
                ))
            }
        }
    }

    fn load_running(
        &self,
        state: &dyn StateReader,
        task: &Hash,
    ) -> Result<(TaskSpec, TaskState, RoundState), CallError> {
        let (spec, st) = store::task(state, task)?
            .ok_or_else(|| fail(codes::UNKNOWN_TASK, format!("no task {task}")))?;
        match st.status {
            STATUS_PROPOSED => {
                return Err(fail(
                    codes::TASK_NOT_RUNNING,
                    format!(
                        "task {task} has not started: the coop must approve it and someone must \
                         send Start"
                    ),
                ));
            }
            STATUS_FINISHED => {
                return Err(fail(
                    codes::TASK_FINISHED,
                    format!("task {task} has finished"),
                ));
            }
            _ => {}
        }
        let rs = store::get_borsh::<RoundState>(state, &store::round_key(task), "round")?
            .ok_or(StorageError::Corrupt { what: "round" })?;
        Ok((spec, st, rs))
    }

    fn check_round(rs: &RoundState, round: u32) -> Result<(), CallError> {
        if round < rs.round {
            return Err(fail(
                codes::ROUND_CLOSED,
                format!("round {round} is closed; round {} is open", rs.round),
            ));
        }
        if round > rs.round {
            return Err(fail(
                codes::WRONG_ROUND,
                format!("round {round} is not open; round {} is open", rs.round),
            ));
        }
        Ok(())
    }

    fn open_task(&self, ctx: &mut TxContext<'_>, spec: TaskSpec) -> Result<(), CallError> {
        let sender = ctx.sender;
        if self.coop.coop(ctx, &spec.coop)?.is_none() {
            return Err(fail(codes::UNKNOWN_COOP, format!("no coop {}", spec.coop)));
        }
        if !self.coop.is_member(ctx, &spec.coop, &sender)? {
            return Err(fail(
                codes::NOT_MEMBER,
                format!("{sender} is not a member of coop {}", spec.coop),
            ));
        }
        let unique: BTreeSet<&Hash> = spec.datasets.iter().collect();
        if unique.len() != spec.datasets.len() {
            return Err(fail(codes::BAD_TASK, "datasets must not repeat"));
        }
        for id in &spec.datasets {
            let ds = self
                .coop
                .dataset(ctx, id)?
                .ok_or_else(|| fail(codes::UNKNOWN_DATASET, format!("no dataset {id}")))?;
            if ds.coop != spec.coop {
                return Err(fail(
                    codes::DATASET_NOT_IN_COOP,
                    format!(
                        "dataset {id} belongs to coop {}, not {}",
                        ds.coop, spec.coop
                    ),
                ));
            }
            if ds.revoked || !ds.training_consent {
                return Err(fail(
                    codes::DATASET_NO_CONSENT,
                    format!("dataset {id} is revoked or its consent does not allow training"),
                ));
            }
        }
        let arch = decode_architecture(&spec.architecture).ok_or_else(|| {
            fail(
                codes::BAD_MODEL,
                "architecture is not a valid canonical model encoding",
            )
        })?;
        let count = arch.parameter_count();
        if count == 0 || count > MAX_PARAMS {
            return Err(fail(
                codes::BAD_MODEL,
                format!("model has {count} parameters; 1..={MAX_PARAMS} are allowed"),
            ));
        }
        let initial = fixed::q16_from_f32_le(&spec.initial_params, count)
            .map_err(|e| fail(codes::BAD_MODEL, format!("initial parameters: {e}")))?;
        if spec.rounds == 0 || spec.rounds > MAX_ROUNDS {
            return Err(fail(
                codes::BAD_TASK,
                format!("rounds must be in 1..={MAX_ROUNDS}, got {}", spec.rounds),
            ));
        }
        if spec.min_clients == 0 || spec.min_clients as usize > spec.datasets.len() {
            return Err(fail(
                codes::BAD_TASK,
                format!(
                    "min_clients must be in 1..={} (the number of datasets), got {}",
                    spec.datasets.len(),
                    spec.min_clients
                ),
            ));
        }
        if spec.round_timeout_ms == 0 || spec.train.epochs == 0 || spec.train.batch == 0 {
            return Err(fail(
                codes::BAD_TASK,
                "round timeout, epochs and batch size must be positive",
            ));
        }
        aggregate::validate_strategy(&spec.strategy)
            .map_err(|e| fail(codes::BAD_STRATEGY, e.to_string()))?;
        if let Some(sa) = &spec.secagg {
            if !spec.strategy.is_sum_based() {
                return Err(fail(
                    codes::SECAGG_NEEDS_SUM_RULE,
                    format!(
                        "secure aggregation reveals only the sum of the updates, so it works \
                         with fedavg or fedavgm, not {}",
                        spec.strategy.name()
                    ),
                ));
            }
            if sa.max_dropout_permille >= 1000 {
                return Err(fail(
                    codes::BAD_TASK,
                    "max_dropout_permille must be below 1000",
                ));
            }
        }
        let id = task_id(ctx.chain_id.as_str(), &ctx.tx_hash);
        if spec.reward > 0 {
            let have = counterweight_bank::balance(ctx, &sender)?;
            if have < spec.reward {
                return Err(fail(
                    codes::INSUFFICIENT_FUNDS,
                    format!("balance {have} cannot fund the reward pool {}", spec.reward),
                ));
            }
            counterweight_bank::transfer(ctx, &sender, &task_escrow_account(&id), spec.reward)?;
        }
        let arch_hash = fixed::arch_hash(&spec.architecture);
        let global_hash = fixed::weights_hash(&initial);
        let st = TaskState {
            creator: sender.0,
            status: STATUS_PROPOSED,
            round: 0,
            rounds_done: 0,
            global_hash: global_hash.0,
            arch_hash: arch_hash.0,
            param_count: count as u32,
            opened_height: ctx.height.0,
            finished_reason: String::new(),
            used_datasets: BTreeSet::new(),
        };
        store::put_spec(ctx, &id, &spec);
        store::put_borsh(ctx, store::state_key(&id), &st);
        ctx.set(store::global_key(&id), fixed::params_to_le(&initial));
        ctx.emit(
            "task_opened",
            attrs([
                ("task", id.to_hex()),
                ("coop", spec.coop.to_hex()),
                ("creator", sender.to_hex()),
                ("datasets", spec.datasets.len().to_string()),
                ("rounds", spec.rounds.to_string()),
                ("strategy", spec.strategy.name().to_owned()),
                ("secagg", spec.secagg.is_some().to_string()),
                ("reward", spec.reward.to_string()),
                ("arch_hash", arch_hash.to_hex()),
                ("weights_hash", global_hash.to_hex()),
            ]),
        );
        Ok(())
    }

    fn start(&self, ctx: &mut TxContext<'_>, task: Hash) -> Result<(), CallError> {
        let (spec, mut st) = store::task(ctx, &task)?
            .ok_or_else(|| fail(codes::UNKNOWN_TASK, format!("no task {task}")))?;
        if st.status != STATUS_PROPOSED {
            return Err(fail(
                codes::ALREADY_STARTED,
                format!("task {task} is {}", store::status_name(st.status)),
            ));
        }
        if !self.coop.is_approved(ctx, &spec.coop, &task)? {
            return Err(fail(
                codes::NOT_APPROVED,
                format!("coop {} has not approved task {task}", spec.coop),
            ));
        }
        let eligible = self.eligible(ctx, &spec)?;
        let need = Self::min_participants(&spec);
        if eligible.len() < need {
            return Err(fail(
                codes::NOT_ENOUGH_PARTICIPANTS,
                format!(
                    "{} eligible participants, the task needs {need}",
                    eligible.len()
                ),
            ));
        }
        if let Some(sa) = &spec.secagg {
            aggregate::secagg_config(1 << 32, eligible.len(), st.param_count as usize + 1, sa)
                .map_err(|e| fail(codes::NOT_ENOUGH_PARTICIPANTS, e.to_string()))?;
        }
        st.status = STATUS_RUNNING;
        ctx.emit("task_started", attrs([("task", task.to_hex())]));
        self.open_round(ctx, &task, &spec, &mut st, 1, 0)?;
        store::put_borsh(ctx, store::state_key(&task), &st);
        Ok(())
    }

    /// Opens `round` (attempt `attempt`); finishes the task if too few participants remain.
    fn open_round(
        &self,
        ctx: &mut TxContext<'_>,
        task: &Hash,
        spec: &TaskSpec,
        st: &mut TaskState,
        round: u32,
        attempt: u32,
    ) -> Result<(), CallError> {
        let participants = self.eligible(ctx, spec)?;
        let enough = participants.len() >= Self::min_participants(spec)
            && spec.secagg.as_ref().is_none_or(|sa| {
                aggregate::secagg_config(
                    (u64::from(round) << 32) | u64::from(attempt),
                    participants.len(),
                    st.param_count as usize + 1,
                    sa,
                )
                .is_ok()
            });
        if !enough {
            return self.finish_task(
                ctx,
                task,
                spec,
                st,
                &format!(
                    "round {round} has {} eligible participants, the task needs {}",
                    participants.len(),
                    Self::min_participants(spec)
                ),
            );
        }
        let rs = RoundState {
            round,
            attempt,
            phase: if spec.secagg.is_some() {
                PHASE_KEYS
            } else {
                PHASE_COLLECT
            },
            opened_ms: ctx.timestamp_ms,
            deadline_ms: ctx.timestamp_ms.saturating_add(spec.round_timeout_ms),
            participants,
            ..RoundState::default()
        };
        st.round = round;
        ctx.emit(
            "round_opened",
            attrs([
                ("task", task.to_hex()),
                ("round", round.to_string()),
                ("attempt", attempt.to_string()),
                ("participants", rs.participants.len().to_string()),
                ("phase", store::phase_name(rs.phase).to_owned()),
                ("deadline_ms", rs.deadline_ms.to_string()),
            ]),
        );
        store::put_borsh(ctx, store::round_key(task), &rs);
        Ok(())
    }

    fn submit_update(
        &self,
        ctx: &mut TxContext<'_>,
        task: Hash,
        round: u32,
        params: &[u8],
        examples: u32,
    ) -> Result<(), CallError> {
        let (spec, mut st, mut rs) = self.load_running(ctx, &task)?;
        if spec.secagg.is_some() {
            return Err(fail(
                codes::WRONG_MODE,
                "this task uses secure aggregation: send AdvertiseKeys, ShareKeys, MaskedInput \
                 and UnmaskShares instead of a plain update",
            ));
        }
        Self::check_round(&rs, round)?;
        let sender = ctx.sender;
        let idx = self.check_participant(ctx, &spec, &rs, &sender)?;
        if rs.submitted.contains_key(&idx) {
            return Err(fail(
                codes::DUPLICATE_SUBMISSION,
                format!("{sender} already submitted an update in round {round}"),
            ));
        }
        let records = rs.participants[idx as usize].records;
        if examples == 0 || u64::from(examples) > records {
            return Err(fail(
                codes::BAD_EXAMPLES,
                format!("examples must be in 1..={records} (the sender's records), got {examples}"),
            ));
        }
        let q = fixed::q16_from_f32_le(params, st.param_count as usize).map_err(|e| match e {
            ParamError::WrongLength { .. } => fail(codes::WRONG_SHAPE, e.to_string()),
            ParamError::NonFinite { .. } => fail(codes::NON_FINITE, e.to_string()),
            ParamError::OutOfRange { .. } => fail(codes::OUT_OF_RANGE, e.to_string()),
        })?;
        let update_hash = fixed::weights_hash(&q);
        ctx.set(store::update_key(&task, idx), fixed::params_to_le(&q));
        rs.submitted.insert(idx, examples);
        ctx.emit(
            "update_accepted",
            attrs([
                ("task", task.to_hex()),
                ("round", round.to_string()),
                ("client", sender.to_hex()),
                ("examples", examples.to_string()),
                ("update_hash", update_hash.to_hex()),
            ]),
        );
        if rs.submitted.len() == rs.participants.len() {
            self.close_plain(ctx, &task, &spec, &mut st, rs)?;
        } else {
            store::put_borsh(ctx, store::round_key(&task), &rs);
        }
        store::put_borsh(ctx, store::state_key(&task), &st);
        Ok(())
    }

    fn close_round_call(&self, ctx: &mut TxContext<'_>, task: Hash) -> Result<(), CallError> {
        let (spec, mut st, rs) = self.load_running(ctx, &task)?;
        if spec.secagg.is_some() {
            return Err(fail(
                codes::WRONG_MODE,
                "this task uses secure aggregation: send Advance to move a phase on",
            ));
        }
        if ctx.timestamp_ms < rs.deadline_ms {
            return Err(fail(
                codes::DEADLINE_NOT_PASSED,
                format!(
                    "round {} waits for updates until block time {} ms (now {})",
                    rs.round, rs.deadline_ms, ctx.timestamp_ms
                ),
            ));
        }
        if rs.submitted.len() < spec.min_clients as usize {
            return Err(fail(
                codes::TOO_FEW_SUBMISSIONS,
                format!(
                    "{} updates submitted, the task needs {}",
                    rs.submitted.len(),
                    spec.min_clients
                ),
            ));
        }
        self.close_plain(ctx, &task, &spec, &mut st, rs)?;
        store::put_borsh(ctx, store::state_key(&task), &st);
        Ok(())
    }

    fn close_plain(
        &self,
        ctx: &mut TxContext<'_>,
        task: &Hash,
        spec: &TaskSpec,
        st: &mut TaskState,
        rs: RoundState,
    ) -> Result<(), CallError> {
        let global = store::global(ctx, task)?.ok_or(StorageError::Corrupt { what: "global" })?;
        // An owner who revoked consent after submitting is left out of the aggregate too.
        let now = self.eligible(ctx, spec)?;
        let still_eligible = |idx: u32| {
            let was = &rs.participants[idx as usize];
            now.iter().any(|p| {
                p.address == was.address && p.datasets.iter().any(|d| was.datasets.contains(d))
            })
        };
        let mut updates = Vec::with_capacity(rs.submitted.len());
        let mut kept = Vec::with_capacity(rs.submitted.len());
        for (&idx, &examples) in &rs.submitted {
            if !still_eligible(idx) {
                continue;
            }
            kept.push(idx);
            let params = store::i32s(ctx, &store::update_key(task, idx), "update")?
                .ok_or(StorageError::Corrupt { what: "update" })?;
            updates.push(Update::new(
                ClientId(u64::from(idx)),
                u64::from(examples),
                params,
            ));
        }
        let mut velocity = store::velocity(ctx, task)?;
        match aggregate::aggregate(&spec.strategy, &global, &updates, &mut velocity) {
            Ok(next) => {
                let influence = aggregate::leave_one_out(&spec.strategy, &global, &updates);
                let examples: Vec<u64> = updates.iter().map(|u| u.num_samples).collect();
                let points = aggregate::plain_points(&examples, &influence);
                let contributors: Vec<(u32, u64)> = kept.iter().copied().zip(points).collect();
                if matches!(spec.strategy, crate::call::TaskStrategy::FedAvgM { .. }) {
                    store::put_velocity(ctx, task, &velocity);
                }
                let total: u64 = examples.iter().sum();
                self.complete_round(ctx, task, spec, st, rs, next, &contributors, total)
            }
            Err(e) => self.fail_round(ctx, task, spec, st, rs, &e.to_string()),
        }
    }

    fn clear_round_data(
        ctx: &mut TxContext<'_>,
        task: &Hash,
        rs: &RoundState,
    ) -> StorageResult<()> {
        for &idx in rs.submitted.keys() {
            ctx.delete(store::update_key(task, idx));
        }
        for &from in &rs.shared {
            for &to in rs.keys.keys() {
                let k = store::share_key(task, from, to);
                if ctx.get(&k)?.is_some() {
                    ctx.delete(k);
                }
            }
        }
        for &idx in &rs.masked {
            ctx.delete(store::masked_key(task, idx));
        }
        for &idx in &rs.unmasked {
            ctx.delete(store::unmask_key(task, idx));
        }
        Ok(())
    }

    fn fail_round(
        &self,
        ctx: &mut TxContext<'_>,
        task: &Hash,
        spec: &TaskSpec,
        st: &mut TaskState,
        rs: RoundState,
        reason: &str,
    ) -> Result<(), CallError> {
        Self::clear_round_data(ctx, task, &rs)?;
        let mut reason = format!("round {} attempt {} failed: {reason}", rs.round, rs.attempt);
        reason.truncate(200);
        ctx.emit(
            "round_failed",
            attrs([
                ("task", task.to_hex()),
                ("round", rs.round.to_string()),
                ("reason", reason),
            ]),
        );
        self.open_round(ctx, task, spec, st, rs.round, rs.attempt.saturating_add(1))
    }

    /// Stores the new global model, history and points; opens the next round or finishes.
    #[allow(clippy::too_many_arguments)]
    fn complete_round(
        &self,
        ctx: &mut TxContext<'_>,
        task: &Hash,
        spec: &TaskSpec,
        st: &mut TaskState,
        rs: RoundState,
        next: Vec<i32>,
        contributors: &[(u32, u64)],
        examples: u64,
    ) -> Result<(), CallError> {
        Self::clear_round_data(ctx, task, &rs)?;
        let hash = fixed::weights_hash(&next);
        ctx.set(store::global_key(task), fixed::params_to_le(&next));
        st.global_hash = hash.0;
        st.rounds_done = st.rounds_done.saturating_add(1);
        let mut pts = store::points(ctx, task)?;
        let mut contributor_addrs = Vec::with_capacity(contributors.len());
        for &(idx, p) in contributors {
            let part = &rs.participants[idx as usize];
            contributor_addrs.push(part.address);
            let e = pts.entry(part.address).or_insert(0);
            *e = e.saturating_add(p);
            st.used_datasets.extend(part.datasets.iter().copied());
        }
        store::put_borsh(ctx, store::points_key(task), &pts);
        let contributed: BTreeSet<u32> = contributors.iter().map(|c| c.0).collect();
        let dropped: Vec<[u8; 32]> = rs
            .participants
            .iter()
            .enumerate()
            .filter(|(i, _)| !contributed.contains(&(*i as u32)))
            .map(|(_, p)| p.address)
            .collect();
        let entry = HistoryEntry {
            round: rs.round,
            weights_hash: hash.0,
            participants: rs.participants.iter().map(|p| p.address).collect(),
            contributors: contributor_addrs,
            dropped,
            examples,
            height: ctx.height.0,
            timestamp_ms: ctx.timestamp_ms,
        };
        store::put_borsh(ctx, store::history_key(task, rs.round), &entry);
        ctx.emit(
            "round_aggregated",
            attrs([
                ("task", task.to_hex()),
                ("round", rs.round.to_string()),
                ("weights_hash", hash.to_hex()),
                ("contributors", contributors.len().to_string()),
                ("participants", rs.participants.len().to_string()),
                ("examples", examples.to_string()),
                ("strategy", spec.strategy.name().to_owned()),
            ]),
        );
        if rs.round >= spec.rounds {
            self.finish_task(ctx, task, spec, st, "all rounds aggregated")
        } else {
            self.open_round(ctx, task, spec, st, rs.round + 1, 0)
        }
    }

    fn finish_task(
        &self,
        ctx: &mut TxContext<'_>,
        task: &Hash,
        spec: &TaskSpec,
        st: &mut TaskState,
        reason: &str,
    ) -> Result<(), CallError> {
        st.status = STATUS_FINISHED;
        st.finished_reason = reason.to_owned();
        ctx.delete(store::round_key(task));
        ctx.emit(
            "task_finished",
            attrs([
                ("task", task.to_hex()),
                ("rounds", st.rounds_done.to_string()),
                ("weights_hash", Hash(st.global_hash).to_hex()),
                ("reason", reason.to_owned()),
            ]),
        );
        self.settle(ctx, task, spec, st)
    }

    /// Pays the reward pool: the coop's revenue share to its treasury, the rest to the
    /// contributors by points; integer-division remainders go to the treasury.
    fn settle(
        &self,
        ctx: &mut TxContext<'_>,
        task: &Hash,
        spec: &TaskSpec,
        st: &TaskState,
    ) -> Result<(), CallError> {
        let pool = spec.reward;
        let (treasury, permille) = match self.coop.coop(ctx, &spec.coop)? {
            Some(c) => (c.treasury, u64::from(c.revenue_share_permille.min(1000))),
            None => (Address(st.creator), 0),
        };
        let pts = store::points(ctx, task)?;
        let coop_amount = (u128::from(pool) * u128::from(permille) / 1000) as u64;
        let rest = pool - coop_amount;
        let total_points: u128 = pts.values().map(|&p| u128::from(p)).sum();
        let mut payouts = Vec::with_capacity(pts.len());
        let mut paid = 0u64;
        for (&who, &p) in &pts {
            let Some(share) = (u128::from(rest) * u128::from(p)).checked_div(total_points) else {
                break;
            };
            let amount = share as u64;
            paid += amount;
            payouts.push((who, amount, p));
        }
        let treasury_amount = pool - paid;
        let escrow = task_escrow_account(task);
        for &(who, amount, _) in &payouts {
            if amount > 0 {
                counterweight_bank::transfer(ctx, &escrow, &Address(who), amount)?;
            }
        }
        if treasury_amount > 0 {
            counterweight_bank::transfer(ctx, &escrow, &treasury, treasury_amount)?;
        }
        let digest_parts: Vec<u8> = payouts
            .iter()
            .flat_map(|(w, a, _)| w.iter().copied().chain(a.to_be_bytes()))
            .collect();
        let digest = Hash::digest(domain::TASK_ID, &[&task.0, b"payouts", &digest_parts]);
        // Per-payee events while the receipt has room; the summary commits to all payouts.
        if payouts.len() <= 10 {
            for &(who, amount, p) in &payouts {
                ctx.emit(
                    "reward_paid",
                    attrs([
                        ("task", task.to_hex()),
                        ("to", Address(who).to_hex()),
                        ("amount", amount.to_string()),
                        ("points", p.to_string()),
                    ]),
                );
            }
        }
        ctx.emit(
            "rewards_settled",
            attrs([
                ("task", task.to_hex()),
                ("pool", pool.to_string()),
                ("treasury", treasury.to_hex()),
                ("treasury_amount", treasury_amount.to_string()),
                ("payees", payouts.len().to_string()),
                ("payouts_digest", digest.to_hex()),
            ]),
        );
        store::put_borsh(
            ctx,
            store::settlement_key(task),
            &Settlement {
                pool,
                treasury: treasury.0,
                treasury_amount,
                payouts,
            },
        );
        Ok(())
    }

    fn secagg_cfg(
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
    fn secagg_message(
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

    fn emit_secagg(ctx: &mut TxContext<'_>, task: &Hash, rs: &RoundState, kind: &str) {
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

    fn secagg_call(&self, ctx: &mut TxContext<'_>, call: LearnCall) -> Result<(), CallError> {
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
    fn receive_shares(
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

    fn check_unmask(
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
    fn advance_phase(
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

    fn finish_secagg(
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
    fn replay(
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

impl Module for Learn {
    fn id(&self) -> ModuleId {
        LEARN_MODULE
    }

    fn name(&self) -> &'static str {
        "learn"
    }

    fn check_payload(&self, payload: &[u8]) -> Result<(), ModuleError> {
        decode(payload).map(|_| ())
    }

    fn init_genesis(&self, _: &mut dyn StateAccess, _: &Genesis) -> Result<(), CallError> {
        Ok(())
    }

    fn execute(&self, ctx: &mut TxContext<'_>, payload: &[u8]) -> Result<(), CallError> {
        match decode(payload)? {
            LearnCall::OpenTask { spec } => self.open_task(ctx, *spec),
            LearnCall::Start { task } => self.start(ctx, task),
            LearnCall::SubmitUpdate {
                task,
                round,
                params,
                examples,
            } => self.submit_update(ctx, task, round, &params, examples),
            LearnCall::CloseRound { task } => self.close_round_call(ctx, task),
            call => self.secagg_call(ctx, call),
        }
    }

    fn query(
        &self,
        state: &dyn StateReader,
        path: &str,
        data: &[u8],
    ) -> Result<Vec<u8>, CallError> {
        query::answer(state, path, data)
    }
}

fn decode(payload: &[u8]) -> Result<LearnCall, ModuleError> {
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(ModuleError::new(
            codes::OVERSIZED,
            format!(
                "learn call is {} bytes, above the limit of {MAX_PAYLOAD_BYTES}",
                payload.len()
            ),
        ));
    }
    LearnCall::from_payload(payload)
        .map_err(|e| ModuleError::new(codes::MALFORMED, format!("learn call: {e}")))
}
