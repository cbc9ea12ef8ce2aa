//! The attack simulator: N nodes, f of them malicious, over rounds, on real training.

mod attack;
mod run;

pub use attack::{Attack, BACKDOOR_TARGET, Knowledge, backdoor_test, craft, triggered};
pub use run::{LocalRound, SimConfig, SimData, SimResult, local_updates, simulate};
