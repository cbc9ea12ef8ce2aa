//! The money-path attacks replayed on the real program (LiteSVM), each to the end: every node,
//! seat and appeal settled and the round closed. For each it prints what the attacking
//! coalition ended with less what it started with (wallets, bonds and reputation accounts;
//! transaction fees included), what the honest nodes netted, and what the treasury took. Prints
//! Markdown. The captive-committee attacks are replayed a second time with the registry bonded
//! in $dPIN: tokens (held, bonded or burned) are valued at the protocol's reference price.
//!
//! `cargo run --release -p droppin-tests --bin attack-gains`

use droppin_client::token;
use droppin_interface::{
    LAMPORTS_PER_SOL, builders,
    pda::find,
    state::{ProtocolConfig, RoundStatus, dpin_covering, dpin_worth},
    verdict::{Leaf, Outcome},
};
use droppin_tests::{Dpin, Harness, Node, RoundRun, accepted, leaf};
use solana_address::Address;
use solana_keypair::Keypair;
use solana_signer::Signer;

/// Nodes in every replayed round.
const NODES: u8 = 4;

fn config(h: &Harness) -> ProtocolConfig {
    h.state(&find::config(&h.program)).expect("config")
}

/// Lamports held by `wallets`: balances, bonds and reputation accounts, and once $dPIN is
/// launched their $dPIN (wallet and bond) in lamports' worth at the reference price.
fn wealth(h: &Harness, wallets: &[Address]) -> i128 {
    let config = config(h);
    let mint = Address::new_from_array(config.token.mint);
    let tokens = |account: &Address| match config.token_launched() {
        true => token::balance(&h.chain, account).unwrap().unwrap_or(0),
        false => 0,
    };
    wallets
        .iter()
        .map(|w| {
            let dpin =
                tokens(&token::wallet_account(w, &mint)) + tokens(&find::bond_token(&h.program, w));
            i128::from(h.balance(w))
                + i128::from(h.balance(&find::bond(&h.program, w)))
                + i128::from(h.balance(&find::reputation(&h.program, w)))
                + i128::from(dpin_worth(dpin, config.params.swap.reference_price))
        })
        .sum()
}

/// What the treasury holds, with the $dPIN burned in lamports' worth.
fn treasury(h: &Harness) -> i128 {
    let burned = h.treasury().totals.dpin_burned;
    let price = config(h).params.swap.reference_price;
    i128::from(h.balance(&find::treasury(&h.program))) + i128::from(dpin_worth(burned, price))
}

/// What the registry bonds.
#[derive(Clone, Copy)]
enum Bonds {
    Sol,
    Dpin,
}

/// Ten validators bonding 10 SOL's worth each, in SOL or (after $dPIN's launch) in $dPIN.
fn registry(h: &mut Harness, bonds: Bonds) -> Vec<Keypair> {
    if let Bonds::Sol = bonds {
        return h.validators(10, 10);
    }
    let dpin = Dpin::launch(h);
    let bond = dpin_covering(10 * LAMPORTS_PER_SOL, config(h).params.swap.reference_price);
    let validators: Vec<Keypair> = (0..10).map(|_| h.funded(10)).collect();
    for v in &validators {
        dpin.give(h, &v.pubkey(), bond);
        let wallet = dpin.account(&v.pubkey());
        let ix =
            builders::register_dpin_validator(&h.program, &v.pubkey(), bond, &dpin.mint, &wallet);
        h.send(&[ix], &[v]).expect("register a $dPIN bond");
    }
    let slot = h.slot();
    h.warp(slot + 1);
    validators
}

/// One replayed attack: a funded registry of ten equal validators, a 1 SOL round, four nodes
/// that stake and commit.
struct Replay {
    h: Harness,
    registry: Vec<Keypair>,
    run: RoundRun,
    nodes: Vec<Node>,
    /// The funder's lamports before it paid for the round.
    funder_start: i128,
}

/// What an attack left each side with.
struct Gains {
    coalition: i128,
    honest_nodes: i128,
    treasury: i128,
}

