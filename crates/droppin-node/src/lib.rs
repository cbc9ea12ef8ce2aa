//! What a node does in a round, written once for every front-end.
//!
//! The CLI and the browser keep only their executors (how they read the chain, sign, send and
//! store); this crate decides. It has no async runtime, no blocking I/O and no embedded chain,
//! so it compiles for the browser as it is.
//!
//! - [`task`]: the round's task, read from the manifest its CID names, and the model and recipe
//!   it pins.

pub mod task;

pub use task::{RoundTask, TaskLoadError};
