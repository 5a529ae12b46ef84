//! The coop module: executes [`CoopCall`]s and answers queries.

use std::collections::BTreeMap;

use counterweight_state::{CallError, Module, ModuleError, StateAccess, TxContext};
use counterweight_storage_api::{StateReader, StorageError};
use counterweight_types::{Address, Genesis, Hash, ModuleId};
use serde::Serialize;

use crate::{
    call::{Admission, Consent, CoopCall, ProposalKind, Rules},
    records::{Coop, Dataset, Proposal, ProposalStatus},
    store::{
        COOP_MODULE, MAX_MEMBERS, approved_key, coop, coop_id, dataset, dataset_count_key,
        dataset_id, dataset_index_key, datasets, epoch_key, is_approved, member_epoch, member_key,
        members, pending_key, proposal, proposal_count_key, proposal_id, proposal_index_key,
        proposals, push_index, read_hash, read_u64, treasury_address, vote_key, write_coop,
        write_dataset, write_members, write_proposal,
    },
};

/// The longest voting period rules may set: one year.
pub const MAX_VOTING_PERIOD_MS: u64 = 365 * 24 * 60 * 60 * 1000;

/// The most entries a list query (`datasets`, `proposals`) returns: the latest ones.
pub const MAX_QUERY_ITEMS: usize = 256;

/// Failure codes in receipts of coop calls and queries (stable).
pub mod codes {
    /// The payload does not decode.
    pub const MALFORMED: u32 = 1;
    /// Unknown query path or bad query argument.
    pub const BAD_QUERY: u32 = 2;
    /// No cooperative has this id.
    pub const UNKNOWN_COOP: u32 = 3;
    /// The sender (or the named account) is not a member.
    pub const NOT_MEMBER: u32 = 4;
    /// The account is already a member.
    pub const ALREADY_MEMBER: u32 = 5;
    /// Rules out of range (shares above 1000, quorum or approval 0, bad period or kind).
    pub const INVALID_RULES: u32 = 6;
    /// The name is empty.
    pub const INVALID_NAME: u32 = 7;
    /// The coop admits by credential and none was presented.
    pub const CREDENTIAL_REQUIRED: u32 = 8;
    /// The credential does not verify (forged, revoked, expired or malformed).
    pub const CREDENTIAL_INVALID: u32 = 9;
    /// The credential verifies but has the wrong issuer, kind or subject.
    pub const CREDENTIAL_MISMATCH: u32 = 10;
    /// A credential was presented to a coop that admits by vote.
    pub const CREDENTIAL_UNEXPECTED: u32 = 11;
    /// The sender already has an admission proposal open in this coop.
    pub const JOIN_PENDING: u32 = 12;
    /// The last member cannot leave or be removed.
    pub const LAST_MEMBER: u32 = 13;
    /// The coop has [`crate::MAX_MEMBERS`] members.
    pub const TOO_MANY_MEMBERS: u32 = 14;
    /// No dataset has this id.
    pub const UNKNOWN_DATASET: u32 = 15;
    /// This dataset (same coop, root and owner) is already committed.
    pub const DATASET_EXISTS: u32 = 16;
    /// Only the dataset's owner may change its consent.
    pub const NOT_OWNER: u32 = 17;
    /// The dataset's consent was revoked, which is final.
    pub const CONSENT_REVOKED: u32 = 18;
    /// No proposal has this id.
    pub const UNKNOWN_PROPOSAL: u32 = 19;
    /// The proposal's voting deadline has passed.
    pub const VOTING_CLOSED: u32 = 20;
    /// The member already voted on this proposal.
    pub const ALREADY_VOTED: u32 = 21;
    /// The member joined after the proposal opened and may not vote on it.
    pub const NOT_ELIGIBLE: u32 = 22;
    /// The proposal can still go either way and its deadline has not passed.
    pub const NOT_DECIDED: u32 = 23;
    /// The proposal was already executed.
    pub const PROPOSAL_CLOSED: u32 = 24;
    /// The proposal cannot apply (e.g. removing a non-member, approving an approved task).
    pub const INVALID_PROPOSAL: u32 = 25;
    /// Amounts must be at least 1.
    pub const ZERO_AMOUNT: u32 = 26;
    /// The payer (sender or treasury) has too little balance.
    pub const INSUFFICIENT_FUNDS: u32 = 27;
}

