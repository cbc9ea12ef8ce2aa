//! Opening, funding, failing and closing a round.

use droppin_interface::{
    DropPinError, Pubkey,
    instruction::OpenRoundArgs,
    state::{
        CommitteeDraw, Contribution, Currency, Deadlines, FailReason, MAX_COMMITTEE_CAP,
        ProtocolParams, Round, RoundStatus, RoundTerms,
    },
};

use crate::{
    DRAW_WINDOW_SLOTS, Phase, Result, add, bps_of, committee::has_quorum, mul, phase,
    require_converted, settlement::all_settled, sub,
};

/// A funding split into the protocol fee and the part added to the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Funding {
    /// To the treasury (burned in a $dPIN round).
    pub fee: u64,
    /// To the vault.
    pub to_pool: u64,
}

/// Splits a payment by the fee.
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
#[derive(Clone, Copy, Debug, Default)]
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
    /// The protocol treasury.
    pub treasury: Pubkey,
    /// The registry's bonded total now: the draw measures every validator's chance against it.
    pub bonded_total: u64,
}

/// Checks a funder's request against the protocol's limits and fills in the new round
/// (`round` starts as `Round::default()`; it is filled in place because a round is too large to
/// move around the 4 KB stack frames of an SBF program).
#[inline(always)]
pub fn open_round(
    params: &ProtocolParams,
    keys: &RoundKeys,
    args: &OpenRoundArgs,
    slot: u64,
    round: &mut Round,
) -> Result<Funding> {
    let bonded_total = keys.bonded_total;
    let min_stake = match args.currency {
        Currency::Sol => params.min_stake,
        Currency::Dpin if keys.token_vault == [0; 32] => {
            return Err(DropPinError::TokenNotLaunched);
        }
        Currency::Dpin => params.swap.to_dpin(params.min_stake),
    };
    let sizes_ok = (1..=params.max_nodes).contains(&args.max_nodes) && args.node_stake >= min_stake;
    if !sizes_ok {
        return Err(DropPinError::InvalidRoundParams);
    }
    if !args.model_cid.is_well_formed()
        || args.model_cid.digest() != &args.model_hash
        || !args.task_cid.is_well_formed()
    {
        return Err(DropPinError::InvalidCid);
    }
    let c = &params.committee;
    if !(c.min_size..=c.max_size).contains(&args.committee_size) {
        return Err(DropPinError::InvalidCommitteeSize);
    }
    if bonded_total == 0 {
        return Err(DropPinError::NoValidators);
    }
    let deadlines = Deadlines {
        commit: args.commit,
        reveal: args.reveal,
        validation: args.validation,
        vote_reveal: args.validation.saturating_add(c.vote_reveal_slots),
    };
    check_deadlines(params, &deadlines, slot)?;
    // Every stake and reward must stay addable in u64 whatever happens later.
    add(
        mul(u64::from(args.max_nodes), args.node_stake)?,
        args.amount,
    )?;
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
    round.treasury = keys.treasury;
    round.opened_slot = slot;
    round.task_cid = args.task_cid;
    round.model_hash = args.model_hash;
    round.model_cid = args.model_cid;
    round.validation_set_hash = args.validation_set_hash;
    round.max_nodes = args.max_nodes;
    round.node_stake = args.node_stake;
    round.deadlines = deadlines;
    round.terms = RoundTerms {
        fee_bps: params.fee_bps,
        slash_bps: params.slash_bps,
        validator_share_bps: params.validator_share_bps,
        quorum_bps: c.quorum_bps,
        min_committee: c.min_size,
        appeal_reward_bps: c.appeal_reward_bps,
        vote_reveal_slots: c.vote_reveal_slots,
        post_slots: c.post_slots,
        appeal_window_slots: c.appeal_window_slots,
        appeal_phase_slots: c.appeal_phase_slots,
        reputation_min_pool: params.reputation.min_pool,
        reputation_half_life: params.reputation.half_life_slots,
        reference_price: params.swap.reference_price,
    };
    round.committees[0] = CommitteeDraw {
        expected: args.committee_size,
        bonded_total,
        draw_slot: deadlines.reveal,
        vote_deadline: deadlines.validation,
        reveal_deadline: deadlines.vote_reveal,
        ..CommitteeDraw::default()
    };
    // The appeal's committee: 2k + 1 seats expected, against the same snapshot.
    round.committees[1] = CommitteeDraw {
        expected: args
            .committee_size
            .saturating_mul(2)
            .saturating_add(1)
            .min(MAX_COMMITTEE_CAP),
        bonded_total,
        ..CommitteeDraw::default()
    };
    round.fee_paid = funding.fee;
    round.pool = funding.to_pool;
    round.funder_pool = funding.to_pool;
    Ok(funding)
}

fn check_deadlines(params: &ProtocolParams, d: &Deadlines, slot: u64) -> Result<()> {
    let phases = [
        (slot, d.commit),
        (d.commit, d.reveal),
        (d.reveal, d.validation),
    ];
    let ok = phases.iter().all(|&(start, end)| {
        end.checked_sub(start)
            .is_some_and(|len| params.allows_phase(len))
    });
    if ok {
        Ok(())
    } else {
        Err(DropPinError::InvalidDeadlines)
    }
}

fn require_training(round: &Round, slot: u64) -> Result<()> {
    if round.status != RoundStatus::Open {
        return Err(DropPinError::RoundNotOpen);
    }
    if phase(round, slot) == Phase::Training {
        Ok(())
    } else {
        Err(DropPinError::TrainingClosed)
    }
}

