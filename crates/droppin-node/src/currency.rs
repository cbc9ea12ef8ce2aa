//! Instructions that move value, in the round's currency: a $dPIN round's join, settlement and
//! refunds carry the token accounts (the SPL Token program, the mint, the round's token vault
//! and the wallet's associated token account), a SOL round's do not.

use droppin_interface::{builders, state::Currency};
use solana_address::Address;
use solana_instruction::Instruction;
use spl_associated_token_account_interface::{
    address::get_associated_token_address, instruction::create_associated_token_account_idempotent,
};

/// A $dPIN round on a cluster whose $dPIN is not launched: nothing can move in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("this round pays in $dPIN, which is not launched on this cluster")]
pub struct NoMint;

/// A wallet's $dPIN account: its associated token account for `mint`.
pub fn wallet_token_account(owner: &Address, mint: &Address) -> Address {
    get_associated_token_address(owner, mint)
}

/// `ix` in a round paying in `currency`: unchanged in SOL; in $dPIN, with the token accounts
/// of `wallet`, which pays or is paid. `mint` is the launched $dPIN mint, if any.
pub fn in_currency(
    ix: Instruction,
    currency: Currency,
    round: &Address,
    wallet: &Address,
    mint: Option<&Address>,
) -> Result<Instruction, NoMint> {
    match currency {
        Currency::Sol => Ok(ix),
        Currency::Dpin => {
            let mint = mint.ok_or(NoMint)?;
            Ok(builders::in_dpin(
                ix,
                mint,
                round,
                &wallet_token_account(wallet, mint),
            ))
        }
    }
}

/// The instructions that pay `wallet` in a round paying in `currency`: in $dPIN, its token
/// account is created first if it has none (idempotent, paid by `payer`).
pub fn paying(
    ix: Instruction,
    currency: Currency,
    round: &Address,
    wallet: &Address,
    payer: &Address,
    mint: Option<&Address>,
) -> Result<Vec<Instruction>, NoMint> {
    let ix = in_currency(ix, currency, round, wallet, mint)?;
    Ok(match (currency, mint) {
        (Currency::Dpin, Some(mint)) => vec![
            create_associated_token_account_idempotent(
                payer,
                wallet,
                mint,
                &Address::new_from_array(droppin_interface::TOKEN_PROGRAM_ID),
            ),
            ix,
        ],
        _ => vec![ix],
    })
}

#[cfg(test)]
mod tests {
    use droppin_interface::PROGRAM_ID;

    use super::*;

    #[test]
    fn a_dpin_round_carries_the_wallets_token_accounts() {
        let program = Address::new_from_array(PROGRAM_ID);
        let (node, round, mint) = (
            Address::new_unique(),
            Address::new_unique(),
            Address::new_unique(),
        );
        let join = builders::join_round(&program, &node, &round);
        let sol = in_currency(join.clone(), Currency::Sol, &round, &node, None).unwrap();
        assert_eq!(sol, join);
        assert_eq!(
            in_currency(join.clone(), Currency::Dpin, &round, &node, None),
            Err(NoMint)
        );
        let dpin = in_currency(join.clone(), Currency::Dpin, &round, &node, Some(&mint)).unwrap();
        assert_eq!(dpin.accounts.len(), join.accounts.len() + 4);
        assert_eq!(
            dpin.accounts.last().unwrap().pubkey,
            wallet_token_account(&node, &mint)
        );
        let paid = paying(join, Currency::Dpin, &round, &node, &node, Some(&mint)).unwrap();
        assert_eq!(paid.len(), 2, "the token account is created first");
    }
}