fn fail(code: u32, message: impl Into<String>) -> CallError {
    ModuleError::new(code, message).into()
}

/// Re-labels a bank refusal with this module's code; storage faults pass through.
fn bank_failure(e: CallError, code: u32, context: &str) -> CallError {
    match e {
        CallError::Failed(m) => fail(code, format!("{context}: {}", m.message)),
        other => other,
    }
}

fn attrs<const N: usize>(pairs: [(&str, String); N]) -> BTreeMap<String, String> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// Checks that `rules` are acceptable.
///
/// # Errors
/// [`codes::INVALID_RULES`] naming the offending field and its allowed range.
pub fn validate_rules(rules: &Rules) -> Result<(), ModuleError> {
    let bad = |m: String| Err(ModuleError::new(codes::INVALID_RULES, m));
    if !(1..=1000).contains(&rules.quorum_permille) {
        return bad(format!(
            "quorum_permille is {}, expected 1 to 1000",
            rules.quorum_permille
        ));
    }
    if !(1..=1000).contains(&rules.approval_permille) {
        return bad(format!(
            "approval_permille is {}, expected 1 to 1000",
            rules.approval_permille
        ));
    }
    if rules.revenue_share_permille > 1000 {
        return bad(format!(
            "revenue_share_permille is {}, expected 0 to 1000",
            rules.revenue_share_permille
        ));
    }
    if rules.voting_period_ms == 0 || rules.voting_period_ms > MAX_VOTING_PERIOD_MS {
        return bad(format!(
            "voting_period_ms is {}, expected 1 to {MAX_VOTING_PERIOD_MS}",
            rules.voting_period_ms
        ));
    }
    if let Admission::ByCredential { kind, .. } = &rules.admission
        && kind.is_empty()
    {
        return bad("credential kind is empty".into());
    }
    Ok(())
}

/// Whether `yes` and `no` votes out of `electorate` meet the proposal's quorum and approval.
fn passes(p: &Proposal, yes: u64, no: u64) -> bool {
    let cast = yes + no;
    cast > 0
        && cast * 1000 >= u64::from(p.quorum_permille) * u64::from(p.electorate)
        && yes * 1000 >= u64::from(p.approval_permille) * cast
}

/// Returns the proposal's outcome if the votes still outstanding cannot change it.
///
/// It passes for sure when it passes now (so quorum is met even if nobody else votes) and
/// still passes if every outstanding member votes no (the worst case for approval). It fails
/// for sure when it fails even if every outstanding member votes yes (the best case for both).
pub(crate) fn settled_outcome(p: &Proposal) -> Option<bool> {
    let (yes, no) = (u64::from(p.yes), u64::from(p.no));
    let outstanding = u64::from(p.electorate).saturating_sub(yes + no);
    if passes(p, yes, no) && passes(p, yes, no + outstanding) {
        Some(true)
    } else if !passes(p, yes + outstanding, no) {
        Some(false)
    } else {
        None
    }
}

fn require_coop(state: &dyn StateReader, id: &Hash) -> Result<Coop, CallError> {
    coop(state, id)?.ok_or_else(|| fail(codes::UNKNOWN_COOP, format!("no coop {id}")))
}

fn require_member(state: &dyn StateReader, coop: &Hash, who: &Address) -> Result<(), CallError> {
    if member_epoch(state, coop, who)?.is_none() {
        return Err(fail(
            codes::NOT_MEMBER,
            format!("{who} is not a member of coop {coop}"),
        ));
    }
    Ok(())
}

fn require_proposal(state: &dyn StateReader, id: &Hash) -> Result<Proposal, CallError> {
    proposal(state, id)?.ok_or_else(|| fail(codes::UNKNOWN_PROPOSAL, format!("no proposal {id}")))
}

fn require_owned_dataset(
    state: &dyn StateReader,
    id: &Hash,
    who: &Address,
) -> Result<Dataset, CallError> {
    let d = dataset(state, id)?
        .ok_or_else(|| fail(codes::UNKNOWN_DATASET, format!("no dataset {id}")))?;
    if d.owner != *who {
        return Err(fail(
            codes::NOT_OWNER,
            format!("only the owner {} may change consent", d.owner),
        ));
    }
    if d.revoked {
        return Err(fail(
            codes::CONSENT_REVOKED,
            format!("consent for dataset {id} was revoked, which is final"),
        ));
    }
    Ok(d)
}

