//! Integration tests: the learn module driven through a `Runtime` with bank and coop.

mod codec;
mod plain;
mod refusals;
mod secagg;
mod support;