impl Replay {
    fn new(bonds: Bonds) -> Replay {
        let mut h = Harness::new();
        let registry = registry(&mut h, bonds);
        let funder = h.funded(10);
        let funder_start = wealth(&h, &[funder.pubkey()]);
        let run = RoundRun::open_by(&mut h, funder, LAMPORTS_PER_SOL, |_| {});
        let nodes: Vec<Node> = (1..=NODES).map(|t| Node::new(&mut h, t)).collect();
        if config(&h).token_launched() {
            // An appellant is paid a $dPIN majority's forfeits in $dPIN.
            let mint = Address::new_from_array(config(&h).token.mint);
            let admin = h.admin.insecure_clone();
            for node in &nodes {
                let ix = token::create_wallet_account(&admin.pubkey(), &node.address(), &mint);
                h.send(&[ix], &[&admin]).unwrap();
            }
        }
        Replay {
            h,
            registry,
            run,
            nodes,
            funder_start,
        }
    }

    fn addresses(&self, nodes: &[usize]) -> Vec<Address> {
        nodes.iter().map(|&i| self.nodes[i].address()).collect()
    }

    /// Every node joins and commits; those in `reveal` reveal.
    fn train(&mut self, reveal: &[usize]) {
        for node in &self.nodes {
            self.run.join_and_commit(&mut self.h, node);
        }
        self.h.warp(self.run.deadlines.commit);
        for &i in reveal {
            self.run.reveal(&mut self.h, &self.nodes[i]).unwrap();
        }
    }

    /// Draws committee `level` and returns who was drawn (the first committee sits out an
    /// appeal).
    fn draw(&mut self, level: u8) -> Vec<Keypair> {
        self.run.draw(&mut self.h, level).unwrap();
        let first: Vec<Address> = if level == 1 {
            self.run
                .drawn(&self.h, &self.registry, 0)
                .iter()
                .map(|k| k.pubkey())
                .collect()
        } else {
            Vec::new()
        };
        self.run
            .drawn(&self.h, &self.registry, level)
            .into_iter()
            .filter(|k| !first.contains(&k.pubkey()))
            .map(|k| k.insecure_clone())
            .collect()
    }

    /// `seats` take their seats at `level`, seal and reveal the verdict over `leaves`.
    fn vote(&mut self, level: u8, seats: &[Keypair], leaves: &[Leaf]) {
        let (_, vote) = self.run.verdict(leaves);
        let votes: Vec<_> = seats.iter().map(|v| (v, Some(vote))).collect();
        self.run.judge(&mut self.h, level, &votes);
    }

    fn post(&mut self, level: u8, poster: &Keypair, leaves: &[Leaf]) {
        let (tree, _) = self.run.verdict(leaves);
        self.run.post(&mut self.h, poster, level, &tree).unwrap();
    }

    /// Fails a timed-out round.
    fn crank(&mut self) {
        let payer = self.h.funded(1);
        let ix = builders::crank_timeout(&self.h.program, &self.run.round);
        self.h.send(&[ix], &[&payer]).unwrap();
        assert_eq!(self.run.state(&self.h).status, RoundStatus::Failed);
    }

    /// Settles every node and seat (first committee first), the appeal, and closes the round.
    fn settle_all(&mut self, seats: &[(&[Keypair], u8)]) {
        self.run.wait_out_appeals(&mut self.h);
        for node in &self.nodes {
            self.run.settle_node(&mut self.h, node).unwrap();
        }
        for (keys, level) in seats {
            for v in keys.iter() {
                self.run
                    .settle_seat(&mut self.h, v, &v.pubkey(), *level)
                    .unwrap();
            }
        }
        self.run.settle_appeal_and_close(&mut self.h).unwrap();
    }
}

/// Measures `attack` on a fresh replay: the coalition is whatever wallets it returns, the
/// honest nodes those whose index it does not name.
fn measure(bonds: Bonds, attack: impl FnOnce(&mut Replay) -> (Vec<Address>, Vec<usize>)) -> Gains {
    let mut r = Replay::new(bonds);
    let everyone: Vec<Address> = r
        .registry
        .iter()
        .map(|k| k.pubkey())
        .chain(r.nodes.iter().map(Node::address))
        .chain([r.run.funder.pubkey()])
        .collect();
    let funder = r.run.funder.pubkey();
    let start: Vec<i128> = everyone
        .iter()
        .map(|a| match *a == funder {
            true => r.funder_start,
            false => wealth(&r.h, &[*a]),
        })
        .collect();
    let treasury_start = treasury(&r.h);
    let (coalition, attacking_nodes) = attack(&mut r);
    let delta = |who: &[Address]| -> i128 {
        who.iter()
            .map(|a| {
                let i = everyone.iter().position(|e| e == a).expect("a participant");
                wealth(&r.h, &[*a]) - start[i]
            })
            .sum()
    };
    let honest: Vec<usize> = (0..NODES as usize)
        .filter(|i| !attacking_nodes.contains(i))
        .collect();
    Gains {
        coalition: delta(&coalition),
        honest_nodes: delta(&r.addresses(&honest)),
        treasury: treasury(&r.h) - treasury_start,
    }
}

