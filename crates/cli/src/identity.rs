//! `counterweight identity`: DIDs, key rotation and recovery, credential issuers, and
//! verifiable credentials (issue off chain, verify and revoke on chain).

use std::{collections::BTreeMap, fmt::Write as _, path::PathBuf};

use anyhow::{Context as _, bail};
use clap::{Args as ClapArgs, Subcommand};
use counterweight_identity::ModuleCall as _;
use counterweight_identity::{
    CredentialDraft, IDENTITY_MODULE, IdentityCall, address_of_did, did_key, sign_credential,
    sign_rotation,
};
use counterweight_rpc_api::{Client, ReceiptView};
use counterweight_types::{Address, Call, ChainId, Signature};
use serde::Serialize;
use serde_json::Value;

use crate::{
    Global, Output,
    chain_opts::{HomeOpt, RpcOpt},
    query::resolve_address,
    tx::Signer,
};

/// Manage DIDs, credential issuers and verifiable credentials.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Which node.
    #[command(flatten)]
    pub rpc: RpcOpt,
    /// Where the keystore is.
    #[command(flatten)]
    pub home: HomeOpt,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The `identity` subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Register the DID (`did:key`) of a keystore key on chain.
    Register(FromArg),
    /// Show a DID document: by address, `did:key` or key name (also a DID's current key).
    Show(ShowArgs),
    /// Rotate your DID's key: the DID stays, the new key signs from now on.
    Rotate(RotateArgs),
    /// Name k-of-n recovery delegates who can rotate your DID's key together.
    SetRecovery(SetRecoveryArgs),
    /// As a recovery delegate, approve rotating another DID's key.
    ApproveRecovery(ApproveArgs),
    /// Register your DID as an issuer of some credential types.
    IssuerRegister(IssuerRegisterArgs),
    /// Issue (sign) a credential off chain; writes the compact JWS to a file or stdout.
    Issue(IssueArgs),
    /// Verify a credential against the chain at the latest block time (or `--at-ms`).
    Verify(VerifyArgs),
    /// Revoke a credential by its status-list index (issuers only; final).
    Revoke(RevokeArgs),
}

/// The sending key.
#[derive(Debug, ClapArgs)]
pub struct FromArg {
    /// Name of the sending key in the keystore.
    #[arg(long, value_name = "NAME")]
    pub from: String,
}

/// Arguments of `identity show`.
#[derive(Debug, ClapArgs)]
pub struct ShowArgs {
    /// An address (hex), a `did:key`, or a key name in the keystore.
    pub who: String,
}

/// Arguments of `identity rotate`.
#[derive(Debug, ClapArgs)]
pub struct RotateArgs {
    /// The DID's current key.
    #[command(flatten)]
    pub from: FromArg,
    /// The new key: an address (hex), a `did:key`, or a key name; it must be in the keystore
    /// (it signs its consent to the rotation).
    #[arg(long, value_name = "KEY")]
    pub new_key: String,
}

/// Arguments of `identity set-recovery`.
#[derive(Debug, ClapArgs)]
pub struct SetRecoveryArgs {
    /// The DID's current key.
    #[command(flatten)]
    pub from: FromArg,
    /// A delegate's DID (address, `did:key` or key name); repeat or separate with commas.
    #[arg(
        long = "delegate",
        value_name = "DID",
        value_delimiter = ',',
        required = true
    )]
    pub delegates: Vec<String>,
    /// How many delegates must approve the same new key.
    #[arg(long, value_name = "K")]
    pub threshold: u8,
}

/// Arguments of `identity approve-recovery`.
#[derive(Debug, ClapArgs)]
pub struct ApproveArgs {
    /// The delegate's key.
    #[command(flatten)]
    pub from: FromArg,
    /// The DID to recover (address, `did:key` or key name).
    #[arg(long, value_name = "DID")]
    pub did: String,
    /// The key to rotate it to (address, `did:key` or key name).
    #[arg(long, value_name = "KEY")]
    pub new_key: String,
}

/// Arguments of `identity issuer-register`.
#[derive(Debug, ClapArgs)]
pub struct IssuerRegisterArgs {
    /// The issuer DID's current key.
    #[command(flatten)]
    pub from: FromArg,
    /// The issuer's display name.
    #[arg(long)]
    pub name: String,
    /// Credential types it issues, e.g. `CooperativeMembership,Personhood`.
    #[arg(
        long = "types",
        value_name = "TYPE",
        value_delimiter = ',',
        required = true
    )]
    pub credential_types: Vec<String>,
}

