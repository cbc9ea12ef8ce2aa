//! Explicit account checks and the few account operations every processor shares.
//!
//! Each check fails with its own error code, so a client always learns which rule an account
//! broke: signer, writable, owner, type, PDA (canonical bump), system program, duplicates.

use alloc::boxed::Box;
use core::ops::Deref;

use droppin_interface::{
    SYSTEM_PROGRAM_ID,
    state::{AccountState, Round},
};
use pinocchio::{
    AccountView, Address,
    account::Ref,
    cpi::{Seed, Signer},
    sysvars::{Sysvar, clock::Clock, rent::Rent, slot_hashes::SlotHashes},
};
use pinocchio_system::instructions::{
    Allocate, AllocateWithSeed, Assign, AssignWithSeed, CreateAccount, CreateAccountWithSeed,
    Transfer,
};

use crate::error::{DropPinError, Result, fail};

/// The account must have signed.
pub fn require_signer(account: &AccountView) -> Result {
    if account.is_signer() {
        Ok(())
    } else {
        Err(fail(DropPinError::MissingSigner))
    }
}

/// Every listed account must be writable.
pub fn require_writable(accounts: &[&AccountView]) -> Result {
    if accounts.iter().all(|a| a.is_writable()) {
        Ok(())
    } else {
        Err(fail(DropPinError::AccountNotWritable))
    }
}

/// No account may appear twice among the listed writable accounts.
pub fn require_distinct(accounts: &[&AccountView]) -> Result {
    for (i, a) in accounts.iter().enumerate() {
        if accounts[..i].iter().any(|b| b.address() == a.address()) {
            return Err(fail(DropPinError::DuplicateMutableAccount));
        }
    }
    Ok(())
}

/// The account must be the system program (the only program this program calls).
pub fn require_system_program(account: &AccountView) -> Result {
    if account.address().as_array() == &SYSTEM_PROGRAM_ID {
        Ok(())
    } else {
        Err(fail(DropPinError::InvalidSystemProgram))
    }
}

/// The account must be this address (a key stored in program state).
pub fn require_key(account: &AccountView, key: &[u8; 32], error: DropPinError) -> Result {
    if account.address().as_array() == key {
        Ok(())
    } else {
        Err(fail(error))
    }
}

/// Decodes program state after checking owner, type and version.
pub fn load<T: AccountState>(account: &AccountView, program_id: &Address) -> Result<T> {
    if !account.owned_by(program_id) {
        return Err(fail(DropPinError::InvalidAccountOwner));
    }
    let data = account.try_borrow()?;
    T::load(&data).map_err(fail)
}

/// Decodes a round onto the heap, field by field, in a stack frame of its own: a round is too
/// large to share a 4 KB SBF frame with a processor's other state.
#[inline(never)]
pub fn load_round(account: &AccountView, program_id: &Address) -> Result<Box<Round>> {
    if !account.owned_by(program_id) {
        return Err(fail(DropPinError::InvalidAccountOwner));
    }
    let mut round: Box<Round> = Box::default();
    round.load_in_place(&account.try_borrow()?).map_err(fail)?;
    Ok(round)
}

/// Encodes program state into the account.
pub fn save<T: AccountState>(account: &mut AccountView, state: &T) -> Result {
    let mut data = account.try_borrow_mut()?;
    state.store(&mut data).map_err(fail)
}

/// Whether the account has never been created (a plain system account without data).
pub fn is_uninitialized(account: &AccountView) -> bool {
    account.owned_by(&Address::new_from_array(SYSTEM_PROGRAM_ID)) && account.is_data_empty()
}

/// Finds the canonical bump for `seeds` and checks the account sits at that address.
pub fn require_canonical_pda(
    account: &AccountView,
    seeds: &[&[u8]],
    program_id: &Address,
) -> Result<u8> {
    let (expected, bump) = Address::find_program_address(seeds, program_id);
    if account.address() == &expected {
        Ok(bump)
    } else {
        Err(fail(DropPinError::InvalidPda))
    }
}

/// Creates a program account at a PDA, paid by `payer`, and writes its state.
#[inline(always)]
pub fn create_pda<T: AccountState>(
    payer: &AccountView,
    account: &mut AccountView,
    signer_seeds: &[Seed],
    program_id: &Address,
    state: &T,
) -> Result {
    allocate_pda(payer, account, T::SPACE, program_id, signer_seeds)?;
    save(account, state)
}

/// Creates a rent-exempt account of `space` bytes owned by `owner` at a PDA signed by
/// `signer_seeds`, topping it up from `payer`.
///
/// An address that someone funded in advance (to block the creation) is topped up, allocated
/// and assigned instead, so nobody can squat on a predictable PDA. Inlined: with the seed slice
/// it takes six argument registers, one more than an SBPF v0 call passes.
#[inline(always)]
pub fn allocate_pda(
    payer: &AccountView,
    account: &AccountView,
    space: usize,
    owner: &Address,
    signer_seeds: &[Seed],
) -> Result {
    if !is_uninitialized(account) {
        return Err(fail(DropPinError::AccountAlreadyInitialized));
    }
    let rent = Rent::get()?.try_minimum_balance(space)?;
    let signer = [Signer::from(signer_seeds)];
    if account.lamports() == 0 {
        CreateAccount {
            from: payer,
            to: account,
            lamports: rent,
            space: space as u64,
            owner,
        }
        .invoke_signed(&signer)
    } else {
        top_up_to(payer, account, rent)?;
        Allocate {
            account,
            space: space as u64,
        }
        .invoke_signed(&signer)?;
        Assign { account, owner }.invoke_signed(&signer)
    }
}

