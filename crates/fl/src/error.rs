//! The crate's error type.

use crate::update::ClientId;

/// Everything that can go wrong while converting, validating, aggregating, privatising or
/// securely summing updates.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
#[non_exhaustive]
pub enum Error {
    /// A float was NaN or infinite.
    #[error("value at index {index} is not finite")]
    NonFinite {
        /// Position of the value in its vector.
        index: usize,
    },
    /// A float does not fit the Q16.16 range [-32768, 32768).
    #[error("value at index {index} is outside the Q16.16 range [-32768, 32768)")]
    OutOfRange {
        /// Position of the value in its vector.
        index: usize,
    },
    /// A round received no (valid) updates.
    #[error("no valid updates to aggregate")]
    NoUpdates,
    /// An update's parameter vector has the wrong length.
    #[error("update from client {client} has {got} parameters, expected {expected}")]
    WrongShape {
        /// The offending client.
        client: ClientId,
        /// Expected number of parameters.
        expected: usize,
        /// Received number of parameters.
        got: usize,
    },
    /// An update claims zero training samples.
    #[error("update from client {client} reports zero samples")]
    ZeroSamples {
        /// The offending client.
        client: ClientId,
    },
    /// The total sample count of a round exceeds [`crate::MAX_TOTAL_SAMPLES`].
    #[error("total sample count {total} exceeds the limit {limit}")]
    TooManySamples {
        /// Total reported samples.
        total: u64,
        /// The limit.
        limit: u64,
    },
    /// Two updates came from the same client.
    #[error("duplicate update from client {client}")]
    DuplicateClient {
        /// The repeated client.
        client: ClientId,
    },
    /// A client not enrolled in the round submitted something.
    #[error("client {client} is not part of this round")]
    UnknownClient {
        /// The stranger.
        client: ClientId,
    },
    /// A strategy parameter is invalid for the number of updates it received.
    #[error("{strategy}: {reason}")]
    InvalidParameters {
        /// Strategy or protocol name.
        strategy: &'static str,
        /// What is wrong, in words.
        reason: String,
    },
    /// Bulyan needs n ≥ 4f + 3 updates.
    #[error("bulyan with f = {f} needs at least {needed} updates (n >= 4f + 3), got {got}")]
    BulyanTooFewUpdates {
        /// Tolerated Byzantine clients.
        f: usize,
        /// Updates needed.
        needed: usize,
        /// Updates received.
        got: usize,
    },
    /// Krum needs n ≥ 2f + 3 updates.
    #[error("krum with f = {f} needs at least {needed} updates (n >= 2f + 3), got {got}")]
    KrumTooFewUpdates {
        /// Tolerated Byzantine clients.
        f: usize,
        /// Updates needed.
        needed: usize,
        /// Updates received.
        got: usize,
    },
    /// QFedAvg needs every update to carry a loss.
    #[error("update from client {client} carries no loss, which qfedavg needs")]
    MissingLoss {
        /// The offending client.
        client: ClientId,
    },
    /// A state-machine call arrived in the wrong phase.
    #[error("{action} is not allowed in phase {phase}")]
    WrongPhase {
        /// What was attempted.
        action: &'static str,
        /// The current phase.
        phase: &'static str,
    },
    /// Fewer updates than the round's minimum arrived.
    #[error("round closed with {got} updates, needs at least {min}")]
    TooFewUpdates {
        /// Minimum required.
        min: usize,
        /// Received.
        got: usize,
    },
    /// Secure aggregation lost too many clients to recover the sum.
    #[error("secure aggregation cannot complete: {reason}")]
    TooManyDropouts {
        /// Which recovery step failed.
        reason: String,
    },
    /// A secure-aggregation message failed to decrypt or verify.
    #[error("secure aggregation message from {from} to {to} failed authentication")]
    BadCiphertext {
        /// Sender.
        from: ClientId,
        /// Receiver.
        to: ClientId,
    },
    /// A secure-aggregation message is malformed.
    #[error("malformed secure aggregation message: {reason}")]
    Malformed {
        /// What is wrong.
        reason: &'static str,
    },
    /// A parameter is too large for secure aggregation's 32-bit ring.
    #[error("parameter at index {index} exceeds the secure-aggregation bound ±{limit}")]
    SecAggParamTooLarge {
        /// Position of the value.
        index: usize,
        /// Largest allowed magnitude.
        limit: i32,
    },
    /// Differential-privacy parameters are invalid.
    #[error("invalid differential-privacy parameter: {reason}")]
    InvalidDp {
        /// What is wrong.
        reason: &'static str,
    },
}

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
