//! Integration tests of the bank module through its public API.

mod suite;
mod supply;

use std::sync::Arc;

use counterweight_bank::Bank;
use counterweight_state::test_utils::TestChain;
use counterweight_types::Address;

/// Accounts `addr(0)..addr(ACCOUNTS)` are funded with `1_000 * (i + 1)`.
pub(crate) const ACCOUNTS: usize = 4;

pub(crate) fn addr(i: usize) -> Address {
    Address([u8::try_from(i).expect("small index") + 1; 32])
}

/// A chain with the bank (as module and fee handler), accounts funded, proposer `addr(ACCOUNTS)`.
pub(crate) fn chain() -> TestChain {
    let bank = Arc::new(Bank);
    (0..ACCOUNTS)
        .fold(TestChain::builder(bank.clone()).module(bank), |b, i| {
            b.account(addr(i), 1_000 * (i as u64 + 1))
        })
        .chain_id("prop")
        .proposer(addr(ACCOUNTS))
        .build()
}