/// Adds `who` to the coop's members with a fresh membership epoch.
fn add_member(state: &mut dyn StateAccess, c: &mut Coop, who: &Address) -> Result<(), CallError> {
    if member_epoch(state, &c.id, who)?.is_some() {
        return Err(fail(
            codes::ALREADY_MEMBER,
            format!("{who} is already a member of coop {}", c.id),
        ));
    }
    if c.members >= MAX_MEMBERS {
        return Err(fail(
            codes::TOO_MANY_MEMBERS,
            format!("coop {} has the maximum of {MAX_MEMBERS} members", c.id),
        ));
    }
    let epoch = read_u64(state, &epoch_key(&c.id), "coop epoch")?.unwrap_or(0) + 1;
    state.set(epoch_key(&c.id), epoch.to_be_bytes().to_vec());
    state.set(member_key(&c.id, who), epoch.to_be_bytes().to_vec());
    let mut list = members(state, &c.id)?;
    if let Err(at) = list.binary_search(who) {
        list.insert(at, *who);
    }
    write_members(state, &c.id, &list);
    c.members += 1;
    write_coop(state, c);
    Ok(())
}

/// Removes `who` from the coop's members; the last member stays.
fn remove_member(
    state: &mut dyn StateAccess,
    c: &mut Coop,
    who: &Address,
) -> Result<(), CallError> {
    require_member(state, &c.id, who)?;
    if c.members <= 1 {
        return Err(fail(
            codes::LAST_MEMBER,
            format!("{who} is the last member of coop {}", c.id),
        ));
    }
    state.delete(member_key(&c.id, who));
    let mut list = members(state, &c.id)?;
    if let Ok(at) = list.binary_search(who) {
        list.remove(at);
    }
    write_members(state, &c.id, &list);
    c.members -= 1;
    write_coop(state, c);
    Ok(())
}

/// Validates a proposal kind against the coop's current state.
fn check_kind(state: &dyn StateReader, c: &Coop, kind: &ProposalKind) -> Result<(), CallError> {
    match kind {
        ProposalKind::Admit { member } => {
            if member_epoch(state, &c.id, member)?.is_some() {
                return Err(fail(
                    codes::ALREADY_MEMBER,
                    format!("{member} is already a member of coop {}", c.id),
                ));
            }
        }
        ProposalKind::Remove { member } => {
            require_member(state, &c.id, member)?;
            if c.members <= 1 {
                return Err(fail(
                    codes::LAST_MEMBER,
                    format!("{member} is the last member of coop {}", c.id),
                ));
            }
        }
        ProposalKind::ApproveTask { task } => {
            if is_approved(state, &c.id, task)? {
                return Err(fail(
                    codes::INVALID_PROPOSAL,
                    format!("task {task} is already approved"),
                ));
            }
        }
        ProposalKind::ChangeRules { rules } => validate_rules(rules)?,
        ProposalKind::Spend { amount, .. } => {
            if *amount == 0 {
                return Err(fail(codes::ZERO_AMOUNT, "spend amount must be at least 1"));
            }
        }
    }
    Ok(())
}

