//! The dropPIN round state machine and its lamport accounting, without a chain.
//!
//! The on-chain program is a thin shell around this crate: it checks accounts, calls one of
//! these functions with the decoded state and the current slot, moves the lamports the function
//! returns and writes the state back. Clients use the same functions to predict payouts, and the
//! rules can be tested exhaustively here without an SVM.
//!
//! Money flow of a SOL round. The vault holds `pool + joined * node_stake + validators_joined *
//! validator_stake`. At finalization the pool splits into the validators' share and the nodes'
//! pool; forfeited stakes (no-shows in full, slashed nodes by the slash fraction) join the nodes'
//! pool. Accepted nodes get their stake plus `node_pool * weight / 10_000`; slashed nodes get
//! their stake less the slash; no-shows get nothing. Agreeing validators split the validators'
//! share and get their stake back; the others lose the slash fraction to the treasury. Every
//! payment is checked against running totals, so no verdict, honest or not, can pay out more than
//! the vault holds. What is left at close (rounding dust, unearned weight) goes to the treasury,
//! or back to the funder when no update was accepted or the round failed.
#![no_std]

use droppin_interface::{
    BPS, DropPinError, Pubkey,
    hash::{Hasher, commitment},
    instruction::{ClaimArgs, OpenRoundArgs, RevealArgs, VerdictVote},
    merkle::{self, Verdict},
    state::{
        Committee, Currency, FailReason, MAX_COMMITTEE, NodeState, NodeStatus, ProtocolParams,
        Reputation, Round, RoundStatus, RoundTerms, ValidatorState, VoteTally,
    },
};

mod treasury;

pub use treasury::{
    SwapBatch, SwapOutcome, begin_swap, convert_round, credit_conversion, end_swap, record_burn,
    require_converted,
};

type Result<T> = core::result::Result<T, DropPinError>;

/// The phase of an open round, from the current slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Before the commit deadline: fund, join, commit.
    Training,
    /// Between the commit and reveal deadlines.
    Reveal,
    /// Between the reveal and validation deadlines: votes.
    Validation,
    /// After the validation deadline: finalize or fail.
    Settlement,
}

/// The phase of `round` at `slot`.
pub fn phase(round: &Round, slot: u64) -> Phase {
    let d = &round.deadlines;
    if slot < d.commit {
        Phase::Training
    } else if slot < d.reveal {
        Phase::Reveal
    } else if slot < d.validation {
        Phase::Validation
    } else {
        Phase::Settlement
    }
}

fn add(a: u64, b: u64) -> Result<u64> {
    a.checked_add(b).ok_or(DropPinError::ArithmeticOverflow)
}

fn sub(a: u64, b: u64) -> Result<u64> {
    a.checked_sub(b).ok_or(DropPinError::ArithmeticOverflow)
}

fn mul(a: u64, b: u64) -> Result<u64> {
    a.checked_mul(b).ok_or(DropPinError::ArithmeticOverflow)
}

/// `amount * bps / 10_000`, rounded down, without intermediate overflow.
pub fn bps_of(amount: u64, bps: u16) -> u64 {
    // amount * bps < 2^64 * 2^14 fits u128; the quotient is at most `amount`.
    (u128::from(amount) * u128::from(bps) / u128::from(BPS)) as u64
}

/// A funding split into the protocol fee and the part added to the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Funding {
    /// To the treasury.
    pub fee: u64,
    /// To the vault.
    pub to_pool: u64,
}

/// Splits a funder's payment by the fee.
pub fn split_funding(amount: u64, fee_bps: u16) -> Result<Funding> {
    if amount == 0 {
        return Err(DropPinError::ZeroAmount);
    }
    let fee = bps_of(amount, fee_bps);
    Ok(Funding {
        fee,
        to_pool: amount - fee,
    })
}

/// Addresses the program derived for a new round.
#[derive(Clone, Copy, Debug)]
pub struct RoundKeys {
    /// Round id.
    pub id: u64,
    /// Round PDA bump.
    pub bump: u8,
    /// Funder wallet.
    pub funder: Pubkey,
    /// Vault PDA.
    pub vault: Pubkey,
    /// Vault PDA bump.
    pub vault_bump: u8,
    /// The token vault of a $dPIN round (zeroes for SOL).
    pub token_vault: Pubkey,
}

