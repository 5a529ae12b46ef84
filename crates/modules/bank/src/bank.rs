//! Balances, transfers, fees and escrow: the module and its Rust API for other modules.

use commonware_codec::{Copying, Decode as _, Encode as _};
use counterweight_state::{
    BlockState, CallError, FeeHandler, Module, ModuleCall, ModuleError, StateAccess, TxContext,
    Verdict, module_key,
};
use counterweight_storage_api::{Result as StorageResult, StateReader, StorageError};
use counterweight_types::{Address, Genesis, Hash, ModuleId, domain};

use crate::{
    BankError, BankEvent,
    call::{BankCall, Escrow},
};

/// The bank's module id.
pub const BANK_MODULE: ModuleId = ModuleId(1);

/// The account that receives the fees of a proposer's own transactions, so that a validator's
/// transactions in its own blocks are not free. No key controls it (its bytes are no public key
/// anyone holds the secret of), so what it receives is out of circulation; the total supply is
/// unchanged.
pub const FEE_POOL: Address = Address([0xFE; 32]);

fn balance_key(who: &Address) -> Vec<u8> {
    module_key(BANK_MODULE, &[b"bal/", &who.0])
}

fn escrow_key(id: &Hash) -> Vec<u8> {
    module_key(BANK_MODULE, &[b"esc/", &id.0])
}

fn supply_key() -> Vec<u8> {
    module_key(BANK_MODULE, &[b"supply"])
}

/// Returns the state key under which `who`'s balance is stored (for state proofs).
pub fn balance_state_key(who: &Address) -> Vec<u8> {
    balance_key(who)
}

/// Returns the id of the escrow `depositor` opens with `salt` (transactions use their hash).
pub fn escrow_id(depositor: &Address, salt: &[u8]) -> Hash {
    Hash::digest(domain::ESCROW_ID, &[&depositor.0, salt])
}

fn read_u64(state: &dyn StateReader, key: &[u8], what: &'static str) -> StorageResult<u64> {
    match state.get(key)? {
        None => Ok(0),
        Some(v) => <[u8; 8]>::try_from(v.as_slice())
            .map(u64::from_be_bytes)
            .map_err(|_| StorageError::Corrupt { what }),
    }
}

fn write_balance(state: &mut dyn StateAccess, who: &Address, amount: u64) {
    if amount == 0 {
        state.delete(balance_key(who));
    } else {
        state.set(balance_key(who), amount.to_be_bytes().to_vec());
    }
}

/// Returns `who`'s balance (0 for an unknown account).
///
/// # Errors
/// Fatal storage errors, or a corrupt stored balance.
pub fn balance(state: &dyn StateReader, who: &Address) -> StorageResult<u64> {
    read_u64(state, &balance_key(who), "balance")
}

/// Returns the total supply (balances plus escrowed funds), fixed at genesis.
///
/// # Errors
/// Fatal storage errors.
pub fn total_supply(state: &dyn StateReader) -> StorageResult<u64> {
    read_u64(state, &supply_key(), "supply")
}

/// Returns the escrow with this id, if open.
///
/// # Errors
/// Fatal storage errors, or a corrupt stored escrow.
pub fn escrow(state: &dyn StateReader, id: &Hash) -> StorageResult<Option<Escrow>> {
    match state.get(&escrow_key(id))? {
        None => Ok(None),
        Some(v) => Escrow::decode_cfg(Copying(v.as_slice()), &())
            .map(Some)
            .map_err(|_| StorageError::Corrupt { what: "escrow" }),
    }
}

fn debit(state: &mut dyn StateAccess, who: &Address, amount: u64) -> Result<(), CallError> {
    let have = balance(state, who)?;
    let left = have
        .checked_sub(amount)
        .ok_or_else(|| BankError::InsufficientFunds { have, amount })?;
    write_balance(state, who, left);
    Ok(())
}

fn credit(state: &mut dyn StateAccess, who: &Address, amount: u64) -> Result<(), CallError> {
    let have = balance(state, who)?;
    let total = have.checked_add(amount).ok_or(BankError::Overflow)?;
    write_balance(state, who, total);
    Ok(())
}

fn nonzero(amount: u64) -> Result<(), CallError> {
    if amount == 0 {
        return Err(BankError::ZeroAmount.into());
    }
    Ok(())
}

/// Moves `amount` from `from` to `to` (a self-transfer is a checked no-op).
///
/// # Errors
/// [`CallError::Failed`] with [`crate::codes::INSUFFICIENT_FUNDS`] / [`crate::codes::ZERO_AMOUNT`];
/// [`CallError::Fatal`] on storage failure. Nothing is written on error.
pub fn transfer(
    state: &mut dyn StateAccess,
    from: &Address,
    to: &Address,
    amount: u64,
) -> Result<(), CallError> {
    nonzero(amount)?;
    let have = balance(state, from)?;
    if have < amount {
        return Err(BankError::InsufficientFunds { have, amount }.into());
    }
    if from == to {
        return Ok(());
    }
    // Check the credit first so a failure leaves nothing written.
    balance(state, to)?
        .checked_add(amount)
        .ok_or(BankError::Overflow)?;
    debit(state, from, amount)?;
    credit(state, to, amount)
}

/// Locks `amount` of `depositor`'s funds in a new escrow with id `escrow_id(depositor, salt)`.
///
/// # Errors
/// [`CallError::Failed`] with [`crate::codes::INSUFFICIENT_FUNDS`], [`crate::codes::ZERO_AMOUNT`] or
/// [`crate::codes::ESCROW_EXISTS`]; [`CallError::Fatal`] on storage failure.
pub fn open_escrow(
    state: &mut dyn StateAccess,
    depositor: &Address,
    amount: u64,
    salt: &[u8],
) -> Result<Hash, CallError> {
    nonzero(amount)?;
    let id = escrow_id(depositor, salt);
    if escrow(state, &id)?.is_some() {
        return Err(BankError::EscrowExists { id }.into());
    }
    debit(state, depositor, amount)?;
    let record = Escrow {
        depositor: *depositor,
        amount,
    };
    state.set(escrow_key(&id), record.encode().to_vec());
    Ok(id)
}

