//! `counterweight transfer`: sign a bank transfer with a keystore key and submit it.

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Args as ClapArgs;
use counterweight_bank::{BANK_MODULE, BankCall, ModuleCall as _};
use counterweight_rpc_api::{Client, ReceiptStatusView, TxStatusResponse};
use counterweight_types::{Call, ChainId, Hash, SignedTransaction, Transaction};
use serde::Serialize;

use crate::chain_opts::{HomeOpt, RpcOpt};
use crate::query::resolve_address;
use crate::{Global, Output};

/// How often `--wait` asks for the transaction's status.
const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// Send tokens from a keystore account to an address.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Which node.
    #[command(flatten)]
    pub rpc: RpcOpt,
    /// Where the keystore is.
    #[command(flatten)]
    pub home: HomeOpt,
    /// Name of the sending key in the keystore.
    #[arg(long, value_name = "NAME")]
    pub from: String,
    /// Recipient: an address (64 hex characters) or a key name in the keystore.
    #[arg(long, value_name = "ADDR")]
    pub to: String,
    /// Amount to send (at least 1).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub amount: u64,
    /// Fee offered to the block's proposer (at least the chain's minimum fee).
    #[arg(long, value_name = "F", default_value_t = 1)]
    pub fee: u64,
    /// Nonce to use instead of the account's next committed nonce (to queue several).
    #[arg(long, value_name = "N")]
    pub nonce: Option<u64>,
    /// Chain id to sign for instead of the node's (for signing against a known chain).
    #[arg(long, value_name = "ID")]
    pub chain_id: Option<String>,
    /// Wait until the transfer is finalized (or rejected) and report its outcome.
    #[arg(long, conflicts_with = "sign_only")]
    pub wait: bool,
    /// Print the signed transaction as hex instead of submitting it (for `submit`). With
    /// `--nonce` and `--chain-id` no node is contacted.
    #[arg(long)]
    pub sign_only: bool,
    /// Give up waiting after this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 60, requires = "wait")]
    pub timeout_secs: u64,
}

#[derive(Serialize)]
struct Outcome {
    tx_hash: String,
    from: String,
    to: String,
    amount: u64,
    fee: u64,
    nonce: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<TxStatusResponse>,
}

/// Run `transfer`.
///
/// # Errors
/// A missing key, bad arguments, an unreachable node, a rejection, or (with `--wait`) a
/// transfer that failed or did not finalize in time.
pub fn run(args: Args, _global: &Global) -> anyhow::Result<Output> {
    let store = args.home.keystore()?;
    let key = store.load(&args.from)?;
    let to = resolve_address(&args.to, &args.home)?;
    let client = args.rpc.client()?;
    let offline = args.sign_only && args.nonce.is_some() && args.chain_id.is_some();

    let chain_id = match &args.chain_id {
        Some(id) => ChainId::new(id.as_str()).context("invalid --chain-id")?,
        None => {
            ChainId::new(client.status()?.chain_id).context("the node sent an invalid chain id")?
        }
    };
    let nonce = match (args.nonce, offline) {
        (Some(nonce), true) => nonce,
        (nonce, _) => {
            let account = client.account(&key.address().to_hex())?;
            let needed = args
                .amount
                .checked_add(args.fee)
                .context("amount + fee overflows")?;
            if account.balance < needed {
                bail!(
                    "insufficient balance: {} holds {}, the transfer needs {} (amount {} + fee {})",
                    args.from,
                    account.balance,
                    needed,
                    args.amount,
                    args.fee
                );
            }
            nonce.unwrap_or(account.nonce)
        }
    };

    let tx: SignedTransaction = key.sign_tx(Transaction {
        chain_id,
        sender: key.address(),
        nonce,
        fee: args.fee,
        call: Call {
            module: BANK_MODULE,
            payload: BankCall::Transfer {
                to,
                amount: args.amount,
            }
            .to_payload(),
        },
    });
    let hash = tx.hash();
    if args.sign_only {
        let bytes = hex::encode(tx.to_bytes());
        #[derive(Serialize)]
        struct Signed<'a> {
            tx_hash: String,
            tx: &'a str,
        }
        let signed = Signed {
            tx_hash: hash.to_hex(),
            tx: &bytes,
        };
        return Ok(Output::with_text(&signed, bytes.as_str())?);
    }
    let reply = client.submit_tx(&tx.to_bytes())?;
    if reply.tx_hash != hash.to_hex() {
        bail!(
            "the node acknowledged a different transaction hash ({})",
            reply.tx_hash
        );
    }

    let status = if args.wait {
        Some(wait_for(
            &client,
            &hash,
            Duration::from_secs(args.timeout_secs),
        )?)
    } else {
        None
    };
    let outcome = Outcome {
        tx_hash: hash.to_hex(),
        from: key.address().to_hex(),
        to: to.to_hex(),
        amount: args.amount,
        fee: args.fee,
        nonce,
        status: status.clone(),
    };
    // A finalized but failed transfer is an error (exit 1) that names the transaction.
    if let Some(status) = &status {
        check_receipt(&hash, status)?;
    }
    let mut text = format!(
        "submitted transfer of {} from {} to {} (fee {}, nonce {})\ntx {}",
        args.amount, args.from, to, args.fee, nonce, hash
    );
    if let Some(TxStatusResponse::Finalized { height, .. }) = &status {
        text.push_str(&format!("\nfinalized at height {height}"));
    }
    Ok(Output::with_text(&outcome, text)?)
}

/// Fail when a finalized transaction's call failed (its fee was still charged).
///
/// # Errors
/// The receipt's failure code and message.
pub(crate) fn check_receipt(hash: &Hash, status: &TxStatusResponse) -> anyhow::Result<()> {
    match status {
        TxStatusResponse::Finalized { height, receipt } => match &receipt.status {
            ReceiptStatusView::Ok => Ok(()),
            ReceiptStatusView::Failed { code, message } => {
                bail!(
                    "transaction {hash} failed in block {height}: {message} (code {code}); the fee was charged"
                )
            }
        },
        _ => Ok(()),
    }
}

/// Poll until the transaction is finalized or rejected.
///
/// # Errors
/// A rejection, a timeout, or an unreachable node.
pub(crate) fn wait_for(
    client: &Client,
    hash: &Hash,
    timeout: Duration,
) -> anyhow::Result<TxStatusResponse> {
    let started = Instant::now();
    loop {
        let status = client.tx_status(&hash.to_hex())?;
        match status {
            TxStatusResponse::Finalized { .. } => return Ok(status),
            TxStatusResponse::Rejected {
                code,
                reason,
                message,
            } => bail!("transaction {hash} was dropped: {message} ({reason}, code {code})"),
            TxStatusResponse::Pending | TxStatusResponse::Unknown => {}
        }
        if started.elapsed() >= timeout {
            bail!(
                "transaction {hash} not finalized within {} s (last status: {})",
                timeout.as_secs(),
                match status {
                    TxStatusResponse::Unknown => "unknown",
                    _ => "pending",
                }
            );
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}
