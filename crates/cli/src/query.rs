//! `counterweight query`: read accounts, blocks, transactions, state proofs and node status.

use std::fmt::{self, Write as _};

use anyhow::{Context as _, bail};
use clap::{Args as ClapArgs, Subcommand};
use counterweight_rpc_api::{
    AccountResponse, BlockResponse, ReceiptStatusView, ReceiptView, StateProofResponse,
    StatusResponse, TxStatusResponse, hexutil,
};
use counterweight_types::{Address, Hash, Height};
use serde::Serialize;

use crate::chain_opts::{HomeOpt, RpcOpt};
use crate::keystore::Keystore;
use crate::{Global, Output};

/// Read chain state from a node.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Which node.
    #[command(flatten)]
    pub rpc: RpcOpt,
    /// Where the keystore is (to name accounts by key name).
    #[command(flatten)]
    pub home: HomeOpt,
    /// What to read.
    #[command(subcommand)]
    pub command: QueryCommand,
}

/// The `query` subcommands.
#[derive(Debug, Subcommand)]
pub enum QueryCommand {
    /// An account's balance and next nonce.
    Account {
        /// Address (64 hex characters) or the name of a key in the keystore.
        account: String,
    },
    /// A finalized block.
    Block {
        /// Height; the latest block when absent.
        height: Option<u64>,
    },
    /// A transaction's status and receipt.
    Tx {
        /// Transaction hash (64 hex characters).
        hash: String,
    },
    /// A state value with its Merkle proof, verified here against the block header's root.
    State {
        /// State key, hex.
        key: String,
    },
    /// The node's chain id, height, state root and peers.
    Status,
}

/// Run `query`.
///
/// # Errors
/// Bad arguments, an unreachable node, a node error, or a proof that does not verify.
pub fn run(args: Args, _global: &Global) -> anyhow::Result<Output> {
    let client = args.rpc.client()?;
    let output = match args.command {
        QueryCommand::Account { account } => {
            let address = resolve_address(&account, &args.home)?;
            Output::new(&AccountView(client.account(&address.to_hex())?))?
        }
        QueryCommand::Block { height } => Output::new(&BlockView(client.block(height)?))?,
        QueryCommand::Tx { hash } => {
            let hash: Hash = hash
                .trim()
                .parse()
                .map_err(|_| anyhow::anyhow!("a transaction hash is 64 hex characters"))?;
            let status = client.tx_status(&hash.to_hex())?;
            Output::new(&TxView { hash, status })?
        }
        QueryCommand::State { key } => {
            let key = hexutil::decode(&key).map_err(|_| anyhow::anyhow!("a state key is hex"))?;
            let proof = client.state(&key)?;
            let verified = verify_state(&client, &proof)?;
            Output::new(&VerifiedState { proof, verified })?
        }
        QueryCommand::Status => Output::new(&StatusView(client.status()?))?,
    };
    Ok(output)
}

/// An account's balance and nonce.
#[derive(Debug, Serialize)]
#[serde(transparent)]
struct AccountView(AccountResponse);

impl fmt::Display for AccountView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = &self.0;
        write!(
            f,
            "address {}\nbalance {}\nnonce   {}",
            a.address, a.balance, a.nonce
        )
    }
}

/// A finalized block.
#[derive(Debug, Serialize)]
#[serde(transparent)]
struct BlockView(BlockResponse);

impl fmt::Display for BlockView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&render_block(&self.0))
    }
}

/// A transaction's status (JSON: the node's answer as is).
#[derive(Debug)]
struct TxView {
    hash: Hash,
    status: TxStatusResponse,
}

impl Serialize for TxView {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.status.serialize(serializer)
    }
}

impl fmt::Display for TxView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&render_tx_status(&self.hash, &self.status))
    }
}

/// A state value with its proof, checked here.
#[derive(Debug, Serialize)]
struct VerifiedState {
    #[serde(flatten)]
    proof: StateProofResponse,
    verified: bool,
}

impl fmt::Display for VerifiedState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = &self.proof;
        write!(
            f,
            "key    {}\nvalue  {}\nheight {}\nroot   {}\nproof  verified against the header at height {}",
            p.key,
            p.value.as_deref().unwrap_or("(absent)"),
            p.height,
            p.root,
            p.height
        )
    }
}

