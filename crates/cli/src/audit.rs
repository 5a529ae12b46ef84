//! `counterweight audit`: prove that an event is in the chain's audit log, and check such a
//! proof offline.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::{Args as ClapArgs, Subcommand};
use counterweight_audit::{AUDIT_MODULE, AuditProof, EntryView};
use counterweight_rpc_api::{StateProofResponse, hexutil};
use counterweight_types::Hash;
use serde::{Deserialize, Serialize};

use crate::chain_opts::RpcOpt;
use crate::{Global, Output};

/// Largest proof file read by `verify`, in bytes.
const MAX_PROOF_FILE_BYTES: u64 = 1024 * 1024;

/// The audit log: every event of the identity, coop, learn and registry modules.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    pub command: AuditCommand,
}

/// The audit subcommands.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Show the log's size and root.
    Status {
        /// Which node.
        #[command(flatten)]
        rpc: RpcOpt,
    },
    /// List the entries a transaction wrote.
    Tx {
        /// Which node.
        #[command(flatten)]
        rpc: RpcOpt,
        /// The transaction hash.
        #[arg(value_name = "TX_HASH")]
        tx: Hash,
    },
    /// Fetch the proof that an event is in the log, anchored in a block's state root, and
    /// write it to a file for offline checking.
    Prove {
        /// Which node.
        #[command(flatten)]
        rpc: RpcOpt,
        /// The event: its index in the log, or the hash of the transaction that emitted it
        /// (its first audited event, or the one chosen with --kind).
        #[arg(value_name = "EVENT")]
        event: String,
        /// With a transaction hash: the kind of event to prove (e.g. `update_accepted`).
        #[arg(long, value_name = "KIND")]
        kind: Option<String>,
        /// Where to write the proof (JSON); printed to stdout when absent.
        #[arg(long, short, value_name = "PATH")]
        out: Option<PathBuf>,
    },
    /// Check a proof file offline: the entry is in the log, and the log's root is in the
    /// chain's state at the stated height. No node is contacted.
    Verify {
        /// The proof file written by `audit prove`.
        #[arg(value_name = "PATH")]
        file: PathBuf,
    },
}

/// An audit proof together with the state proof that anchors its root in a block.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AnchoredProof {
    /// The entry and its Merkle-mountain-range proof.
    pub audit: AuditProof,
    /// The state proof of the log's root under `audit.root_key`.
    pub state: StateProofResponse,
}

/// What a successful verification established.
#[derive(Debug, Clone, Serialize)]
pub struct Verified {
    /// The entry.
    pub entry: EntryView,
    /// The audit log's root over its first `leaves` entries.
    pub audit_root: String,
    /// How many entries that root covers.
    pub leaves: u64,
    /// The state root the log's root is proven under.
    pub state_root: String,
    /// The block height whose header carries `state_root`.
    pub height: u64,
}

/// Run `audit`.
///
/// # Errors
/// An unreachable node, an unknown event, or a proof that does not verify.
pub fn run(args: Args, _global: &Global) -> anyhow::Result<Output> {
    let output = match args.command {
        AuditCommand::Status { rpc } => {
            let client = rpc.client()?;
            let status: serde_json::Value = client.query_json(AUDIT_MODULE.0, "status", &[])?;
            let text = format!(
                "audit log: {} entries, root {}",
                status["leaves"],
                status["root"].as_str().unwrap_or("?")
            );
            Output::with_text(&status, text)?
        }
        AuditCommand::Tx { rpc, tx } => {
            let client = rpc.client()?;
            let entries: Vec<EntryView> =
                client.query_json(AUDIT_MODULE.0, &format!("tx/{tx}"), &[])?;
            let text = if entries.is_empty() {
                format!("transaction {tx} wrote no audit entries")
            } else {
                entries.iter().map(describe).collect::<Vec<_>>().join("\n")
            };
            Output::with_text(&entries, text)?
        }
        AuditCommand::Prove {
            rpc,
            event,
            kind,
            out,
        } => {
            let client = rpc.client()?;
            let anchored = prove(&client, &event, kind.as_deref())?;
            let text = serde_json::to_string_pretty(&anchored)?;
            match out {
                Some(path) => {
                    write_atomically(&path, text.as_bytes())?;
                    let text = format!(
                        "{}\nproof written to {} (check it offline with `counterweight audit verify {}`)",
                        describe(&anchored.audit.entry),
                        path.display(),
                        path.display()
                    );
                    Output::with_text(&anchored, text)?
                }
                None => Output::with_text(&anchored, text)?,
            }
        }
        AuditCommand::Verify { file } => {
            let anchored = read_proof(&file)?;
            let verified = verify(&anchored)?;
            let text = format!(
                "valid: {}\n  is entry {} of the audit log whose root over {} entries is {}\n  and that root is in the chain state {} at height {}",
                describe(&verified.entry),
                verified.entry.index,
                verified.leaves,
                verified.audit_root,
                verified.state_root,
                verified.height
            );
            Output::with_text(&verified, text)?
        }
    };
    Ok(output)
}

