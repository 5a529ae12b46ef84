//! Hold balances, move funds, charge fees and keep escrow accounts.
//!
//! [`Bank`] is module 1: it handles [`BankCall`]s (transfer, escrow open/release/refund),
//! pays fees to block proposers (it is the runtime's `FeeHandler`) and writes the genesis
//! balances. Total supply — balances plus escrowed funds — is fixed at genesis and never
//! changes. Other modules move funds through the Rust API: [`transfer`], [`open_escrow`],
//! [`release_escrow`], [`refund_escrow`], [`balance`], [`escrow`].
//!
//! # Examples
//!
//! ```
//! use counterweight_bank::{BankCall, BANK_MODULE, ModuleCall as _};
//! use counterweight_types::{Address, Call};
//!
//! let call = Call {
//!     module: BANK_MODULE,
//!     payload: BankCall::Transfer { to: Address([2; 32]), amount: 5 }.to_payload(),
//! };
//! assert_eq!(
//!     BankCall::from_payload(&call.payload).unwrap(),
//!     BankCall::Transfer { to: Address([2; 32]), amount: 5 },
//! );
//! ```

mod bank;
mod call;
mod error;
mod events;
mod query;

pub use bank::{
    BANK_MODULE, Bank, FEE_POOL, balance, balance_state_key, escrow, escrow_id, open_escrow,
    refund_escrow, release_escrow, total_supply, transfer,
};
pub use call::{BankCall, Escrow};
pub use counterweight_state::ModuleCall;
pub use error::{BankError, codes};
pub use events::BankEvent;
pub use query::{BalanceView, EscrowView, SupplyView};
