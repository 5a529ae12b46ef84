//! Integration tests of the train crate's public API on the bundled real data.

mod data;
mod training;
