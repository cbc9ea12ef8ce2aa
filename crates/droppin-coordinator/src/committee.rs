//! Drawn committees: the draw, seats, sealed votes, absences, finalization and seat settlement.

use droppin_interface::{
    BPS, DropPinError, Pubkey,
    availability::{Availability, availability_deadline},
    hash::Hasher,
    instruction::{RevealVoteArgs, VerdictVote},
    sortition::{drawn, seed, vote_commitment},
    state::{
        AppealResolution, CommitteeDraw, Currency, FailReason, MAX_TALLIES, Registry, Round,
        RoundStatus, Seat, SeatStatus, SeedAnchor, ValidatorBond, VoteTally,
    },
};

use crate::{
    Phase, Result, add, bps_of, mul,
    node::value_in_lamports,
    phase,
    registry::{collect_debt, take_or_owe, take_penalty},
    settlement_open, split_pool, sub,
};

/// Slots after a committee's draw slot within which it must be drawn (and after the commit
/// deadline, within which the seed's anchor can be recorded): the SlotHashes sysvar keeps the
/// last 512 slot hashes, so after that the hash can no longer be read (a margin is kept for the
/// time a transaction spends in flight).
pub const DRAW_WINDOW_SLOTS: u64 = 500;

/// Share of an absence penalty paid to whoever reports it.
pub const REPORT_BOUNTY_BPS: u16 = 1_000;

/// The fewest revealed votes any quorum needs: the quorum share of the protocol's smallest
/// committee (rounded up).
pub fn min_quorum_votes(round: &Round) -> u64 {
    let needed = u64::from(round.terms.quorum_bps) * u64::from(round.terms.min_committee);
    needed.div_ceil(u64::from(BPS)).max(1)
}

/// Whether `votes` revealed votes are a quorum of `committee`: the quorum share of its seats,
/// or of the protocol's smallest committee when fewer seats were taken.
pub fn has_quorum(round: &Round, committee: &CommitteeDraw, votes: u8) -> bool {
    let seats = committee.seats.max(round.terms.min_committee);
    u32::from(votes) * u32::from(BPS) >= u32::from(round.terms.quorum_bps) * u32::from(seats)
}

/// Lamports each seat locks: what the round puts at risk (its pool and every stake a verdict
/// can slash, in lamports' worth) spread over the smallest quorum, plus one. A captive quorum
/// that gets overturned on appeal loses at least `min_quorum_votes` locks, which is more than
/// everything it could have moved.
pub fn seat_lock(round: &Round) -> Result<u64> {
    let slashable = mul(
        u64::from(round.counts.nodes_joined),
        bps_of(round.node_stake, round.terms.slash_bps),
    )?;
    let at_risk = value_in_lamports(round, add(round.pool, slashable)?);
    add(at_risk / min_quorum_votes(round), 1)
}

/// Fails unless committee `level` is the one at work: the first while the round is open, the
/// appeal's while the appeal is pending.
fn require_sitting(round: &Round, level: u8) -> Result<()> {
    match level {
        0 if round.status == RoundStatus::Open => Ok(()),
        0 => Err(DropPinError::RoundNotOpen),
        1 if !round.appeal.filed() => Err(DropPinError::NoAppeal),
        1 if round.appeal.resolution == AppealResolution::None
            && round.status != RoundStatus::Failed =>
        {
            Ok(())
        }
        1 => Err(DropPinError::RoundNotOpen),
        _ => Err(DropPinError::InvalidInstructionData),
    }
}

/// What a `DrawCommittee` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Draw {
    /// It recorded the round's seed anchor during the reveals; the draw waits for them to close.
    Anchored,
    /// It fixed the committee's seed.
    Drawn,
}

