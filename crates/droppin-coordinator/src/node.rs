//! A node's part in a round: join, commit, reveal, and settle by its leaf.

use droppin_interface::{
    BPS, DropPinError, Pubkey,
    hash::{Hasher, commitment},
    instruction::RevealArgs,
    sortition::fold_beacon,
    state::{Currency, NodeState, NodeStatus, Reputation, Round, RoundStatus},
    verdict::{Leaf, Outcome},
};

use crate::{
    Phase, Result, add, bps_of, committee::take_anchor, phase, require_converted, settlement_open,
    sub,
};

/// Admits a node; returns its fresh state (with its join index). The caller moves
/// `round.node_stake` into the vault.
#[inline(always)]
pub fn join_round(
    round: &mut Round,
    round_key: &Pubkey,
    node: &Pubkey,
    reputation: &Reputation,
    slot: u64,
) -> Result<NodeState> {
    if round.status != RoundStatus::Open {
        return Err(DropPinError::RoundNotOpen);
    }
    if phase(round, slot) != Phase::Training {
        return Err(DropPinError::TrainingClosed);
    }
    require_converted(round)?;
    if round.counts.nodes_joined >= round.max_nodes {
        return Err(DropPinError::RoundFull);
    }
    let index = round.counts.nodes_joined;
    round.counts.nodes_joined += 1;
    Ok(NodeState {
        round: *round_key,
        node: *node,
        index,
        commit_deadline: round.deadlines.commit,
        stake: round.node_stake,
        reputation_bps: reputation.multiplier_bps(slot, round.terms.reputation_half_life),
        ..NodeState::default()
    })
}

/// Records (or replaces) a node's commitment before the commit deadline.
pub fn commit_update(node: &mut NodeState, slot: u64, commitment: [u8; 32]) -> Result<()> {
    if slot >= node.commit_deadline {
        return Err(DropPinError::TrainingClosed);
    }
    node.status = NodeStatus::Committed;
    node.commitment = commitment;
    Ok(())
}

/// Checks a reveal against the commitment and records it; `duplicate` says whether another
/// node revealed the same CID first. The salt joins the committee's beacon, and the first reveal
/// that `hash_before` can serve records the round's seed anchor (see
/// [`crate::committee::take_anchor`]).
pub fn reveal_update<H: Hasher>(
    round: &mut Round,
    node: &mut NodeState,
    slot: u64,
    reveal: &RevealArgs,
    duplicate: bool,
    hash_before: impl FnOnce(u64) -> Option<(u64, [u8; 32])>,
) -> Result<()> {
    let RevealArgs {
        cid,
        salt,
        sample_count,
    } = *reveal;
    if round.status != RoundStatus::Open {
        return Err(DropPinError::RoundNotOpen);
    }
    match phase(round, slot) {
        Phase::Training => return Err(DropPinError::RevealNotOpen),
        Phase::Reveal => {}
        _ => return Err(DropPinError::RevealClosed),
    }
    match node.status {
        NodeStatus::Joined => return Err(DropPinError::NotCommitted),
        NodeStatus::Revealed => return Err(DropPinError::AlreadyRevealed),
        NodeStatus::Committed => {}
    }
    if !cid.is_well_formed() {
        return Err(DropPinError::InvalidCid);
    }
    if commitment::<H>(&node.node, &cid, &salt) != node.commitment {
        return Err(DropPinError::CommitmentMismatch);
    }
    node.status = NodeStatus::Revealed;
    node.cid = cid;
    node.sample_count = sample_count;
    node.duplicate = duplicate;
    round.counts.nodes_revealed += 1;
    fold_beacon::<H>(&mut round.beacon, &salt);
    take_anchor(round, slot, hash_before);
    Ok(())
}

/// What a node's settlement moves, in the round's currency.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NodePayout {
    /// From the escrow to the node's wallet.
    pub to_node: u64,
    /// From the escrow to the treasury (burned in a $dPIN round): the slash or the no-show
    /// penalty. Never to the funder or another node.
    pub to_treasury: u64,
    /// The outcome it was settled by.
    pub outcome: Outcome,
}

