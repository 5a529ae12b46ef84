//! Encoding tests: round trips, limits, malformed input and golden fixtures.

mod codec;
mod golden;
mod strategies;
