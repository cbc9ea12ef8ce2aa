//! Random rounds on the real program: the registry, drawn seats, sealed votes (honest, dishonest
//! or missing), escalations, appeals, withheld leaves, timeouts, and settlement in any order.
//! Whatever happens, every lamport (and $dPIN unit, with half the registry bonded in $dPIN) is
//! accounted for, every node keeps its floor, every bond ends free and every round closes.

use droppin_coordinator::bps_of;
use droppin_interface::{
    LAMPORTS_PER_SOL, builders,
    instruction::VerdictVote,
    pda::find,
    state::{AppealResolution, Currency, RoundStatus, dpin_covering},
    verdict::{Leaf, Outcome, VerdictTree},
};
use droppin_tests::{DPIN, Dpin, Harness, Node, RoundRun, STAKE, accepted, leaf};
use proptest::prelude::*;
use solana_keypair::Keypair;
use solana_signer::Signer;

/// What a validator does when drawn.
#[derive(Clone, Copy, Debug)]
enum Seat {
    Honest,
    Dishonest,
    Silent,
    Away,
}

fn seat() -> impl Strategy<Value = Seat> {
    prop_oneof![
        6 => Just(Seat::Honest),
        2 => Just(Seat::Dishonest),
        1 => Just(Seat::Silent),
        1 => Just(Seat::Away),
    ]
}

#[derive(Clone, Debug)]
struct Plan {
    reveals: Vec<bool>,
    seats: Vec<Seat>,
    appeal: bool,
    withhold: bool,
    order: Vec<usize>,
}

fn plan() -> impl Strategy<Value = Plan> {
    (
        prop::collection::vec(prop::bool::weighted(0.8), 1..=6),
        prop::collection::vec(seat(), 8),
        any::<bool>(),
        prop::bool::weighted(0.1),
        Just(()),
    )
        .prop_flat_map(|(reveals, seats, appeal, withhold, ())| {
            let n = reveals.len();
            (
                Just(reveals),
                Just(seats),
                Just(appeal),
                Just(withhold),
                Just((0..n).collect::<Vec<usize>>()).prop_shuffle(),
            )
        })
        .prop_map(|(reveals, seats, appeal, withhold, order)| Plan {
            reveals,
            seats,
            appeal,
            withhold,
            order,
        })
}

/// The honest verdict (revealed nodes accepted, equal weights) and a dishonest one (all slashed).
fn verdicts(
    run: &RoundRun,
    reveals: &[bool],
) -> ((VerdictTree, VerdictVote), (VerdictTree, VerdictVote)) {
    let revealed = reveals.iter().filter(|r| **r).count() as u16;
    let mut left = 10_000u16;
    let honest: Vec<Leaf> = reveals
        .iter()
        .map(|&r| {
            if !r {
                return leaf(Outcome::NoShow, 0);
            }
            let w = 10_000 / revealed;
            left -= w;
            accepted(w)
        })
        .collect();
    let mut honest = honest;
    if let Some(first) = honest.iter_mut().find(|l| l.outcome == Outcome::Accepted) {
        first.weight_bps += left;
    }
    let dishonest: Vec<Leaf> = reveals
        .iter()
        .map(|&r| leaf(if r { Outcome::Slashed } else { Outcome::NoShow }, 0))
        .collect();
    (run.verdict(&honest), run.verdict(&dishonest))
}

/// Seats the drawn validators of `level` and has them vote as planned (honest ones the first
/// vote); returns the seats taken.
fn sit<'v>(
    h: &mut Harness,
    run: &RoundRun,
    level: u8,
    validators: &'v [Keypair],
    plan: &Plan,
    votes: (VerdictVote, VerdictVote),
) -> Vec<&'v Keypair> {
    if run.draw(h, level).is_err() {
        return Vec::new();
    }
    let drawn = run.drawn(h, validators, level);
    let mut sitting = Vec::new();
    for v in drawn {
        let i = validators
            .iter()
            .position(|k| k.pubkey() == v.pubkey())
            .unwrap();
        let vote = match plan.seats[i] {
            Seat::Away => continue,
            Seat::Silent => None,
            Seat::Honest => Some(votes.0),
            Seat::Dishonest => Some(votes.1),
        };
        if run.seat(h, v, level).is_ok() {
            if let Some(vote) = vote {
                run.seal(h, v, level, &vote).unwrap();
            }
            sitting.push((v, vote));
        }
    }
    h.warp(run.state(h).committee(level).vote_deadline);
    for (v, vote) in &sitting {
        if let Some(vote) = vote {
            run.open_vote(h, v, level, vote).unwrap();
        }
    }
    h.warp(run.state(h).committee(level).reveal_deadline);
    sitting.into_iter().map(|(v, _)| v).collect()
}

