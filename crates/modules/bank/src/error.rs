//! The bank's refusals: one variant per reason, each with its stable code.

use counterweight_state::{MalformedCall, Verdict, query::BadQuery};
use counterweight_types::Hash;

/// Failure codes in receipts of bank calls (stable: never renumber one).
pub mod codes {
    /// The payer's balance is too small.
    pub const INSUFFICIENT_FUNDS: u32 = 1;
    /// No escrow has this id.
    pub const UNKNOWN_ESCROW: u32 = 2;
    /// Only the depositor may release or refund an escrow.
    pub const NOT_DEPOSITOR: u32 = 3;
    /// Amounts must be at least 1.
    pub const ZERO_AMOUNT: u32 = 4;
    /// The payload does not decode.
    pub const MALFORMED: u32 = 5;
    /// A balance would exceed `u64::MAX`.
    pub const OVERFLOW: u32 = 6;
    /// An escrow with this id already exists.
    pub const ESCROW_EXISTS: u32 = 7;
    /// Unknown query path or bad query argument.
    pub const BAD_QUERY: u32 = 8;
}

/// Why the bank refuses a call (or a query).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BankError {
    /// The payer's balance is too small.
    #[error("balance {have} is below {amount}")]
    InsufficientFunds {
        /// The payer's balance.
        have: u64,
        /// The amount asked for.
        amount: u64,
    },
    /// No escrow has this id.
    #[error("no escrow {id}")]
    UnknownEscrow {
        /// The escrow asked for.
        id: Hash,
    },
    /// Only the depositor may release or refund an escrow.
    #[error("only the depositor may release or refund")]
    NotDepositor,
    /// Amounts must be at least 1.
    #[error("amount must be at least 1")]
    ZeroAmount,
    /// The payload does not decode.
    #[error(transparent)]
    Malformed(#[from] MalformedCall),
    /// A balance would exceed `u64::MAX`.
    #[error("balance overflow")]
    Overflow,
    /// The genesis balances add up to more than `u64::MAX`.
    #[error("genesis supply overflows")]
    SupplyOverflow,
    /// An escrow with this id already exists.
    #[error("escrow {id} exists")]
    EscrowExists {
        /// The escrow's id.
        id: Hash,
    },
    /// Unknown query path or bad query argument.
    #[error(transparent)]
    BadQuery(#[from] BadQuery),
}

impl Verdict for BankError {
    fn code(&self) -> u32 {
        match self {
            Self::InsufficientFunds { .. } => codes::INSUFFICIENT_FUNDS,
            Self::UnknownEscrow { .. } => codes::UNKNOWN_ESCROW,
            Self::NotDepositor => codes::NOT_DEPOSITOR,
            Self::ZeroAmount => codes::ZERO_AMOUNT,
            Self::Malformed(_) => codes::MALFORMED,
            Self::Overflow | Self::SupplyOverflow => codes::OVERFLOW,
            Self::EscrowExists { .. } => codes::ESCROW_EXISTS,
            Self::BadQuery(_) => codes::BAD_QUERY,
        }
    }
}