/// One line about an entry.
pub fn describe(entry: &EntryView) -> String {
    let attrs: Vec<String> = entry
        .attributes
        .iter()
        .map(|(k, v)| format!("{k}={}", v.chars().take(16).collect::<String>()))
        .collect();
    format!(
        "#{} {} (module {}, height {}, tx {}) {}",
        entry.index,
        entry.kind,
        entry.module,
        entry.height,
        entry.tx_hash.chars().take(16).collect::<String>(),
        attrs.join(" ")
    )
}

/// Fetches the anchored proof of `event` (an index or a transaction hash).
///
/// # Errors
/// An unknown event or an unreachable node.
pub fn prove(
    client: &counterweight_rpc_api::Client,
    event: &str,
    kind: Option<&str>,
) -> anyhow::Result<AnchoredProof> {
    let index = match event.parse::<u64>() {
        Ok(index) if event.len() < 20 => index,
        _ => {
            let tx: Hash = event
                .parse()
                .context("EVENT must be an entry index or a 64-hex-character transaction hash")?;
            let entries: Vec<EntryView> =
                client.query_json(AUDIT_MODULE.0, &format!("tx/{tx}"), &[])?;
            let chosen = entries
                .iter()
                .find(|e| kind.is_none_or(|k| e.kind == k))
                .with_context(|| match kind {
                    Some(k) => format!("transaction {tx} wrote no `{k}` audit entry"),
                    None => format!("transaction {tx} wrote no audit entries"),
                })?;
            chosen.index
        }
    };
    // The proof is against the log's size at the time of the query; the root of that size is
    // kept forever under its own key, so the state proof fetched next still covers it even if
    // blocks were finalized in between.
    let audit: AuditProof = client.query_json(AUDIT_MODULE.0, &format!("prove/{index}"), &[])?;
    let key = hexutil::decode(&audit.root_key).context("the node sent a malformed root key")?;
    let state = client.state(&key)?;
    let anchored = AnchoredProof { audit, state };
    verify(&anchored).context("the node's proof does not verify")?;
    Ok(anchored)
}

/// Checks an anchored proof offline.
///
/// # Errors
/// The first check that failed.
pub fn verify(anchored: &AnchoredProof) -> anyhow::Result<Verified> {
    anchored
        .audit
        .verify()
        .context("the audit proof is invalid")?;
    let state = &anchored.state;
    if !state.key.eq_ignore_ascii_case(&anchored.audit.root_key) {
        bail!("the state proof is for another key than the audit root's");
    }
    let value = state
        .value
        .as_deref()
        .map(hexutil::decode)
        .transpose()
        .context("the state proof's value is not hex")?;
    if value.as_deref() != Some(&anchored.audit.root.0[..]) {
        bail!("the state does not hold the audit root the proof claims");
    }
    let state_root: Hash = state
        .root
        .parse()
        .context("the state proof's root is not a hash")?;
    let key = hexutil::decode(&state.key).context("the state key is not hex")?;
    let proof = hexutil::decode(&state.proof).context("the state proof is not hex")?;
    counterweight_storage_api::verify_state_proof(&state_root, &key, value.as_deref(), &proof)
        .context("the state proof is invalid")?;
    Ok(Verified {
        entry: anchored.audit.entry.clone(),
        audit_root: anchored.audit.root.to_hex(),
        leaves: anchored.audit.proof.leaves,
        state_root: state_root.to_hex(),
        height: state.height,
    })
}

/// Reads a proof file.
///
/// # Errors
/// A missing, oversized or malformed file.
pub fn read_proof(path: &Path) -> anyhow::Result<AnchoredProof> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    if size > MAX_PROOF_FILE_BYTES {
        bail!(
            "{} is {size} bytes: too large for an audit proof",
            path.display()
        );
    }
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not an audit proof", path.display()))
}

fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_entries_with_multibyte_values_without_panicking() {
        let entry = EntryView {
            index: 3,
            height: 7,
            tx_hash: "é".repeat(20),
            module: 3,
            kind: "coop_created".into(),
            attributes: [("name".to_owned(), "coopérative-numérique".to_owned())].into(),
            bytes: String::new(),
        };
        let line = describe(&entry);
        assert!(line.starts_with("#3 coop_created (module 3, height 7, tx éééééééééééééééé)"));
        assert!(line.ends_with("name=coopérative-numé"), "{line}");
    }
}