/// Arguments of `identity issue`.
#[derive(Debug, ClapArgs)]
pub struct IssueArgs {
    /// The issuer DID's current key.
    #[command(flatten)]
    pub from: FromArg,
    /// The subject (address, `did:key` or key name).
    #[arg(long, value_name = "WHO")]
    pub subject: String,
    /// The credential type, e.g. `CooperativeMembership`.
    #[arg(long, value_name = "TYPE")]
    pub kind: String,
    /// A claim `name=value`; repeat for more.
    #[arg(long = "claim", value_name = "NAME=VALUE")]
    pub claims: Vec<String>,
    /// The credential's index in your status list (what `revoke` takes); keep it unique.
    #[arg(long, value_name = "N")]
    pub index: u64,
    /// Start of validity, Unix ms [default: the latest block's time].
    #[arg(long, value_name = "MS")]
    pub valid_from_ms: Option<u64>,
    /// Validity length in seconds [default: no end].
    #[arg(long, value_name = "SECS")]
    pub valid_for_secs: Option<u64>,
    /// The issuer DID when it differs from the key (after a rotation) [default: the DID the
    /// key controls on chain, else the key's own `did:key`].
    #[arg(long, value_name = "DID")]
    pub issuer_did: Option<String>,
    /// Write the credential here instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Arguments of `identity verify`.
#[derive(Debug, ClapArgs)]
pub struct VerifyArgs {
    /// The file holding the credential (compact JWS).
    #[arg(long, value_name = "FILE")]
    pub credential: PathBuf,
    /// Verify at this Unix time in ms [default: the latest block's time].
    #[arg(long, value_name = "MS")]
    pub at_ms: Option<u64>,
}

/// Arguments of `identity revoke`.
#[derive(Debug, ClapArgs)]
pub struct RevokeArgs {
    /// The issuer DID's current key.
    #[command(flatten)]
    pub from: FromArg,
    /// The status-list index to revoke.
    #[arg(long, value_name = "N")]
    pub index: u64,
}

#[derive(Serialize)]
struct Outcome<'r> {
    action: &'static str,
    did: Option<String>,
    receipt: &'r ReceiptView,
}

/// An address given as hex, a `did:key`, or a key name in the keystore.
fn resolve(text: &str, home: &HomeOpt) -> anyhow::Result<Address> {
    let text = text.trim();
    if text.starts_with("did:") {
        return address_of_did(text).with_context(|| format!("`{text}` is not an ed25519 did:key"));
    }
    resolve_address(text, home)
}

fn send(
    args: &Args,
    from: &FromArg,
    call: &IdentityCall,
    action: &'static str,
) -> anyhow::Result<Output> {
    let key = args.home.keystore()?.load(&from.from)?;
    let mut signer = Signer::new(args.rpc.client()?, key)?;
    let receipt = signer.send_and_wait(Call {
        module: IDENTITY_MODULE,
        payload: call.to_payload(),
    })?;
    let events = receipt
        .events
        .iter()
        .filter(|e| e.module == IDENTITY_MODULE.0);
    let did = events
        .clone()
        .find_map(|e| e.attributes.get("did").or(e.attributes.get("issuer")))
        .cloned();
    let outcome = Outcome {
        action,
        did,
        receipt: &receipt,
    };
    let mut text = format!(
        "{action}: tx {} final at height {}",
        receipt.tx_hash, receipt.height
    );
    for event in events {
        let _ = write!(text, "\n  {}", event.kind);
        for (k, v) in &event.attributes {
            let _ = write!(text, " {k}={v}");
        }
    }
    Ok(Output::with_text(&outcome, text)?)
}

