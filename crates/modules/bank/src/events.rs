//! The bank's events, as they appear in receipts and the audit log.

use counterweight_state::ModuleEvent;
use counterweight_types::{Address, Hash};
use serde::Serialize;

/// An event of the bank module.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum BankEvent {
    /// Funds moved between accounts.
    Transfer {
        /// The payer.
        from: Address,
        /// The payee.
        to: Address,
        /// The amount.
        amount: u64,
    },
    /// An escrow was opened.
    EscrowOpen {
        /// The escrow.
        id: Hash,
        /// Who locked the funds.
        depositor: Address,
        /// The amount locked.
        amount: u64,
    },
    /// An escrow was paid out.
    EscrowRelease {
        /// The escrow.
        id: Hash,
        /// The payee.
        to: Address,
        /// The amount paid.
        amount: u64,
    },
    /// An escrow went back to its depositor.
    EscrowRefund {
        /// The escrow.
        id: Hash,
        /// The amount returned.
        amount: u64,
    },
}

impl ModuleEvent for BankEvent {}
