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
    /// Serves its update to one reporting seat only: the committee's majority never fetched it,
    /// so it is unavailable (excluded, stake back), and the committee still agrees.
    WithheldBlob,
    /// Serves its update to every reporting seat but one, which fetches it from the others.
    ScarceBlob,
}

/// How a registered validator behaves in the demo when it is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ValidatorRole {
    /// Judges and votes.
    Honest,
    /// Takes its seat and never votes.
    Silent,
    /// Votes a verdict that slashes every node.
    Dishonest,
}

impl std::fmt::Display for NodeRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(match self {
            NodeRole::Honest => "honest",
            NodeRole::Malicious => "malicious",
            NodeRole::NoShow => "no-show",
            NodeRole::LostBlob => "lost-blob",
            NodeRole::WithheldBlob => "withheld-blob",
            NodeRole::ScarceBlob => "scarce-blob",
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
    /// `accepted`, `excluded`, `slashed` or `no-show`.
    pub verdict: &'static str,
    /// Why it was not accepted.
    pub reason: Option<String>,
    /// Its share of the node pool, in basis points.
    pub weight_bps: u16,
    pub stake_lamports: u64,
    /// What its settlement paid it: stake plus reward, its stake (excluded), or what is left of
    /// a slashed or forfeited stake, plus the rent of its closed accounts.
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
    pub excluded: u32,
    pub slashed: u32,
    pub no_shows: u32,
    /// Points as of their last update (rewards earned, fading over time).
    pub points: u64,
}

/// What happened to a registered validator in the last round.
#[derive(Clone, Debug, Serialize)]
pub struct ValidatorReport {
    pub pubkey: String,
    pub role: ValidatorRole,
    /// Whether it was drawn and took a seat (on either committee).
    pub drawn: bool,
    /// Whether it revealed the verdict that ended in force.
    pub voted_with_final: bool,
    /// Its bond before the round.
    pub bond_lamports: u64,
    /// Its bond after the round plus what settling paid into its wallet (less fees): above
    /// `bond_lamports` for a seat that voted with the final verdict, below it for one that did
    /// not.
    pub payout_lamports: u64,
    /// The rent of its seats, returned when they closed.
    pub rent_refund_lamports: u64,
}

/// One round's result.
#[derive(Clone, Debug, Serialize)]
pub struct RoundReport {
    pub round: String,
    /// Test accuracy of the model the round published.
    pub accuracy: f64,
    /// `finalized` or `failed`.
    pub status: &'static str,
    pub accepted: u32,
    pub excluded: u32,
    pub slashed: u32,
    pub no_shows: u32,
    pub model_cid: String,
    pub verdict_list_cid: Option<String>,
    pub appealed: bool,
    pub overturned: bool,
    /// The unearned pool returned to the funder at close (never a slashed lamport).
    pub funder_refund_lamports: u64,
    /// Slashes and forfeits (nodes' and seats') the treasury received in this round.
    pub slashed_to_treasury_lamports: u64,
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
    /// Whether the last round's verdict was appealed.
    pub appealed: bool,
    /// Whether the appeal overturned it.
    pub overturned: bool,
    /// The unearned pool the last round returned to its funder (no slashed lamport in it).
    pub funder_refund_lamports: u64,
    /// Where the last round's slashed lamports went: all of them to the treasury.
    pub slashed_to_treasury_lamports: u64,
    pub compute_units: BTreeMap<String, ComputeFigures>,
    pub seconds: f64,
    pub rounds: Vec<RoundReport>,
    pub phase_seconds: PhaseSeconds,
    /// DP epsilon spent by each honest node, when DP is on.
    pub epsilon: Option<f64>,
    pub model_path: String,
    pub plot_path: String,
}
