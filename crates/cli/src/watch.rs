//! `counterweight watch`: follow finalized blocks and their events as they happen.

use std::fmt::{self, Write as _};

use clap::Args as ClapArgs;
use counterweight_rpc_api::{BlockEvent, Error as RpcError};

use serde::Serialize;

use crate::chain_opts::RpcOpt;
use crate::query::render_receipt;
use crate::{Global, Output};

/// Follow finalized blocks over the node's event stream (until interrupted).
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Which node.
    #[command(flatten)]
    pub rpc: RpcOpt,
    /// Stop after this many blocks.
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
}

/// Run `watch`.
///
/// # Errors
/// An unreachable node, or a broken stream.
pub fn run(args: Args, global: &Global) -> anyhow::Result<Output> {
    let shell = global.shell();
    let client = args.rpc.client()?;
    let follower = client.follow_blocks()?;
    if !shell.is_json() {
        shell.status(format_args!(
            "following finalized blocks from {}",
            client.base_url()
        ))?;
    }
    let mut seen = 0u64;
    if args.count == Some(0) {
        return Ok(Output::nothing());
    }
    for item in follower {
        match item {
            Ok(block) => {
                shell.stream(&WatchedBlock(block))?;
                seen += 1;
                if args.count.is_some_and(|count| seen >= count) {
                    return Ok(Output::nothing());
                }
            }
            Err(RpcError::Lagged { missed }) => {
                tracing::warn!(target: "cli::watch", missed, "fell behind the node; blocks skipped");
                if !shell.is_json() {
                    shell.status(format_args!(
                        "(fell behind: {missed} blocks skipped; use `query block` to read them)"
                    ))?;
                }
            }
            Err(err) => return Err(err.into()),
        }
    }
    anyhow::bail!("the node closed the event stream")
}

/// One finalized block of the stream: a JSON line with `--json`, else a short report.
#[derive(Debug, Serialize)]
#[serde(transparent)]
struct WatchedBlock(BlockEvent);

impl fmt::Display for WatchedBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&render(&self.0))
    }
}

fn render(block: &BlockEvent) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "block {} {} txs {} root {}",
        block.height,
        block.hash,
        block.receipts.len(),
        block.state_root
    );
    for receipt in &block.receipts {
        let _ = writeln!(out, "  tx {}", receipt.tx_hash);
        render_receipt(&mut out, receipt, "    ");
    }
    out
}