/// The node's status.
#[derive(Debug, Serialize)]
#[serde(transparent)]
struct StatusView(StatusResponse);

impl fmt::Display for StatusView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.0;
        write!(
            f,
            "chain      {}\nheight     {}\nblock      {}\nstate root {}\npeers      {}\nmempool    {}",
            s.chain_id, s.height, s.block_hash, s.state_root, s.peers, s.mempool_size
        )
    }
}

/// Check a state proof offline, and that its root is the one in the header at its height.
fn verify_state(
    client: &counterweight_rpc_api::Client,
    reply: &StateProofResponse,
) -> anyhow::Result<bool> {
    let root: Hash = reply
        .root
        .parse()
        .context("the node sent a malformed root")?;
    let key = hexutil::decode(&reply.key).context("the node sent a malformed key")?;
    let value = reply
        .value
        .as_deref()
        .map(hexutil::decode)
        .transpose()
        .context("the node sent a malformed value")?;
    let proof = hexutil::decode(&reply.proof).context("the node sent a malformed proof")?;
    counterweight_storage_api::verify_state_proof(&root, &key, value.as_deref(), &proof)
        .context("the node's state proof does not verify")?;
    let header = client.block(Some(reply.height))?.header;
    if header.state_root != reply.root {
        bail!(
            "the proof's root is not the state root of block {} ({})",
            Height(reply.height),
            header.state_root
        );
    }
    Ok(true)
}

/// An address given as hex, or the name of a key in the keystore.
pub(crate) fn resolve_address(text: &str, home: &HomeOpt) -> anyhow::Result<Address> {
    if let Ok(address) = text.trim().parse::<Address>() {
        return Ok(address);
    }
    let store: Keystore = home.keystore()?;
    match store.load(text) {
        Ok(key) => Ok(key.address()),
        Err(_) => bail!(
            "`{text}` is neither an address (64 hex characters) nor a key name in {}",
            store.dir().display()
        ),
    }
}

pub(crate) fn render_block(block: &BlockResponse) -> String {
    let h = &block.header;
    let mut out = String::new();
    let _ = writeln!(out, "block {} {}", h.height, block.hash);
    let _ = writeln!(out, "  chain      {}", h.chain_id);
    let _ = writeln!(out, "  time       {} ms", h.timestamp_ms);
    let _ = writeln!(out, "  proposer   {}", h.proposer);
    let _ = writeln!(out, "  parent     {}", h.parent);
    let _ = writeln!(out, "  state root {}", h.state_root);
    let _ = writeln!(out, "  tx root    {}", h.tx_root);
    let _ = writeln!(out, "  txs        {}", block.txs.len());
    for tx in &block.txs {
        let _ = writeln!(
            out,
            "    {} from {} nonce {} fee {} module {}",
            tx.hash, tx.sender, tx.nonce, tx.fee, tx.module
        );
    }
    out
}

pub(crate) fn render_receipt(out: &mut String, receipt: &ReceiptView, indent: &str) {
    match &receipt.status {
        ReceiptStatusView::Ok => {
            let _ = writeln!(out, "{indent}result ok");
        }
        ReceiptStatusView::Failed { code, message } => {
            let _ = writeln!(out, "{indent}result failed (code {code}): {message}");
        }
    }
    for event in &receipt.events {
        let attributes: Vec<String> = event
            .attributes
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let _ = writeln!(
            out,
            "{indent}event  {} (module {}) {}",
            event.kind,
            event.module,
            attributes.join(" ")
        );
    }
}

pub(crate) fn render_tx_status(hash: &Hash, status: &TxStatusResponse) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "tx {hash}");
    match status {
        TxStatusResponse::Pending => {
            let _ = writeln!(out, "status pending");
        }
        TxStatusResponse::Finalized { height, receipt } => {
            let _ = writeln!(
                out,
                "status finalized at height {height} (index {})",
                receipt.index
            );
            render_receipt(&mut out, receipt, "");
        }
        TxStatusResponse::Rejected {
            code,
            reason,
            message,
        } => {
            let _ = writeln!(out, "status rejected: {message} ({reason}, code {code})");
        }
        TxStatusResponse::Unknown => {
            let _ = writeln!(out, "status unknown to this node");
        }
    }
    out
}
