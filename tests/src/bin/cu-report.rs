//! Runs rounds on the embedded chain (LiteSVM + the real SBF program) and prints the compute
//! units of every instruction, the transactions a node and a validator sign and the rent they
//! lock, as Markdown.
//!
//! `cargo run --release -p droppin-tests --bin cu-report [-- --nodes 1024]`

use std::{collections::BTreeMap, time::Instant};

use droppin_client::Chain;
use droppin_interface::{
    Cid, LAMPORTS_PER_SOL,
    availability::{Availability, availability_deadline},
    builders,
    hash::{Hasher, Sha256},
    instruction::DropPinInstruction,
    pda::find,
    state::{
        AccountState, CidMarker, Contribution, NodeState, Reputation, Round, Seat, ValidatorBond,
        Vault, VerdictLeaves,
    },
    verdict::{LEAF_LEN, LEAVES_PER_CHUNK, Leaf, Outcome},
};
use droppin_tests::{DPIN, Dpin, Harness, Node, RoundRun, STAKE, accepted, leaf};
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;

/// Compute units by instruction name (with a suffix for the $dPIN variants).
#[derive(Default)]
struct Report {
    compute_units: BTreeMap<String, Vec<u64>>,
}

impl Report {
    /// Sends `ix` alone and records its units under its name (plus `suffix`).
    fn send(&mut self, h: &mut Harness, ix: Instruction, signers: &[&Keypair], suffix: &str) {
        let name = DropPinInstruction::name_of(&ix.data).unwrap_or("unknown");
        let units = h
            .send(std::slice::from_ref(&ix), signers)
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        self.compute_units
            .entry(format!("{name}{suffix}"))
            .or_default()
            .push(units);
    }
}

fn main() {
    let nodes: usize = std::env::args()
        .skip_while(|a| a != "--nodes")
        .nth(1)
        .map_or(1024, |n| n.parse().expect("--nodes takes a number"));
    let started = Instant::now();
    let mut report = Report::default();
    let transactions = sol_round(&mut report, nodes);
    record_config(&mut report);
    record_dpin(&mut report);
    record_dpin_bonds(&mut report);

    println!("## Compute units per instruction ({nodes}-node round, an appeal, $dPIN round)\n");
    println!("| instruction | median CU | max CU | calls | target |");
    println!("|---|---:|---:|---:|---|");
    for (name, units) in &mut report.compute_units {
        units.sort_unstable();
        let (median, max, calls) = (units[units.len() / 2], units[units.len() - 1], units.len());
        let target = match name.as_str() {
            "ClaimSeat" => "<= 20,000 (with its draw proof)",
            "CommitUpdate" | "CommitVote" => "<= 5,000 (touches only its own account)",
            "ReportAvailability" => "<= 20,000 (reads the round, writes its seat)",
            _ => "<= 50,000",
        };
        println!("| {name} | {median} | {max} | {calls} | {target} |");
    }
    let h = Harness::bare();
    let rent = |len: usize| h.chain.svm().minimum_balance_for_rent_exemption(len);
    let leaves = VerdictLeaves::space(nodes as u32);
    println!("\n## Per node, per validator, per round\n");
    println!(
        "- transactions a node signs per round: 2 (join and commit in one, then reveal); settling is permissionless (a 3rd if the node settles itself)"
    );
    println!(
        "- transactions a drawn validator signs per round: {} (take the seat, report what it fetched, seal, reveal); settling and posting the leaves are permissionless",
        transactions
    );
    println!(
        "- rent locked per node during a round: {} lamports (node state {} B) + {} lamports (CID marker {} B), returned at settlement",
        rent(NodeState::LEN),
        NodeState::LEN,
        rent(CidMarker::LEN),
        CidMarker::LEN
    );
    println!(
        "- verdict leaves on-chain: {LEAF_LEN} B per node, {} lamports of rent per node; {nodes} nodes: {leaves} B ({} lamports, {} chunks of {LEAVES_PER_CHUNK}), returned to the poster at close",
        rent(LEAF_LEN) - rent(0),
        rent(leaves),
        (nodes as u32).div_ceil(LEAVES_PER_CHUNK)
    );
    println!(
        "- per seat: {} lamports ({} B), returned at settlement; per validator, once: its bond account {} B ({} lamports)",
        rent(Seat::SPACE),
        Seat::SPACE,
        ValidatorBond::LEN,
        rent(ValidatorBond::LEN)
    );
    println!(
        "- reputation account, once per node ever: {} lamports ({} B); a third party's top-up record {} B",
        rent(Reputation::LEN),
        Reputation::LEN,
        Contribution::LEN
    );
    println!(
        "- per round: round {} B ({} lamports), vault {} B, all returned at close",
        Round::LEN,
        rent(Round::LEN),
        Vault::LEN,
    );
    println!(
        "\n{nodes} nodes in {:.1} s wall time",
        started.elapsed().as_secs_f64()
    );
}