/// Checks a funder's request against the protocol's limits and fills in the new round
/// (`round` starts as `Round::default()`; it is filled in place because a round is too large to
/// move around the 4 KB stack frames of an SBF program).
pub fn open_round(
    params: &ProtocolParams,
    keys: RoundKeys,
    args: &OpenRoundArgs,
    slot: u64,
    round: &mut Round,
) -> Result<Funding> {
    let min_stake = match args.currency {
        Currency::Sol => params.min_stake,
        Currency::Dpin if keys.token_vault == [0; 32] => {
            return Err(DropPinError::TokenNotLaunched);
        }
        Currency::Dpin => params.swap.to_dpin(params.min_stake),
    };
    let sizes_ok = (1..=params.max_nodes).contains(&args.max_nodes)
        && args.node_stake >= min_stake
        && args.validator_stake >= min_stake;
    if !sizes_ok {
        return Err(DropPinError::InvalidRoundParams);
    }
    if !args.model_cid.is_well_formed() || args.model_cid.digest() != &args.model_hash {
        return Err(DropPinError::InvalidCid);
    }
    check_deadlines(params, &args.deadlines, slot)?;
    if args.quorum_bps <= BPS / 2 || args.quorum_bps > BPS {
        return Err(DropPinError::InvalidQuorum);
    }
    fill_committee(&mut round.committee, &args.committee)?;
    // Every stake and reward must stay addable in u64 whatever happens later.
    let node_stakes = mul(u64::from(args.max_nodes), args.node_stake)?;
    let validator_stakes = mul(MAX_COMMITTEE as u64, args.validator_stake)?;
    add(add(node_stakes, validator_stakes)?, args.amount)?;
    let funding = split_funding(args.amount, params.fee_bps)?;
    if funding.to_pool == 0 {
        return Err(DropPinError::InvalidRoundParams);
    }
    round.id = keys.id;
    round.bump = keys.bump;
    round.funder = keys.funder;
    round.vault = keys.vault;
    round.vault_bump = keys.vault_bump;
    round.currency = args.currency;
    round.token_vault = keys.token_vault;
    round.task_hash = args.task_hash;
    round.model_hash = args.model_hash;
    round.model_cid = args.model_cid;
    round.validation_set_hash = args.validation_set_hash;
    round.max_nodes = args.max_nodes;
    round.node_stake = args.node_stake;
    round.validator_stake = args.validator_stake;
    round.deadlines = args.deadlines;
    round.terms = RoundTerms {
        fee_bps: params.fee_bps,
        slash_bps: params.slash_bps,
        validator_share_bps: params.validator_share_bps,
        quorum_bps: args.quorum_bps,
    };
    round.fee_paid = funding.fee;
    round.pool = funding.to_pool;
    Ok(funding)
}

fn check_deadlines(
    params: &ProtocolParams,
    d: &droppin_interface::state::Deadlines,
    slot: u64,
) -> Result<()> {
    let phases = [
        (slot, d.commit),
        (d.commit, d.reveal),
        (d.reveal, d.validation),
    ];
    let ok = phases.iter().all(|&(start, end)| {
        end.checked_sub(start)
            .is_some_and(|len| (params.min_phase_slots..=params.max_phase_slots).contains(&len))
    });
    if ok {
        Ok(())
    } else {
        Err(DropPinError::InvalidDeadlines)
    }
}

fn fill_committee(committee: &mut Committee, keys: &[Pubkey]) -> Result<()> {
    if keys.is_empty() || keys.len() > MAX_COMMITTEE {
        return Err(DropPinError::InvalidCommittee);
    }
    for (i, key) in keys.iter().enumerate() {
        if *key == [0; 32] || keys[..i].contains(key) {
            return Err(DropPinError::InvalidCommittee);
        }
        committee.members[i] = *key;
    }
    committee.len = keys.len() as u8;
    Ok(())
}

fn require_open(round: &Round) -> Result<()> {
    if round.status == RoundStatus::Open {
        Ok(())
    } else {
        Err(DropPinError::RoundNotOpen)
    }
}

fn require_training(round: &Round, slot: u64) -> Result<()> {
    require_open(round)?;
    if phase(round, slot) == Phase::Training {
        Ok(())
    } else {
        Err(DropPinError::TrainingClosed)
    }
}

/// Tops up the pool; returns the split to move.
pub fn fund_round(round: &mut Round, slot: u64, amount: u64) -> Result<Funding> {
    require_training(round, slot)?;
    require_converted(round)?;
    let funding = split_funding(amount, round.terms.fee_bps)?;
    round.pool = add(round.pool, funding.to_pool)?;
    round.fee_paid = add(round.fee_paid, funding.fee)?;
    Ok(funding)
}

