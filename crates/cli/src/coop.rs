//! `counterweight coop`: found and run data cooperatives — membership, dataset commitments
//! with consent, proposals, votes and the treasury.

use std::{
    fmt::Write as _,
    io::{BufRead as _, BufReader},
    path::{Path, PathBuf},
};

use anyhow::{Context as _, bail};
use clap::{Args as ClapArgs, Subcommand, ValueEnum};
use counterweight_coop::ModuleCall as _;
use counterweight_coop::{
    Admission, COOP_MODULE, Consent, CoopCall, MAX_SCHEMA_BYTES, ProposalKind, Rules, dataset_root,
};
use counterweight_rpc_api::ReceiptView;
use counterweight_types::{Address, Call, Hash};
use serde::Serialize;

use crate::{
    Global, Output,
    chain_opts::{HomeOpt, RpcOpt},
    query::resolve_address,
    tx::Signer,
};

/// Found and run data cooperatives.
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

/// The `coop` subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Found a cooperative; you become its first member.
    Create(CreateArgs),
    /// Join a cooperative: at once with a credential, or by opening an admission vote.
    Join(JoinArgs),
    /// Leave a cooperative.
    Leave(CoopArgs),
    /// Commit a CSV shard: its Merkle root, header and row count, with consent terms.
    CommitDataset(CommitArgs),
    /// Replace a dataset's consent terms (owner only).
    Consent(ConsentArgs),
    /// Revoke all consent for a dataset, finally (owner only).
    RevokeConsent(DatasetArgs),
    /// Open a proposal (members only).
    Propose(ProposeArgs),
    /// Vote on a proposal (members only, once, before its deadline).
    Vote(VoteArgs),
    /// Execute a proposal once its deadline passed or its outcome is settled.
    Execute(ProposalArgs),
    /// Move funds into a cooperative's treasury.
    Deposit(DepositArgs),
    /// Show a cooperative, its members, datasets or proposals, a dataset or a proposal.
    Show(ShowArgs),
}

/// The sending key.
#[derive(Debug, ClapArgs)]
pub struct FromArg {
    /// Name of the sending key in the keystore.
    #[arg(long, value_name = "NAME")]
    pub from: String,
}

/// Governance rules, as options.
#[derive(Debug, ClapArgs)]
pub struct RulesArgs {
    /// Share of the members (permille) that must vote for a decision.
    #[arg(long, value_name = "PERMILLE", default_value_t = 500)]
    pub quorum: u16,
    /// Share of the votes (permille) that must be yes.
    #[arg(long, value_name = "PERMILLE", default_value_t = 500)]
    pub approval: u16,
    /// How long proposals stay open, in milliseconds of block time.
    #[arg(long, value_name = "MS", default_value_t = 86_400_000)]
    pub voting_period_ms: u64,
    /// Share of task revenue (permille) the treasury keeps.
    #[arg(long, value_name = "PERMILLE", default_value_t = 200)]
    pub revenue_share: u16,
    /// Admit holders of a credential from this issuer (address or key name) instead of by vote.
    #[arg(long, value_name = "ADDR", requires = "credential_kind")]
    pub credential_issuer: Option<String>,
    /// The credential kind required with `--credential-issuer`.
    #[arg(long, value_name = "KIND", requires = "credential_issuer")]
    pub credential_kind: Option<String>,
}

impl RulesArgs {
    fn to_rules(&self, home: &HomeOpt) -> anyhow::Result<Rules> {
        let admission = match (&self.credential_issuer, &self.credential_kind) {
            (Some(issuer), Some(kind)) => Admission::ByCredential {
                issuer: resolve_address(issuer, home)?,
                kind: kind.clone(),
            },
            _ => Admission::ByVote,
        };
        Ok(Rules {
            quorum_permille: self.quorum,
            approval_permille: self.approval,
            voting_period_ms: self.voting_period_ms,
            revenue_share_permille: self.revenue_share,
            admission,
        })
    }
}

/// Arguments of `coop create`.
#[derive(Debug, ClapArgs)]
pub struct CreateArgs {
    /// The founder.
    #[command(flatten)]
    pub from: FromArg,
    /// The cooperative's name.
    #[arg(long)]
    pub name: String,
    /// Its rules.
    #[command(flatten)]
    pub rules: RulesArgs,
}

/// Arguments naming a cooperative.
#[derive(Debug, ClapArgs)]
pub struct CoopArgs {
    /// The sender.
    #[command(flatten)]
    pub from: FromArg,
    /// The cooperative id (hex).
    #[arg(long, value_name = "ID")]
    pub coop: Hash,
}