/// A SOL round of `nodes` nodes through every step, an absence and a confirmed appeal; returns
/// the transactions one drawn validator signed.
fn sol_round(report: &mut Report, nodes: usize) -> usize {
    let mut h = Harness::new();
    let program = h.program;
    // Each seat locks about half of what the round puts at risk: bonds sized for 1,024 stakes.
    let validators: Vec<Keypair> = (0..12).map(|_| h.funded(60)).collect();
    for v in &validators {
        let ix = builders::register_validator(&program, &v.pubkey(), 50 * LAMPORTS_PER_SOL);
        report.send(&mut h, ix, &[v], "");
    }
    let leaver = h.funded(20);
    let ix = builders::register_validator(&program, &leaver.pubkey(), 5 * LAMPORTS_PER_SOL);
    report.send(&mut h, ix, &[&leaver], "");
    let ix = builders::top_up_bond(&program, &leaver.pubkey(), LAMPORTS_PER_SOL);
    report.send(&mut h, ix, &[&leaver], "");
    // A bond changes once, then once per unbonding delay.
    let unbonding = h
        .state::<droppin_interface::state::ProtocolConfig>(&find::config(&program))
        .unwrap()
        .params
        .committee
        .unbonding_slots;
    let slot = h.slot();
    h.warp(slot + unbonding);
    let ix = builders::unbond(&program, &leaver.pubkey(), LAMPORTS_PER_SOL);
    report.send(&mut h, ix, &[&leaver], "");
    let slot = h.slot();
    h.warp(slot + 1);

    let funder = h.funded(100);
    let id = h.next_round_id();
    let mut args = droppin_tests::round_args(h.slot(), 10 * LAMPORTS_PER_SOL);
    args.max_nodes = nodes as u32;
    args.committee_size = 5;
    report.send(
        &mut h,
        builders::open_round(&program, &funder.pubkey(), id, args),
        &[&funder],
        "",
    );
    let run = RoundRun {
        round: find::round(&program, id),
        deadlines: h
            .state::<Round>(&find::round(&program, id))
            .unwrap()
            .deadlines,
        funder,
    };
    let patron = h.funded(10);
    let ix = builders::fund_round(&program, &patron.pubkey(), &run.round, LAMPORTS_PER_SOL);
    report.send(&mut h, ix, &[&patron], "");
    let all: Vec<Node> = (0..nodes)
        .map(|i| {
            let mut node = Node::new(&mut h, (i % 250) as u8 + 1);
            // Distinct CIDs beyond 250 nodes.
            node.cid = Cid::from_digest(&Sha256::hashv(&[&(i as u64).to_le_bytes()]));
            node
        })
        .collect();
    for n in &all {
        report.send(
            &mut h,
            builders::join_round(&program, &n.address(), &run.round),
            &[&n.key],
            "",
        );
        let ix = builders::commit_update(&program, &n.address(), &run.round, n.commitment());
        report.send(&mut h, ix, &[&n.key], "");
    }
    h.warp(run.deadlines.commit);
    for n in &all {
        let ix = builders::reveal_update(&program, &n.address(), &run.round, n.cid, n.salt, 10);
        report.send(&mut h, ix, &[&n.key], "");
    }
    let weight = (10_000 / nodes) as u16;
    let mut leaves: Vec<Leaf> = (0..nodes)
        .map(|i| {
            if i % 10 == 9 {
                leaf(Outcome::Slashed, 0)
            } else {
                accepted(weight)
            }
        })
        .collect();
    let given: u32 = leaves.iter().map(|l| u32::from(l.weight_bps)).sum();
    leaves[0].weight_bps += (10_000 - given) as u16;
    let (tree, vote) = run.verdict(&leaves);

    h.warp(run.deadlines.reveal + 1);
    report.send(
        &mut h,
        builders::draw_committee(&program, &run.round, 0),
        &[&run.funder],
        "",
    );
    let drawn = run.drawn(&h, &validators, 0);
    let (absent, seated) = drawn.split_last().expect("someone is drawn");
    let mut signed = 0;
    // Every seat fetched every revealed update.
    let fetched = Availability::of(0..nodes as u32).report(nodes as u32);
    for v in seated {
        report.send(
            &mut h,
            builders::claim_seat(&program, &v.pubkey(), &run.round, 0),
            &[v],
            "",
        );
        let ix =
            builders::report_availability(&program, &v.pubkey(), &run.round, 0, fetched.clone());
        report.send(&mut h, ix, &[v], "");
    }
    h.warp(availability_deadline(&run.state(&h).committees[0]));
    for v in seated {
        let (sealed, _) = run.sealed(v, 0, &vote);
        let ix = builders::commit_vote(&program, &v.pubkey(), &run.round, 0, sealed);
        report.send(&mut h, ix, &[v], "");
    }
    signed += 3;
    h.warp(run.deadlines.validation);
    let reporter = h.funded(5);
    let ix = builders::report_absent(
        &program,
        &reporter.pubkey(),
        &run.round,
        &absent.pubkey(),
        0,
    );
    report.send(&mut h, ix, &[&reporter], "");
    for v in seated {
        let (_, salt) = run.sealed(v, 0, &vote);
        let ix = builders::reveal_vote(&program, &v.pubkey(), &run.round, 0, vote, salt);
        report.send(&mut h, ix, &[v], "");
    }
    signed += 1;
    h.warp(run.deadlines.vote_reveal);
    let ix = builders::finalize_round(&program, &run.round, &seated[0].pubkey());
    report.send(&mut h, ix, &[&run.funder], "");
    for chunk in 0..tree.chunks() {
        let ix = builders::post_verdict_leaves(
            &program,
            &seated[0].pubkey(),
            &run.round,
            0,
            &tree,
            chunk,
        );
        report.send(&mut h, ix, &[seated[0]], "");
    }

    // A frivolous appeal, confirmed by the appeal's committee.
    let appellant = &all[0];
    h.chain
        .airdrop(&appellant.address(), 20 * LAMPORTS_PER_SOL)
        .unwrap();
    report.send(
        &mut h,
        builders::appeal(&program, &appellant.address(), &run.round),
        &[&appellant.key],
        "",
    );
    let filed = run.state(&h).appeal.filed_slot;
    h.warp(filed + 2);
    report.send(
        &mut h,
        builders::draw_committee(&program, &run.round, 1),
        &[&run.funder],
        "",
    );
    let rest: Vec<Keypair> = validators
        .iter()
        .filter(|v| !drawn.iter().any(|d| d.pubkey() == v.pubkey()))
        .map(|v| v.insecure_clone())
        .collect();
    let second = run.drawn(&h, &rest, 1);
    for v in &second {
        report.send(
            &mut h,
            builders::claim_seat(&program, &v.pubkey(), &run.round, 1),
            &[v],
            "",
        );
        let (sealed, _) = run.sealed(v, 1, &vote);
        let ix = builders::commit_vote(&program, &v.pubkey(), &run.round, 1, sealed);
        report.send(&mut h, ix, &[v], "");
    }
    h.warp(run.state(&h).committees[1].vote_deadline);
    for v in &second {
        let (_, salt) = run.sealed(v, 1, &vote);
        let ix = builders::reveal_vote(&program, &v.pubkey(), &run.round, 1, vote, salt);
        report.send(&mut h, ix, &[v], "");
    }
    h.warp(run.state(&h).committees[1].reveal_deadline);
    report.send(
        &mut h,
        builders::resolve_appeal(&program, &run.round, None),
        &[&run.funder],
        "",
    );
    run.wait_out_appeals(&mut h);

    for n in &all {
        let ix = run.settle_node_ix(&h, &run.funder.pubkey(), &n.address());
        report.send(&mut h, ix, &[&run.funder], "");
    }
    for (level, seats) in [(0u8, seated.to_vec()), (1, second.clone())] {
        for v in seats {
            let ix = builders::settle_seat(
                &program,
                &v.pubkey(),
                &run.round,
                &v.pubkey(),
                level,
                &v.pubkey(),
            );
            report.send(&mut h, ix, &[v], "");
        }
    }
    let ix = builders::settle_seat(
        &program,
        &reporter.pubkey(),
        &run.round,
        &absent.pubkey(),
        0,
        &reporter.pubkey(),
    );
    report.send(&mut h, ix, &[&reporter], "");
    let ix = builders::settle_appeal(&program, &run.round, &appellant.address());
    report.send(&mut h, ix, &[&run.funder], "");
    let ix = builders::refund_contribution(&program, &run.round, &patron.pubkey());
    report.send(&mut h, ix, &[&run.funder], "");
    let payer = Some(seated[0].pubkey());
    let ix = builders::close_round(&program, &run.round, &run.funder.pubkey(), [payer, None]);
    report.send(&mut h, ix, &[&run.funder], "");

    // A round nobody joins times out.
    let id = h.next_round_id();
    let args = droppin_tests::round_args(h.slot(), LAMPORTS_PER_SOL);
    report.send(
        &mut h,
        builders::open_round(&program, &run.funder.pubkey(), id, args),
        &[&run.funder],
        "",
    );
    let failing = find::round(&program, id);
    let deadline = h.state::<Round>(&failing).unwrap().deadlines.commit;
    h.warp(deadline);
    report.send(
        &mut h,
        builders::crank_timeout(&program, &failing),
        &[&run.funder],
        "",
    );
    let at = h.bond(&leaver.pubkey()).unbond_at;
    h.warp(at);
    report.send(
        &mut h,
        builders::withdraw_bond(&program, &leaver.pubkey()),
        &[&leaver],
        "",
    );
    signed
}

