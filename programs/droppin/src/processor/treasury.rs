//! LaunchToken, ConvertRound, BeginSwap and EndSwap: the $dPIN token, the conversion of
//! pre-launch rounds and the treasury's buy-and-burn batches.

use alloc::boxed::Box;

use droppin_coordinator as coordinator;
use droppin_interface::{
    DPIN_DECIMALS, INSTRUCTIONS_SYSVAR_ID,
    instruction::DropPinInstruction,
    pda::{TOKEN_VAULT_SEED, TREASURY_SEED, TREASURY_TOKEN_SEED},
    state::{ProtocolConfig, Round, TokenLaunch, Treasury, Vault},
};
use pinocchio::{
    AccountView, Address,
    cpi::{Seed, Signer},
    sysvars::{Sysvar, instructions::Instructions, rent::Rent},
};
use pinocchio_token::{
    instructions::{Burn, InitializeAccount3},
    state::{Account as TokenAccount, Mint},
};

use super::not_enough_accounts;
use crate::{
    accounts::{
        current_slot, load, load_round, require_canonical_pda, require_distinct, require_key,
        require_signer, require_system_program, require_writable, save, spendable, withdraw,
    },
    error::{DropPinError, Result, fail},
    escrow::{create_token_account, create_token_vault, require_token_program, token_balance},
};

/// Tags of the two halves of a swap, as they appear in instruction data.
const BEGIN_SWAP: u8 = 29;
const END_SWAP: u8 = 30;

/// Adopts the fixed-supply $dPIN mint and creates the treasury's account for it.
#[inline(never)]
pub fn launch(program_id: &Address, accounts: &mut [AccountView]) -> Result {
    let [
        admin,
        config,
        treasury,
        treasury_token,
        mint,
        token_program,
        system,
        ..,
    ] = accounts
    else {
        return Err(not_enough_accounts());
    };
    require_signer(admin)?;
    require_writable(&[admin, config, treasury_token])?;
    require_distinct(&[admin, config, treasury_token])?;
    require_token_program(token_program)?;
    require_system_program(system)?;
    let mut config_state: ProtocolConfig = load(config, program_id)?;
    require_key(admin, &config_state.admin, DropPinError::Unauthorized)?;
    if config_state.token_launched() {
        return Err(fail(DropPinError::TokenAlreadyLaunched));
    }
    require_key(
        treasury,
        &config_state.treasury,
        DropPinError::TreasuryMismatch,
    )?;
    require_fixed_supply(mint)?;
    let bump = require_canonical_pda(treasury_token, &[TREASURY_TOKEN_SEED], program_id)?;

    let bump_seed = [bump];
    create_token_account(
        admin,
        treasury_token,
        &[Seed::from(TREASURY_TOKEN_SEED), Seed::from(&bump_seed)],
    )?;
    InitializeAccount3::new(treasury_token, mint, treasury.address()).invoke()?;
    config_state.token = TokenLaunch {
        mint: mint.address().to_bytes(),
        treasury_token: treasury_token.address().to_bytes(),
        treasury_token_bump: bump,
        launch_slot: current_slot()?,
    };
    save(config, &config_state)
}

/// The mint must be an initialized SPL Token mint of $dPIN's decimals that nobody can inflate
/// or freeze.
fn require_fixed_supply(mint: &AccountView) -> Result {
    let state = Mint::from_account_view(mint).map_err(|_| fail(DropPinError::InvalidMint))?;
    let fixed = state.is_initialized()
        && !state.has_mint_authority()
        && !state.has_freeze_authority()
        && state.decimals() == DPIN_DECIMALS;
    if fixed {
        Ok(())
    } else {
        Err(fail(DropPinError::InvalidMint))
    }
}

