//! Governance: proposals, votes, when an outcome is settled, and what a passed proposal does.

use counterweight_state::{CallError, ModuleError, StateAccess as _, TxContext, Verdict as _};
use counterweight_storage_api::StateReader;
use counterweight_types::Hash;

use crate::{
    CoopError, CoopEvent,
    call::{Admission, ProposalKind, Rules},
    membership::{
        require_coop, require_enrolled, require_gate, require_member, require_non_member,
        require_not_last,
    },
    records::{Coop, Proposal, ProposalStatus},
    store::{
        approved_key, epoch_key, is_approved, member_epoch, pending_key, proposal,
        proposal_count_key, proposal_id, proposal_index_key, push_index, read_hash, read_u64,
        vote_key, write_coop, write_proposal,
    },
    treasury,
};

/// The longest voting period rules may set: one year.
pub const MAX_VOTING_PERIOD_MS: u64 = 365 * 24 * 60 * 60 * 1000;

/// Checks that `rules` are acceptable.
///
/// # Errors
/// [`crate::codes::INVALID_RULES`] naming the offending field and its allowed range.
pub fn validate_rules(rules: &Rules) -> Result<(), ModuleError> {
    check_rules(rules).map_err(|e| e.to_module_error())
}

fn check_rules(rules: &Rules) -> Result<(), CoopError> {
    let range = |field, value: u16, min, max| {
        if (min..=max).contains(&u64::from(value)) {
            Ok(())
        } else {
            Err(CoopError::RuleOutOfRange {
                field,
                value: value.into(),
                min,
                max,
            })
        }
    };
    range("quorum_permille", rules.quorum_permille, 1, 1000)?;
    range("approval_permille", rules.approval_permille, 1, 1000)?;
    range(
        "revenue_share_permille",
        rules.revenue_share_permille,
        0,
        1000,
    )?;
    if rules.voting_period_ms == 0 || rules.voting_period_ms > MAX_VOTING_PERIOD_MS {
        return Err(CoopError::RuleOutOfRange {
            field: "voting_period_ms",
            value: rules.voting_period_ms,
            min: 1,
            max: MAX_VOTING_PERIOD_MS,
        });
    }
    if let Admission::ByCredential { kind, .. } = &rules.admission
        && kind.is_empty()
    {
        return Err(CoopError::EmptyCredentialKind);
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
fn settled_outcome(p: &Proposal) -> Option<bool> {
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

fn require_proposal(state: &dyn StateReader, id: &Hash) -> Result<Proposal, CallError> {
    Ok(proposal(state, id)?.ok_or(CoopError::UnknownProposal { id: *id })?)
}

fn require_open(p: &Proposal) -> Result<(), CoopError> {
    if p.status != ProposalStatus::Open {
        return Err(CoopError::ProposalClosed { proposal: p.id });
    }
    Ok(())
}

/// Validates a proposal kind against the coop's current state.
fn check_kind(state: &dyn StateReader, c: &Coop, kind: &ProposalKind) -> Result<(), CallError> {
    match kind {
        ProposalKind::Admit { member } => require_non_member(state, &c.id, member)?,
        ProposalKind::Remove { member } => {
            require_enrolled(state, &c.id, member)?;
            require_not_last(c, member)?;
        }
        ProposalKind::ApproveTask { task } => {
            if is_approved(state, &c.id, task)? {
                return Err(CoopError::TaskAlreadyApproved { task: *task }.into());
            }
        }
        ProposalKind::ChangeRules { rules } => check_rules(rules)?,
        ProposalKind::Spend { amount, .. } => {
            if *amount == 0 {
                return Err(CoopError::ZeroAmount { what: "spend" }.into());
            }
        }
    }
    Ok(())
}

/// Opens a proposal in `c` and reports it; returns its id.
pub(crate) fn open_proposal(
    ctx: &mut TxContext<'_>,
    c: &Coop,
    kind: ProposalKind,
) -> Result<Hash, CallError> {
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
    let (mut member, mut task, mut to, mut amount) = (None, None, None, None);
    match &p.kind {
        ProposalKind::Admit { member: m } | ProposalKind::Remove { member: m } => member = Some(*m),
        ProposalKind::ApproveTask { task: t } => task = Some(*t),
        ProposalKind::Spend { to: t, amount: a } => (to, amount) = (Some(*t), Some(*a)),
        ProposalKind::ChangeRules { .. } => {}
    }
    ctx.emit_event(&CoopEvent::ProposalCreated {
        coop: c.id,
        proposal: id,
        proposer: ctx.sender,
        kind: p.kind.proposal_type(),
        deadline_ms: p.deadline_ms,
        member,
        task,
        to,
        amount,
    })?;
    Ok(id)
}

/// [`crate::CoopCall::Propose`]: a member opens a proposal.
pub(crate) fn propose(
    ctx: &mut TxContext<'_>,
    coop: Hash,
    kind: ProposalKind,
) -> Result<(), CallError> {
    let c = require_coop(ctx, &coop)?;
    require_member(ctx, &coop, &ctx.sender)?;
    check_kind(ctx, &c, &kind)?;
    open_proposal(ctx, &c, kind)?;
    Ok(())
}

/// [`crate::CoopCall::Vote`]: a member at the proposal's creation votes, once, in time.
pub(crate) fn vote(ctx: &mut TxContext<'_>, id: Hash, yes: bool) -> Result<(), CallError> {
    let mut p = require_proposal(ctx, &id)?;
    let voter = ctx.sender;
    require_open(&p)?;
    if ctx.timestamp_ms >= p.deadline_ms {
        return Err(CoopError::VotingClosed {
            proposal: id,
            deadline_ms: p.deadline_ms,
            now_ms: ctx.timestamp_ms,
        }
        .into());
    }
    match member_epoch(ctx, &p.coop, &voter)? {
        None => {
            return Err(CoopError::NotMember {
                who: voter,
                coop: p.coop,
            }
            .into());
        }
        Some(joined) if joined > p.epoch => {
            return Err(CoopError::NotEligible {
                voter,
                proposal: id,
            }
            .into());
        }
        Some(_) => {}
    }
    require_gate(ctx, &p.coop, &voter)?;
    if ctx.get(&vote_key(&id, &voter))?.is_some() {
        return Err(CoopError::AlreadyVoted {
            voter,
            proposal: id,
        }
        .into());
    }
    ctx.set(vote_key(&id, &voter), vec![u8::from(yes)]);
    // Eligible voters are at most the electorate, so neither tally can overflow.
    if yes {
        p.yes += 1;
    } else {
        p.no += 1;
    }
    write_proposal(ctx, &p);
    ctx.emit_event(&CoopEvent::VoteCast {
        coop: p.coop,
        proposal: id,
        voter,
        yes,
    })
}

/// [`crate::CoopCall::Execute`]: decides a proposal; a passing one takes effect.
pub(crate) fn execute(ctx: &mut TxContext<'_>, id: Hash) -> Result<(), CallError> {
    let mut p = require_proposal(ctx, &id)?;
    require_open(&p)?;
    let outcome = if ctx.timestamp_ms >= p.deadline_ms {
        passes(&p, u64::from(p.yes), u64::from(p.no))
    } else {
        settled_outcome(&p).ok_or(CoopError::NotDecided {
            proposal: id,
            yes: p.yes,
            no: p.no,
            electorate: p.electorate,
            deadline_ms: p.deadline_ms,
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
    ctx.emit_event(&CoopEvent::ProposalExecuted {
        coop: c.id,
        proposal: id,
        kind: p.kind.proposal_type(),
        passed: outcome,
        yes: p.yes,
        no: p.no,
    })?;
    if outcome {
        apply(ctx, &mut c, &p)?;
    }
    Ok(())
}

/// Applies a passed proposal. A failure here fails the `Execute` call, which leaves the
/// proposal open so it can be executed again once it can apply (e.g. a funded treasury).
fn apply(ctx: &mut TxContext<'_>, c: &mut Coop, p: &Proposal) -> Result<(), CallError> {
    match &p.kind {
        ProposalKind::Admit { member } => crate::membership::admit(ctx, c, member, p.id),
        ProposalKind::Remove { member } => crate::membership::remove(ctx, c, member, p.id),
        ProposalKind::ApproveTask { task } => {
            ctx.set(approved_key(&c.id, task), vec![1]);
            ctx.emit_event(&CoopEvent::TaskApproved {
                coop: c.id,
                task: *task,
                proposal: p.id,
            })
        }
        ProposalKind::ChangeRules { rules } => {
            c.rules = rules.clone();
            write_coop(ctx, c);
            ctx.emit_event(&CoopEvent::RulesChanged {
                coop: c.id,
                proposal: p.id,
                quorum_permille: rules.quorum_permille,
                approval_permille: rules.approval_permille,
                voting_period_ms: rules.voting_period_ms,
                revenue_share_permille: rules.revenue_share_permille,
            })
        }
        ProposalKind::Spend { to, amount } => treasury::spend(ctx, c, to, *amount, p.id),
    }
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
