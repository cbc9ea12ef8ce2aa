//! OpenRound, FundRound, CrankTimeout and CloseRound.

use alloc::boxed::Box;

use droppin_coordinator as coordinator;
use droppin_interface::{
    instruction::OpenRoundArgs,
    pda::{ROUND_SEED, TOKEN_VAULT_SEED, VAULT_SEED},
    state::{Currency, ProtocolConfig, Round, Treasury, Vault},
};
use pinocchio::{AccountView, Address, cpi::Seed};

use super::not_enough_accounts;
use crate::{
    accounts::{
        close as close_account, create_pda, current_slot, load, require_canonical_pda,
        require_distinct, require_key, require_signer, require_system_program, require_writable,
        save, spendable, withdraw,
    },
    error::{DropPinError, Result, fail},
    escrow::{Escrow, RoundSigner, TokenLeg, create_token_vault, token_balance},
};

/// Opens round number `config.round_count`, escrows the pool and pays the fee to the treasury.
#[inline(never)]
pub fn open(program_id: &Address, accounts: &mut [AccountView], args: &OpenRoundArgs) -> Result {
    let (head, tail) = accounts.split_at_mut(accounts.len().min(6));
    let [funder, config, round, vault, treasury, system] = head else {
        return Err(not_enough_accounts());
    };
    require_signer(funder)?;
    require_writable(&[funder, config, round, vault, treasury])?;
    require_distinct(&[funder, config, round, vault, treasury])?;
    require_system_program(system)?;
    let mut config_state: ProtocolConfig = load(config, program_id)?;
    require_key(
        treasury,
        &config_state.treasury,
        DropPinError::TreasuryMismatch,
    )?;
    let mut treasury_state: Treasury = load(treasury, program_id)?;

    let id = config_state.round_count.to_le_bytes();
    let round_bump = require_canonical_pda(round, &[ROUND_SEED, &id], program_id)?;
    let vault_bump =
        require_canonical_pda(vault, &[VAULT_SEED, round.address().as_ref()], program_id)?;
    let token_leg = match args.currency {
        Currency::Sol => None,
        Currency::Dpin if !config_state.token_launched() => {
            return Err(fail(DropPinError::TokenNotLaunched));
        }
        Currency::Dpin => {
            let leg = TokenLeg::from_tail(tail)?;
            leg.require_mint_and_wallet(&Address::new_from_array(config_state.token.mint), funder)?;
            let bump = require_canonical_pda(
                leg.vault,
                &[TOKEN_VAULT_SEED, round.address().as_ref()],
                program_id,
            )?;
            Some((leg, bump))
        }
    };
    let keys = coordinator::RoundKeys {
        id: config_state.round_count,
        bump: round_bump,
        funder: funder.address().to_bytes(),
        vault: vault.address().to_bytes(),
        vault_bump,
        token_vault: token_leg
            .as_ref()
            .map_or([0; 32], |(leg, _)| leg.vault.address().to_bytes()),
    };
    let mut round_state: Box<Round> = Box::default();
    let funding = coordinator::open_round(
        &config_state.params,
        keys,
        args,
        current_slot()?,
        &mut round_state,
    )
    .map_err(fail)?;

    let bump = [round_bump];
    create_pda(
        funder,
        round,
        &[Seed::from(ROUND_SEED), Seed::from(&id), Seed::from(&bump)],
        program_id,
        &*round_state,
    )?;
    let vault_state = Vault {
        round: round.address().to_bytes(),
        bump: vault_bump,
    };
    let bump = [vault_bump];
    create_pda(
        funder,
        vault,
        &[
            Seed::from(VAULT_SEED),
            Seed::from(round.address().as_ref()),
            Seed::from(&bump),
        ],
        program_id,
        &vault_state,
    )?;
    let escrow = match token_leg {
        Some((leg, bump)) => {
            create_token_vault(funder, leg.vault, leg.mint, round.address(), bump)?;
            Escrow::Dpin(leg)
        }
        None => Escrow::Sol,
    };
    escrow.deposit(funder, vault, funding.to_pool)?;
    escrow.pay_fee(funder, treasury, &mut treasury_state, funding.fee)?;
    save(treasury, &treasury_state)?;
    config_state.round_count += 1;
    save(config, &config_state)
}

