//! Random rounds on the real program: lamports are conserved across every account, the escrow
//! drains to zero at close, and no claim pays twice.

use droppin_interface::{DropPinError, LAMPORTS_PER_SOL, builders, merkle::Verdict, pda::find};
use droppin_tests::{Failure, Harness, Node, RoundRun, leaf};
use proptest::prelude::*;
use solana_signer::Signer;

#[derive(Clone, Copy, Debug)]
enum Plan {
    NoShow,
    Reveal { accepted: bool },
}

fn plan() -> impl Strategy<Value = Plan> {
    prop_oneof![
        Just(Plan::NoShow),
        any::<bool>().prop_map(|accepted| Plan::Reveal { accepted })
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn rounds_conserve_lamports_and_drain_the_escrow(
        plans in proptest::collection::vec(plan(), 1..7),
        honest_votes in 0usize..4,
        amount in 1_000_000u64..5 * LAMPORTS_PER_SOL,
        top_up in 0u64..LAMPORTS_PER_SOL,
    ) {
        let mut h = Harness::new();
        let run = RoundRun::open(&mut h, 3, amount, |_| {});
        let nodes: Vec<Node> = (0..plans.len()).map(|i| Node::new(&mut h, i as u8 + 1)).collect();
        let refs: Vec<&Node> = nodes.iter().collect();
        let ledger = run.ledger(&h, &refs);
        let start = h.total(&ledger) + h.fees_paid();
        let program = h.program;
        if top_up > 0 {
            h.send(&[builders::fund_round(&program, &run.funder.pubkey(), &run.round, top_up)], &[&run.funder]).unwrap();
        }
        for n in &nodes {
            run.join_and_commit(&mut h, n);
        }
        run.join_committee(&mut h);
        h.warp(run.deadlines.commit);
        let mut leaves = Vec::new();
        let accepted = plans.iter().filter(|p| matches!(p, Plan::Reveal { accepted: true })).count() as u16;
        let mut given = 0;
        for (n, p) in nodes.iter().zip(&plans) {
            if let Plan::Reveal { accepted: acc } = p {
                run.reveal(&mut h, n).unwrap();
                let weight = if *acc { 10_000 / accepted } else { 0 };
                given += weight;
                leaves.push(leaf(n, if *acc { Verdict::Accepted } else { Verdict::Slashed }, weight));
            }
        }
        if let Some(last) = leaves.iter_mut().rev().find(|l| l.verdict == Verdict::Accepted) {
            last.weight_bps += 10_000 - given;
        }
        h.warp(run.deadlines.reveal);
        let (tree, vote) = run.verdict(&leaves);
        let finalized = !leaves.is_empty() && honest_votes >= 2;
        if !leaves.is_empty() {
            for i in 0..honest_votes.min(3) {
                run.vote(&mut h, i, vote).unwrap();
            }
        }
        if finalized {
            h.send(&[builders::finalize_round(&program, &run.round, &run.validators[0].pubkey())], &[&run.funder]).unwrap();
        } else {
            h.warp(run.deadlines.validation);
            h.send(&[builders::crank_timeout(&program, &run.round)], &[&run.funder]).unwrap();
        }
        h.warp(run.deadlines.validation);
        for (n, p) in nodes.iter().zip(&plans) {
            let index = leaves.iter().position(|l| l.node == n.address().to_bytes());
            let ix = match (index, finalized) {
                (Some(i), true) => builders::claim_reward(&program, &run.round, &n.cid, leaves[i], tree.proof(i)),
                _ => builders::refund_node(&program, &run.round, &n.address(), matches!(p, Plan::Reveal { .. }).then_some(&n.cid)),
            };
            h.send(std::slice::from_ref(&ix), &[&run.funder]).unwrap();
            prop_assert_eq!(h.send(&[ix], &[&run.funder]), Err(Failure::Program(DropPinError::InvalidAccountOwner)), "no second payout");
        }
        for v in &run.validators {
            h.send(&[builders::settle_validator(&program, &run.round, &v.pubkey())], &[&run.funder]).unwrap();
        }
        h.send(&[builders::close_round(&program, &run.round, &run.funder.pubkey())], &[&run.funder]).unwrap();
        prop_assert_eq!(h.balance(&find::vault(&program, &run.round)), 0);
        prop_assert_eq!(h.balance(&run.round), 0);
        prop_assert_eq!(h.total(&ledger) + h.fees_paid(), start);
    }
}
