//! Committees nobody chooses, on the real program: the registry, the draw, sealed votes,
//! absences and appeals, each rule with the attack it stops.

use droppin_cli::keeper::{Step, advance};
use droppin_client::{Chain, embedded_slot_hash};
use droppin_coordinator::bps_of;
use droppin_interface::{
    DropPinError, LAMPORTS_PER_SOL,
    availability::{AVAILABILITY_BYTES, Availability, availability_deadline, majority},
    builders,
    hash::{Hasher, Sha256},
    instruction::VerdictVote,
    pda::find,
    sortition,
    state::{AccountState, AppealResolution, FailReason, Round, RoundStatus, Seat, SeatStatus},
    verdict::{Leaf, Outcome, VerdictTree},
};
use droppin_tests::{Failure, Harness, Node, PHASE, RoundRun, accepted, leaf};
use solana_address::Address;
use solana_keypair::Keypair;
use solana_signer::Signer;

fn err(e: DropPinError) -> Result<u64, Failure> {
    Err(Failure::Program(e))
}

/// A round with `nodes` nodes that all join, commit and reveal.
fn revealed_round(
    h: &mut Harness,
    nodes: u8,
    tweak: impl FnOnce(&mut droppin_interface::instruction::OpenRoundArgs),
) -> (RoundRun, Vec<Node>) {
    let run = RoundRun::open(h, LAMPORTS_PER_SOL, tweak);
    let nodes: Vec<Node> = (1..=nodes).map(|t| Node::new(h, t)).collect();
    for node in &nodes {
        run.join_and_commit(h, node);
    }
    h.warp(run.deadlines.commit);
    for node in &nodes {
        run.reveal(h, node).unwrap();
    }
    (run, nodes)
}

/// A round whose one node joins and commits, with reveals open for 1,000 slots: longer than the
/// SlotHashes sysvar reaches back.
fn long_reveal_round(h: &mut Harness) -> (RoundRun, Node) {
    let run = RoundRun::open(h, LAMPORTS_PER_SOL, |args| {
        args.reveal = args.commit + 1_000;
        args.validation = args.reveal + PHASE;
    });
    let node = Node::new(h, 1);
    run.join_and_commit(h, &node);
    (run, node)
}

/// The honest verdict over `n` nodes (equal weights) and a dishonest one slashing them all.
fn verdicts(run: &RoundRun, n: usize) -> ((VerdictTree, VerdictVote), (VerdictTree, VerdictVote)) {
    let weight = 10_000 / n as u16;
    let mut honest: Vec<Leaf> = (0..n).map(|_| accepted(weight)).collect();
    honest[0].weight_bps += 10_000 - weight * n as u16;
    let slashed: Vec<Leaf> = (0..n).map(|_| leaf(Outcome::Slashed, 0)).collect();
    (run.verdict(&honest), run.verdict(&slashed))
}

#[test]
fn the_funder_and_the_nodes_cannot_sit_on_their_committee() {
    let mut h = Harness::new();
    let funder = h.funded(1_000);
    let node = Node::new(&mut h, 1);
    h.chain
        .airdrop(&node.address(), 200 * LAMPORTS_PER_SOL)
        .unwrap();
    // The funder and a node register large bonds, so they are drawn for certain.
    for key in [&funder, &node.key] {
        let ix = builders::register_validator(&h.program, &key.pubkey(), 100 * LAMPORTS_PER_SOL);
        h.send(&[ix], &[key]).unwrap();
    }
    h.validators(3, 1);
    let run = RoundRun::open_by(&mut h, funder.insecure_clone(), LAMPORTS_PER_SOL, |_| {});
    run.join_and_commit(&mut h, &node);
    h.warp(run.deadlines.commit);
    run.reveal(&mut h, &node).unwrap();
    run.draw(&mut h, 0).unwrap();
    let both = [funder.insecure_clone(), node.key.insecure_clone()];
    assert_eq!(
        run.drawn(&h, &both, 0).len(),
        2,
        "both are drawn like anyone"
    );
    assert_eq!(
        run.seat(&mut h, &funder, 0),
        err(DropPinError::ConflictOfInterest)
    );
    assert_eq!(
        run.seat(&mut h, &node.key, 0),
        err(DropPinError::ConflictOfInterest)
    );
    // Nor can anyone report them absent: they had no right to the seat.
    let reporter = h.funded(1);
    h.warp(run.deadlines.validation);
    let ix = builders::report_absent(
        &h.program,
        &reporter.pubkey(),
        &run.round,
        &funder.pubkey(),
        0,
    );
    assert_eq!(
        h.send(&[ix], &[&reporter]),
        err(DropPinError::ConflictOfInterest)
    );
}

/// Salts for `count` nodes such that at least two of `colluders` are drawn for the first
/// committee (a search over the beacon: the embedded chain's slot hashes are known, and the
/// nodes reveal from the commit deadline, so the anchor is the slot before it).
fn salts_drawing(h: &Harness, run: &RoundRun, colluders: &[Keypair], count: u8) -> Vec<[u8; 32]> {
    let round: Round = run.state(h);
    let slot_hash = embedded_slot_hash(round.deadlines.commit - 1);
    for attempt in 0u32.. {
        let salts: Vec<[u8; 32]> = (0..count)
            .map(|i| Sha256::hashv(&[&attempt.to_le_bytes(), &[i]]))
            .collect();
        let mut beacon = [0u8; 32];
        for salt in &salts {
            sortition::fold_beacon::<Sha256>(&mut beacon, salt);
        }
        let seed = sortition::seed::<Sha256>(&run.round.to_bytes(), 0, &beacon, &slot_hash);
        let drawn = colluders
            .iter()
            .filter(|c| {
                let bond = h.bond(&c.pubkey());
                let ticket = sortition::ticket::<Sha256>(&seed, &c.pubkey().to_bytes());
                sortition::is_selected(ticket, bond.bond, round.committees[0].bonded_total, 3)
            })
            .count();
        if drawn >= 2 {
            return salts;
        }
    }
    unreachable!()
}

