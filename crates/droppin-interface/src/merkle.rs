//! The Merkle tree of a round's verdict list.
//!
//! Validators commit only the root on-chain (O(1) whatever the number of nodes); each node later
//! proves its own leaf. Leaves are domain-separated from inner nodes (prefix 0 and 1) so no inner
//! node can pass for a leaf, and inner nodes hash their children in sorted order so a proof is a
//! plain list of sibling hashes. On a level with an odd count the last hash moves up unchanged.
//! The leaf binds the round's address, so a proof from one round is worthless in another.

use borsh::{BorshDeserialize, BorshSerialize};

use crate::{DropPinError, Pubkey, hash::Hasher};

/// Longest proof accepted: 2^32 leaves is far above any round's size.
pub const MAX_PROOF_LEN: usize = 32;

const LEAF_PREFIX: &[u8] = &[0];
const NODE_PREFIX: &[u8] = &[1];

/// What the committee decided about one node's update.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize)]
#[borsh(use_discriminant = true)]
#[repr(u8)]
pub enum Verdict {
    /// The update was used: the node gets its stake back plus its share of the pool.
    Accepted = 0,
    /// The update was malformed, poisoned, useless or a duplicate: the node loses the slash
    /// fraction of its stake.
    Slashed = 1,
}

impl BorshDeserialize for Verdict {
    // By hand: the derived decoder formats an error message for an unknown tag, and formatting
    // needs more call arguments than an SBPF v0 program can pass.
    fn deserialize_reader<R: borsh::io::Read>(reader: &mut R) -> borsh::io::Result<Self> {
        match u8::deserialize_reader(reader)? {
            0 => Ok(Verdict::Accepted),
            1 => Ok(Verdict::Slashed),
            _ => Err(borsh::io::ErrorKind::InvalidData.into()),
        }
    }
}

/// One entry of the verdict list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct VerdictLeaf {
    /// The node's wallet.
    pub node: Pubkey,
    /// Accepted or slashed.
    pub verdict: Verdict,
    /// Contribution weight in basis points (0 when slashed); accepted weights sum to 10,000.
    pub weight_bps: u16,
}

impl VerdictLeaf {
    /// Rejects leaves no honest validator would produce.
    pub fn check(&self) -> Result<(), DropPinError> {
        let consistent = match self.verdict {
            Verdict::Accepted => self.weight_bps <= crate::BPS,
            Verdict::Slashed => self.weight_bps == 0,
        };
        if consistent {
            Ok(())
        } else {
            Err(DropPinError::InvalidVerdictLeaf)
        }
    }

    /// The leaf's hash: `sha256(0 || round || node || verdict || weight_bps as u16 LE)`.
    pub fn hash<H: Hasher>(&self, round: &Pubkey) -> [u8; 32] {
        H::hashv(&[
            LEAF_PREFIX,
            round,
            &self.node,
            &[self.verdict as u8],
            &self.weight_bps.to_le_bytes(),
        ])
    }
}

/// The parent of two hashes, in sorted order.
pub fn hash_pair<H: Hasher>(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let (low, high) = if a <= b { (a, b) } else { (b, a) };
    H::hashv(&[NODE_PREFIX, low, high])
}

/// Whether `proof` leads from `leaf_hash` to `root`.
pub fn verify<H: Hasher>(root: &[u8; 32], leaf_hash: [u8; 32], proof: &[[u8; 32]]) -> bool {
    proof.len() <= MAX_PROOF_LEN
        && proof
            .iter()
            .fold(leaf_hash, |acc, sibling| hash_pair::<H>(&acc, sibling))
            == *root
}

/// A whole verdict tree, built by validators and by nodes that want their proof.
#[cfg(feature = "std")]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MerkleTree {
    levels: alloc::vec::Vec<alloc::vec::Vec<[u8; 32]>>,
}

#[cfg(feature = "std")]
impl MerkleTree {
    /// Builds the tree over leaf hashes in the given order (validators sort by node key).
    pub fn from_leaf_hashes<H: Hasher>(leaves: alloc::vec::Vec<[u8; 32]>) -> MerkleTree {
        let mut levels = alloc::vec![leaves];
        while levels.last().is_some_and(|level| level.len() > 1) {
            let below = levels.last().expect("checked above");
            let above = below
                .chunks(2)
                .map(|pair| match pair {
                    [a, b] => hash_pair::<H>(a, b),
                    [lone] => *lone,
                    _ => unreachable!("chunks(2) yields one or two"),
                })
                .collect();
            levels.push(above);
        }
        MerkleTree { levels }
    }

    /// The root, or all zeroes for an empty list.
    pub fn root(&self) -> [u8; 32] {
        self.levels
            .last()
            .and_then(|top| top.first().copied())
            .unwrap_or([0; 32])
    }

    /// The sibling hashes from leaf `index` up to the root.
    pub fn proof(&self, mut index: usize) -> alloc::vec::Vec<[u8; 32]> {
        let mut proof = alloc::vec::Vec::new();
        for level in &self.levels[..self.levels.len().saturating_sub(1)] {
            if let Some(sibling) = level.get(index ^ 1) {
                proof.push(*sibling);
            }
            index /= 2;
        }
        proof
    }
}

#[cfg(all(test, feature = "client"))]
mod tests {
    use super::*;
    use crate::hash::Sha256;
    use proptest::prelude::*;

    fn leaf(i: u8, weight: u16) -> VerdictLeaf {
        VerdictLeaf {
            node: [i; 32],
            verdict: Verdict::Accepted,
            weight_bps: weight,
        }
    }

    proptest! {
        #[test]
        fn every_leaf_proves_and_no_tampered_leaf_does(n in 1usize..70, pick in 0usize..70) {
            let round = [9u8; 32];
            let leaves: std::vec::Vec<_> = (0..n).map(|i| leaf(i as u8, i as u16)).collect();
            let hashes = leaves.iter().map(|l| l.hash::<Sha256>(&round)).collect();
            let tree = MerkleTree::from_leaf_hashes::<Sha256>(hashes);
            let i = pick % n;
            let proof = tree.proof(i);
            prop_assert!(verify::<Sha256>(&tree.root(), leaves[i].hash::<Sha256>(&round), &proof));
            let mut forged = leaves[i];
            forged.weight_bps += 1;
            prop_assert!(!verify::<Sha256>(&tree.root(), forged.hash::<Sha256>(&round), &proof));
            prop_assert!(!verify::<Sha256>(&tree.root(), leaves[i].hash::<Sha256>(&[8; 32]), &proof));
        }
    }

    #[test]
    fn slashed_leaves_carry_no_weight() {
        let mut l = leaf(1, 0);
        l.verdict = Verdict::Slashed;
        assert!(l.check().is_ok());
        l.weight_bps = 1;
        assert_eq!(l.check(), Err(DropPinError::InvalidVerdictLeaf));
        assert_eq!(
            leaf(1, 10_001).check(),
            Err(DropPinError::InvalidVerdictLeaf)
        );
    }
}
