//! The learn module's events, as they appear in receipts and the audit log.

use counterweight_state::ModuleEvent;
use counterweight_types::{Address, Hash};
use serde::Serialize;

use crate::status::RoundPhase;

/// An event of the learn module.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum LearnEvent {
    /// A task was opened and its reward pool escrowed.
    TaskOpened {
        /// The task.
        task: Hash,
        /// Its cooperative.
        coop: Hash,
        /// Who opened it.
        creator: Address,
        /// Datasets named.
        datasets: usize,
        /// Rounds to run.
        rounds: u32,
        /// The aggregation rule's name.
        strategy: &'static str,
        /// Whether it uses secure aggregation.
        secagg: bool,
        /// The reward pool.
        reward: u64,
        /// Architecture hash.
        arch_hash: Hash,
        /// Initial weights hash.
        weights_hash: Hash,
    },
    /// A task started.
    TaskStarted {
        /// The task.
        task: Hash,
    },
    /// A round (or a new attempt of it) opened.
    RoundOpened {
        /// The task.
        task: Hash,
        /// The round.
        round: u32,
        /// The attempt.
        attempt: u32,
        /// Its participants.
        participants: usize,
        /// Its first phase.
        phase: RoundPhase,
        /// Block time after which it may be closed or advanced.
        deadline_ms: u64,
    },
    /// A plain update was accepted.
    UpdateAccepted {
        /// The task.
        task: Hash,
        /// The round.
        round: u32,
        /// The sender.
        client: Address,
        /// Its example count.
        examples: u32,
        /// Hash of its Q16.16 parameters.
        update_hash: Hash,
    },
    /// A client advertised its keys.
    SecaggKeys {
        /// The task.
        task: Hash,
        /// The round.
        round: u32,
        /// The sender.
        client: Address,
    },
    /// A client shared its keys.
    SecaggShares {
        /// The task.
        task: Hash,
        /// The round.
        round: u32,
        /// The sender.
        client: Address,
    },
    /// A client sent its masked input.
    SecaggMasked {
        /// The task.
        task: Hash,
        /// The round.
        round: u32,
        /// The sender.
        client: Address,
    },
    /// A client sent its unmask shares.
    SecaggUnmask {
        /// The task.
        task: Hash,
        /// The round.
        round: u32,
        /// The sender.
        client: Address,
    },
    /// A secure-aggregation round moved to its next phase.
    SecaggPhase {
        /// The task.
        task: Hash,
        /// The round.
        round: u32,
        /// The new phase.
        phase: RoundPhase,
        /// Clients still present.
        clients: usize,
    },
    /// A round's aggregation failed; it reopens as a new attempt.
    RoundFailed {
        /// The task.
        task: Hash,
        /// The round.
        round: u32,
        /// Why (at most 200 bytes).
        reason: String,
    },
    /// A round was aggregated into new global weights.
    RoundAggregated {
        /// The task.
        task: Hash,
        /// The round.
        round: u32,
        /// The new global weights hash.
        weights_hash: Hash,
        /// Clients whose updates are in the aggregate.
        contributors: usize,
        /// The round's participants.
        participants: usize,
        /// Examples aggregated.
        examples: u64,
        /// The aggregation rule's name.
        strategy: &'static str,
    },
    /// A task finished.
    TaskFinished {
        /// The task.
        task: Hash,
        /// Rounds aggregated.
        rounds: u32,
        /// The final weights hash.
        weights_hash: Hash,
        /// Why it finished.
        reason: String,
    },
    /// A contributor was paid (only while a task has at most ten payees).
    RewardPaid {
        /// The task.
        task: Hash,
        /// The payee.
        to: Address,
        /// The amount.
        amount: u64,
        /// Its points.
        points: u64,
    },
    /// A task's reward pool was paid out.
    RewardsSettled {
        /// The task.
        task: Hash,
        /// The pool.
        pool: u64,
        /// The treasury.
        treasury: Address,
        /// What the treasury received (its share and the remainders).
        treasury_amount: u64,
        /// Contributors paid.
        payees: usize,
        /// Digest of every payout.
        payouts_digest: Hash,
        /// What returned to the creator (the part of the pool no aggregated round earned).
        refunded: u64,
    },
    /// The creator cancelled a task that never started.
    TaskCancelled {
        /// The task.
        task: Hash,
        /// The pool returned to the creator.
        refunded: u64,
    },
}

impl ModuleEvent for LearnEvent {}