/// Admits a node; returns its fresh state. The caller moves `round.node_stake` into the vault.
pub fn join_round(
    round: &mut Round,
    round_key: &Pubkey,
    node: &Pubkey,
    reputation: &Reputation,
    slot: u64,
) -> Result<NodeState> {
    require_training(round, slot)?;
    require_converted(round)?;
    if round.counts.nodes_joined >= round.max_nodes {
        return Err(DropPinError::RoundFull);
    }
    round.counts.nodes_joined += 1;
    Ok(NodeState {
        round: *round_key,
        node: *node,
        commit_deadline: round.deadlines.commit,
        stake: round.node_stake,
        reputation_bps: reputation.multiplier_bps(),
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
/// node revealed the same CID first.
pub fn reveal_update<H: Hasher>(
    round: &mut Round,
    node: &mut NodeState,
    slot: u64,
    reveal: &RevealArgs,
    duplicate: bool,
) -> Result<()> {
    let RevealArgs {
        cid,
        salt,
        sample_count,
    } = *reveal;
    require_open(round)?;
    match phase(round, slot) {
        Phase::Training => return Err(DropPinError::RevealNotOpen),
        Phase::Reveal => {}
        Phase::Validation | Phase::Settlement => return Err(DropPinError::RevealClosed),
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
    Ok(())
}

/// Bonds a committee member; returns its fresh state. The caller moves `round.validator_stake`.
pub fn join_committee(
    round: &mut Round,
    round_key: &Pubkey,
    validator: &Pubkey,
    bump: u8,
    slot: u64,
) -> Result<ValidatorState> {
    require_open(round)?;
    require_converted(round)?;
    if !round.committee.contains(validator) {
        return Err(DropPinError::NotCommitteeMember);
    }
    if slot >= round.deadlines.validation {
        return Err(DropPinError::VotingClosed);
    }
    round.counts.validators_joined += 1;
    Ok(ValidatorState {
        round: *round_key,
        validator: *validator,
        bump,
        stake: round.validator_stake,
        ..ValidatorState::default()
    })
}

/// Records a vote and tallies it. Votes stay open until the validation deadline, even after
/// finalization, so late agreeing validators are not punished for an early finalization.
pub fn submit_verdict<H: Hasher>(
    round: &mut Round,
    validator: &mut ValidatorState,
    slot: u64,
    vote: VerdictVote,
) -> Result<()> {
    if round.status == RoundStatus::Failed {
        return Err(DropPinError::RoundNotOpen);
    }
    match phase(round, slot) {
        Phase::Training | Phase::Reveal => return Err(DropPinError::VotingNotOpen),
        Phase::Validation => {}
        Phase::Settlement => return Err(DropPinError::VotingClosed),
    }
    if validator.voted {
        return Err(DropPinError::AlreadyVoted);
    }
    if round.counts.nodes_revealed == 0 {
        return Err(DropPinError::NothingToValidate);
    }
    let counted = vote.accepted_count.checked_add(vote.slashed_count);
    if counted != Some(round.counts.nodes_revealed) {
        return Err(DropPinError::VerdictCountMismatch);
    }
    if !vote.new_model_cid.is_well_formed()
        || vote.new_model_cid.digest() != &vote.new_model_hash
        || !vote.verdict_list_cid.is_well_formed()
    {
        return Err(DropPinError::InvalidCid);
    }
    let digest = vote.digest::<H>();
    let slot_index = round
        .tallies
        .iter()
        .position(|t| t.votes > 0 && t.digest == digest)
        .or_else(|| round.tallies.iter().position(|t| t.votes == 0))
        .ok_or(DropPinError::ArithmeticOverflow)?;
    let tally = &mut round.tallies[slot_index];
    *tally = VoteTally {
        digest,
        votes: tally.votes + 1,
    };
    round.counts.validators_voted += 1;
    validator.voted = true;
    validator.vote = vote;
    validator.vote_digest = digest;
    Ok(())
}

fn votes_for(round: &Round, digest: &[u8; 32]) -> u8 {
    round
        .tallies
        .iter()
        .find(|t| t.votes > 0 && &t.digest == digest)
        .map_or(0, |t| t.votes)
}

fn reaches_quorum(round: &Round, votes: u8) -> bool {
    u32::from(votes) * u32::from(BPS)
        >= u32::from(round.terms.quorum_bps) * u32::from(round.committee.len)
}

/// Pins the vote cited by `voter` if its verdict has reached the quorum, and sets the pools.
pub fn finalize_round(round: &mut Round, voter: &ValidatorState) -> Result<()> {
    require_open(round)?;
    if !voter.voted || !reaches_quorum(round, votes_for(round, &voter.vote_digest)) {
        return Err(DropPinError::QuorumNotReached);
    }
    let vote = &voter.vote;
    let stake = round.node_stake;
    let no_shows = u64::from(round.counts.nodes_joined - round.counts.nodes_revealed);
    let forfeits = add(
        mul(no_shows, stake)?,
        mul(
            u64::from(vote.slashed_count),
            bps_of(stake, round.terms.slash_bps),
        )?,
    )?;
    let validator_pool = bps_of(round.pool, round.terms.validator_share_bps);
    round.status = RoundStatus::Finalized;
    round.outcome = droppin_interface::state::RoundOutcome {
        vote_digest: voter.vote_digest,
        verdict_root: vote.verdict_root,
        new_model_hash: vote.new_model_hash,
        new_model_cid: vote.new_model_cid,
        verdict_list_cid: vote.verdict_list_cid,
        accepted: vote.accepted_count,
        slashed: vote.slashed_count,
        node_pool: add(round.pool - validator_pool, forfeits)?,
        validator_pool,
        ..Default::default()
    };
    Ok(())
}

/// Fails a round whose deadline passed without joins, reveals or a quorum.
pub fn crank_timeout(round: &mut Round, slot: u64) -> Result<FailReason> {
    require_open(round)?;
    let phase = phase(round, slot);
    let counts = &round.counts;
    let best = round.tallies.iter().map(|t| t.votes).max().unwrap_or(0);
    let reason = if phase == Phase::Training {
        None
    } else if counts.nodes_joined == 0 {
        Some(FailReason::NoJoins)
    } else if phase == Phase::Reveal {
        None
    } else if counts.nodes_revealed == 0 {
        Some(FailReason::NoReveals)
    } else if phase == Phase::Validation || reaches_quorum(round, best) {
        None
    } else {
        Some(FailReason::NoQuorum)
    };
    let reason = reason.ok_or(DropPinError::NoTimeout)?;
    round.status = RoundStatus::Failed;
    round.failure = reason;
    Ok(reason)
}

/// Lamports to move when a node settles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodePayout {
    /// From the vault to the node's wallet.
    pub to_node: u64,
}

fn node_budget(round: &Round) -> Result<u64> {
    add(
        mul(u64::from(round.counts.nodes_joined), round.node_stake)?,
        round.pool - round.outcome.validator_pool,
    )
}

fn pay_node(round: &mut Round, amount: u64) -> Result<NodePayout> {
    let paid = add(round.outcome.node_paid_total, amount)?;
    if paid > node_budget(round)? {
        return Err(DropPinError::PayoutExceedsPool);
    }
    round.outcome.node_paid_total = paid;
    round.counts.nodes_settled += 1;
    Ok(NodePayout { to_node: amount })
}

/// Pays a revealed node by its proven verdict leaf and updates its reputation.
pub fn claim_reward<H: Hasher>(
    round: &mut Round,
    round_key: &Pubkey,
    node: &NodeState,
    reputation: &mut Reputation,
    claim: &ClaimArgs,
) -> Result<NodePayout> {
    let ClaimArgs { leaf, proof } = claim;
    if round.status != RoundStatus::Finalized {
        return Err(DropPinError::RoundNotFinalized);
    }
    if node.status != NodeStatus::Revealed {
        return Err(DropPinError::NotRevealed);
    }
    if leaf.node != node.node {
        return Err(DropPinError::NodeMismatch);
    }
    leaf.check()?;
    if node.duplicate && leaf.verdict == Verdict::Accepted {
        return Err(DropPinError::InvalidVerdictLeaf);
    }
    if proof.len() > merkle::MAX_PROOF_LEN {
        return Err(DropPinError::ProofTooLong);
    }
    if !merkle::verify::<H>(
        &round.outcome.verdict_root,
        leaf.hash::<H>(round_key),
        proof,
    ) {
        return Err(DropPinError::InvalidMerkleProof);
    }
    let amount = match leaf.verdict {
        Verdict::Accepted => {
            let weight_paid = round.outcome.weight_paid_bps + u32::from(leaf.weight_bps);
            if weight_paid > u32::from(BPS) {
                return Err(DropPinError::WeightBudgetExceeded);
            }
            let reward = bps_of(round.outcome.node_pool, leaf.weight_bps);
            let rewards_paid = add(round.outcome.node_rewards_paid, reward)?;
            if rewards_paid > round.outcome.node_pool {
                return Err(DropPinError::PayoutExceedsPool);
            }
            round.outcome.weight_paid_bps = weight_paid;
            round.outcome.node_rewards_paid = rewards_paid;
            reputation.accepted += 1;
            reputation.cumulative_weight_bps += u64::from(leaf.weight_bps);
            add(node.stake, reward)?
        }
        Verdict::Slashed => {
            reputation.slashed += 1;
            sub(node.stake, bps_of(node.stake, round.terms.slash_bps))?
        }
    };
    pay_node(round, amount)
}

/// The slot after which a finalized round's unclaimed nodes can be refunded: the validation
/// deadline plus one more validation phase. It bounds how long a verdict nobody can prove
/// against (a dishonest quorum's) can hold stakes in the vault.
pub fn claim_deadline(round: &Round) -> u64 {
    let d = &round.deadlines;
    d.validation.saturating_add(d.validation - d.reveal)
}

/// Settles a node that has no verdict to claim: a refund in a failed round (nothing for a
/// no-show), a no-show's forfeit in a finalized round, or, past the claim deadline, the stake of
/// a node whose verdict was never claimed.
pub fn refund_node(
    round: &mut Round,
    node: &NodeState,
    reputation: &mut Reputation,
    slot: u64,
) -> Result<NodePayout> {
    let revealed = node.status == NodeStatus::Revealed;
    let amount = match round.status {
        RoundStatus::Open => return Err(DropPinError::RoundNotFinalized),
        RoundStatus::Finalized if revealed && slot < claim_deadline(round) => {
            return Err(DropPinError::NotRefundable);
        }
        RoundStatus::Finalized if revealed => node.stake,
        RoundStatus::Failed if revealed => node.stake,
        RoundStatus::Finalized | RoundStatus::Failed => 0,
    };
    if !revealed {
        reputation.no_shows += 1;
    }
    pay_node(round, amount)
}

/// Lamports to move when a committee member settles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ValidatorPayout {
    /// From the vault to the validator's wallet.
    pub to_validator: u64,
    /// From the vault to the treasury (the slash).
    pub to_treasury: u64,
}

/// Pays a committee member: stake plus an equal share of the validators' pool if it voted the
/// finalized verdict; stake less the slash if it voted otherwise or not at all; the full stake
/// back if the round failed before votes were due.
pub fn settle_validator(
    round: &mut Round,
    validator: &ValidatorState,
    slot: u64,
) -> Result<ValidatorPayout> {
    let votes_final =
        slot >= round.deadlines.validation || round.counts.validators_voted == round.committee.len;
    let slash = bps_of(validator.stake, round.terms.slash_bps);
    let payout = match round.status {
        RoundStatus::Open => return Err(DropPinError::RoundNotFinalized),
        RoundStatus::Finalized if !votes_final => {
            return Err(DropPinError::ValidatorSettleTooEarly);
        }
        RoundStatus::Finalized
            if validator.voted && validator.vote_digest == round.outcome.vote_digest =>
        {
            let agreeing = u64::from(votes_for(round, &round.outcome.vote_digest));
            ValidatorPayout {
                to_validator: add(validator.stake, round.outcome.validator_pool / agreeing)?,
                to_treasury: 0,
            }
        }
        RoundStatus::Failed if round.failure != FailReason::NoQuorum || validator.voted => {
            ValidatorPayout {
                to_validator: validator.stake,
                to_treasury: 0,
            }
        }
        RoundStatus::Finalized | RoundStatus::Failed => ValidatorPayout {
            to_validator: validator.stake - slash,
            to_treasury: slash,
        },
    };
    round.counts.validators_settled += 1;
    Ok(payout)
}

/// Where a closing round's remainder goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CloseSplit {
    /// Back to the funder.
    pub to_funder: u64,
    /// To the treasury.
    pub to_treasury: u64,
}

/// Checks that everyone is settled and splits the vault's remainder (beyond its rent).
pub fn close_round(round: &Round, remainder: u64) -> Result<CloseSplit> {
    if round.status == RoundStatus::Open {
        return Err(DropPinError::RoundNotFinalized);
    }
    let c = &round.counts;
    if c.nodes_settled != c.nodes_joined || c.validators_settled != c.validators_joined {
        return Err(DropPinError::RoundNotSettled);
    }
    let refund_funder = round.status == RoundStatus::Failed || round.outcome.accepted == 0;
    Ok(if refund_funder {
        CloseSplit {
            to_funder: remainder,
            to_treasury: 0,
        }
    } else {
        CloseSplit {
            to_funder: 0,
            to_treasury: remainder,
        }
    })
}

#[cfg(test)]
mod tests;
