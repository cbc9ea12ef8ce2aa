//! Runs rounds on the embedded chain (LiteSVM + the real SBF program) and prints the compute
//! units of every instruction, the transactions a node signs and the rent it locks, as Markdown.
//!
//! `cargo run --release -p droppin-tests --bin cu-report [-- --nodes 1024]`

use std::{collections::BTreeMap, time::Instant};

use droppin_interface::{
    LAMPORTS_PER_SOL, builders,
    merkle::Verdict,
    pda::find,
    state::{
        AccountState, CidMarker, NodeState, ProtocolConfig, Reputation, Round, ValidatorState,
        Vault,
    },
};
use droppin_tests::{DPIN, Dpin, Harness, Node, RoundRun, STAKE, leaf};
use solana_address::Address;
use solana_signer::Signer;

#[derive(Default)]
struct Report {
    compute_units: BTreeMap<&'static str, Vec<u64>>,
}

impl Report {
    fn record(&mut self, name: &'static str, units: u64) {
        self.compute_units.entry(name).or_default().push(units);
    }
}

fn main() {
    let nodes: usize = std::env::args()
        .skip_while(|a| a != "--nodes")
        .nth(1)
        .map_or(1024, |n| n.parse().expect("--nodes takes a number"));
    let started = Instant::now();
    let mut report = Report::default();
    let mut h = Harness::new();
    let program = h.program;
    let run = RoundRun::open(
        &mut h,
        3,
        10 * droppin_interface::LAMPORTS_PER_SOL,
        |args| args.max_nodes = nodes as u32,
    );
    let top_up = h.funded(10);
    report.record(
        "FundRound",
        h.send(
            &[builders::fund_round(
                &program,
                &top_up.pubkey(),
                &run.round,
                1_000_000,
            )],
            &[&top_up],
        )
        .unwrap(),
    );
    // Every node gets its own CID (the digest is its key), so no reveal is a duplicate.
    let members: Vec<Node> = (0..nodes)
        .map(|i| {
            let mut node = Node::new(&mut h, i as u8);
            node.cid = droppin_interface::Cid::from_digest(&node.address().to_bytes());
            node
        })
        .collect();
    for node in &members {
        report.record(
            "JoinRound",
            h.send(
                &[builders::join_round(&program, &node.address(), &run.round)],
                &[&node.key],
            )
            .unwrap(),
        );
        report.record(
            "CommitUpdate",
            h.send(
                &[builders::commit_update(
                    &program,
                    &node.address(),
                    &run.round,
                    node.commitment(),
                )],
                &[&node.key],
            )
            .unwrap(),
        );
    }
    for v in &run.validators {
        report.record(
            "JoinCommittee",
            h.send(
                &[builders::join_committee(&program, &v.pubkey(), &run.round)],
                &[v],
            )
            .unwrap(),
        );
    }
    h.warp(run.deadlines.commit);
    for node in &members {
        report.record("RevealUpdate", run.reveal(&mut h, node).unwrap());
    }
    h.warp(run.deadlines.reveal);
    let weight = (10_000 / nodes) as u16;
    let leaves: Vec<_> = members
        .iter()
        .enumerate()
        .map(|(i, n)| {
            if i % 10 == 9 {
                leaf(n, Verdict::Slashed, 0)
            } else {
                leaf(n, Verdict::Accepted, weight)
            }
        })
        .collect();
    let (tree, vote) = run.verdict(&leaves);
    for i in 0..3 {
        report.record("SubmitVerdict", run.vote(&mut h, i, vote).unwrap());
    }
    report.record("FinalizeRound", run.finalize(&mut h).unwrap());
    let mut longest_proof = 0;
    for (i, node) in members.iter().enumerate() {
        let proof = tree.proof(i);
        longest_proof = longest_proof.max(proof.len());
        report.record(
            "ClaimReward",
            h.send(
                &[builders::claim_reward(
                    &program, &run.round, &node.cid, leaves[i], proof,
                )],
                &[&run.funder],
            )
            .unwrap(),
        );
    }
    for v in &run.validators {
        report.record(
            "SettleValidator",
            h.send(
                &[builders::settle_validator(
                    &program,
                    &run.round,
                    &v.pubkey(),
                )],
                &[&run.funder],
            )
            .unwrap(),
        );
    }
    report.record(
        "CloseRound",
        h.send(
            &[builders::close_round(
                &program,
                &run.round,
                &run.funder.pubkey(),
            )],
            &[&run.funder],
        )
        .unwrap(),
    );
    // Paths a successful round does not take: a no-show refund and a timeout.
    let failed = RoundRun::open(&mut h, 1, droppin_interface::LAMPORTS_PER_SOL, |_| {});
    let no_show = Node::new(&mut h, 7);
    failed.join_and_commit(&mut h, &no_show);
    h.warp(h.slot() + 300);
    report.record(
        "CrankTimeout",
        h.send(
            &[builders::crank_timeout(&program, &failed.round)],
            &[&failed.funder],
        )
        .unwrap(),
    );
    report.record(
        "RefundNode",
        h.send(
            &[builders::refund_node(
                &program,
                &failed.round,
                &no_show.address(),
                None,
            )],
            &[&failed.funder],
        )
        .unwrap(),
    );
    let funder = h.funded(10);
    let id = h.next_round_id();
    let args = droppin_tests::round_args(
        h.slot(),
        &[funder.pubkey()],
        droppin_interface::LAMPORTS_PER_SOL,
    );
    let open = h
        .send(
            &[builders::open_round(&program, &funder.pubkey(), id, args)],
            &[&funder],
        )
        .unwrap();
    report.record("OpenRound", open);
    let mut fresh = Harness::bare();
    let admin = fresh.funded(10);
    report.record(
        "InitializeConfig",
        fresh
            .send(
                &[builders::initialize_config(
                    &fresh.program,
                    &admin.pubkey(),
                    Default::default(),
                )],
                &[&admin],
            )
            .unwrap(),
    );
    report.record(
        "UpdateConfig",
        fresh
            .send(
                &[builders::update_config(
                    &fresh.program,
                    &admin.pubkey(),
                    Default::default(),
                    None,
                )],
                &[&admin],
            )
            .unwrap(),
    );

    record_dpin(&mut report);

    println!(
        "## Compute units per instruction ({nodes}-node round; proofs up to {longest_proof} levels)\n"
    );
    println!("| instruction | median CU | max CU | calls | target |");
    println!("|---|---:|---:|---:|---|");
    for (name, units) in &mut report.compute_units {
        units.sort_unstable();
        let (median, max, calls) = (units[units.len() / 2], units[units.len() - 1], units.len());
        let target = match *name {
            "CommitUpdate" => "<= 5,000",
            "RevealUpdate" => "<= 15,000",
            "ClaimReward" => "<= 15,000 (1,024-node proof)",
            _ => "<= 50,000",
        };
        println!("| {name} | {median} | {max} | {calls} | {target} |");
    }
    let rent = |len: usize| h.chain.svm().minimum_balance_for_rent_exemption(len);
    println!("\n## Per node\n");
    println!(
        "- transactions a node signs per round: 3 (join, commit, reveal); claiming is permissionless (a 4th if the node claims itself)"
    );
    println!(
        "- rent locked per node during a round: {} lamports (node state {} B) + {} lamports (CID marker {} B), returned at claim",
        rent(NodeState::LEN),
        NodeState::LEN,
        rent(CidMarker::LEN),
        CidMarker::LEN
    );
    println!(
        "- reputation account, once per node ever: {} lamports ({} B)",
        rent(Reputation::LEN),
        Reputation::LEN
    );
    println!(
        "- per round: round {} B ({} lamports), vault {} B, validator state {} B, all returned at close",
        Round::LEN,
        rent(Round::LEN),
        Vault::LEN,
        ValidatorState::LEN
    );
    println!(
        "\n{nodes} nodes in {:.1} s wall time",
        started.elapsed().as_secs_f64()
    );
}

