//! A round's committees and its appeal as the node and rounds pages show them: drawn by bond
//! from the registry after the reveals (nobody picks it), the seed and the slot hash under it,
//! the vote state, the appeal window and what an appeal decided.

use droppin_coordinator::{anchor_wanted, resolution_name};
use droppin_interface::{
    availability::availability_deadline,
    state::{Round, RoundStatus},
};
use leptos::prelude::*;
use solana_address::Address;

use crate::connect::short;
use crate::rounds::sol;

/// The slot hash that seeds committee `level` at `slot`, in words.
fn seed_source(round: &Round, level: u8, slot: u64) -> String {
    let anchor = &round.anchor;
    let (commit, reveal) = (round.deadlines.commit, round.deadlines.reveal);
    if level == 1 {
        let after_appeal = round.appeal.filed_slot.saturating_add(1);
        return format!(
            "the hash of slot {after_appeal}, the slot after the appeal (or of the appeal's own, if it was skipped)"
        );
    }
    if anchor.recorded {
        let when = if anchor.slot < commit {
            "taken before training closed, when no salt was public"
        } else {
            "nobody recorded the anchor in time, so the slot before the reveals closed was taken"
        };
        return format!(
            "the hash of slot {} ({}...; {when})",
            anchor.slot,
            &hex::encode(anchor.hash)[..12]
        );
    }
    match anchor_wanted(round, slot) {
        Some(before) if before == reveal => format!(
            "the hash of the last slot before {reveal} (nobody recorded the anchor before training closed in time)"
        ),
        _ => format!(
            "the hash of the last slot before {commit}, when training closed and no salt was public"
        ),
    }
}

/// The vote state of one committee in words.
fn committee_line(name: &str, round: &Round, level: u8, slot: u64) -> String {
    let committee = round.committee(level);
    if !committee.drawn {
        return format!(
            "{name}: {} seats expected, to be drawn by bond from the registry ({}'s worth bonded, in SOL and $dPIN) from slot {}, seeded by the nodes' revealed salts and {}; nobody can know it before then (now {slot}).",
            committee.expected,
            sol(committee.bonded_total),
            committee.draw_slot,
            seed_source(round, level, slot)
        );
    }
    let leading = committee
        .leader()
        .map(|t| {
            format!(
                " Leading verdict {}...: {} votes.",
                &hex::encode(t.digest)[..12],
                t.votes
            )
        })
        .unwrap_or_default();
    format!(
        "{name}: drawn, not picked, from seed {}... ({}); {} seats taken, each locking {}'s worth of bond; {} absent or excused (locked in other seats). Seats report which updates they fetched until slot {} (the committee judges what most fetched); sealed votes until slot {}, revealed until {}: {} revealed.{leading}",
        &hex::encode(committee.seed)[..16],
        seed_source(round, level, slot),
        committee.seats,
        sol(committee.seat_lock),
        committee.absent,
        availability_deadline(committee),
        committee.vote_deadline,
        committee.reveal_deadline,
        committee.revealed
    )
}

/// What the pages say about `round`'s committees and appeal at `slot`, one line each.
pub fn committee_lines(round: &Round, slot: u64) -> Vec<String> {
    let mut lines = vec![committee_line("Committee", round, 0, slot)];
    let appeal = &round.appeal;
    if appeal.filed() || round.committees[1].drawn {
        lines.push(committee_line("Appeal committee", round, 1, slot));
    }
    if appeal.filed() {
        let who = short(&Address::new_from_array(appeal.appellant).to_string());
        let how = resolution_name(appeal.resolution).unwrap_or("pending");
        lines.push(format!(
            "Appealed by {who} at slot {} with a bond of {}: {how}.",
            appeal.filed_slot,
            sol(appeal.bond)
        ));
    } else if let Some(end) = round.appeal_deadline() {
        lines.push(if slot < end {
            format!(
                "Appeal window open until slot {end} (now {slot}): anyone who finds the verdict wrong may appeal with a bond of {}; a larger committee judges it again.",
                sol(round.committees[0].seat_lock)
            )
        } else {
            format!("The appeal window closed at slot {end}: the verdict stands.")
        });
    }
    if round.status == RoundStatus::Finalized {
        let vote = &round.outcome.vote;
        lines.push(format!(
            "Verdict in force (committee {}): {} accepted, {} excluded, {} slashed, {} no-shows; {}.",
            round.outcome.level,
            vote.accepted,
            vote.excluded,
            vote.slashed,
            vote.no_shows,
            match round.outcome.leaves_complete_slot {
                0 => "its leaves are being posted".to_owned(),
                at => format!("its leaves were all on-chain at slot {at}"),
            }
        ));
    }
    lines
}

