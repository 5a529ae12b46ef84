//! The bank's queries: typed views, `null` for what does not exist.

use counterweight_state::{
    CallError,
    query::{answer, hash_arg, unknown_path},
};
use counterweight_storage_api::StateReader;
use counterweight_types::{Address, Hash};
use serde::{Deserialize, Serialize};

use crate::{BankError, balance, escrow, total_supply};

/// The answer to `balance` (argument: the 32-byte address).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceView {
    /// The account.
    pub address: Address,
    /// Its balance (0 for an unknown account).
    pub balance: u64,
}

/// The answer to `supply`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplyView {
    /// Balances plus escrowed funds, fixed at genesis.
    pub supply: u64,
}

/// The answer to `escrow` (argument: the 32-byte escrow id); `null` if it is not open.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscrowView {
    /// Who locked the funds.
    pub depositor: Address,
    /// The amount locked.
    pub amount: u64,
}

const PATHS: &str = "balance, supply or escrow";

pub(crate) fn answer_query(
    state: &dyn StateReader,
    path: &str,
    data: &[u8],
) -> Result<Vec<u8>, CallError> {
    let arg = || hash_arg(data).map_err(BankError::from);
    match path {
        "balance" => {
            let address = Address(arg()?);
            answer(&BalanceView {
                address,
                balance: balance(state, &address)?,
            })
        }
        "supply" => answer(&SupplyView {
            supply: total_supply(state)?,
        }),
        "escrow" => answer(&escrow(state, &Hash(arg()?))?.map(|e| EscrowView {
            depositor: e.depositor,
            amount: e.amount,
        })),
        other => Err(BankError::from(unknown_path(other, PATHS)).into()),
    }
}
