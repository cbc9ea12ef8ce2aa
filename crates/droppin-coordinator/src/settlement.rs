//! When a round's participants may settle, and the bounty for settling others.

use droppin_interface::state::{AppealResolution, Round, RoundStatus};

use crate::bps_of;

/// Share of a settled account's returned rent paid to a third party who settles it: enough to
/// make cranking other people's settlements worth a transaction, so nothing waits on its owner.
pub const SETTLE_BOUNTY_BPS: u16 = 2_000;

/// Whether nodes and seats may settle: the round failed, or its verdict is in force for good:
/// its leaves are all on-chain and it can no longer be appealed (the window closed unused, or
/// the appeal was resolved and, if it overturned the verdict, the new leaves are posted). In
/// either case only once every drawn committee's absences can no longer be reported, so no
/// record an absence report relies on is closed while one may come.
pub fn settlement_open(round: &Round, slot: u64) -> bool {
    if slot < absences_over(round) {
        return false;
    }
    match round.status {
        RoundStatus::Open => false,
        RoundStatus::Failed => true,
        RoundStatus::Finalized => {
            let posted = round.outcome.leaves_complete_slot > 0;
            let appeal = &round.appeal;
            match appeal.resolution {
                AppealResolution::None if appeal.filed() => false,
                AppealResolution::None => {
                    posted && round.appeal_deadline().is_some_and(|end| slot >= end)
                }
                AppealResolution::Confirmed
                | AppealResolution::Overturned
                | AppealResolution::Decided => posted,
                AppealResolution::Unresolved => false,
            }
        }
    }
}

/// The first slot at which no absence of any drawn committee of the round can be reported.
pub fn absences_over(round: &Round) -> u64 {
    (0..2)
        .filter(|&level| round.committee(level).drawn)
        .map(|level| crate::committee::absences_close(round, level))
        .max()
        .unwrap_or(0)
}

/// Whether every node and seat of the round has settled (and the appeal, if any).
pub(crate) fn all_settled(round: &Round) -> bool {
    let c = &round.counts;
    c.nodes_settled == c.nodes_joined
        && round.committees.iter().all(|k| k.unsettled() == 0)
        && (!round.appeal.filed() || round.appeal.settled)
}

/// Splits an account's returned rent between its owner and a third-party settler.
pub fn split_rent(rent: u64, settler_is_owner: bool) -> (u64, u64) {
    if settler_is_owner {
        (rent, 0)
    } else {
        let bounty = bps_of(rent, SETTLE_BOUNTY_BPS);
        (rent - bounty, bounty)
    }
}
