//! Membership: founding a cooperative, joining (by vote or by credential), leaving, and the
//! admissions and removals passed proposals apply.

use counterweight_state::{CallError, StateAccess, TxContext};
use counterweight_storage_api::{StateReader, StorageError};
use counterweight_types::{Address, Hash};

use crate::{
    CoopError, CoopEvent,
    call::{Admission, ProposalKind, Rules},
    governance::{open_proposal, validate_rules},
    records::Coop,
    store::{
        Gate, MAX_MEMBERS, coop, coop_id, epoch_key, gate_holds, gate_key, member_epoch,
        member_key, members, pending_key, read_hash, read_u64, treasury_address, write_coop,
        write_gate, write_members,
    },
};

pub(crate) fn require_coop(state: &dyn StateReader, id: &Hash) -> Result<Coop, CallError> {
    Ok(coop(state, id)?.ok_or(CoopError::UnknownCoop { id: *id })?)
}

/// Refuses an account that is not a member, or whose admitting credential has since been
/// revoked or has expired (`MEMBERSHIP_LAPSED`).
pub(crate) fn require_member(
    state: &dyn StateReader,
    coop: &Hash,
    who: &Address,
) -> Result<(), CallError> {
    require_enrolled(state, coop, who)?;
    require_gate(state, coop, who)
}

/// Refuses a member whose admitting credential has been revoked or has expired.
pub(crate) fn require_gate(
    state: &dyn StateReader,
    coop: &Hash,
    who: &Address,
) -> Result<(), CallError> {
    if !gate_holds(state, coop, who)? {
        return Err(CoopError::MembershipLapsed {
            who: *who,
            coop: *coop,
        }
        .into());
    }
    Ok(())
}

/// Refuses an account that is not on the member list (a lapsed member is still on it: it may
/// leave, be removed, or rejoin with a valid credential).
pub(crate) fn require_enrolled(
    state: &dyn StateReader,
    coop: &Hash,
    who: &Address,
) -> Result<(), CallError> {
    if member_epoch(state, coop, who)?.is_none() {
        return Err(CoopError::NotMember {
            who: *who,
            coop: *coop,
        }
        .into());
    }
    Ok(())
}

/// Refuses an account that is already a member.
pub(crate) fn require_non_member(
    state: &dyn StateReader,
    coop: &Hash,
    who: &Address,
) -> Result<(), CallError> {
    if member_epoch(state, coop, who)?.is_some() {
        return Err(CoopError::AlreadyMember {
            who: *who,
            coop: *coop,
        }
        .into());
    }
    Ok(())
}

/// Refuses removing the coop's last member.
pub(crate) fn require_not_last(c: &Coop, who: &Address) -> Result<(), CallError> {
    if c.members <= 1 {
        return Err(CoopError::LastMember {
            who: *who,
            coop: c.id,
        }
        .into());
    }
    Ok(())
}

