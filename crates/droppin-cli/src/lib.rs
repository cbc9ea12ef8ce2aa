//! The `dpin` command line's library: what a node and a validator do in a round, and the
//! whole-round demo, usable from tests without spawning the binary.

pub mod committee;
pub mod demo;
pub mod keeper;
pub mod local_training;
pub mod localnet;
pub mod node;
pub mod operator;
pub mod patience;
pub mod plot;
pub mod validator;