fn take_escrow(state: &mut dyn StateAccess, id: &Hash) -> Result<Escrow, CallError> {
    let record = escrow(state, id)?.ok_or(BankError::UnknownEscrow { id: *id })?;
    state.delete(escrow_key(id));
    Ok(record)
}

/// Pays escrow `id` out to `payee` and closes it; returns the amount. The caller authorises.
///
/// # Errors
/// [`CallError::Failed`] with [`crate::codes::UNKNOWN_ESCROW`]; [`CallError::Fatal`] on storage
/// failure.
pub fn release_escrow(
    state: &mut dyn StateAccess,
    id: &Hash,
    payee: &Address,
) -> Result<u64, CallError> {
    let record = escrow(state, id)?.ok_or(BankError::UnknownEscrow { id: *id })?;
    balance(state, payee)?
        .checked_add(record.amount)
        .ok_or(BankError::Overflow)?;
    take_escrow(state, id)?;
    credit(state, payee, record.amount)?;
    Ok(record.amount)
}

/// Returns escrow `id` to its depositor and closes it; returns the amount. The caller
/// authorises.
///
/// # Errors
/// [`CallError::Failed`] with [`crate::codes::UNKNOWN_ESCROW`]; [`CallError::Fatal`] on storage
/// failure.
pub fn refund_escrow(state: &mut dyn StateAccess, id: &Hash) -> Result<u64, CallError> {
    let record = escrow(state, id)?.ok_or(BankError::UnknownEscrow { id: *id })?;
    release_escrow(state, id, &record.depositor)
}

fn require_depositor(state: &dyn StateReader, id: &Hash, who: &Address) -> Result<(), CallError> {
    match escrow(state, id)? {
        None => Err(BankError::UnknownEscrow { id: *id }.into()),
        Some(e) if e.depositor != *who => Err(BankError::NotDepositor.into()),
        Some(_) => Ok(()),
    }
}

/// The bank module: register it with the runtime as both a module and the fee handler.
#[derive(Clone, Copy, Debug, Default)]
pub struct Bank;

impl Module for Bank {
    fn id(&self) -> ModuleId {
        BANK_MODULE
    }

    fn name(&self) -> &'static str {
        "bank"
    }

    fn check_payload(&self, payload: &[u8]) -> Result<(), ModuleError> {
        BankCall::parse(payload)
            .map(drop)
            .map_err(|e| BankError::from(e).to_module_error())
    }

    fn init_genesis(
        &self,
        state: &mut dyn StateAccess,
        genesis: &Genesis,
    ) -> Result<(), CallError> {
        let mut supply: u64 = 0;
        for account in &genesis.accounts {
            supply = supply
                .checked_add(account.balance)
                .ok_or(BankError::SupplyOverflow)?;
            credit(state, &account.address, account.balance)?;
        }
        state.set(supply_key(), supply.to_be_bytes().to_vec());
        Ok(())
    }

    fn execute(&self, ctx: &mut TxContext<'_>, payload: &[u8]) -> Result<(), CallError> {
        let call = BankCall::parse(payload).map_err(BankError::from)?;
        let sender = ctx.sender;
        match call {
            BankCall::Transfer { to, amount } => {
                transfer(ctx, &sender, &to, amount)?;
                ctx.emit_event(&BankEvent::Transfer {
                    from: sender,
                    to,
                    amount,
                })?;
            }
            BankCall::EscrowOpen { amount } => {
                let salt = ctx.tx_hash;
                let id = open_escrow(ctx, &sender, amount, &salt.0)?;
                ctx.emit_event(&BankEvent::EscrowOpen {
                    id,
                    depositor: sender,
                    amount,
                })?;
            }
            BankCall::EscrowRelease { id, to } => {
                require_depositor(ctx, &id, &sender)?;
                let amount = release_escrow(ctx, &id, &to)?;
                ctx.emit_event(&BankEvent::EscrowRelease { id, to, amount })?;
            }
            BankCall::EscrowRefund { id } => {
                require_depositor(ctx, &id, &sender)?;
                let amount = refund_escrow(ctx, &id)?;
                ctx.emit_event(&BankEvent::EscrowRefund { id, amount })?;
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
        crate::query::answer_query(state, path, data)
    }
}

impl FeeHandler for Bank {
    fn balance(&self, state: &dyn StateReader, who: &Address) -> StorageResult<u64> {
        balance(state, who)
    }

    fn pay_fee(
        &self,
        state: &mut BlockState<'_>,
        payer: &Address,
        recipient: &Address,
        fee: u64,
    ) -> StorageResult<()> {
        if fee == 0 {
            return Ok(());
        }
        // A proposer's own transactions pay too (audit L2): into the fee pool, not to itself.
        let recipient = if payer == recipient {
            &FEE_POOL
        } else {
            recipient
        };
        let from = balance(state, payer)?;
        let to = balance(state, recipient)?;
        // The runtime checked `from >= fee`; the recipient cannot overflow because both
        // balances are parts of a supply that fits in u64.
        let (Some(left), Some(total)) = (from.checked_sub(fee), to.checked_add(fee)) else {
            return Err(StorageError::Invariant(format!(
                "fee {fee} cannot move from balance {from} to balance {to}"
            )));
        };
        write_balance(state, payer, left);
        write_balance(state, recipient, total);
        Ok(())
    }
}
