//! Appeal, ResolveAppeal and SettleAppeal.

use alloc::boxed::Box;

use droppin_coordinator as coordinator;
use droppin_interface::state::{Round, Seat, Treasury};
use pinocchio::{AccountView, Address};

use super::not_enough_accounts;
use crate::{
    accounts::{
        current_slot, deposit, load, load_round, require_distinct, require_key, require_signer,
        require_system_program, require_writable, save, withdraw,
    },
    error::{DropPinError, Result, fail},
    escrow::Income,
};

/// Appeals the finalized verdict: the appellant bonds one seat's lock into the vault.
#[inline(never)]
pub fn appeal(program_id: &Address, accounts: &mut [AccountView]) -> Result {
    let [appellant, round, vault, system, ..] = accounts else {
        return Err(not_enough_accounts());
    };
    require_signer(appellant)?;
    require_writable(&[appellant, round, vault])?;
    require_distinct(&[appellant, round, vault])?;
    require_system_program(system)?;
    let mut round_state: Box<Round> = load_round(round, program_id)?;
    require_key(vault, &round_state.vault, DropPinError::VaultMismatch)?;
    let bond = coordinator::file_appeal(
        &mut round_state,
        &appellant.address().to_bytes(),
        current_slot()?,
    )
    .map_err(fail)?;
    deposit(appellant, vault, bond)?;
    save(round, &*round_state)
}

/// Resolves the appeal once its committee's reveals are over.
#[inline(never)]
pub fn resolve(program_id: &Address, accounts: &mut [AccountView]) -> Result {
    let [round, cited, ..] = accounts else {
        return Err(not_enough_accounts());
    };
    require_writable(&[round])?;
    let mut round_state: Box<Round> = load_round(round, program_id)?;
    let seat: Option<Seat> = load::<Seat>(cited, program_id)
        .ok()
        .filter(|s| s.round == round.address().to_bytes());
    coordinator::resolve_appeal(&mut round_state, seat.as_ref(), current_slot()?).map_err(fail)?;
    save(round, &*round_state)
}

/// Settles the appellant's bond.
#[inline(never)]
pub fn settle(program_id: &Address, accounts: &mut [AccountView]) -> Result {
    let [appellant, round, vault, treasury, ..] = accounts else {
        return Err(not_enough_accounts());
    };
    require_writable(&[appellant, round, vault, treasury])?;
    require_distinct(&[appellant, round, vault, treasury])?;
    let mut round_state: Box<Round> = load_round(round, program_id)?;
    require_key(vault, &round_state.vault, DropPinError::VaultMismatch)?;
    require_key(
        treasury,
        &round_state.treasury,
        DropPinError::TreasuryMismatch,
    )?;
    require_key(
        appellant,
        &round_state.appeal.appellant,
        DropPinError::RecipientMismatch,
    )?;
    let mut treasury_state: Treasury = load(treasury, program_id)?;
    let payout = coordinator::settle_appeal(&mut round_state).map_err(fail)?;
    withdraw(vault, appellant, payout.to_appellant)?;
    withdraw(vault, treasury, payout.to_treasury)?;
    Income::Slashes.record(&mut treasury_state, payout.to_treasury)?;
    save(treasury, &treasury_state)?;
    save(round, &*round_state)
}
