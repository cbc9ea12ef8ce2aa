//! A round's status at a glance, shared by the node page and the round's detail: its phase, when
//! that phase ends (in time and in slots), the pool, the nodes, the committee and the appeal.

use droppin_coordinator::{Phase, phase, phase_name, resolution_name, split_pool};
use droppin_interface::state::{Round, RoundStatus};
use leptos::prelude::*;

use crate::rounds::amount;

/// Seconds per slot the countdowns assume: the cluster's target (a busy cluster runs slower).
pub const SLOT_SECONDS: f64 = 0.4;

/// About how long `slots` slots take, in words.
pub fn duration(slots: u64) -> String {
    let seconds = (slots as f64 * SLOT_SECONDS).round() as u64;
    match seconds {
        0..=59 => format!("{seconds} s"),
        60..=3_599 => match seconds % 60 {
            0 => format!("{} min", seconds / 60),
            s => format!("{} min {s} s", seconds / 60),
        },
        _ => format!("{} h {} min", seconds / 3_600, seconds % 3_600 / 60),
    }
}

/// When `until` comes, seen from `now`: "in about 2 min 40 s (400 slots)".
pub fn countdown(now: u64, until: u64) -> String {
    match until.checked_sub(now) {
        Some(left) if left > 0 => format!("in about {} ({left} slots)", duration(left)),
        _ => "now".into(),
    }
}

/// The next deadline the round waits for, and what it closes.
pub fn next_deadline(round: &Round, slot: u64) -> Option<(&'static str, u64)> {
    let d = &round.deadlines;
    match round.status {
        RoundStatus::Failed => None,
        RoundStatus::Open => match phase(round, slot) {
            Phase::Training => Some(("Training ends", d.commit)),
            Phase::Reveal => Some(("Reveals end", d.reveal)),
            Phase::Validation => Some(("Sealed votes end", d.validation)),
            Phase::VoteReveal => Some(("Vote reveals end", d.vote_reveal)),
            Phase::Settlement => None,
        },
        RoundStatus::Finalized if round.appeal.filed() => {
            let appeal = &round.committees[1];
            (slot < appeal.reveal_deadline)
                .then_some(("The appeal's votes end", appeal.reveal_deadline))
        }
        RoundStatus::Finalized => round
            .appeal_deadline()
            .filter(|end| slot < *end)
            .map(|end| ("The appeal window closes", end)),
    }
}

/// The first committee in a few words.
pub fn committee_summary(round: &Round) -> String {
    let committee = &round.committees[0];
    if !committee.drawn {
        return format!(
            "{} seats expected, drawn after the reveals",
            committee.expected
        );
    }
    format!(
        "drawn: {} seats taken of {} expected, {} votes revealed",
        committee.seats, committee.expected, committee.revealed
    )
}

/// The appeal in a few words.
pub fn appeal_summary(round: &Round, slot: u64) -> String {
    let appeal = &round.appeal;
    match (appeal.filed(), resolution_name(appeal.resolution)) {
        (_, Some(resolution)) => format!("resolved: {resolution}"),
        (true, None) => "filed: an appeal committee judges again".into(),
        (false, None) => match round.appeal_deadline() {
            Some(end) if slot < end => "open to anyone who bonds a seat's lock".into(),
            Some(_) => "window closed".into(),
            None if round.status == RoundStatus::Finalized => {
                "opens once the leaves are posted".into()
            }
            None => "after the verdict".into(),
        },
    }
}

/// What an accepted node can expect when every node is accepted with an equal share: its stake
/// back plus the nodes' part of the pool split evenly, `(least, most)`: split among as many
/// nodes as the round admits, or among those joined so far (with this one, unless `joined`).
/// The verdict's weights decide the real figure.
pub fn expected_payout(round: &Round, joined: bool) -> (u64, u64) {
    let nodes_pool =
        split_pool(round.pool, round.terms.validator_share_bps).map_or(0, |(_, nodes)| nodes);
    let sharing = round.counts.nodes_joined + u32::from(!joined);
    let share = |nodes: u32| round.node_stake + nodes_pool / u64::from(nodes.max(1));
    (share(round.max_nodes.max(sharing)), share(sharing))
}

/// The round's status at slot `now`, as a definition list.
#[component]
pub fn RoundStatusPanel(round: Round, now: u64) -> impl IntoView {
    let name = phase_name(&round, now);
    let next = next_deadline(&round, now).map(|(what, until)| {
        view! {
            <div><dt>{what}</dt><dd id="countdown">{countdown(now, until)}</dd></div>
        }
    });
    view! {
        <dl class="status" id="round-status">
            <div><dt>"Round"</dt><dd>{format!("#{}", round.id)}</dd></div>
            <div><dt>"Phase"</dt><dd><span class=format!("badge {name}") id="phase">{name}</span></dd></div>
            {next}
            <div><dt>"Pool"</dt><dd>{amount(&round, round.pool)}</dd></div>
            <div><dt>"Nodes"</dt><dd>{format!(
                "{} of {} joined, {} revealed",
                round.counts.nodes_joined, round.max_nodes, round.counts.nodes_revealed
            )}</dd></div>
            <div><dt>"Committee"</dt><dd>{committee_summary(&round)}</dd></div>
            <div><dt>"Appeal"</dt><dd>{appeal_summary(&round, now)}</dd></div>
            <div><dt>"Slot"</dt><dd>{now}</dd></div>
        </dl>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round() -> Round {
        let mut round = Round::default();
        round.deadlines.commit = 100;
        round.deadlines.reveal = 200;
        round.deadlines.validation = 300;
        round.deadlines.vote_reveal = 400;
        round.committees[0].expected = 3;
        round
    }

    #[test]
    fn durations_read_in_the_largest_useful_units() {
        assert_eq!(duration(10), "4 s");
        assert_eq!(duration(150), "1 min");
        assert_eq!(duration(400), "2 min 40 s");
        assert_eq!(duration(10_000), "1 h 6 min");
        assert_eq!(countdown(0, 400), "in about 2 min 40 s (400 slots)");
        assert_eq!(countdown(500, 400), "now");
    }

    #[test]
    fn each_phase_names_the_deadline_it_waits_for() {
        let round = round();
        assert_eq!(next_deadline(&round, 10), Some(("Training ends", 100)));
        assert_eq!(next_deadline(&round, 150), Some(("Reveals end", 200)));
        assert_eq!(next_deadline(&round, 350), Some(("Vote reveals end", 400)));
        assert_eq!(next_deadline(&round, 450), None);
        let mut finalized = round.clone();
        finalized.status = RoundStatus::Finalized;
        finalized.outcome.leaves_complete_slot = 420;
        finalized.terms.appeal_window_slots = 50;
        assert_eq!(
            next_deadline(&finalized, 430),
            Some(("The appeal window closes", 470))
        );
        assert_eq!(next_deadline(&finalized, 480), None);
        assert_eq!(appeal_summary(&finalized, 480), "window closed");
    }

    #[test]
    fn an_even_share_of_the_nodes_pool_on_top_of_the_stake() {
        let mut round = round();
        round.pool = 1_000;
        round.node_stake = 20;
        round.terms.validator_share_bps = 2_000;
        round.counts.nodes_joined = 4;
        round.max_nodes = 8;
        assert_eq!(expected_payout(&round, true), (20 + 100, 20 + 200));
        assert_eq!(
            expected_payout(&round, false),
            (20 + 100, 20 + 160),
            "a node about to join shares with the four already in"
        );
        assert_eq!(
            committee_summary(&round),
            "3 seats expected, drawn after the reveals"
        );
    }
}
