//! Chain errors, each one line a user can act on: the program's own message for its error
//! codes, and a plain statement for missing funds, an unreachable cluster or a timeout.

use droppin_interface::{DropPinError, logs};
use solana_address::Address;
use solana_instruction_error::InstructionError;
use solana_transaction_error::TransactionError;
use thiserror::Error;

/// Why a chain operation failed.
#[derive(Debug, Error)]
pub enum ChainError {
    /// The dropPIN program refused the instruction.
    #[error("the dropPIN program refused {instruction}: {error} (error {code})", code = *.error as u32)]
    Program {
        /// Which instruction.
        instruction: String,
        /// The program's error.
        error: DropPinError,
    },
    /// A payer or sender lacks lamports.
    #[error("insufficient funds: {0}")]
    InsufficientFunds(String),
    /// Any other transaction failure.
    #[error("transaction failed: {0}")]
    Rejected(String),
    /// The cluster cannot be reached.
    #[error("cannot reach the cluster at {url}: {reason}")]
    Unreachable {
        /// The RPC URL.
        url: String,
        /// What happened.
        reason: String,
    },
    /// The cluster stopped answering after a transaction was sent, before it confirmed: it may
    /// have landed, so whoever sends it again must first check what it did.
    #[error(
        "cannot reach the cluster at {url} to confirm transaction {signature} ({reason}): it may have landed, check it before sending again"
    )]
    Unconfirmed {
        /// The RPC URL.
        url: String,
        /// The transaction's signature.
        signature: String,
        /// What happened.
        reason: String,
    },
    /// A sent transaction was not confirmed in time.
    #[error("transaction {signature} not confirmed after {seconds} s; check it before retrying")]
    Timeout {
        /// Its signature.
        signature: String,
        /// How long we waited.
        seconds: u64,
    },
    /// A sent transaction's blockhash expired before it landed: it never will, so sending the
    /// step again is safe.
    #[error("transaction {signature} expired without landing; nothing happened, retrying is safe")]
    Expired {
        /// Its signature.
        signature: String,
    },
    /// The cluster refused a transaction before running it, for a reason of its own that may
    /// pass (its blockhash not yet or no longer known): nothing happened.
    #[error("transaction not accepted ({0}); nothing happened, retrying is safe")]
    NotAccepted(String),
    /// The cluster answers, but its slots stopped advancing.
    #[error("the cluster did not reach slot {slot} within {seconds} s")]
    Stalled {
        /// The slot waited for.
        slot: u64,
        /// How long we waited.
        seconds: u64,
    },
    /// The program binary cannot be loaded.
    #[error("cannot load the program from {path}: {reason} (run scripts/build-programs)")]
    ProgramMissing {
        /// Where it was looked for.
        path: String,
        /// Why it failed.
        reason: String,
    },
    /// A keypair file is missing or malformed.
    #[error("keypair {path}: {reason}")]
    Keypair {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// An account that should exist does not, or holds something else.
    #[error("{0}")]
    Account(String),
}

impl ChainError {
    /// Whether a later try may succeed where this one failed: the cluster did not answer or
    /// stalled, or a transaction did not land. A refusal, missing funds or a bad key fail the same way again.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ChainError::Unreachable { .. }
                | ChainError::Unconfirmed { .. }
                | ChainError::Timeout { .. }
                | ChainError::Expired { .. }
                | ChainError::NotAccepted(_)
                | ChainError::Stalled { .. }
        )
    }
}

/// The system program's address in logs.
const SYSTEM_PROGRAM: &str = "11111111111111111111111111111111";

/// Turns a failed transaction into a [`ChainError`]. `names` lists the transaction's
/// instructions by name; `logs` are the runtime's logs, which tell which program failed.
pub(crate) fn explain(
    error: TransactionError,
    logs: &[String],
    program: &Address,
    names: &[&str],
) -> ChainError {
    let failed = |id: &str| {
        let prefix = format!("Program {id} failed");
        logs.iter().any(|line| line.starts_with(&prefix))
    };
    match error {
        TransactionError::BlockhashNotFound => ChainError::NotAccepted(error.to_string()),
        TransactionError::InsufficientFundsForFee => {
            ChainError::InsufficientFunds("the fee payer cannot pay the transaction fee".into())
        }
        TransactionError::InsufficientFundsForRent { account_index } => {
            ChainError::InsufficientFunds(format!(
                "account #{account_index} of the transaction would fall below rent exemption"
            ))
        }
        TransactionError::InstructionError(index, InstructionError::Custom(code)) => {
            let instruction = names
                .get(index as usize)
                .map_or_else(|| format!("instruction #{index}"), |n| n.to_string());
            // A failed system transfer inside the program also fails the program with the
            // same code: look at the system program first.
            if failed(SYSTEM_PROGRAM) {
                return match code {
                    1 => ChainError::InsufficientFunds(format!(
                        "{instruction} needs more lamports than the signer holds"
                    )),
                    _ => {
                        ChainError::Rejected(format!("{instruction}: system program error {code}"))
                    }
                };
            }
            // A program the dropPIN program called (the token program in a $dPIN transfer)
            // failed first: the code is that program's, not dropPIN's.
            if let Some(inner) = logs::failed_elsewhere(logs, &program.to_string()) {
                return if logs::tokens_short(logs) {
                    ChainError::InsufficientFunds(format!(
                        "{instruction} needs more tokens than the signer holds"
                    ))
                } else {
                    ChainError::Rejected(format!("{instruction}: {inner}"))
                };
            }
            match DropPinError::from_code(code) {
                Some(error) if failed(&program.to_string()) => {
                    ChainError::Program { instruction, error }
                }
                _ => ChainError::Rejected(format!("{instruction}: custom error {code}")),
            }
        }
        TransactionError::InstructionError(index, error) => {
            let instruction = names
                .get(index as usize)
                .map_or_else(|| format!("instruction #{index}"), |n| n.to_string());
            ChainError::Rejected(format!("{instruction}: {error}{}", last_log(logs)))
        }
        other => ChainError::Rejected(format!("{other}{}", last_log(logs))),
    }
}

fn last_log(logs: &[String]) -> String {
    logs.last()
        .map_or_else(String::new, |line| format!(" ({line})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The token program's code 1 inside a $dPIN transfer is its "insufficient funds", not the
    /// dropPIN program's error 1 (not enough accounts); the dropPIN program's own code 1 still
    /// reads as its error.
    #[test]
    fn a_code_is_read_as_the_failing_programs() {
        let program = Address::new_from_array(droppin_interface::PROGRAM_ID);
        let code_1 = || TransactionError::InstructionError(0, InstructionError::Custom(1));
        let token = "Program TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA";
        let ours = format!("Program {program} failed: custom program error: 0x1");
        let short = [
            "Program log: Error: insufficient funds".to_string(),
            format!("{token} failed: custom program error: 0x1"),
            ours.clone(),
        ];
        assert!(matches!(
            explain(code_1(), &short, &program, &["JoinRound"]),
            ChainError::InsufficientFunds(text) if text.contains("JoinRound")
        ));
        assert!(matches!(
            explain(code_1(), &[ours], &program, &["JoinRound"]),
            ChainError::Program {
                error: DropPinError::NotEnoughAccountKeys,
                ..
            }
        ));
    }
}