/// Opens a proposal in `c` and reports it; returns its id.
fn open_proposal(ctx: &mut TxContext<'_>, c: &Coop, kind: ProposalKind) -> Result<Hash, CallError> {
    let id = proposal_id(ctx.chain_id, &ctx.tx_hash);
    let p = Proposal {
        id,
        coop: c.id,
        proposer: ctx.sender,
        kind,
        created_ms: ctx.timestamp_ms,
        deadline_ms: ctx.timestamp_ms.saturating_add(c.rules.voting_period_ms),
        created_height: ctx.height.0,
        epoch: read_u64(ctx, &epoch_key(&c.id), "coop epoch")?.unwrap_or(0),
        electorate: c.members,
        quorum_permille: c.rules.quorum_permille,
        approval_permille: c.rules.approval_permille,
        yes: 0,
        no: 0,
        status: ProposalStatus::Open,
    };
    write_proposal(ctx, &p);
    push_index(
        ctx,
        proposal_count_key(&c.id),
        |n| proposal_index_key(&c.id, n),
        &id,
    )?;
    let mut a = attrs([
        ("coop", c.id.to_hex()),
        ("proposal", id.to_hex()),
        ("proposer", ctx.sender.to_hex()),
        ("kind", kind_name(&p.kind).to_owned()),
        ("deadline_ms", p.deadline_ms.to_string()),
    ]);
    match &p.kind {
        ProposalKind::Admit { member } | ProposalKind::Remove { member } => {
            a.insert("member".into(), member.to_hex());
        }
        ProposalKind::ApproveTask { task } => {
            a.insert("task".into(), task.to_hex());
        }
        ProposalKind::Spend { to, amount } => {
            a.insert("to".into(), to.to_hex());
            a.insert("amount".into(), amount.to_string());
        }
        ProposalKind::ChangeRules { .. } => {}
    }
    ctx.emit("proposal_created", a);
    Ok(id)
}

fn kind_name(kind: &ProposalKind) -> &'static str {
    match kind {
        ProposalKind::Admit { .. } => "admit",
        ProposalKind::Remove { .. } => "remove",
        ProposalKind::ApproveTask { .. } => "approve_task",
        ProposalKind::ChangeRules { .. } => "change_rules",
        ProposalKind::Spend { .. } => "spend",
    }
}

fn consent_attrs(dataset: &Hash, consent: &Consent) -> BTreeMap<String, String> {
    attrs([
        ("dataset", dataset.to_hex()),
        ("training", consent.training.to_string()),
        ("commercial", consent.commercial.to_string()),
        ("derivatives", consent.derivatives.to_string()),
    ])
}

/// The coop module.
#[derive(Clone, Copy, Debug, Default)]
pub struct CoopModule;

impl CoopModule {
    fn create(ctx: &mut TxContext<'_>, name: String, rules: Rules) -> Result<(), CallError> {
        if name.trim().is_empty() {
            return Err(fail(codes::INVALID_NAME, "coop name is empty"));
        }
        validate_rules(&rules)?;
        let id = coop_id(ctx.chain_id, &ctx.tx_hash);
        if coop(ctx, &id)?.is_some() {
            return Err(StorageError::Invariant(format!("coop {id} exists")).into());
        }
        let founder = ctx.sender;
        let mut c = Coop {
            id,
            name,
            founder,
            rules,
            members: 0,
            treasury: treasury_address(&id),
        };
        add_member(ctx, &mut c, &founder)?;
        ctx.emit(
            "coop_created",
            attrs([
                ("coop", id.to_hex()),
                ("founder", founder.to_hex()),
                ("treasury", c.treasury.to_hex()),
            ]),
        );
        Ok(())
    }

    fn join(
        ctx: &mut TxContext<'_>,
        coop_id: Hash,
        credential: Option<Vec<u8>>,
    ) -> Result<(), CallError> {
        let mut c = require_coop(ctx, &coop_id)?;
        let sender = ctx.sender;
        if member_epoch(ctx, &coop_id, &sender)?.is_some() {
            return Err(fail(
                codes::ALREADY_MEMBER,
                format!("{sender} is already a member of coop {coop_id}"),
            ));
        }
        match c.rules.admission.clone() {
            Admission::ByVote => {
                if credential.is_some() {
                    return Err(fail(
                        codes::CREDENTIAL_UNEXPECTED,
                        "this coop admits by vote; join without a credential",
                    ));
                }
                if let Some(open) = read_hash(ctx, &pending_key(&coop_id, &sender), "pending")? {
                    return Err(fail(
                        codes::JOIN_PENDING,
                        format!("admission proposal {open} is already open"),
                    ));
                }
                let id = open_proposal(ctx, &c, ProposalKind::Admit { member: sender })?;
                ctx.set(pending_key(&coop_id, &sender), id.0.to_vec());
                ctx.emit(
                    "join_requested",
                    attrs([
                        ("coop", coop_id.to_hex()),
                        ("member", sender.to_hex()),
                        ("proposal", id.to_hex()),
                    ]),
                );
            }
            Admission::ByCredential { issuer, kind } => {
                let Some(credential) = credential else {
                    return Err(fail(
                        codes::CREDENTIAL_REQUIRED,
                        format!("this coop admits holders of a {kind:?} credential from {issuer}"),
                    ));
                };
                let via = crate::credential::check(
                    ctx,
                    &credential,
                    ctx.timestamp_ms,
                    &issuer,
                    &kind,
                    &sender,
                )?;
                add_member(ctx, &mut c, &sender)?;
                ctx.emit(
                    "member_joined",
                    attrs([
                        ("coop", coop_id.to_hex()),
                        ("member", sender.to_hex()),
                        ("credential", via.to_hex()),
                    ]),
                );
            }
        }
        Ok(())
    }

