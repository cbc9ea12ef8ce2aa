//! How a round's value moves: lamports of its vault PDA in a SOL round, tokens of its token
//! vault through SPL Token CPIs in a $dPIN round. Processors price a movement with the
//! coordinator and carry it out here, so both currencies keep the same conservation rules.
//!
//! Every function here is inlined into its processor: several take more than the five argument
//! registers an SBPF v0 call can pass.

use droppin_interface::{
    TOKEN_PROGRAM_ID,
    pda::{ROUND_SEED, TOKEN_VAULT_SEED},
    state::{Currency, Round, Treasury},
};
use pinocchio::{
    AccountView, Address,
    cpi::{Seed, Signer},
};
use pinocchio_token::{
    instructions::{Burn, CloseAccount, InitializeAccount3, Transfer},
    state::Account as TokenAccount,
};

use crate::{
    accounts::{allocate_pda, deposit, require_distinct, require_key, require_writable, withdraw},
    error::{DropPinError, Result, fail},
};

/// The accounts a $dPIN round's instruction appends (see `droppin_interface::builders::in_dpin`).
pub struct TokenLeg<'a> {
    /// The $dPIN mint.
    pub mint: &'a AccountView,
    /// The round's token vault.
    pub vault: &'a AccountView,
    /// The token account of the wallet that pays or is paid.
    pub wallet_token: &'a AccountView,
}

/// Where a round's value sits.
pub enum Escrow<'a> {
    /// Lamports of the vault PDA.
    Sol,
    /// Tokens of the token vault.
    Dpin(TokenLeg<'a>),
}

/// The round PDA's seeds, to sign for its token vault.
pub struct RoundSigner {
    id: [u8; 8],
    bump: [u8; 1],
}

impl RoundSigner {
    /// The signer of `round`.
    #[inline(always)]
    pub fn of(round: &Round) -> Self {
        RoundSigner {
            id: round.id.to_le_bytes(),
            bump: [round.bump],
        }
    }

    fn seeds(&self) -> [Seed<'_>; 3] {
        [
            Seed::from(ROUND_SEED),
            Seed::from(&self.id),
            Seed::from(&self.bump),
        ]
    }
}

/// The SPL Token program, checked: the only token program this program calls.
pub fn require_token_program(account: &AccountView) -> Result {
    require_key(
        account,
        &TOKEN_PROGRAM_ID,
        DropPinError::InvalidTokenProgram,
    )
}

/// A token account's mint and owner, after checking it is an SPL Token account.
pub fn token_account(account: &AccountView) -> Result<(Address, Address, u64)> {
    let state =
        TokenAccount::from_account_view(account).map_err(|_| fail(DropPinError::WrongMint))?;
    Ok((state.mint().clone(), state.owner().clone(), state.amount()))
}

/// A token account's balance.
pub fn token_balance(account: &AccountView) -> Result<u64> {
    Ok(token_account(account)?.2)
}

impl<'a> Escrow<'a> {
    /// The escrow of an existing round: for a $dPIN round, `tail` must hold the token program,
    /// the mint, the round's token vault and `wallet`'s token account of the same mint.
    #[inline(always)]
    pub fn of(round: &Round, tail: &'a [AccountView], wallet: &AccountView) -> Result<Self> {
        if round.currency == Currency::Sol {
            return Ok(Escrow::Sol);
        }
        let leg = TokenLeg::from_tail(tail)?;
        require_key(leg.vault, &round.token_vault, DropPinError::VaultMismatch)?;
        let (mint, _, _) = token_account(leg.vault)?;
        leg.require_mint_and_wallet(&mint, wallet.address())?;
        Ok(Escrow::Dpin(leg))
    }

    /// Moves `amount` from a signing wallet into the escrow.
    #[inline(always)]
    pub fn deposit(&self, wallet: &AccountView, vault: &AccountView, amount: u64) -> Result {
        match self {
            Escrow::Sol => deposit(wallet, vault, amount),
            Escrow::Dpin(_) if amount == 0 => Ok(()),
            Escrow::Dpin(leg) => {
                Transfer::new(leg.wallet_token, leg.vault, wallet, amount).invoke()
            }
        }
    }

    /// Burns `amount` of a signing wallet's tokens (a $dPIN round's protocol fee); in a SOL
    /// round the fee goes to the treasury instead.
    #[inline(always)]
    pub fn pay_fee(
        &self,
        wallet: &AccountView,
        treasury: &AccountView,
        treasury_state: &mut Treasury,
        amount: u64,
    ) -> Result {
        match self {
            Escrow::Sol => {
                deposit(wallet, treasury, amount)?;
                treasury_state.fees_collected = checked_add(treasury_state.fees_collected, amount)?;
                Ok(())
            }
            Escrow::Dpin(_) if amount == 0 => Ok(()),
            Escrow::Dpin(leg) => {
                Burn::new(leg.wallet_token, leg.mint, wallet, amount).invoke()?;
                droppin_coordinator::record_burn(treasury_state, amount).map_err(fail)
            }
        }
    }

