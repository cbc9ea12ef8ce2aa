//! Moving a round along with the instructions anyone may send: the draws, finalization, the
//! verdict's leaves, an appeal's resolution, timeouts, and settling everyone. A node waiting
//! for its pay, a validator, the demo and `dpin crank` all use it, so no round ever waits on
//! one particular party.

use droppin_client::{Chain, ChainError, Protocol};
use droppin_coordinator::{
    DRAW_WINDOW_SLOTS, Phase, absences_close, absences_over, could_sit, has_quorum, phase,
    settlement_open,
};
use droppin_interface::{
    hash::Sha256,
    sortition::drawn,
    state::{AppealResolution, FailReason, Round, RoundStatus, Seat, SeatStatus},
};
use droppin_storage::BlobStore;
use solana_address::Address;
use solana_keypair::Keypair;

use crate::validator::tree_from_list;

/// What one call to [`advance`] did, or what the round waits for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Recorded the round's seed anchor during the reveals (no reveal had yet).
    Anchored,
    /// Drew the committee of this level.
    Drew(u8),
    /// Reported this many validators drawn for the committee of this level that never took
    /// their seats.
    ReportedAbsent {
        /// The committee.
        level: u8,
        /// How many were reported.
        count: usize,
    },
    /// Pinned the first committee's verdict.
    Finalized,
    /// Posted the leaves of the verdict judged at this level.
    Posted(u8),
    /// Ended the appeal.
    Resolved(AppealResolution),
    /// Failed the round at a timeout.
    Failed(FailReason),
    /// The first committee reached no quorum: the round may be escalated (`dpin appeal`) until
    /// this slot, and fails after it.
    Stalled {
        /// The end of the escalation window.
        until: u64,
    },
    /// Nothing to do before this slot.
    Waiting {
        /// What the round waits for.
        what: &'static str,
        /// When it may move again.
        until: u64,
    },
    /// Everyone may settle now.
    SettlementOpen,
}

/// Does the next thing the round needs that anyone may do, or says what it waits for.
pub fn advance<C: Chain>(
    protocol: &mut Protocol<C>,
    payer: &Keypair,
    store: &dyn BlobStore,
    round_address: &Address,
) -> anyhow::Result<Step> {
    let round = protocol.round(round_address)?;
    let slot = protocol.chain.slot()?;
    for level in 0..2 {
        let count = report_absences(protocol, payer, round_address, &round, level, slot)?;
        if count > 0 {
            return Ok(Step::ReportedAbsent { level, count });
        }
    }
    match round.status {
        RoundStatus::Failed if settlement_open(&round, slot) => Ok(Step::SettlementOpen),
        RoundStatus::Failed => Ok(Step::Waiting {
            what: "the absence reports",
            until: absences_over(&round),
        }),
        RoundStatus::Open => advance_open(protocol, payer, round_address, &round, slot),
        RoundStatus::Finalized => {
            advance_finalized(protocol, payer, store, round_address, &round, slot)
        }
    }
}

fn crank<C: Chain>(
    protocol: &mut Protocol<C>,
    payer: &Keypair,
    round_address: &Address,
) -> anyhow::Result<Step> {
    protocol.crank_timeout(payer, round_address)?;
    Ok(Step::Failed(protocol.round(round_address)?.failure))
}

fn advance_open<C: Chain>(
    protocol: &mut Protocol<C>,
    payer: &Keypair,
    round_address: &Address,
    round: &Round,
    slot: u64,
) -> anyhow::Result<Step> {
    let d = round.deadlines;
    let committee = round.committees[0];
    let waiting = |what, until| Ok(Step::Waiting { what, until });
    match phase(round, slot) {
        Phase::Training => waiting("training", d.commit),
        Phase::Reveal if round.counts.nodes_joined == 0 => crank(protocol, payer, round_address),
        // The first reveal records the anchor; if none came yet, anyone may while it is there.
        Phase::Reveal if !round.anchor.recorded && slot <= d.commit + DRAW_WINDOW_SLOTS => {
            match protocol.draw_committee(payer, round_address, 0) {
                // Landed after the reveals closed, the same instruction drew the committee.
                Ok(_) if protocol.round(round_address)?.committees[0].drawn => Ok(Step::Drew(0)),
                Ok(_) => Ok(Step::Anchored),
                Err(_) if protocol.round(round_address)?.anchor.recorded => {
                    waiting("the node reveals", d.reveal)
                }
                Err(e) => Err(e.into()),
            }
        }
        Phase::Reveal => waiting("the node reveals", d.reveal),
        _ if round.counts.nodes_joined == 0 || round.counts.nodes_revealed == 0 => {
            crank(protocol, payer, round_address)
        }
        // The draw has a window after the reveals (unanchored, it falls back to the slot before
        // their deadline while the SlotHashes sysvar holds it); after it the round can only fail.
        Phase::Validation if !committee.drawn && slot <= d.reveal + DRAW_WINDOW_SLOTS => {
            protocol.draw_committee(payer, round_address, 0)?;
            Ok(Step::Drew(0))
        }
        Phase::Validation | Phase::VoteReveal if !committee.drawn => {
            crank(protocol, payer, round_address)
        }
        Phase::Validation => waiting("the committee's sealed votes", d.validation),
        // A draw that seated nobody has no verdict to escalate: the round fails and refunds.
        Phase::VoteReveal | Phase::Settlement if committee.seats == 0 => {
            crank(protocol, payer, round_address)
        }
        Phase::VoteReveal => waiting("the committee's vote reveals", d.vote_reveal),
        Phase::Settlement if round.appeal.filed() => {
            advance_appeal(protocol, payer, round_address, round, slot)
        }
        Phase::Settlement => {
            let winner = committee
                .leader()
                .filter(|t| has_quorum(round, &committee, t.votes));
            match winner {
                Some(tally) => {
                    let voter = seat_with(protocol, round_address, 0, &tally.digest)?;
                    protocol.finalize_round(payer, round_address, &voter)?;
                    Ok(Step::Finalized)
                }
                // Without a quorum, anyone may escalate the round to the appeal's committee
                // until the window closes; only then does it fail.
                None if slot < round.escalation_deadline() => Ok(Step::Stalled {
                    until: round.escalation_deadline(),
                }),
                None => crank(protocol, payer, round_address),
            }
        }
    }
}