/// The new key's consent to become the key of `did` (default: the DID `sender` controls),
/// signed with the new key from the keystore.
fn rotation_proof(
    args: &Args,
    did: Option<Address>,
    sender: &str,
    new_key: &Address,
) -> anyhow::Result<Signature> {
    let store = args.home.keystore()?;
    let name = store.name_of(new_key)?.with_context(|| {
        format!("the new key {new_key} is not in the keystore: it must sign the rotation")
    })?;
    let signer = store.load(&name)?;
    let client = args.rpc.client()?;
    let did = match did {
        Some(did) => did,
        None => {
            let sender = store.load(sender)?.address();
            query(&client, "controller", &sender.0)?
                .get("did")
                .and_then(Value::as_str)
                .and_then(address_of_did)
                .with_context(|| format!("{sender} controls no DID"))?
        }
    };
    let meta = &query(&client, "did", &did.0)?["didDocumentMetadata"];
    let old_key: Address = meta["currentKey"]
        .as_str()
        .and_then(|k| k.parse().ok())
        .with_context(|| format!("{} is not registered", did_key(&did)))?;
    let rotation = meta["previousKeys"].as_array().map_or(0, Vec::len);
    let chain_id =
        ChainId::new(client.status()?.chain_id).context("the node sent an invalid chain id")?;
    let rotation = u64::try_from(rotation).context("key history too long")?;
    Ok(sign_rotation(&signer, &chain_id, &did, &old_key, rotation))
}

fn latest_block_time(client: &Client) -> anyhow::Result<u64> {
    Ok(client
        .block(None)
        .context("cannot read the latest block")?
        .header
        .timestamp_ms)
}

fn query(client: &Client, path: &str, data: &[u8]) -> anyhow::Result<Value> {
    client
        .query_json(IDENTITY_MODULE.0, path, data)
        .with_context(|| format!("identity query {path}"))
}

fn show(args: &Args, who: &str) -> anyhow::Result<Output> {
    let client = args.rpc.client()?;
    let address = resolve(who, &args.home)?;
    let mut doc = query(&client, "did", &address.0)?;
    if doc.is_null() {
        // Maybe the rotated-to key of a DID.
        let controller = query(&client, "controller", &address.0)?;
        if let Some(did) = controller.get("did").and_then(Value::as_str) {
            let did = address_of_did(did).context("the node named an invalid DID")?;
            doc = query(&client, "did", &did.0)?;
        }
    }
    if doc.is_null() {
        bail!("{} is not registered", did_key(&address));
    }
    let text = serde_json::to_string_pretty(&doc)?;
    Ok(Output::with_text(&doc, text)?)
}

fn parse_claims(claims: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    claims
        .iter()
        .map(|c| {
            c.split_once('=')
                .map(|(k, v)| (k.trim().to_owned(), v.to_owned()))
                .with_context(|| format!("claim `{c}` must be name=value"))
        })
        .collect()
}

fn issue(args: &Args, a: &IssueArgs) -> anyhow::Result<Output> {
    let key = args.home.keystore()?.load(&a.from.from)?;
    let subject = resolve(&a.subject, &args.home)?;
    let claims = parse_claims(&a.claims)?;
    let needs_node = a.valid_from_ms.is_none() || a.issuer_did.is_none();
    let client = if needs_node {
        Some(args.rpc.client()?)
    } else {
        None
    };
    let issuer = match (&a.issuer_did, &client) {
        (Some(did), _) => resolve(did, &args.home)?,
        (None, Some(client)) => query(client, "controller", &key.address().0)?
            .get("did")
            .and_then(Value::as_str)
            .and_then(address_of_did)
            .unwrap_or(key.address()),
        (None, None) => key.address(),
    };
    let valid_from_ms = match (a.valid_from_ms, &client) {
        (Some(ms), _) => ms,
        (None, Some(client)) => latest_block_time(client)?,
        (None, None) => bail!("give --valid-from-ms"),
    };
    let valid_until_ms = a
        .valid_for_secs
        .map(|s| {
            s.checked_mul(1000)
                .and_then(|ms| valid_from_ms.checked_add(ms))
                .context("--valid-for-secs is too large")
        })
        .transpose()?;
    let draft = CredentialDraft {
        issuer,
        subject,
        kind: a.kind.clone(),
        claims,
        status_index: a.index,
        valid_from_ms,
        valid_until_ms,
    };
    let jws = sign_credential(&key, &draft).context("cannot issue the credential")?;
    match &a.out {
        Some(path) => {
            std::fs::write(path, &jws)
                .with_context(|| format!("cannot write {}", path.display()))?;
            let issued = serde_json::json!({
                "issuer": did_key(&issuer),
                "subject": did_key(&subject),
                "kind": a.kind,
                "index": a.index,
                "file": path.display().to_string(),
            });
            let text = format!(
                "issued {} for {} (status index {}) to {}",
                a.kind,
                did_key(&subject),
                a.index,
                path.display()
            );
            Ok(Output::with_text(&issued, text)?)
        }
        None => {
            // People get the bare credential (to pipe into a file); `--json` wraps it.
            let credential = String::from_utf8_lossy(&jws).into_owned();
            let issued = serde_json::json!({
                "issuer": did_key(&issuer),
                "subject": did_key(&subject),
                "kind": a.kind,
                "index": a.index,
                "credential": credential,
            });
            Ok(Output::with_text(&issued, credential)?)
        }
    }
}