/// The committee panel.
#[component]
pub fn Committee(round: Round, now: u64) -> impl IntoView {
    view! {
        <div class="panel" id="committee">
            <h3>"Who judges this round"</h3>
            <ul class="committee">
                {committee_lines(&round, now).into_iter().map(|line| view! { <li>{line}</li> }).collect_view()}
            </ul>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use droppin_interface::state::{AppealResolution, Round, RoundStatus, SeedAnchor};

    use super::committee_lines;

    fn round() -> Round {
        let mut round = Round::default();
        round.committees[0].expected = 5;
        round.committees[0].draw_slot = 300;
        round.deadlines.commit = 250;
        round.committees[0].seat_lock = 2_000_000_000;
        round.terms.appeal_window_slots = 100;
        round
    }

    #[test]
    fn before_the_draw_nobody_knows_the_committee() {
        let lines = committee_lines(&round(), 120);
        assert_eq!(lines.len(), 1);
        assert!(lines[0].contains("to be drawn by bond"), "{}", lines[0]);
        assert!(lines[0].contains("from slot 300"), "{}", lines[0]);
        assert!(
            lines[0].contains("the last slot before 250, when training closed"),
            "{}",
            lines[0]
        );
    }

    #[test]
    fn an_anchor_nobody_recorded_in_time_is_named_as_the_fallback() {
        let mut round = round();
        round.deadlines.reveal = 300;
        let lines = committee_lines(&round, 320);
        assert!(
            lines[0].contains("the last slot before 300 (nobody recorded the anchor"),
            "{}",
            lines[0]
        );
        round.anchor = SeedAnchor {
            recorded: true,
            slot: 299,
            hash: [1; 32],
        };
        let lines = committee_lines(&round, 320);
        assert!(
            lines[0].contains("the hash of slot 299") && lines[0].contains("nobody recorded"),
            "{}",
            lines[0]
        );
    }

    #[test]
    fn a_drawn_committee_shows_its_seed_and_votes() {
        let mut round = round();
        let first = &mut round.committees[0];
        (first.drawn, first.seed, first.seats, first.revealed) = (true, [0xab; 32], 4, 3);
        first.tallies[0].votes = 3;
        round.anchor = SeedAnchor {
            recorded: true,
            slot: 249,
            hash: [0xcd; 32],
        };
        let lines = committee_lines(&round, 400);
        assert!(
            lines[0].contains("drawn, not picked, from seed abababab")
                && lines[0].contains("the hash of slot 249 (cdcdcdcd"),
            "{}",
            lines[0]
        );
        assert!(lines[0].contains("4 seats taken"), "{}", lines[0]);
        assert!(lines[0].contains("fetched until slot"), "{}", lines[0]);
        assert!(
            lines[0].contains("3 revealed. Leading verdict"),
            "{}",
            lines[0]
        );
    }

    #[test]
    fn the_appeal_window_and_its_outcome() {
        let mut round = round();
        round.status = RoundStatus::Finalized;
        round.outcome.leaves_complete_slot = 500;
        let open = committee_lines(&round, 550);
        assert!(
            open.iter()
                .any(|l| l.contains("Appeal window open until slot 600")),
            "{open:?}"
        );
        assert!(
            open.iter().any(|l| l.contains("bond of 2.0000 SOL")),
            "{open:?}"
        );
        let closed = committee_lines(&round, 600);
        assert!(
            closed.iter().any(|l| l.contains("closed at slot 600")),
            "{closed:?}"
        );
        round.appeal.appellant = [4; 32];
        round.appeal.filed_slot = 620;
        round.appeal.resolution = AppealResolution::Overturned;
        let appealed = committee_lines(&round, 650);
        assert!(
            appealed.iter().any(|l| l.starts_with("Appeal committee")
                && l.contains("the hash of slot 621, the slot after the appeal")),
            "{appealed:?}"
        );
        assert!(
            appealed.iter().any(|l| l.ends_with("overturned.")),
            "{appealed:?}"
        );
    }
}
