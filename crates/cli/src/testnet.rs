//! `counterweight testnet init`: lay out a local validator network.

use clap::{Args as ClapArgs, Subcommand};
use counterweight_node::testnet::{self, TestnetPlan};
use std::{fmt, path::PathBuf};

use serde::Serialize;

use crate::{Global, Output};

/// Local test networks.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    pub command: TestnetCommand,
}

/// `testnet` subcommands.
#[derive(Debug, Subcommand)]
pub enum TestnetCommand {
    /// Write genesis, validator keys and per-node configs (loopback ports) to `--out`.
    Init(InitArgs),
}

/// Arguments of `testnet init`.
#[derive(Debug, ClapArgs)]
pub struct InitArgs {
    /// Number of validators.
    #[arg(long, default_value_t = 4)]
    pub validators: usize,
    /// Output directory; node `i` gets `<out>/<i>`.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Chain id.
    #[arg(long, default_value = "counterweight-local")]
    pub chain_id: String,
    /// First port: node `i` uses `base + 2i` (p2p) and `base + 2i + 1` (RPC).
    #[arg(long, default_value_t = 27_000)]
    pub base_port: u16,
    /// Funded dev accounts (keys derived from public seeds: local use only).
    #[arg(long, default_value_t = 16)]
    pub accounts: u64,
    /// Minimum milliseconds between blocks.
    #[arg(long, default_value_t = counterweight_node::testnet::TESTNET_BLOCK_INTERVAL_MS)]
    pub block_interval_ms: u64,
}

/// Run `counterweight testnet ...`.
///
/// # Errors
/// Bad arguments or I/O errors.
pub fn run(args: Args, _global: &Global) -> anyhow::Result<Output> {
    match args.command {
        TestnetCommand::Init(init) => {
            let plan = TestnetPlan {
                chain_id: init.chain_id,
                validators: init.validators,
                dev_accounts: init.accounts,
                base_port: init.base_port,
                min_block_interval_ms: init.block_interval_ms,
                ..TestnetPlan::default()
            };
            let homes = testnet::init(&init.out, &plan)?;
            let laid_out = Testnet {
                out: init.out.clone(),
                nodes: homes
                    .iter()
                    .enumerate()
                    .map(|(i, h)| TestnetNode {
                        home: h.root().to_path_buf(),
                        p2p_port: init.base_port as usize + 2 * i,
                        rpc_port: init.base_port as usize + 2 * i + 1,
                    })
                    .collect(),
            };
            Ok(Output::new(&laid_out)?)
        }
    }
}

/// The validator homes `testnet init` wrote.
#[derive(Debug, Serialize)]
struct Testnet {
    #[serde(skip)]
    out: PathBuf,
    nodes: Vec<TestnetNode>,
}

/// One validator home and its ports.
#[derive(Debug, Serialize)]
struct TestnetNode {
    home: PathBuf,
    p2p_port: usize,
    rpc_port: usize,
}

impl fmt::Display for Testnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "wrote {} validator homes under {}",
            self.nodes.len(),
            self.out.display()
        )?;
        for node in &self.nodes {
            write!(
                f,
                "\n  counterweight node --home {}   (rpc http://127.0.0.1:{})",
                node.home.display(),
                node.rpc_port
            )?;
        }
        Ok(())
    }
}
