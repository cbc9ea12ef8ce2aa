//! The one appeal a round may have: filed within the window, judged by a larger drawn
//! committee, settled by its result.

use droppin_interface::{
    DropPinError, Pubkey,
    state::{AppealResolution, FailReason, Round, RoundStatus, Seat, SeatStatus},
};

use crate::{
    Result, add,
    committee::{appeal_share, has_quorum},
};

/// Files an appeal within its window; returns the bond the appellant pays into the vault (one
/// seat's lock). Two cases: against a finalized verdict, once its leaves are posted; or, when
/// the first committee reached no quorum, an escalation, so that one absent or dissenting seat
/// cannot void a round. The appeal's committee is seeded by the hash of the slot after this
/// one, which nobody knows yet.
pub fn file_appeal(round: &mut Round, appellant: &Pubkey, slot: u64) -> Result<u64> {
    if round.appeal.filed() {
        return Err(DropPinError::AlreadyAppealed);
    }
    let open = match round.status {
        RoundStatus::Finalized => round.appeal_deadline().is_some_and(|end| slot < end),
        RoundStatus::Open => {
            let first = &round.committees[0];
            let stalled = first.drawn
                && first.seats > 0
                && crate::phase(round, slot) == crate::Phase::Settlement
                && !first
                    .leader()
                    .is_some_and(|t| has_quorum(round, first, t.votes));
            stalled && slot < round.escalation_deadline()
        }
        RoundStatus::Failed => return Err(DropPinError::RoundNotOpen),
    };
    if !open || appellant == &[0; 32] {
        return Err(DropPinError::AppealClosed);
    }
    let bond = round.committees[0].seat_lock;
    round.appeal.appellant = *appellant;
    round.appeal.bond = bond;
    round.appeal.filed_slot = slot;
    let committee = &mut round.committees[1];
    // Its seed takes the hash of the slot after this one: drawn from the slot after that.
    committee.draw_slot = slot + 2;
    committee.vote_deadline = slot.saturating_add(round.terms.appeal_phase_slots);
    committee.reveal_deadline = committee
        .vote_deadline
        .saturating_add(round.terms.vote_reveal_slots);
    Ok(bond)
}

/// Resolves the appeal once its committee's reveals are over: confirmed if its quorum revealed
/// the finalized verdict; overturned if it revealed another one (`cited` is a seat of the
/// appeal that revealed it; settlement then follows that verdict, once its leaves are posted);
/// decided, for an escalation, when its quorum revealed any verdict; unresolved if no verdict
/// reached its quorum, which voids the round.
pub fn resolve_appeal(
    round: &mut Round,
    cited: Option<&Seat>,
    slot: u64,
) -> Result<AppealResolution> {
    if !round.appeal.filed() {
        return Err(DropPinError::NoAppeal);
    }
    if round.appeal.resolution != AppealResolution::None {
        return Err(DropPinError::RoundNotOpen);
    }
    let committee = &round.committees[1];
    if slot < committee.reveal_deadline {
        return Err(DropPinError::AppealNotResolved);
    }
    let leader = committee
        .leader()
        .filter(|t| has_quorum(round, committee, t.votes));
    let escalated = round.status == RoundStatus::Open;
    let resolution = match leader {
        None => {
            round.status = RoundStatus::Failed;
            round.failure = FailReason::AppealUnresolved;
            AppealResolution::Unresolved
        }
        Some(t) if !escalated && t.digest == round.outcome.digest => AppealResolution::Confirmed,
        Some(t) => {
            let seat = cited
                .filter(|s| {
                    s.level == 1 && s.status == SeatStatus::Revealed && s.digest == t.digest
                })
                .ok_or(DropPinError::QuorumNotReached)?;
            if escalated {
                crate::committee::set_outcome(round, seat)?;
            }
            round.outcome.level = 1;
            round.outcome.digest = seat.digest;
            round.outcome.vote = seat.vote;
            round.outcome.leaves_complete_slot = 0;
            if escalated {
                AppealResolution::Decided
            } else {
                AppealResolution::Overturned
            }
        }
    };
    round.appeal.resolution = resolution;
    Ok(resolution)
}

/// What settling the appellant's bond moves, in lamports from the vault.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AppealPayout {
    /// To the appellant: its bond back (plus the overturned majority's forfeits), or nothing
    /// when the verdict was confirmed.
    pub to_appellant: u64,
    /// To the treasury: what the confirming committee does not take of a lost bond.
    pub to_treasury: u64,
}

/// Settles the appellant's bond once the appeal is resolved and, for an overturned verdict, the
/// first committee has settled (its forfeits are then all in the vault).
pub fn settle_appeal(round: &mut Round) -> Result<AppealPayout> {
    let appeal = round.appeal;
    if !appeal.filed() {
        return Err(DropPinError::NoAppeal);
    }
    if appeal.settled {
        return Err(DropPinError::NotSettleable);
    }
    let payout = match appeal.resolution {
        AppealResolution::None => return Err(DropPinError::AppealNotResolved),
        AppealResolution::Overturned if round.committees[0].unsettled() > 0 => {
            return Err(DropPinError::RoundNotSettled);
        }
        AppealResolution::Overturned | AppealResolution::Decided => AppealPayout {
            to_appellant: add(appeal.bond, appeal.reward_due)?,
            to_treasury: 0,
        },
        AppealResolution::Confirmed => {
            let confirming = u64::from(round.committees[1].most_votes_for(&round.outcome.digest));
            let shares = appeal_share(round) * confirming;
            AppealPayout {
                to_appellant: 0,
                to_treasury: appeal.bond - shares.min(appeal.bond),
            }
        }
        AppealResolution::Unresolved => AppealPayout {
            to_appellant: appeal.bond,
            to_treasury: 0,
        },
    };
    round.appeal.settled = true;
    Ok(payout)
}