#[test]
fn thirty_percent_of_the_bond_colluding_with_the_funder_cannot_get_honest_nodes_slashed() {
    let mut h = Harness::new();
    // Ten validators of equal bond: three collude with the funder (30% of the bond).
    let validators = h.validators(10, 10);
    let (colluders, honest) = validators.split_at(3);
    let run = RoundRun::open(&mut h, LAMPORTS_PER_SOL, |_| {});
    // Suppose the draw gives the colluders two seats and the honest drawn validators stay
    // away: the colluders hold the first committee's quorum.
    let salts = salts_drawing(&h, &run, colluders, 4);
    let nodes: Vec<Node> = salts
        .iter()
        .enumerate()
        .map(|(i, salt)| {
            let mut node = Node::new(&mut h, i as u8 + 1);
            node.salt = *salt;
            node
        })
        .collect();
    for node in &nodes {
        run.join_and_commit(&mut h, node);
    }
    h.warp(run.deadlines.commit);
    for node in &nodes {
        run.reveal(&mut h, node).unwrap();
    }
    let ((honest_tree, honest_vote), (forged_tree, forged_vote)) = verdicts(&run, 4);
    run.draw(&mut h, 0).unwrap();
    let seated = run.drawn(&h, colluders, 0);
    assert!(seated.len() >= 2);
    let votes: Vec<_> = seated.iter().map(|c| (*c, Some(forged_vote))).collect();
    run.judge(&mut h, 0, &votes);
    run.finalize(&mut h, seated[0]).unwrap();
    run.post(&mut h, seated[0], 0, &forged_tree).unwrap();
    assert_eq!(
        run.state(&h).outcome.vote.slashed,
        4,
        "the captive verdict slashes everyone"
    );

    // An honest node appeals, bonding one seat's lock.
    let lock = run.state(&h).committees[0].seat_lock;
    let appellant = &nodes[0];
    let appellant_before = h.balance(&appellant.address());
    let ix = builders::appeal(&h.program, &appellant.address(), &run.round);
    h.send(&[ix], &[&appellant.key]).unwrap();
    assert_eq!(run.state(&h).appeal.bond, lock);
    // The appeal's committee: 7 seats expected, drawn from the hash of the slot after the
    // appeal, which nobody knew while the first committee voted; the first committee cannot sit
    // on it.
    run.draw(&mut h, 1).unwrap();
    let state = run.state(&h);
    let after_appeal = embedded_slot_hash(state.appeal.filed_slot + 1);
    assert_eq!(
        state.committees[1].seed,
        sortition::seed::<Sha256>(&run.round.to_bytes(), 1, &state.beacon, &after_appeal)
    );
    for c in &seated {
        if run.drawn(&h, std::slice::from_ref(*c), 1).len() == 1 {
            assert_eq!(
                run.seat(&mut h, c, 1),
                err(DropPinError::ConflictOfInterest)
            );
        }
    }
    let others: Vec<&Keypair> = colluders
        .iter()
        .filter(|c| !seated.iter().any(|s| s.pubkey() == c.pubkey()))
        .collect();
    let mut votes: Vec<(&Keypair, Option<VerdictVote>)> = run
        .drawn(&h, honest, 1)
        .into_iter()
        .map(|v| (v, Some(honest_vote)))
        .collect();
    let free_colluders: Vec<Keypair> = others.iter().map(|k| k.insecure_clone()).collect();
    for c in run.drawn(&h, &free_colluders, 1) {
        votes.push((c, Some(forged_vote)));
    }
    run.judge(&mut h, 1, &votes);
    let payer = h.funded(1);
    let voter = votes
        .iter()
        .find(|(_, v)| *v == Some(honest_vote))
        .unwrap()
        .0
        .pubkey();
    h.send(
        &[builders::resolve_appeal(
            &h.program,
            &run.round,
            Some(&voter),
        )],
        &[&payer],
    )
    .unwrap();
    assert_eq!(
        run.state(&h).appeal.resolution,
        AppealResolution::Overturned
    );
    run.post(&mut h, &payer, 1, &honest_tree).unwrap();

    // Honest nodes are paid in full.
    run.wait_out_appeals(&mut h);
    let round = run.state(&h);
    let stake = round.node_stake;
    for node in &nodes {
        let received = run.settle_node_paid(&mut h, node);
        assert!(
            received >= stake + round.outcome.node_pool / 4 - 1,
            "{received}"
        );
    }
    // The colluders who sat lose their whole lock; the appellant gets its bond and a reward.
    for c in &seated {
        let before = h.bond(&c.pubkey()).bond;
        run.settle_seat(&mut h, c, &c.pubkey(), 0).unwrap();
        assert_eq!(
            before - h.bond(&c.pubkey()).bond,
            lock,
            "a captive seat loses its lock"
        );
    }
    for (v, vote) in &votes {
        let before = h.bond(&v.pubkey()).bond;
        run.settle_seat(&mut h, v, &v.pubkey(), 1).unwrap();
        if *vote == Some(honest_vote) {
            assert_eq!(h.bond(&v.pubkey()).bond, before);
        }
    }
    run.settle_appeal_and_close(&mut h).unwrap();
    let gain = h.balance(&appellant.address()) as i128 - appellant_before as i128;
    assert!(
        gain > (stake as i128),
        "the appellant's reward exceeds its costs: {gain}"
    );
    let lost: u64 = seated.len() as u64 * lock;
    let at_risk = round.pool + 4 * bps_of(stake, round.terms.slash_bps);
    assert!(
        lost > at_risk,
        "the captive quorum lost {lost}, more than the {at_risk} at stake"
    );
}

#[test]
fn the_undrawn_the_late_and_forged_bonds_cannot_take_a_seat() {
    let mut h = Harness::new();
    let validators = h.validators(10, 5);
    let (run, _) = revealed_round(&mut h, 2, |_| {});
    let late = h.funded(200);
    let ix = builders::register_validator(&h.program, &late.pubkey(), 100 * LAMPORTS_PER_SOL);
    h.send(&[ix], &[&late]).unwrap();
    assert_eq!(
        run.seat(&mut h, &validators[0], 0),
        err(DropPinError::NotYetDrawn)
    );
    run.draw(&mut h, 0).unwrap();
    assert_eq!(run.seat(&mut h, &late, 0), err(DropPinError::NotEligible));
    let drawn = run.drawn(&h, &validators, 0);
    let undrawn = validators
        .iter()
        .find(|v| !drawn.iter().any(|d| d.pubkey() == v.pubkey()))
        .expect("some validator is not drawn");
    assert_eq!(run.seat(&mut h, undrawn, 0), err(DropPinError::NotSelected));
    // Someone else's bond does not make a seat.
    let mut ix = builders::claim_seat(&h.program, &undrawn.pubkey(), &run.round, 0);
    ix.accounts[3].pubkey = find::bond(&h.program, &drawn[0].pubkey());
    assert_eq!(
        h.send(&[ix], &[undrawn]),
        err(DropPinError::RecipientMismatch)
    );
    // Nor does a copy of a drawn bond owned by another program.
    let mut forged = h
        .chain
        .svm()
        .get_account(&find::bond(&h.program, &drawn[0].pubkey()))
        .unwrap();
    forged.owner = Address::new_unique();
    let fake = Address::new_unique();
    h.chain.svm_mut().set_account(fake, forged).unwrap();
    let mut ix = builders::claim_seat(&h.program, &drawn[0].pubkey(), &run.round, 0);
    ix.accounts[3].pubkey = fake;
    assert_eq!(
        h.send(&[ix], &[drawn[0]]),
        err(DropPinError::InvalidAccountOwner)
    );
    // Growing a bond after seeing the seed buys no seat in this round: the draw weighs the bond
    // as it stood when the round opened.
    h.chain
        .airdrop(&undrawn.pubkey(), 100 * LAMPORTS_PER_SOL)
        .unwrap();
    let ix = builders::top_up_bond(&h.program, &undrawn.pubkey(), 100 * LAMPORTS_PER_SOL);
    h.send(&[ix], &[undrawn]).unwrap();
    assert_eq!(run.seat(&mut h, undrawn, 0), err(DropPinError::NotSelected));
    run.seat(&mut h, drawn[1], 0).unwrap();
    assert_eq!(
        run.seat(&mut h, drawn[1], 0),
        err(DropPinError::AccountAlreadyInitialized)
    );
    h.warp(run.deadlines.validation);
    if let Some(third) = drawn.get(2) {
        assert_eq!(run.seat(&mut h, third, 0), err(DropPinError::SeatsClosed));
    }
}

