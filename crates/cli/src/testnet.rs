//! `counterweight testnet init`: lay out a local validator network.

use clap::{Args as ClapArgs, Subcommand};
use counterweight_node::testnet::{self, TestnetPlan};
use std::path::PathBuf;

use crate::Global;

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
pub fn run(args: Args, global: &Global) -> anyhow::Result<()> {
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
            if global.json {
                let nodes: Vec<_> = homes
                    .iter()
                    .enumerate()
                    .map(|(i, h)| {
                        serde_json::json!({
                            "home": h.root(),
                            "p2p_port": init.base_port as usize + 2 * i,
                            "rpc_port": init.base_port as usize + 2 * i + 1,
                        })
                    })
                    .collect();
                println!("{}", serde_json::json!({ "nodes": nodes }));
            } else {
                println!(
                    "wrote {} validator homes under {}",
                    homes.len(),
                    init.out.display()
                );
                for (i, home) in homes.iter().enumerate() {
                    println!(
                        "  counterweight node --home {}   (rpc http://127.0.0.1:{})",
                        home.root().display(),
                        init.base_port as usize + 2 * i + 1
                    );
                }
            }
            Ok(())
        }
    }
}