/// Brings an account someone pre-funded up to `rent`, so it can still be taken over.
#[inline(always)]
fn top_up_to(payer: &AccountView, account: &AccountView, rent: u64) -> Result {
    let top_up = rent.saturating_sub(account.lamports());
    if top_up > 0 {
        Transfer {
            from: payer,
            to: account,
            lamports: top_up,
        }
        .invoke()?;
    }
    Ok(())
}

/// Where a seed-derived account lives: `create_with_seed(base, seed, program)`, the base being a
/// PDA of this program that signs with `base_seeds`. Grouped so that account creation stays within
/// the five call arguments SBPF v0 passes in registers.
pub struct SeededAccount<'a> {
    pub base: &'a AccountView,
    pub base_seeds: &'a [Seed<'a>],
    /// ASCII seed (at most 32 bytes).
    pub seed: &'a [u8],
}

/// Creates a rent-exempt account owned by this program at a seed-derived address and writes its
/// state. Like [`create_pda`], an address pre-funded by someone else is still taken over.
#[inline(always)]
pub fn create_with_seed<T: AccountState>(
    payer: &AccountView,
    account: &mut AccountView,
    seeded: &SeededAccount,
    program_id: &Address,
    state: &T,
) -> Result {
    if !is_uninitialized(account) {
        return Err(fail(DropPinError::AccountAlreadyInitialized));
    }
    let seed = core::str::from_utf8(seeded.seed).map_err(|_| fail(DropPinError::InvalidPda))?;
    let rent = Rent::get()?.try_minimum_balance(T::SPACE)?;
    let signer = [Signer::from(seeded.base_seeds)];
    if account.lamports() == 0 {
        CreateAccountWithSeed {
            from: payer,
            to: account,
            base: Some(seeded.base),
            seed,
            lamports: rent,
            space: T::SPACE as u64,
            owner: program_id,
        }
        .invoke_signed(&signer)?;
    } else {
        top_up_to(payer, account, rent)?;
        AllocateWithSeed {
            account,
            base: seeded.base,
            seed,
            space: T::SPACE as u64,
            owner: program_id,
        }
        .invoke_signed(&signer)?;
        AssignWithSeed {
            account,
            base: seeded.base,
            seed,
            owner: program_id,
        }
        .invoke_signed(&signer)?;
    }
    save(account, state)
}

/// Moves lamports from a signer's wallet through the system program.
pub fn deposit(from: &AccountView, to: &AccountView, lamports: u64) -> Result {
    if lamports == 0 {
        return Ok(());
    }
    Transfer { from, to, lamports }.invoke()
}

/// Moves lamports out of a program-owned account, never below its rent-exempt minimum.
pub fn withdraw(from: &mut AccountView, to: &mut AccountView, lamports: u64) -> Result {
    if lamports == 0 {
        return Ok(());
    }
    let floor = Rent::get()?.try_minimum_balance(from.data_len())?;
    let left = from
        .lamports()
        .checked_sub(lamports)
        .filter(|left| *left >= floor)
        .ok_or(fail(DropPinError::PayoutExceedsPool))?;
    let credited = to
        .lamports()
        .checked_add(lamports)
        .ok_or(fail(DropPinError::ArithmeticOverflow))?;
    from.set_lamports(left);
    to.set_lamports(credited);
    Ok(())
}

/// Lamports a program account holds beyond its rent-exempt minimum.
pub fn spendable(account: &AccountView) -> Result<u64> {
    let floor = Rent::get()?.try_minimum_balance(account.data_len())?;
    Ok(account.lamports().saturating_sub(floor))
}

/// Closes a program account: all its lamports go to `to`, its data and owner are cleared, so it
/// cannot be revived by a later top-up in the same transaction.
pub fn close(account: &mut AccountView, to: &mut AccountView) -> Result {
    credit(to, account.lamports())?;
    account.set_lamports(0);
    account.close()
}

/// Closes a program account whose rent its `owner` paid: the rent goes back to the owner, less
/// a bounty for `settler` when a third party did the settling.
pub fn close_with_bounty(
    account: &mut AccountView,
    owner: &mut AccountView,
    settler: &mut AccountView,
) -> Result {
    let rent = account.lamports();
    let (to_owner, bounty) =
        droppin_coordinator::split_rent(rent, settler.address() == owner.address());
    credit(owner, to_owner)?;
    credit(settler, bounty)?;
    account.set_lamports(0);
    account.close()
}

fn credit(to: &mut AccountView, lamports: u64) -> Result {
    let credited = to
        .lamports()
        .checked_add(lamports)
        .ok_or(fail(DropPinError::ArithmeticOverflow))?;
    to.set_lamports(credited);
    Ok(())
}

/// The current slot.
pub fn current_slot() -> Result<u64> {
    Ok(Clock::get()?.slot)
}

/// The SlotHashes sysvar, checked by key.
pub fn slot_hashes(sysvar: &AccountView) -> Result<SlotHashes<Ref<'_, [u8]>>> {
    SlotHashes::from_account_view(sysvar).map_err(|_| fail(DropPinError::InvalidSysvar))
}

/// The slot and hash of the last slot before `before` (a skipped slot has none), or `None` once
/// the sysvar's window no longer reaches back past it. The sysvar holds every recent slot with a
/// block, so its newest entry before `before`, if it has one, is that slot: the caller has no
/// choice.
pub fn slot_hash_before<T: Deref<Target = [u8]>>(
    hashes: &SlotHashes<T>,
    before: u64,
) -> Option<(u64, [u8; 32])> {
    // Entries run from the newest slot down.
    let entries = hashes.entries();
    let last = entries.get(entries.partition_point(|e| e.slot() >= before))?;
    Some((last.slot(), last.hash))
}
