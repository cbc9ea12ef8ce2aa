//! DrawCommittee, ClaimSeat, ReportAvailability, CommitVote, RevealVote, ReportAbsent,
//! FinalizeRound and SettleSeat.

use alloc::boxed::Box;

use droppin_coordinator as coordinator;
use droppin_interface::{
    instruction::{ReportAvailabilityArgs, RevealVoteArgs},
    pda::{ROUND_SEED, seat_seed},
    state::{AccountState, Currency, Registry, Round, Seat, SeatStatus, Treasury},
};
use pinocchio::{AccountView, Address, cpi::Seed};

use super::{node::require_round_scoped, not_enough_accounts, registry::load_bond};
use crate::{
    accounts::{
        SeededAccount, close_with_bounty, create_with_seed, current_slot, is_uninitialized, load,
        load_round, require_distinct, require_key, require_signer, require_system_program,
        require_writable, save, slot_hash_before, slot_hashes, withdraw,
    },
    bond::BondEscrow,
    error::{DropPinError, Result, fail},
    escrow::{Escrow, RoundSigner},
    hash::SyscallSha256,
};

/// Fixes committee `level`'s seed from the round's beacon and seed anchor (during the reveals,
/// records the anchor from the SlotHashes sysvar).
#[inline(never)]
pub fn draw(program_id: &Address, accounts: &mut [AccountView], level: u8) -> Result {
    let [round, sysvar, ..] = accounts else {
        return Err(not_enough_accounts());
    };
    require_writable(&[round])?;
    let mut round_state: Box<Round> = load_round(round, program_id)?;
    let hashes = slot_hashes(sysvar)?;
    coordinator::draw_committee::<SyscallSha256>(
        &mut round_state,
        &round.address().to_bytes(),
        level,
        current_slot()?,
        |before| slot_hash_before(&hashes, before),
    )
    .map_err(fail)?;
    save(round, &*round_state)
}

/// Checks that the validator is not a node of the round and (for an appeal) not on its first
/// committee: the accounts at those addresses must not exist. Inlined: six arguments are one
/// more than an SBPF v0 call passes in registers.
#[inline(always)]
fn require_no_conflict(
    program_id: &Address,
    round_key: &[u8; 32],
    validator: &[u8; 32],
    node_state: &AccountView,
    first_seat: &AccountView,
    level: u8,
) -> Result {
    require_round_scoped(
        program_id,
        round_key,
        node_state,
        &droppin_interface::pda::node_seed(validator),
    )?;
    if !is_uninitialized(node_state) {
        return Err(fail(DropPinError::ConflictOfInterest));
    }
    if level == 1 {
        require_round_scoped(program_id, round_key, first_seat, &seat_seed(validator, 0))?;
        if !is_uninitialized(first_seat) {
            return Err(fail(DropPinError::ConflictOfInterest));
        }
    }
    Ok(())
}

/// Creates a seat (or an absence record) at its round-scoped address, paid by `payer`.
#[inline(always)]
fn create_seat(
    program_id: &Address,
    payer: &AccountView,
    round: &AccountView,
    round_state: &Round,
    account: &mut AccountView,
    seat: &Seat,
) -> Result {
    let seed = seat_seed(&seat.validator, seat.level);
    let id = round_state.id.to_le_bytes();
    let bump = [round_state.bump];
    let round_seeds = [Seed::from(ROUND_SEED), Seed::from(&id), Seed::from(&bump)];
    let seeded = SeededAccount {
        base: round,
        base_seeds: &round_seeds,
        seed: &seed,
    };
    create_with_seed(payer, account, &seeded, program_id, seat)
}

/// Seats a validator that proves it was drawn, locking part of its bond, or records its excuse
/// (see `coordinator::excused`).
#[inline(never)]
pub fn claim_seat(program_id: &Address, accounts: &mut [AccountView], level: u8) -> Result {
    let [
        validator,
        round,
        seat,
        bond,
        node_state,
        first_seat,
        system,
        ..,
    ] = accounts
    else {
        return Err(not_enough_accounts());
    };
    require_signer(validator)?;
    require_writable(&[validator, round, seat, bond])?;
    require_distinct(&[validator, round, seat, bond])?;
    require_system_program(system)?;
    let mut round_state: Box<Round> = load_round(round, program_id)?;
    let round_key = round.address().to_bytes();
    let key = validator.address().to_bytes();
    require_round_scoped(program_id, &round_key, seat, &seat_seed(&key, level))?;
    require_no_conflict(program_id, &round_key, &key, node_state, first_seat, level)?;
    let mut bond_state = load_bond(program_id, bond, validator)?;

    let state = coordinator::claim_seat::<SyscallSha256>(
        &mut round_state,
        &round_key,
        level,
        &mut bond_state,
        current_slot()?,
    )
    .map_err(fail)?;
    create_seat(program_id, validator, round, &round_state, seat, &state)?;
    save(bond, &bond_state)?;
    save(round, &*round_state)
}

