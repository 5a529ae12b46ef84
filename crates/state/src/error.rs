//! Transaction rejections (protocol values with stable codes) and module failures.

use counterweight_types::{ChainId, ModuleId};

/// Why a transaction is rejected: it is not included in a block, and nothing is stored.
///
/// Codes are stable protocol values shown to clients; never renumber a variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TxError {
    /// The bytes are not a canonical transaction encoding.
    #[error("malformed transaction: {reason}")]
    Malformed {
        /// What is wrong.
        reason: String,
    },
    /// The encoded transaction exceeds the size limit.
    #[error("transaction is {size} bytes, above the limit of {max}")]
    Oversized {
        /// Its size in bytes.
        size: usize,
        /// The limit in bytes.
        max: usize,
    },
    /// The transaction names another chain.
    #[error("transaction is for chain {got}, this chain is {expected}")]
    WrongChainId {
        /// This chain's id.
        expected: ChainId,
        /// The transaction's chain id.
        got: ChainId,
    },
    /// The signature does not verify against the sender's key.
    #[error("invalid signature")]
    BadSignature,
    /// The nonce was already used.
    #[error("nonce {got} already used; next nonce is {expected}")]
    NonceStale {
        /// The account's next nonce.
        expected: u64,
        /// The transaction's nonce.
        got: u64,
    },
    /// The nonce is ahead of the account's next nonce (by more than the allowed gap).
    #[error("nonce {got} is ahead of the next nonce {expected}")]
    NonceFuture {
        /// The account's next nonce.
        expected: u64,
        /// The transaction's nonce.
        got: u64,
    },
    /// The sender cannot pay the fee.
    #[error("balance {balance} cannot pay fee {fee}")]
    InsufficientBalance {
        /// The sender's balance.
        balance: u64,
        /// The fee.
        fee: u64,
    },
    /// The fee is below the chain's minimum.
    #[error("fee {fee} is below the minimum {min}")]
    FeeTooLow {
        /// The offered fee.
        fee: u64,
        /// The minimum fee.
        min: u64,
    },
    /// No module has this id.
    #[error("unknown module {0}")]
    UnknownModule(ModuleId),
}

impl TxError {
    /// Returns the stable numeric code of this rejection.
    pub fn code(&self) -> u32 {
        match self {
            Self::Malformed { .. } => 1,
            Self::Oversized { .. } => 2,
            Self::WrongChainId { .. } => 3,
            Self::BadSignature => 4,
            Self::NonceStale { .. } => 5,
            Self::NonceFuture { .. } => 6,
            Self::InsufficientBalance { .. } => 7,
            Self::FeeTooLow { .. } => 8,
            Self::UnknownModule(_) => 9,
        }
    }
}

/// A module's refusal of a call or genesis entry: a module-defined code and a message.
///
/// Inside a block this becomes a `Failed` receipt (fee charged, state changes discarded).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (code {code})")]
pub struct ModuleError {
    /// Module-defined code.
    pub code: u32,
    /// Human-readable reason.
    pub message: String,
}

impl ModuleError {
    /// Builds a module error.
    pub fn new(code: u32, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// A module's typed refusal: one enum per module, one variant per reason, with named fields.
///
/// [`Verdict::code`] maps each variant to its stable numeric code in one place; the receipt
/// carries that code and the variant's `Display` text, so receipts keep their wire form.
/// `?` turns a verdict into [`CallError::Failed`].
pub trait Verdict: std::error::Error {
    /// Returns the stable numeric code of this refusal (never renumber one).
    fn code(&self) -> u32;

    /// Returns the code and message a receipt carries.
    fn to_module_error(&self) -> ModuleError {
        ModuleError::new(self.code(), self.to_string())
    }
}

impl<V: Verdict> From<V> for CallError {
    fn from(verdict: V) -> Self {
        Self::Failed(verdict.to_module_error())
    }
}

/// How a module call ends when it does not succeed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// The call is refused: a protocol outcome recorded in the receipt.
    #[error(transparent)]
    Failed(#[from] ModuleError),
    /// Storage failed: fatal, the node stops.
    #[error(transparent)]
    Fatal(#[from] counterweight_storage_api::StorageError),
}

/// A fatal error while executing: storage failed, or a module broke an invariant.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading state failed.
    #[error(transparent)]
    Storage(#[from] counterweight_storage_api::StorageError),
    /// A module rejected the genesis document.
    #[error("module {module} rejected genesis: {source}")]
    Genesis {
        /// The module.
        module: &'static str,
        /// Its reason.
        #[source]
        source: ModuleError,
    },
    /// Two modules share an id.
    #[error("module id {0} registered twice")]
    DuplicateModule(ModuleId),
}

/// Result with this crate's [`enum@Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