#[test]
fn the_seed_is_anchored_before_any_salt_is_public_and_no_later_leader_can_move_it() {
    let mut h = Harness::new();
    h.validators(4, 5);
    let run = RoundRun::open(&mut h, LAMPORTS_PER_SOL, |_| {});
    let nodes: Vec<Node> = (1..=2).map(|t| Node::new(&mut h, t)).collect();
    for node in &nodes {
        run.join_and_commit(&mut h, node);
    }
    let commit = run.deadlines.commit;
    h.warp(commit + 1);
    let reveal = |node: &Node| {
        builders::reveal_update(
            &h.program,
            &node.address(),
            &run.round,
            node.cid,
            node.salt,
            100,
        )
    };
    let mut forged = reveal(&nodes[0]);
    forged.accounts[5].pubkey = Address::new_unique();
    assert_eq!(
        h.send(&[forged], &[&nodes[0].key]),
        err(DropPinError::InvalidSysvar),
        "a forged sysvar would let the revealer pick the anchor"
    );
    run.reveal(&mut h, &nodes[0]).unwrap();
    let anchor = run.state(&h).anchor;
    assert_eq!(
        (anchor.recorded, anchor.slot, anchor.hash),
        (true, commit - 1, embedded_slot_hash(commit - 1)),
        "the first reveal took the last slot before the commit deadline"
    );
    let payer = h.funded(1);
    let draw = builders::draw_committee(&h.program, &run.round, 0);
    assert_eq!(
        h.send(std::slice::from_ref(&draw), &[&payer]),
        err(DropPinError::SeedUnavailable),
        "nobody draws while salts may still be revealed"
    );
    h.warp(commit + 2);
    run.reveal(&mut h, &nodes[1]).unwrap();

    // Every leader from the commit deadline on, who saw the salts land, grinds its block: the
    // sysvar holds other hashes for all of their slots by the time anyone draws.
    h.warp(run.deadlines.reveal);
    h.chain.set_slot_hashes(|s| {
        Some(if s < commit {
            embedded_slot_hash(s)
        } else {
            [0xee; 32]
        })
    });
    let mut forged = draw.clone();
    forged.accounts[1].pubkey = Address::new_unique();
    assert_eq!(
        h.send(&[forged], &[&payer]),
        err(DropPinError::InvalidSysvar)
    );
    h.send(std::slice::from_ref(&draw), &[&payer]).unwrap();
    let round = run.state(&h);
    let expected = sortition::seed::<Sha256>(
        &run.round.to_bytes(),
        0,
        &round.beacon,
        &embedded_slot_hash(commit - 1),
    );
    assert_eq!(round.committees[0].seed, expected);
    assert_eq!(round.anchor, anchor, "the draw kept the anchor");
}

#[test]
fn anyone_anchors_a_round_whose_nodes_reveal_late_and_an_unanchored_one_falls_back() {
    let mut h = Harness::new();
    h.validators(4, 5);
    let payer = h.funded(1);
    let (anchored, early_node) = long_reveal_round(&mut h);
    let (unanchored, late_node) = long_reveal_round(&mut h);
    let commit = anchored.deadlines.commit;
    assert_eq!(unanchored.deadlines.commit, commit);
    // A keeper records the first round's anchor before any node reveals.
    h.warp(commit + 5);
    h.send(
        &[builders::draw_committee(&h.program, &anchored.round, 0)],
        &[&payer],
    )
    .unwrap();
    let state = anchored.state(&h);
    assert!(state.anchor.recorded && !state.committees[0].drawn);
    assert_eq!(state.anchor.hash, embedded_slot_hash(commit - 1));

    // Both nodes reveal once the sysvar no longer reaches back to the commit deadline.
    h.warp(commit + 600);
    assert!(commit + 600 < anchored.deadlines.reveal);
    anchored.reveal(&mut h, &early_node).unwrap();
    unanchored.reveal(&mut h, &late_node).unwrap();
    assert!(
        !unanchored.state(&h).anchor.recorded,
        "too late to record, not refused"
    );
    assert_eq!(
        h.send(
            &[builders::draw_committee(&h.program, &unanchored.round, 0)],
            &[&payer]
        ),
        err(DropPinError::SeedUnavailable)
    );

    anchored.draw(&mut h, 0).unwrap();
    unanchored.draw(&mut h, 0).unwrap();
    let reveal = anchored.deadlines.reveal;
    let (first, second) = (anchored.state(&h), unanchored.state(&h));
    assert_eq!(first.anchor.slot, commit - 1);
    assert_eq!(
        (second.anchor.slot, second.anchor.hash),
        (reveal - 1, embedded_slot_hash(reveal - 1)),
        "unanchored, the draw falls back to the slot before the reveal deadline"
    );

    // Anchored or not, a committee nobody drew within its window is never drawn (it would have
    // too little of its validation phase left): the round fails and refunds.
    let (stale, node) = long_reveal_round(&mut h);
    h.warp(stale.deadlines.commit + 1);
    stale.reveal(&mut h, &node).unwrap();
    assert!(stale.state(&h).anchor.recorded);
    h.warp(stale.deadlines.reveal + 600);
    assert_eq!(
        h.send(
            &[builders::draw_committee(&h.program, &stale.round, 0)],
            &[&payer]
        ),
        err(DropPinError::SeedUnavailable)
    );
    h.send(
        &[builders::crank_timeout(&h.program, &stale.round)],
        &[&payer],
    )
    .unwrap();
    assert_eq!(stale.state(&h).failure, FailReason::NoCommittee);
}

#[test]
fn the_anchor_skips_a_skipped_slot_and_is_never_taken_past_the_sysvar_window() {
    let mut h = Harness::new();
    h.validators(4, 5);
    let (skipped, skipped_node) = long_reveal_round(&mut h);
    let (edge, edge_node) = long_reveal_round(&mut h);
    let (late, late_node) = long_reveal_round(&mut h);
    let commit = skipped.deadlines.commit;
    assert_eq!(
        (edge.deadlines.commit, late.deadlines.commit),
        (commit, commit)
    );

    // The leader of the last training slot skipped it: the slot before it anchors the seed.
    h.warp(commit + 1);
    h.chain
        .set_slot_hashes(|s| (s != commit - 1).then(|| embedded_slot_hash(s)));
    skipped.reveal(&mut h, &skipped_node).unwrap();
    let anchor = skipped.state(&h).anchor;
    assert_eq!(
        (anchor.slot, anchor.hash),
        (commit - 2, embedded_slot_hash(commit - 2))
    );

    // 511 slots on, the sysvar still reaches back past the commit deadline; at 512 it does not,
    // and the newest entry it holds before the deadline is no longer the last slot before it.
    h.warp(commit + 511);
    edge.reveal(&mut h, &edge_node).unwrap();
    assert_eq!(edge.state(&h).anchor.slot, commit - 1);
    h.warp(commit + 512);
    late.reveal(&mut h, &late_node).unwrap();
    assert!(!late.state(&h).anchor.recorded);
}

#[test]
fn sealed_votes_cannot_be_read_copied_or_changed() {
    let mut h = Harness::new();
    let validators = h.validators(6, 5);
    let (run, _) = revealed_round(&mut h, 2, |_| {});
    let ((_, honest), (_, forged)) = verdicts(&run, 2);
    run.draw(&mut h, 0).unwrap();
    let drawn = run.drawn(&h, &validators, 0);
    assert!(drawn.len() >= 3, "{} drawn", drawn.len());
    let (a, b) = (drawn[0], drawn[1]);
    run.seat(&mut h, a, 0).unwrap();
    run.seat(&mut h, b, 0).unwrap();
    run.seal(&mut h, a, 0, &honest).unwrap();
    // A vote whose counts do not cover the round's nodes is refused when it is opened.
    let mut miscounted = honest;
    miscounted.accepted += 1;
    let c = drawn.get(2).copied();
    if let Some(c) = c {
        run.seat(&mut h, c, 0).unwrap();
        run.seal(&mut h, c, 0, &miscounted).unwrap();
    }
    assert_eq!(
        run.open_vote(&mut h, a, 0, &honest),
        err(DropPinError::VoteRevealNotOpen),
        "nothing is revealed while others can still seal"
    );
    // b copies a's sealed vote byte for byte...
    let (sealed, salt) = run.sealed(a, 0, &honest);
    let ix = builders::commit_vote(&h.program, &b.pubkey(), &run.round, 0, sealed);
    h.send(&[ix], &[b]).unwrap();
    h.warp(run.deadlines.validation);
    run.open_vote(&mut h, a, 0, &honest).unwrap();
    // ...and, once a has revealed, cannot open it: the seal binds the validator's key.
    let ix = builders::reveal_vote(&h.program, &b.pubkey(), &run.round, 0, honest, salt);
    assert_eq!(
        h.send(&[ix], &[b]),
        err(DropPinError::VoteCommitmentMismatch)
    );
    assert_eq!(
        run.open_vote(&mut h, a, 0, &forged),
        err(DropPinError::VoteAlreadyRevealed)
    );
    if let Some(c) = c {
        assert_eq!(
            run.open_vote(&mut h, c, 0, &miscounted),
            err(DropPinError::VerdictCountMismatch)
        );
    }
    h.warp(run.deadlines.vote_reveal);
    assert_eq!(
        run.open_vote(&mut h, b, 0, &honest),
        err(DropPinError::VoteRevealClosed)
    );
}