/// A seat of `level` that revealed the leading verdict.
fn voter<'v>(h: &Harness, run: &RoundRun, level: u8, seats: &[&'v Keypair]) -> Option<&'v Keypair> {
    let digest = run.state(h).committee(level).leader()?.digest;
    seats.iter().copied().find(|v| {
        h.state::<droppin_interface::state::Seat>(&find::seat(
            &h.program,
            &run.round,
            &v.pubkey(),
            level,
        ))
        .is_some_and(|s| s.digest == digest)
    })
}

/// Eight validators bonding 5 SOL's worth each: in SOL, or (with $dPIN launched) half in SOL
/// and half in $dPIN.
fn registry(h: &mut Harness, dpin: Option<&Dpin>) -> Vec<Keypair> {
    let Some(dpin) = dpin else {
        return h.validators(8, 5);
    };
    let mut validators = h.validators(4, 5);
    let price = h
        .state::<droppin_interface::state::ProtocolConfig>(&find::config(&h.program))
        .unwrap()
        .params
        .swap
        .reference_price;
    let bond = dpin_covering(5 * LAMPORTS_PER_SOL, price);
    for _ in 0..4 {
        let v = h.funded(2);
        dpin.give(h, &v.pubkey(), bond);
        let ix = builders::register_dpin_validator(
            &h.program,
            &v.pubkey(),
            bond,
            &dpin.mint,
            &dpin.account(&v.pubkey()),
        );
        h.send(&[ix], &[&v]).unwrap();
        validators.push(v);
    }
    let slot = h.slot();
    h.warp(slot + 1);
    validators
}

