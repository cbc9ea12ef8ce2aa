//! The validator registry: bonding, topping up, unbonding and withdrawing.

use droppin_interface::{
    DropPinError, Pubkey,
    state::{Currency, Registry, ValidatorBond},
};

use crate::{Result, add, sub};

/// A new bond: its wallet, amount and currency.
#[derive(Clone, Copy, Debug)]
pub struct NewBond<'a> {
    /// The validator's wallet.
    pub validator: &'a Pubkey,
    /// The first bond, in `currency`'s base units.
    pub amount: u64,
    /// What the bond is held in.
    pub currency: Currency,
}

/// Registers a validator with a first bond worth at least `min_bond` lamports ($dPIN valued at
/// `reference_price`); it is drawn for rounds opened after `slot`.
#[inline(always)]
pub fn register_validator(
    registry: &mut Registry,
    new: NewBond,
    min_bond: u64,
    reference_price: u64,
    slot: u64,
) -> Result<ValidatorBond> {
    let state = ValidatorBond {
        validator: *new.validator,
        bond: new.amount,
        since_slot: slot,
        registered_slot: slot,
        currency: new.currency,
        ..ValidatorBond::default()
    };
    if state.worth(reference_price) < min_bond.max(1) {
        return Err(DropPinError::BondTooSmall);
    }
    let total = registry.total_mut(new.currency);
    *total = add(*total, new.amount)?;
    registry.validators += 1;
    Ok(state)
}

/// Records a voluntary change of the bond at `slot`: rounds opened until then keep drawing on
/// what it held before. Only the first change after registration, or one an unbonding delay
/// (longer than any round) after the last, is allowed: a bond then changes at most once while
/// any round that could draw it lives, so `bond_at` stays exact and no drawn validator can
/// change its way out of a seat (or into one) after seeing the seed.
fn record_change(bond: &mut ValidatorBond, slot: u64, unbonding_slots: u64) -> Result<()> {
    let first_change = bond.since_slot == bond.registered_slot;
    if !first_change && slot < bond.since_slot.saturating_add(unbonding_slots) {
        return Err(DropPinError::BondChangeTooSoon);
    }
    bond.prior_bond = bond.bond;
    bond.since_slot = slot;
    Ok(())
}

/// Adds `amount` (in the bond's currency) to a bond; rounds opened after `slot` draw on it.
pub fn top_up_bond(
    registry: &mut Registry,
    bond: &mut ValidatorBond,
    amount: u64,
    slot: u64,
    unbonding_slots: u64,
) -> Result<()> {
    if amount == 0 {
        return Err(DropPinError::ZeroAmount);
    }
    record_change(bond, slot, unbonding_slots)?;
    bond.bond = add(bond.bond, amount)?;
    let total = registry.total_mut(bond.currency);
    *total = add(*total, amount)?;
    Ok(())
}

/// Moves `amount` of the free bond to unbonding: it stops counting at once and may be withdrawn
/// `unbonding_slots` later, after every round that could still judge the validator has ended.
pub fn unbond(
    registry: &mut Registry,
    bond: &mut ValidatorBond,
    amount: u64,
    slot: u64,
    unbonding_slots: u64,
) -> Result<()> {
    if amount == 0 {
        return Err(DropPinError::ZeroAmount);
    }
    if amount > bond.available() {
        return Err(DropPinError::BondTooSmall);
    }
    record_change(bond, slot, unbonding_slots)?;
    bond.bond -= amount;
    bond.unbonding = add(bond.unbonding, amount)?;
    bond.unbond_at = slot.saturating_add(unbonding_slots);
    let total = registry.total_mut(bond.currency);
    *total = sub(*total, amount)?;
    Ok(())
}

/// Withdraws the unbonded amount once the delay has passed; returns the amount and whether
/// the bond is now empty (its account may close and the validator leaves the registry). A bond
/// that penalties emptied, with nothing unbonding, closes at once: its rent is never stuck.
pub fn withdraw_bond(
    registry: &mut Registry,
    bond: &mut ValidatorBond,
    slot: u64,
) -> Result<(u64, bool)> {
    let empty = bond.bond == 0 && bond.locked == 0 && bond.open_seats == 0;
    let slashed_empty = empty && bond.unbonding == 0;
    if !slashed_empty && (bond.unbonding == 0 || slot < bond.unbond_at) {
        return Err(DropPinError::StillUnbonding);
    }
    let amount = bond.unbonding;
    bond.unbonding = 0;
    if empty {
        registry.validators = registry.validators.saturating_sub(1);
    }
    Ok((amount, empty))
}

/// Takes a penalty out of a bond (its locks already released or its free part): the bond and
/// the registry's total both shrink.
pub(crate) fn take_penalty(
    bond: &mut ValidatorBond,
    registry: &mut Registry,
    amount: u64,
) -> Result<()> {
    bond.bond = sub(bond.bond, amount)?;
    bond.slashed_total = add(bond.slashed_total, amount)?;
    let total = registry.total_mut(bond.currency);
    *total = sub(*total, amount)?;
    Ok(())
}

/// Takes an absence `penalty` from the free bond, then from what is unbonding; what its locked
/// seats hold is owed and paid as they settle ([`collect_debt`]). Returns what was taken now.
pub(crate) fn take_or_owe(
    bond: &mut ValidatorBond,
    registry: &mut Registry,
    penalty: u64,
) -> Result<u64> {
    let from_bond = penalty.min(bond.free());
    let from_unbonding = (penalty - from_bond).min(bond.unbonding);
    take_penalty(bond, registry, from_bond)?;
    bond.unbonding -= from_unbonding;
    bond.slashed_total = add(bond.slashed_total, from_unbonding)?;
    bond.debt = add(bond.debt, penalty - from_bond - from_unbonding)?;
    Ok(from_bond + from_unbonding)
}

/// Pays what the bond owes out of its free part (a lock just released); returns the amount.
pub(crate) fn collect_debt(bond: &mut ValidatorBond, registry: &mut Registry) -> Result<u64> {
    let owed = bond.debt.min(bond.free());
    bond.debt -= owed;
    take_penalty(bond, registry, owed)?;
    Ok(owed)
}
