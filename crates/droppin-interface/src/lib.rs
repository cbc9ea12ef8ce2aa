//! The dropPIN wire format, shared by the on-chain program, the CLI and the web app.
//!
//! Everything that crosses the boundary between a client and the program lives here and only
//! here: the borsh instruction enum, the account layouts (each behind a type discriminator and a
//! version byte), PDA seeds, error codes with readable messages, the commit-reveal commitments,
//! the committee's sortition, and the verdict leaves with the chunk tree the program checks them
//! against. With the `client` feature it also builds `solana_instruction::Instruction`s, so
//! nobody encodes bytes by hand.
#![no_std]
// The IDL's `codama(field(...))` attributes repeat a type and a default from one field to the
// next, which this lint takes for a duplicated attribute.
#![allow(clippy::duplicated_attributes)]

#[cfg(feature = "std")]
extern crate std;

extern crate alloc;

pub mod availability;
pub mod cid;
pub mod error;
pub mod hash;
pub mod instruction;
pub mod logs;
pub mod pda;
pub mod sortition;
pub mod state;
pub mod verdict;

#[cfg(feature = "client")]
pub mod builders;

pub use cid::Cid;

// The IDL's program: its name and default address (`PROGRAM_ID` in base58).
codama_macros::codama_program!(
    name = "droppin",
    address = "7tZ9R7VHqPNSZaxMNHD8LgZ8nqzN5NsnJ9LbQAiPrbon"
);
pub use error::DropPinError;

/// A public key as raw bytes: the program and its clients compare keys as byte arrays, which
/// keeps this crate free of any particular SDK's key type.
pub type Pubkey = [u8; 32];

/// The address the dropPIN program is deployed at by default (local network and tests).
///
/// The program itself never hard-codes it: it derives every PDA from the program id the runtime
/// passes in, so the same binary can be deployed anywhere.
pub const PROGRAM_ID: Pubkey = [
    102, 91, 22, 226, 232, 192, 189, 95, 214, 243, 82, 5, 36, 244, 74, 71, 248, 140, 23, 124, 44,
    202, 231, 36, 202, 190, 133, 62, 63, 89, 82, 201,
];

/// The system program's address (all zeroes).
pub const SYSTEM_PROGRAM_ID: Pubkey = [0; 32];

/// The SPL Token program (`TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA`): $dPIN is a standard SPL
/// Token mint, and token rounds move value only through this program.
pub const TOKEN_PROGRAM_ID: Pubkey = [
    6, 221, 246, 225, 215, 101, 161, 147, 217, 203, 225, 70, 206, 235, 121, 172, 28, 180, 133, 237,
    95, 91, 55, 145, 58, 140, 245, 133, 126, 255, 0, 169,
];

/// The instructions sysvar (`Sysvar1nstructions1111111111111111111111111`), through which a
/// `BeginSwap` sees its `EndSwap` later in the same transaction.
pub const INSTRUCTIONS_SYSVAR_ID: Pubkey = [
    6, 167, 213, 23, 24, 123, 209, 102, 53, 218, 212, 4, 85, 253, 194, 192, 193, 36, 198, 143, 33,
    86, 117, 165, 219, 186, 203, 95, 8, 0, 0, 0,
];

/// The SlotHashes sysvar (`SysvarS1otHashes111111111111111111111111111`): the recent slots' bank
/// hashes, one of which seeds each committee.
pub const SLOT_HASHES_ID: Pubkey = [
    6, 167, 213, 23, 25, 47, 10, 175, 198, 242, 101, 227, 251, 119, 204, 122, 218, 130, 197, 41,
    208, 190, 59, 19, 110, 45, 0, 85, 32, 0, 0, 0,
];

/// The upgradeable BPF loader (`BPFLoaderUpgradeab1e11111111111111111111111`): its ProgramData
/// account names the program's upgrade authority, the only key allowed to initialize it.
pub const BPF_LOADER_UPGRADEABLE_ID: Pubkey = [
    2, 168, 246, 145, 78, 136, 161, 176, 226, 16, 21, 62, 247, 99, 174, 43, 0, 194, 185, 61, 22,
    193, 36, 210, 192, 83, 122, 16, 4, 128, 0, 0,
];

/// Decimals of the $dPIN mint.
pub const DPIN_DECIMALS: u8 = 6;

/// Basis points in one whole (100%).
pub const BPS: u16 = 10_000;

/// Lamports in one SOL.
pub const LAMPORTS_PER_SOL: u64 = 1_000_000_000;