/// Arguments of `coop join`.
#[derive(Debug, ClapArgs)]
pub struct JoinArgs {
    /// The sender and the cooperative.
    #[command(flatten)]
    pub coop: CoopArgs,
    /// A file holding the credential to present (for credential admission).
    #[arg(long, value_name = "FILE")]
    pub credential: Option<PathBuf>,
}

/// Arguments of `coop commit-dataset`.
#[derive(Debug, ClapArgs)]
pub struct CommitArgs {
    /// The sender and the cooperative.
    #[command(flatten)]
    pub coop: CoopArgs,
    /// The CSV shard: a header line, then one record per line. It never leaves this machine.
    #[arg(long, value_name = "FILE")]
    pub data: PathBuf,
    /// What the data may be used for.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "training")]
    pub consent: Vec<Use>,
}

/// A use a dataset's owner consents to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Use {
    /// Training models.
    Training,
    /// Commercial use of what is trained.
    Commercial,
    /// Derivative works.
    Derivatives,
    /// Nothing (the same as giving no other use).
    None,
}

fn consent_of(uses: &[Use]) -> Consent {
    Consent {
        training: uses.contains(&Use::Training),
        commercial: uses.contains(&Use::Commercial),
        derivatives: uses.contains(&Use::Derivatives),
    }
}

/// Arguments naming a dataset.
#[derive(Debug, ClapArgs)]
pub struct DatasetArgs {
    /// The sender.
    #[command(flatten)]
    pub from: FromArg,
    /// The dataset id (hex).
    #[arg(long, value_name = "ID")]
    pub dataset: Hash,
}

/// Arguments of `coop consent`.
#[derive(Debug, ClapArgs)]
pub struct ConsentArgs {
    /// The sender and the dataset.
    #[command(flatten)]
    pub dataset: DatasetArgs,
    /// The new terms.
    #[arg(long, value_enum, value_delimiter = ',', required = true)]
    pub consent: Vec<Use>,
}

/// Arguments of `coop propose`.
#[derive(Debug, ClapArgs)]
pub struct ProposeArgs {
    /// The sender and the cooperative.
    #[command(flatten)]
    pub coop: CoopArgs,
    /// What the proposal does.
    #[command(subcommand)]
    pub kind: KindArgs,
}

/// Proposal kinds.
#[derive(Debug, Subcommand)]
pub enum KindArgs {
    /// Admit an account.
    Admit {
        /// The account (address or key name).
        #[arg(long, value_name = "ADDR")]
        member: String,
    },
    /// Remove a member.
    Remove {
        /// The member (address or key name).
        #[arg(long, value_name = "ADDR")]
        member: String,
    },
    /// Approve a training task.
    ApproveTask {
        /// The task id (hex).
        #[arg(long, value_name = "ID")]
        task: Hash,
    },
    /// Replace the rules.
    ChangeRules(RulesArgs),
    /// Pay from the treasury.
    Spend {
        /// The payee (address or key name).
        #[arg(long, value_name = "ADDR")]
        to: String,
        /// The amount.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
        amount: u64,
    },
}

/// Arguments naming a proposal.
#[derive(Debug, ClapArgs)]
pub struct ProposalArgs {
    /// The sender.
    #[command(flatten)]
    pub from: FromArg,
    /// The proposal id (hex).
    #[arg(long, value_name = "ID")]
    pub proposal: Hash,
}

/// Arguments of `coop vote`.
#[derive(Debug, ClapArgs)]
pub struct VoteArgs {
    /// The voter and the proposal.
    #[command(flatten)]
    pub proposal: ProposalArgs,
    /// The vote.
    #[arg(value_enum)]
    pub choice: Choice,
}

/// A vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Choice {
    /// In favour.
    Yes,
    /// Against.
    No,
}

/// Arguments of `coop deposit`.
#[derive(Debug, ClapArgs)]
pub struct DepositArgs {
    /// The sender and the cooperative.
    #[command(flatten)]
    pub coop: CoopArgs,
    /// The amount.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub amount: u64,
}

/// What `coop show` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShowWhat {
    /// A cooperative (by coop id).
    Coop,
    /// Its members (by coop id).
    Members,
    /// Its datasets (by coop id).
    Datasets,
    /// Its proposals (by coop id).
    Proposals,
    /// A dataset (by dataset id).
    Dataset,
    /// A proposal (by proposal id).
    Proposal,
}

