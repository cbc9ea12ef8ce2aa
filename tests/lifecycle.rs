//! The whole round lifecycle on the real SBF program: honest, slashed and no-show nodes,
//! top-ups, every timeout path, and the rules each phase enforces.

use droppin_coordinator::bps_of;
use droppin_interface::{
    DropPinError, builders,
    merkle::Verdict,
    pda::find,
    state::{NodeState, Reputation, RoundStatus, Treasury},
};
use droppin_tests::{Failure, Harness, Node, RoundRun, leaf};
use solana_signer::Signer;

const SOL: u64 = 1_000_000_000;

fn err(e: DropPinError) -> Result<u64, Failure> {
    Err(Failure::Program(e))
}

#[test]
fn eight_node_round_pays_honest_slashes_bad_and_conserves_lamports() {
    let mut h = Harness::new();
    let run = RoundRun::open(&mut h, 3, 2 * SOL, |_| {});
    let nodes: Vec<Node> = (1..=8).map(|i| Node::new(&mut h, i)).collect();
    let refs: Vec<&Node> = nodes.iter().collect();
    let ledger = run.ledger(&h, &refs);
    let start = h.total(&ledger) + h.fees_paid();

    for node in &nodes {
        run.join_and_commit(&mut h, node);
    }
    run.join_committee(&mut h);
    h.warp(run.deadlines.commit);
    // Node 8 never reveals.
    for node in &nodes[..7] {
        run.reveal(&mut h, node).expect("reveal");
    }
    h.warp(run.deadlines.reveal);
    // Nodes 1-5 accepted with weights, 6-7 slashed.
    let weights = [4_000u16, 3_000, 1_500, 1_000, 500];
    let mut leaves: Vec<_> = nodes[..5]
        .iter()
        .zip(weights)
        .map(|(n, w)| leaf(n, Verdict::Accepted, w))
        .collect();
    leaves.push(leaf(&nodes[5], Verdict::Slashed, 0));
    leaves.push(leaf(&nodes[6], Verdict::Slashed, 0));
    let (tree, vote) = run.verdict(&leaves);
    let mut dishonest = vote;
    dishonest.verdict_root = [0xbd; 32];
    run.vote(&mut h, 0, vote).unwrap();
    run.vote(&mut h, 1, dishonest).unwrap();
    let program = h.program;
    let validator = |i: usize| run.validators[i].pubkey();
    // One honest vote of three is not a quorum.
    assert_eq!(
        h.send(
            &[builders::finalize_round(
                &program,
                &run.round,
                &validator(0)
            )],
            &[&run.funder]
        ),
        err(DropPinError::QuorumNotReached)
    );
    run.vote(&mut h, 2, vote).unwrap();
    assert_eq!(
        h.send(
            &[builders::finalize_round(
                &program,
                &run.round,
                &validator(1)
            )],
            &[&run.funder]
        ),
        err(DropPinError::QuorumNotReached)
    );
    h.send(
        &[builders::finalize_round(
            &program,
            &run.round,
            &validator(2),
        )],
        &[&run.funder],
    )
    .expect("finalize");

    let round = run.state(&h);
    assert_eq!(round.status, RoundStatus::Finalized);
    assert_eq!(round.outcome.new_model_cid, vote.new_model_cid);
    let stake = round.node_stake;
    let slash = bps_of(stake, round.terms.slash_bps);
    let validator_pool = bps_of(round.pool, round.terms.validator_share_bps);
    let node_pool = round.pool - validator_pool + stake + 2 * slash;
    assert_eq!(round.outcome.node_pool, node_pool);

    for (i, l) in leaves.iter().enumerate() {
        let node = &nodes[i];
        let before = h.balance(&node.address());
        let rent = h.balance(&find::node(&program, &run.round, &node.address()))
            + h.balance(&find::cid_marker(&program, &run.round, &node.cid));
        h.send(
            &[builders::claim_reward(
                &program,
                &run.round,
                &node.cid,
                *l,
                tree.proof(i),
            )],
            &[&run.funder],
        )
        .expect("claim");
        let expected = match l.verdict {
            Verdict::Accepted => stake + bps_of(node_pool, l.weight_bps),
            Verdict::Slashed => stake - slash,
        };
        assert_eq!(
            h.balance(&node.address()) - before,
            expected + rent,
            "node {i}"
        );
        let rep: Reputation = h
            .state(&find::reputation(&program, &node.address()))
            .unwrap();
        assert_eq!(
            (rep.rounds_joined, rep.accepted, rep.slashed),
            (
                1,
                u32::from(l.verdict == Verdict::Accepted),
                u32::from(l.verdict == Verdict::Slashed)
            )
        );
    }
    // Claiming twice fails: the node's state is closed.
    let again = h.send(
        &[builders::claim_reward(
            &program,
            &run.round,
            &nodes[0].cid,
            leaves[0],
            tree.proof(0),
        )],
        &[&run.funder],
    );
    assert_eq!(again, err(DropPinError::InvalidAccountOwner));
    // The no-show forfeits its stake and gets its rent back.
    let before = h.balance(&nodes[7].address());
    let rent = h.balance(&find::node(&program, &run.round, &nodes[7].address()));
    h.send(
        &[builders::refund_node(
            &program,
            &run.round,
            &nodes[7].address(),
            None,
        )],
        &[&run.funder],
    )
    .expect("no-show settles");
    assert_eq!(h.balance(&nodes[7].address()) - before, rent);

    // The whole committee voted, so validators settle at once: two agreeing share the pool.
    let treasury_before = h.state::<Treasury>(&find::treasury(&program)).unwrap();
    for i in 0..3 {
        let before = h.balance(&validator(i));
        let rent = h.balance(&find::validator(&program, &run.round, &validator(i)));
        h.send(
            &[builders::settle_validator(
                &program,
                &run.round,
                &validator(i),
            )],
            &[&run.funder],
        )
        .expect("settle validator");
        let expected = if i == 1 {
            stake - slash
        } else {
            stake + validator_pool / 2
        };
        assert_eq!(h.balance(&validator(i)) - before, expected + rent);
    }
    let treasury_after = h.state::<Treasury>(&find::treasury(&program)).unwrap();
    assert_eq!(
        treasury_after.other_collected - treasury_before.other_collected,
        slash
    );

    h.send(
        &[builders::close_round(
            &program,
            &run.round,
            &run.funder.pubkey(),
        )],
        &[&run.funder],
    )
    .expect("close");
    assert_eq!(h.balance(&run.round), 0);
    assert_eq!(
        h.balance(&find::vault(&program, &run.round)),
        0,
        "the escrow drains to zero"
    );
    assert_eq!(
        h.total(&ledger) + h.fees_paid(),
        start,
        "lamports are conserved"
    );
}

