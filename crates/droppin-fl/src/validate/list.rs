//! The published verdict list: the reasons behind a verdict's leaves, for people and explorers.
//!
//! Settlement never depends on it (the leaves themselves are posted on-chain); it says why each
//! node got its outcome, and lets anyone rebuild the leaves root and compare it with the vote.

use droppin_interface::Pubkey;
use droppin_interface::hash::Sha256;
use droppin_interface::verdict::{Leaf, Outcome, VerdictTree};
use serde::{Deserialize, Serialize};
use solana_address::Address;

use crate::FlError;

/// One entry of the published verdict list: a joined node, in join order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListedVerdict {
    pub node: String,
    /// Its join index: the position of its leaf.
    pub index: u32,
    /// The revealed CID, if it revealed.
    pub cid: Option<String>,
    /// `accepted`, `excluded`, `slashed` or `no-show`.
    pub outcome: String,
    pub weight_bps: u16,
    pub reason: Option<String>,
}

/// The list as published (JSON) next to the new global model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerdictList {
    pub round: String,
    /// Hex of the root of the leaves' chunk tree.
    pub leaves_root: String,
    pub new_model_cid: String,
    /// Every joined node, in join order.
    pub verdicts: Vec<ListedVerdict>,
}

/// The name of an outcome in the list.
pub fn outcome_name(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Accepted => "accepted",
        Outcome::Excluded => "excluded",
        Outcome::Slashed => "slashed",
        Outcome::NoShow => "no-show",
    }
}

fn parse_outcome(name: &str) -> Result<Outcome, FlError> {
    [
        Outcome::Accepted,
        Outcome::Excluded,
        Outcome::Slashed,
        Outcome::NoShow,
    ]
    .into_iter()
    .find(|o| outcome_name(*o) == name)
    .ok_or_else(|| FlError::Data(format!("unknown outcome {name:?} in the verdict list")))
}

impl VerdictList {
    /// Parses a downloaded list.
    pub fn parse(bytes: &[u8]) -> Result<Self, FlError> {
        serde_json::from_slice(bytes)
            .map_err(|e| FlError::Data(format!("the verdict list is not valid JSON: {e}")))
    }

    /// The leaves, in join order.
    pub fn leaves(&self) -> Result<Vec<Leaf>, FlError> {
        self.verdicts
            .iter()
            .map(|entry| {
                Ok(Leaf {
                    outcome: parse_outcome(&entry.outcome)?,
                    weight_bps: entry.weight_bps,
                })
            })
            .collect()
    }

    /// Whether the list rebuilds `leaves_root` for `round`.
    pub fn matches(&self, round: &Pubkey, leaves_root: &[u8; 32]) -> Result<bool, FlError> {
        Ok(&VerdictTree::new::<Sha256>(*round, self.leaves()?).root() == leaves_root)
    }

    /// `node`'s entry, if it is listed.
    pub fn entry(&self, node: &Pubkey) -> Option<&ListedVerdict> {
        let key = Address::new_from_array(*node).to_string();
        self.verdicts.iter().find(|v| v.node == key)
    }
}
