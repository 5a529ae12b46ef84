//! Integration tests: the identity module driven through the runtime over in-memory state.

mod credentials;
mod dids;
mod encoding;
mod queries;
mod suite;
mod support;