    /// Pays `amount` out of the escrow to `wallet` (its token account in a $dPIN round).
    #[inline(always)]
    pub fn pay(
        &self,
        vault: &mut AccountView,
        wallet: &mut AccountView,
        round: &AccountView,
        signer: &RoundSigner,
        amount: u64,
    ) -> Result {
        match self {
            Escrow::Sol => withdraw(vault, wallet, amount),
            Escrow::Dpin(_) if amount == 0 => Ok(()),
            Escrow::Dpin(leg) => {
                let seeds = signer.seeds();
                Transfer::new(leg.vault, leg.wallet_token, round, amount)
                    .invoke_signed(&[Signer::from(&seeds)])
            }
        }
    }

    /// Sends `amount` of slashes and forfeits from the escrow to the treasury (burned in a
    /// $dPIN round).
    #[inline(always)]
    pub fn to_slashes(
        &self,
        vault: &mut AccountView,
        treasury: &mut AccountView,
        treasury_state: &mut Treasury,
        round: &AccountView,
        signer: &RoundSigner,
        amount: u64,
    ) -> Result {
        self.to_treasury(
            vault,
            treasury,
            treasury_state,
            round,
            signer,
            amount,
            Income::Slashes,
        )
    }

    /// Sends `amount` from the escrow to the protocol: to the treasury in a SOL round (counted
    /// as `income`), burned in a $dPIN round.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub fn to_treasury(
        &self,
        vault: &mut AccountView,
        treasury: &mut AccountView,
        treasury_state: &mut Treasury,
        round: &AccountView,
        signer: &RoundSigner,
        amount: u64,
        income: Income,
    ) -> Result {
        match self {
            Escrow::Sol => {
                withdraw(vault, treasury, amount)?;
                income.record(treasury_state, amount)
            }
            Escrow::Dpin(_) if amount == 0 => Ok(()),
            Escrow::Dpin(leg) => {
                let seeds = signer.seeds();
                Burn::new(leg.vault, leg.mint, round, amount)
                    .invoke_signed(&[Signer::from(&seeds)])?;
                droppin_coordinator::record_burn(treasury_state, amount).map_err(fail)
            }
        }
    }
}

/// What the treasury receives, for its books.
#[derive(Clone, Copy)]
pub enum Income {
    /// Slashes and forfeits.
    Slashes,
    /// A closed round's rounding dust.
    Dust,
}

impl Income {
    /// Adds `amount` lamports to the matching total.
    pub fn record(self, treasury: &mut Treasury, amount: u64) -> Result {
        let total = match self {
            Income::Slashes => &mut treasury.slashes_collected,
            Income::Dust => &mut treasury.other_collected,
        };
        *total = checked_add(*total, amount)?;
        Ok(())
    }
}

impl<'a> TokenLeg<'a> {
    /// Reads the four appended accounts and checks the token program and writability.
    pub fn from_tail(tail: &'a [AccountView]) -> Result<Self> {
        let [program, mint, vault, wallet_token, ..] = tail else {
            return Err(fail(DropPinError::NotEnoughAccountKeys));
        };
        require_token_program(program)?;
        require_writable(&[mint, vault, wallet_token])?;
        require_distinct(&[mint, vault, wallet_token])?;
        Ok(TokenLeg {
            mint,
            vault,
            wallet_token,
        })
    }

    /// The mint must be `mint` and the wallet's token account must hold it and belong to `wallet`.
    pub fn require_mint_and_wallet(&self, mint: &Address, wallet: &Address) -> Result {
        if self.mint.address() != mint {
            return Err(fail(DropPinError::WrongMint));
        }
        let (wallet_mint, owner, _) = token_account(self.wallet_token)?;
        if &wallet_mint != mint {
            return Err(fail(DropPinError::WrongMint));
        }
        if &owner != wallet {
            return Err(fail(DropPinError::TokenAccountOwnerMismatch));
        }
        Ok(())
    }

    /// Closes the emptied token vault; its rent goes to `to`.
    #[inline(always)]
    pub fn close_vault(
        &self,
        to: &AccountView,
        round: &AccountView,
        signer: &RoundSigner,
    ) -> Result {
        let seeds = signer.seeds();
        CloseAccount::new(self.vault, to, round).invoke_signed(&[Signer::from(&seeds)])
    }
}

/// Creates a round's token vault at its PDA (`bump` canonical), owned by the round PDA, with
/// `payer` paying the rent.
#[inline(always)]
pub fn create_token_vault(
    payer: &AccountView,
    token_vault: &AccountView,
    mint: &AccountView,
    round: &Address,
    bump: u8,
) -> Result {
    let bump = [bump];
    let seeds = [
        Seed::from(TOKEN_VAULT_SEED),
        Seed::from(round.as_ref()),
        Seed::from(&bump),
    ];
    create_token_account(payer, token_vault, &seeds)?;
    InitializeAccount3::new(token_vault, mint, round).invoke()
}

/// Allocates an SPL Token account at a PDA signed by `seeds`, rent paid by `payer` (or already
/// there).
#[inline(always)]
pub fn create_token_account(payer: &AccountView, account: &AccountView, seeds: &[Seed]) -> Result {
    allocate_pda(
        payer,
        account,
        TokenAccount::LEN,
        &Address::new_from_array(TOKEN_PROGRAM_ID),
        seeds,
    )
}

fn checked_add(a: u64, b: u64) -> Result<u64> {
    a.checked_add(b)
        .ok_or(fail(DropPinError::ArithmeticOverflow))
}
