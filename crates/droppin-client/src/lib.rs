//! dropPIN chain access for the CLI, validators and tests.
//!
//! [`Chain`] is what a client needs from a cluster: send a signed transaction and learn its
//! fate, read accounts, wait for a slot. Two backends implement it: [`EmbeddedChain`] (LiteSVM
//! running the real SBF program in-process: the default, no services) and [`RpcChain`]
//! (JSON-RPC to a local network, devnet or mainnet). [`Protocol`] drives the dropPIN program on
//! either, building every instruction with the interface crate's builders and mapping program
//! errors to their messages.

mod chain;
mod embedded;
mod error;
mod keys;
mod protocol;
mod rpc;
pub mod token;

pub use chain::{Account, Chain, Sent};
pub use embedded::{EmbeddedChain, default_program_path, embedded_slot_hash};
pub use error::ChainError;
pub use keys::{default_keypair_path, read_keypair, write_new_keypair};
pub use protocol::{ComputeLog, Protocol};
pub use rpc::RpcChain;