/// The appeal's committee: drawn from the slot after the appeal, then resolved after its
/// reveals.
fn advance_appeal<C: Chain>(
    protocol: &mut Protocol<C>,
    payer: &Keypair,
    round_address: &Address,
    round: &Round,
    slot: u64,
) -> anyhow::Result<Step> {
    let committee = round.committees[1];
    if !committee.drawn
        && slot >= committee.draw_slot
        && slot <= committee.draw_slot + DRAW_WINDOW_SLOTS
        && slot < committee.vote_deadline
        && protocol.draw_committee(payer, round_address, 1).is_ok()
    {
        return Ok(Step::Drew(1));
    }
    if slot < committee.reveal_deadline {
        return Ok(Step::Waiting {
            what: "the appeal's committee",
            until: if !committee.drawn && slot < committee.draw_slot {
                committee.draw_slot
            } else {
                committee.reveal_deadline
            },
        });
    }
    let leader = committee
        .leader()
        .filter(|t| has_quorum(round, &committee, t.votes));
    let voter = match leader {
        Some(t) if round.status == RoundStatus::Open || t.digest != round.outcome.digest => {
            Some(seat_with(protocol, round_address, 1, &t.digest)?)
        }
        _ => None,
    };
    protocol.resolve_appeal(payer, round_address, voter.as_ref())?;
    Ok(Step::Resolved(
        protocol.round(round_address)?.appeal.resolution,
    ))
}

/// Reports every registered validator drawn for committee `level` that never took its seat
/// (the program takes its penalty and pays the reporter a bounty), while absences may be
/// reported; returns how many landed. Those the program would refuse (the funder, the round's
/// nodes, for an appeal its appellant and the first committee) are left out, and a report that
/// fails (another keeper was first, the payer is short) is skipped: reports never hold up the
/// round's own steps.
fn report_absences<C: Chain>(
    protocol: &mut Protocol<C>,
    payer: &Keypair,
    round_address: &Address,
    round: &Round,
    level: u8,
    slot: u64,
) -> anyhow::Result<usize> {
    let committee = round.committee(level);
    if !committee.drawn || slot < committee.vote_deadline || slot >= absences_close(round, level) {
        return Ok(0);
    }
    let nodes: Vec<[u8; 32]> = protocol
        .round_nodes(round_address)?
        .iter()
        .map(|n| n.node)
        .collect();
    let seats = protocol.round_seats(round_address)?;
    let sits = |key: &[u8; 32], at: u8| seats.iter().any(|s| &s.validator == key && s.level == at);
    let mut reported = 0;
    for bond in protocol.bonds()? {
        let key = bond.validator;
        let conflicted = key == round.funder
            || nodes.contains(&key)
            || (level == 1 && (key == round.appeal.appellant || sits(&key, 0)));
        // One whose bond never covered the seat's lock could not sit: it is not absent.
        if conflicted
            || sits(&key, level)
            || !drawn::<Sha256>(round, &key, &bond, level)
            || !could_sit(round, level, &bond)
        {
            continue;
        }
        let validator = Address::new_from_array(key);
        if protocol
            .report_absent(payer, round_address, &validator, level)
            .is_ok()
        {
            reported += 1;
        }
    }
    Ok(reported)
}

/// A seat of committee `level` that revealed `digest`.
fn seat_with<C: Chain>(
    protocol: &Protocol<C>,
    round_address: &Address,
    level: u8,
    digest: &[u8; 32],
) -> anyhow::Result<Address> {
    protocol
        .round_seats(round_address)?
        .into_iter()
        .find(|s: &Seat| {
            s.level == level && s.status == SeatStatus::Revealed && &s.digest == digest
        })
        .map(|s| Address::new_from_array(s.validator))
        .ok_or_else(|| anyhow::anyhow!("no open seat revealed the leading verdict"))
}