#[test]
fn availability_is_reported_by_the_seat_itself_for_the_rounds_nodes_before_its_deadline() {
    let mut h = Harness::new();
    let validators = h.validators(6, 5);
    let (run, _) = revealed_round(&mut h, 3, |_| {});
    let report = |h: &mut Harness,
                  signer: &Keypair,
                  seat_of: &Keypair,
                  level: u8,
                  bits: Vec<u8>| {
        let mut ix =
            builders::report_availability(&h.program, &signer.pubkey(), &run.round, level, bits);
        ix.accounts[2].pubkey = find::seat(&h.program, &run.round, &seat_of.pubkey(), level);
        h.send(&[ix], &[signer])
    };
    run.draw(&mut h, 0).unwrap();
    let drawn = run.drawn(&h, &validators, 0);
    assert!(drawn.len() >= 2, "{} drawn", drawn.len());
    let (a, b) = (drawn[0], drawn[1]);
    assert!(
        report(&mut h, a, a, 0, vec![0b011]).is_err(),
        "no seat, no report"
    );
    run.seat(&mut h, a, 0).unwrap();
    run.seat(&mut h, b, 0).unwrap();
    report(&mut h, a, a, 0, vec![0b011]).unwrap();
    // A report is replaced until the deadline, and reads back from the seat.
    report(&mut h, a, a, 0, vec![0b101]).unwrap();
    let seat_address = find::seat(&h.program, &run.round, &a.pubkey(), 0);
    let data = h.chain.account(&seat_address).unwrap().unwrap().data;
    assert_eq!(
        Seat::load(&data).unwrap().fetched(&data),
        Availability::of([0, 2])
    );
    // b cannot write a's report, nor report at a level it does not sit.
    assert_eq!(
        report(&mut h, b, a, 0, vec![0b001]),
        err(DropPinError::RecipientMismatch)
    );
    assert!(report(&mut h, a, a, 1, vec![0b001]).is_err());
    assert_eq!(
        report(&mut h, b, b, 0, vec![0b1000]),
        err(DropPinError::InvalidAvailability),
        "node 3 never joined"
    );
    assert_eq!(
        report(&mut h, b, b, 0, vec![0; AVAILABILITY_BYTES + 1]),
        err(DropPinError::InvalidAvailability)
    );
    let deadline = availability_deadline(&run.state(&h).committees[0]);
    h.warp(deadline);
    assert_eq!(
        report(&mut h, b, b, 0, vec![0b001]),
        err(DropPinError::AvailabilityClosed),
        "reports close before the committee judges"
    );
    let reports: Vec<Availability> = [a, b]
        .iter()
        .filter_map(|v| {
            let address = find::seat(&h.program, &run.round, &v.pubkey(), 0);
            let data = h.chain.account(&address).unwrap().unwrap().data;
            let seat = Seat::load(&data).unwrap();
            seat.reported.then(|| seat.fetched(&data))
        })
        .collect();
    assert_eq!(reports, vec![Availability::of([0, 2])]);
    assert_eq!(
        majority(&reports, 2, 3),
        Availability::default(),
        "b never reported, so it counts as having fetched nothing: one seat of two is no majority"
    );
    // Both seats were taken before the deadline, and say so.
    for v in [a, b] {
        let address = find::seat(&h.program, &run.round, &v.pubkey(), 0);
        let seat: Seat = h.state(&address).unwrap();
        assert!(seat.claimed_slot < deadline, "{}", seat.claimed_slot);
    }
}

#[test]
fn a_silent_seat_and_an_absent_validator_are_slashed_by_anyone() {
    let mut h = Harness::new();
    let validators = h.validators(8, 5);
    let (run, nodes) = revealed_round(&mut h, 2, |args| args.committee_size = 5);
    let ((tree, honest), _) = verdicts(&run, 2);
    run.draw(&mut h, 0).unwrap();
    let drawn = run.drawn(&h, &validators, 0);
    assert!(drawn.len() >= 4, "{} drawn", drawn.len());
    let absent = drawn[drawn.len() - 1];
    let silent = drawn[drawn.len() - 2];
    let mut votes: Vec<_> = drawn[..drawn.len() - 2]
        .iter()
        .map(|v| (*v, Some(honest)))
        .collect();
    votes.push((silent, None));
    let stranger = h.funded(5);
    let report = builders::report_absent(
        &h.program,
        &stranger.pubkey(),
        &run.round,
        &absent.pubkey(),
        0,
    );
    assert_eq!(
        h.send(std::slice::from_ref(&report), &[&stranger]),
        err(DropPinError::NotAbsent),
        "absence is provable only once the seats are closed"
    );
    run.judge(&mut h, 0, &votes);
    let lock = run.state(&h).committees[0].seat_lock;
    let penalty = bps_of(lock, 5_000);
    // The absent validator: drawn, never seated; anyone proves it.
    let stranger_before = h.balance(&stranger.pubkey());
    let absent_before = h.bond(&absent.pubkey()).bond;
    h.send(std::slice::from_ref(&report), &[&stranger]).unwrap();
    assert_eq!(absent_before - h.bond(&absent.pubkey()).bond, penalty);
    assert!(
        h.balance(&stranger.pubkey()) > stranger_before - 5_000 - 2_000_000,
        "a bounty offsets the reporter's rent"
    );
    assert_eq!(
        h.send(&[report], &[&stranger]),
        err(DropPinError::NotAbsent)
    );
    let seated = builders::report_absent(
        &h.program,
        &stranger.pubkey(),
        &run.round,
        &silent.pubkey(),
        0,
    );
    assert_eq!(
        h.send(&[seated], &[&stranger]),
        err(DropPinError::NotAbsent)
    );
    let undrawn = validators
        .iter()
        .find(|v| !drawn.iter().any(|d| d.pubkey() == v.pubkey()));
    if let Some(undrawn) = undrawn {
        let ix = builders::report_absent(
            &h.program,
            &stranger.pubkey(),
            &run.round,
            &undrawn.pubkey(),
            0,
        );
        assert_eq!(h.send(&[ix], &[&stranger]), err(DropPinError::NotSelected));
    }
    run.finalize(&mut h, votes[0].0).unwrap();
    run.post(&mut h, votes[0].0, 0, &tree).unwrap();
    run.wait_out_appeals(&mut h);
    // The silent seat: settled by a stranger, who takes a bounty from its rent.
    let silent_before = h.bond(&silent.pubkey()).bond;
    let stranger_before = h.balance(&stranger.pubkey());
    run.settle_seat(&mut h, &stranger, &silent.pubkey(), 0)
        .unwrap();
    assert_eq!(silent_before - h.bond(&silent.pubkey()).bond, penalty);
    assert!(
        h.balance(&stranger.pubkey()) + 5_000 > stranger_before,
        "the settler's bounty"
    );
    for node in &nodes {
        run.settle_node(&mut h, node).unwrap();
    }
    for (v, _) in &votes[..votes.len() - 1] {
        run.settle_seat(&mut h, v, &v.pubkey(), 0).unwrap();
    }
    run.settle_seat(&mut h, &stranger, &absent.pubkey(), 0)
        .unwrap();
    run.close(&mut h).unwrap();
    for v in &validators {
        assert_eq!(h.bond(&v.pubkey()).locked, 0);
    }
}

