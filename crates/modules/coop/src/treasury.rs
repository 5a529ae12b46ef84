//! The treasury: deposits into a coop's keyless bank account and the spends passed
//! proposals pay out of it.

use counterweight_state::{CallError, ModuleError, TxContext};
use counterweight_types::{Address, Hash};

use crate::{CoopError, CoopEvent, membership::require_coop, records::Coop};

/// Turns a bank refusal into this module's verdict; storage faults pass through.
fn bank_refusal(e: CallError, verdict: fn(ModuleError) -> CoopError) -> CallError {
    match e {
        CallError::Failed(source) => verdict(source).into(),
        other => other,
    }
}

/// [`crate::CoopCall::Deposit`]: moves `amount` from the sender to the treasury.
pub(crate) fn deposit(ctx: &mut TxContext<'_>, coop: Hash, amount: u64) -> Result<(), CallError> {
    let c = require_coop(ctx, &coop)?;
    if amount == 0 {
        return Err(CoopError::ZeroAmount { what: "deposit" }.into());
    }
    let sender = ctx.sender;
    counterweight_bank::transfer(ctx, &sender, &c.treasury, amount)
        .map_err(|e| bank_refusal(e, |source| CoopError::CannotDeposit { source }))?;
    ctx.emit_event(&CoopEvent::Deposit {
        coop,
        from: sender,
        amount,
    })
}

/// Applies a passed [`crate::ProposalKind::Spend`]: pays `amount` from the treasury to `to`.
pub(crate) fn spend(
    ctx: &mut TxContext<'_>,
    c: &Coop,
    to: &Address,
    amount: u64,
    proposal: Hash,
) -> Result<(), CallError> {
    counterweight_bank::transfer(ctx, &c.treasury, to, amount)
        .map_err(|e| bank_refusal(e, |source| CoopError::TreasuryCannotPay { source }))?;
    ctx.emit_event(&CoopEvent::Spend {
        coop: c.id,
        to: *to,
        amount,
        proposal,
    })
}
