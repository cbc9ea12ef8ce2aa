//! One processor per instruction, grouped by the account they revolve around.
//!
//! Processors are kept out of line (each gets its own 4 KB SBF stack frame) and take at most
//! five register-sized arguments: SBPF v0 has no stack-passed arguments.

mod committee;
mod config;
mod node;
mod round;
mod treasury;

use droppin_interface::instruction::DropPinInstruction as Ix;
use pinocchio::{AccountView, Address};

use crate::error::{DropPinError, Result, fail};

/// Runs a decoded instruction.
pub fn process(program_id: &Address, accounts: &mut [AccountView], instruction: Ix) -> Result {
    match instruction {
        Ix::InitializeConfig(params) => config::initialize(program_id, accounts, params),
        Ix::UpdateConfig { params, new_admin } => {
            config::update(program_id, accounts, &params, &new_admin)
        }
        Ix::OpenRound(args) => round::open(program_id, accounts, &args),
        Ix::FundRound { amount } => round::fund(program_id, accounts, amount),
        Ix::CrankTimeout => round::crank(program_id, accounts),
        Ix::CloseRound => round::close(program_id, accounts),
        Ix::JoinRound => node::join(program_id, accounts),
        Ix::CommitUpdate { commitment } => node::commit(program_id, accounts, commitment),
        Ix::RevealUpdate(args) => node::reveal(program_id, accounts, &args),
        Ix::ClaimReward(args) => node::claim(program_id, accounts, &args),
        Ix::RefundNode => node::refund(program_id, accounts),
        Ix::JoinCommittee => committee::join(program_id, accounts),
        Ix::SubmitVerdict(vote) => committee::submit(program_id, accounts, vote),
        Ix::FinalizeRound => committee::finalize(program_id, accounts),
        Ix::SettleValidator => committee::settle(program_id, accounts),
        Ix::LaunchToken => treasury::launch(program_id, accounts),
        Ix::ConvertRound => treasury::convert(program_id, accounts),
        Ix::BeginSwap { lamports } => treasury::begin(program_id, accounts, lamports),
        Ix::EndSwap => treasury::end(program_id, accounts),
    }
}

/// Error for an account list that is too short.
fn not_enough_accounts() -> pinocchio::error::ProgramError {
    fail(DropPinError::NotEnoughAccountKeys)
}
