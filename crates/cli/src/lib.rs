//! Implement the counterweight command-line interface.
//!
//! Every subcommand lives in its own module with an `Args` type (clap derive) and a
//! `run(args, &Global) -> anyhow::Result<Output>` function; this file only wires them
//! together. A command returns its result instead of printing it: the binary prints the
//! [`Output`] once through [`Shell::print`], readable by default and as one JSON document with
//! `--json`. Streaming commands (`watch`, `node`, `devnet`) write records through
//! [`Shell::stream`] as they happen and return [`Output::nothing`]; progress goes to stderr.

// The CLI is off the consensus path: it may read the clock and use hash maps.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use clap::{Args, Parser, Subcommand};

pub use output::{Output, Shell};

// Chain client commands and the account keystore.
pub mod audit;
pub mod bench_chain;
pub mod chain_opts;
pub mod coop;
// The demo narrates its steps on stdout until it returns an `Output` like the other commands.
#[allow(clippy::print_stdout)]
pub mod demo;
pub mod devnet;
pub mod fl_sim;
pub mod identity;
pub mod keys;
pub mod keystore;
pub mod learn;
pub mod model;
pub mod node_cmd;
pub mod output;
pub mod query;
pub mod submit;
pub mod testnet;
pub mod transfer;
pub mod tx;
pub mod watch;
pub mod zk;

/// Options shared by every subcommand.
#[derive(Debug, Clone, Args)]
pub struct Global {
    /// Print machine-readable JSON instead of human-readable output.
    #[arg(long, global = true)]
    pub json: bool,
    /// Log filter (tracing env-filter syntax), e.g. `info` or `counterweight=debug`.
    #[arg(long, global = true, env = "COUNTERWEIGHT_LOG", default_value = "warn")]
    pub log: String,
    /// Emit logs as JSON lines.
    #[arg(long, global = true)]
    pub log_json: bool,
}

impl Global {
    /// The shell commands write through, in the chosen format.
    pub fn shell(&self) -> Shell {
        Shell::new(self.json)
    }
}

/// Counterweight: decentralized intelligence on a chain no single party controls.
#[derive(Debug, Parser)]
#[command(name = "counterweight", version, about, propagate_version = true)]
pub struct Cli {
    /// Options shared by every subcommand.
    #[command(flatten)]
    pub global: Global,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    // Variants, one per command family, each pointing at its own module.
    // <variants>
    /// Run the whole story on an embedded devnet: a cooperative trains a model together.
    Demo(demo::Args),
    /// Model registry: repositories, versions, forks, lineage; push and pull weights blobs.
    Model(model::Args),
    /// Federated training tasks on chain: open, start, inspect, and join as a client worker.
    Learn(learn::Args),
    /// DIDs, key rotation and recovery, credential issuers, verifiable credentials.
    Identity(identity::Args),
    /// The audit log: prove that an event happened, and check such proofs offline.
    Audit(audit::Args),
    /// Found and run data cooperatives: members, datasets and consent, votes, treasury.
    Coop(coop::Args),
    /// Run a one-validator development network with funded dev accounts.
    Devnet(devnet::Args),
    /// Run one validator process from its home directory.
    Node(node_cmd::Args),
    /// Lay out a local multi-validator network.
    Testnet(testnet::Args),
    /// Measure the chain: finalized transfers per second and finality latency.
    Bench(bench_chain::Args),
    /// Federated learning on real data: simulate a federation, measure robustness.
    Fl(fl_sim::Args),
    /// Manage account keys (ed25519) in the home directory's keystore.
    Keys(keys::Args),
    /// Read accounts, blocks, transactions, state proofs and status from a node.
    Query(query::Args),
    /// Submit an already signed transaction (hex), e.g. from `transfer --sign-only`.
    Submit(submit::Args),
    /// Send tokens from a keystore account (a signed bank transfer).
    Transfer(transfer::Args),
    /// Follow finalized blocks and their events.
    Watch(watch::Args),
    /// Zero-knowledge proofs of model inference: register, prove, verify.
    Zk(zk::Args),
}

/// Install the tracing subscriber for the binary (logs go to stderr).
pub fn init_tracing(global: &Global) {
    let filter = tracing_subscriber::EnvFilter::try_new(&global.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if global.log_json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Run one parsed command line and return what it has to say; print it with
/// [`Shell::print`].
///
/// # Errors
/// Whatever the command reports; the binary prints it as one line and exits non-zero.
pub fn run(cli: Cli) -> anyhow::Result<Output> {
    let Cli { global, command } = cli;
    match command {
        // <arms>
        Command::Demo(args) => demo::run(args, &global),
        Command::Model(args) => model::run(args, &global),
        Command::Learn(args) => learn::run(args, &global),
        Command::Identity(args) => identity::run(args, &global),
        Command::Audit(args) => audit::run(args, &global),
        Command::Coop(args) => coop::run(args, &global),
        Command::Devnet(args) => devnet::run(args, &global),
        Command::Node(args) => node_cmd::run(args, &global),
        Command::Testnet(args) => testnet::run(args, &global),
        Command::Bench(args) => bench_chain::run(args, &global),
        Command::Fl(args) => fl_sim::run(args, &global),
        Command::Keys(args) => keys::run(args, &global),
        Command::Query(args) => query::run(args, &global),
        Command::Submit(args) => submit::run(args, &global),
        Command::Transfer(args) => transfer::run(args, &global),
        Command::Watch(args) => watch::run(args, &global),
        Command::Zk(args) => zk::run(args, &global),
    }
}
