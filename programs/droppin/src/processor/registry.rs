//! RegisterValidator, TopUpBond, Unbond and WithdrawBond: the validator registry.

use droppin_coordinator as coordinator;
use droppin_interface::{
    pda::BOND_SEED,
    state::{Currency, ProtocolConfig, Registry, ValidatorBond},
};
use pinocchio::{AccountView, Address, cpi::Seed};

use super::not_enough_accounts;
use crate::{
    accounts::{
        close as close_account, create_pda, current_slot, load, require_canonical_pda,
        require_distinct, require_key, require_signer, require_system_program, require_writable,
        save,
    },
    bond::BondEscrow,
    error::{DropPinError, Result, fail},
};

/// The protocol config and its registry, checked by key.
pub(super) fn load_registry(
    program_id: &Address,
    registry: &AccountView,
    config: &AccountView,
) -> Result<(Registry, ProtocolConfig)> {
    let config_state: ProtocolConfig = load(config, program_id)?;
    require_key(
        registry,
        &config_state.registry,
        DropPinError::RegistryMismatch,
    )?;
    Ok((load(registry, program_id)?, config_state))
}

/// A validator's bond, checked against its wallet.
pub(super) fn load_bond(
    program_id: &Address,
    bond: &AccountView,
    validator: &AccountView,
) -> Result<ValidatorBond> {
    let state: ValidatorBond = load(bond, program_id)?;
    require_key(validator, &state.validator, DropPinError::RecipientMismatch)?;
    Ok(state)
}

/// Registers a validator: creates its bond account (and a $dPIN bond's token account) and
/// deposits the first bond.
#[inline(never)]
pub fn register(
    program_id: &Address,
    accounts: &mut [AccountView],
    amount: u64,
    currency: Currency,
) -> Result {
    let (head, tail) = accounts.split_at_mut(accounts.len().min(5));
    let [validator, bond, registry, config, system] = head else {
        return Err(not_enough_accounts());
    };
    require_signer(validator)?;
    require_writable(&[validator, bond, registry])?;
    require_distinct(&[validator, bond, registry])?;
    require_system_program(system)?;
    let (mut registry_state, config_state) = load_registry(program_id, registry, config)?;
    if currency == Currency::Dpin && !config_state.token_launched() {
        return Err(fail(DropPinError::TokenNotLaunched));
    }
    let key = validator.address().to_bytes();
    let bump = require_canonical_pda(bond, &[BOND_SEED, &key], program_id)?;
    let new = coordinator::NewBond {
        validator: &key,
        amount,
        currency,
    };
    let mut state = coordinator::register_validator(
        &mut registry_state,
        new,
        config_state.params.committee.min_bond,
        config_state.params.swap.reference_price,
        current_slot()?,
    )
    .map_err(fail)?;
    state.bump = bump;
    let seed_bump = [bump];
    create_pda(
        validator,
        bond,
        &[
            Seed::from(BOND_SEED),
            Seed::from(&key),
            Seed::from(&seed_bump),
        ],
        program_id,
        &state,
    )?;
    let mint = Address::new_from_array(config_state.token.mint);
    let escrow = BondEscrow::create(program_id, &state, bond, validator, &mint, tail)?;
    escrow.deposit(validator, bond, amount)?;
    save(registry, &registry_state)
}

/// Adds to a bond.
#[inline(never)]
pub fn top_up(program_id: &Address, accounts: &mut [AccountView], amount: u64) -> Result {
    let (head, tail) = accounts.split_at_mut(accounts.len().min(5));
    let [validator, bond, registry, config, system] = head else {
        return Err(not_enough_accounts());
    };
    require_signer(validator)?;
    require_writable(&[validator, bond, registry])?;
    require_distinct(&[validator, bond, registry])?;
    require_system_program(system)?;
    let (mut registry_state, config_state) = load_registry(program_id, registry, config)?;
    let mut state = load_bond(program_id, bond, validator)?;
    coordinator::top_up_bond(
        &mut registry_state,
        &mut state,
        amount,
        current_slot()?,
        config_state.params.committee.unbonding_slots,
    )
    .map_err(fail)?;
    BondEscrow::of(program_id, &state, tail)?.deposit(validator, bond, amount)?;
    save(bond, &state)?;
    save(registry, &registry_state)
}

/// Starts unbonding part of the free bond.
#[inline(never)]
pub fn unbond(program_id: &Address, accounts: &mut [AccountView], amount: u64) -> Result {
    let [validator, bond, registry, config, ..] = accounts else {
        return Err(not_enough_accounts());
    };
    require_signer(validator)?;
    require_writable(&[bond, registry])?;
    require_distinct(&[bond, registry])?;
    let (mut registry_state, config_state) = load_registry(program_id, registry, config)?;
    let mut state = load_bond(program_id, bond, validator)?;
    coordinator::unbond(
        &mut registry_state,
        &mut state,
        amount,
        current_slot()?,
        config_state.params.committee.unbonding_slots,
    )
    .map_err(fail)?;
    save(bond, &state)?;
    save(registry, &registry_state)
}

/// Withdraws the unbonded amount after the delay; closes an empty bond.
#[inline(never)]
pub fn withdraw_bond(program_id: &Address, accounts: &mut [AccountView]) -> Result {
    let (head, tail) = accounts.split_at_mut(accounts.len().min(4));
    let [validator, bond, registry, config] = head else {
        return Err(not_enough_accounts());
    };
    require_signer(validator)?;
    require_writable(&[validator, bond, registry])?;
    require_distinct(&[validator, bond, registry])?;
    let (mut registry_state, _) = load_registry(program_id, registry, config)?;
    let mut state = load_bond(program_id, bond, validator)?;
    let (amount, empty) =
        coordinator::withdraw_bond(&mut registry_state, &mut state, current_slot()?)
            .map_err(fail)?;
    save(registry, &registry_state)?;
    let escrow = BondEscrow::of(program_id, &state, tail)?;
    if empty {
        escrow.close(bond, validator)?;
        return close_account(bond, validator);
    }
    escrow.pay(bond, validator, amount)?;
    save(bond, &state)
}
