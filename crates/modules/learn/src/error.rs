//! The learn module's refusals: one variant per reason, each with its stable code.

use std::collections::BTreeSet;

use counterweight_state::{MalformedCall, Verdict, query::BadQuery};
use counterweight_types::{Address, Hash};

use crate::call::{MAX_PARAMS, MAX_PAYLOAD_BYTES, MAX_ROUNDS};
use crate::fixed::ParamError;
use crate::status::{RoundPhase, TaskStatus};

/// Failure codes in receipts of learn calls and queries (stable: never renumber one).
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
    /// Only the task's creator may cancel it.
    pub const NOT_CREATOR: u32 = 34;
}

/// Why the learn module refuses a call (or a query).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LearnError {
    /// The payload does not decode.
    #[error(transparent)]
    Malformed(#[from] MalformedCall),
    /// The payload exceeds [`MAX_PAYLOAD_BYTES`].
    #[error("learn call is {size} bytes, above the limit of {MAX_PAYLOAD_BYTES}")]
    Oversized {
        /// The payload's size in bytes.
        size: usize,
    },
    /// No task has this id.
    #[error("no task {task}")]
    UnknownTask {
        /// The task asked for.
        task: Hash,
    },
    /// No cooperative has this id.
    #[error("no coop {coop}")]
    UnknownCoop {
        /// The coop asked for.
        coop: Hash,
    },
    /// The sender is not a member of the task's cooperative.
    #[error("{who} is not a member of coop {coop}")]
    NotMember {
        /// The sender.
        who: Address,
        /// The task's coop.
        coop: Hash,
    },
    /// A named dataset does not exist.
    #[error("no dataset {dataset}")]
    UnknownDataset {
        /// The dataset.
        dataset: Hash,
    },
    /// A named dataset belongs to another cooperative.
    #[error("dataset {dataset} belongs to coop {owner}, not {coop}")]
    DatasetNotInCoop {
        /// The dataset.
        dataset: Hash,
        /// The coop it belongs to.
        owner: Hash,
        /// The task's coop.
        coop: Hash,
    },
    /// A named dataset is revoked or its consent does not allow training.
    #[error("dataset {dataset} is revoked or its consent does not allow training")]
    DatasetNoConsent {
        /// The dataset.
        dataset: Hash,
    },
    /// The architecture does not decode.
    #[error("architecture is not a valid canonical model encoding")]
    BadArchitecture,
    /// The model has no parameters or too many.
    #[error("model has {count} parameters; 1..={MAX_PARAMS} are allowed")]
    ParameterCount {
        /// Its parameter count.
        count: usize,
    },
    /// The initial parameters are unacceptable.
    #[error("initial parameters: {source}")]
    InitialParams {
        /// What is wrong with them.
        #[source]
        source: ParamError,
    },
    /// A dataset is named twice.
    #[error("datasets must not repeat")]
    RepeatedDatasets,
    /// The round count is out of bounds.
    #[error("rounds must be in 1..={MAX_ROUNDS}, got {rounds}")]
    BadRounds {
        /// The rounds asked for.
        rounds: u32,
    },
    /// `min_clients` is 0 or above the number of datasets.
    #[error("min_clients must be in 1..={datasets} (the number of datasets), got {min_clients}")]
    BadMinClients {
        /// The value asked for.
        min_clients: u32,
        /// The number of datasets.
        datasets: usize,
    },
    /// The round timeout, epochs or batch size is 0.
    #[error("round timeout, epochs and batch size must be positive")]
    NonPositiveSettings,
    /// A limit of the task (per-client examples, client share, attempts, start timeout) is
    /// outside its range.
    #[error("{what} must be in {range}, got {got}")]
    BadLimit {
        /// The setting.
        what: &'static str,
        /// Its allowed range.
        range: &'static str,
        /// The value asked for.
        got: u64,
    },
    /// The model is too large for a secure-aggregation task's masked input.
    #[error("secure aggregation takes at most {max} parameters, the model has {count}")]
    SecAggTooManyParams {
        /// The model's parameter count.
        count: usize,
        /// The most a secure task may have.
        max: usize,
    },
    /// The sender is not the task's creator.
    #[error("only the task's creator {creator} may cancel it")]
    NotCreator {
        /// The creator.
        creator: Address,
    },
    /// A task that never started may be cancelled only after its start timeout.
    #[error("task {task} may be cancelled from block time {deadline_ms} ms (now {now_ms})")]
    StartTimeout {
        /// The task.
        task: Hash,
        /// When it may be cancelled.
        deadline_ms: u64,
        /// The block time.
        now_ms: u64,
    },
    /// The secure-aggregation dropout bound is 1000‰ or more.
    #[error("max_dropout_permille must be below 1000")]
    BadDropout,
    /// The aggregation rule's parameters are invalid.
    #[error(transparent)]
    BadStrategy(counterweight_fl::Error),
    /// Secure aggregation with a rule that needs the individual updates.
    #[error(
        "secure aggregation reveals only the sum of the updates, so it works with fedavg or \
         fedavgm, not {strategy}"
    )]
    SecAggNeedsSumRule {
        /// The rule's name.
        strategy: &'static str,
    },
    /// The creator cannot fund the reward pool.
    #[error("balance {have} cannot fund the reward pool {reward}")]
    InsufficientFunds {
        /// The creator's balance.
        have: u64,
        /// The pool.
        reward: u64,
    },
    /// The cooperative has not approved the task.
    #[error("coop {coop} has not approved task {task}")]
    NotApproved {
        /// The coop.
        coop: Hash,
        /// The task.
        task: Hash,
    },
    /// The task has already started (or finished).
    #[error("task {task} is {status}")]
    AlreadyStarted {
        /// The task.
        task: Hash,
        /// Its status.
        status: TaskStatus,
    },
    /// Fewer eligible participants than the task needs.
    #[error("{eligible} eligible participants, the task needs {need}")]
    NotEnoughParticipants {
        /// Eligible participants now.
        eligible: usize,
        /// Participants the task needs.
        need: usize,
    },
    /// Secure aggregation cannot run with the eligible participants.
    #[error(transparent)]
    SecAggInfeasible(counterweight_fl::Error),
    /// The task has not started.
    #[error("task {task} has not started: the coop must approve it and someone must send Start")]
    TaskNotRunning {
        /// The task.
        task: Hash,
    },
    /// The task has finished.
    #[error("task {task} has finished")]
    TaskFinished {
        /// The task.
        task: Hash,
    },
    /// The message names a round that is not open yet.
    #[error("round {round} is not open; round {open} is open")]
    WrongRound {
        /// The round named.
        round: u32,
        /// The open round.
        open: u32,
    },
    /// The message names a round that has closed.
    #[error("round {round} is closed; round {open} is open")]
    RoundClosed {
        /// The round named.
        round: u32,
        /// The open round.
        open: u32,
    },
    /// The sender has no approved dataset in this round.
    #[error("{who} has no approved dataset in round {round} of this task")]
    NotParticipant {
        /// The sender.
        who: Address,
        /// The open round.
        round: u32,
    },
    /// The sender's datasets of this round lost their training consent.
    #[error(
        "training consent of {who}'s datasets was revoked; its data is excluded from this and \
         later rounds"
    )]
    ConsentRevoked {
        /// The sender.
        who: Address,
    },
    /// A dataset of the sender that the task names lost its training consent.
    #[error("training consent of {who}'s dataset {dataset} was revoked")]
    DatasetConsentRevoked {
        /// The sender.
        who: Address,
        /// The dataset.
        dataset: Hash,
    },
    /// The sender already submitted an update in this round.
    #[error("{who} already submitted an update in round {round}")]
    DuplicateUpdate {
        /// The sender.
        who: Address,
        /// The round.
        round: u32,
    },
    /// The update's parameters are unacceptable (shape, NaN, range).
    #[error(transparent)]
    BadParams(ParamError),
    /// The example count is 0 or above the sender's allowance (its records, capped by the
    /// task's `max_examples_per_client`).
    #[error(
        "examples must be in 1..={records} (the sender's records, capped by the task), got \
         {examples}"
    )]
    BadExamples {
        /// The count claimed.
        examples: u32,
        /// The sender's records.
        records: u64,
    },
    /// A plain update for a secure-aggregation task.
    #[error(
        "this task uses secure aggregation: send AdvertiseKeys, ShareKeys, MaskedInput and \
         UnmaskShares instead of a plain update"
    )]
    UpdateNeedsPlainTask,
    /// `CloseRound` for a secure-aggregation task.
    #[error("this task uses secure aggregation: send Advance to move a phase on")]
    CloseNeedsPlainTask,
    /// A secure-aggregation message for a plain task.
    #[error("this task takes plain updates (SubmitUpdate), not secure aggregation")]
    MessageNeedsSecAggTask,
    /// `Advance` for a plain task.
    #[error("this task takes plain updates: use CloseRound")]
    AdvanceNeedsSecAggTask,
    /// A plain task has no secure-aggregation settings.
    #[error("this task does not use secure aggregation")]
    NoSecAgg,
    /// The message does not belong to the round's phase.
    #[error("round {round} is in phase {phase}, not {expected}")]
    WrongPhase {
        /// The open round.
        round: u32,
        /// Its phase.
        phase: RoundPhase,
        /// The message's phase.
        expected: RoundPhase,
    },
    /// A plain round's deadline has not passed.
    #[error("round {round} waits for updates until block time {deadline_ms} ms (now {now_ms})")]
    RoundDeadline {
        /// The round.
        round: u32,
        /// Its deadline.
        deadline_ms: u64,
        /// The block time.
        now_ms: u64,
    },
    /// A secure-aggregation phase's deadline has not passed.
    #[error(
        "phase {phase} of round {round} waits until block time {deadline_ms} ms (now {now_ms})"
    )]
    PhaseDeadline {
        /// The phase.
        phase: RoundPhase,
        /// The round.
        round: u32,
        /// Its deadline.
        deadline_ms: u64,
        /// The block time.
        now_ms: u64,
    },
    /// Fewer than `min_clients` updates at the deadline.
    #[error("{submitted} updates submitted, the task needs {min_clients}")]
    TooFewSubmissions {
        /// Updates submitted.
        submitted: usize,
        /// The task's minimum.
        min_clients: u32,
    },
    /// The sender already advertised keys in this round.
    #[error("{who} already advertised keys in round {round}")]
    DuplicateKeys {
        /// The sender.
        who: Address,
        /// The round.
        round: u32,
    },
    /// A client shares keys without having advertised any.
    #[error("client {client} did not advertise keys in round {round}")]
    NoKeys {
        /// The client.
        client: u32,
        /// The round.
        round: u32,
    },
    /// A client shares keys twice.
    #[error("client {client} already shared its keys in round {round}")]
    DuplicateShares {
        /// The client.
        client: u32,
        /// The round.
        round: u32,
    },
    /// The shares do not go exactly once to each live neighbour.
    #[error("shares must go exactly once to each live neighbour {expected:?}, got {got:?}")]
    MisaddressedShares {
        /// The live neighbours.
        expected: BTreeSet<u64>,
        /// The recipients named.
        got: Vec<u64>,
    },
    /// A share names a recipient outside the client ids.
    #[error("bad recipient")]
    BadRecipient,
    /// A masked input from a client that did not share keys.
    #[error("{who} did not share keys in round {round}")]
    KeysNotShared {
        /// The sender.
        who: Address,
        /// The round.
        round: u32,
    },
    /// The sender already sent its masked input.
    #[error("{who} already sent its masked input in round {round}")]
    DuplicateMasked {
        /// The sender.
        who: Address,
        /// The round.
        round: u32,
    },
    /// The masked input has the wrong length.
    #[error("masked input must be {want} bytes ({} u32 values), got {got}", want / 4)]
    MaskedShape {
        /// Bytes expected.
        want: usize,
        /// Bytes sent.
        got: usize,
    },
    /// Unmask shares from a client that is not a survivor.
    #[error("{who} is not a survivor of round {round}")]
    NotSurvivor {
        /// The sender.
        who: Address,
        /// The round.
        round: u32,
    },
    /// The sender already sent unmask shares.
    #[error("{who} already sent unmask shares in round {round}")]
    DuplicateUnmask {
        /// The sender.
        who: Address,
        /// The round.
        round: u32,
    },
    /// A revealed share is of a client outside the unmask request.
    #[error(
        "share of client {owner} is outside the unmask request (self-mask shares for \
         survivors, key shares for dropped clients)"
    )]
    ShareOutsideRequest {
        /// The share's owner.
        owner: u64,
    },
    /// Two revealed shares of one client.
    #[error("two shares of client {owner}")]
    DuplicateShareOwner {
        /// The client.
        owner: u32,
    },
    /// A revealed share's value is not a field element.
    #[error("share value outside the field")]
    ShareOutsideField,
    /// Unknown query path or bad query argument.
    #[error(transparent)]
    BadQuery(#[from] BadQuery),
}