/// The slot before which the round's seed anchor is taken at `slot`, while it is still to be
/// recorded: the commit deadline during the reveals (the hash of the last slot before it, which
/// no salt could shape), the reveal deadline once they closed unrecorded (the fallback: anyone
/// could have recorded the first during the reveals, and every reveal tries to).
pub fn anchor_wanted(round: &Round, slot: u64) -> Option<u64> {
    if round.anchor.recorded {
        return None;
    }
    match phase(round, slot) {
        Phase::Training => None,
        Phase::Reveal => Some(round.deadlines.commit),
        _ => Some(round.deadlines.reveal),
    }
}

/// Records the round's seed anchor if it is wanted at `slot` and `hash_before` finds it:
/// `hash_before(s)` is the slot and hash of the last slot before `s`, read from the SlotHashes
/// sysvar, or `None` once the sysvar no longer reaches back to it. Returns whether it recorded.
pub fn take_anchor(
    round: &mut Round,
    slot: u64,
    hash_before: impl FnOnce(u64) -> Option<(u64, [u8; 32])>,
) -> bool {
    let Some(before) = anchor_wanted(round, slot) else {
        return false;
    };
    let Some((taken, hash)) = hash_before(before).filter(|&(taken, _)| taken < before) else {
        return false;
    };
    round.anchor = SeedAnchor {
        recorded: true,
        slot: taken,
        hash,
    };
    true
}

/// Fixes committee `level`'s seed from the round's beacon and a slot hash, and sizes the seats'
/// lock. The first committee takes the round's anchor (during the reveals, a draw only records
/// it: see [`take_anchor`]). The appeal's takes the hash of the slot after the appeal (the last
/// before its draw slot), which nobody knew when the first committee voted: known earlier, it
/// would tell a captive first committee whether the appeal would also be its own.
pub fn draw_committee<H: Hasher>(
    round: &mut Round,
    round_key: &Pubkey,
    level: u8,
    slot: u64,
    hash_before: impl FnOnce(u64) -> Option<(u64, [u8; 32])>,
) -> Result<Draw> {
    require_sitting(round, level)?;
    let slot_hash = if level == 0 {
        let anchored = take_anchor(round, slot, hash_before);
        if phase(round, slot) == Phase::Reveal {
            return if anchored {
                Ok(Draw::Anchored)
            } else {
                Err(DropPinError::SeedUnavailable)
            };
        }
        // Anchored or not, the draw keeps the fallback's window: a committee drawn later would
        // have too little of its validation phase left to fetch and report what it judges.
        let in_window = slot <= round.deadlines.reveal.saturating_add(DRAW_WINDOW_SLOTS);
        (round.anchor.recorded && in_window).then_some(round.anchor.hash)
    } else {
        let draw_slot = round.committees[1].draw_slot;
        (slot >= draw_slot)
            .then(|| hash_before(draw_slot))
            .flatten()
            .map(|(_, hash)| hash)
    };
    if level == 0 && round.counts.nodes_revealed == 0 {
        return Err(DropPinError::NothingToValidate);
    }
    let lock = seat_lock(round)?;
    let beacon = round.beacon;
    let committee = &mut round.committees[usize::from(level)];
    if committee.drawn {
        return Err(DropPinError::AlreadyDrawn);
    }
    let slot_hash = slot_hash.ok_or(DropPinError::SeedUnavailable)?;
    if slot >= committee.vote_deadline {
        return Err(DropPinError::SeatsClosed);
    }
    committee.seed = seed::<H>(round_key, level, &beacon, &slot_hash);
    committee.drawn = true;
    committee.seat_lock = lock;
    Ok(Draw::Drawn)
}