    fn commit_dataset(
        ctx: &mut TxContext<'_>,
        coop_id: Hash,
        root: Hash,
        schema: String,
        records: u64,
        consent: Consent,
    ) -> Result<(), CallError> {
        require_coop(ctx, &coop_id)?;
        let owner = ctx.sender;
        require_member(ctx, &coop_id, &owner)?;
        let id = dataset_id(ctx.chain_id, &coop_id, &root, &owner);
        if dataset(ctx, &id)?.is_some() {
            return Err(fail(
                codes::DATASET_EXISTS,
                format!("dataset {id} is already committed"),
            ));
        }
        let d = Dataset {
            id,
            coop: coop_id,
            owner,
            root,
            schema,
            records,
            consent,
            revoked: false,
            committed_height: ctx.height.0,
        };
        write_dataset(ctx, &d);
        push_index(
            ctx,
            dataset_count_key(&coop_id),
            |n| dataset_index_key(&coop_id, n),
            &id,
        )?;
        let mut a = consent_attrs(&id, &consent);
        a.insert("coop".into(), coop_id.to_hex());
        a.insert("owner".into(), owner.to_hex());
        a.insert("root".into(), root.to_hex());
        a.insert("records".into(), records.to_string());
        ctx.emit("dataset_committed", a);
        Ok(())
    }

    fn vote(ctx: &mut TxContext<'_>, id: Hash, yes: bool) -> Result<(), CallError> {
        let mut p = require_proposal(ctx, &id)?;
        let voter = ctx.sender;
        if p.status != ProposalStatus::Open {
            return Err(fail(
                codes::PROPOSAL_CLOSED,
                format!("proposal {id} was already executed"),
            ));
        }
        if ctx.timestamp_ms >= p.deadline_ms {
            return Err(fail(
                codes::VOTING_CLOSED,
                format!(
                    "voting on proposal {id} closed at {} ms; block time is {} ms",
                    p.deadline_ms, ctx.timestamp_ms
                ),
            ));
        }
        match member_epoch(ctx, &p.coop, &voter)? {
            None => {
                return Err(fail(
                    codes::NOT_MEMBER,
                    format!("{voter} is not a member of coop {}", p.coop),
                ));
            }
            Some(joined) if joined > p.epoch => {
                return Err(fail(
                    codes::NOT_ELIGIBLE,
                    format!("{voter} joined after proposal {id} opened"),
                ));
            }
            Some(_) => {}
        }
        if ctx.get(&vote_key(&id, &voter))?.is_some() {
            return Err(fail(
                codes::ALREADY_VOTED,
                format!("{voter} already voted on proposal {id}"),
            ));
        }
        ctx.set(vote_key(&id, &voter), vec![u8::from(yes)]);
        // Eligible voters are at most the electorate, so neither tally can overflow.
        if yes {
            p.yes += 1;
        } else {
            p.no += 1;
        }
        write_proposal(ctx, &p);
        ctx.emit(
            "vote_cast",
            attrs([
                ("coop", p.coop.to_hex()),
                ("proposal", id.to_hex()),
                ("voter", voter.to_hex()),
                ("yes", yes.to_string()),
            ]),
        );
        Ok(())
    }

