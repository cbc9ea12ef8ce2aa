//! JoinCommittee, SubmitVerdict, FinalizeRound and SettleValidator.

use droppin_coordinator as coordinator;
use droppin_interface::{
    instruction::VerdictVote,
    pda::VALIDATOR_SEED,
    state::{Round, Treasury, ValidatorState},
};
use pinocchio::{AccountView, Address, cpi::Seed};

use super::not_enough_accounts;
use crate::{
    accounts::{
        close as close_account, create_pda, current_slot, load, require_canonical_pda,
        require_distinct, require_key, require_signer, require_system_program, require_writable,
        save,
    },
    error::{DropPinError, Result, fail},
    escrow::{Escrow, RoundSigner},
    hash::SyscallSha256,
};

/// Bonds a committee member's stake into the round's vault.
#[inline(never)]
pub fn join(program_id: &Address, accounts: &mut [AccountView]) -> Result {
    let (head, tail) = accounts.split_at_mut(accounts.len().min(5));
    let [validator, round, vault, validator_state, system] = head else {
        return Err(not_enough_accounts());
    };
    require_signer(validator)?;
    require_writable(&[validator, round, vault, validator_state])?;
    require_distinct(&[validator, round, vault, validator_state])?;
    require_system_program(system)?;
    let mut round_state: Round = load(round, program_id)?;
    require_key(vault, &round_state.vault, DropPinError::VaultMismatch)?;
    let round_key = round.address().to_bytes();
    let validator_key = validator.address().to_bytes();
    let bump = require_canonical_pda(
        validator_state,
        &[VALIDATOR_SEED, &round_key, &validator_key],
        program_id,
    )?;
    let escrow = Escrow::of(&round_state, tail, validator)?;

    let state = coordinator::join_committee(
        &mut round_state,
        &round_key,
        &validator_key,
        bump,
        current_slot()?,
    )
    .map_err(fail)?;
    let bump_seed = [bump];
    create_pda(
        validator,
        validator_state,
        &[
            Seed::from(VALIDATOR_SEED),
            Seed::from(&round_key),
            Seed::from(&validator_key),
            Seed::from(&bump_seed),
        ],
        program_id,
        &state,
    )?;
    escrow.deposit(validator, vault, round_state.validator_stake)?;
    save(round, &round_state)
}

/// Records and tallies a committee member's verdict.
#[inline(never)]
pub fn submit(program_id: &Address, accounts: &mut [AccountView], vote: VerdictVote) -> Result {
    let [validator, round, validator_state, ..] = accounts else {
        return Err(not_enough_accounts());
    };
    require_signer(validator)?;
    require_writable(&[round, validator_state])?;
    require_distinct(&[round, validator_state])?;
    let mut round_state: Round = load(round, program_id)?;
    let mut state = load_validator(program_id, validator_state, round)?;
    require_key(
        validator,
        &state.validator,
        DropPinError::NotCommitteeMember,
    )?;
    coordinator::submit_verdict::<SyscallSha256>(
        &mut round_state,
        &mut state,
        current_slot()?,
        vote,
    )
    .map_err(fail)?;
    save(validator_state, &state)?;
    save(round, &round_state)
}

/// Finalizes the round with the verdict `voter` voted for, if it has reached the quorum.
#[inline(never)]
pub fn finalize(program_id: &Address, accounts: &mut [AccountView]) -> Result {
    let [round, voter, ..] = accounts else {
        return Err(not_enough_accounts());
    };
    require_writable(&[round])?;
    let mut round_state: Round = load(round, program_id)?;
    let voter_state = load_validator(program_id, voter, round)?;
    coordinator::finalize_round(&mut round_state, &voter_state).map_err(fail)?;
    save(round, &round_state)
}

/// Pays or refunds a committee member (slash to the treasury) and closes its state.
#[inline(never)]
pub fn settle(program_id: &Address, accounts: &mut [AccountView]) -> Result {
    let (head, tail) = accounts.split_at_mut(accounts.len().min(5));
    let [validator, round, vault, validator_state, treasury] = head else {
        return Err(not_enough_accounts());
    };
    require_writable(&[validator, round, vault, validator_state, treasury])?;
    require_distinct(&[validator, round, vault, validator_state, treasury])?;
    let mut round_state: Round = load(round, program_id)?;
    require_key(vault, &round_state.vault, DropPinError::VaultMismatch)?;
    let state = load_validator(program_id, validator_state, round)?;
    require_key(validator, &state.validator, DropPinError::RecipientMismatch)?;
    let mut treasury_state: Treasury = load(treasury, program_id)?;
    let escrow = Escrow::of(&round_state, tail, validator)?;

    let payout =
        coordinator::settle_validator(&mut round_state, &state, current_slot()?).map_err(fail)?;
    let signer = RoundSigner::of(&round_state);
    escrow.pay(vault, validator, round, &signer, payout.to_validator)?;
    escrow.to_protocol(
        vault,
        treasury,
        &mut treasury_state,
        round,
        &signer,
        payout.to_treasury,
    )?;
    save(treasury, &treasury_state)?;
    save(round, &round_state)?;
    close_account(validator_state, validator)
}

fn load_validator(
    program_id: &Address,
    account: &AccountView,
    round: &AccountView,
) -> Result<ValidatorState> {
    let state: ValidatorState = load(account, program_id)?;
    if state.round != round.address().to_bytes() {
        return Err(fail(DropPinError::RoundMismatch));
    }
    Ok(state)
}