/// A seat of this round held by `validator`.
#[inline(always)]
fn load_seat(
    program_id: &Address,
    seat: &AccountView,
    round: &AccountView,
    validator: &AccountView,
    level: u8,
) -> Result<Seat> {
    let state: Seat = load(seat, program_id)?;
    if state.round != round.address().to_bytes() || state.level != level {
        return Err(fail(DropPinError::RoundMismatch));
    }
    require_key(validator, &state.validator, DropPinError::RecipientMismatch)?;
    Ok(state)
}

/// Records which revealed updates a seat fetched.
#[inline(never)]
pub fn report_availability(
    program_id: &Address,
    accounts: &mut [AccountView],
    args: &ReportAvailabilityArgs,
) -> Result {
    let fetched = &args.fetched;
    let [validator, round, seat, ..] = accounts else {
        return Err(not_enough_accounts());
    };
    require_signer(validator)?;
    require_writable(&[seat])?;
    let round_state: Box<Round> = load_round(round, program_id)?;
    let mut state = load_seat(program_id, seat, round, validator, args.level)?;
    coordinator::report_availability(&round_state, &mut state, current_slot()?, fetched)
        .map_err(fail)?;
    save(seat, &state)?;
    let mut data = seat.try_borrow_mut()?;
    let bitmap = data
        .get_mut(Seat::LEN..Seat::SPACE)
        .ok_or(fail(DropPinError::InvalidAccountType))?;
    bitmap.fill(0);
    bitmap[..fetched.len()].copy_from_slice(fetched);
    Ok(())
}

/// Records a seat's sealed vote.
#[inline(never)]
pub fn commit_vote(
    program_id: &Address,
    accounts: &mut [AccountView],
    level: u8,
    commitment: [u8; 32],
) -> Result {
    let [validator, seat, ..] = accounts else {
        return Err(not_enough_accounts());
    };
    require_signer(validator)?;
    require_writable(&[seat])?;
    let mut state: Seat = load(seat, program_id)?;
    require_key(validator, &state.validator, DropPinError::RecipientMismatch)?;
    if state.level != level {
        return Err(fail(DropPinError::RoundMismatch));
    }
    coordinator::commit_vote(&mut state, current_slot()?, commitment).map_err(fail)?;
    save(seat, &state)
}

/// Reveals a seat's sealed vote and tallies it.
#[inline(never)]
pub fn reveal_vote(
    program_id: &Address,
    accounts: &mut [AccountView],
    args: &RevealVoteArgs,
) -> Result {
    let [validator, round, seat, ..] = accounts else {
        return Err(not_enough_accounts());
    };
    require_signer(validator)?;
    require_writable(&[round, seat])?;
    require_distinct(&[round, seat])?;
    let mut round_state: Box<Round> = load_round(round, program_id)?;
    let mut state = load_seat(program_id, seat, round, validator, args.level)?;
    coordinator::reveal_vote::<SyscallSha256>(
        &mut round_state,
        &round.address().to_bytes(),
        &mut state,
        current_slot()?,
        args,
    )
    .map_err(fail)?;
    save(seat, &state)?;
    save(round, &*round_state)
}

/// Takes the absence penalty of a drawn validator that never took its seat, and records the
/// absence at its seat's address so it is taken once.
#[inline(never)]
pub fn report_absent(program_id: &Address, accounts: &mut [AccountView], level: u8) -> Result {
    let (head, tail) = accounts.split_at_mut(accounts.len().min(9));
    let [
        reporter,
        round,
        seat,
        bond,
        registry,
        treasury,
        node_state,
        first_seat,
        system,
    ] = head
    else {
        return Err(not_enough_accounts());
    };
    require_signer(reporter)?;
    require_writable(&[reporter, round, seat, bond, registry, treasury])?;
    require_distinct(&[reporter, round, seat, bond, registry, treasury])?;
    require_system_program(system)?;
    let mut round_state: Box<Round> = load_round(round, program_id)?;
    require_key(
        treasury,
        &round_state.treasury,
        DropPinError::TreasuryMismatch,
    )?;
    let mut treasury_state: Treasury = load(treasury, program_id)?;
    let mut registry_state: Registry = load(registry, program_id)?;
    let mut bond_state: droppin_interface::state::ValidatorBond = load(bond, program_id)?;
    let round_key = round.address().to_bytes();
    let validator = bond_state.validator;
    require_round_scoped(program_id, &round_key, seat, &seat_seed(&validator, level))?;
    if !is_uninitialized(seat) {
        return Err(fail(DropPinError::NotAbsent));
    }
    require_no_conflict(
        program_id, &round_key, &validator, node_state, first_seat, level,
    )?;

    let penalty = coordinator::report_absent::<SyscallSha256>(
        &mut round_state,
        level,
        &mut bond_state,
        &mut registry_state,
        current_slot()?,
    )
    .map_err(fail)?;
    let record = Seat {
        round: round_key,
        validator,
        level,
        status: SeatStatus::Absent,
        payer: reporter.address().to_bytes(),
        ..Seat::default()
    };
    create_seat(program_id, reporter, round, &round_state, seat, &record)?;
    let escrow = BondEscrow::of(program_id, &bond_state, tail)?;
    escrow.to_treasury(bond, treasury, &mut treasury_state, penalty.to_treasury)?;
    escrow.pay(bond, reporter, penalty.to_reporter)?;
    save(treasury, &treasury_state)?;
    save(registry, &registry_state)?;
    save(bond, &bond_state)?;
    save(round, &*round_state)
}