fn all(outcome: Outcome) -> Vec<Leaf> {
    vec![leaf(outcome, 0); NODES as usize]
}

fn honest_leaves() -> Vec<Leaf> {
    vec![accepted(10_000 / u16::from(NODES)); NODES as usize]
}

/// Finding 5 (and 1): the funder's model blob never existed, so no node can reveal.
fn funder_withholds_the_model(r: &mut Replay) -> (Vec<Address>, Vec<usize>) {
    r.train(&[]);
    r.h.warp(r.run.deadlines.reveal);
    r.crank();
    r.settle_all(&[]);
    (vec![r.run.funder.pubkey()], vec![])
}

/// Finding 1: the funder bribes the drawn committee to slash every honest node; nobody appeals.
fn captive_committee_unappealed(r: &mut Replay) -> (Vec<Address>, Vec<usize>) {
    r.train(&[0, 1, 2, 3]);
    let seats = r.draw(0);
    r.vote(0, &seats, &all(Outcome::Slashed));
    r.run.finalize(&mut r.h, &seats[0]).unwrap();
    r.post(0, &seats[0], &all(Outcome::Slashed));
    r.run.wait_out_appeals(&mut r.h);
    r.settle_all(&[(&seats, 0)]);
    let mut coalition: Vec<Address> = seats.iter().map(|k| k.pubkey()).collect();
    coalition.push(r.run.funder.pubkey());
    (coalition, vec![])
}

/// The same, and an honest node appeals: a larger committee drawn from the others overturns.
fn captive_committee_appealed(r: &mut Replay) -> (Vec<Address>, Vec<usize>) {
    r.train(&[0, 1, 2, 3]);
    let seats = r.draw(0);
    r.vote(0, &seats, &all(Outcome::Slashed));
    r.run.finalize(&mut r.h, &seats[0]).unwrap();
    r.post(0, &seats[0], &all(Outcome::Slashed));
    let appellant = &r.nodes[0];
    let ix = builders::appeal(&r.h.program, &appellant.address(), &r.run.round);
    r.h.send(&[ix], &[&appellant.key]).unwrap();
    let appeal_seats = r.draw(1);
    r.vote(1, &appeal_seats, &honest_leaves());
    let payer = r.h.funded(1);
    let ix = builders::resolve_appeal(&r.h.program, &r.run.round, Some(&appeal_seats[0].pubkey()));
    r.h.send(&[ix], &[&payer]).unwrap();
    r.post(1, &appeal_seats[0], &honest_leaves());
    r.settle_all(&[(&seats, 0), (&appeal_seats, 1)]);
    let mut coalition: Vec<Address> = seats.iter().map(|k| k.pubkey()).collect();
    coalition.push(r.run.funder.pubkey());
    (coalition, vec![])
}

/// Finding 2: the quorum votes a header counting every node accepted over leaves that pay its
/// friend alone.
fn inflated_header(r: &mut Replay) -> (Vec<Address>, Vec<usize>) {
    r.train(&[0, 1, 2, 3]);
    let seats = r.draw(0);
    let mut leaves = all(Outcome::Slashed);
    leaves[0] = accepted(10_000);
    let (tree, mut vote) = r.run.verdict(&leaves);
    (vote.accepted, vote.slashed) = (u32::from(NODES), 0);
    let votes: Vec<_> = seats.iter().map(|v| (v, Some(vote))).collect();
    r.run.judge(&mut r.h, 0, &votes);
    r.run.finalize(&mut r.h, &seats[0]).unwrap();
    assert!(r.run.post(&mut r.h, &seats[0], 0, &tree).is_err());
    r.h.warp(r.run.state(&r.h).post_deadline(0));
    r.crank();
    r.settle_all(&[(&seats, 0)]);
    let mut coalition: Vec<Address> = seats.iter().map(|k| k.pubkey()).collect();
    coalition.push(r.nodes[0].address());
    (coalition, vec![0])
}

