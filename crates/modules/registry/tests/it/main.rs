//! Integration tests: the registry driven through the runtime, like a block would.

mod harness;
mod lineage;
mod publish;
mod repos;
mod tasks;