impl ShowWhat {
    fn path(self) -> &'static str {
        match self {
            Self::Coop => "coop",
            Self::Members => "members",
            Self::Datasets => "datasets",
            Self::Proposals => "proposals",
            Self::Dataset => "dataset",
            Self::Proposal => "proposal",
        }
    }
}

/// Arguments of `coop show`.
#[derive(Debug, ClapArgs)]
pub struct ShowArgs {
    /// What to show.
    #[arg(value_enum)]
    pub what: ShowWhat,
    /// The id (hex) of the cooperative, dataset or proposal.
    pub id: Hash,
}

/// Returns the Merkle root, the record count and the schema (header line) of a CSV shard.
///
/// The first line is the schema. Every later non-empty line is one record, taken as its bytes
/// without the line terminator (`\n` or `\r\n`); records are committed in file order with
/// [`dataset_root`].
///
/// # Errors
/// I/O errors, a file without a header line, or a header longer than the schema limit.
pub fn dataset_root_of_csv(path: &Path) -> std::io::Result<(Hash, u64, String)> {
    let file = std::fs::File::open(path)?;
    let mut lines = BufReader::new(file).split(b'\n').map(|line| {
        line.map(|mut l| {
            if l.last() == Some(&b'\r') {
                l.pop();
            }
            l
        })
    });
    let invalid = |m: String| std::io::Error::new(std::io::ErrorKind::InvalidData, m);
    let header = lines
        .next()
        .transpose()?
        .ok_or_else(|| invalid("the file is empty; expected a header line".into()))?;
    let schema =
        String::from_utf8(header).map_err(|_| invalid("the header line is not UTF-8".into()))?;
    if schema.len() > MAX_SCHEMA_BYTES {
        return Err(invalid(format!(
            "the header line is {} bytes, above the limit of {MAX_SCHEMA_BYTES}",
            schema.len()
        )));
    }
    let mut records = Vec::new();
    for line in lines {
        let line = line?;
        if !line.is_empty() {
            records.push(line);
        }
    }
    let refs: Vec<&[u8]> = records.iter().map(Vec::as_slice).collect();
    Ok((dataset_root(&refs), refs.len() as u64, schema))
}

#[derive(Serialize)]
struct Outcome<'a> {
    action: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    coop: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dataset: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    proposal: Option<String>,
    receipt: &'a ReceiptView,
}

fn event_attr(receipt: &ReceiptView, key: &str) -> Option<String> {
    receipt
        .events
        .iter()
        .filter(|e| e.module == COOP_MODULE.0)
        .find_map(|e| e.attributes.get(key).cloned())
}

fn signer(args: &Args, from: &FromArg) -> anyhow::Result<Signer> {
    let key = args.home.keystore()?.load(&from.from)?;
    Signer::new(args.rpc.client()?, key)
}

fn send(
    args: &Args,
    from: &FromArg,
    call: CoopCall,
    action: &'static str,
) -> anyhow::Result<Output> {
    let mut signer = signer(args, from)?;
    let receipt = signer.send_and_wait(Call {
        module: COOP_MODULE,
        payload: call.to_payload(),
    })?;
    let outcome = Outcome {
        action,
        coop: event_attr(&receipt, "coop"),
        dataset: event_attr(&receipt, "dataset"),
        proposal: event_attr(&receipt, "proposal"),
        receipt: &receipt,
    };
    let mut text = format!(
        "{action}: tx {} final at height {}",
        receipt.tx_hash, receipt.height
    );
    for event in receipt.events.iter().filter(|e| e.module == COOP_MODULE.0) {
        let _ = write!(text, "\n  {}", event.kind);
        for (k, v) in &event.attributes {
            let _ = write!(text, " {k}={v}");
        }
    }
    Ok(Output::with_text(&outcome, text)?)
}

fn address(text: &str, home: &HomeOpt) -> anyhow::Result<Address> {
    resolve_address(text, home)
}

fn read_credential(path: &Path) -> anyhow::Result<Vec<u8>> {
    let mut bytes = std::fs::read(path)
        .with_context(|| format!("cannot read credential {}", path.display()))?;
    // A text credential saved by an editor or `echo` ends with a newline that is not part of it.
    if std::str::from_utf8(&bytes).is_ok() {
        while matches!(bytes.last(), Some(b'\n' | b'\r')) {
            bytes.pop();
        }
    }
    Ok(bytes)
}

