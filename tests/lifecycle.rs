//! Whole rounds on the real program: the registry, the draw, sealed votes, on-chain leaves, the
//! appeal window and every settlement, with every lamport accounted for.

use droppin_coordinator::bps_of;
use droppin_interface::{
    DropPinError, LAMPORTS_PER_SOL, builders,
    pda::find,
    state::{FailReason, RoundStatus},
    verdict::Outcome,
};
use droppin_tests::{Failure, Harness, Node, RoundRun, accepted, leaf};
use solana_keypair::Keypair;
use solana_signer::Signer;

fn err(e: DropPinError) -> Result<u64, Failure> {
    Err(Failure::Program(e))
}

/// Validators, a round with `nodes` nodes joined and committed, the first `reveals` revealed.
fn round_with(h: &mut Harness, nodes: u8, reveals: usize) -> (Vec<Keypair>, RoundRun, Vec<Node>) {
    let validators = h.validators(6, 5);
    let run = RoundRun::open(h, LAMPORTS_PER_SOL, |_| {});
    let nodes: Vec<Node> = (1..=nodes).map(|t| Node::new(h, t)).collect();
    for node in &nodes {
        run.join_and_commit(h, node);
    }
    h.warp(run.deadlines.commit);
    for node in nodes.iter().take(reveals) {
        run.reveal(h, node).unwrap();
    }
    (validators, run, nodes)
}

#[test]
fn an_eight_node_round_pays_by_its_on_chain_leaves_and_conserves_every_lamport() {
    let mut h = Harness::new();
    let (validators, run, nodes) = round_with(&mut h, 8, 7);
    let node_refs: Vec<&Node> = nodes.iter().collect();
    let ledger = run.ledger(&h, &node_refs, &validators);
    let total_before = h.total(&ledger) + h.fees_paid();

    // Five accepted (the weights add up to 10,000), one slashed, one excluded, one no-show.
    let leaves = [
        accepted(3_000),
        accepted(2_500),
        accepted(2_000),
        accepted(1_500),
        accepted(1_000),
        leaf(Outcome::Slashed, 0),
        leaf(Outcome::Excluded, 0),
        leaf(Outcome::NoShow, 0),
    ];
    let (tree, vote) = run.verdict(&leaves);
    run.draw(&mut h, 0).unwrap();
    let drawn = run.drawn(&h, &validators, 0);
    assert!(drawn.len() >= 2, "{} drawn", drawn.len());
    let votes: Vec<_> = drawn.iter().map(|v| (*v, Some(vote))).collect();
    run.judge(&mut h, 0, &votes);
    run.finalize(&mut h, drawn[0]).unwrap();
    // Nobody settles before the leaves are on-chain and the appeal window has passed.
    assert_eq!(
        run.settle_node(&mut h, &nodes[0]),
        err(DropPinError::VerdictIncomplete)
    );
    run.post(&mut h, drawn[0], 0, &tree).unwrap();
    assert_eq!(
        run.settle_node(&mut h, &nodes[0]),
        err(DropPinError::ClaimsNotOpen)
    );
    assert_eq!(
        run.settle_seat(&mut h, drawn[0], &drawn[0].pubkey(), 0),
        err(DropPinError::ClaimsNotOpen),
        "validators are paid only once the verdict is provable and final"
    );
    run.wait_out_appeals(&mut h);

    let round = run.state(&h);
    let stake = round.node_stake;
    let slash = bps_of(stake, round.terms.slash_bps);
    let node_pool = round.outcome.node_pool;
    let treasury_before = h.treasury();
    for (i, node) in nodes.iter().enumerate() {
        let received = run.settle_node_paid(&mut h, node);
        let expected = match leaves[i].outcome {
            Outcome::Accepted => stake + bps_of(node_pool, leaves[i].weight_bps),
            Outcome::Excluded => stake,
            Outcome::Slashed | Outcome::NoShow => stake - slash,
        };
        assert_eq!(received, expected, "node {i}");
    }
    let treasury = h.treasury();
    assert_eq!(
        treasury.slashes_collected - treasury_before.slashes_collected,
        2 * slash,
        "the slashed node's and the no-show's forfeits go to the treasury"
    );
    for v in &drawn {
        let bond = h.bond(&v.pubkey());
        assert_eq!(bond.locked, round.committees[0].seat_lock);
        let before = h.balance(&v.pubkey());
        run.settle_seat(&mut h, v, &v.pubkey(), 0).unwrap();
        assert!(h.balance(&v.pubkey()) > before, "an agreeing seat is paid");
        let bond = h.bond(&v.pubkey());
        assert_eq!((bond.locked, bond.open_seats), (0, 0));
        assert_eq!(bond.bond, 5 * LAMPORTS_PER_SOL, "and keeps its whole bond");
    }
    run.close(&mut h).unwrap();
    assert!(
        h.state::<droppin_interface::state::Round>(&run.round)
            .is_none()
    );
    assert_eq!(h.balance(&find::vault(&h.program, &run.round)), 0);
    assert_eq!(h.balance(&find::verdict(&h.program, &run.round, 0)), 0);
    assert_eq!(
        h.total(&ledger) + h.fees_paid(),
        total_before,
        "not a lamport created or lost"
    );
}