    fn execute_proposal(ctx: &mut TxContext<'_>, id: Hash) -> Result<(), CallError> {
        let mut p = require_proposal(ctx, &id)?;
        if p.status != ProposalStatus::Open {
            return Err(fail(
                codes::PROPOSAL_CLOSED,
                format!("proposal {id} was already executed"),
            ));
        }
        let outcome = if ctx.timestamp_ms >= p.deadline_ms {
            passes(&p, u64::from(p.yes), u64::from(p.no))
        } else {
            settled_outcome(&p).ok_or_else(|| {
                fail(
                    codes::NOT_DECIDED,
                    format!(
                        "proposal {id} is undecided ({} yes, {} no of {}) until {} ms",
                        p.yes, p.no, p.electorate, p.deadline_ms
                    ),
                )
            })?
        };
        let mut c = require_coop(ctx, &p.coop)?;
        if let ProposalKind::Admit { member } = &p.kind
            && read_hash(ctx, &pending_key(&c.id, member), "pending")? == Some(id)
        {
            ctx.delete(pending_key(&c.id, member));
        }
        p.status = if outcome {
            ProposalStatus::Passed
        } else {
            ProposalStatus::Rejected
        };
        write_proposal(ctx, &p);
        ctx.emit(
            "proposal_executed",
            attrs([
                ("coop", c.id.to_hex()),
                ("proposal", id.to_hex()),
                ("kind", kind_name(&p.kind).to_owned()),
                ("passed", outcome.to_string()),
                ("yes", p.yes.to_string()),
                ("no", p.no.to_string()),
            ]),
        );
        if outcome {
            Self::apply(ctx, &mut c, &p)?;
        }
        Ok(())
    }

    /// Applies a passed proposal. A failure here fails the `Execute` call, which leaves the
    /// proposal open so it can be executed again once it can apply (e.g. a funded treasury).
    fn apply(ctx: &mut TxContext<'_>, c: &mut Coop, p: &Proposal) -> Result<(), CallError> {
        let coop_hex = c.id.to_hex();
        let proposal_hex = p.id.to_hex();
        match &p.kind {
            ProposalKind::Admit { member } => {
                if member_epoch(ctx, &c.id, member)?.is_none() {
                    add_member(ctx, c, member)?;
                }
                ctx.emit(
                    "member_admitted",
                    attrs([
                        ("coop", coop_hex),
                        ("member", member.to_hex()),
                        ("proposal", proposal_hex),
                    ]),
                );
            }
            ProposalKind::Remove { member } => {
                if member_epoch(ctx, &c.id, member)?.is_some() {
                    remove_member(ctx, c, member)?;
                }
                ctx.emit(
                    "member_removed",
                    attrs([
                        ("coop", coop_hex),
                        ("member", member.to_hex()),
                        ("proposal", proposal_hex),
                    ]),
                );
            }
            ProposalKind::ApproveTask { task } => {
                ctx.set(approved_key(&c.id, task), vec![1]);
                ctx.emit(
                    "task_approved",
                    attrs([
                        ("coop", coop_hex),
                        ("task", task.to_hex()),
                        ("proposal", proposal_hex),
                    ]),
                );
            }
            ProposalKind::ChangeRules { rules } => {
                c.rules = rules.clone();
                write_coop(ctx, c);
                ctx.emit(
                    "rules_changed",
                    attrs([
                        ("coop", coop_hex),
                        ("proposal", proposal_hex),
                        ("quorum_permille", rules.quorum_permille.to_string()),
                        ("approval_permille", rules.approval_permille.to_string()),
                        ("voting_period_ms", rules.voting_period_ms.to_string()),
                        (
                            "revenue_share_permille",
                            rules.revenue_share_permille.to_string(),
                        ),
                    ]),
                );
            }
            ProposalKind::Spend { to, amount } => {
                counterweight_bank::transfer(ctx, &c.treasury, to, *amount).map_err(|e| {
                    bank_failure(e, codes::INSUFFICIENT_FUNDS, "treasury cannot pay")
                })?;
                ctx.emit(
                    "spend",
                    attrs([
                        ("coop", coop_hex),
                        ("to", to.to_hex()),
                        ("amount", amount.to_string()),
                        ("proposal", proposal_hex),
                    ]),
                );
            }
        }
        Ok(())
    }
}

impl Module for CoopModule {
    fn id(&self) -> ModuleId {
        COOP_MODULE
    }