#[test]
fn top_ups_grow_the_pool_and_pay_the_fee_until_training_closes() {
    let mut h = Harness::new();
    let run = RoundRun::open(&mut h, 1, SOL, |_| {});
    let program = h.program;
    let patron = h.funded(10);
    let treasury = find::treasury(&program);
    let fee_before = h.balance(&treasury);
    h.send(
        &[builders::fund_round(
            &program,
            &patron.pubkey(),
            &run.round,
            SOL / 2,
        )],
        &[&patron],
    )
    .expect("top up");
    let round = run.state(&h);
    assert_eq!(round.pool, 920_000_000 + 460_000_000);
    assert_eq!(round.fee_paid, 80_000_000 + 40_000_000);
    assert_eq!(h.balance(&treasury) - fee_before, 40_000_000);
    assert_eq!(
        h.send(
            &[builders::fund_round(
                &program,
                &patron.pubkey(),
                &run.round,
                0
            )],
            &[&patron]
        ),
        err(DropPinError::ZeroAmount)
    );
    h.warp(run.deadlines.commit);
    assert_eq!(
        h.send(
            &[builders::fund_round(
                &program,
                &patron.pubkey(),
                &run.round,
                SOL
            )],
            &[&patron]
        ),
        err(DropPinError::TrainingClosed)
    );
}

#[test]
fn no_joins_fails_the_round_and_refunds_the_funder() {
    let mut h = Harness::new();
    let run = RoundRun::open(&mut h, 1, SOL, |_| {});
    let program = h.program;
    let crank = builders::crank_timeout(&program, &run.round);
    assert_eq!(
        h.send(std::slice::from_ref(&crank), &[&run.funder]),
        err(DropPinError::NoTimeout)
    );
    let funder_before = h.balance(&run.funder.pubkey());
    let held = h.balance(&run.round) + h.balance(&find::vault(&program, &run.round));
    h.warp(run.deadlines.commit);
    h.send(&[crank], &[&run.funder]).expect("crank");
    assert_eq!(run.state(&h).status, RoundStatus::Failed);
    h.send(
        &[builders::close_round(
            &program,
            &run.round,
            &run.funder.pubkey(),
        )],
        &[&run.funder],
    )
    .expect("close");
    let fees = 2 * 5_000;
    assert_eq!(
        h.balance(&run.funder.pubkey()) + fees - funder_before,
        held,
        "pool and rent go back to the funder"
    );
}