#[test]
fn a_third_partys_top_up_comes_back_to_it_not_to_the_funder() {
    let mut h = Harness::new();
    h.validators(3, 5);
    let run = RoundRun::open(&mut h, LAMPORTS_PER_SOL, |_| {});
    let patron = h.funded(5);
    let before = h.balance(&patron.pubkey());
    h.send(
        &[builders::fund_round(
            &h.program,
            &patron.pubkey(),
            &run.round,
            LAMPORTS_PER_SOL,
        )],
        &[&patron],
    )
    .unwrap();
    let round = run.state(&h);
    assert_eq!(round.counts.contributions, 1);
    assert_eq!(round.pool, 2 * 920_000_000);
    assert_eq!(round.funder_pool, 920_000_000);
    // Nobody joins: the round fails and the pool goes back to those who paid it.
    h.warp(run.deadlines.commit);
    let payer = h.funded(1);
    h.send(
        &[builders::crank_timeout(&h.program, &run.round)],
        &[&payer],
    )
    .unwrap();
    assert_eq!(
        run.close(&mut h),
        err(DropPinError::RoundNotSettled),
        "the top-up is settled first"
    );
    h.send(
        &[builders::refund_contribution(
            &h.program,
            &run.round,
            &patron.pubkey(),
        )],
        &[&payer],
    )
    .unwrap();
    let got_back = h.balance(&patron.pubkey()) - (before - LAMPORTS_PER_SOL - 5_000);
    assert!(
        got_back >= 920_000_000,
        "the patron's pool share and its record's rent: {got_back}"
    );
    let funder_before = h.balance(&run.funder.pubkey());
    run.close(&mut h).unwrap();
    let funder_gain = h.balance(&run.funder.pubkey()) - funder_before;
    assert!(
        funder_gain < 920_000_000 + 20_000_000,
        "the funder gets its own pool and the rent, not the patron's: {funder_gain}"
    );
}

#[test]
fn no_joins_fails_the_round_and_refunds_the_funder() {
    let mut h = Harness::new();
    h.validators(3, 5);
    let run = RoundRun::open(&mut h, LAMPORTS_PER_SOL, |_| {});
    let payer = h.funded(1);
    let crank = builders::crank_timeout(&h.program, &run.round);
    assert_eq!(
        h.send(std::slice::from_ref(&crank), &[&payer]),
        err(DropPinError::NoTimeout)
    );
    h.warp(run.deadlines.commit);
    h.send(&[crank], &[&payer]).unwrap();
    let round = run.state(&h);
    assert_eq!(
        (round.status, round.failure),
        (RoundStatus::Failed, FailReason::NoJoins)
    );
    let before = h.balance(&run.funder.pubkey());
    run.close(&mut h).unwrap();
    assert!(h.balance(&run.funder.pubkey()) - before >= round.pool);
}

#[test]
fn no_reveals_costs_each_no_show_the_slash_fraction_and_pays_it_to_the_treasury() {
    let mut h = Harness::new();
    let (_, run, nodes) = round_with(&mut h, 3, 0);
    h.warp(run.deadlines.reveal);
    let payer = h.funded(1);
    h.send(
        &[builders::crank_timeout(&h.program, &run.round)],
        &[&payer],
    )
    .unwrap();
    assert_eq!(run.state(&h).failure, FailReason::NoReveals);
    let stake = run.state(&h).node_stake;
    let slash = bps_of(stake, run.state(&h).terms.slash_bps);
    let treasury = h.treasury().slashes_collected;
    for node in &nodes {
        let before = h.balance(&node.address());
        let rent = h.balance(&find::node(&h.program, &run.round, &node.address()));
        run.settle_node(&mut h, node).unwrap();
        assert_eq!(
            h.balance(&node.address()) + 5_000 - before - rent,
            stake - slash,
            "a no-show loses the slash fraction, not its whole stake"
        );
    }
    assert_eq!(h.treasury().slashes_collected - treasury, 3 * slash);
    let funder_before = h.balance(&run.funder.pubkey());
    let pool = run.state(&h).pool;
    run.close(&mut h).unwrap();
    let funder_gain = h.balance(&run.funder.pubkey()) - funder_before;
    assert!(
        funder_gain >= pool && funder_gain < pool + 3 * slash,
        "the funder gets the pool and the rent, none of the forfeits"
    );
}