/// Makes a pre-launch SOL round a $dPIN round awaiting conversion, at its funder's request. The
/// funder fronts the token vault's rent and is repaid from the pool once the CPIs are done
/// (lamports moved by hand before a CPI would unbalance it).
#[inline(never)]
pub fn convert(program_id: &Address, accounts: &mut [AccountView]) -> Result {
    let [
        payer,
        round,
        vault,
        token_vault,
        config,
        mint,
        token_program,
        system,
        ..,
    ] = accounts
    else {
        return Err(not_enough_accounts());
    };
    require_signer(payer)?;
    require_writable(&[payer, round, vault, token_vault])?;
    require_distinct(&[payer, round, vault, token_vault])?;
    require_token_program(token_program)?;
    require_system_program(system)?;
    let config_state: ProtocolConfig = load(config, program_id)?;
    require_mint(&config_state, mint)?;
    let mut round_state: Box<Round> = load_round(round, program_id)?;
    require_key(vault, &round_state.vault, DropPinError::VaultMismatch)?;
    let _: Vault = load(vault, program_id)?;
    let bump = require_canonical_pda(
        token_vault,
        &[TOKEN_VAULT_SEED, round.address().as_ref()],
        program_id,
    )?;

    let rent = Rent::get()?.try_minimum_balance(TokenAccount::LEN)?;
    let conversion = coordinator::Conversion {
        caller: payer.address().to_bytes(),
        launch_slot: config_state.token.launch_slot,
        token_vault: token_vault.address().to_bytes(),
        rent,
    };
    coordinator::convert_round(
        &mut round_state,
        &config_state.params.swap,
        &conversion,
        current_slot()?,
    )
    .map_err(fail)?;
    create_token_vault(payer, token_vault, mint, round.address(), bump)?;
    withdraw(vault, payer, rent)?;
    save(round, &*round_state)
}

/// Lends a batch of SOL to the caller's route, to be matched by an `EndSwap` in this
/// transaction.
#[inline(never)]
pub fn begin(program_id: &Address, accounts: &mut [AccountView], lamports: u64) -> Result {
    let (head, tail) = accounts.split_at_mut(accounts.len().min(5));
    let [caller, config, treasury, sysvar, destination] = head else {
        return Err(not_enough_accounts());
    };
    require_signer(caller)?;
    require_writable(&[caller, treasury])?;
    require_distinct(&[caller, treasury, destination])?;
    let config_state: ProtocolConfig = load(config, program_id)?;
    if !config_state.token_launched() {
        return Err(fail(DropPinError::TokenNotLaunched));
    }
    let mut treasury_state: Treasury = load(treasury, program_id)?;
    require_swap_pair(program_id, sysvar)?;

    let batch = coordinator::SwapBatch {
        lamports,
        available: 0,
        balance_before: token_balance(destination)?,
        round: [0; 32],
    };
    let slot = current_slot()?;
    let swap = config_state.params.swap;
    match tail {
        [] => {
            require_key(
                destination,
                &config_state.token.treasury_token,
                DropPinError::TreasuryMismatch,
            )?;
            let batch = coordinator::SwapBatch {
                available: spendable(treasury)?,
                ..batch
            };
            coordinator::begin_swap(&mut treasury_state, &swap, slot, batch).map_err(fail)?;
            withdraw(treasury, caller, lamports)?;
        }
        [round, vault, ..] => {
            require_writable(&[round, vault])?;
            require_distinct(&[caller, treasury, destination, round, vault])?;
            let round_state: Box<Round> = load_round(round, program_id)?;
            require_key(vault, &round_state.vault, DropPinError::VaultMismatch)?;
            require_key(
                destination,
                &round_state.token_vault,
                DropPinError::VaultMismatch,
            )?;
            coordinator::require_convertible_now(&round_state, slot).map_err(fail)?;
            let batch = coordinator::SwapBatch {
                available: round_state.unconverted,
                round: round.address().to_bytes(),
                ..batch
            };
            coordinator::begin_swap(&mut treasury_state, &swap, slot, batch).map_err(fail)?;
            withdraw(vault, caller, lamports)?;
        }
        [_] => return Err(not_enough_accounts()),
    }
    save(treasury, &treasury_state)
}