    fn name(&self) -> &'static str {
        "coop"
    }

    fn check_payload(&self, payload: &[u8]) -> Result<(), ModuleError> {
        CoopCall::from_payload(payload)
            .map(|_| ())
            .map_err(|e| ModuleError::new(codes::MALFORMED, format!("coop call: {e}")))
    }

    fn init_genesis(&self, _: &mut dyn StateAccess, _: &Genesis) -> Result<(), CallError> {
        Ok(())
    }

    fn execute(&self, ctx: &mut TxContext<'_>, payload: &[u8]) -> Result<(), CallError> {
        let call = CoopCall::from_payload(payload)
            .map_err(|e| fail(codes::MALFORMED, format!("coop call: {e}")))?;
        let sender = ctx.sender;
        match call {
            CoopCall::Create { name, rules } => Self::create(ctx, name, rules)?,
            CoopCall::Join { coop, credential } => Self::join(ctx, coop, credential)?,
            CoopCall::Leave { coop } => {
                let mut c = require_coop(ctx, &coop)?;
                remove_member(ctx, &mut c, &sender)?;
                ctx.emit(
                    "member_left",
                    attrs([("coop", coop.to_hex()), ("member", sender.to_hex())]),
                );
            }
            CoopCall::CommitDataset {
                coop,
                root,
                schema,
                records,
                consent,
            } => Self::commit_dataset(ctx, coop, root, schema, records, consent)?,
            CoopCall::SetConsent { dataset, consent } => {
                let mut d = require_owned_dataset(ctx, &dataset, &sender)?;
                d.consent = consent;
                write_dataset(ctx, &d);
                let mut a = consent_attrs(&dataset, &consent);
                a.insert("coop".into(), d.coop.to_hex());
                ctx.emit("consent_changed", a);
            }
            CoopCall::RevokeConsent { dataset } => {
                let mut d = require_owned_dataset(ctx, &dataset, &sender)?;
                d.consent = Consent::default();
                d.revoked = true;
                write_dataset(ctx, &d);
                ctx.emit(
                    "consent_revoked",
                    attrs([("coop", d.coop.to_hex()), ("dataset", dataset.to_hex())]),
                );
            }
            CoopCall::Propose { coop, kind } => {
                let c = require_coop(ctx, &coop)?;
                require_member(ctx, &coop, &sender)?;
                check_kind(ctx, &c, &kind)?;
                open_proposal(ctx, &c, kind)?;
            }
            CoopCall::Vote { proposal, yes } => Self::vote(ctx, proposal, yes)?,
            CoopCall::Execute { proposal } => Self::execute_proposal(ctx, proposal)?,
            CoopCall::Deposit { coop, amount } => {
                let c = require_coop(ctx, &coop)?;
                if amount == 0 {
                    return Err(fail(
                        codes::ZERO_AMOUNT,
                        "deposit amount must be at least 1",
                    ));
                }
                counterweight_bank::transfer(ctx, &sender, &c.treasury, amount)
                    .map_err(|e| bank_failure(e, codes::INSUFFICIENT_FUNDS, "cannot deposit"))?;
                ctx.emit(
                    "deposit",
                    attrs([
                        ("coop", coop.to_hex()),
                        ("from", sender.to_hex()),
                        ("amount", amount.to_string()),
                    ]),
                );
            }
        }
        Ok(())
    }

    fn query(
        &self,
        state: &dyn StateReader,
        path: &str,
        data: &[u8],
    ) -> Result<Vec<u8>, CallError> {
        let arg = || {
            <[u8; 32]>::try_from(data)
                .map(Hash)
                .map_err(|_| fail(codes::BAD_QUERY, "argument must be 32 bytes"))
        };
        match path {
            "coop" => json(&coop(state, &arg()?)?),
            "members" => json(&members(state, &arg()?)?),
            "dataset" => json(&dataset(state, &arg()?)?),
            "datasets" => {
                let ids = latest(datasets(state, &arg()?)?);
                let mut out = Vec::with_capacity(ids.len());
                for id in ids {
                    out.extend(dataset(state, &id)?);
                }
                json(&out)
            }
            "proposal" => json(&proposal(state, &arg()?)?),
            "proposals" => {
                let ids = latest(proposals(state, &arg()?)?);
                let mut out = Vec::with_capacity(ids.len());
                for id in ids {
                    out.extend(proposal(state, &id)?);
                }
                json(&out)
            }
            "approved" => {
                let (coop_id, task) = match data.split_at_checked(32) {
                    Some((c, t)) if t.len() == 32 => (c, t),
                    _ => {
                        return Err(fail(
                            codes::BAD_QUERY,
                            "argument must be 64 bytes: coop id then task id",
                        ));
                    }
                };
                let coop_id =
                    Hash::from_slice(coop_id).map_err(|e| fail(codes::BAD_QUERY, e.to_string()))?;
                let task =
                    Hash::from_slice(task).map_err(|e| fail(codes::BAD_QUERY, e.to_string()))?;
                json(&is_approved(state, &coop_id, &task)?)
            }
            other => Err(fail(codes::BAD_QUERY, format!("unknown query {other:?}"))),
        }
    }
}

