//! A committee's verdict: one leaf per joined node, in join order, hashed in chunks under one
//! root.
//!
//! Validators vote (sealed, then revealed) on a header that commits the root of the leaves and
//! their counts and weight sum. Once a verdict wins, anyone posts its leaves on-chain chunk by
//! chunk; the program checks each chunk against the root and tallies what it holds, and the
//! verdict counts only once every chunk is there and the tallies equal the header. Settlement
//! then reads each node's leaf from the chain: nothing depends on a blob someone may withhold.
//!
//! Chunk hashes bind the round and the chunk's position; the tree over them is positional and
//! padded with zero hashes to a power of two, so a proof is the sibling at each level and
//! inner nodes (prefix 1) can never pass for chunks (prefix 0).

use borsh::{BorshDeserialize, BorshSerialize};
use codama_macros::CodamaType;

use crate::{BPS, DropPinError, Pubkey, hash::Hasher};

/// Leaves per chunk: one chunk with its proof fits one transaction.
pub const LEAVES_PER_CHUNK: u32 = 224;
/// Encoded size of a leaf.
pub const LEAF_LEN: usize = 3;
/// Longest proof accepted (2^8 chunks is beyond any round's size).
pub const MAX_PROOF_LEN: usize = 8;

const CHUNK_PREFIX: &[u8] = &[0];
const NODE_PREFIX: &[u8] = &[1];

/// What the committee decided about one node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, CodamaType)]
#[borsh(use_discriminant = true)]
#[repr(u8)]
pub enum Outcome {
    /// The update was used: stake back plus a share of the pool by weight.
    Accepted = 0,
    /// Not used, no fault proven (an outlier, an unavailable blob, too small a gain): stake back.
    #[default]
    Excluded = 1,
    /// A fault anyone can verify (malformed, poisoned, a copy): the slash fraction of the stake
    /// goes to the treasury.
    Slashed = 2,
    /// The node never revealed: the slash fraction of the stake goes to the treasury.
    NoShow = 3,
}

impl Outcome {
    fn from_byte(byte: u8) -> Option<Outcome> {
        match byte {
            0 => Some(Outcome::Accepted),
            1 => Some(Outcome::Excluded),
            2 => Some(Outcome::Slashed),
            3 => Some(Outcome::NoShow),
            _ => None,
        }
    }
}

impl BorshDeserialize for Outcome {
    // By hand: the derived decoder formats an error message for an unknown tag, and formatting
    // needs more call arguments than an SBPF v0 program can pass.
    fn deserialize_reader<R: borsh::io::Read>(reader: &mut R) -> borsh::io::Result<Self> {
        Outcome::from_byte(u8::deserialize_reader(reader)?)
            .ok_or_else(|| borsh::io::ErrorKind::InvalidData.into())
    }
}

/// One node's entry in a verdict (the node is the one with this join index).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, CodamaType,
)]
pub struct Leaf {
    /// Accepted, excluded, slashed or no-show.
    pub outcome: Outcome,
    /// Contribution weight in bps; zero unless accepted.
    pub weight_bps: u16,
}

impl Leaf {
    /// The leaf's bytes: `outcome || weight_bps as u16 LE`.
    pub fn to_bytes(&self) -> [u8; LEAF_LEN] {
        let w = self.weight_bps.to_le_bytes();
        [self.outcome as u8, w[0], w[1]]
    }

    /// A leaf from its bytes, if they are one.
    pub fn from_bytes(bytes: &[u8]) -> Option<Leaf> {
        match bytes {
            [outcome, w0, w1] => Some(Leaf {
                outcome: Outcome::from_byte(*outcome)?,
                weight_bps: u16::from_le_bytes([*w0, *w1]),
            }),
            _ => None,
        }
    }

    /// Rejects leaves no honest validator would produce: a weight on anything but an accepted
    /// leaf, or above 10,000 bps.
    pub fn check(&self) -> Result<(), DropPinError> {
        let consistent = match self.outcome {
            Outcome::Accepted => self.weight_bps <= BPS,
            _ => self.weight_bps == 0,
        };
        if consistent {
            Ok(())
        } else {
            Err(DropPinError::InvalidVerdictLeaf)
        }
    }
}

/// Chunks a verdict over `total` leaves is posted in.
pub fn chunk_count(total: u32) -> u16 {
    total.div_ceil(LEAVES_PER_CHUNK) as u16
}

/// The chunk holding leaf `index`.
pub fn chunk_of(index: u32) -> u16 {
    (index / LEAVES_PER_CHUNK) as u16
}

/// Leaves in chunk `chunk` of a verdict over `total` leaves.
pub fn chunk_len(total: u32, chunk: u16) -> u32 {
    let start = u32::from(chunk) * LEAVES_PER_CHUNK;
    total.saturating_sub(start).min(LEAVES_PER_CHUNK)
}

