//! The genesis document: chain id, validators, initial balances and chain parameters.

use serde::{Deserialize, Serialize};

use crate::{
    block::MAX_BLOCK_TXS,
    domain,
    primitives::{Address, ChainId, Hash},
};

/// Chain parameters fixed at genesis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    /// Minimum fee a transaction must offer.
    pub min_fee: u64,
    /// Most transactions a proposer puts in one block (at most [`MAX_BLOCK_TXS`]).
    pub max_block_txs: u32,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            min_fee: 1,
            max_block_txs: 10_000,
        }
    }
}

/// An account funded at genesis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisAccount {
    /// The account.
    pub address: Address,
    /// Its initial balance.
    pub balance: u64,
}

/// The genesis document every validator of a chain starts from (JSON on disk).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    /// The chain id.
    pub chain_id: ChainId,
    /// Timestamp of the genesis block, in milliseconds since the Unix epoch.
    #[serde(default)]
    pub genesis_time_ms: u64,
    /// The validators' ed25519 public keys.
    pub validators: Vec<Address>,
    /// Initial balances.
    #[serde(default)]
    pub accounts: Vec<GenesisAccount>,
    /// Chain parameters.
    #[serde(default)]
    pub params: Params,
}

/// Why a genesis document is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GenesisError {
    /// No validators are listed.
    #[error("genesis lists no validators")]
    NoValidators,
    /// A validator is listed twice.
    #[error("validator {0} is listed twice")]
    DuplicateValidator(Address),
    /// An account is listed twice.
    #[error("account {0} is listed twice")]
    DuplicateAccount(Address),
    /// The balances sum to more than `u64::MAX`.
    #[error("total supply overflows u64")]
    SupplyOverflow,
    /// `max_block_txs` is 0 or above the protocol limit.
    #[error("max_block_txs must be in 1..={max}, got {got}")]
    MaxBlockTxs {
        /// The protocol limit.
        max: usize,
        /// The configured value.
        got: u32,
    },
}

impl Genesis {
    /// Checks the document's invariants.
    ///
    /// # Errors
    /// The first [`GenesisError`] found.
    pub fn validate(&self) -> Result<(), GenesisError> {
        if self.validators.is_empty() {
            return Err(GenesisError::NoValidators);
        }
        let mut seen = std::collections::BTreeSet::new();
        for v in &self.validators {
            if !seen.insert(*v) {
                return Err(GenesisError::DuplicateValidator(*v));
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        let mut supply: u64 = 0;
        for a in &self.accounts {
            if !seen.insert(a.address) {
                return Err(GenesisError::DuplicateAccount(a.address));
            }
            supply = supply
                .checked_add(a.balance)
                .ok_or(GenesisError::SupplyOverflow)?;
        }
        let max_txs = self.params.max_block_txs;
        if max_txs == 0 || max_txs as usize > MAX_BLOCK_TXS {
            return Err(GenesisError::MaxBlockTxs {
                max: MAX_BLOCK_TXS,
                got: max_txs,
            });
        }
        Ok(())
    }

    /// Returns a hash identifying this document (of a canonical text form of every field).
    pub fn hash(&self) -> Hash {
        Hash::digest(domain::GENESIS, &[canonical_text(self).as_bytes()])
    }
}

/// Writes every field in a fixed order, so the hash does not depend on JSON formatting.
fn canonical_text(g: &Genesis) -> String {
    let mut out = format!(
        "chain_id={};time={};min_fee={};max_block_txs={};validators=",
        g.chain_id, g.genesis_time_ms, g.params.min_fee, g.params.max_block_txs
    );
    for v in &g.validators {
        out.push_str(&v.to_hex());
        out.push(',');
    }
    out.push_str(";accounts=");
    for a in &g.accounts {
        out.push_str(&a.address.to_hex());
        out.push(':');
        out.push_str(&a.balance.to_string());
        out.push(',');
    }
    out
}