/// Checks that `validator` was drawn for committee `level`: its bond predates the round, and its
/// ticket falls under its threshold. The caller has checked it is not a node of the round (nor,
/// for an appeal, on the first committee).
fn require_drawn<H: Hasher>(
    round: &Round,
    level: u8,
    validator: &Pubkey,
    bond: &ValidatorBond,
) -> Result<()> {
    let committee = round.committee(level);
    if !committee.drawn {
        return Err(DropPinError::NotYetDrawn);
    }
    if validator == &round.funder || (level == 1 && validator == &round.appeal.appellant) {
        return Err(DropPinError::ConflictOfInterest);
    }
    if bond.worth_at(round.opened_slot, round.terms.reference_price) == 0 {
        return Err(DropPinError::NotEligible);
    }
    if drawn::<H>(round, validator, bond, level) {
        Ok(())
    } else {
        Err(DropPinError::NotSelected)
    }
}

/// Seats a validator that proves it was drawn, locking `seat_lock` of its free bond (its worth
/// in $dPIN at the round's reference price, for a $dPIN bond), or, if it is [`excused`], records
/// its excuse: a seat that locks nothing and holds no vote, counted with the absences, at the
/// address an absence report would take.
#[inline(always)]
pub fn claim_seat<H: Hasher>(
    round: &mut Round,
    round_key: &Pubkey,
    level: u8,
    bond: &mut ValidatorBond,
    slot: u64,
) -> Result<Seat> {
    require_sitting(round, level)?;
    let validator = bond.validator;
    require_drawn::<H>(round, level, &validator, bond)?;
    let committee = &mut round.committees[usize::from(level)];
    if slot >= committee.vote_deadline {
        return Err(DropPinError::SeatsClosed);
    }
    let lock = lock_in_bond(round, level, bond);
    if bond.available() < lock {
        if !excused(round, level, bond) {
            return Err(DropPinError::InsufficientBond);
        }
        let committee = &mut round.committees[usize::from(level)];
        committee.absent = committee
            .absent
            .checked_add(1)
            .ok_or(DropPinError::ArithmeticOverflow)?;
        return Ok(Seat {
            round: *round_key,
            validator,
            level,
            status: SeatStatus::Excused,
            vote_deadline: committee.vote_deadline,
            payer: validator,
            claimed_slot: slot,
            ..Seat::default()
        });
    }
    let committee = &mut round.committees[usize::from(level)];
    committee.seats = committee
        .seats
        .checked_add(1)
        .ok_or(DropPinError::ArithmeticOverflow)?;
    bond.locked = add(bond.locked, lock)?;
    bond.open_seats += 1;
    bond.seats_taken += 1;
    Ok(Seat {
        round: *round_key,
        validator,
        level,
        status: SeatStatus::Seated,
        lock,
        vote_deadline: committee.vote_deadline,
        payer: validator,
        claimed_slot: slot,
        ..Seat::default()
    })
}

/// Fails unless the seat may still act before its reveal: taken, and its vote not opened.
fn require_unrevealed(seat: &Seat) -> Result<()> {
    match seat.status {
        SeatStatus::Seated | SeatStatus::Committed => Ok(()),
        SeatStatus::Revealed => Err(DropPinError::VoteAlreadyRevealed),
        SeatStatus::Absent => Err(DropPinError::NotSettleable),
        SeatStatus::Excused => Err(DropPinError::SeatExcused),
    }
}

/// Records (or replaces) a seat's sealed vote before the committee's vote deadline; touches
/// only the seat.
pub fn commit_vote(seat: &mut Seat, slot: u64, commitment: [u8; 32]) -> Result<()> {
    if slot >= seat.vote_deadline {
        return Err(DropPinError::SeatsClosed);
    }
    require_unrevealed(seat)?;
    seat.status = SeatStatus::Committed;
    seat.commitment = commitment;
    Ok(())
}

/// Checks a seat's report of what it fetched of the round's revealed updates, before its
/// committee's availability deadline (a later report replaces an earlier one), and marks the
/// seat as reported; the caller writes `fetched` into the seat's bitmap ([`Seat::fetched`]).
pub fn report_availability(
    round: &Round,
    seat: &mut Seat,
    slot: u64,
    fetched: &[u8],
) -> Result<()> {
    require_sitting(round, seat.level)?;
    if slot >= availability_deadline(round.committee(seat.level)) {
        return Err(DropPinError::AvailabilityClosed);
    }
    require_unrevealed(seat)?;
    Availability::check_report(fetched, round.counts.nodes_joined)?;
    seat.reported = true;
    Ok(())
}