fn read_credential(path: &PathBuf) -> anyhow::Result<Vec<u8>> {
    let mut bytes = std::fs::read(path)
        .with_context(|| format!("cannot read credential {}", path.display()))?;
    while matches!(bytes.last(), Some(b'\n' | b'\r' | b' ')) {
        bytes.pop();
    }
    Ok(bytes)
}

fn verify(args: &Args, a: &VerifyArgs) -> anyhow::Result<Output> {
    let client = args.rpc.client()?;
    let credential = read_credential(&a.credential)?;
    let at = match a.at_ms {
        Some(ms) => ms,
        None => latest_block_time(&client)?,
    };
    let out = query(&client, &format!("verify/{at}"), &credential)?;
    let valid = out.get("valid").and_then(Value::as_bool) == Some(true);
    if !valid {
        bail!(
            "credential refused: {} (code {})",
            out["error"].as_str().unwrap_or("unknown reason"),
            out["code"]
        );
    }
    let text = {
        let c = &out["credential"];
        let mut text = format!(
            "valid {} credential\n  issuer  {}\n  subject {}\n  id      {}",
            c["kind"].as_str().unwrap_or("?"),
            out["issuer_did"].as_str().unwrap_or("?"),
            out["subject_did"].as_str().unwrap_or("?"),
            c["id"].as_str().unwrap_or("?"),
        );
        if let Some(claims) = c["claims"].as_object() {
            for (k, v) in claims {
                let _ = write!(text, "\n  {k} = {}", v.as_str().unwrap_or("?"));
            }
        }
        text
    };
    Ok(Output::with_text(&out, text)?)
}

/// Run `identity`.
///
/// # Errors
/// A missing key or file, bad arguments, an unreachable node, a call the chain refused
/// (with the module's message and code), or a credential that does not verify.
pub fn run(args: Args, _global: &Global) -> anyhow::Result<Output> {
    match &args.command {
        Command::Register(from) => send(&args, from, &IdentityCall::Register, "registered DID"),
        Command::Show(a) => show(&args, &a.who),
        Command::Rotate(a) => {
            let new_key = resolve(&a.new_key, &args.home)?;
            let proof = rotation_proof(&args, None, &a.from.from, &new_key)?;
            send(
                &args,
                &a.from,
                &IdentityCall::RotateKey { new_key, proof },
                "rotated key",
            )
        }
        Command::SetRecovery(a) => {
            let delegates = a
                .delegates
                .iter()
                .map(|d| resolve(d, &args.home))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let call = IdentityCall::SetRecovery {
                delegates,
                threshold: a.threshold,
            };
            send(&args, &a.from, &call, "set recovery")
        }
        Command::ApproveRecovery(a) => {
            let did_owner = resolve(&a.did, &args.home)?;
            let new_key = resolve(&a.new_key, &args.home)?;
            let proof = rotation_proof(&args, Some(did_owner), &a.from.from, &new_key)?;
            let call = IdentityCall::ApproveRecovery {
                did_owner,
                new_key,
                proof,
            };
            send(&args, &a.from, &call, "approved recovery")
        }
        Command::IssuerRegister(a) => {
            let call = IdentityCall::RegisterIssuer {
                name: a.name.clone(),
                credential_types: a.credential_types.clone(),
            };
            send(&args, &a.from, &call, "registered issuer")
        }
        Command::Issue(a) => issue(&args, a),
        Command::Verify(a) => verify(&args, a),
        Command::Revoke(a) => send(
            &args,
            &a.from,
            &IdentityCall::Revoke { index: a.index },
            "revoked credential",
        ),
    }
}