fn latest(mut ids: Vec<Hash>) -> Vec<Hash> {
    let skip = ids.len().saturating_sub(MAX_QUERY_ITEMS);
    ids.drain(..skip);
    ids
}

fn json<T: Serialize>(value: &T) -> Result<Vec<u8>, CallError> {
    serde_json::to_vec(value).map_err(|e| {
        StorageError::Invariant(format!("coop query result does not serialize: {e}")).into()
    })
}

#[cfg(test)]
mod tests {
    use counterweight_types::{Address, Hash};
    use proptest::prelude::*;

    use super::{passes, settled_outcome};
    use crate::{
        call::ProposalKind,
        records::{Proposal, ProposalStatus},
    };

    fn proposal(electorate: u32, quorum: u16, approval: u16, yes: u32, no: u32) -> Proposal {
        Proposal {
            id: Hash::ZERO,
            coop: Hash::ZERO,
            proposer: Address::ZERO,
            kind: ProposalKind::ApproveTask { task: Hash::ZERO },
            created_ms: 0,
            deadline_ms: 1,
            created_height: 0,
            epoch: 0,
            electorate,
            quorum_permille: quorum,
            approval_permille: approval,
            yes,
            no,
            status: ProposalStatus::Open,
        }
    }

    #[test]
    fn no_votes_never_pass() {
        let p = proposal(3, 1, 1, 0, 0);
        assert!(!passes(&p, 0, 0));
    }

    #[test]
    fn a_lone_founder_decides_at_once() {
        assert_eq!(settled_outcome(&proposal(1, 500, 500, 1, 0)), Some(true));
        assert_eq!(settled_outcome(&proposal(1, 500, 500, 0, 1)), Some(false));
        assert_eq!(settled_outcome(&proposal(1, 500, 500, 0, 0)), None);
    }

    /// Shrunk from `settled_outcome_cannot_change`: members who abstain keep the quorum
    /// unmet, so "passes even if everyone else votes no" does not settle a vote.
    #[test]
    fn abstentions_can_still_sink_the_quorum() {
        let p = proposal(9, 334, 1, 1, 2);
        assert!(passes(&p, 1, 8));
        assert!(!passes(&p, 1, 2));
        assert_eq!(settled_outcome(&p), None);
    }

    proptest! {
        /// A settled outcome equals the outcome of every way the outstanding members could
        /// still vote or abstain; an unsettled one has two completions that differ.
        #[test]
        fn settled_outcome_cannot_change(
            electorate in 1u32..40,
            quorum in 1u16..=1000,
            approval in 1u16..=1000,
            yes_share in 0u32..=100,
            cast_share in 0u32..=100,
        ) {
            let cast = electorate * cast_share / 100;
            let yes = cast * yes_share / 100;
            let no = cast - yes;
            let p = proposal(electorate, quorum, approval, yes, no);
            let outstanding = electorate - cast;
            let mut outcomes = Vec::new();
            for more_yes in 0..=outstanding {
                for more_no in 0..=outstanding - more_yes {
                    outcomes.push(passes(
                        &p,
                        u64::from(yes + more_yes),
                        u64::from(no + more_no),
                    ));
                }
            }
            match settled_outcome(&p) {
                Some(outcome) => prop_assert!(outcomes.iter().all(|&o| o == outcome)),
                None => {
                    prop_assert!(outcomes.contains(&true));
                    prop_assert!(outcomes.contains(&false));
                }
            }
        }
    }
}