/// A chunk's hash: `sha256(0 || round || chunk as u16 LE || leaf bytes)`.
pub fn chunk_hash<H: Hasher>(round: &Pubkey, chunk: u16, leaf_bytes: &[u8]) -> [u8; 32] {
    H::hashv(&[CHUNK_PREFIX, round, &chunk.to_le_bytes(), leaf_bytes])
}

/// The parent of two hashes, left then right.
pub fn hash_pair<H: Hasher>(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    H::hashv(&[NODE_PREFIX, left, right])
}

/// Levels of the tree over `chunks` chunks (the proof length).
pub fn depth(chunks: u16) -> usize {
    let mut depth = 0;
    while (1usize << depth) < usize::from(chunks) {
        depth += 1;
    }
    depth
}

/// Where a chunk sits: its position among the verdict's chunks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkAt {
    /// The chunk's position.
    pub chunk: u16,
    /// How many chunks the verdict has.
    pub chunks: u16,
}

/// Whether `proof` leads from the hash of the chunk `at` to `root`. Inlined: the promotion of
/// `at`'s two fields into arguments would push a call past the five registers SBPF v0 passes.
#[inline(always)]
pub fn verify<H: Hasher>(
    root: &[u8; 32],
    at: &ChunkAt,
    hash: &[u8; 32],
    proof: &[[u8; 32]],
) -> bool {
    let ChunkAt { chunk, chunks } = *at;
    if chunk >= chunks || proof.len() != depth(chunks) || proof.len() > MAX_PROOF_LEN {
        return false;
    }
    let mut index = chunk;
    let mut acc = *hash;
    for sibling in proof {
        acc = if index & 1 == 0 {
            hash_pair::<H>(&acc, sibling)
        } else {
            hash_pair::<H>(sibling, &acc)
        };
        index >>= 1;
    }
    acc == *root
}

/// Counts and weight sum of a list of leaves: what a verdict's header commits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Accepted leaves.
    pub accepted: u32,
    /// Excluded leaves.
    pub excluded: u32,
    /// Slashed leaves.
    pub slashed: u32,
    /// No-show leaves.
    pub no_shows: u32,
    /// Sum of accepted weights, in bps.
    pub weight_sum: u32,
}

impl Tally {
    /// Adds one leaf.
    pub fn add(&mut self, leaf: &Leaf) {
        match leaf.outcome {
            Outcome::Accepted => self.accepted += 1,
            Outcome::Excluded => self.excluded += 1,
            Outcome::Slashed => self.slashed += 1,
            Outcome::NoShow => self.no_shows += 1,
        }
        self.weight_sum = self.weight_sum.saturating_add(u32::from(leaf.weight_bps));
    }
}

/// A whole verdict, built by validators (and by anyone who posts its leaves).
#[cfg(feature = "std")]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerdictTree {
    /// The round.
    pub round: Pubkey,
    /// Every leaf, in join order.
    pub leaves: alloc::vec::Vec<Leaf>,
    levels: alloc::vec::Vec<alloc::vec::Vec<[u8; 32]>>,
}

#[cfg(feature = "std")]
impl VerdictTree {
    /// Builds the chunk tree of `leaves` (in join order) for `round`.
    pub fn new<H: Hasher>(round: Pubkey, leaves: alloc::vec::Vec<Leaf>) -> VerdictTree {
        let chunks = chunk_count(leaves.len() as u32);
        let mut level: alloc::vec::Vec<[u8; 32]> = (0..chunks)
            .map(|c| chunk_hash::<H>(&round, c, &Self::bytes_of(&leaves, c)))
            .collect();
        level.resize(1usize << depth(chunks), [0; 32]);
        let mut levels = alloc::vec![level];
        while levels.last().is_some_and(|l| l.len() > 1) {
            let below = levels.last().expect("checked above");
            let above = below
                .chunks(2)
                .map(|pair| hash_pair::<H>(&pair[0], &pair[1]))
                .collect();
            levels.push(above);
        }
        VerdictTree {
            round,
            leaves,
            levels,
        }
    }

    fn bytes_of(leaves: &[Leaf], chunk: u16) -> alloc::vec::Vec<u8> {
        let start = usize::from(chunk) * LEAVES_PER_CHUNK as usize;
        let end = (start + LEAVES_PER_CHUNK as usize).min(leaves.len());
        leaves[start..end].iter().flat_map(Leaf::to_bytes).collect()
    }

    /// The root, or zeroes for an empty verdict.
    pub fn root(&self) -> [u8; 32] {
        self.levels
            .last()
            .and_then(|top| top.first().copied())
            .unwrap_or([0; 32])
    }

