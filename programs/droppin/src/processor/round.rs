//! OpenRound, FundRound, CrankTimeout, RefundContribution and CloseRound.

use alloc::boxed::Box;

use droppin_coordinator as coordinator;
use droppin_interface::{
    instruction::OpenRoundArgs,
    pda::{CONTRIBUTION_SEED, ROUND_SEED, TOKEN_VAULT_SEED, VAULT_SEED, VERDICT_SEED},
    state::{
        Contribution, Currency, ProtocolConfig, Registry, Round, Treasury, Vault, VerdictLeaves,
    },
};
use pinocchio::{AccountView, Address, cpi::Seed};

use super::not_enough_accounts;
use crate::{
    accounts::{
        close as close_account, create_pda, current_slot, is_uninitialized, load, load_round,
        require_canonical_pda, require_distinct, require_key, require_signer,
        require_system_program, require_writable, save, spendable, withdraw,
    },
    error::{DropPinError, Result, fail},
    escrow::{Escrow, Income, RoundSigner, TokenLeg, create_token_vault, token_balance},
};

/// Opens round number `config.round_count`, escrows the pool and pays the fee to the treasury.
#[inline(never)]
pub fn open(program_id: &Address, accounts: &mut [AccountView], args: &OpenRoundArgs) -> Result {
    let (head, tail) = accounts.split_at_mut(accounts.len().min(7));
    let [funder, config, round, vault, treasury, registry, system] = head else {
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
    require_key(
        registry,
        &config_state.registry,
        DropPinError::RegistryMismatch,
    )?;
    let registry_state: Registry = load(registry, program_id)?;
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
            leg.require_mint_and_wallet(
                &Address::new_from_array(config_state.token.mint),
                funder.address(),
            )?;
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
        treasury: config_state.treasury,
        bonded_total: registry_state.bonded_worth(config_state.params.swap.reference_price),
    };
    let mut round_state: Box<Round> = Box::default();
    let funding = coordinator::open_round(
        &config_state.params,
        &keys,
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

/// Tops up a round's pool (fee to the treasury) before training closes; a third party's top-up
/// is recorded in its contribution account.
#[inline(never)]
pub fn fund(program_id: &Address, accounts: &mut [AccountView], amount: u64) -> Result {
    let (head, tail) = accounts.split_at_mut(accounts.len().min(6));
    let [payer, round, vault, treasury, contribution, system] = head else {
        return Err(not_enough_accounts());
    };
    require_signer(payer)?;
    require_writable(&[payer, round, vault, treasury])?;
    require_distinct(&[payer, round, vault, treasury])?;
    require_system_program(system)?;
    let mut round_state: Box<Round> = load_round(round, program_id)?;
    require_key(vault, &round_state.vault, DropPinError::VaultMismatch)?;
    require_key(
        treasury,
        &round_state.treasury,
        DropPinError::TreasuryMismatch,
    )?;
    let mut treasury_state: Treasury = load(treasury, program_id)?;
    let escrow = Escrow::of(&round_state, tail, payer)?;

    let payer_key = payer.address().to_bytes();
    let by_funder = payer_key == round_state.funder;
    let funding = coordinator::fund_round(&mut round_state, current_slot()?, amount, by_funder)
        .map_err(fail)?;
    if !by_funder {
        record_contribution(
            program_id,
            round,
            contribution,
            payer,
            &mut round_state,
            &funding,
        )?;
    }
    escrow.deposit(payer, vault, funding.to_pool)?;
    escrow.pay_fee(payer, treasury, &mut treasury_state, funding.fee)?;
    save(treasury, &treasury_state)?;
    save(round, &*round_state)
}

/// Creates or grows a third party's contribution record.
#[inline(always)]
fn record_contribution(
    program_id: &Address,
    round: &AccountView,
    contribution: &mut AccountView,
    payer: &AccountView,
    round_state: &mut Round,
    funding: &coordinator::Funding,
) -> Result {
    require_writable(&[contribution])?;
    let round_key = round.address().to_bytes();
    let payer_key = payer.address().to_bytes();
    let first = is_uninitialized(contribution);
    let mut record = if first {
        let bump = require_canonical_pda(
            contribution,
            &[CONTRIBUTION_SEED, &round_key, &payer_key],
            program_id,
        )?;
        Contribution {
            round: round_key,
            payer: payer_key,
            bump,
            amount: 0,
        }
    } else {
        let record: Contribution = load(contribution, program_id)?;
        if record.round != round_key || record.payer != payer_key {
            return Err(fail(DropPinError::RecipientMismatch));
        }
        record
    };
    coordinator::record_contribution(round_state, &mut record, funding, first).map_err(fail)?;
    if first {
        let bump = [record.bump];
        create_pda(
            payer,
            contribution,
            &[
                Seed::from(CONTRIBUTION_SEED),
                Seed::from(&round_key),
                Seed::from(&payer_key),
                Seed::from(&bump),
            ],
            program_id,
            &record,
        )
    } else {
        save(contribution, &record)
    }
}

/// Fails a round whose deadline passed without what it needed.
#[inline(never)]
pub fn crank(program_id: &Address, accounts: &mut [AccountView]) -> Result {
    let [round, ..] = accounts else {
        return Err(not_enough_accounts());
    };
    require_writable(&[round])?;
    let mut round_state: Box<Round> = load_round(round, program_id)?;
    coordinator::crank_timeout(&mut round_state, current_slot()?).map_err(fail)?;
    save(round, &*round_state)
}

/// Returns a third party's unearned share of its top-up and closes its record (rent to it).
#[inline(never)]
pub fn refund_contribution(program_id: &Address, accounts: &mut [AccountView]) -> Result {
    let (head, tail) = accounts.split_at_mut(accounts.len().min(4));
    let [contributor, round, vault, contribution] = head else {
        return Err(not_enough_accounts());
    };
    require_writable(&[contributor, round, vault, contribution])?;
    require_distinct(&[contributor, round, vault, contribution])?;
    let mut round_state: Box<Round> = load_round(round, program_id)?;
    require_key(vault, &round_state.vault, DropPinError::VaultMismatch)?;
    let record: Contribution = load(contribution, program_id)?;
    if record.round != round.address().to_bytes() {
        return Err(fail(DropPinError::RoundMismatch));
    }
    require_key(contributor, &record.payer, DropPinError::RecipientMismatch)?;
    let escrow = Escrow::of(&round_state, tail, contributor)?;

    let refund = coordinator::refund_contribution(&mut round_state, &record).map_err(fail)?;
    let signer = RoundSigner::of(&round_state);
    escrow.pay(vault, contributor, round, &signer, refund)?;
    save(round, &*round_state)?;
    close_account(contribution, contributor)
}

/// Closes a settled round: the funder gets its unearned pool and the rent of the round and
/// vault, the treasury the dust, and whoever posted the verdict leaves their rent.
#[inline(never)]
pub fn close(program_id: &Address, accounts: &mut [AccountView]) -> Result {
    let (head, tail) = accounts.split_at_mut(accounts.len().min(8));
    let [
        funder,
        round,
        vault,
        treasury,
        leaves0,
        leaves1,
        payer0,
        payer1,
    ] = head
    else {
        return Err(not_enough_accounts());
    };
    require_writable(&[funder, round, vault, treasury])?;
    require_distinct(&[funder, round, vault, treasury])?;
    let round_state: Box<Round> = load_round(round, program_id)?;
    require_key(funder, &round_state.funder, DropPinError::RecipientMismatch)?;
    require_key(vault, &round_state.vault, DropPinError::VaultMismatch)?;
    require_key(
        treasury,
        &round_state.treasury,
        DropPinError::TreasuryMismatch,
    )?;
    let _: Vault = load(vault, program_id)?;
    let mut treasury_state: Treasury = load(treasury, program_id)?;

    let escrow = Escrow::of(&round_state, tail, funder)?;
    let sol_cap = if let Escrow::Dpin(leg) = &escrow {
        let signer = RoundSigner::of(&round_state);
        let split = coordinator::close_round(&round_state, token_balance(leg.vault)?, None)
            .map_err(fail)?;
        escrow.pay(vault, funder, round, &signer, split.to_funder)?;
        escrow.to_treasury(
            vault,
            treasury,
            &mut treasury_state,
            round,
            &signer,
            split.to_treasury,
            Income::Dust,
        )?;
        leg.close_vault(funder, round, &signer)?;
        // The SOL side of a token round: a converted round's unconverted pool is the funder's.
        Some(round_state.unconverted)
    } else {
        None
    };
    let split = coordinator::close_round(&round_state, spendable(vault)?, sol_cap).map_err(fail)?;
    withdraw(vault, funder, split.to_funder)?;
    withdraw(vault, treasury, split.to_treasury)?;
    Income::Dust.record(&mut treasury_state, split.to_treasury)?;
    save(treasury, &treasury_state)?;
    close_leaves(program_id, round, leaves0, payer0, 0)?;
    close_leaves(program_id, round, leaves1, payer1, 1)?;
    close_account(vault, funder)?;
    close_account(round, funder)
}

/// Closes a verdict's leaves account, if it exists, returning its rent to whoever posted it.
/// The address is checked first: a stand-in key would read as "no leaves" and strand the real
/// ones' rent, since nothing else closes them once the round is gone.
fn close_leaves(
    program_id: &Address,
    round: &AccountView,
    leaves: &mut AccountView,
    payer: &mut AccountView,
    level: u8,
) -> Result {
    require_canonical_pda(
        leaves,
        &[VERDICT_SEED, round.address().as_ref(), &[level]],
        program_id,
    )?;
    if is_uninitialized(leaves) || leaves.lamports() == 0 {
        return Ok(());
    }
    require_writable(&[leaves, payer])?;
    let state: VerdictLeaves = load(leaves, program_id)?;
    if state.round != round.address().to_bytes() || state.level != level {
        return Err(fail(DropPinError::RoundMismatch));
    }
    require_key(payer, &state.payer, DropPinError::RecipientMismatch)?;
    close_account(leaves, payer)
}
