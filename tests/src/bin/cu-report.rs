//! Runs rounds on the embedded chain (LiteSVM + the real SBF program) and prints the compute
//! units of every instruction, the transactions a node signs and the rent it locks, as Markdown.
//!
//! `cargo run --release -p droppin-tests --bin cu-report [-- --nodes 1024]`

use std::{collections::BTreeMap, time::Instant};

use droppin_interface::{
    builders,
    merkle::Verdict,
    state::{AccountState, CidMarker, NodeState, Reputation, Round, ValidatorState, Vault},
};
use droppin_tests::{Harness, Node, RoundRun, leaf};
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
    report.record(
        "FinalizeRound",
        h.send(
            &[builders::finalize_round(
                &program,
                &run.round,
                &run.validators[0].pubkey(),
            )],
            &[&run.funder],
        )
        .unwrap(),
    );
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