    /// Number of chunks.
    pub fn chunks(&self) -> u16 {
        chunk_count(self.leaves.len() as u32)
    }

    /// The leaves of chunk `chunk`.
    pub fn chunk(&self, chunk: u16) -> &[Leaf] {
        let start = usize::from(chunk) * LEAVES_PER_CHUNK as usize;
        let end = (start + LEAVES_PER_CHUNK as usize).min(self.leaves.len());
        &self.leaves[start..end]
    }

    /// The sibling hashes from chunk `chunk` up to the root.
    pub fn proof(&self, chunk: u16) -> alloc::vec::Vec<[u8; 32]> {
        let mut index = usize::from(chunk);
        let mut proof = alloc::vec::Vec::new();
        for level in &self.levels[..self.levels.len().saturating_sub(1)] {
            proof.push(level[index ^ 1]);
            index /= 2;
        }
        proof
    }

    /// The counts and weight sum the header must commit.
    pub fn tally(&self) -> Tally {
        let mut tally = Tally::default();
        for leaf in &self.leaves {
            tally.add(leaf);
        }
        tally
    }
}

#[cfg(all(test, feature = "client"))]
mod tests {
    use super::*;
    use crate::hash::Sha256;
    use proptest::prelude::*;

    fn leaves(n: u32) -> std::vec::Vec<Leaf> {
        (0..n)
            .map(|i| Leaf {
                outcome: if i % 3 == 0 {
                    Outcome::Accepted
                } else {
                    Outcome::Excluded
                },
                weight_bps: if i % 3 == 0 { (i % 97) as u16 } else { 0 },
            })
            .collect()
    }

    proptest! {
        #[test]
        fn every_chunk_proves_and_no_tampered_chunk_does(n in 1u32..2_000, pick in 0u16..16) {
            let round = [9u8; 32];
            let tree = VerdictTree::new::<Sha256>(round, leaves(n));
            let chunks = tree.chunks();
            let c = pick % chunks;
            let bytes: std::vec::Vec<u8> = tree.chunk(c).iter().flat_map(Leaf::to_bytes).collect();
            let proof = tree.proof(c);
            let at = ChunkAt { chunk: c, chunks };
            prop_assert!(verify::<Sha256>(&tree.root(), &at, &chunk_hash::<Sha256>(&round, c, &bytes), &proof));
            let mut forged = bytes.clone();
            forged[0] ^= 1;
            prop_assert!(!verify::<Sha256>(&tree.root(), &at, &chunk_hash::<Sha256>(&round, c, &forged), &proof));
            prop_assert!(!verify::<Sha256>(&tree.root(), &at, &chunk_hash::<Sha256>(&[8; 32], c, &bytes), &proof));
            if chunks > 1 {
                let other = ChunkAt { chunk: (c + 1) % chunks, chunks };
                prop_assert!(!verify::<Sha256>(&tree.root(), &other, &chunk_hash::<Sha256>(&round, c, &bytes), &proof),
                    "a chunk cannot be posted at another position");
            }
        }
    }

    #[test]
    fn leaves_round_trip_and_carry_weight_only_when_accepted() {
        for leaf in leaves(10) {
            assert_eq!(Leaf::from_bytes(&leaf.to_bytes()), Some(leaf));
            assert!(leaf.check().is_ok());
        }
        assert_eq!(Leaf::from_bytes(&[4, 0, 0]), None);
        let weighted_slash = Leaf {
            outcome: Outcome::Slashed,
            weight_bps: 1,
        };
        assert_eq!(
            weighted_slash.check(),
            Err(DropPinError::InvalidVerdictLeaf)
        );
        let too_heavy = Leaf {
            outcome: Outcome::Accepted,
            weight_bps: BPS + 1,
        };
        assert_eq!(too_heavy.check(), Err(DropPinError::InvalidVerdictLeaf));
    }

    #[test]
    fn chunks_cover_the_leaves_exactly() {
        assert_eq!(chunk_count(0), 0);
        assert_eq!(chunk_count(1), 1);
        assert_eq!(chunk_count(LEAVES_PER_CHUNK), 1);
        assert_eq!(chunk_count(LEAVES_PER_CHUNK + 1), 2);
        assert_eq!(chunk_len(LEAVES_PER_CHUNK + 1, 1), 1);
        assert_eq!(chunk_len(LEAVES_PER_CHUNK + 1, 2), 0);
        assert_eq!(depth(1), 0);
        assert_eq!(depth(2), 1);
        assert_eq!(depth(5), 3);
        assert!(depth(chunk_count(crate::state::MAX_NODES_CAP)) <= MAX_PROOF_LEN);
    }
}
