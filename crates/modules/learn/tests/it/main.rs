//! Integration tests: the learn module on a test chain with bank and coop.

mod codec;
mod plain;
mod refusals;
mod secagg;
mod security;
mod suite;
mod support;
