//! Integration tests of the blob store through its public API.

mod config;
mod store;
