//! What a node does in a round, written once for every front-end.
//!
//! The CLI and the browser keep only their executors (how they read the chain, sign, send and
//! store); this crate decides. It has no async runtime, no blocking I/O and no embedded chain,
//! so it compiles for the browser as it is.
//!
//! - [`task`]: the round's task, read from the manifest its CID names, and the model and recipe
//!   it pins.
//! - [`step`]: the next step from the chain's state and the saved [`record`].
//! - [`currency`]: the instructions that move value, with a $dPIN round's token accounts.
//! - [`money`]: amounts in SOL and $dPIN, parsed and printed.
//! - [`confirm`]: when a sent transaction has landed, failed or expired.
//! - [`trainer`]: where a model trains: the fused kernels, burn's GPU backend or the CPU.
//! - [`privacy`]: the node's own privacy budget (DP-SGD), and when an update needs one.

pub mod confirm;
pub mod currency;
pub mod money;
pub mod privacy;
pub mod record;
pub mod settle;
pub mod step;
pub mod task;
pub mod trainer;

pub use record::Commitment;
pub use step::{Snapshot, Step, next_step};
pub use task::{RoundTask, TaskLoadError};