/// Tops up the pool; returns the split to move. `by_funder` says whether the funder pays (a
/// third party's top-up is also recorded with [`record_contribution`]).
pub fn fund_round(round: &mut Round, slot: u64, amount: u64, by_funder: bool) -> Result<Funding> {
    require_training(round, slot)?;
    require_converted(round)?;
    let funding = split_funding(amount, round.terms.fee_bps)?;
    round.pool = add(round.pool, funding.to_pool)?;
    round.fee_paid = add(round.fee_paid, funding.fee)?;
    if by_funder {
        round.funder_pool = add(round.funder_pool, funding.to_pool)?;
    }
    Ok(funding)
}

/// Records a third party's top-up, so its unearned part returns to it.
pub fn record_contribution(
    round: &mut Round,
    contribution: &mut Contribution,
    funding: &Funding,
    first: bool,
) -> Result<()> {
    if first {
        round.counts.contributions = round
            .counts
            .contributions
            .checked_add(1)
            .ok_or(DropPinError::ArithmeticOverflow)?;
    }
    contribution.amount = add(contribution.amount, funding.to_pool)?;
    Ok(())
}

/// Fails a round whose deadline passed without what it needed.
pub fn crank_timeout(round: &mut Round, slot: u64) -> Result<FailReason> {
    let reason = match round.status {
        RoundStatus::Failed => return Err(DropPinError::RoundNotOpen),
        RoundStatus::Open => open_round_timeout(round, slot),
        RoundStatus::Finalized => {
            let level = round.outcome.level;
            let withheld =
                round.outcome.leaves_complete_slot == 0 && slot >= round.post_deadline(level);
            withheld.then_some(FailReason::VerdictWithheld)
        }
    };
    let reason = reason.ok_or(DropPinError::NoTimeout)?;
    round.status = RoundStatus::Failed;
    round.failure = reason;
    Ok(reason)
}

fn open_round_timeout(round: &Round, slot: u64) -> Option<FailReason> {
    let phase = phase(round, slot);
    let counts = &round.counts;
    let committee = &round.committees[0];
    if phase == Phase::Training {
        None
    } else if counts.nodes_joined == 0 {
        Some(FailReason::NoJoins)
    } else if phase == Phase::Reveal {
        None
    } else if counts.nodes_revealed == 0 {
        Some(FailReason::NoReveals)
    } else if !committee.drawn && slot > round.deadlines.reveal.saturating_add(DRAW_WINDOW_SLOTS) {
        // The draw's window closed (an unanchored round's fallback hash has left the SlotHashes
        // window; an anchored one is held to it too): nobody can draw any more.
        Some(FailReason::NoCommittee)
    } else if phase == Phase::Validation {
        None
    } else if committee.seats == 0 {
        Some(FailReason::NoCommittee)
    } else if phase == Phase::VoteReveal {
        None
    } else {
        // Without a quorum the round may still be escalated to the appeal's committee, until
        // the escalation window closes.
        let leading = committee.leader().map_or(0, |t| t.votes);
        let stalled = !has_quorum(round, committee, leading)
            && !round.appeal.filed()
            && slot >= round.escalation_deadline();
        stalled.then_some(FailReason::NoQuorum)
    }
}

/// Where a closing round's remainder goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CloseSplit {
    /// Back to the funder.
    pub to_funder: u64,
    /// To the treasury.
    pub to_treasury: u64,
}

/// The pool nobody earned: what the funder and the third-party contributors share.
fn unearned(round: &Round) -> Result<u64> {
    sub(
        sub(round.pool, round.outcome.node_rewards_paid)?,
        round.outcome.validator_rewards_paid,
    )
}

/// Returns a third party's share of the unearned pool once everyone else is settled.
pub fn refund_contribution(round: &mut Round, contribution: &Contribution) -> Result<u64> {
    if round.status == RoundStatus::Open || !all_settled(round) {
        return Err(DropPinError::RoundNotSettled);
    }
    let refund = (u128::from(contribution.amount) * u128::from(unearned(round)?)
        / u128::from(round.pool.max(1))) as u64;
    let paid = add(round.outcome.contribution_refunds_paid, refund)?;
    if paid > unearned(round)? {
        return Err(DropPinError::PayoutExceedsPool);
    }
    round.outcome.contribution_refunds_paid = paid;
    round.counts.contributions_settled += 1;
    Ok(refund)
}

/// Checks that everyone is settled and splits the escrow's remainder: the funder gets what is
/// left of the unearned pool (`unearned_cap` caps it for the SOL side of a converted round, whose
/// unconverted lamports are the funder's), the treasury the dust.
pub fn close_round(round: &Round, remainder: u64, unearned_cap: Option<u64>) -> Result<CloseSplit> {
    if round.status == RoundStatus::Open {
        return Err(DropPinError::RoundNotFinalized);
    }
    let c = &round.counts;
    if !all_settled(round) || c.contributions_settled != c.contributions {
        return Err(DropPinError::RoundNotSettled);
    }
    let funders_share = match unearned_cap {
        Some(cap) => cap,
        None => sub(unearned(round)?, round.outcome.contribution_refunds_paid)?,
    };
    let to_funder = remainder.min(funders_share);
    Ok(CloseSplit {
        to_funder,
        to_treasury: remainder - to_funder,
    })
}