/// Settles a node once settlement is open: by its leaf in the verdict in force (`leaf`, read
/// from the posted leaves at the node's join index) in a finalized round, or by a refund in a
/// failed one. A node that never revealed loses the slash fraction of its stake, whatever the
/// round's fate; a revealed node never loses more than that, and an honest one gets its stake
/// back at least.
#[inline(always)]
pub fn settle_node(
    round: &mut Round,
    node: &NodeState,
    reputation: &mut Reputation,
    leaf: Option<Leaf>,
    slot: u64,
) -> Result<NodePayout> {
    if !settlement_open(round, slot) {
        return Err(match round.status {
            RoundStatus::Open => DropPinError::RoundNotFinalized,
            _ => DropPinError::ClaimsNotOpen,
        });
    }
    let stake = node.stake;
    let slash = bps_of(stake, round.terms.slash_bps);
    let half_life = round.terms.reputation_half_life;
    let revealed = node.status == NodeStatus::Revealed;
    let outcome = if !revealed {
        Outcome::NoShow
    } else if round.status == RoundStatus::Failed {
        Outcome::Excluded
    } else {
        let leaf = leaf.ok_or(DropPinError::VerdictIncomplete)?;
        leaf.check()?;
        match leaf.outcome {
            // A revealed node the verdict calls a no-show was misjudged, and a flagged copy is
            // never paid as accepted: both get their stake back.
            Outcome::NoShow => Outcome::Excluded,
            Outcome::Accepted if node.duplicate => Outcome::Excluded,
            outcome => outcome,
        }
    };
    let payout = match outcome {
        Outcome::Accepted => {
            let weight = leaf.map_or(0, |l| l.weight_bps);
            let reward = pay_reward(round, weight)?;
            reputation.accepted += 1;
            if pool_value(round) >= round.terms.reputation_min_pool {
                reputation.earn(value_in_lamports(round, reward), slot, half_life);
            }
            NodePayout {
                to_node: add(stake, reward)?,
                to_treasury: 0,
                outcome,
            }
        }
        Outcome::Excluded => {
            reputation.excluded += 1;
            NodePayout {
                to_node: stake,
                to_treasury: 0,
                outcome,
            }
        }
        Outcome::Slashed | Outcome::NoShow => {
            if outcome == Outcome::Slashed {
                reputation.slashed += 1;
                reputation.penalize(slot, half_life);
            } else {
                reputation.no_shows += 1;
            }
            NodePayout {
                to_node: sub(stake, slash)?,
                to_treasury: slash,
                outcome,
            }
        }
    };
    round.outcome.slashed_to_treasury = add(round.outcome.slashed_to_treasury, payout.to_treasury)?;
    round.counts.nodes_settled += 1;
    Ok(payout)
}

/// The reward of an accepted leaf of weight `weight_bps`, checked against the running totals.
fn pay_reward(round: &mut Round, weight_bps: u16) -> Result<u64> {
    let outcome = &mut round.outcome;
    let weight_paid = outcome.weight_paid_bps + u32::from(weight_bps);
    if weight_paid > u32::from(BPS) {
        return Err(DropPinError::WeightBudgetExceeded);
    }
    let reward = bps_of(outcome.node_pool, weight_bps);
    let rewards_paid = add(outcome.node_rewards_paid, reward)?;
    if rewards_paid > outcome.node_pool {
        return Err(DropPinError::PayoutExceedsPool);
    }
    outcome.weight_paid_bps = weight_paid;
    outcome.node_rewards_paid = rewards_paid;
    Ok(reward)
}

/// `amount` of the round's currency, in lamports at the round's reference price.
pub(crate) fn value_in_lamports(round: &Round, amount: u64) -> u64 {
    match round.currency {
        Currency::Sol => amount,
        Currency::Dpin => droppin_interface::state::SwapParams {
            reference_price: round.terms.reference_price,
            ..Default::default()
        }
        .to_lamports(amount),
    }
}

/// The pool's worth in lamports.
fn pool_value(round: &Round) -> u64 {
    value_in_lamports(round, round.pool)
}