#[test]
fn appeals_confirmed_late_twice_and_without_a_quorum_each_end_defined() {
    // Confirmed: a frivolous appeal pays the confirming committee and the treasury.
    let mut h = Harness::new();
    let validators = h.validators(12, 5);
    let (run, nodes) = revealed_round(&mut h, 2, |_| {});
    let ((tree, honest), _) = verdicts(&run, 2);
    run.draw(&mut h, 0).unwrap();
    let first = run.drawn(&h, &validators, 0);
    let votes: Vec<_> = first.iter().map(|v| (*v, Some(honest))).collect();
    run.judge(&mut h, 0, &votes);
    run.finalize(&mut h, first[0]).unwrap();
    let appellant = h.funded(10);
    let appeal = builders::appeal(&h.program, &appellant.pubkey(), &run.round);
    assert_eq!(
        h.send(std::slice::from_ref(&appeal), &[&appellant]),
        err(DropPinError::AppealClosed),
        "no appeal before the verdict's leaves are posted"
    );
    run.post(&mut h, first[0], 0, &tree).unwrap();
    let before = h.balance(&appellant.pubkey());
    h.send(std::slice::from_ref(&appeal), &[&appellant])
        .unwrap();
    let other = h.funded(10);
    let again = builders::appeal(&h.program, &other.pubkey(), &run.round);
    assert_eq!(
        h.send(&[again], &[&other]),
        err(DropPinError::AlreadyAppealed)
    );
    run.draw(&mut h, 1).unwrap();
    let rest: Vec<Keypair> = validators
        .iter()
        .filter(|v| !first.iter().any(|f| f.pubkey() == v.pubkey()))
        .map(|v| v.insecure_clone())
        .collect();
    let second = run.drawn(&h, &rest, 1);
    let votes1: Vec<_> = second.iter().map(|v| (*v, Some(honest))).collect();
    run.judge(&mut h, 1, &votes1);
    let payer = h.funded(1);
    h.send(
        &[builders::resolve_appeal(&h.program, &run.round, None)],
        &[&payer],
    )
    .unwrap();
    assert_eq!(run.state(&h).appeal.resolution, AppealResolution::Confirmed);
    run.wait_out_appeals(&mut h);
    for node in &nodes {
        run.settle_node(&mut h, node).unwrap();
    }
    for (level, seats) in [(0u8, &first), (1, &second)] {
        for v in seats.iter() {
            run.settle_seat(&mut h, v, &v.pubkey(), level).unwrap();
        }
    }
    let bond = run.state(&h).appeal.bond;
    run.settle_appeal_and_close(&mut h).unwrap();
    assert!(
        before - h.balance(&appellant.pubkey()) >= bond,
        "the appellant lost its bond"
    );

    // Too late, and without a quorum.
    let mut h = Harness::new();
    let validators = h.validators(12, 5);
    let (run, nodes) = revealed_round(&mut h, 2, |_| {});
    let ((tree, honest), _) = verdicts(&run, 2);
    run.draw(&mut h, 0).unwrap();
    let first = run.drawn(&h, &validators, 0);
    let votes: Vec<_> = first.iter().map(|v| (*v, Some(honest))).collect();
    run.judge(&mut h, 0, &votes);
    run.finalize(&mut h, first[0]).unwrap();
    run.post(&mut h, first[0], 0, &tree).unwrap();
    let appellant = h.funded(10);
    let appeal = builders::appeal(&h.program, &appellant.pubkey(), &run.round);
    let deadline = run.state(&h).appeal_deadline().unwrap();
    h.warp(deadline);
    assert_eq!(
        h.send(std::slice::from_ref(&appeal), &[&appellant]),
        err(DropPinError::AppealClosed)
    );
    let _ = nodes;

    let mut h = Harness::new();
    let validators = h.validators(12, 5);
    let (run, nodes) = revealed_round(&mut h, 2, |_| {});
    let ((tree, honest), _) = verdicts(&run, 2);
    run.draw(&mut h, 0).unwrap();
    let first = run.drawn(&h, &validators, 0);
    let votes: Vec<_> = first.iter().map(|v| (*v, Some(honest))).collect();
    run.judge(&mut h, 0, &votes);
    run.finalize(&mut h, first[0]).unwrap();
    run.post(&mut h, first[0], 0, &tree).unwrap();
    let appellant = h.funded(10);
    let before = h.balance(&appellant.pubkey());
    h.send(
        &[builders::appeal(
            &h.program,
            &appellant.pubkey(),
            &run.round,
        )],
        &[&appellant],
    )
    .unwrap();
    // The appeal's committee takes its seats and never votes.
    run.draw(&mut h, 1).unwrap();
    let rest: Vec<Keypair> = validators
        .iter()
        .filter(|v| !first.iter().any(|f| f.pubkey() == v.pubkey()))
        .map(|v| v.insecure_clone())
        .collect();
    let silent: Vec<_> = run
        .drawn(&h, &rest, 1)
        .into_iter()
        .map(|v| (v, None))
        .collect();
    run.judge(&mut h, 1, &silent);
    let payer = h.funded(1);
    h.send(
        &[builders::resolve_appeal(&h.program, &run.round, None)],
        &[&payer],
    )
    .unwrap();
    let round = run.state(&h);
    assert_eq!(round.appeal.resolution, AppealResolution::Unresolved);
    assert_eq!(
        (round.status, round.failure),
        (RoundStatus::Failed, FailReason::AppealUnresolved)
    );
    run.wait_out_appeals(&mut h);
    let stake = round.node_stake;
    for node in &nodes {
        assert_eq!(
            run.settle_node_paid(&mut h, node),
            stake,
            "a void round refunds"
        );
    }
    for (level, seats) in [
        (0u8, first.clone()),
        (1, silent.iter().map(|(v, _)| *v).collect()),
    ] {
        for v in seats {
            run.settle_seat(&mut h, v, &v.pubkey(), level).unwrap();
        }
    }
    run.settle_appeal_and_close(&mut h).unwrap();
    assert!(
        before - h.balance(&appellant.pubkey()) < 100_000,
        "an unresolved appeal returns the bond"
    );
}

#[test]
fn bonds_unbond_after_the_delay_and_locked_bonds_stay() {
    let mut h = Harness::new();
    let small = h.funded(10);
    let ix = builders::register_validator(&h.program, &small.pubkey(), LAMPORTS_PER_SOL / 2);
    assert_eq!(h.send(&[ix], &[&small]), err(DropPinError::BondTooSmall));
    let validators = h.validators(4, 5);
    let (run, _) = revealed_round(&mut h, 1, |_| {});
    run.draw(&mut h, 0).unwrap();
    let drawn = run.drawn(&h, &validators, 0);
    let v = drawn[0];
    run.seat(&mut h, v, 0).unwrap();
    let bond = h.bond(&v.pubkey());
    assert!(bond.locked > 0);
    let too_much = builders::unbond(&h.program, &v.pubkey(), bond.bond - bond.locked + 1);
    assert_eq!(h.send(&[too_much], &[v]), err(DropPinError::BondTooSmall));
    let total = h.registry().total_bond;
    let free = bond.bond - bond.locked;
    h.send(&[builders::unbond(&h.program, &v.pubkey(), free)], &[v])
        .unwrap();
    assert_eq!(
        h.registry().total_bond,
        total - free,
        "unbonding stops counting at once"
    );
    let withdraw = builders::withdraw_bond(&h.program, &v.pubkey());
    assert_eq!(
        h.send(std::slice::from_ref(&withdraw), &[v]),
        err(DropPinError::StillUnbonding)
    );
    let at = h.bond(&v.pubkey()).unbond_at;
    h.warp(at);
    let before = h.balance(&v.pubkey());
    h.send(&[withdraw], &[v]).unwrap();
    assert_eq!(h.balance(&v.pubkey()) + 5_000 - before, free);
    assert!(
        h.bond(&v.pubkey()).locked > 0,
        "the seat's lock stays until the seat settles"
    );
}