/// Run `coop`.
///
/// # Errors
/// A missing key or file, bad arguments, an unreachable node, or a call the chain refused
/// (with the module's message and code).
pub fn run(args: Args, _global: &Global) -> anyhow::Result<Output> {
    match &args.command {
        Command::Create(a) => {
            let rules = a.rules.to_rules(&args.home)?;
            let call = CoopCall::Create {
                name: a.name.clone(),
                rules,
            };
            send(&args, &a.from, call, "created coop")
        }
        Command::Join(a) => {
            let credential = a.credential.as_deref().map(read_credential).transpose()?;
            let call = CoopCall::Join {
                coop: a.coop.coop,
                credential,
            };
            send(&args, &a.coop.from, call, "join")
        }
        Command::Leave(a) => send(
            &args,
            &a.from,
            CoopCall::Leave { coop: a.coop },
            "left coop",
        ),
        Command::CommitDataset(a) => {
            let (root, records, schema) = dataset_root_of_csv(&a.data)
                .with_context(|| format!("cannot commit {}", a.data.display()))?;
            let call = CoopCall::CommitDataset {
                coop: a.coop.coop,
                root,
                schema,
                records,
                consent: consent_of(&a.consent),
            };
            send(&args, &a.coop.from, call, "committed dataset")
        }
        Command::Consent(a) => {
            let call = CoopCall::SetConsent {
                dataset: a.dataset.dataset,
                consent: consent_of(&a.consent),
            };
            send(&args, &a.dataset.from, call, "changed consent")
        }
        Command::RevokeConsent(a) => send(
            &args,
            &a.from,
            CoopCall::RevokeConsent { dataset: a.dataset },
            "revoked consent",
        ),
        Command::Propose(a) => {
            let kind = match &a.kind {
                KindArgs::Admit { member } => ProposalKind::Admit {
                    member: address(member, &args.home)?,
                },
                KindArgs::Remove { member } => ProposalKind::Remove {
                    member: address(member, &args.home)?,
                },
                KindArgs::ApproveTask { task } => ProposalKind::ApproveTask { task: *task },
                KindArgs::ChangeRules(rules) => ProposalKind::ChangeRules {
                    rules: rules.to_rules(&args.home)?,
                },
                KindArgs::Spend { to, amount } => ProposalKind::Spend {
                    to: address(to, &args.home)?,
                    amount: *amount,
                },
            };
            let call = CoopCall::Propose {
                coop: a.coop.coop,
                kind,
            };
            send(&args, &a.coop.from, call, "proposed")
        }
        Command::Vote(a) => {
            let call = CoopCall::Vote {
                proposal: a.proposal.proposal,
                yes: a.choice == Choice::Yes,
            };
            send(&args, &a.proposal.from, call, "voted")
        }
        Command::Execute(a) => send(
            &args,
            &a.from,
            CoopCall::Execute {
                proposal: a.proposal,
            },
            "executed",
        ),
        Command::Deposit(a) => {
            let call = CoopCall::Deposit {
                coop: a.coop.coop,
                amount: a.amount,
            };
            send(&args, &a.coop.from, call, "deposited")
        }
        Command::Show(a) => {
            let bytes = args
                .rpc
                .client()?
                .query(COOP_MODULE.0, a.what.path(), &a.id.0)?;
            let value: serde_json::Value =
                serde_json::from_slice(&bytes).context("the node sent a malformed answer")?;
            if value.is_null() {
                bail!("no {} {}", a.what.path(), a.id);
            }
            let text = serde_json::to_string_pretty(&value)?;
            Ok(Output::with_text(&value, text)?)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use counterweight_coop::dataset_root;

    use super::dataset_root_of_csv;

    #[test]
    fn csv_root_commits_to_data_rows_in_order() {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        file.write_all(b"date,field,yield_kg\r\n2026-05-01,north,310\r\n2026-05-01,south,295\n\n")
            .expect("write");
        let (root, records, schema) = dataset_root_of_csv(file.path()).expect("reads");
        assert_eq!(schema, "date,field,yield_kg");
        assert_eq!(records, 2);
        assert_eq!(
            root,
            dataset_root(&[b"2026-05-01,north,310", b"2026-05-01,south,295"])
        );
    }

    #[test]
    fn csv_without_header_is_refused() {
        let file = tempfile::NamedTempFile::new().expect("temp file");
        assert!(dataset_root_of_csv(file.path()).is_err());
    }
}
