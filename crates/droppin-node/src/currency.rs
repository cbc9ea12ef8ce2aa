//! Instructions that move value, in the round's currency: a $dPIN round's join, settlement and
//! refunds carry the token accounts (the SPL Token program, the mint, the round's token vault
//! and the wallet's associated token account), a SOL round's do not. The assembly itself is the
//! interface's ([`in_currency`]), which the host client uses too.

pub use droppin_interface::builders::{in_currency, paying, wallet_token_account};

#[cfg(test)]
mod tests {
    use droppin_interface::{DropPinError, PROGRAM_ID, builders, state::Currency};
    use solana_address::Address;

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
            Err(DropPinError::TokenNotLaunched)
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