#[test]
fn no_reveals_forfeits_stakes_to_the_funder_and_refunds_validators() {
    let mut h = Harness::new();
    let run = RoundRun::open(&mut h, 2, SOL, |_| {});
    let program = h.program;
    let nodes: Vec<Node> = (1..=2).map(|i| Node::new(&mut h, i)).collect();
    for n in &nodes {
        run.join_and_commit(&mut h, n);
    }
    run.join_committee(&mut h);
    h.warp(run.deadlines.commit);
    assert_eq!(
        h.send(
            &[builders::crank_timeout(&program, &run.round)],
            &[&run.funder]
        ),
        err(DropPinError::NoTimeout)
    );
    h.warp(run.deadlines.reveal);
    assert_eq!(
        run.vote(&mut h, 0, run.verdict(&[]).1),
        err(DropPinError::NothingToValidate)
    );
    h.send(
        &[builders::crank_timeout(&program, &run.round)],
        &[&run.funder],
    )
    .expect("crank");
    for n in &nodes {
        h.send(
            &[builders::refund_node(
                &program,
                &run.round,
                &n.address(),
                None,
            )],
            &[&run.funder],
        )
        .expect("settle");
    }
    for v in &run.validators {
        let before = h.balance(&v.pubkey());
        h.send(
            &[builders::settle_validator(
                &program,
                &run.round,
                &v.pubkey(),
            )],
            &[&run.funder],
        )
        .expect("settle");
        assert!(
            h.balance(&v.pubkey()) - before >= 20_000_000,
            "validators get their whole stake back"
        );
    }
    let vault = find::vault(&program, &run.round);
    let forfeited = h.balance(&vault);
    let funder_before = h.balance(&run.funder.pubkey());
    let round_rent = h.balance(&run.round);
    h.send(
        &[builders::close_round(
            &program,
            &run.round,
            &run.funder.pubkey(),
        )],
        &[&run.funder],
    )
    .expect("close");
    assert_eq!(
        h.balance(&run.funder.pubkey()) + 5_000 - funder_before,
        forfeited + round_rent
    );
    assert!(
        forfeited > 920_000_000 + 2 * 20_000_000,
        "the pool plus both forfeited stakes"
    );
}

#[test]
fn no_quorum_refunds_revealed_nodes_and_slashes_silent_validators() {
    let mut h = Harness::new();
    let run = RoundRun::open(&mut h, 3, SOL, |_| {});
    let program = h.program;
    let node = Node::new(&mut h, 1);
    run.join_and_commit(&mut h, &node);
    run.join_committee(&mut h);
    h.warp(run.deadlines.commit);
    run.reveal(&mut h, &node).unwrap();
    h.warp(run.deadlines.reveal);
    let (_, vote) = run.verdict(&[leaf(&node, Verdict::Accepted, 10_000)]);
    run.vote(&mut h, 0, vote).unwrap();
    h.warp(run.deadlines.validation);
    assert_eq!(run.vote(&mut h, 1, vote), err(DropPinError::VotingClosed));
    h.send(
        &[builders::crank_timeout(&program, &run.round)],
        &[&run.funder],
    )
    .expect("crank");
    let before = h.balance(&node.address());
    h.send(
        &[builders::refund_node(
            &program,
            &run.round,
            &node.address(),
            Some(&node.cid),
        )],
        &[&run.funder],
    )
    .expect("refund");
    assert!(
        h.balance(&node.address()) - before > 20_000_000,
        "stake plus rent back"
    );
    let slash = 10_000_000;
    for (i, v) in run.validators.iter().enumerate() {
        let before = h.balance(&v.pubkey());
        let rent = h.balance(&find::validator(&program, &run.round, &v.pubkey()));
        h.send(
            &[builders::settle_validator(
                &program,
                &run.round,
                &v.pubkey(),
            )],
            &[&run.funder],
        )
        .expect("settle");
        let expected = if i == 0 {
            20_000_000
        } else {
            20_000_000 - slash
        };
        assert_eq!(h.balance(&v.pubkey()) - before, expected + rent);
    }
    h.send(
        &[builders::close_round(
            &program,
            &run.round,
            &run.funder.pubkey(),
        )],
        &[&run.funder],
    )
    .expect("close");
}

