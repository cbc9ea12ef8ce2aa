//! The odds that an attacker holding a share of the registry's bond controls a committee's
//! quorum, computed exactly and checked by simulating the real sortition (the interface's
//! tickets and selection rule, the coordinator's quorum rule) over many seeds; then the bond
//! sizing rule with the figures of a concrete round. Prints Markdown.
//!
//! `cargo run --release -p droppin-tests --bin quorum-odds [-- --seeds 20000]`

use clap::Parser;
use droppin_coordinator::{has_quorum, min_quorum_votes, seat_lock};
use droppin_interface::{
    LAMPORTS_PER_SOL,
    hash::{Hasher, Sha256},
    sortition::{is_selected, probability, ticket},
    state::{CommitteeDraw, ProtocolParams, Round},
};

#[derive(Parser)]
struct Args {
    /// Seeds simulated per cell.
    #[arg(long, default_value_t = 20_000)]
    seeds: u32,
}

/// Attacker bond shares, in percent.
const SHARES: [u64; 4] = [10, 20, 33, 45];
/// Expected committee sizes (an appeal's committee expects 2k + 1).
const SIZES: [u8; 3] = [7, 15, 31];
/// Honest validators sharing the rest of the bond equally.
const HONEST: u64 = 100;
/// The attacker's splits into equal sybils: the exact figure is the worst of them.
const SPLITS: [u64; 4] = [1, 10, 100, 1_000];
/// The split the simulation runs (the exact figure for it is printed beside).
const SIMULATED_SPLIT: u64 = 100;
/// Bond in the registry, in lamports.
const TOTAL_BOND: u64 = 1_000_000 * LAMPORTS_PER_SOL;

/// A round carrying the protocol's default quorum terms.
fn round_with_default_terms() -> Round {
    let params = ProtocolParams::default();
    let mut round = Round::default();
    round.terms.quorum_bps = params.committee.quorum_bps;
    round.terms.min_committee = params.committee.min_size;
    round
}

/// Whether `attacker` revealed votes out of `attacker + honest` seats are a quorum.
fn captured(round: &Round, attacker: u64, honest: u64) -> bool {
    let seats = CommitteeDraw {
        seats: u8::try_from(attacker + honest).unwrap_or(u8::MAX),
        ..CommitteeDraw::default()
    };
    attacker > 0 && has_quorum(round, &seats, u8::try_from(attacker).unwrap_or(u8::MAX))
}

/// The binomial distribution of seats won by `validators` equal bonds of `bond` each.
fn seats(validators: u64, bond: u64, expected: u8) -> Vec<f64> {
    let p = probability(bond, TOTAL_BOND, expected);
    let n = validators as usize;
    // Far in the tail nothing matters: cap the support where the mass is negligible.
    let cap = n.min(255);
    let mut pmf = vec![0.0; cap + 1];
    let (mut ln_choose, ln_p, ln_q) = (0.0f64, p.ln(), (1.0 - p).ln());
    for (k, mass) in pmf.iter_mut().enumerate() {
        if k > 0 {
            ln_choose += ((n - k + 1) as f64).ln() - (k as f64).ln();
        }
        *mass = match (p, k) {
            (p, 0) if p >= 1.0 => f64::from(n == 0),
            (p, k) if p >= 1.0 => f64::from(k == n),
            (p, 0) if p <= 0.0 => 1.0,
            (p, _) if p <= 0.0 => 0.0,
            _ => (ln_choose + k as f64 * ln_p + (n - k) as f64 * ln_q).exp(),
        };
    }
    pmf
}

/// Exact probability that an attacker with `share_percent` of the bond, split into `split`
/// equal validators, holds a quorum of a committee of `expected` seats.
fn exact(round: &Round, share_percent: u64, split: u64, expected: u8) -> f64 {
    let attacker_bond = TOTAL_BOND / 100 * share_percent;
    let attacker = seats(split, attacker_bond / split, expected);
    let honest = seats(HONEST, (TOTAL_BOND - attacker_bond) / HONEST, expected);
    let mut total = 0.0;
    for (a, pa) in attacker.iter().enumerate() {
        for (h, ph) in honest.iter().enumerate() {
            if captured(round, a as u64, h as u64) {
                total += pa * ph;
            }
        }
    }
    total
}

fn key(role: u8, index: u64) -> [u8; 32] {
    Sha256::hashv(&[&[role], &index.to_le_bytes()])
}

