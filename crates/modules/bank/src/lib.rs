//! Hold balances, move funds, charge fees and keep escrow accounts.
