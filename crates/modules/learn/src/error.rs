//! The learn module's refusals and their stable codes.

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