/// Rejects a vote no honest validator would cast: counts that do not cover the round's nodes,
/// more than the whole weight, malformed CIDs.
fn check_vote(round: &Round, vote: &VerdictVote) -> Result<()> {
    let counts = &round.counts;
    let judged = u64::from(vote.accepted) + u64::from(vote.excluded) + u64::from(vote.slashed);
    let no_shows = counts.nodes_joined - counts.nodes_revealed;
    if judged != u64::from(counts.nodes_revealed)
        || vote.no_shows != no_shows
        || vote.weight_sum_bps > u32::from(BPS)
    {
        return Err(DropPinError::VerdictCountMismatch);
    }
    if !vote.new_model_cid.is_well_formed()
        || vote.new_model_cid.digest() != &vote.new_model_hash
        || !vote.verdict_list_cid.is_well_formed()
    {
        return Err(DropPinError::InvalidCid);
    }
    Ok(())
}

/// Reveals a seat's sealed vote during the vote-reveal phase and tallies it.
pub fn reveal_vote<H: Hasher>(
    round: &mut Round,
    round_key: &Pubkey,
    seat: &mut Seat,
    slot: u64,
    args: &RevealVoteArgs,
) -> Result<()> {
    let RevealVoteArgs { level, vote, salt } = args;
    if *level != seat.level {
        return Err(DropPinError::RoundMismatch);
    }
    require_sitting(round, seat.level)?;
    let committee = round.committee(seat.level);
    if slot < committee.vote_deadline {
        return Err(DropPinError::VoteRevealNotOpen);
    }
    if slot >= committee.reveal_deadline {
        return Err(DropPinError::VoteRevealClosed);
    }
    match seat.status {
        SeatStatus::Committed => {}
        SeatStatus::Seated => return Err(DropPinError::VoteNotCommitted),
        SeatStatus::Revealed => return Err(DropPinError::VoteAlreadyRevealed),
        SeatStatus::Absent => return Err(DropPinError::NotSettleable),
        SeatStatus::Excused => return Err(DropPinError::SeatExcused),
    }
    let digest = vote.digest::<H>();
    if vote_commitment::<H>(round_key, &seat.validator, seat.level, &digest, salt)
        != seat.commitment
    {
        return Err(DropPinError::VoteCommitmentMismatch);
    }
    check_vote(round, vote)?;
    let committee = &mut round.committees[usize::from(seat.level)];
    count_vote(&mut committee.tallies, digest);
    committee.revealed += 1;
    seat.status = SeatStatus::Revealed;
    seat.vote = *vote;
    seat.digest = digest;
    Ok(())
}

const _: () = assert!(MAX_TALLIES <= 8);

/// Adds a revealed vote for `digest` to `tallies`, which hold their verdicts in the order they
/// first came. When every tally is taken by other verdicts, the one with the fewest votes (the
/// oldest of those) gives way: a verdict's tally is never full before its voters reveal, so
/// sybils revealing distinct junk first (the slot leader orders them) cannot leave the honest
/// verdict without a tally. Pushing a tally out takes seven others with as many votes each, all
/// newer, and one more junk reveal: its votes are lost, so each junk reveal costs an honest
/// verdict at most an eighth of a vote, against a whole one for a seat voting it down.
fn count_vote(tallies: &mut [VoteTally; MAX_TALLIES], digest: [u8; 32]) {
    let taken = tallies.iter().take_while(|t| t.votes > 0).count();
    if let Some(tally) = tallies[..taken].iter_mut().find(|t| t.digest == digest) {
        tally.votes = tally.votes.saturating_add(1);
        return;
    }
    let free = if taken < MAX_TALLIES {
        taken
    } else {
        let fewest = tallies.iter().map(|t| t.votes).min().unwrap_or(0);
        let oldest = tallies.iter().position(|t| t.votes == fewest).unwrap_or(0);
        tallies.copy_within(oldest + 1.., oldest);
        MAX_TALLIES - 1
    };
    tallies[free] = VoteTally { digest, votes: 1 };
}