/// Initializing the protocol and a timelocked parameter change.
fn record_config(report: &mut Report) {
    let mut h = Harness::bare();
    let admin = h.funded(10);
    h.chain.set_upgrade_authority(&admin.pubkey()).unwrap();
    let params = droppin_tests::test_params();
    let ix = builders::initialize_config(&h.program, &admin.pubkey(), params);
    report.send(&mut h, ix, &[&admin], "");
    let mut next = params;
    next.fee_bps += 100;
    let ix = builders::update_config(&h.program, &admin.pubkey(), next, None);
    report.send(&mut h, ix, &[&admin], "");
    h.warp(h.slot() + params.timelock_slots);
    let apply = builders::apply_config(&h.program);
    report.send(&mut h, apply, &[&admin], "");
}

/// $dPIN: the launch, a pre-launch round's conversion, both kinds of swap batch and a 4-node
/// token round, recorded under "($dPIN)" names where an instruction has both forms.
fn record_dpin(report: &mut Report) {
    let mut h = Harness::new();
    let program = h.program;
    let validators = h.validators(6, 5);
    let pre_launch = RoundRun::open(&mut h, 2 * LAMPORTS_PER_SOL, |_| {});
    let slot = h.slot();
    h.warp(slot + 1);
    let admin = h.admin.insecure_clone();
    let dpin = Dpin::mint_only(&mut h);
    let launch = builders::launch_token(&program, &admin.pubkey(), &dpin.mint);
    report.send(&mut h, launch, &[&admin], "");
    let market = h.funded(10);
    dpin.give(&mut h, &market.pubkey(), 1_000_000 * DPIN);
    let funder = pre_launch.funder.insecure_clone();
    let convert =
        builders::convert_round(&program, &funder.pubkey(), &pre_launch.round, &dpin.mint);
    report.send(&mut h, convert, &[&funder], "");
    let round: Round = pre_launch.state(&h);
    let swap = h
        .state::<droppin_interface::state::ProtocolConfig>(&find::config(&program))
        .unwrap()
        .params
        .swap;
    let token_vault = solana_address::Address::from(round.token_vault);
    let lamports = round.unconverted;
    let out = swap.to_dpin(lamports) * 102 / 100;
    let ixs = dpin.batch(
        &h,
        &funder,
        lamports,
        Some(&pre_launch.round),
        dpin.route(&funder, &market, &token_vault, lamports, out),
    );
    h.send(&ixs, &[&funder, &market]).unwrap();
    let units = h.chain.program_units().to_vec();
    let record = |report: &mut Report, name: &str, units: u64| {
        report
            .compute_units
            .entry(name.into())
            .or_default()
            .push(units);
    };
    record(report, "BeginSwap", units[0]);
    record(report, "EndSwap (conversion)", units[1]);
    let caller = h.funded(10);
    let lamports = LAMPORTS_PER_SOL / 100;
    let treasury_token = find::treasury_token(&program);
    let ixs = dpin.batch(
        &h,
        &caller,
        lamports,
        None,
        dpin.route(
            &caller,
            &market,
            &treasury_token,
            lamports,
            swap.to_dpin(lamports) * 102 / 100,
        ),
    );
    h.send(&ixs, &[&caller, &market]).unwrap();
    let units = h.chain.program_units().to_vec();
    record(report, "BeginSwap", units[0]);
    record(report, "EndSwap (buy and burn)", units[1]);

    // A 4-node $dPIN round.
    let funder = h.funded(10);
    dpin.give(&mut h, &funder.pubkey(), 2_000 * DPIN);
    let id = h.next_round_id();
    let mut args = droppin_tests::round_args(h.slot(), 1_000 * DPIN);
    args.node_stake = STAKE;
    args.currency = droppin_interface::state::Currency::Dpin;
    let round = find::round(&program, id);
    let open = dpin.ix(
        builders::open_round(&program, &funder.pubkey(), id, args),
        &round,
        &funder.pubkey(),
    );
    report.send(&mut h, open, &[&funder], " ($dPIN)");
    let run = RoundRun {
        round,
        deadlines: h.state::<Round>(&round).unwrap().deadlines,
        funder,
    };
    let fund = dpin.ix(
        builders::fund_round(&program, &run.funder.pubkey(), &round, 100 * DPIN),
        &round,
        &run.funder.pubkey(),
    );
    report.send(&mut h, fund, &[&run.funder], " ($dPIN)");
    let nodes: Vec<Node> = (0..4).map(|i| Node::new(&mut h, i + 1)).collect();
    for n in &nodes {
        dpin.give(&mut h, &n.address(), STAKE);
        let join = dpin.ix(
            builders::join_round(&program, &n.address(), &round),
            &round,
            &n.address(),
        );
        report.send(&mut h, join, &[&n.key], " ($dPIN)");
        let ix = builders::commit_update(&program, &n.address(), &round, n.commitment());
        h.send(&[ix], &[&n.key]).unwrap();
    }
    h.warp(run.deadlines.commit);
    for n in &nodes {
        run.reveal(&mut h, n).unwrap();
    }
    let (tree, vote) = run.verdict(&[
        accepted(5_000),
        accepted(5_000),
        leaf(Outcome::Slashed, 0),
        leaf(Outcome::Excluded, 0),
    ]);
    run.draw(&mut h, 0).unwrap();
    let drawn = run.drawn(&h, &validators, 0);
    let votes: Vec<_> = drawn.iter().map(|v| (*v, Some(vote))).collect();
    run.judge(&mut h, 0, &votes);
    run.finalize(&mut h, drawn[0]).unwrap();
    run.post(&mut h, drawn[0], 0, &tree).unwrap();
    run.wait_out_appeals(&mut h);
    for n in &nodes {
        let ix = dpin.ix(
            run.settle_node_ix(&h, &n.address(), &n.address()),
            &round,
            &n.address(),
        );
        report.send(&mut h, ix, &[&n.key], " ($dPIN)");
    }
    for v in &drawn {
        dpin.give(&mut h, &v.pubkey(), 0);
        let ix = builders::settle_seat(&program, &v.pubkey(), &round, &v.pubkey(), 0, &v.pubkey());
        report.send(&mut h, dpin.ix(ix, &round, &v.pubkey()), &[v], " ($dPIN)");
    }
    dpin.give(&mut h, &run.funder.pubkey(), 0);
    let payers = [Some(drawn[0].pubkey()), None];
    let close = dpin.ix(
        builders::close_round(&program, &round, &run.funder.pubkey(), payers),
        &round,
        &run.funder.pubkey(),
    );
    report.send(&mut h, close, &[&run.funder], " ($dPIN)");
}