/// Tops up a round's pool (fee to the treasury) before training closes.
#[inline(never)]
pub fn fund(program_id: &Address, accounts: &mut [AccountView], amount: u64) -> Result {
    let (head, tail) = accounts.split_at_mut(accounts.len().min(5));
    let [funder, round, vault, treasury, system] = head else {
        return Err(not_enough_accounts());
    };
    require_signer(funder)?;
    require_writable(&[funder, round, vault, treasury])?;
    require_distinct(&[funder, round, vault, treasury])?;
    require_system_program(system)?;
    let mut round_state: Round = load(round, program_id)?;
    require_key(vault, &round_state.vault, DropPinError::VaultMismatch)?;
    let mut treasury_state: Treasury = load(treasury, program_id)?;
    let escrow = Escrow::of(&round_state, tail, funder)?;

    let funding =
        coordinator::fund_round(&mut round_state, current_slot()?, amount).map_err(fail)?;
    escrow.deposit(funder, vault, funding.to_pool)?;
    escrow.pay_fee(funder, treasury, &mut treasury_state, funding.fee)?;
    save(treasury, &treasury_state)?;
    save(round, &round_state)
}

/// Fails a round whose deadline passed without joins, reveals or a quorum.
#[inline(never)]
pub fn crank(program_id: &Address, accounts: &mut [AccountView]) -> Result {
    let [round, ..] = accounts else {
        return Err(not_enough_accounts());
    };
    require_writable(&[round])?;
    let mut round_state: Round = load(round, program_id)?;
    coordinator::crank_timeout(&mut round_state, current_slot()?).map_err(fail)?;
    save(round, &round_state)
}

/// Closes a settled round: remainder to the funder or treasury, rent of round and vault to the funder.
#[inline(never)]
pub fn close(program_id: &Address, accounts: &mut [AccountView]) -> Result {
    let (head, tail) = accounts.split_at_mut(accounts.len().min(4));
    let [funder, round, vault, treasury] = head else {
        return Err(not_enough_accounts());
    };
    require_writable(&[funder, round, vault, treasury])?;
    require_distinct(&[funder, round, vault, treasury])?;
    let round_state: Round = load(round, program_id)?;
    require_key(funder, &round_state.funder, DropPinError::RecipientMismatch)?;
    require_key(vault, &round_state.vault, DropPinError::VaultMismatch)?;
    let _: Vault = load(vault, program_id)?;
    let mut treasury_state: Treasury = load(treasury, program_id)?;

    let escrow = Escrow::of(&round_state, tail, funder)?;
    if let Escrow::Dpin(leg) = &escrow {
        let signer = RoundSigner::of(&round_state);
        let split =
            coordinator::close_round(&round_state, token_balance(leg.vault)?).map_err(fail)?;
        escrow.pay(vault, funder, round, &signer, split.to_funder)?;
        escrow.to_protocol(
            vault,
            treasury,
            &mut treasury_state,
            round,
            &signer,
            split.to_treasury,
        )?;
        leg.close_vault(funder, round, &signer)?;
    }
    // The SOL left: a SOL round's remainder, or a converted round's unconverted pool.
    let split = coordinator::close_round(&round_state, spendable(vault)?).map_err(fail)?;
    withdraw(vault, treasury, split.to_treasury)?;
    treasury_state.other_collected = treasury_state
        .other_collected
        .checked_add(split.to_treasury)
        .ok_or(fail(DropPinError::ArithmeticOverflow))?;
    save(treasury, &treasury_state)?;
    close_account(vault, funder)?;
    close_account(round, funder)
}