/// What reporting an absence moves out of the absent validator's bond, in its currency.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AbsencePenalty {
    /// To the treasury (burned, from a $dPIN bond).
    pub to_treasury: u64,
    /// To the reporter: a bounty, so absences get reported.
    pub to_reporter: u64,
}

/// Takes the absence penalty of a validator that was drawn for committee `level` and never
/// took its seat: the slash fraction of a seat's lock, from its free bond and then from what it
/// is unbonding (so unbonding after the draw dodges nothing). Absences are reported from the
/// committee's vote deadline until [`absences_close`]; nothing of the round settles before that
/// (see `settlement_open`), so every seat, absence record and node account the report checks
/// is still there. The caller creates the absence record at the seat's address, so it is
/// reported once.
#[inline(always)]
pub fn report_absent<H: Hasher>(
    round: &mut Round,
    level: u8,
    bond: &mut ValidatorBond,
    registry: &mut Registry,
    slot: u64,
) -> Result<AbsencePenalty> {
    if level > 1 {
        return Err(DropPinError::InvalidInstructionData);
    }
    let validator = bond.validator;
    require_drawn::<H>(round, level, &validator, bond)?;
    if slot >= absences_close(round, level) {
        return Err(DropPinError::ReportClosed);
    }
    if !could_sit(round, level, bond) {
        return Err(DropPinError::SeatBeyondBond);
    }
    let committee = &mut round.committees[usize::from(level)];
    if slot < committee.vote_deadline {
        return Err(DropPinError::NotAbsent);
    }
    let lock = lock_in_bond(round, level, bond);
    let committee = &mut round.committees[usize::from(level)];
    committee.absent = committee
        .absent
        .checked_add(1)
        .ok_or(DropPinError::ArithmeticOverflow)?;
    let penalty = take_or_owe(bond, registry, bps_of(lock, round.terms.slash_bps))?;
    let to_reporter = bps_of(penalty, REPORT_BOUNTY_BPS);
    Ok(AbsencePenalty {
        to_treasury: penalty - to_reporter,
        to_reporter,
    })
}

/// Whether a validator drawn for committee `level` could take its seat: its bond when the round
/// opened (what drew it) covers the seat's lock. One that could not is never absent: the lock
/// grows with the stakes the round holds, which its funder sets, and a funder that joined nodes
/// of its own with stakes no bond covers would otherwise have every drawn validator slashed,
/// and take the bounty. What the bond unbonded or owes since counts against it as before; what
/// its other seats lock excuses it if it records the excuse (see [`excused`]).
pub fn could_sit(round: &Round, level: u8, bond: &ValidatorBond) -> bool {
    bond.bond_at(round.opened_slot) >= lock_in_bond(round, level, bond)
}

/// What a seat of committee `level` locks of `bond`: the seat's lock, in $dPIN at the round's
/// reference price for a $dPIN bond.
fn lock_in_bond(round: &Round, level: u8, bond: &ValidatorBond) -> u64 {
    bond.in_bond_units(
        round.committee(level).seat_lock,
        round.terms.reference_price,
    )
}

