//! Random rounds on the real program: lamports are conserved across every account, the escrow
//! drains to zero at close, and no claim pays twice; in $dPIN rounds, tokens are conserved up to
//! the burn, which is exactly what the supply loses.

use droppin_client::Chain;
use droppin_interface::{
    DropPinError, LAMPORTS_PER_SOL, builders, merkle::Verdict, pda::find, state::Treasury,
};
use droppin_tests::{DPIN, Dpin, Failure, Harness, Node, RoundRun, STAKE, leaf};
use proptest::prelude::*;
use solana_instruction::Instruction;
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

/// Reveals the nodes that plan to, votes (`honest_votes` of 3 committee members) and finalizes,
/// or fails the round by timeout; returns each node's claim or refund, in node order.
fn reveal_and_settle(
    h: &mut Harness,
    run: &RoundRun,
    nodes: &[Node],
    plans: &[Plan],
    honest_votes: usize,
) -> Vec<Instruction> {
    let program = h.program;
    let mut leaves = Vec::new();
    let accepted = plans
        .iter()
        .filter(|p| matches!(p, Plan::Reveal { accepted: true }))
        .count() as u16;
    let mut given = 0;
    for (n, p) in nodes.iter().zip(plans) {
        if let Plan::Reveal { accepted: acc } = p {
            run.reveal(h, n).unwrap();
            let weight = if *acc { 10_000 / accepted } else { 0 };
            given += weight;
            leaves.push(leaf(
                n,
                if *acc {
                    Verdict::Accepted
                } else {
                    Verdict::Slashed
                },
                weight,
            ));
        }
    }
    if let Some(last) = leaves
        .iter_mut()
        .rev()
        .find(|l| l.verdict == Verdict::Accepted)
    {
        last.weight_bps += 10_000 - given;
    }
    h.warp(run.deadlines.reveal);
    let (tree, vote) = run.verdict(&leaves);
    let finalized = !leaves.is_empty() && honest_votes >= 2;
    if !leaves.is_empty() {
        for i in 0..honest_votes.min(3) {
            run.vote(h, i, vote).unwrap();
        }
    }
    if finalized {
        run.finalize(h).unwrap();
    } else {
        h.warp(run.deadlines.validation);
        h.send(
            &[builders::crank_timeout(&program, &run.round)],
            &[&run.funder],
        )
        .unwrap();
    }
    h.warp(run.deadlines.validation);
    nodes
        .iter()
        .zip(plans)
        .map(|(n, p)| {
            let index = leaves.iter().position(|l| l.node == n.address().to_bytes());
            match (index, finalized) {
                (Some(i), true) => {
                    builders::claim_reward(&program, &run.round, &n.cid, leaves[i], tree.proof(i))
                }
                _ => builders::refund_node(
                    &program,
                    &run.round,
                    &n.address(),
                    matches!(p, Plan::Reveal { .. }).then_some(&n.cid),
                ),
            }
        })
        .collect()
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
        let settlements = reveal_and_settle(&mut h, &run, &nodes, &plans, honest_votes);
        for ix in settlements {
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

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// The same random rounds in $dPIN: every token is paid out or burned, the supply falls by
    /// exactly what the treasury records as burned, and no protocol token account keeps a
    /// balance (the token vault is closed, the treasury's account is empty).
    #[test]
    fn token_rounds_burn_exactly_and_leave_no_protocol_balance(
        plans in proptest::collection::vec(plan(), 1..7),
        honest_votes in 0usize..4,
        amount in DPIN..5_000 * DPIN,
    ) {
        let mut h = Harness::new();
        let dpin = Dpin::launch(&mut h);
        let supply = dpin.supply(&h);
        let run = dpin.open_round(&mut h, 3, amount);
        let program = h.program;
        let token_vault = find::token_vault(&program, &run.round);
        let nodes: Vec<Node> = (0..plans.len()).map(|i| Node::new(&mut h, i as u8 + 1)).collect();
        for n in &nodes {
            dpin.give(&mut h, &n.address(), STAKE);
            dpin.join_and_commit(&mut h, &run, n);
        }
        dpin.join_committee(&mut h, &run);
        h.warp(run.deadlines.commit);
        let settlements = reveal_and_settle(&mut h, &run, &nodes, &plans, honest_votes);
        for ix in settlements {
            let node = ix.accounts[0].pubkey;
            h.send(&[dpin.ix(ix, &run.round, &node)], &[&run.funder]).unwrap();
        }
        for v in &run.validators {
            let ix = builders::settle_validator(&program, &run.round, &v.pubkey());
            h.send(&[dpin.ix(ix, &run.round, &v.pubkey())], &[&run.funder]).unwrap();
        }
        let ix = builders::close_round(&program, &run.round, &run.funder.pubkey());
        h.send(&[dpin.ix(ix, &run.round, &run.funder.pubkey())], &[&run.funder]).unwrap();

        let burned = supply - dpin.supply(&h);
        let treasury: Treasury = h.state(&find::treasury(&program)).unwrap();
        prop_assert_eq!(burned, treasury.totals.dpin_burned);
        prop_assert!(h.chain.account(&token_vault).unwrap().is_none(), "token vault closed");
        prop_assert_eq!(dpin.balance(&h, &find::treasury_token(&program)), 0);
        let held: u64 = nodes.iter().map(Node::address)
            .chain(run.validators.iter().map(Signer::pubkey))
            .chain([run.funder.pubkey()])
            .map(|owner| dpin.balance_of(&h, &owner))
            .sum();
        let put_in = amount + (nodes.len() as u64 + 3) * STAKE;
        prop_assert_eq!(held + burned, put_in, "every token is paid out or burned");
    }
}