#[test]
fn without_a_quorum_the_round_waits_for_an_escalation_then_fails_and_the_silent_lose() {
    let mut h = Harness::new();
    let (validators, run, nodes) = round_with(&mut h, 2, 2);
    let (_, honest) = run.verdict(&[accepted(5_000), accepted(5_000)]);
    let (_, other) = run.verdict(&[accepted(10_000), leaf(Outcome::Slashed, 0)]);
    run.draw(&mut h, 0).unwrap();
    let drawn = run.drawn(&h, &validators, 0);
    assert!(drawn.len() >= 2, "{} drawn", drawn.len());
    // Split votes and a silent seat: nothing reaches the quorum.
    let mut votes: Vec<_> = vec![(drawn[0], Some(honest)), (drawn[1], Some(other))];
    votes.extend(drawn[2..].iter().map(|v| (*v, None)));
    run.judge(&mut h, 0, &votes);
    h.warp(run.deadlines.vote_reveal);
    let payer = h.funded(1);
    let crank = builders::crank_timeout(&h.program, &run.round);
    assert_eq!(
        h.send(std::slice::from_ref(&crank), &[&payer]),
        err(DropPinError::NoTimeout),
        "the round can still be escalated"
    );
    assert_eq!(
        run.finalize(&mut h, drawn[0]),
        err(DropPinError::QuorumNotReached)
    );
    h.warp(run.state(&h).escalation_deadline());
    h.send(&[crank], &[&payer]).unwrap();
    assert_eq!(run.state(&h).failure, FailReason::NoQuorum);
    let stake = run.state(&h).node_stake;
    for node in &nodes {
        assert_eq!(run.settle_node_paid(&mut h, node), stake);
    }
    let lock = run.state(&h).committees[0].seat_lock;
    for (v, vote) in &votes {
        run.settle_seat(&mut h, v, &v.pubkey(), 0).unwrap();
        let expected = if vote.is_some() {
            5 * LAMPORTS_PER_SOL
        } else {
            5 * LAMPORTS_PER_SOL - bps_of(lock, 5_000)
        };
        assert_eq!(
            h.bond(&v.pubkey()).bond,
            expected,
            "a silent seat loses half its lock"
        );
    }
    run.close(&mut h).unwrap();
}

#[test]
fn phase_rules_reveal_mismatch_full_round_late_commit_and_duplicates() {
    let mut h = Harness::new();
    let validators = h.validators(3, 5);
    let run = RoundRun::open(&mut h, LAMPORTS_PER_SOL, |args| args.max_nodes = 2);
    let a = Node::new(&mut h, 1);
    let mut b = Node::new(&mut h, 2);
    let c = Node::new(&mut h, 3);
    run.join_and_commit(&mut h, &a);
    // b commits to a's CID: a copy.
    b.cid = a.cid;
    run.join_and_commit(&mut h, &b);
    let program = h.program;
    assert_eq!(
        h.send(
            &[builders::join_round(&program, &c.address(), &run.round)],
            &[&c.key]
        ),
        err(DropPinError::RoundFull)
    );
    assert_eq!(
        run.reveal(&mut h, &a),
        err(DropPinError::RevealNotOpen),
        "no reveal while others can still commit"
    );
    h.warp(run.deadlines.commit);
    assert_eq!(
        h.send(
            &[builders::commit_update(
                &program,
                &a.address(),
                &run.round,
                [1; 32]
            )],
            &[&a.key]
        ),
        err(DropPinError::TrainingClosed)
    );
    let mut wrong = builders::reveal_update(&program, &a.address(), &run.round, a.cid, [0; 32], 1);
    wrong.accounts[3].pubkey = find::cid_marker(&program, &run.round, &a.cid);
    assert_eq!(
        h.send(&[wrong], &[&a.key]),
        err(DropPinError::CommitmentMismatch)
    );
    run.reveal(&mut h, &a).unwrap();
    run.reveal(&mut h, &b).unwrap();
    assert_eq!(run.reveal(&mut h, &a), err(DropPinError::AlreadyRevealed));
    let b_state: droppin_interface::state::NodeState = h
        .state(&find::node(&program, &run.round, &b.address()))
        .unwrap();
    assert!(
        b_state.duplicate,
        "the program flags the second reveal of a CID"
    );
    h.warp(run.deadlines.reveal);
    // Even a verdict that accepts the copy cannot pay it more than its stake.
    let (tree, vote) = run.verdict(&[accepted(5_000), accepted(5_000)]);
    run.draw(&mut h, 0).unwrap();
    let drawn = run.drawn(&h, &validators, 0);
    let votes: Vec<_> = drawn.iter().map(|v| (*v, Some(vote))).collect();
    run.judge(&mut h, 0, &votes);
    run.finalize(&mut h, drawn[0]).unwrap();
    run.post(&mut h, drawn[0], 0, &tree).unwrap();
    run.wait_out_appeals(&mut h);
    let stake = run.state(&h).node_stake;
    let before = h.balance(&b.address());
    let rent = h.balance(&find::node(&program, &run.round, &b.address()));
    run.settle_node(&mut h, &b).unwrap();
    assert_eq!(h.balance(&b.address()) + 5_000 - before - rent, stake);
}
