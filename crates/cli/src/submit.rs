//! `counterweight submit`: send an already signed transaction (hex) to a node.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::Args as ClapArgs;
use counterweight_rpc_api::{SubmitTxRequest, TxEncoding, TxStatusResponse};
use counterweight_types::Hash;
use serde::Serialize;

use crate::chain_opts::RpcOpt;
use crate::transfer::{check_receipt, wait_for};
use crate::{Global, Output};

/// Largest file read by `--file`, in bytes (twice the node's body limit: the node decides).
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Submit a signed transaction's canonical bytes, written as hex (e.g. from
/// `transfer --sign-only`). The node checks everything; its verdict is printed.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Which node.
    #[command(flatten)]
    pub rpc: RpcOpt,
    /// The transaction as hex.
    #[arg(
        value_name = "HEX",
        required_unless_present = "file",
        conflicts_with = "file"
    )]
    pub tx: Option<String>,
    /// Read the hex from this file instead.
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// Wait until the transaction is finalized (or dropped).
    #[arg(long)]
    pub wait: bool,
    /// Give up waiting after this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 60, requires = "wait")]
    pub timeout_secs: u64,
}

#[derive(Serialize)]
struct Outcome {
    tx_hash: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<TxStatusResponse>,
}

/// Run `submit`.
///
/// # Errors
/// An unreadable file, an unreachable node, or the node's rejection.
pub fn run(args: Args, _global: &Global) -> anyhow::Result<Output> {
    let text = match (&args.tx, &args.file) {
        (Some(tx), _) => tx.clone(),
        (None, Some(path)) => {
            let size = std::fs::metadata(path)
                .with_context(|| format!("cannot read {}", path.display()))?
                .len();
            if size > MAX_FILE_BYTES {
                bail!(
                    "{} is {size} bytes: too large to hold one transaction",
                    path.display()
                );
            }
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?
        }
        (None, None) => bail!("give the transaction as HEX or with --file"),
    };
    let client = args.rpc.client()?;
    let reply = client.submit(&SubmitTxRequest {
        tx: text.trim().to_owned(),
        encoding: TxEncoding::Hex,
    })?;
    let hash: Hash = reply
        .tx_hash
        .parse()
        .context("the node sent a malformed transaction hash")?;
    let status = if args.wait {
        Some(wait_for(
            &client,
            &hash,
            std::time::Duration::from_secs(args.timeout_secs),
        )?)
    } else {
        None
    };
    if let Some(status) = &status {
        check_receipt(&hash, status)?;
    }
    let mut text = format!("submitted tx {hash}");
    if let Some(TxStatusResponse::Finalized { height, .. }) = &status {
        text.push_str(&format!("\nfinalized at height {height}"));
    }
    let outcome = Outcome {
        tx_hash: reply.tx_hash,
        status,
    };
    Ok(Output::with_text(&outcome, text)?)
}