#[test]
fn a_drawn_validator_cannot_change_its_bond_out_of_its_absence_penalty() {
    let mut h = Harness::new();
    let unbonding = h
        .state::<droppin_interface::state::ProtocolConfig>(&find::config(&h.program))
        .unwrap()
        .params
        .committee
        .unbonding_slots;
    // A bond changes once after registering, then once per unbonding delay.
    let early = h.validators(1, 5).remove(0);
    let top_up = |h: &Harness, v: &Keypair| builders::top_up_bond(&h.program, &v.pubkey(), 1);
    h.send(&[top_up(&h, &early)], &[&early]).unwrap();
    let slot = h.slot();
    h.warp(slot + 1);
    assert_eq!(
        h.send(&[top_up(&h, &early)], &[&early]),
        err(DropPinError::BondChangeTooSoon)
    );
    h.warp(slot + unbonding);
    h.send(&[top_up(&h, &early)], &[&early]).unwrap();

    let validators = h.validators(8, 5);
    let (run, nodes) = revealed_round(&mut h, 2, |args| args.committee_size = 5);
    let ((tree, honest), _) = verdicts(&run, 2);
    run.draw(&mut h, 0).unwrap();
    let drawn = run.drawn(&h, &validators, 0);
    assert!(drawn.len() >= 5, "{} drawn", drawn.len());
    // Three drawn validators stay away; two of them, having seen the seed, try to change
    // their bond so that the draw no longer names them.
    let (away, sitting) = drawn.split_at(3);
    let (leaver, topper, late) = (away[0], away[1], away[2]);
    let free = h.bond(&leaver.pubkey()).free();
    h.send(
        &[builders::unbond(&h.program, &leaver.pubkey(), free)],
        &[leaver],
    )
    .unwrap();
    h.send(&[top_up(&h, topper)], &[topper]).unwrap();
    assert_eq!(
        run.drawn(&h, &validators, 0).len(),
        drawn.len(),
        "the round still draws on the bonds as they stood when it opened"
    );
    let votes: Vec<_> = sitting.iter().map(|v| (*v, Some(honest))).collect();
    run.judge(&mut h, 0, &votes);
    let penalty = bps_of(run.state(&h).committees[0].seat_lock, 5_000);
    let reporter = h.funded(5);
    let report = |h: &Harness, v: &Keypair| {
        builders::report_absent(&h.program, &reporter.pubkey(), &run.round, &v.pubkey(), 0)
    };
    // Unbonding after the draw dodges nothing: the penalty comes out of the unbonding amount.
    h.send(&[report(&h, leaver)], &[&reporter]).unwrap();
    let left = h.bond(&leaver.pubkey());
    assert_eq!((left.bond, left.unbonding), (0, free - penalty));
    let before = h.bond(&topper.pubkey()).bond;
    h.send(&[report(&h, topper)], &[&reporter]).unwrap();
    assert_eq!(before - h.bond(&topper.pubkey()).bond, penalty);
    run.finalize(&mut h, sitting[0]).unwrap();
    run.post(&mut h, sitting[0], 0, &tree).unwrap();
    // Absences are reported until the committee's leaves are due, not forever.
    let round = run.state(&h);
    h.warp(round.committees[0].reveal_deadline + round.terms.post_slots);
    assert_eq!(
        h.send(&[report(&h, late)], &[&reporter]),
        err(DropPinError::ReportClosed)
    );

    // The leaver withdraws what the penalty left and its bond closes; its absence record still
    // settles, so the round still closes.
    h.warp(left.unbond_at);
    let withdraw = builders::withdraw_bond(&h.program, &leaver.pubkey());
    h.send(&[withdraw], &[leaver]).unwrap();
    assert!(
        h.state::<droppin_interface::state::ValidatorBond>(&find::bond(
            &h.program,
            &leaver.pubkey()
        ))
        .is_none()
    );
    run.wait_out_appeals(&mut h);
    for node in &nodes {
        run.settle_node(&mut h, node).unwrap();
    }
    for v in sitting {
        run.settle_seat(&mut h, &reporter, &v.pubkey(), 0).unwrap();
    }
    for v in [leaver, topper] {
        run.settle_seat(&mut h, &reporter, &v.pubkey(), 0).unwrap();
    }
    run.settle_appeal_and_close(&mut h).unwrap();
}

#[test]
fn the_keeper_reports_each_drawn_validator_that_never_sat_once() {
    let mut h = Harness::new();
    let validators = h.validators(8, 5);
    let (run, _) = revealed_round(&mut h, 2, |args| args.committee_size = 5);
    let ((_, honest), _) = verdicts(&run, 2);
    run.draw(&mut h, 0).unwrap();
    let drawn = run.drawn(&h, &validators, 0);
    assert!(drawn.len() >= 4, "{} drawn", drawn.len());
    let (away, sitting) = drawn.split_at(2);
    let votes: Vec<_> = sitting.iter().map(|v| (*v, Some(honest))).collect();
    run.judge(&mut h, 0, &votes);
    let keeper = h.funded(5);
    let dir = tempfile::tempdir().unwrap();
    let store = droppin_storage::LocalStore::open(dir.path(), Default::default()).unwrap();
    let mut protocol = droppin_client::Protocol::new(h.chain);
    let step = advance(&mut protocol, &keeper, &store, &run.round).unwrap();
    assert_eq!(step, Step::ReportedAbsent { level: 0, count: 2 });
    for v in away {
        let record = protocol.seat(&run.round, &v.pubkey(), 0).unwrap();
        assert_eq!(record.map(|s| s.status), Some(SeatStatus::Absent));
    }
    let step = advance(&mut protocol, &keeper, &store, &run.round).unwrap();
    assert_eq!(
        step,
        Step::Finalized,
        "nobody is reported twice; the round moves on"
    );
}

/// The seat's lock grows with the stakes a round holds, which its funder sets. A funder that
/// staked a node of its own beyond every bond (its stake comes back when the round fails) left
/// every drawn validator unable to sit, then could report each absent for the bounty: half a
/// lock no bond covers took whole bonds. A validator drawn on a bond below the lock is not
/// absent, and the keeper does not report it.
#[test]
fn a_funder_staking_beyond_every_bond_cannot_have_the_committee_slashed() {
    let mut h = Harness::new();
    let validators = h.validators(6, 5);
    let run = RoundRun::open(&mut h, LAMPORTS_PER_SOL, |args| {
        args.node_stake = 60 * LAMPORTS_PER_SOL;
    });
    let sybil = Node {
        key: h.funded(100),
        cid: droppin_interface::Cid::from_digest(&[9; 32]),
        salt: [9; 32],
    };
    run.join_and_commit(&mut h, &sybil);
    h.warp(run.deadlines.commit);
    run.reveal(&mut h, &sybil).unwrap();
    run.draw(&mut h, 0).unwrap();
    let drawn = run.drawn(&h, &validators, 0);
    assert!(!drawn.is_empty());
    let lock = run.state(&h).committees[0].seat_lock;
    assert!(lock > 5 * LAMPORTS_PER_SOL, "a lock of {lock} lamports");
    for v in &drawn {
        assert_eq!(run.seat(&mut h, v, 0), err(DropPinError::InsufficientBond));
    }
    h.warp(run.state(&h).committees[0].vote_deadline);
    for v in &drawn {
        let report =
            builders::report_absent(&h.program, &run.funder.pubkey(), &run.round, &v.pubkey(), 0);
        assert_eq!(
            h.send(&[report], &[&run.funder]),
            err(DropPinError::SeatBeyondBond)
        );
        assert_eq!(h.bond(&v.pubkey()).bond, 5 * LAMPORTS_PER_SOL);
    }
    let keeper = h.funded(5);
    let dir = tempfile::tempdir().unwrap();
    let store = droppin_storage::LocalStore::open(dir.path(), Default::default()).unwrap();
    let mut protocol = droppin_client::Protocol::new(h.chain);
    let step = advance(&mut protocol, &keeper, &store, &run.round).unwrap();
    assert!(
        !matches!(step, Step::ReportedAbsent { .. }),
        "the keeper reports nobody: {step:?}"
    );
}