/// Simulated probability over `seeds` seeds, drawing with the interface's real tickets.
fn simulated(round: &Round, share_percent: u64, expected: u8, seeds: u32) -> f64 {
    let attacker_bond = TOTAL_BOND / 100 * share_percent / SIMULATED_SPLIT;
    let honest_bond = (TOTAL_BOND - TOTAL_BOND / 100 * share_percent) / HONEST;
    let attackers: Vec<[u8; 32]> = (0..SIMULATED_SPLIT).map(|i| key(1, i)).collect();
    let honest: Vec<[u8; 32]> = (0..HONEST).map(|i| key(2, i)).collect();
    let mut hits = 0u32;
    for s in 0..seeds {
        let seed = Sha256::hashv(&[b"seed", &s.to_le_bytes(), &[expected]]);
        let won = |keys: &[[u8; 32]], bond: u64| {
            keys.iter()
                .filter(|k| is_selected(ticket::<Sha256>(&seed, k), bond, TOTAL_BOND, expected))
                .count() as u64
        };
        let a = won(&attackers, attacker_bond);
        let h = won(&honest, honest_bond);
        hits += u32::from(captured(round, a, h));
    }
    f64::from(hits) / f64::from(seeds)
}

/// Three standard errors of a simulated proportion: the band the exact figure must fall in.
fn band(p: f64, seeds: u32) -> f64 {
    3.0 * (p * (1.0 - p) / f64::from(seeds)).sqrt() + 1.0 / f64::from(seeds)
}

fn percent(p: f64) -> String {
    match p {
        0.0 => "0".into(),
        p if p < 1e-6 => format!("{p:.1e}"),
        p => format!("{:.4}%", p * 100.0),
    }
}

fn main() {
    let args = Args::parse();
    let round = round_with_default_terms();
    println!(
        "### Odds of a captured quorum ({HONEST} honest validators share the rest of the bond equally)\n"
    );
    println!(
        "Exact: worst split of the attacker into 1, 10, 100 or 1,000 equal sybils. Simulated: {} seeds per cell with the real tickets, attacker split in {SIMULATED_SPLIT} (exact for that split beside it). Stealing needs the first committee and the appeal's (2k + 1 expected) both captured.\n",
        args.seeds
    );
    println!(
        "| attacker bond | expected k | first committee, exact (worst split) | simulated ({SIMULATED_SPLIT} sybils) | exact ({SIMULATED_SPLIT} sybils) | appeal committee 2k+1, exact | both, exact |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut outside = 0;
    for share in SHARES {
        for k in SIZES {
            let worst = |expected: u8| {
                SPLITS
                    .iter()
                    .map(|&split| exact(&round, share, split, expected))
                    .fold(0.0, f64::max)
            };
            let first = worst(k);
            let appeal = worst(2 * k + 1);
            let exact_split = exact(&round, share, SIMULATED_SPLIT, k);
            let sim = simulated(&round, share, k, args.seeds);
            let agrees = (sim - exact_split).abs() <= band(exact_split, args.seeds);
            outside += usize::from(!agrees);
            println!(
                "| {share}% | {k} | {} | {}{} | {} | {} | {} |",
                percent(first),
                percent(sim),
                if agrees { "" } else { " (outside 3 s.e.)" },
                percent(exact_split),
                percent(appeal),
                percent(first * appeal)
            );
        }
    }
    println!("\nSimulations outside three standard errors of the exact figure: {outside} of 12.\n");
    bond_sizing();
}

/// The bond sizing rule on a concrete round: what a captive quorum could move against what it
/// loses when an appeal overturns it.
fn bond_sizing() {
    let params = ProtocolParams::default();
    let mut round = round_with_default_terms();
    round.terms.slash_bps = params.slash_bps;
    round.pool = 920_000_000;
    round.node_stake = 20_000_000;
    round.counts.nodes_joined = 8;
    let lock = seat_lock(&round).expect("fits");
    let quorum = min_quorum_votes(&round);
    let slashable = 8 * round.node_stake * u64::from(params.slash_bps) / 10_000;
    let sol = |l: u64| l as f64 / LAMPORTS_PER_SOL as f64;
    println!("### Bond sizing: a captive quorum always loses more than it could take\n");
    println!(
        "A round with a pool of {} SOL and 8 nodes staking {} SOL (slash {}%): a verdict moves at most the pool plus every slashable stake, {} SOL. The smallest quorum is {quorum} seats ({}% of the {}-seat minimum committee), so each seat locks (pool + slashable) / {quorum} + 1 lamport = {} SOL. An overturned majority has at least {quorum} seats and loses every lock: {} SOL, more than the {} SOL it could have moved; {}% of it repays the appellant.",
        sol(round.pool),
        sol(round.node_stake),
        params.slash_bps / 100,
        sol(round.pool + slashable),
        f64::from(params.committee.quorum_bps) / 100.0,
        params.committee.min_size,
        sol(lock),
        sol(lock * quorum),
        sol(round.pool + slashable),
        params.committee.appeal_reward_bps / 100
    );
}