/// Whether a validator drawn for committee `level`, short of free bond for its seat, is excused
/// from it: the bond it held when the round opened covered the lock (else it is never absent,
/// see [`could_sit`]), but its locks in other seats now take so much of that bond that the rest
/// does not. Sitting in other committees is not staying away, and cannot be arranged to dodge
/// this one (only a draw gives a seat). Without it, a funder could size its round's lock just
/// under the bonds of validators busy elsewhere and take the bounty on each one's absence. What
/// the bond unbonded or owes since the opening excuses nothing.
pub fn excused(round: &Round, level: u8, bond: &ValidatorBond) -> bool {
    let lock = lock_in_bond(round, level, bond);
    let at_opening = bond.bond_at(round.opened_slot);
    bond.available() < lock && at_opening >= lock && at_opening.saturating_sub(bond.locked) < lock
}

/// The first slot at which committee `level`'s absences can no longer be reported: the end of
/// its vote reveals plus the time to post its leaves, well within the unbonding delay, so what
/// a drawn validator unbonds after the draw is still there to pay its penalty.
pub fn absences_close(round: &Round, level: u8) -> u64 {
    round
        .committee(level)
        .reveal_deadline
        .saturating_add(round.terms.post_slots)
}

/// Pins the first committee's verdict revealed by `seat`, once the vote reveals are over and
/// it has the quorum, and sets the pools.
pub fn finalize_round(round: &mut Round, seat: &Seat, slot: u64) -> Result<()> {
    if round.status != RoundStatus::Open || round.appeal.filed() {
        return Err(DropPinError::RoundNotOpen);
    }
    let committee = &round.committees[0];
    if slot < committee.reveal_deadline {
        return Err(DropPinError::VoteRevealNotOpen);
    }
    let votes = committee.votes_for(&seat.digest);
    if seat.level != 0
        || seat.status != SeatStatus::Revealed
        || !has_quorum(round, committee, votes)
    {
        return Err(DropPinError::QuorumNotReached);
    }
    set_outcome(round, seat)
}

/// Puts the verdict `seat` revealed in force and sets the pools.
pub(crate) fn set_outcome(round: &mut Round, seat: &Seat) -> Result<()> {
    let (validator_pool, node_pool) = split_pool(round.pool, round.terms.validator_share_bps)?;
    round.status = RoundStatus::Finalized;
    round.outcome.level = seat.level;
    round.outcome.digest = seat.digest;
    round.outcome.vote = seat.vote;
    round.outcome.validator_pool = validator_pool;
    round.outcome.node_pool = node_pool;
    Ok(())
}

/// What a seat's settlement moves.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SeatPayout {
    /// Its share of the validators' pool, in the round's currency, from the escrow.
    pub reward: u64,
    /// Its share of a confirmed appeal's bond, in lamports, from the vault.
    pub appeal_share: u64,
    /// Of its bond, to the treasury (its penalty, or the rest of a lost lock; burned from a
    /// $dPIN bond).
    pub to_treasury: u64,
    /// Lamports of its SOL bond to the vault, owed to the appellant of an overturned verdict.
    pub to_vault: u64,
    /// $dPIN of its $dPIN bond paid straight to the appellant of an overturned verdict.
    pub to_appellant: u64,
}