fn advance_finalized<C: Chain>(
    protocol: &mut Protocol<C>,
    payer: &Keypair,
    store: &dyn BlobStore,
    round_address: &Address,
    round: &Round,
    slot: u64,
) -> anyhow::Result<Step> {
    let level = round.outcome.level;
    if round.outcome.leaves_complete_slot == 0 {
        if slot >= round.post_deadline(level) {
            return crank(protocol, payer, round_address);
        }
        // Anyone holding the verdict list can post its leaves; the program checks them.
        return match tree_from_list(store, round_address, &round.outcome.vote) {
            Ok(tree) => {
                protocol.post_verdict(payer, round_address, level, &tree)?;
                Ok(Step::Posted(level))
            }
            Err(_) => Ok(Step::Waiting {
                what: "the verdict's leaves",
                until: slot + 1,
            }),
        };
    }
    let appeal = round.appeal;
    if appeal.filed() && appeal.resolution == AppealResolution::None {
        return advance_appeal(protocol, payer, round_address, round, slot);
    }
    if settlement_open(round, slot) {
        Ok(Step::SettlementOpen)
    } else {
        let until = round
            .appeal_deadline()
            .unwrap_or(slot + 1)
            .max(absences_over(round))
            .max(slot + 1);
        Ok(Step::Waiting {
            what: "the appeal window and the absence reports",
            until,
        })
    }
}

/// Whether the program refused a step [`advance`] sent. Anyone may move a round, so this is
/// what a keeper sees when another got there first: the caller looks again rather than stops.
pub fn refused(error: &anyhow::Error) -> bool {
    matches!(
        error.downcast_ref::<ChainError>(),
        Some(ChainError::Program { .. })
    )
}

/// Consecutive refused steps [`drive_to_settlement`] tolerates: others send the same
/// permissionless steps, and the one that lands second is refused.
const RACES: usize = 20;

/// Advances the round until everyone may settle, waiting for slots as needed.
pub fn drive_to_settlement<C: Chain>(
    protocol: &mut Protocol<C>,
    payer: &Keypair,
    store: &dyn BlobStore,
    round_address: &Address,
    mut on_step: impl FnMut(&Step),
) -> anyhow::Result<()> {
    let mut races = 0;
    loop {
        let step = match advance(protocol, payer, store, round_address) {
            Ok(step) => {
                races = 0;
                step
            }
            // Someone else drew, finalized, posted or resolved first: look again.
            Err(error) if races < RACES && refused(&error) => {
                races += 1;
                let slot = protocol.chain.slot()?;
                protocol.chain.wait_for_slot(slot + 1)?;
                continue;
            }
            Err(error) => return Err(error),
        };
        on_step(&step);
        match step {
            Step::SettlementOpen => return Ok(()),
            Step::Waiting { until, .. } | Step::Stalled { until } => {
                protocol.chain.wait_for_slot(until)?
            }
            _ => {}
        }
    }
}

/// Who could not be settled, and why.
#[derive(Debug, Default)]
pub struct Unsettled(pub Vec<String>);

/// Settles every node, seat, the appeal and every contribution, then closes the round. Each is
/// settled on its own: one that cannot be settled yet does not stop the others.
pub fn settle_everyone<C: Chain>(
    protocol: &mut Protocol<C>,
    settler: &Keypair,
    round_address: &Address,
) -> anyhow::Result<Unsettled> {
    let mut left = Vec::new();
    for state in protocol.round_nodes(round_address)? {
        let node = Address::new_from_array(state.node);
        if let Err(error) = protocol.settle_node(settler, round_address, &node) {
            left.push(format!("node {node}: {error}"));
        }
    }
    // The first committee settles before the appeal's bond (its forfeits fund the reward).
    let mut seats = protocol.round_seats(round_address)?;
    seats.sort_by_key(|s| s.level);
    for seat in seats {
        let validator = Address::new_from_array(seat.validator);
        if let Err(error) = protocol.settle_seat(settler, round_address, &validator, seat.level) {
            left.push(format!("seat of {validator}: {error}"));
        }
    }
    let round = protocol.round(round_address)?;
    if round.appeal.filed()
        && !round.appeal.settled
        && let Err(error) = protocol.settle_appeal(settler, round_address)
    {
        left.push(format!("appeal: {error}"));
    }
    for contribution in protocol.round_contributions(round_address)? {
        let payer = Address::new_from_array(contribution.payer);
        if let Err(error) = protocol.refund_contribution(settler, round_address, &payer) {
            left.push(format!("contribution of {payer}: {error}"));
        }
    }
    if left.is_empty() {
        match protocol.close_round(settler, round_address) {
            Ok(_) | Err(ChainError::Account(_)) => {}
            Err(error) => left.push(format!("close: {error}")),
        }
    }
    Ok(Unsettled(left))
}
