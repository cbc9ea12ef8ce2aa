//! Settlement nobody can game: one test per finding of the money-path review, each replaying
//! the attack on the real program with its lamport figures and asserting it fails.

use droppin_coordinator::bps_of;
use droppin_interface::{
    DropPinError, LAMPORTS_PER_SOL, builders,
    pda::find,
    state::{
        FailReason, NEW_IDENTITY_MULTIPLIER_BPS, NodeState, ProtocolParams, Reputation, RoundStatus,
    },
    verdict::{Leaf, Outcome},
};
use droppin_tests::{Failure, Harness, Node, RoundRun, accepted, leaf, test_params};
use solana_address::Address;
use solana_keypair::Keypair;
use solana_signer::Signer;

fn err(e: DropPinError) -> Result<u64, Failure> {
    Err(Failure::Program(e))
}

/// A round of 1 SOL with `n` revealed nodes, its drawn committee, and the honest-looking seats'
/// keys.
fn judged_round(h: &mut Harness, n: u8) -> (RoundRun, Vec<Node>, Vec<Keypair>) {
    judged_round_of(h, n, LAMPORTS_PER_SOL)
}

/// The same with a pool of `pool` lamports.
fn judged_round_of(h: &mut Harness, n: u8, pool: u64) -> (RoundRun, Vec<Node>, Vec<Keypair>) {
    let validators = h.validators(8, 5);
    let run = RoundRun::open(h, pool, |_| {});
    let nodes: Vec<Node> = (1..=n).map(|t| Node::new(h, t)).collect();
    for node in &nodes {
        run.join_and_commit(h, node);
    }
    h.warp(run.deadlines.commit);
    for node in &nodes {
        run.reveal(h, node).unwrap();
    }
    run.draw(h, 0).unwrap();
    let drawn: Vec<Keypair> = run
        .drawn(h, &validators, 0)
        .into_iter()
        .map(|k| k.insecure_clone())
        .collect();
    assert!(drawn.len() >= 2, "{} drawn", drawn.len());
    (run, nodes, drawn)
}

/// Every drawn seat votes the verdict over `leaves`, which is finalized, posted and left
/// unappealed: settlement is open.
fn final_verdict(h: &mut Harness, run: &RoundRun, drawn: &[Keypair], leaves: &[Leaf]) {
    let (tree, vote) = run.verdict(leaves);
    let votes: Vec<_> = drawn.iter().map(|v| (v, Some(vote))).collect();
    run.judge(h, 0, &votes);
    run.finalize(h, &drawn[0]).unwrap();
    run.post(h, &drawn[0], 0, &tree).unwrap();
    run.wait_out_appeals(h);
}

#[test]
fn finding_1_slashing_never_pays_the_funder_or_the_other_nodes() {
    // A funder (with a captive committee) slashes every node: before, it took the pool back and
    // half of every stake. Now the slashes go to the treasury and the funder gets only its pool.
    let mut h = Harness::new();
    let (run, nodes, drawn) = judged_round(&mut h, 4);
    final_verdict(&mut h, &run, &drawn, &[leaf(Outcome::Slashed, 0); 4]);
    let round = run.state(&h);
    let slash = bps_of(round.node_stake, round.terms.slash_bps);
    let treasury = h.treasury().slashes_collected;
    for node in &nodes {
        assert_eq!(run.settle_node_paid(&mut h, node), round.node_stake - slash);
    }
    assert_eq!(h.treasury().slashes_collected - treasury, 4 * slash);
    for v in &drawn {
        run.settle_seat(&mut h, v, &v.pubkey(), 0).unwrap();
    }
    let funder_before = h.balance(&run.funder.pubkey());
    let rent = h.balance(&run.round) + h.balance(&find::vault(&h.program, &run.round));
    let validator_pool = round.outcome.validator_pool;
    run.close(&mut h).unwrap();
    let refund = h.balance(&run.funder.pubkey()) + 5_000 - funder_before;
    // At most the pool it paid, less what the committee earned: not one slashed lamport.
    assert!(
        refund <= rent + round.pool - validator_pool + 1_000,
        "{refund}"
    );
    assert!(refund >= round.pool - validator_pool - 1_000);
}

