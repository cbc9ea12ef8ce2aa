//! One processor per instruction, grouped by the account they revolve around.
//!
//! Processors are kept out of line (each gets its own 4 KB SBF stack frame) and take at most
//! five register-sized arguments (a slice counts two): SBPF v0 has no stack-passed arguments.
//! Instruction arguments go by reference to a struct of three or more fields: LLVM promotes a
//! reference to a struct of one or two loaded fields into as many arguments, which can push a
//! call past five registers after the source looks fine.

mod appeal;
mod committee;
mod config;
mod node;
mod registry;
mod round;
mod treasury;
mod verdict;

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
        Ix::ApplyConfig => config::apply(program_id, accounts),
        Ix::OpenRound(args) => round::open(program_id, accounts, &args),
        Ix::FundRound { amount } => round::fund(program_id, accounts, amount),
        Ix::JoinRound => node::join(program_id, accounts),
        Ix::CommitUpdate { commitment } => node::commit(program_id, accounts, commitment),
        Ix::RevealUpdate(args) => node::reveal(program_id, accounts, &args),
        Ix::RegisterValidator { amount, currency } => {
            registry::register(program_id, accounts, amount, currency)
        }
        Ix::TopUpBond { amount } => registry::top_up(program_id, accounts, amount),
        Ix::Unbond { amount } => registry::unbond(program_id, accounts, amount),
        Ix::WithdrawBond => registry::withdraw_bond(program_id, accounts),
        Ix::DrawCommittee { level } => committee::draw(program_id, accounts, level),
        Ix::ClaimSeat { level } => committee::claim_seat(program_id, accounts, level),
        Ix::CommitVote { level, commitment } => {
            committee::commit_vote(program_id, accounts, level, commitment)
        }
        Ix::ReportAvailability(args) => committee::report_availability(program_id, accounts, &args),
        Ix::RevealVote(args) => committee::reveal_vote(program_id, accounts, &args),
        Ix::ReportAbsent { level } => committee::report_absent(program_id, accounts, level),
        Ix::FinalizeRound => committee::finalize(program_id, accounts),
        Ix::PostVerdictLeaves(args) => verdict::post(program_id, accounts, &args),
        Ix::Appeal => appeal::appeal(program_id, accounts),
        Ix::ResolveAppeal => appeal::resolve(program_id, accounts),
        Ix::SettleNode => node::settle(program_id, accounts),
        Ix::SettleSeat => committee::settle_seat(program_id, accounts),
        Ix::SettleAppeal => appeal::settle(program_id, accounts),
        Ix::RefundContribution => round::refund_contribution(program_id, accounts),
        Ix::CrankTimeout => round::crank(program_id, accounts),
        Ix::CloseRound => round::close(program_id, accounts),
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
