//! Aggregate federated-learning updates deterministically in fixed point.
//!
//! This crate is the learning core shared by the simulator (`counterweight fl simulate`) and
//! the on-chain `learn` module, where every validator recomputes the aggregate inside the state
//! transition. Everything a validator recomputes is integer arithmetic with specified rounding:
//! no floats, no clock, no ambient randomness, no hash-map iteration, and no threads unless a
//! caller opts into [`Exec::Parallel`], which yields the same bits.
//!
//! # Fixed point
//! Parameters are `i32` in **Q16.16** ([`FRAC_BITS`] = 16): a float `x` is stored as
//! `round_half_even(x · 2^16)`, so the range is `[-32768, 32768)` with resolution `2^-16`.
//! [`fixed::quantize`] rejects NaN/±inf ([`Error::NonFinite`]) and out-of-range values
//! ([`Error::OutOfRange`]) with their index.
//!
//! # Rounding rules
//! - Every division rounds half to even; products of Q16.16 values are computed in `i64` or
//!   `i128` and shifted back by 16 bits with round-half-to-even.
//! - Results that can leave the `i32` range (server optimisers, QFedAvg) saturate.
//! - [`FedAvg`]: `round_half_even(Σ n_i x_i / Σ n_i)` computed exactly (≤ 2^-17 from the exact
//!   weighted mean of the inputs); the total sample count is limited to [`MAX_TOTAL_SAMPLES`].
//! - [`FedMedian`], [`FedTrimmedAvg`], [`Bulyan`]: per coordinate, sort the values and take the
//!   round-half-even mean of a contiguous range of sorted positions (unweighted).
//! - [`Krum`], [`MultiKrum`], [`Bulyan`]: exact `u128` squared distances; ties go to the lower
//!   client id. Multi-Krum averages its selection with FedAvg.
//! - Server optimisers keep moments in Q.32 (see [`FedAdam`]).
//!
//! Updates carry the clients' full locally trained models ([`Update`]); aggregators order them
//! by [`ClientId`] first, so results do not depend on arrival order.
//!
//! # Around the aggregators
//! - [`round`]: the sans-IO round state machine (open → validated updates or secure-aggregation
//!   phases → close → aggregate); a round with no valid update is an error.
//! - [`secagg`]: SecAgg+ secure aggregation (X25519, ChaCha20 masks over Z_2^32, Shamir
//!   sharing, dropout recovery); parameters are validated before a round starts.
//! - [`dp`]: client-side clipping and Gaussian noise, adaptive clipping and an RDP accountant
//!   (client-side, float, seeded RNG passed in; never recomputed by validators).
//! - [`detect`]: deterministic poisoning and sybil scores and flags.
//! - [`prox`]: the FedProx proximal term for local training.
//!
//! # Examples
//! ```
//! use counterweight_fl::{Aggregator, ClientId, FedAvg, Update, fixed};
//!
//! let global = fixed::quantize(&[0.0, 0.0])?;
//! let updates = [
//!     Update::from_f32(ClientId(1), 30, &[1.0, -2.0])?,
//!     Update::from_f32(ClientId(2), 10, &[3.0, 2.0])?,
//! ];
//! let next = FedAvg::new().aggregate(&global, &updates)?;
//! assert_eq!(fixed::dequantize(&next), vec![1.5, -1.0]);
//! # Ok::<(), counterweight_fl::Error>(())
//! ```

mod aggregator;
pub mod detect;
pub mod dp;
mod error;
pub mod fixed;
pub mod prox;
pub mod round;
pub mod secagg;
mod strategy;
mod update;

pub use aggregator::{Aggregator, Exec, FedOptConfig, Strategy};
pub use error::{Error, Result};
pub use fixed::FRAC_BITS;
pub use strategy::{
    Bulyan, FedAdagrad, FedAdam, FedAvg, FedAvgM, FedMedian, FedOptParams, FedTrimmedAvg, FedYogi,
    Krum, MultiKrum, QFedAvg,
};
pub use update::{ClientId, MAX_TOTAL_SAMPLES, Update, validate};