/// Pins the first committee's verdict once it has the quorum.
#[inline(never)]
pub fn finalize(program_id: &Address, accounts: &mut [AccountView]) -> Result {
    let [round, voter, ..] = accounts else {
        return Err(not_enough_accounts());
    };
    require_writable(&[round])?;
    let mut round_state: Box<Round> = load_round(round, program_id)?;
    let seat: Seat = load(voter, program_id)?;
    if seat.round != round.address().to_bytes() {
        return Err(fail(DropPinError::RoundMismatch));
    }
    coordinator::finalize_round(&mut round_state, &seat, current_slot()?).map_err(fail)?;
    save(round, &*round_state)
}

/// Settles a seat or an absence record: unlocks the bond, pays the seat's share, takes its
/// penalty, and returns the rent to whoever paid it (less a bounty for a third party).
#[inline(never)]
pub fn settle_seat(program_id: &Address, accounts: &mut [AccountView]) -> Result {
    let (head, tail) = accounts.split_at_mut(accounts.len().min(9));
    let [
        settler,
        validator,
        round,
        vault,
        seat,
        bond,
        registry,
        treasury,
        rent_payer,
    ] = head
    else {
        return Err(not_enough_accounts());
    };
    require_signer(settler)?;
    require_writable(&[
        settler, validator, round, vault, seat, bond, registry, treasury,
    ])?;
    require_writable(&[rent_payer])?;
    require_distinct(&[validator, round, vault, seat, bond, registry, treasury])?;
    let mut round_state: Box<Round> = load_round(round, program_id)?;
    require_key(vault, &round_state.vault, DropPinError::VaultMismatch)?;
    require_key(
        treasury,
        &round_state.treasury,
        DropPinError::TreasuryMismatch,
    )?;
    let state: Seat = load(seat, program_id)?;
    if state.round != round.address().to_bytes() {
        return Err(fail(DropPinError::RoundMismatch));
    }
    require_key(validator, &state.validator, DropPinError::RecipientMismatch)?;
    require_key(rent_payer, &state.payer, DropPinError::RecipientMismatch)?;
    if !state.status.took_seat() {
        // An absence's penalty was taken when reported, an excuse locked nothing: nothing
        // moves, and its bond may be closed.
        coordinator::settle_absence(&mut round_state, &state, current_slot()?).map_err(fail)?;
        save(round, &*round_state)?;
        return close_with_bounty(seat, rent_payer, settler);
    }
    let mut bond_state = load_bond(program_id, bond, validator)?;
    let mut registry_state: Registry = load(registry, program_id)?;
    let mut treasury_state: Treasury = load(treasury, program_id)?;
    let escrow = Escrow::of(&round_state, tail, validator)?;
    let bond_tail = match round_state.currency {
        Currency::Sol => &*tail,
        Currency::Dpin => tail.get(4..).unwrap_or_default(),
    };
    let bond_escrow = BondEscrow::of(program_id, &bond_state, bond_tail)?;

    let payout = coordinator::settle_seat(
        &mut round_state,
        &state,
        &mut bond_state,
        &mut registry_state,
        current_slot()?,
    )
    .map_err(fail)?;
    let signer = RoundSigner::of(&round_state);
    escrow.pay(vault, validator, round, &signer, payout.reward)?;
    withdraw(vault, validator, payout.appeal_share)?;
    bond_escrow.to_treasury(bond, treasury, &mut treasury_state, payout.to_treasury)?;
    withdraw(bond, vault, payout.to_vault)?;
    let appellant = Address::new_from_array(round_state.appeal.appellant);
    bond_escrow.pay_to(bond, vault, &appellant, payout.to_appellant)?;
    save(treasury, &treasury_state)?;
    save(registry, &registry_state)?;
    save(bond, &bond_state)?;
    save(round, &*round_state)?;
    close_with_bounty(seat, rent_payer, settler)
}