#[test]
fn finding_2_a_verdict_cannot_claim_more_than_its_leaves_hold() {
    // A quorum votes a header that says every node is accepted with the whole weight, over
    // leaves that pay its friend alone: the leaves never add up to the header, so they can never
    // all be posted, and the round falls back to refunds with the quorum's locks docked.
    let mut h = Harness::new();
    let (run, nodes, drawn) = judged_round(&mut h, 3);
    let (tree, mut vote) = run.verdict(&[
        accepted(10_000),
        leaf(Outcome::Slashed, 0),
        leaf(Outcome::Slashed, 0),
    ]);
    vote.accepted = 3;
    vote.slashed = 0;
    let votes: Vec<_> = drawn.iter().map(|v| (v, Some(vote))).collect();
    run.judge(&mut h, 0, &votes);
    run.finalize(&mut h, &drawn[0]).unwrap();
    assert_eq!(
        run.post(&mut h, &drawn[0], 0, &tree),
        err(DropPinError::VerdictMismatch),
        "the last chunk's tallies must equal the header"
    );
    // Counts that do not cover the round's nodes are refused even earlier, at the reveal.
    let round = run.state(&h);
    h.warp(round.post_deadline(0));
    let payer = h.funded(1);
    h.send(
        &[builders::crank_timeout(&h.program, &run.round)],
        &[&payer],
    )
    .unwrap();
    assert_eq!(run.state(&h).failure, FailReason::VerdictWithheld);
    for node in &nodes {
        assert_eq!(
            run.settle_node_paid(&mut h, node),
            round.node_stake,
            "every node is refunded"
        );
    }
    let lock = round.committees[0].seat_lock;
    for v in &drawn {
        run.settle_seat(&mut h, v, &v.pubkey(), 0).unwrap();
        assert_eq!(
            h.bond(&v.pubkey()).bond,
            5 * LAMPORTS_PER_SOL - bps_of(lock, 5_000),
            "who voted a verdict nobody could post loses half its lock"
        );
    }
    run.close(&mut h).unwrap();
}

#[test]
fn finding_3_a_revealed_node_settles_only_by_its_leaf_and_never_too_late() {
    // Before: past a claim deadline anyone could refund an unclaimed node its full stake, so a
    // slashed node escaped its slash and an honest latecomer lost its reward. Now a revealed
    // node's only exit is its leaf, and leaves never expire.
    let mut h = Harness::new();
    let (run, nodes, drawn) = judged_round(&mut h, 2);
    let (tree, vote) = run.verdict(&[accepted(10_000), leaf(Outcome::Slashed, 0)]);
    let votes: Vec<_> = drawn.iter().map(|v| (v, Some(vote))).collect();
    run.judge(&mut h, 0, &votes);
    run.finalize(&mut h, &drawn[0]).unwrap();
    run.post(&mut h, &drawn[0], 0, &tree).unwrap();
    // A year later.
    let slot = h.slot();
    h.warp(slot + 365 * 24 * 9_000);
    let round = run.state(&h);
    let slash = bps_of(round.node_stake, round.terms.slash_bps);
    assert_eq!(
        run.settle_node_paid(&mut h, &nodes[1]),
        round.node_stake - slash
    );
    assert_eq!(
        run.settle_node_paid(&mut h, &nodes[0]),
        round.node_stake + round.outcome.node_pool
    );
}

#[test]
fn finding_4_settlement_needs_only_the_chain_and_validators_are_paid_last() {
    // With the verdict list withheld, nobody could claim before, yet validators were paid. Now
    // the leaves are on-chain before anyone settles, and nobody settles without them.
    let mut h = Harness::new();
    let (run, nodes, drawn) = judged_round(&mut h, 2);
    let (_, vote) = run.verdict(&[accepted(5_000), accepted(5_000)]);
    let votes: Vec<_> = drawn.iter().map(|v| (v, Some(vote))).collect();
    run.judge(&mut h, 0, &votes);
    run.finalize(&mut h, &drawn[0]).unwrap();
    assert_eq!(
        run.settle_node(&mut h, &nodes[0]),
        err(DropPinError::VerdictIncomplete)
    );
    assert_eq!(
        run.settle_seat(&mut h, &drawn[0], &drawn[0].pubkey(), 0),
        err(DropPinError::ClaimsNotOpen)
    );
    // Nobody posts: the round fails, nodes are refunded, the quorum that withheld pays.
    let round = run.state(&h);
    h.warp(round.post_deadline(0));
    let payer = h.funded(1);
    h.send(
        &[builders::crank_timeout(&h.program, &run.round)],
        &[&payer],
    )
    .unwrap();
    for node in &nodes {
        assert_eq!(run.settle_node_paid(&mut h, node), round.node_stake);
    }
    for v in &drawn {
        let before = h.bond(&v.pubkey()).bond;
        run.settle_seat(&mut h, v, &v.pubkey(), 0).unwrap();
        assert!(h.bond(&v.pubkey()).bond < before);
    }
    run.close(&mut h).unwrap();
}

