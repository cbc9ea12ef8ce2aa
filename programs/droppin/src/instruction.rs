//! Instruction decoding: borsh, from the interface crate's single definition.

use droppin_interface::instruction::DropPinInstruction;

use crate::error::{Result, fail};

/// Decodes instruction data; unknown variants and trailing bytes are rejected. Out of line: borsh
/// decodes each variant through temporaries of its own, which would crowd the caller's 4 KB frame.
#[inline(never)]
pub fn decode(data: &[u8]) -> Result<DropPinInstruction> {
    DropPinInstruction::decode(data).map_err(fail)
}
