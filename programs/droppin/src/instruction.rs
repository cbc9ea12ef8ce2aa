//! Instruction decoding: borsh, from the interface crate's single definition.

use borsh::BorshDeserialize;
use droppin_interface::instruction::DropPinInstruction;

use crate::error::{DropPinError, Result, fail};

/// Decodes instruction data; trailing bytes are rejected.
pub fn decode(data: &[u8]) -> Result<DropPinInstruction> {
    DropPinInstruction::try_from_slice(data).map_err(|_| fail(DropPinError::InvalidInstructionData))
}
