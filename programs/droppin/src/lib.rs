//! The dropPIN on-chain program: round registry, stake escrow, commit-reveal of model updates,
//! committee verdicts, rewards, slashing and soulbound reputation.
//!
//! A thin shell around `droppin-coordinator`: every processor checks its accounts explicitly,
//! hands the decoded state to the coordinator, moves the lamports it returns and writes the state
//! back. The wire format lives in `droppin-interface`.
#![no_std]

extern crate alloc;

use solana_compiler_builtins as _;

pub mod accounts;
pub mod bond;
pub mod entrypoint;
pub mod error;
pub mod escrow;
pub mod hash;
pub mod instruction;
pub mod processor;