#[test]
fn phase_rules_reveal_mismatch_full_round_late_commit_and_duplicates() {
    let mut h = Harness::new();
    let run = RoundRun::open(&mut h, 1, SOL, |args| args.max_nodes = 3);
    let program = h.program;
    let mut nodes: Vec<Node> = (1..=3).map(|i| Node::new(&mut h, i)).collect();
    // Node 3 copies node 2's CID (commit-reveal stops copying before reveal; this is the same blob).
    nodes[2].cid = nodes[1].cid;
    for n in &nodes {
        run.join_and_commit(&mut h, n);
    }
    let extra = Node::new(&mut h, 9);
    assert_eq!(
        h.send(
            &[builders::join_round(&program, &extra.address(), &run.round)],
            &[&extra.key]
        ),
        err(DropPinError::RoundFull)
    );
    assert_eq!(
        run.reveal(&mut h, &nodes[0]),
        err(DropPinError::RevealNotOpen)
    );
    h.warp(run.deadlines.commit);
    let late = builders::commit_update(&program, &nodes[0].address(), &run.round, [1; 32]);
    assert_eq!(
        h.send(&[late], &[&nodes[0].key]),
        err(DropPinError::TrainingClosed)
    );
    let mut liar = Node {
        key: nodes[0].key.insecure_clone(),
        cid: nodes[0].cid,
        salt: [0; 32],
    };
    assert_eq!(
        run.reveal(&mut h, &liar),
        err(DropPinError::CommitmentMismatch)
    );
    liar.salt = nodes[0].salt;
    run.reveal(&mut h, &liar).unwrap();
    assert_eq!(
        run.reveal(&mut h, &nodes[0]),
        err(DropPinError::AlreadyRevealed)
    );
    run.reveal(&mut h, &nodes[1]).unwrap();
    run.reveal(&mut h, &nodes[2]).unwrap();
    let dup: NodeState = h
        .state(&find::node(&program, &run.round, &nodes[2].address()))
        .unwrap();
    let first: NodeState = h
        .state(&find::node(&program, &run.round, &nodes[1].address()))
        .unwrap();
    assert!(
        dup.duplicate && !first.duplicate,
        "only the first reveal of a CID counts"
    );
    h.warp(run.deadlines.reveal);
    assert_eq!(
        run.reveal(&mut h, &nodes[0]),
        err(DropPinError::RevealClosed)
    );

    // A verdict accepting the duplicate cannot be claimed for it.
    let leaves = [
        leaf(&nodes[0], Verdict::Accepted, 5_000),
        leaf(&nodes[1], Verdict::Accepted, 2_500),
        leaf(&nodes[2], Verdict::Accepted, 2_500),
    ];
    let (tree, vote) = run.verdict(&leaves);
    run.join_committee(&mut h);
    let mut miscounted = vote;
    miscounted.accepted_count = 2;
    assert_eq!(
        run.vote(&mut h, 0, miscounted),
        err(DropPinError::VerdictCountMismatch)
    );
    run.vote(&mut h, 0, vote).unwrap();
    assert_eq!(run.vote(&mut h, 0, vote), err(DropPinError::AlreadyVoted));
    let validator = run.validators[0].pubkey();
    h.send(
        &[builders::finalize_round(&program, &run.round, &validator)],
        &[&run.funder],
    )
    .expect("finalize");
    let claim_dup = builders::claim_reward(
        &program,
        &run.round,
        &nodes[2].cid,
        leaves[2],
        tree.proof(2),
    );
    assert_eq!(
        h.send(&[claim_dup], &[&run.funder]),
        err(DropPinError::InvalidVerdictLeaf)
    );
    let mut forged = leaves[0];
    forged.weight_bps = 10_000;
    let claim_forged =
        builders::claim_reward(&program, &run.round, &nodes[0].cid, forged, tree.proof(0));
    assert_eq!(
        h.send(&[claim_forged], &[&run.funder]),
        err(DropPinError::InvalidMerkleProof)
    );
}