/// Finding 4: the quorum votes and never posts the leaves (the verdict list withheld).
fn withheld_leaves(r: &mut Replay) -> (Vec<Address>, Vec<usize>) {
    r.train(&[0, 1, 2, 3]);
    let seats = r.draw(0);
    r.vote(0, &seats, &honest_leaves());
    r.run.finalize(&mut r.h, &seats[0]).unwrap();
    r.h.warp(r.run.state(&r.h).post_deadline(0));
    r.crank();
    r.settle_all(&[(&seats, 0)]);
    (seats.iter().map(|k| k.pubkey()).collect(), vec![])
}

/// Finding 3: a node judged junk waits a year for a refund instead of settling by its leaf.
fn slashed_node_waits(r: &mut Replay) -> (Vec<Address>, Vec<usize>) {
    r.train(&[0, 1, 2, 3]);
    let seats = r.draw(0);
    let mut leaves = vec![accepted(10_000 / 3); NODES as usize];
    leaves[0] = leaf(Outcome::Slashed, 0);
    r.vote(0, &seats, &leaves);
    r.run.finalize(&mut r.h, &seats[0]).unwrap();
    r.post(0, &seats[0], &leaves);
    let slot = r.h.slot();
    r.h.warp(slot + 365 * 24 * 9_000);
    r.settle_all(&[(&seats, 0)]);
    (vec![r.nodes[0].address()], vec![0])
}

/// The honest round, for reference.
fn honest_round(r: &mut Replay) -> (Vec<Address>, Vec<usize>) {
    r.train(&[0, 1, 2, 3]);
    let seats = r.draw(0);
    r.vote(0, &seats, &honest_leaves());
    r.run.finalize(&mut r.h, &seats[0]).unwrap();
    r.post(0, &seats[0], &honest_leaves());
    r.run.wait_out_appeals(&mut r.h);
    r.settle_all(&[(&seats, 0)]);
    (vec![r.run.funder.pubkey()], vec![])
}

type Attack = fn(&mut Replay) -> (Vec<Address>, Vec<usize>);

fn main() {
    let rows: [(&str, &str, Bonds, Attack); 9] = [
        (
            "reference: an honest round",
            "funder",
            Bonds::Sol,
            honest_round,
        ),
        (
            "5, 1: the funder withholds its model, every node a no-show",
            "funder",
            Bonds::Sol,
            funder_withholds_the_model,
        ),
        (
            "1: a bribed committee slashes every honest node, nobody appeals",
            "funder + drawn committee",
            Bonds::Sol,
            captive_committee_unappealed,
        ),
        (
            "1: the same, an honest node appeals and the appeal overturns",
            "funder + drawn committee",
            Bonds::Sol,
            captive_committee_appealed,
        ),
        (
            "1: the bribed committee unappealed, every bond in $dPIN",
            "funder + drawn committee",
            Bonds::Dpin,
            captive_committee_unappealed,
        ),
        (
            "1: the same appealed and overturned, every bond in $dPIN",
            "funder + drawn committee",
            Bonds::Dpin,
            captive_committee_appealed,
        ),
        (
            "2: a header counting more than its leaves, paying a friend",
            "drawn committee + friend node",
            Bonds::Sol,
            inflated_header,
        ),
        (
            "4: the quorum never posts its leaves",
            "drawn committee",
            Bonds::Sol,
            withheld_leaves,
        ),
        (
            "3: a slashed node waits a year for a refund",
            "the slashed node",
            Bonds::Sol,
            slashed_node_waits,
        ),
    ];
    println!(
        "### Attack gains after the fixes (lamports; 1 SOL round, 4 nodes staking 0.02 SOL, 10 validators bonding 10 SOL)\n"
    );
    println!("| attack (finding) | coalition | coalition's gain | honest nodes' net | treasury |");
    println!("|---|---|---:|---:|---:|");
    for (name, coalition, bonds, attack) in rows {
        let g = measure(bonds, attack);
        println!(
            "| {name} | {coalition} | {} | {} | {} |",
            g.coalition, g.honest_nodes, g.treasury
        );
    }
}