/// Closes the batch: checks what the destination received, then burns it (buy-and-burn) or
/// credits the converting round.
#[inline(never)]
pub fn end(program_id: &Address, accounts: &mut [AccountView]) -> Result {
    let (head, tail) = accounts.split_at_mut(accounts.len().min(6));
    let [config, treasury, destination, mint, token_program, sysvar] = head else {
        return Err(not_enough_accounts());
    };
    require_writable(&[treasury, destination, mint])?;
    require_distinct(&[treasury, destination, mint])?;
    require_token_program(token_program)?;
    let config_state: ProtocolConfig = load(config, program_id)?;
    require_mint(&config_state, mint)?;
    let mut treasury_state: Treasury = load(treasury, program_id)?;
    require_key(
        treasury,
        &config_state.treasury,
        DropPinError::TreasuryMismatch,
    )?;
    require_top_level(program_id, sysvar, END_SWAP)?;

    let converting = treasury_state.pending.round;
    if converting == [0; 32] {
        require_key(
            destination,
            &config_state.token.treasury_token,
            DropPinError::TreasuryMismatch,
        )?;
        let balance = token_balance(destination)?;
        coordinator::end_swap(&mut treasury_state, balance).map_err(fail)?;
        let bump = [config_state.treasury_bump];
        let seeds = [Seed::from(TREASURY_SEED), Seed::from(&bump)];
        Burn::new(destination, mint, treasury, balance).invoke_signed(&[Signer::from(&seeds)])?;
        coordinator::record_burn(&mut treasury_state, balance).map_err(fail)?;
    } else {
        let [round, ..] = tail else {
            return Err(not_enough_accounts());
        };
        require_writable(&[round])?;
        require_key(round, &converting, DropPinError::RoundMismatch)?;
        let mut round_state: Box<Round> = load_round(round, program_id)?;
        require_key(
            destination,
            &round_state.token_vault,
            DropPinError::VaultMismatch,
        )?;
        let outcome = coordinator::end_swap(&mut treasury_state, token_balance(destination)?)
            .map_err(fail)?;
        coordinator::credit_conversion(&mut round_state, &outcome).map_err(fail)?;
        save(round, &*round_state)?;
    }
    save(treasury, &treasury_state)
}

fn require_mint(config: &ProtocolConfig, mint: &AccountView) -> Result {
    if !config.token_launched() {
        return Err(fail(DropPinError::TokenNotLaunched));
    }
    require_key(mint, &config.token.mint, DropPinError::WrongMint)
}

/// The running instruction must be a top-level instruction of this program with tag `tag`
/// (a swap half invoked through another program would escape the pairing check).
fn require_top_level(program_id: &Address, sysvar: &AccountView, tag: u8) -> Result {
    let instructions = load_instructions(sysvar)?;
    let current =
        instructions.load_instruction_at(usize::from(instructions.load_current_index()))?;
    if current.get_program_id() == program_id
        && current.get_instruction_data().first() == Some(&tag)
    {
        Ok(())
    } else {
        Err(fail(DropPinError::InvalidSwapRoute))
    }
}

/// The transaction must hold exactly this `BeginSwap`, then exactly one `EndSwap` later, and no
/// other instruction of this program between them.
fn require_swap_pair(program_id: &Address, sysvar: &AccountView) -> Result {
    require_top_level(program_id, sysvar, BEGIN_SWAP)?;
    let instructions = load_instructions(sysvar)?;
    let current = usize::from(instructions.load_current_index());
    let mut end = None;
    for index in 0..instructions.num_instructions() {
        let ix = instructions.load_instruction_at(index)?;
        if ix.get_program_id() != program_id {
            continue;
        }
        match ix.get_instruction_data().first() {
            Some(&BEGIN_SWAP) if index != current => {
                return Err(fail(DropPinError::SwapInProgress));
            }
            Some(&END_SWAP) if index > current && end.is_none() => end = Some(index),
            _ if index > current && end.is_none() => {
                return Err(fail(DropPinError::InvalidSwapRoute));
            }
            Some(&END_SWAP) => return Err(fail(DropPinError::InvalidSwapRoute)),
            _ => {}
        }
    }
    end.map(|_| ()).ok_or(fail(DropPinError::MissingEndSwap))
}

fn load_instructions(
    sysvar: &AccountView,
) -> Result<Instructions<pinocchio::account::Ref<'_, [u8]>>> {
    require_key(sysvar, &INSTRUCTIONS_SYSVAR_ID, DropPinError::InvalidSysvar)?;
    Instructions::try_from(sysvar)
}

const _: () = {
    let names = DropPinInstruction::NAMES;
    assert!(names[BEGIN_SWAP as usize].len() == "BeginSwap".len());
    assert!(names[END_SWAP as usize].len() == "EndSwap".len());
};
