//! The published verdict list: enough for anyone to rebuild the committee's Merkle tree, check it
//! against the root pinned on-chain, and derive a node's claim proof (the CLI node and the browser
//! node alike).

use droppin_interface::Pubkey;
use droppin_interface::hash::Sha256;
use droppin_interface::merkle::{MerkleTree, Verdict, VerdictLeaf};
use serde::{Deserialize, Serialize};
use solana_address::Address;

use crate::FlError;

/// One entry of the published verdict list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListedVerdict {
    pub node: String,
    pub cid: String,
    /// `accepted` or `slashed`.
    pub verdict: String,
    pub weight_bps: u16,
    pub reason: Option<String>,
}

/// The list as published (JSON) next to the new global model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerdictList {
    pub round: String,
    pub verdict_root: String,
    pub new_model_cid: String,
    /// In leaf order (sorted by node key).
    pub verdicts: Vec<ListedVerdict>,
}

/// What a node needs to claim, besides its on-chain CID: its leaf and the proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    pub leaf: VerdictLeaf,
    pub proof: Vec<[u8; 32]>,
}

impl VerdictList {
    /// Parses a downloaded list.
    pub fn parse(bytes: &[u8]) -> Result<Self, FlError> {
        serde_json::from_slice(bytes)
            .map_err(|e| FlError::Data(format!("the verdict list is not valid JSON: {e}")))
    }

    /// The Merkle leaves, in list order.
    pub fn leaves(&self) -> Result<Vec<VerdictLeaf>, FlError> {
        self.verdicts
            .iter()
            .map(|entry| {
                let key: Address = entry.node.parse().map_err(|_| {
                    FlError::Data(format!("bad node key {:?} in the verdict list", entry.node))
                })?;
                Ok(VerdictLeaf {
                    node: key.to_bytes(),
                    verdict: match entry.verdict.as_str() {
                        "accepted" => Verdict::Accepted,
                        "slashed" => Verdict::Slashed,
                        other => {
                            return Err(FlError::Data(format!(
                                "unknown verdict {other:?} in the verdict list"
                            )));
                        }
                    },
                    weight_bps: entry.weight_bps,
                })
            })
            .collect()
    }

    /// `node`'s claim in `round`, after checking the list rebuilds `verdict_root`.
    pub fn claim(
        &self,
        round: &Pubkey,
        verdict_root: &[u8; 32],
        node: &Pubkey,
    ) -> Result<Claim, FlError> {
        let leaves = self.leaves()?;
        let tree = MerkleTree::from_leaf_hashes::<Sha256>(
            leaves.iter().map(|l| l.hash::<Sha256>(round)).collect(),
        );
        if &tree.root() != verdict_root {
            return Err(FlError::Data(
                "the verdict list does not match the round's verdict root".into(),
            ));
        }
        let index = leaves.iter().position(|l| &l.node == node).ok_or_else(|| {
            FlError::Data(format!(
                "{} has no verdict in this round",
                Address::new_from_array(*node)
            ))
        })?;
        Ok(Claim {
            leaf: leaves[index],
            proof: tree.proof(index),
        })
    }

    /// `node`'s entry, if it is listed.
    pub fn entry(&self, node: &Pubkey) -> Option<&ListedVerdict> {
        let key = Address::new_from_array(*node).to_string();
        self.verdicts.iter().find(|v| v.node == key)
    }
}