#[test]
fn finding_5_a_no_show_loses_at_most_the_slash_and_phases_are_hours() {
    let mut h = Harness::new();
    let validators = h.validators(4, 5);
    let run = RoundRun::open(&mut h, LAMPORTS_PER_SOL, |_| {});
    let (a, b) = (Node::new(&mut h, 1), Node::new(&mut h, 2));
    run.join_and_commit(&mut h, &a);
    run.join_and_commit(&mut h, &b);
    h.warp(run.deadlines.commit);
    run.reveal(&mut h, &a).unwrap();
    let (tree, vote) = run.verdict(&[accepted(10_000), leaf(Outcome::NoShow, 0)]);
    run.draw(&mut h, 0).unwrap();
    let drawn = run.drawn(&h, &validators, 0);
    let votes: Vec<_> = drawn.iter().map(|v| (*v, Some(vote))).collect();
    run.judge(&mut h, 0, &votes);
    run.finalize(&mut h, drawn[0]).unwrap();
    run.post(&mut h, drawn[0], 0, &tree).unwrap();
    run.wait_out_appeals(&mut h);
    let round = run.state(&h);
    let slash = bps_of(round.node_stake, round.terms.slash_bps);
    assert_eq!(run.settle_node_paid(&mut h, &b), round.node_stake - slash);
    // The protocol's own parameters refuse ten-slot phases.
    let mut h = Harness::with_params(ProtocolParams::default());
    h.validators(3, 5);
    let funder = h.funded(10);
    let mut args = droppin_tests::round_args(h.slot(), LAMPORTS_PER_SOL);
    args.commit = h.slot() + 10;
    args.reveal = args.commit + 10;
    args.validation = args.reveal + 10;
    let id = h.next_round_id();
    assert_eq!(
        h.send(
            &[builders::open_round(&h.program, &funder.pubkey(), id, args)],
            &[&funder]
        ),
        err(DropPinError::InvalidDeadlines)
    );
}

#[test]
fn finding_7_only_the_upgrade_authority_initializes_and_changes_wait_out_a_timelock() {
    // A front-runner initializes before the deployer: refused.
    let mut h = Harness::bare();
    let deployer = h.funded(10);
    h.chain.set_upgrade_authority(&deployer.pubkey()).unwrap();
    let attacker = h.funded(10);
    let ix = builders::initialize_config(&h.program, &attacker.pubkey(), test_params());
    assert_eq!(
        h.send(&[ix], &[&attacker]),
        err(DropPinError::NotUpgradeAuthority)
    );
    let ix = builders::initialize_config(&h.program, &deployer.pubkey(), test_params());
    h.send(&[ix], &[&deployer]).unwrap();
    // Changes wait out the timelock and move one bounded step.
    let mut jump = test_params();
    jump.slash_bps = 10_000;
    let ix = builders::update_config(&h.program, &deployer.pubkey(), jump, None);
    assert_eq!(
        h.send(&[ix], &[&deployer]),
        err(DropPinError::ConfigStepTooLarge)
    );
    let mut step = test_params();
    step.fee_bps += 100;
    let ix = builders::update_config(&h.program, &deployer.pubkey(), step, None);
    h.send(&[ix], &[&deployer]).unwrap();
    let anyone = h.funded(1);
    let apply = builders::apply_config(&h.program);
    assert_eq!(
        h.send(std::slice::from_ref(&apply), &[&anyone]),
        err(DropPinError::TimelockActive)
    );
    let config: droppin_interface::state::ProtocolConfig =
        h.state(&find::config(&h.program)).unwrap();
    h.warp(config.pending.effective_slot);
    h.send(&[apply], &[&anyone]).unwrap();
    let config: droppin_interface::state::ProtocolConfig =
        h.state(&find::config(&h.program)).unwrap();
    assert_eq!(config.params.fee_bps, 900);
}

