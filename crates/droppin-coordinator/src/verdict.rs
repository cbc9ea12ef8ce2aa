//! Posting a verdict's leaves on-chain, chunk by chunk, checked against its root.

use droppin_interface::{
    DropPinError, Pubkey,
    hash::Hasher,
    instruction::PostLeavesArgs,
    state::{Round, RoundStatus, VerdictLeaves},
    verdict::{ChunkAt, Tally, chunk_hash, chunk_len, verify},
};

use crate::Result;

/// A chunk on its way on-chain.
#[derive(Clone, Copy, Debug)]
pub struct ChunkPost<'a> {
    /// The instruction's arguments: level, position, leaves, proof.
    pub args: &'a PostLeavesArgs,
    /// The chunk's encoded leaves.
    pub leaf_bytes: &'a [u8],
    /// Whether the chunk's flag is already set.
    pub posted: bool,
}

/// Checks one chunk of the verdict in force against its root and the leaves account's state,
/// and tallies it. When the last chunk lands, the tallies must equal the header; the verdict is
/// then complete and its appeal window (or, after an appeal, settlement) opens.
pub fn post_leaves<H: Hasher>(
    round: &mut Round,
    round_key: &Pubkey,
    leaves: &mut VerdictLeaves,
    post: &ChunkPost<'_>,
    slot: u64,
) -> Result<()> {
    let ChunkPost {
        args,
        leaf_bytes,
        posted,
    } = *post;
    if round.status != RoundStatus::Finalized || round.outcome.level != args.level {
        return Err(DropPinError::RoundNotFinalized);
    }
    if leaves.complete || round.outcome.leaves_complete_slot > 0 {
        return Err(DropPinError::ChunkAlreadyPosted);
    }
    if slot >= round.post_deadline(args.level) {
        return Err(DropPinError::PostingClosed);
    }
    if args.chunk >= leaves.chunks || posted {
        return Err(if posted {
            DropPinError::ChunkAlreadyPosted
        } else {
            DropPinError::InvalidChunkProof
        });
    }
    if args.leaves.len() as u32 != chunk_len(leaves.total, args.chunk) {
        return Err(DropPinError::InvalidChunkProof);
    }
    let hash = chunk_hash::<H>(round_key, args.chunk, leaf_bytes);
    let root = &round.outcome.vote.leaves_root;
    let at = ChunkAt {
        chunk: args.chunk,
        chunks: leaves.chunks,
    };
    if !verify::<H>(root, &at, &hash, &args.proof) {
        return Err(DropPinError::InvalidChunkProof);
    }
    let mut tally = Tally::default();
    for leaf in &args.leaves {
        leaf.check()?;
        tally.add(leaf);
    }
    leaves.accepted += tally.accepted;
    leaves.excluded += tally.excluded;
    leaves.slashed += tally.slashed;
    leaves.no_shows += tally.no_shows;
    leaves.weight_sum = leaves.weight_sum.saturating_add(tally.weight_sum);
    leaves.posted += 1;
    if leaves.posted == leaves.chunks {
        let vote = &round.outcome.vote;
        let matches = leaves.accepted == vote.accepted
            && leaves.excluded == vote.excluded
            && leaves.slashed == vote.slashed
            && leaves.no_shows == vote.no_shows
            && leaves.weight_sum == vote.weight_sum_bps;
        if !matches {
            return Err(DropPinError::VerdictMismatch);
        }
        leaves.complete = true;
        round.outcome.leaves_complete_slot = slot.max(1);
    }
    Ok(())
}
