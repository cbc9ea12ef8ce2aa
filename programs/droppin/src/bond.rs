//! How a validator's bond moves: lamports of its bond PDA for a SOL bond, tokens of its bond
//! token account (PDA `["bond-token", validator]`, authority: the bond PDA) through SPL Token
//! CPIs for a $dPIN bond. Processors price a movement with the coordinator and carry it out
//! here, so both currencies keep the same conservation rules.
//!
//! Every function here is inlined into its processor: several take more than the five argument
//! registers an SBPF v0 call can pass.

use droppin_interface::{
    pda::{BOND_SEED, BOND_TOKEN_SEED},
    state::{Currency, Treasury, ValidatorBond},
};
use pinocchio::{
    AccountView, Address,
    cpi::{Seed, Signer},
};
use pinocchio_token::instructions::{Burn, CloseAccount, InitializeAccount3, Transfer};

use crate::{
    accounts::{deposit, require_canonical_pda, withdraw},
    error::{DropPinError, Result, fail},
    escrow::{Income, TokenLeg, create_token_account, token_account},
};

/// Where a bond's value sits, with the bond PDA's seeds to sign for its token account.
pub enum BondEscrow<'a> {
    /// Lamports of the bond PDA.
    Sol,
    /// Tokens of the bond's token account (`leg.vault`).
    Dpin {
        /// The token program, mint, bond token account and the wallet's token account.
        leg: TokenLeg<'a>,
        /// The validator's wallet key, a seed of the bond PDA.
        validator: [u8; 32],
        /// The bond PDA's canonical bump.
        bump: [u8; 1],
    },
}

impl<'a> BondEscrow<'a> {
    /// The escrow of an existing bond: a $dPIN bond needs its token leg in `tail`, with its
    /// token account at the canonical PDA and `tail`'s wallet account holding the same mint.
    #[inline(always)]
    pub fn of(program_id: &Address, bond: &ValidatorBond, tail: &'a [AccountView]) -> Result<Self> {
        if bond.currency == Currency::Sol {
            return Ok(BondEscrow::Sol);
        }
        let leg = TokenLeg::from_tail(tail)?;
        require_canonical_pda(leg.vault, &[BOND_TOKEN_SEED, &bond.validator], program_id)?;
        let (mint, _, _) = token_account(leg.vault)?;
        if leg.mint.address() != &mint {
            return Err(fail(DropPinError::WrongMint));
        }
        Ok(BondEscrow::Dpin {
            leg,
            validator: bond.validator,
            bump: [bond.bump],
        })
    }

    /// The escrow of a bond being registered: a $dPIN bond's leg must carry the protocol's
    /// `mint` and the validator's own token account; its token account is created here (rent
    /// paid by the validator).
    #[inline(always)]
    pub fn create(
        program_id: &Address,
        state: &ValidatorBond,
        bond: &AccountView,
        validator: &AccountView,
        mint: &Address,
        tail: &'a [AccountView],
    ) -> Result<Self> {
        if state.currency == Currency::Sol {
            return Ok(BondEscrow::Sol);
        }
        let leg = TokenLeg::from_tail(tail)?;
        leg.require_mint_and_wallet(mint, validator.address())?;
        let token_bump =
            require_canonical_pda(leg.vault, &[BOND_TOKEN_SEED, &state.validator], program_id)?;
        let token_bump = [token_bump];
        let seeds = [
            Seed::from(BOND_TOKEN_SEED),
            Seed::from(&state.validator),
            Seed::from(&token_bump),
        ];
        create_token_account(validator, leg.vault, &seeds)?;
        InitializeAccount3::new(leg.vault, leg.mint, bond.address()).invoke()?;
        Ok(BondEscrow::Dpin {
            leg,
            validator: state.validator,
            bump: [state.bump],
        })
    }

    /// Moves `amount` from the signing validator into the bond.
    #[inline(always)]
    pub fn deposit(&self, validator: &AccountView, bond: &AccountView, amount: u64) -> Result {
        match self {
            BondEscrow::Sol => deposit(validator, bond, amount),
            BondEscrow::Dpin { leg, .. } => {
                leg.require_mint_and_wallet(leg.mint.address(), validator.address())?;
                Transfer::new(leg.wallet_token, leg.vault, validator, amount).invoke()
            }
        }
    }

    /// Pays `amount` of the bond to `wallet` (to its token account, which must belong to it,
    /// for a $dPIN bond).
    #[inline(always)]
    pub fn pay(&self, bond: &mut AccountView, wallet: &mut AccountView, amount: u64) -> Result {
        let owner = wallet.address().clone();
        self.pay_to(bond, wallet, &owner, amount)
    }

    /// Pays `amount` of the bond to the owner `owner`: lamports to `wallet` for a SOL bond,
    /// tokens to the leg's token account (which `owner` must own) for a $dPIN bond.
    #[inline(always)]
    pub fn pay_to(
        &self,
        bond: &mut AccountView,
        wallet: &mut AccountView,
        owner: &Address,
        amount: u64,
    ) -> Result {
        match self {
            BondEscrow::Sol => withdraw(bond, wallet, amount),
            BondEscrow::Dpin { .. } if amount == 0 => Ok(()),
            BondEscrow::Dpin {
                leg,
                validator,
                bump,
            } => {
                leg.require_mint_and_wallet(leg.mint.address(), owner)?;
                let seeds = bond_seeds(validator, bump);
                Transfer::new(leg.vault, leg.wallet_token, bond, amount)
                    .invoke_signed(&[Signer::from(&seeds)])
            }
        }
    }

    /// Sends `amount` of the bond's penalties to the protocol: lamports to the treasury, or
    /// $dPIN burned (as a $dPIN round's slashes are).
    #[inline(always)]
    pub fn to_treasury(
        &self,
        bond: &mut AccountView,
        treasury: &mut AccountView,
        treasury_state: &mut Treasury,
        amount: u64,
    ) -> Result {
        match self {
            BondEscrow::Sol => {
                withdraw(bond, treasury, amount)?;
                Income::Slashes.record(treasury_state, amount)
            }
            BondEscrow::Dpin { .. } if amount == 0 => Ok(()),
            BondEscrow::Dpin {
                leg,
                validator,
                bump,
            } => {
                let seeds = bond_seeds(validator, bump);
                Burn::new(leg.vault, leg.mint, bond, amount)
                    .invoke_signed(&[Signer::from(&seeds)])?;
                droppin_coordinator::record_burn(treasury_state, amount).map_err(fail)
            }
        }
    }

    /// Empties a $dPIN bond's token account to the validator (all of it: tokens anyone sent
    /// there must not block the close) and closes it, its rent to the validator.
    #[inline(always)]
    pub fn close(&self, bond: &mut AccountView, validator: &mut AccountView) -> Result {
        match self {
            BondEscrow::Sol => Ok(()),
            BondEscrow::Dpin {
                leg,
                validator: key,
                bump,
            } => {
                let (_, _, balance) = token_account(leg.vault)?;
                self.pay(bond, validator, balance)?;
                let seeds = bond_seeds(key, bump);
                CloseAccount::new(leg.vault, validator, bond).invoke_signed(&[Signer::from(&seeds)])
            }
        }
    }
}

fn bond_seeds<'s>(validator: &'s [u8; 32], bump: &'s [u8; 1]) -> [Seed<'s>; 3] {
    [
        Seed::from(BOND_SEED),
        Seed::from(validator),
        Seed::from(bump),
    ]
}