impl Verdict for LearnError {
    fn code(&self) -> u32 {
        match self {
            Self::Malformed(_) => codes::MALFORMED,
            Self::Oversized { .. } => codes::OVERSIZED,
            Self::UnknownTask { .. } => codes::UNKNOWN_TASK,
            Self::UnknownCoop { .. } => codes::UNKNOWN_COOP,
            Self::NotMember { .. } => codes::NOT_MEMBER,
            Self::UnknownDataset { .. } => codes::UNKNOWN_DATASET,
            Self::DatasetNotInCoop { .. } => codes::DATASET_NOT_IN_COOP,
            Self::DatasetNoConsent { .. } => codes::DATASET_NO_CONSENT,
            Self::BadArchitecture | Self::ParameterCount { .. } | Self::InitialParams { .. } => {
                codes::BAD_MODEL
            }
            Self::RepeatedDatasets
            | Self::BadRounds { .. }
            | Self::BadMinClients { .. }
            | Self::NonPositiveSettings
            | Self::BadLimit { .. }
            | Self::BadDropout => codes::BAD_TASK,
            Self::SecAggTooManyParams { .. } => codes::BAD_MODEL,
            Self::NotCreator { .. } => codes::NOT_CREATOR,
            Self::BadStrategy(_) => codes::BAD_STRATEGY,
            Self::SecAggNeedsSumRule { .. } => codes::SECAGG_NEEDS_SUM_RULE,
            Self::InsufficientFunds { .. } => codes::INSUFFICIENT_FUNDS,
            Self::NotApproved { .. } => codes::NOT_APPROVED,
            Self::AlreadyStarted { .. } => codes::ALREADY_STARTED,
            Self::NotEnoughParticipants { .. } | Self::SecAggInfeasible(_) => {
                codes::NOT_ENOUGH_PARTICIPANTS
            }
            Self::TaskNotRunning { .. } => codes::TASK_NOT_RUNNING,
            Self::TaskFinished { .. } => codes::TASK_FINISHED,
            Self::WrongRound { .. } => codes::WRONG_ROUND,
            Self::RoundClosed { .. } => codes::ROUND_CLOSED,
            Self::NotParticipant { .. }
            | Self::NoKeys { .. }
            | Self::KeysNotShared { .. }
            | Self::NotSurvivor { .. } => codes::NOT_PARTICIPANT,
            Self::ConsentRevoked { .. } | Self::DatasetConsentRevoked { .. } => {
                codes::CONSENT_REVOKED
            }
            Self::DuplicateUpdate { .. }
            | Self::DuplicateKeys { .. }
            | Self::DuplicateShares { .. }
            | Self::DuplicateMasked { .. }
            | Self::DuplicateUnmask { .. } => codes::DUPLICATE_SUBMISSION,
            Self::BadParams(ParamError::WrongLength { .. }) | Self::MaskedShape { .. } => {
                codes::WRONG_SHAPE
            }
            Self::BadParams(ParamError::NonFinite { .. }) => codes::NON_FINITE,
            Self::BadParams(ParamError::OutOfRange { .. }) => codes::OUT_OF_RANGE,
            Self::BadExamples { .. } => codes::BAD_EXAMPLES,
            Self::UpdateNeedsPlainTask
            | Self::CloseNeedsPlainTask
            | Self::MessageNeedsSecAggTask
            | Self::AdvanceNeedsSecAggTask
            | Self::NoSecAgg => codes::WRONG_MODE,
            Self::WrongPhase { .. } => codes::WRONG_PHASE,
            Self::RoundDeadline { .. } | Self::PhaseDeadline { .. } | Self::StartTimeout { .. } => {
                codes::DEADLINE_NOT_PASSED
            }
            Self::TooFewSubmissions { .. } => codes::TOO_FEW_SUBMISSIONS,
            Self::MisaddressedShares { .. }
            | Self::BadRecipient
            | Self::ShareOutsideRequest { .. }
            | Self::DuplicateShareOwner { .. }
            | Self::ShareOutsideField => codes::BAD_SHARES,
            Self::BadQuery(_) => codes::BAD_QUERY,
        }
    }
}