/// $dPIN bonds: registration, a top-up, a SOL round whose drawn committee is $dPIN-bonded (an
/// absence and every seat settled), then an unbond and a closing withdrawal, recorded under
/// "($dPIN bond)" names.
fn record_dpin_bonds(report: &mut Report) {
    const SUFFIX: &str = " ($dPIN bond)";
    let mut h = Harness::new();
    let program = h.program;
    let admin = h.admin.insecure_clone();
    let dpin = Dpin::mint_only(&mut h);
    let launch = builders::launch_token(&program, &admin.pubkey(), &dpin.mint);
    h.send(&[launch], &[&admin]).unwrap();
    let bond = 5_000 * DPIN;
    let validators: Vec<Keypair> = (0..8).map(|_| h.funded(2)).collect();
    for v in &validators {
        dpin.give(&mut h, &v.pubkey(), bond + DPIN);
        let wallet = dpin.account(&v.pubkey());
        let ix =
            builders::register_dpin_validator(&program, &v.pubkey(), bond, &dpin.mint, &wallet);
        report.send(&mut h, ix, &[v], SUFFIX);
    }
    let topped = &validators[0];
    let ix = builders::top_up_bond(&program, &topped.pubkey(), DPIN);
    let ix = h.for_bond(ix, &topped.pubkey(), &topped.pubkey());
    report.send(&mut h, ix, &[topped], SUFFIX);
    let slot = h.slot();
    h.warp(slot + 1);

    let run = RoundRun::open(&mut h, LAMPORTS_PER_SOL, |args| args.committee_size = 5);
    let nodes: Vec<Node> = (0..2).map(|i| Node::new(&mut h, i + 1)).collect();
    for n in &nodes {
        run.join_and_commit(&mut h, n);
    }
    h.warp(run.deadlines.commit);
    for n in &nodes {
        run.reveal(&mut h, n).unwrap();
    }
    let (tree, vote) = run.verdict(&[accepted(5_000), accepted(5_000)]);
    run.draw(&mut h, 0).unwrap();
    let drawn = run.drawn(&h, &validators, 0);
    let (absent, sitting) = drawn.split_last().expect("a drawn committee");
    let votes: Vec<_> = sitting.iter().map(|v| (*v, Some(vote))).collect();
    run.judge(&mut h, 0, &votes);
    let reporter = h.funded(2);
    dpin.give(&mut h, &reporter.pubkey(), 0);
    let ix = builders::report_absent(
        &program,
        &reporter.pubkey(),
        &run.round,
        &absent.pubkey(),
        0,
    );
    let ix = h.for_bond(ix, &absent.pubkey(), &reporter.pubkey());
    report.send(&mut h, ix, &[&reporter], SUFFIX);
    run.finalize(&mut h, sitting[0]).unwrap();
    run.post(&mut h, sitting[0], 0, &tree).unwrap();
    run.wait_out_appeals(&mut h);
    for n in &nodes {
        run.settle_node(&mut h, n).unwrap();
    }
    for v in drawn.iter() {
        let seat: droppin_interface::state::Seat = h
            .state(&find::seat(&program, &run.round, &v.pubkey(), 0))
            .unwrap();
        let ix = builders::settle_seat(
            &program,
            &reporter.pubkey(),
            &run.round,
            &v.pubkey(),
            0,
            &solana_address::Address::new_from_array(seat.payer),
        );
        let ix = h.for_seat_bond(ix, &run.round, &v.pubkey());
        report.send(&mut h, ix, &[&reporter], SUFFIX);
    }
    run.close(&mut h).unwrap();

    // One that has not changed its bond since registering leaves.
    let leaver = *sitting
        .iter()
        .find(|v| v.pubkey() != topped.pubkey())
        .expect("another seat");
    let key = leaver.pubkey();
    let amount = h.bond(&key).bond;
    report.send(
        &mut h,
        builders::unbond(&program, &key, amount),
        &[leaver],
        SUFFIX,
    );
    h.warp(h.bond(&key).unbond_at);
    let ix = h.for_bond(builders::withdraw_bond(&program, &key), &key, &key);
    report.send(&mut h, ix, &[leaver], SUFFIX);
}
