//! What `dpin demo` reports (its `--json` output).

use std::collections::BTreeMap;

use serde::Serialize;

/// How a node behaves in the demo.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeRole {
    /// Trains on its shard and follows the protocol.
    Honest,
    /// Crafts its update with the configured attack.
    Malicious,
    /// Commits and never reveals.
    NoShow,
    /// Reveals a CID whose blob never reached storage.
    LostBlob,
}

/// How a committee member behaves in the demo.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ValidatorRole {
    /// Judges and votes.
    Honest,
    /// Stakes and never votes.
    Silent,
    /// Votes to accept everyone.
    Dishonest,
}

impl std::fmt::Display for NodeRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(match self {
            NodeRole::Honest => "honest",
            NodeRole::Malicious => "malicious",
            NodeRole::NoShow => "no-show",
            NodeRole::LostBlob => "lost-blob",
        })
    }
}

impl std::fmt::Display for ValidatorRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(match self {
            ValidatorRole::Honest => "honest",
            ValidatorRole::Silent => "silent",
            ValidatorRole::Dishonest => "dishonest",
        })
    }
}

/// What happened to a node in the last round.
#[derive(Clone, Debug, Serialize)]
pub struct NodeReport {
    pub pubkey: String,
    pub malicious: bool,
    pub role: NodeRole,
    /// `accepted`, `slashed` or `no-show`.
    pub verdict: &'static str,
    /// Why the committee slashed it.
    pub reason: Option<String>,
    /// Its share of the node pool, in basis points.
    pub weight_bps: u16,
    pub stake_lamports: u64,
    /// What the claim paid it: stake plus reward, or what is left of a slashed stake, plus
    /// the rent of its closed accounts.
    pub payout_lamports: u64,
    /// The rent of its node state and CID marker, returned when they closed.
    pub rent_refund_lamports: u64,
    /// Its soulbound record after all rounds.
    pub reputation: ReputationReport,
}

/// A node's on-chain reputation.
#[derive(Clone, Debug, Serialize)]
pub struct ReputationReport {
    pub rounds_joined: u32,
    pub accepted: u32,
    pub slashed: u32,
    pub no_shows: u32,
    pub cumulative_weight_bps: u64,
}

/// What happened to a committee member in the last round.
#[derive(Clone, Debug, Serialize)]
pub struct ValidatorReport {
    pub pubkey: String,
    pub role: ValidatorRole,
    pub stake_lamports: u64,
    /// What settling paid it, the rent of its closed state included.
    pub payout_lamports: u64,
    /// The rent of its validator state, returned when it closed.
    pub rent_refund_lamports: u64,
}

/// One round's result.
#[derive(Clone, Debug, Serialize)]
pub struct RoundReport {
    pub round: String,
    /// Test accuracy of the model the round published.
    pub accuracy: f64,
    pub accepted: u32,
    pub slashed: u32,
    pub model_cid: String,
    pub verdict_list_cid: String,
}

/// Compute units of one instruction over the run.
#[derive(Clone, Debug, Serialize)]
pub struct ComputeFigures {
    pub count: usize,
    pub min: u64,
    pub mean: u64,
    pub max: u64,
}

/// Wall time per phase, summed over rounds.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PhaseSeconds {
    /// Opening, funding, staking.
    pub open: f64,
    /// Local training, encoding, upload, commit.
    pub train_commit: f64,
    pub reveal: f64,
    /// Every validator's fetch, check, validation and vote.
    pub validate: f64,
    /// Finalize, claims, settlements, close.
    pub settle: f64,
}

/// The demo's result (`dpin demo --json`).
#[derive(Clone, Debug, Serialize)]
pub struct DemoReport {
    pub nodes: Vec<NodeReport>,
    pub validators: Vec<ValidatorReport>,
    /// Test accuracy of the initial model.
    pub accuracy_before: f64,
    /// Test accuracy of the last published model.
    pub accuracy_after: f64,
    pub model_cid: String,
    pub funded_lamports: u64,
    pub fee_lamports: u64,
    /// Lamports left in the round escrows after they closed (0: nothing stuck).
    pub escrow_remaining_lamports: u64,
    pub compute_units: BTreeMap<String, ComputeFigures>,
    pub seconds: f64,
    pub rounds: Vec<RoundReport>,
    pub phase_seconds: PhaseSeconds,
    /// DP epsilon spent by each honest node, when DP is on.
    pub epsilon: Option<f64>,
    pub model_path: String,
    pub plot_path: String,
}