#[test]
fn finding_8_reputation_is_earned_only_in_real_rounds_and_a_new_key_starts_behind() {
    let mut h = Harness::new();
    // A tiny self-funded round earns nothing.
    let validators = h.validators(4, 5);
    let run = RoundRun::open(&mut h, LAMPORTS_PER_SOL / 20, |_| {});
    let node = Node::new(&mut h, 1);
    run.join_and_commit(&mut h, &node);
    let state: NodeState = h
        .state(&find::node(&h.program, &run.round, &node.address()))
        .unwrap();
    assert_eq!(
        state.reputation_bps, NEW_IDENTITY_MULTIPLIER_BPS,
        "a fresh key starts at x0.9"
    );
    h.warp(run.deadlines.commit);
    run.reveal(&mut h, &node).unwrap();
    let (tree, vote) = run.verdict(&[accepted(10_000)]);
    run.draw(&mut h, 0).unwrap();
    let drawn = run.drawn(&h, &validators, 0);
    let votes: Vec<_> = drawn.iter().map(|v| (*v, Some(vote))).collect();
    run.judge(&mut h, 0, &votes);
    run.finalize(&mut h, drawn[0]).unwrap();
    run.post(&mut h, drawn[0], 0, &tree).unwrap();
    run.wait_out_appeals(&mut h);
    run.settle_node(&mut h, &node).unwrap();
    let reputation: Reputation = h
        .state(&find::reputation(&h.program, &node.address()))
        .unwrap();
    assert_eq!(reputation.accepted, 1);
    assert_eq!(
        reputation.points, 0,
        "a pool under the minimum earns no reputation"
    );
}

#[test]
fn finding_9_node_cap_settler_bounty_and_the_treasury_checked_by_key() {
    let mut h = Harness::new();
    let funder = h.funded(10);
    h.validators(3, 5);
    let mut args = droppin_tests::round_args(h.slot(), LAMPORTS_PER_SOL);
    args.max_nodes = test_params().max_nodes + 1;
    let id = h.next_round_id();
    assert_eq!(
        h.send(
            &[builders::open_round(&h.program, &funder.pubkey(), id, args)],
            &[&funder]
        ),
        err(DropPinError::InvalidRoundParams),
        "no more nodes than a validator can judge in a phase"
    );
    let run = RoundRun::open(&mut h, LAMPORTS_PER_SOL, |_| {});
    let node = Node::new(&mut h, 1);
    run.join_and_commit(&mut h, &node);
    h.warp(run.deadlines.reveal);
    let payer = h.funded(1);
    h.send(
        &[builders::crank_timeout(&h.program, &run.round)],
        &[&payer],
    )
    .unwrap();
    // A forged treasury cannot receive the no-show's forfeit.
    let stranger = h.funded(1);
    let mut ix = run.settle_node_ix(&h, &stranger.pubkey(), &node.address());
    ix.accounts[7].pubkey = Address::new_unique();
    assert_eq!(
        h.send(&[ix], &[&stranger]),
        err(DropPinError::TreasuryMismatch)
    );
    // A stranger settles the node and takes a bounty from the returned rent.
    let rent = h.balance(&find::node(&h.program, &run.round, &node.address()));
    let before = h.balance(&stranger.pubkey());
    run.settle_node_by(&mut h, &stranger, &node.address())
        .unwrap();
    let bounty = h.balance(&stranger.pubkey()) + 5_000 - before;
    assert_eq!(bounty, bps_of(rent, droppin_coordinator::SETTLE_BOUNTY_BPS));
    assert_eq!(run.state(&h).status, RoundStatus::Failed);
}

