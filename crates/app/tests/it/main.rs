//! Integration tests of the application through its public API.

mod blocks;
mod check_tx;
mod durability;
mod golden;
mod support;
