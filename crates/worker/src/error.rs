//! The worker's error type.

use counterweight_learn::RoundPhase;
use counterweight_types::Hash;

/// What stopped a worker or a transaction.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The node could not be reached or refused a request.
    #[error(transparent)]
    Rpc(#[from] counterweight_rpc_api::Error),
    /// A learn query failed.
    #[error("learn query {path}")]
    Query {
        /// The query path.
        path: &'static str,
        /// Why it failed.
        #[source]
        source: counterweight_rpc_api::Error,
    },
    /// The chain knows no task with this id.
    #[error("task {task} does not exist")]
    TaskNotFound {
        /// The task asked for.
        task: Hash,
    },
    /// The node reported a chain id that is not valid.
    #[error("the node sent an invalid chain id")]
    ChainId(#[source] counterweight_types::Error),
    /// The node acknowledged another transaction than the one sent.
    #[error("the node acknowledged a different transaction hash ({got})")]
    HashMismatch {
        /// The hash the node returned (hex).
        got: String,
    },
    /// The transaction was dropped before inclusion.
    #[error("transaction {hash} was dropped: {message} ({reason}, code {code})")]
    Dropped {
        /// The transaction.
        hash: Hash,
        /// The node's numeric code.
        code: u32,
        /// The node's reason.
        reason: String,
        /// The node's message.
        message: String,
    },
    /// The transaction did not reach a final block in time.
    #[error("transaction {hash} not final within {timeout_s} s")]
    NotFinal {
        /// The transaction.
        hash: Hash,
        /// The wait, seconds.
        timeout_s: u64,
    },
    /// The call failed in its block (the fee was charged).
    #[error("transaction failed in block {height}: {message} (code {code}); the fee was charged")]
    Failed {
        /// The block's height.
        height: u64,
        /// The module's stable code.
        code: u32,
        /// The module's message.
        message: String,
    },
    /// The task's architecture bytes do not decode.
    #[error("the task's architecture does not decode")]
    Architecture,
    /// A hex field from the node does not decode.
    #[error("the node sent malformed hex")]
    Hex(#[from] hex::FromHexError),
    /// Training, data or model shape.
    #[error(transparent)]
    Train(#[from] counterweight_train::Error),
    /// Fixed point, differential privacy, secure aggregation or an aggregation rule.
    #[error(transparent)]
    Fl(#[from] counterweight_fl::Error),
    /// The task ended without finishing (it failed or its creator cancelled it).
    #[error("task {task} ended: {status:?}")]
    TaskEnded {
        /// The task.
        task: counterweight_types::Hash,
        /// How it ended.
        status: counterweight_learn::TaskStatus,
    },
    /// The update does not fit the exact secure-aggregation encoding (refused, never clamped).
    #[error(transparent)]
    SecAggInput(#[from] counterweight_learn::SecAggInputError),
    /// The task did not change state within the timeout.
    #[error("no progress on task {task} for {timeout_s} s")]
    NoProgress {
        /// The task.
        task: Hash,
        /// The timeout, seconds.
        timeout_s: u64,
    },
    /// A secure-aggregation phase was not reached within the timeout.
    #[error("secure aggregation phase {phase} not reached within {timeout_s} s")]
    PhaseTimeout {
        /// The phase waited for.
        phase: RoundPhase,
        /// The timeout, seconds.
        timeout_s: u64,
    },
    /// A hyper-parameter does not fit in millionths.
    #[error("{what} must be in [0, 4294.967295], got {value}")]
    OutOfRange {
        /// Which parameter.
        what: &'static str,
        /// Its value.
        value: f64,
    },
    /// A strategy parameter does not fit in `u32`.
    #[error("parameter too large")]
    ParameterTooLarge,
    /// The aggregation rule has no on-chain implementation.
    #[error(
        "{name} is not available on chain (use fedavg, fedavgm, median, trimmed, krum, multikrum or bulyan)"
    )]
    NotOnChain {
        /// The rule's name.
        name: String,
    },
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