/// Adds `who` to the coop's members with a fresh membership epoch.
fn add_member(state: &mut dyn StateAccess, c: &mut Coop, who: &Address) -> Result<(), CallError> {
    require_non_member(state, &c.id, who)?;
    if c.members >= MAX_MEMBERS {
        return Err(CoopError::TooManyMembers { coop: c.id }.into());
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
    require_enrolled(state, &c.id, who)?;
    require_not_last(c, who)?;
    state.delete(member_key(&c.id, who));
    state.delete(gate_key(&c.id, who));
    let mut list = members(state, &c.id)?;
    if let Ok(at) = list.binary_search(who) {
        list.remove(at);
    }
    write_members(state, &c.id, &list);
    c.members -= 1;
    write_coop(state, c);
    Ok(())
}

/// [`crate::CoopCall::Create`]: founds a cooperative with the sender as its first member.
pub(crate) fn create(ctx: &mut TxContext<'_>, name: String, rules: Rules) -> Result<(), CallError> {
    if name.trim().is_empty() {
        return Err(CoopError::EmptyName.into());
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
    ctx.emit_event(&CoopEvent::CoopCreated {
        coop: id,
        founder,
        treasury: c.treasury,
    })
}

/// [`crate::CoopCall::Join`]: opens an admission proposal, or joins at once with a credential.
pub(crate) fn join(
    ctx: &mut TxContext<'_>,
    coop_id: Hash,
    credential: Option<Vec<u8>>,
) -> Result<(), CallError> {
    let mut c = require_coop(ctx, &coop_id)?;
    let sender = ctx.sender;
    // A member whose credential lapsed renews its membership with a valid one.
    let lapsed = matches!(c.rules.admission, Admission::ByCredential { .. })
        && member_epoch(ctx, &coop_id, &sender)?.is_some()
        && !gate_holds(ctx, &coop_id, &sender)?;
    if !lapsed {
        require_non_member(ctx, &coop_id, &sender)?;
    }
    match c.rules.admission.clone() {
        Admission::ByVote => {
            if credential.is_some() {
                return Err(CoopError::CredentialUnexpected.into());
            }
            if let Some(open) = read_hash(ctx, &pending_key(&coop_id, &sender), "pending")? {
                return Err(CoopError::JoinPending { proposal: open }.into());
            }
            let id = open_proposal(ctx, &c, ProposalKind::Admit { member: sender })?;
            ctx.set(pending_key(&coop_id, &sender), id.0.to_vec());
            ctx.emit_event(&CoopEvent::JoinRequested {
                coop: coop_id,
                member: sender,
                proposal: id,
            })
        }
        Admission::ByCredential { issuer, kind } => {
            let Some(credential) = credential else {
                return Err(CoopError::CredentialRequired { kind, issuer }.into());
            };
            let vc = crate::credential::check(
                ctx,
                &credential,
                ctx.timestamp_ms,
                &issuer,
                &kind,
                &sender,
            )?;
            if !lapsed {
                add_member(ctx, &mut c, &sender)?;
            }
            let gate = Gate {
                issuer: vc.issuer,
                status_index: vc.status_index,
                valid_until_ms: vc.valid_until_ms.unwrap_or(u64::MAX),
            };
            write_gate(ctx, &coop_id, &sender, &gate);
            ctx.emit_event(&CoopEvent::MemberJoined {
                coop: coop_id,
                member: sender,
                credential: vc.id,
            })
        }
    }
}

/// [`crate::CoopCall::Leave`]: the sender leaves (unless it is the last member).
pub(crate) fn leave(ctx: &mut TxContext<'_>, coop: Hash) -> Result<(), CallError> {
    let mut c = require_coop(ctx, &coop)?;
    let sender = ctx.sender;
    remove_member(ctx, &mut c, &sender)?;
    ctx.emit_event(&CoopEvent::MemberLeft {
        coop,
        member: sender,
    })
}

/// Applies a passed [`ProposalKind::Admit`] (a member admitted meanwhile stays as is).
pub(crate) fn admit(
    ctx: &mut TxContext<'_>,
    c: &mut Coop,
    member: &Address,
    proposal: Hash,
) -> Result<(), CallError> {
    if member_epoch(ctx, &c.id, member)?.is_none() {
        add_member(ctx, c, member)?;
    }
    ctx.emit_event(&CoopEvent::MemberAdmitted {
        coop: c.id,
        member: *member,
        proposal,
    })
}

/// Applies a passed [`ProposalKind::Remove`] (a member who left meanwhile stays gone).
pub(crate) fn remove(
    ctx: &mut TxContext<'_>,
    c: &mut Coop,
    member: &Address,
    proposal: Hash,
) -> Result<(), CallError> {
    if member_epoch(ctx, &c.id, member)?.is_some() {
        remove_member(ctx, c, member)?;
    }
    ctx.emit_event(&CoopEvent::MemberRemoved {
        coop: c.id,
        member: *member,
        proposal,
    })
}
