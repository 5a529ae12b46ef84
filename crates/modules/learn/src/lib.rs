//! Run federated training tasks on chain: rounds, updates, secure aggregation and rewards.
//!
//! [`Learn`] is module 4. A member of a cooperative opens a task ([`LearnCall::OpenTask`])
//! naming the coop's datasets, the model (the `model` crate's canonical architecture
//! encoding plus initial f32 parameters), the number of rounds, the aggregation rule
//! ([`TaskStrategy`], run by the `fl` crate in Q16.16 fixed point), optional secure
//! aggregation and client-side differential privacy, and a reward pool that moves into the
//! task's keyless escrow account ([`task_escrow_account`]). Once the coop approves the task,
//! anyone sends [`LearnCall::Start`] and round 1 opens.
//!
//! # Rounds
//! The participants of a round are the owners of the task's datasets who are still members
//! and whose datasets allow training and are not revoked, evaluated when the round opens and
//! re-checked at every message (a revoked consent excludes the owner from every later round).
//! Clients are numbered by their position in the address-ordered participant list.
//!
//! - **Plain**: each participant submits its locally trained model (full parameters, f32
//!   little-endian, converted on chain to Q16.16 with integer operations only) and its
//!   example count. The round closes in the transaction that brings the last update, or by
//!   [`LearnCall::CloseRound`] after the deadline with at least `min_clients` updates.
//! - **Secure aggregation** (SecAgg+ from the `fl` crate): participants send
//!   `AdvertiseKeys`, `ShareKeys`, `MaskedInput` (the masked vector of [`secagg_input`]:
//!   every `n·w` exactly, as two limbs, then `n`) and
//!   `UnmaskShares`; each phase advances in the transaction that completes it, or by
//!   [`LearnCall::Advance`] after the phase deadline with the clients present (dropouts are
//!   recovered from the shares). At the end every validator replays the messages through
//!   `SecAggServer` and divides the exact sum into the sample-weighted average.
//!
//! At close the new global parameters and their hash ([`weights_hash`]) are stored and a
//! `round_aggregated` event is emitted. A round whose aggregation fails (too many dropouts,
//! inconsistent shares, a rule that needs more updates, too few updates by the deadline)
//! reopens as a new attempt; after `max_attempts` failed attempts the task ends.
//!
//! # Limits on any one client
//! A client declares at most its datasets' committed records (fixed when committed, so the
//! coop's vote approving the task approves them) and at most the task's
//! `max_examples_per_client` ([`MAX_EXAMPLES_PER_CLIENT`] at most, so a round's total never
//! exceeds the `fl` limit). No client holds more than `max_client_share_bps` of a round's
//! aggregate weight.
//!
//! # Scores and rewards
//! Each aggregated round shares [`ROUND_POINTS`] among its contributors: plain rounds half
//! by examples and half by leave-one-out influence (the distance between the rule's result
//! with and without the update); secure rounds by the contributors' dataset records (the
//! individual updates are hidden). When the task finishes, the coop's revenue share of the
//! pool goes to its treasury and the rest to contributors by points; integer-division
//! remainders go to the treasury. A task that ends before its last round pays out only
//! the part its aggregated rounds earned and returns the rest to its creator; a task that
//! aggregates no round (status `failed`) or is cancelled before it starts
//! ([`LearnCall::Cancel`], after `start_timeout_ms`) returns the whole pool.
//!
//! # Examples
//!
//! ```
//! use counterweight_learn::{LEARN_MODULE, LearnCall, ModuleCall as _};
//! use counterweight_types::{Call, Hash};
//!
//! let call = Call {
//!     module: LEARN_MODULE,
//!     payload: LearnCall::Start { task: Hash([7; 32]) }.to_payload(),
//! };
//! assert_eq!(
//!     LearnCall::from_payload(&call.payload).unwrap(),
//!     LearnCall::Start { task: Hash([7; 32]) },
//! );
//! ```

mod aggregate;
mod arch;
mod call;
mod error;
mod events;
mod fixed;
mod learn;
mod participants;
mod plain;
mod query;
mod rewards;
mod secagg;
mod status;
mod store;
mod task;

pub use aggregate::{
    MAX_SECAGG_PARAMS, ROUND_POINTS, SECAGG_LIMB_BITS, SecAggInputError, momentum_step,
    secagg_config, secagg_dim, secagg_input, weighted_average,
};
pub use arch::decode_architecture;
pub use call::{
    DEFAULT_MAX_ATTEMPTS, DEFAULT_START_TIMEOUT_MS, DpParams, FULL_SHARE_BPS, LearnCall,
    MAX_ARCH_BYTES, MAX_ATTEMPTS, MAX_CIPHERTEXT_BYTES, MAX_DATASETS, MAX_EXAMPLES_PER_CLIENT,
    MAX_PARAMS, MAX_PAYLOAD_BYTES, MAX_ROUNDS, MAX_SHARES, SecAggParams, ShareOf, ShareTo,
    TaskSpec, TaskStrategy, TrainHints,
};
pub use counterweight_state::ModuleCall;
pub use error::{LearnError, codes};
pub use events::LearnEvent;
pub use fixed::{ParamError, arch_hash, q16_from_f32_bits, q16_from_f32_le, weights_hash};
pub use learn::{LEARN_MODULE, Learn};
pub use query::{
    GlobalView, HistoryView, InboxEntry, ParticipantView, PayoutView, RewardsView, RosterEntry,
    RoundView, SecAggView, TaskView,
};
pub use status::{RoundPhase, TaskStatus};
pub use task::{
    FinishedModel, TASK_ESCROW_ACCOUNT, finished_model, global_params, task_escrow_account, task_id,
};