#[test]
fn finding_10_closing_cannot_skip_the_posted_leaves_and_strand_their_rent() {
    // Anyone may close a settled round. Naming a fresh key in place of the posted leaves used to
    // pass as "no leaves at that level": the round closed and the real leaves, which only
    // closing the round returns, held their poster's rent for ever.
    let mut h = Harness::new();
    let (run, nodes, drawn) = judged_round(&mut h, 2);
    final_verdict(&mut h, &run, &drawn, &[accepted(5_000), accepted(5_000)]);
    for node in &nodes {
        run.settle_node(&mut h, node).unwrap();
    }
    for v in &drawn {
        run.settle_seat(&mut h, v, &v.pubkey(), 0).unwrap();
    }
    let leaves = find::verdict(&h.program, &run.round, 0);
    let poster = drawn[0].pubkey();
    let closer = h.funded(1);
    for position in [4, 5] {
        let mut ix = builders::close_round(
            &h.program,
            &run.round,
            &run.funder.pubkey(),
            [Some(poster), None],
        );
        ix.accounts[position].pubkey = Address::new_unique();
        assert_eq!(
            h.send(&[ix], &[&closer]),
            err(DropPinError::InvalidPda),
            "a stand-in for the leaves at account {position}"
        );
    }
    let rent = h.balance(&leaves);
    assert!(rent > 0);
    let before = h.balance(&poster);
    run.close(&mut h).unwrap();
    assert_eq!(
        h.balance(&poster) - before,
        rent,
        "the poster gets its rent back"
    );
    assert_eq!(h.balance(&leaves), 0);
}

#[test]
fn finding_11_an_emptied_wallet_blocks_no_settlement_and_gets_its_due() {
    // A node and a validator empty their wallets once the verdict is in. A wallet holding
    // nothing cannot take less than the rent-exempt minimum (the runtime refuses an account left
    // between zero and it), and the round closes only once every node and seat has settled: if
    // a stranger could not settle them, the funder's remainder would wait on them for good. It
    // cannot happen: each settlement returns the rent of the settled account to the wallet that
    // paid it, in the same transaction, and that alone exceeds the minimum, so even a seat's
    // reward far under it lands.
    let mut h = Harness::new();
    let empty_account_rent = h.chain.svm().minimum_balance_for_rent_exemption(0);
    let (run, nodes, drawn) = judged_round_of(&mut h, 2, LAMPORTS_PER_SOL / 100);
    final_verdict(&mut h, &run, &drawn, &[accepted(5_000), accepted(5_000)]);

    // What an honest node and an honest seat get, each settling itself.
    let node_paid = run.settle_node_paid(&mut h, &nodes[0]);
    let honest = drawn[0].pubkey();
    let seat_rent = h.balance(&find::seat(&h.program, &run.round, &honest, 0));
    let before = h.balance(&honest);
    run.settle_seat(&mut h, &drawn[0], &honest, 0).unwrap();
    let reward = h.balance(&honest) + 5_000 - before - seat_rent;
    assert!(
        (1..empty_account_rent).contains(&reward),
        "a seat's reward under the minimum: {reward}"
    );

    let empty = |h: &mut Harness, wallet: &Keypair| {
        let all = h.balance(&wallet.pubkey());
        let sink = Address::new_unique();
        let ix =
            solana_system_interface::instruction::transfer(&wallet.pubkey(), &sink, all - 5_000);
        h.send(&[ix], &[wallet]).unwrap();
        assert_eq!(h.balance(&wallet.pubkey()), 0);
    };
    let (node, gone) = (&nodes[1], &drawn[1]);
    empty(&mut h, &node.key);
    empty(&mut h, gone);
    let stranger = h.funded(1);
    let tiny = solana_system_interface::instruction::transfer(
        &stranger.pubkey(),
        &Address::new_unique(),
        reward,
    );
    assert!(
        h.send(&[tiny], &[&stranger]).is_err(),
        "the premise: an empty account cannot take the reward alone"
    );
    let returned: u64 = [
        find::node(&h.program, &run.round, &node.address()),
        find::cid_marker(&h.program, &run.round, &node.cid),
    ]
    .iter()
    .map(|account| droppin_coordinator::split_rent(h.balance(account), false).0)
    .sum();
    run.settle_node_by(&mut h, &stranger, &node.address())
        .unwrap();
    assert_eq!(h.balance(&node.address()), node_paid + returned);
    let seat_rent = h.balance(&find::seat(&h.program, &run.round, &gone.pubkey(), 0));
    let (to_owner, _) = droppin_coordinator::split_rent(seat_rent, false);
    assert!(
        to_owner >= empty_account_rent,
        "the returned rent alone: {to_owner}"
    );
    for v in &drawn[1..] {
        run.settle_seat(&mut h, &stranger, &v.pubkey(), 0).unwrap();
    }
    assert_eq!(h.balance(&gone.pubkey()), reward + to_owner);
    run.close(&mut h).unwrap();
}
