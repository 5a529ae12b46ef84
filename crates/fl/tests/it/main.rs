//! Integration tests of the public API.

mod determinism;
mod reference;
