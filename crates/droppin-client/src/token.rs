//! $dPIN is a standard SPL Token mint: the token instructions a client needs around the protocol
//! (a fixed-supply mint, wallets' associated token accounts, transfers) and balance reads.

use droppin_interface::{DPIN_DECIMALS, TOKEN_PROGRAM_ID};
use solana_address::Address;
use solana_instruction::Instruction;
use solana_program_pack::Pack;
use spl_associated_token_account_interface::instruction::create_associated_token_account_idempotent;
use spl_token_interface::{
    instruction::{AuthorityType, initialize_mint2, mint_to, set_authority, transfer},
    state::{Account as TokenAccount, Mint},
};

use crate::{Chain, ChainError};

/// The SPL Token program.
pub fn token_program() -> Address {
    Address::new_from_array(TOKEN_PROGRAM_ID)
}

pub use droppin_interface::builders::wallet_token_account as wallet_account;

/// Creates `owner`'s associated token account for `mint` if it does not exist yet.
pub fn create_wallet_account(payer: &Address, owner: &Address, mint: &Address) -> Instruction {
    create_associated_token_account_idempotent(payer, owner, mint, &token_program())
}

/// Moves `amount` base units between two token accounts, signed by the source's owner.
pub fn transfer_tokens(from: &Address, to: &Address, owner: &Address, amount: u64) -> Instruction {
    transfer(&token_program(), from, to, owner, &[], amount)
        .expect("the SPL Token program id is the token program")
}

/// Creates a $dPIN-style mint at `mint` with `supply` base units minted to `holder`'s associated
/// account, then removes the mint authority: the supply is fixed from then on, as
/// `LaunchToken` requires (no freeze authority either). `payer` signs with the mint keypair.
pub fn fixed_supply_mint(
    payer: &Address,
    mint: &Address,
    holder: &Address,
    supply: u64,
) -> Vec<Instruction> {
    let program = token_program();
    let rent = solana_rent::Rent::default().minimum_balance(Mint::LEN);
    let holder_account = wallet_account(holder, mint);
    let ok = "the SPL Token program id is the token program";
    vec![
        solana_system_interface::instruction::create_account(
            payer,
            mint,
            rent,
            Mint::LEN as u64,
            &program,
        ),
        initialize_mint2(&program, mint, payer, None, DPIN_DECIMALS).expect(ok),
        create_wallet_account(payer, holder, mint),
        mint_to(&program, mint, &holder_account, payer, &[], supply).expect(ok),
        set_authority(&program, mint, None, AuthorityType::MintTokens, payer, &[]).expect(ok),
    ]
}

/// The balance of a token account, or `None` if it does not exist.
pub fn balance(chain: &impl Chain, account: &Address) -> Result<Option<u64>, ChainError> {
    let Some(found) = chain.account(account)? else {
        return Ok(None);
    };
    TokenAccount::unpack(&found.data)
        .map(|state| Some(state.amount))
        .map_err(|_| ChainError::Account(format!("{account} is not a token account")))
}

/// The supply of a mint.
pub fn supply(chain: &impl Chain, mint: &Address) -> Result<u64, ChainError> {
    let found = chain
        .account(mint)?
        .ok_or_else(|| ChainError::Account(format!("mint {mint} does not exist")))?;
    Mint::unpack(&found.data)
        .map(|state| state.supply)
        .map_err(|_| ChainError::Account(format!("{mint} is not a mint")))
}
