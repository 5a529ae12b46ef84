//! Integration tests that run the real `counterweight` binary in temporary directories.

// Tests drive real processes and wait on the wall clock; they are off the consensus path.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

mod chain;
mod demo;
mod fl;
mod model;
mod network;
mod output;
mod support;
mod zk;

/// Every subcommand's argument definitions are consistent (clap checks names, ids and flags;
/// a clash such as a `--version` argument only panics when that subcommand is used).
#[test]
fn command_line_definitions_are_consistent() {
    use clap::CommandFactory as _;
    counterweight_cli::Cli::command().debug_assert();
}
