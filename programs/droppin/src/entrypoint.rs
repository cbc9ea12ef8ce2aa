//! Program entrypoint: no_std, a bump allocator (claim proofs are decoded into a `Vec`) and an
//! abort-on-panic handler.

use pinocchio::{
    AccountView, Address, ProgramResult, default_allocator, nostd_panic_handler, program_entrypoint,
};

program_entrypoint!(process_instruction);
default_allocator!();
nostd_panic_handler!();

/// Decodes the instruction and runs its processor.
pub fn process_instruction(
    program_id: &Address,
    accounts: &mut [AccountView],
    data: &[u8],
) -> ProgramResult {
    let instruction = crate::instruction::decode(data)?;
    crate::processor::process(program_id, accounts, instruction)
}