/// $dPIN: the launch, a pre-launch round's conversion, both kinds of swap batch and an 8-node
/// token round (7 claims, a no-show's refund), recorded under "(\$dPIN)" names.
fn record_dpin(report: &mut Report) {
    let mut h = Harness::new();
    let program = h.program;
    let pre_launch = RoundRun::open(&mut h, 1, 2 * LAMPORTS_PER_SOL, |_| {});
    let admin = h.admin.insecure_clone();
    let dpin = Dpin::mint_only(&mut h);
    let launch = builders::launch_token(&program, &admin.pubkey(), &dpin.mint);
    report.record("LaunchToken", h.send(&[launch], &[&admin]).unwrap());
    let keeper = h.funded(10);
    let market = h.funded(10);
    dpin.give(&mut h, &market.pubkey(), 1_000_000 * DPIN);
    let convert =
        builders::convert_round(&program, &keeper.pubkey(), &pre_launch.round, &dpin.mint);
    report.record("ConvertRound", h.send(&[convert], &[&keeper]).unwrap());

    let swap = h
        .state::<ProtocolConfig>(&find::config(&program))
        .unwrap()
        .params
        .swap;
    let round: Round = pre_launch.state(&h);
    let batches = [
        (
            round.unconverted,
            Some(pre_launch.round),
            Address::from(round.token_vault),
            "EndSwap (conversion)",
        ),
        (
            LAMPORTS_PER_SOL / 10,
            None,
            find::treasury_token(&program),
            "EndSwap (buy and burn)",
        ),
    ];
    for (lamports, converting, destination, end_name) in batches {
        let route = dpin.route(
            &keeper,
            &market,
            &destination,
            lamports,
            swap.to_dpin(lamports),
        );
        let ixs = dpin.batch(&h, &keeper, lamports, converting.as_ref(), route);
        h.send(&ixs, &[&keeper, &market]).unwrap();
        let units = h.chain.program_units().to_vec();
        report.record("BeginSwap", units[0]);
        report.record(end_name, units[1]);
    }

    let run = dpin.open_round(&mut h, 3, 1_000 * DPIN);
    report.record("OpenRound ($dPIN)", h.chain.program_units()[0]);
    dpin.give(&mut h, &run.funder.pubkey(), 10 * DPIN);
    let fund = dpin.ix(
        builders::fund_round(&program, &run.funder.pubkey(), &run.round, 10 * DPIN),
        &run.round,
        &run.funder.pubkey(),
    );
    report.record(
        "FundRound ($dPIN)",
        h.send(&[fund], &[&run.funder]).unwrap(),
    );
    let nodes: Vec<Node> = (0..8).map(|i| Node::new(&mut h, i + 1)).collect();
    for node in &nodes {
        dpin.give(&mut h, &node.address(), STAKE);
        report.record(
            "JoinRound ($dPIN)",
            dpin.join_and_commit(&mut h, &run, node),
        );
    }
    for units in dpin.join_committee(&mut h, &run) {
        report.record("JoinCommittee ($dPIN)", units);
    }
    h.warp(run.deadlines.commit);
    for node in &nodes[..7] {
        run.reveal(&mut h, node).unwrap();
    }
    h.warp(run.deadlines.reveal);
    let leaves: Vec<_> = nodes[..7]
        .iter()
        .enumerate()
        .map(|(i, n)| match i {
            0..5 => leaf(n, Verdict::Accepted, 2_000),
            _ => leaf(n, Verdict::Slashed, 0),
        })
        .collect();
    let (tree, vote) = run.verdict(&leaves);
    for i in 0..3 {
        run.vote(&mut h, i, vote).unwrap();
    }
    let finalize = builders::finalize_round(&program, &run.round, &run.validators[0].pubkey());
    h.send(&[finalize], &[&run.funder]).unwrap();
    h.warp(run.deadlines.validation);
    for (i, node) in nodes[..7].iter().enumerate() {
        let claim =
            builders::claim_reward(&program, &run.round, &node.cid, leaves[i], tree.proof(i));
        let claim = dpin.ix(claim, &run.round, &node.address());
        report.record(
            "ClaimReward ($dPIN)",
            h.send(&[claim], &[&run.funder]).unwrap(),
        );
    }
    let no_show = nodes[7].address();
    let refund = dpin.ix(
        builders::refund_node(&program, &run.round, &no_show, None),
        &run.round,
        &no_show,
    );
    report.record(
        "RefundNode ($dPIN)",
        h.send(&[refund], &[&run.funder]).unwrap(),
    );
    for v in &run.validators {
        let settle = builders::settle_validator(&program, &run.round, &v.pubkey());
        let settle = dpin.ix(settle, &run.round, &v.pubkey());
        report.record(
            "SettleValidator ($dPIN)",
            h.send(&[settle], &[&run.funder]).unwrap(),
        );
    }
    let close = builders::close_round(&program, &run.round, &run.funder.pubkey());
    let close = dpin.ix(close, &run.round, &run.funder.pubkey());
    report.record(
        "CloseRound ($dPIN)",
        h.send(&[close], &[&run.funder]).unwrap(),
    );
}