/// Settles a seat (or an absence record) once settlement is open: unlocks its bond, pays its
/// share if it revealed the final verdict, takes its penalty otherwise.
#[inline(always)]
pub fn settle_seat(
    round: &mut Round,
    seat: &Seat,
    bond: &mut ValidatorBond,
    registry: &mut Registry,
    slot: u64,
) -> Result<SeatPayout> {
    count_settled(round, seat, slot)?;
    if !seat.status.took_seat() {
        // An absence's penalty was taken when it was reported; an excuse locked nothing.
        return Ok(SeatPayout::default());
    }
    bond.locked = sub(bond.locked, seat.lock)?;
    bond.open_seats = bond.open_seats.saturating_sub(1);
    let revealed = seat.status == SeatStatus::Revealed;
    let penalty = bps_of(seat.lock, round.terms.slash_bps);
    let mut payout = SeatPayout::default();
    if !revealed {
        payout.to_treasury = penalty;
    } else if round.status == RoundStatus::Finalized && seat.digest == round.outcome.digest {
        payout.reward = validator_share(round)?;
        if seat.level == 1 && round.appeal.resolution == AppealResolution::Confirmed {
            payout.appeal_share = appeal_share(round);
        }
    } else if round.status == RoundStatus::Finalized {
        // The verdict the appeal overturned is the one that had the first committee's quorum.
        let first = &round.committees[0];
        let overturned_majority = seat.level == 0
            && round.appeal.resolution == AppealResolution::Overturned
            && has_quorum(round, first, first.votes_for(&seat.digest));
        if overturned_majority {
            let reward = bps_of(seat.lock, round.terms.appeal_reward_bps);
            payout.to_treasury = seat.lock - reward;
            match bond.currency {
                Currency::Sol => {
                    payout.to_vault = reward;
                    round.appeal.reward_due = add(round.appeal.reward_due, reward)?;
                }
                Currency::Dpin => payout.to_appellant = reward,
            }
        } else {
            payout.to_treasury = penalty;
        }
    } else if round.failure == FailReason::VerdictWithheld
        && seat.level == round.outcome.level
        && seat.digest == round.outcome.digest
    {
        // It voted a verdict whose leaves nobody posted.
        payout.to_treasury = penalty;
    }
    let taken = add(
        payout.to_treasury,
        add(payout.to_vault, payout.to_appellant)?,
    )?;
    take_penalty(bond, registry, taken)?;
    payout.to_treasury = add(payout.to_treasury, collect_debt(bond, registry)?)?;
    Ok(payout)
}

/// Settles an absence record once settlement is open: it moves nothing (its penalty was taken
/// when it was reported), so it needs no bond, which may be gone by then.
pub fn settle_absence(round: &mut Round, seat: &Seat, slot: u64) -> Result<()> {
    if seat.status.took_seat() {
        return Err(DropPinError::NotSettleable);
    }
    count_settled(round, seat, slot)
}

/// Checks that `seat` may be settled now and counts it settled.
fn count_settled(round: &mut Round, seat: &Seat, slot: u64) -> Result<()> {
    if !settlement_open(round, slot) {
        return Err(match round.status {
            RoundStatus::Open => DropPinError::RoundNotFinalized,
            _ => DropPinError::ClaimsNotOpen,
        });
    }
    if seat.level == 0 && round.appeal.filed() && round.appeal.resolution == AppealResolution::None
    {
        return Err(DropPinError::AppealNotResolved);
    }
    let level = usize::from(seat.level.min(1));
    round.committees[level].settled += 1;
    Ok(())
}

/// An equal share of the validators' pool for each seat (of either committee) that revealed the
/// final verdict, checked against the pool.
fn validator_share(round: &mut Round) -> Result<u64> {
    let digest = round.outcome.digest;
    // Split among the most seats that can have revealed the verdict: a vote whose tally gave
    // way to junk still earns its seat a share, and the shares never exceed the pool.
    let appeal_votes = match round.appeal.resolution {
        AppealResolution::Confirmed | AppealResolution::Overturned | AppealResolution::Decided => {
            round.committees[1].most_votes_for(&digest)
        }
        _ => 0,
    };
    let agreeing = u64::from(round.committees[0].most_votes_for(&digest)) + u64::from(appeal_votes);
    let share = round.outcome.validator_pool / agreeing.max(1);
    let paid = add(round.outcome.validator_rewards_paid, share)?;
    if paid > round.outcome.validator_pool {
        return Err(DropPinError::PayoutExceedsPool);
    }
    round.outcome.validator_rewards_paid = paid;
    Ok(share)
}

/// Each confirming appeal seat's share of the appellant's bond.
pub(crate) fn appeal_share(round: &Round) -> u64 {
    let confirming = round.committees[1].most_votes_for(&round.outcome.digest);
    bps_of(round.appeal.bond, round.terms.appeal_reward_bps) / u64::from(confirming.max(1))
}