fn play(plan: Plan, token: bool) {
    let mut h = Harness::new();
    let dpin = token.then(|| Dpin::launch(&mut h));
    let validators = registry(&mut h, dpin.as_ref());
    let supply = dpin.as_ref().map(|d| d.supply(&h));
    let bonded_dpin = h.registry().total_dpin_bond;
    let amount = 1_000 * DPIN;
    let run = match &dpin {
        Some(dpin) => dpin.open_round(&mut h, amount),
        None => RoundRun::open(&mut h, LAMPORTS_PER_SOL, |_| {}),
    };
    let nodes: Vec<Node> = (0..plan.reveals.len())
        .map(|i| Node::new(&mut h, i as u8 + 1))
        .collect();
    if let Some(dpin) = &dpin {
        for node in &nodes {
            dpin.give(&mut h, &node.address(), STAKE);
        }
        dpin.give(&mut h, &run.funder.pubkey(), 0);
        for v in &validators {
            dpin.give(&mut h, &v.pubkey(), 0);
        }
    }
    let node_refs: Vec<&Node> = nodes.iter().collect();
    let ledger = run.ledger(&h, &node_refs, &validators);
    let start = h.total(&ledger) + h.fees_paid();
    for node in &nodes {
        match &dpin {
            Some(dpin) => {
                dpin.join_and_commit(&mut h, &run, node);
            }
            None => run.join_and_commit(&mut h, node),
        }
    }
    h.warp(run.deadlines.commit);
    for (node, reveal) in nodes.iter().zip(&plan.reveals) {
        if *reveal {
            run.reveal(&mut h, node).unwrap();
        }
    }
    let ((honest_tree, honest), (dishonest_tree, dishonest)) = verdicts(&run, &plan.reveals);
    let tree_of = |vote: &VerdictVote| {
        if *vote == honest {
            honest_tree.clone()
        } else {
            dishonest_tree.clone()
        }
    };
    let crank = builders::crank_timeout(&h.program, &run.round);
    let mut first = Vec::new();
    if plan.reveals.iter().any(|r| *r) {
        first = sit(&mut h, &run, 0, &validators, &plan, (honest, dishonest));
        h.warp(run.deadlines.vote_reveal);
        if let Some(v) = voter(&h, &run, 0, &first)
            && run.finalize(&mut h, v).is_ok()
        {
            let vote = run.state(&h).outcome.vote;
            if !plan.withhold {
                run.post(&mut h, v, 0, &tree_of(&vote)).unwrap();
            }
        }
    }
    let round = run.state(&h);
    let mut second = Vec::new();
    let appealable = (round.status == RoundStatus::Finalized
        && round.outcome.leaves_complete_slot > 0)
        || (round.status == RoundStatus::Open
            && round.committees[0].seats > 0
            && round.committees[0].drawn);
    if plan.appeal && appealable {
        let appellant = &nodes[0];
        h.send(
            &[builders::appeal(
                &h.program,
                &appellant.address(),
                &run.round,
            )],
            &[&appellant.key],
        )
        .unwrap();
        let rest: Vec<Keypair> = validators
            .iter()
            .filter(|v| !first.iter().any(|f| f.pubkey() == v.pubkey()))
            .map(|v| v.insecure_clone())
            .collect();
        let seated = sit(&mut h, &run, 1, &rest, &plan, (honest, dishonest));
        second = seated
            .iter()
            .map(|s| {
                validators
                    .iter()
                    .find(|v| v.pubkey() == s.pubkey())
                    .unwrap()
            })
            .collect();
        let cited = voter(&h, &run, 1, &second).map(|v| v.pubkey());
        h.send(
            &[builders::resolve_appeal(
                &h.program,
                &run.round,
                cited.as_ref(),
            )],
            &[&run.funder],
        )
        .unwrap();
        let round = run.state(&h);
        if matches!(
            round.appeal.resolution,
            AppealResolution::Overturned | AppealResolution::Decided
        ) && !plan.withhold
        {
            run.post(&mut h, &run.funder, 1, &tree_of(&round.outcome.vote))
                .unwrap();
        }
    }
    // Fail whatever timed out, then wait out every window.
    let round = run.state(&h);
    h.warp(
        round
            .post_deadline(round.outcome.level)
            .max(round.escalation_deadline())
            .max(round.deadlines.reveal + 600),
    );
    let _ = h.send(std::slice::from_ref(&crank), &[&run.funder]);
    run.wait_out_appeals(&mut h);
    let round = run.state(&h);
    assert_ne!(round.status, RoundStatus::Open, "every round ends");
    let stake = round.node_stake;
    let slash = bps_of(stake, round.terms.slash_bps);
    for &i in &plan.order {
        let node = &nodes[i];
        let before = h.balance(&node.address());
        let rent = h.balance(&find::node(&h.program, &run.round, &node.address()))
            + h.balance(&find::cid_marker(&h.program, &run.round, &node.cid));
        match &dpin {
            Some(dpin) => {
                dpin.settle_node(&mut h, &run, node).unwrap();
                assert!(dpin.balance_of(&h, &node.address()) >= stake - slash);
            }
            None => {
                run.settle_node(&mut h, node).unwrap();
                let received = h.balance(&node.address()) + 5_000 - before - rent;
                assert!(received >= stake - slash, "node {i} kept its floor");
            }
        }
    }
    for (level, seats) in [(0u8, &first), (1, &second)] {
        for v in seats.iter() {
            match &dpin {
                Some(dpin) => dpin.settle_seat(&mut h, &run, v, level).unwrap(),
                None => run.settle_seat(&mut h, v, &v.pubkey(), level).unwrap(),
            };
        }
    }
    match &dpin {
        Some(dpin) => {
            let round = run.state(&h);
            if round.appeal.filed() {
                let appellant = solana_address::Address::new_from_array(round.appeal.appellant);
                let ix = builders::settle_appeal(&h.program, &run.round, &appellant);
                h.send(&[ix], &[&run.funder]).unwrap();
            }
            dpin.close(&mut h, &run).unwrap();
            // Every token is held (by a wallet or a bond) or burned, and the supply fell by
            // exactly the burn.
            let burned = supply.unwrap() - dpin.supply(&h);
            let bonds: u64 = validators
                .iter()
                .map(|v| dpin.balance(&h, &find::bond_token(&h.program, &v.pubkey())))
                .sum();
            let held: u64 = nodes
                .iter()
                .map(|n| n.address())
                .chain(validators.iter().map(Keypair::pubkey))
                .chain([run.funder.pubkey()])
                .map(|owner| dpin.balance_of(&h, &owner))
                .sum();
            assert_eq!(
                held + bonds + burned,
                amount + nodes.len() as u64 * STAKE + bonded_dpin
            );
            assert_eq!(
                bonds,
                h.registry().total_dpin_bond,
                "bond books match their tokens"
            );
            let treasury = h.treasury();
            assert_eq!(treasury.totals.dpin_burned, burned);
        }
        None => {
            run.settle_appeal_and_close(&mut h).unwrap();
        }
    }
    assert!(
        h.state::<droppin_interface::state::Round>(&run.round)
            .is_none()
    );
    assert_eq!(
        h.total(&ledger) + h.fees_paid(),
        start,
        "not a lamport created or lost"
    );
    for v in &validators {
        let bond = h.bond(&v.pubkey());
        assert_eq!(
            (bond.locked, bond.open_seats),
            (0, 0),
            "every bond ends free"
        );
    }
    for currency in [Currency::Sol, Currency::Dpin] {
        let bonded: u64 = validators
            .iter()
            .map(|v| h.bond(&v.pubkey()))
            .filter(|b| b.currency == currency)
            .map(|b| b.bond)
            .sum();
        assert_eq!(*h.registry().total_mut(currency), bonded);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn random_rounds_conserve_lamports_free_every_bond_and_close(plan in plan()) {
        play(plan, false);
    }

    #[test]
    fn random_token_rounds_conserve_tokens_burn_exactly_and_close(plan in plan()) {
        play(plan, true);
    }
}