#[test]
fn a_round_cannot_settle_or_close_while_its_absences_may_be_reported() {
    let mut h = Harness::new();
    let validators = h.validators(8, 5);
    let (run, nodes) = revealed_round(&mut h, 2, |args| args.committee_size = 5);
    run.draw(&mut h, 0).unwrap();
    let drawn = run.drawn(&h, &validators, 0);
    assert!(!drawn.is_empty());
    // Nobody sits: at the vote deadline the round fails for want of a committee.
    let round = run.state(&h);
    h.warp(round.committees[0].vote_deadline);
    let crank = builders::crank_timeout(&h.program, &run.round);
    h.send(&[crank], &[&run.funder]).unwrap();
    assert_eq!(run.state(&h).status, RoundStatus::Failed);
    // The absentees (or their friends) cannot settle the nodes and close the round before
    // their absences are reported.
    assert_eq!(
        run.settle_node(&mut h, &nodes[0]),
        err(DropPinError::ClaimsNotOpen)
    );
    let reporter = h.funded(5);
    for v in &drawn {
        let ix =
            builders::report_absent(&h.program, &reporter.pubkey(), &run.round, &v.pubkey(), 0);
        h.send(&[ix], &[&reporter]).unwrap();
    }
    let close = droppin_coordinator::absences_close(&run.state(&h), 0);
    h.warp(close);
    for node in &nodes {
        run.settle_node(&mut h, node).unwrap();
    }
    for v in &drawn {
        run.settle_seat(&mut h, &reporter, &v.pubkey(), 0).unwrap();
    }
    run.settle_appeal_and_close(&mut h).unwrap();
}

/// A round of 2 revealed nodes judged by a committee of 31 expected seats (40 validators
/// bonding 5 SOL each), drawn: the run, its nodes, the honest verdict and the drawn validators.
fn large_committee(
    h: &mut Harness,
) -> (
    RoundRun,
    Vec<Node>,
    (VerdictTree, VerdictVote),
    Vec<Keypair>,
) {
    let validators = h.validators(40, 5);
    let (run, nodes) = revealed_round(h, 2, |args| args.committee_size = 31);
    let (honest, _) = verdicts(&run, 2);
    run.draw(h, 0).unwrap();
    let drawn = run
        .drawn(h, &validators, 0)
        .into_iter()
        .map(|k| k.insecure_clone())
        .collect();
    (run, nodes, honest, drawn)
}

/// `honest` with one byte of its root changed by `k`: a junk verdict no check refuses.
fn junk(honest: &VerdictVote, k: u8) -> VerdictVote {
    let mut vote = *honest;
    vote.leaves_root[0] ^= k + 1;
    vote
}

#[test]
fn junk_votes_revealed_first_leave_the_honest_verdict_its_tally() {
    // Eight seats of a 31-seat committee reveal eight junk verdicts (one byte of the root each)
    // before anyone else: the committee keeps eight tallies, and the honest reveals used to find
    // none left and count for nothing, so the round could never be finalized.
    let mut h = Harness::new();
    let (run, _, (_, honest), drawn) = large_committee(&mut h);
    let honest_seats = drawn.len() - 8;
    assert!(3 * honest_seats >= 2 * drawn.len(), "{} drawn", drawn.len());
    let votes: Vec<_> = drawn
        .iter()
        .zip(0u8..)
        .map(|(v, k)| (v, Some(if k < 8 { junk(&honest, k) } else { honest })))
        .collect();
    run.judge(&mut h, 0, &votes);
    let digest = honest.digest::<Sha256>();
    assert_eq!(
        usize::from(run.state(&h).committees[0].votes_for(&digest)),
        honest_seats
    );
    run.finalize(&mut h, &drawn[8]).unwrap();
    assert_eq!(run.state(&h).status, RoundStatus::Finalized);
    assert_eq!(run.state(&h).outcome.digest, digest);
}

#[test]
fn an_honest_vote_pushed_out_of_the_tally_is_still_paid_and_the_round_closes() {
    // The honest verdict's first vote, then eight junk verdicts: its tally gives way and that
    // vote is lost, so the verdict holds one vote fewer than the seats that revealed it. Split
    // by its tally, the validators' pool would run out before the last of them settled, and the
    // round could never close; split by the most seats that can have revealed it, every one is
    // paid and the pool is never overdrawn.
    let mut h = Harness::new();
    let (run, nodes, (tree, honest), drawn) = large_committee(&mut h);
    let votes: Vec<_> = drawn
        .iter()
        .zip(0u8..)
        .map(|(v, k)| {
            let vote = if (1..9).contains(&k) {
                junk(&honest, k)
            } else {
                honest
            };
            (v, Some(vote))
        })
        .collect();
    run.judge(&mut h, 0, &votes);
    let digest = honest.digest::<Sha256>();
    let committee = run.state(&h).committees[0];
    let honest_seats = drawn.len() - 8;
    assert_eq!(usize::from(committee.votes_for(&digest)), honest_seats - 1);
    assert_eq!(
        committee.untallied(),
        2,
        "the honest vote and one junk vote"
    );
    run.finalize(&mut h, &drawn[9]).unwrap();
    run.post(&mut h, &drawn[9], 0, &tree).unwrap();
    run.wait_out_appeals(&mut h);
    for node in &nodes {
        run.settle_node(&mut h, node).unwrap();
    }
    let pool = run.state(&h).outcome.validator_pool;
    let share = pool / (honest_seats as u64 + 1);
    for (v, vote) in &votes {
        let paid = |h: &Harness| run.state(h).outcome.validator_rewards_paid;
        let (before, bond) = (paid(&h), h.bond(&v.pubkey()).bond);
        run.settle_seat(&mut h, v, &v.pubkey(), 0).unwrap();
        if *vote == Some(honest) {
            assert_eq!(
                paid(&h) - before,
                share,
                "each honest seat, the lost vote's too"
            );
        } else {
            assert_eq!(paid(&h), before);
            assert!(
                h.bond(&v.pubkey()).bond < bond,
                "a junk vote pays its penalty"
            );
        }
    }
    let round = run.state(&h);
    assert_eq!(
        round.outcome.validator_rewards_paid,
        share * honest_seats as u64
    );
    assert!(round.outcome.validator_rewards_paid <= pool);
    run.close(&mut h).unwrap();
}

