//! What a worker reports as it goes and when it is done.

use counterweight_learn::RoundPhase;
use counterweight_types::{Address, Hash};
use serde::Serialize;

/// What a worker reports as it goes.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum WorkerEvent {
    /// Waiting for the task to start or for a round this client takes part in.
    Waiting {
        /// The open round (0 before the start).
        round: u32,
    },
    /// The client is not a participant of the open round (e.g. consent revoked).
    Excluded {
        /// The round.
        round: u32,
    },
    /// Local training started.
    Training {
        /// The round.
        round: u32,
    },
    /// Local training finished.
    Trained {
        /// The round.
        round: u32,
        /// Wall time, ms.
        train_ms: u64,
        /// Mean local loss.
        loss: f64,
    },
    /// A secure-aggregation message was sent.
    SecAggPhase {
        /// The round.
        round: u32,
        /// The phase just completed by this client.
        phase: RoundPhase,
    },
    /// The update (or the last secure-aggregation message) is final on chain.
    Submitted {
        /// The round.
        round: u32,
        /// Wall time from the first send to finality, ms.
        submit_ms: u64,
    },
    /// The round this client contributed to was aggregated.
    Aggregated {
        /// The round.
        round: u32,
        /// New global weights hash.
        weights_hash: Hash,
        /// Wait from submission to aggregation, ms.
        wait_ms: u64,
    },
    /// The task finished; the reward was paid.
    Rewarded {
        /// Amount paid to this client.
        amount: u64,
    },
}

impl std::fmt::Display for WorkerEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Waiting { round } => write!(f, "waiting for round (open: {round})"),
            Self::Excluded { round } => write!(f, "not a participant of round {round}; waiting"),
            Self::Training { round } => write!(f, "round {round}: training"),
            Self::Trained {
                round,
                train_ms,
                loss,
            } => write!(
                f,
                "round {round}: trained in {train_ms} ms (loss {loss:.4})"
            ),
            Self::SecAggPhase { round, phase } => {
                write!(f, "round {round}: secure aggregation {phase} sent")
            }
            Self::Submitted { round, submit_ms } => write!(
                f,
                "round {round}: submitted ({submit_ms} ms); waiting for aggregate"
            ),
            Self::Aggregated {
                round,
                weights_hash,
                wait_ms,
            } => write!(
                f,
                "round {round}: aggregated {weights_hash} (+{wait_ms} ms)"
            ),
            Self::Rewarded { amount } => write!(f, "task finished: rewarded {amount}"),
        }
    }
}

/// Per-round timings of one worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoundTiming {
    /// The round.
    pub round: u32,
    /// Local training, ms.
    pub train_ms: u64,
    /// Sending until finality of the update (all secure-aggregation phases included), ms.
    pub submit_ms: u64,
    /// From submission until the aggregate appeared, ms.
    pub wait_ms: u64,
}

/// What a worker did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkerReport {
    /// The client's account.
    pub address: Address,
    /// Rounds it contributed to.
    pub rounds: Vec<RoundTiming>,
    /// Its reward.
    pub reward: u64,
    /// The final global weights hash.
    pub weights_hash: Hash,
}

impl std::fmt::Display for WorkerReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} contributed to {} rounds; reward {}; final weights {}",
            self.address,
            self.rounds.len(),
            self.reward,
            self.weights_hash
        )
    }
}