/// A funder opens a round nobody can judge (it pins a validation set no task's shipped data
/// gives), and joins a node of its own so that a committee is drawn. Before, every drawn
/// validator stayed away, unable to load the task, and the funder could report each absence and
/// take the bounty out of the half a seat's lock it slashed. Now each validator finds the round
/// unjudgeable, sits and votes the void verdict, which every honest validator computes alike:
/// the round finalizes, the seats are paid and keep their bonds, the node gets its stake back,
/// the funder its node pool (it paid the fee and the committee for nothing), and not a lamport
/// is lost.
#[test]
fn a_round_nobody_can_judge_pays_its_committee_the_void_verdict_instead_of_slashing_it() {
    use droppin_cli::validator::{
        HeldTasks, UNJUDGEABLE, publish_model, publish_task, void_verdict,
    };
    use droppin_fl::model::Weights;
    use droppin_interface::state::NodeState;
    use droppin_node::RoundTask;

    let mut h = Harness::new();
    let validators = h.validators(6, 5);
    let dir = tempfile::tempdir().unwrap();
    let store = droppin_storage::LocalStore::open(dir.path(), Default::default()).unwrap();
    let task = RoundTask::new(droppin_task::catalog::get("breast-cancer").unwrap()).unwrap();
    let task_cid = publish_task(&store, &task).unwrap();
    let (model_cid, model_hash) =
        publish_model(&store, &task.spec, &Weights::initial(&task.spec, 1)).unwrap();
    let run = RoundRun::open(&mut h, LAMPORTS_PER_SOL, |args| {
        (args.task_cid, args.model_cid, args.model_hash) = (task_cid, model_cid, model_hash);
        args.validation_set_hash = [0x33; 32];
    });
    // A validator that already judged a round of the same task, pinning its shipped set, still
    // finds this one unjudgeable: what it holds is checked against each round.
    let mut tasks = HeldTasks::default();
    let proper = Round {
        validation_set_hash: task.committee_split().unwrap().validation.hash(),
        ..run.state(&h)
    };
    assert!(tasks.judgeable(&store, &proper).unwrap().is_some());
    assert!(
        tasks.judgeable(&store, &run.state(&h)).unwrap().is_none(),
        "no validator holds the round's validation set"
    );
    let node = Node::new(&mut h, 1);
    run.join_and_commit(&mut h, &node);
    h.warp(run.deadlines.commit);
    run.reveal(&mut h, &node).unwrap();
    let ledger = run.ledger(&h, &[&node], &validators);
    let total_before = h.total(&ledger) + h.fees_paid();
    let funder_before = h.balance(&run.funder.pubkey());

    run.draw(&mut h, 0).unwrap();
    let drawn = run.drawn(&h, &validators, 0);
    assert!(drawn.len() >= 2, "{} drawn", drawn.len());
    let round = run.state(&h);
    let joined: Vec<NodeState> = vec![
        h.state(&find::node(&h.program, &run.round, &node.address()))
            .unwrap(),
    ];
    let (tree, list, void) = void_verdict(&store, &run.round, &round, &joined).unwrap();
    assert_eq!((void.accepted, void.excluded, void.slashed), (0, 1, 0));
    assert_eq!(void.new_model_hash, round.model_hash, "the model is kept");
    assert_eq!(list.verdicts[0].reason.as_deref(), Some(UNJUDGEABLE));
    // Every validator computes the same void verdict from the round's accounts alone.
    let again = void_verdict(&store, &run.round, &round, &joined).unwrap().2;
    assert_eq!(again.digest::<Sha256>(), void.digest::<Sha256>());
    let votes: Vec<_> = drawn.iter().map(|v| (*v, Some(void))).collect();
    run.judge(&mut h, 0, &votes);
    run.finalize(&mut h, drawn[0]).unwrap();
    run.post(&mut h, drawn[0], 0, &tree).unwrap();
    run.wait_out_appeals(&mut h);

    let round = run.state(&h);
    assert_eq!(round.committees[0].absent, 0, "nobody stayed away");
    assert_eq!(
        run.settle_node_paid(&mut h, &node),
        round.node_stake,
        "the node's stake comes back whole"
    );
    for v in &drawn {
        let before = h.balance(&v.pubkey());
        run.settle_seat(&mut h, v, &v.pubkey(), 0).unwrap();
        assert!(h.balance(&v.pubkey()) > before, "the seat is paid");
        assert_eq!(
            h.bond(&v.pubkey()).bond,
            5 * LAMPORTS_PER_SOL,
            "and not slashed"
        );
    }
    run.close(&mut h).unwrap();
    assert!(
        h.balance(&run.funder.pubkey()) + 5_000 * 3 - funder_before >= round.outcome.node_pool,
        "the funder gets its node pool back"
    );
    assert_eq!(
        h.total(&ledger) + h.fees_paid(),
        total_before,
        "not a lamport created or lost"
    );
}

/// A funder sizes its round's lock just under the validators' bonds, so that any drawn validator
/// busy in another committee cannot sit, then reports each one absent for the bounty. Drawn
/// validators whose free bond is short only because of their other seats record their excuse
/// instead: it locks nothing, the absence report is refused and the bond stays whole.
#[test]
fn a_validator_busy_in_another_committee_is_excused_not_slashed() {
    let mut h = Harness::new();
    let validators = h.validators(6, 5);
    let sol = LAMPORTS_PER_SOL;
    // Seats lock about a third (the first round) and four fifths (the funder's) of a bond.
    let busy = RoundRun::open(&mut h, 3_700_000_000, |args| args.committee_size = 5);
    let attack = RoundRun::open(&mut h, 8_700_000_000, |args| args.committee_size = 5);
    let node = Node {
        key: h.funded(5),
        cid: droppin_interface::Cid::from_digest(&[7; 32]),
        salt: [7; 32],
    };
    for run in [&busy, &attack] {
        run.join_and_commit(&mut h, &node);
    }
    h.warp(busy.deadlines.commit.max(attack.deadlines.commit));
    for run in [&busy, &attack] {
        run.reveal(&mut h, &node).unwrap();
    }
    busy.draw(&mut h, 0).unwrap();
    attack.draw(&mut h, 0).unwrap();
    let (busy_lock, attack_lock) = (
        busy.state(&h).committees[0].seat_lock,
        attack.state(&h).committees[0].seat_lock,
    );
    assert!(
        attack_lock <= 5 * sol && busy_lock + attack_lock > 5 * sol,
        "locks of {busy_lock} and {attack_lock} lamports"
    );
    let in_busy = busy.drawn(&h, &validators, 0);
    for v in &in_busy {
        busy.seat(&mut h, v, 0).unwrap();
    }
    let in_attack = attack.drawn(&h, &validators, 0);
    let excused: Vec<&Keypair> = in_attack
        .iter()
        .copied()
        .filter(|v| in_busy.iter().any(|b| b.pubkey() == v.pubkey()))
        .collect();
    assert!(!excused.is_empty(), "a validator drawn in both rounds");
    for v in &in_attack {
        attack.seat(&mut h, v, 0).unwrap();
        let seat: Seat = h
            .state(&find::seat(&h.program, &attack.round, &v.pubkey(), 0))
            .unwrap();
        let expected = if excused.iter().any(|e| e.pubkey() == v.pubkey()) {
            (SeatStatus::Excused, 0)
        } else {
            (SeatStatus::Seated, attack_lock)
        };
        assert_eq!((seat.status, seat.lock), expected);
    }
    let committee = attack.state(&h).committees[0];
    assert_eq!(
        (committee.seats as usize, committee.absent as usize),
        (in_attack.len() - excused.len(), excused.len())
    );
    h.warp(committee.vote_deadline);
    for v in &excused {
        let report = builders::report_absent(
            &h.program,
            &attack.funder.pubkey(),
            &attack.round,
            &v.pubkey(),
            0,
        );
        assert_eq!(
            h.send(&[report], &[&attack.funder]),
            err(DropPinError::NotAbsent)
        );
        let bond = h.bond(&v.pubkey());
        assert_eq!((bond.bond, bond.locked, bond.debt), (5 * sol, busy_lock, 0));
    }
}

#[test]
fn a_keeper_anchors_a_round_before_any_reveal_and_draws_it_from_that_anchor() {
    let mut h = Harness::new();
    h.validators(4, 5);
    let (run, node) = long_reveal_round(&mut h);
    let commit = run.deadlines.commit;
    h.warp(commit + 5);
    let keeper = h.funded(5);
    let dir = tempfile::tempdir().unwrap();
    let store = droppin_storage::LocalStore::open(dir.path(), Default::default()).unwrap();
    let mut protocol = droppin_client::Protocol::new(h.chain);
    let advance = |protocol: &mut droppin_client::Protocol<_>| {
        advance(protocol, &keeper, &store, &run.round).unwrap()
    };
    assert_eq!(advance(&mut protocol), Step::Anchored);
    assert!(matches!(
        advance(&mut protocol),
        Step::Waiting {
            what: "the node reveals",
            ..
        }
    ));
    assert_eq!(protocol.round(&run.round).unwrap().anchor.slot, commit - 1);
    // The node reveals long after the sysvar lost the commit deadline; the seed is unchanged.
    protocol.chain.warp_to_slot(commit + 700);
    protocol
        .reveal_update(&node.key, &run.round, node.cid, node.salt, 100)
        .unwrap();
    protocol.chain.warp_to_slot(run.deadlines.reveal);
    assert_eq!(advance(&mut protocol), Step::Drew(0));
    let round = protocol.round(&run.round).unwrap();
    let expected = sortition::seed::<Sha256>(
        &run.round.to_bytes(),
        0,
        &round.beacon,
        &embedded_slot_hash(commit - 1),
    );
    assert_eq!(round.committees[0].seed, expected);
}
