//! Round rules without a chain: unit checks, the draw's statistics, and random whole rounds
//! (registry, seats, sealed votes, appeals, timeouts, any settlement order) that must conserve
//! every lamport, pay every floor and always close.

extern crate std;

use std::{collections::BTreeMap, vec, vec::Vec};

use droppin_interface::{
    Cid, LAMPORTS_PER_SOL, Pubkey,
    hash::{Sha256, commitment},
    instruction::{
        LANDING_MARGIN_SLOTS, OpenRoundArgs, PhaseLengths, PostLeavesArgs, RevealArgs,
        RevealVoteArgs, VerdictVote,
    },
    sortition::{self, vote_commitment},
    state::{
        AppealResolution, Contribution, Currency, FailReason, NodeState, NodeStatus,
        ProtocolParams, Registry, Reputation, Round, RoundStatus, Seat, SeatStatus, SeedAnchor,
        ValidatorBond, VerdictLeaves,
    },
    verdict::{Leaf, Outcome, VerdictTree},
};
use proptest::prelude::*;

use super::*;

const ROUND_KEY: Pubkey = [42; 32];
const FUNDER: Pubkey = [9; 32];
const PHASE: u64 = 20;
const SOL: u64 = LAMPORTS_PER_SOL;

fn params() -> ProtocolParams {
    ProtocolParams::short_phases(PHASE)
}

fn args(slot: u64, nodes: u32, amount: u64, committee_size: u8) -> OpenRoundArgs {
    let model_hash = [5; 32];
    OpenRoundArgs {
        task_cid: Cid::from_digest(&[1; 32]),
        model_hash,
        model_cid: Cid::from_digest(&model_hash),
        validation_set_hash: [2; 32],
        max_nodes: nodes,
        node_stake: 20_000_000,
        amount,
        commit: slot + PHASE,
        reveal: slot + 2 * PHASE,
        validation: slot + 3 * PHASE,
        committee_size,
        currency: Currency::Sol,
    }
}

fn keys_with(bonded_total: u64) -> RoundKeys {
    RoundKeys {
        bonded_total,
        id: 0,
        bump: 255,
        funder: FUNDER,
        vault: [8; 32],
        vault_bump: 254,
        token_vault: [0; 32],
        treasury: [7; 32],
    }
}

/// A round opened at slot 0 (8 nodes, a committee of 3) with `bonded` lamports in the registry
/// and `amount` funded.
fn opened(bonded: u64, amount: u64) -> Round {
    let mut round = Round::default();
    open_round(
        &params(),
        &keys_with(bonded),
        &args(0, 8, amount, 3),
        0,
        &mut round,
    )
    .unwrap();
    round
}

#[test]
fn a_seat_reports_what_it_fetched_until_halfway_through_validation() {
    let mut round = opened(10 * SOL, SOL);
    round.counts.nodes_joined = 3;
    let mut seat = Seat::default();
    let deadline = droppin_interface::availability::availability_deadline(&round.committees[0]);
    assert_eq!(deadline, 2 * PHASE + PHASE / 2);
    report_availability(&round, &mut seat, deadline - 1, &[0b101]).unwrap();
    assert!(seat.reported);
    assert_eq!(
        report_availability(&round, &mut seat, deadline, &[0b1]),
        Err(DropPinError::AvailabilityClosed)
    );
    assert_eq!(
        report_availability(&round, &mut seat, 0, &[0b1000]),
        Err(DropPinError::InvalidAvailability),
        "node 3 never joined"
    );
    seat.status = SeatStatus::Revealed;
    assert_eq!(
        report_availability(&round, &mut seat, 0, &[0b1]),
        Err(DropPinError::VoteAlreadyRevealed)
    );
    seat.status = SeatStatus::Seated;
    round.status = RoundStatus::Failed;
    assert_eq!(
        report_availability(&round, &mut seat, 0, &[0b1]),
        Err(DropPinError::RoundNotOpen)
    );
}

#[test]
fn open_round_checks_its_inputs() {
    let params = params();
    let ok = args(0, 8, SOL, 3);
    let mut round = Round::default();
    let funding = open_round(&params, &keys_with(10 * SOL), &ok, 0, &mut round).unwrap();
    assert_eq!(funding.fee, 80_000_000);
    assert_eq!(round.pool, 920_000_000);
    assert_eq!(round.funder_pool, round.pool);
    assert_eq!(round.committees[0].expected, 3);
    assert_eq!(round.committees[1].expected, 7, "an appeal draws 2k + 1");
    assert_eq!(round.deadlines.vote_reveal, ok.validation + PHASE);

    let fails = |tweak: fn(&mut OpenRoundArgs), bonded: u64| {
        let mut bad = ok.clone();
        tweak(&mut bad);
        open_round(&params, &keys_with(bonded), &bad, 0, &mut Round::default()).unwrap_err()
    };
    assert_eq!(
        fails(|a| a.committee_size = 2, SOL),
        DropPinError::InvalidCommitteeSize
    );
    assert_eq!(
        fails(|a| a.committee_size = 32, SOL),
        DropPinError::InvalidCommitteeSize
    );
    assert_eq!(fails(|_| {}, 0), DropPinError::NoValidators);
    assert_eq!(
        fails(|a| a.reveal = a.commit, SOL),
        DropPinError::InvalidDeadlines
    );
    assert_eq!(
        fails(|a| a.commit = PHASE - 1, SOL),
        DropPinError::InvalidDeadlines,
        "phases are at least the protocol's minimum"
    );
    assert_eq!(
        fails(|a| a.max_nodes = 0, SOL),
        DropPinError::InvalidRoundParams
    );
    assert_eq!(
        fails(|a| a.node_stake = 1, SOL),
        DropPinError::InvalidRoundParams
    );
    assert_eq!(
        fails(|a| a.model_hash = [6; 32], SOL),
        DropPinError::InvalidCid
    );
    assert_eq!(
        fails(|a| a.task_cid = Cid::EMPTY, SOL),
        DropPinError::InvalidCid,
        "a round names the task it trains"
    );
}

#[test]
fn the_default_phases_are_hours_and_a_ten_slot_round_is_refused() {
    let params = ProtocolParams::default();
    let mut short = args(0, 8, SOL, 3);
    short.commit = 10;
    short.reveal = 20;
    short.validation = 30;
    assert_eq!(
        open_round(&params, &keys_with(SOL), &short, 0, &mut Round::default()).unwrap_err(),
        DropPinError::InvalidDeadlines
    );
}

/// The lengths a funder's client accepts are ones the program takes wherever within the landing
/// margin the opening lands, and what the client refuses the program refuses somewhere in it (a
/// training too long by one slot when it lands at once, one too short when it lands late).
#[test]
fn phase_lengths_the_clients_accept_are_the_ones_the_program_takes() {
    let params = ProtocolParams::default();
    let (min, max) = (params.min_phase_slots, params.max_phase_slots);
    let longest = PhaseLengths::longest_training(&params);
    let opens = |lengths: PhaseLengths, asked: u64, landed: u64| {
        let (commit, reveal, validation) = lengths.deadlines(asked);
        let ix = OpenRoundArgs {
            commit,
            reveal,
            validation,
            ..args(0, 8, SOL, 3)
        };
        open_round(&params, &keys_with(SOL), &ix, landed, &mut Round::default()).is_ok()
    };
    for (training, review, expected) in [
        (min, min, (true, true)),
        (longest, max, (true, true)),
        (6 * min, min, (true, true)),
        (min - 1, min, (false, true)),
        (longest + 1, min, (false, true)),
        (min, min - 1, (true, false)),
        (min, max + 1, (true, false)),
    ] {
        let lengths = PhaseLengths { training, review };
        let allowed = lengths.allowed(&params);
        assert_eq!(allowed, expected, "{lengths:?}");
        if allowed.0 && allowed.1 {
            for delay in [0, LANDING_MARGIN_SLOTS / 2, LANDING_MARGIN_SLOTS] {
                assert!(
                    opens(lengths, 1_000, 1_000 + delay),
                    "{lengths:?} landing {delay} slots late"
                );
            }
        } else {
            let refused_at = |delay| !opens(lengths, 1_000, 1_000 + delay);
            assert!(
                refused_at(0) || refused_at(LANDING_MARGIN_SLOTS),
                "{lengths:?}"
            );
        }
    }
    assert_eq!(
        PhaseLengths::uniform(min).deadlines(0),
        (
            LANDING_MARGIN_SLOTS + min,
            LANDING_MARGIN_SLOTS + 2 * min,
            LANDING_MARGIN_SLOTS + 3 * min
        )
    );
}

#[test]
fn a_seat_lock_exceeds_what_the_smallest_captive_quorum_could_move() {
    let mut round = opened(SOL, 5 * SOL);
    round.counts.nodes_joined = 8;
    let lock = seat_lock(&round).unwrap();
    let at_risk = round.pool + 8 * bps_of(round.node_stake, round.terms.slash_bps);
    assert_eq!(min_quorum_votes(&round), 2, "2 of 3 seats");
    assert!(lock * min_quorum_votes(&round) > at_risk);
}

#[test]
fn quorum_is_measured_against_at_least_the_smallest_committee() {
    let round = opened(SOL, SOL);
    let mut committee = round.committees[0];
    committee.seats = 1;
    assert!(
        !has_quorum(&round, &committee, 1),
        "one seat alone is never a quorum"
    );
    assert!(has_quorum(&round, &committee, 2));
    committee.seats = 9;
    assert!(!has_quorum(&round, &committee, 5));
    assert!(has_quorum(&round, &committee, 6));
}

/// A round whose first committee has `seats` seats, all committed, its vote reveals open.
fn committee_of(seats: u8) -> (Round, u64) {
    let mut round = opened(SOL, SOL);
    let committee = &mut round.committees[0];
    committee.drawn = true;
    committee.seats = seats;
    committee.vote_deadline = 100;
    committee.reveal_deadline = 200;
    (round, 100)
}

/// A vote no check refuses (no node joined), told apart by `tag`.
fn vote_tagged(tag: u8) -> VerdictVote {
    let model = [tag; 32];
    VerdictVote {
        leaves_root: [tag; 32],
        new_model_hash: model,
        new_model_cid: Cid::from_digest(&model),
        verdict_list_cid: Cid::from_digest(&[3; 32]),
        accepted: 0,
        excluded: 0,
        slashed: 0,
        no_shows: 0,
        weight_sum_bps: 0,
    }
}

/// Seat `index` of `round`'s first committee seals `vote` and reveals it at `slot`.
fn seal_and_reveal(round: &mut Round, index: u8, vote: &VerdictVote, slot: u64) {
    let validator = [index; 32];
    let mut seat = Seat {
        round: ROUND_KEY,
        validator,
        vote_deadline: round.committees[0].vote_deadline,
        ..Seat::default()
    };
    let salt = [index ^ 0x33; 32];
    let sealed =
        vote_commitment::<Sha256>(&ROUND_KEY, &validator, 0, &vote.digest::<Sha256>(), &salt);
    commit_vote(&mut seat, 0, sealed).unwrap();
    let opening = RevealVoteArgs {
        level: 0,
        vote: *vote,
        salt,
    };
    reveal_vote::<Sha256>(round, &ROUND_KEY, &mut seat, slot, &opening).unwrap();
}

#[test]
fn junk_verdicts_revealed_first_cannot_crowd_out_the_honest_one() {
    // 31 seats, 8 of them a funder's sybils (a quarter: too few to block the quorum by staying
    // silent or by voting against it). The slot leader puts their reveals first, eight verdicts
    // differing in one root, each taking a tally; every honest reveal used to find no tally left
    // and count for none, so no verdict had the quorum and the funder got its pool back.
    let honest = vote_tagged(200);
    let (mut round, slot) = committee_of(31);
    for sybil in 0..8 {
        seal_and_reveal(&mut round, sybil, &vote_tagged(sybil), slot);
    }
    for seat in 8..31 {
        seal_and_reveal(&mut round, seat, &honest, slot);
    }
    let committee = &round.committees[0];
    assert_eq!(committee.votes_for(&honest.digest::<Sha256>()), 23);
    assert!(has_quorum(&round, committee, 23));

    // When every tally is taken, junk pushes out the least-voted, oldest one: eight junk
    // reveals right after the honest verdict's first vote push out its tally and that vote, so
    // sybils take at most one honest vote per eight of them. Ten sybils interleaved with the
    // reveals so: the honest verdict keeps 20 of its 21 votes.
    let (mut round, slot) = committee_of(31);
    let mut sybils = 0..10u8;
    for seat in 10..31 {
        seal_and_reveal(&mut round, seat, &honest, slot);
        for sybil in sybils.by_ref().take(if seat == 10 { 8 } else { 1 }) {
            seal_and_reveal(&mut round, sybil, &vote_tagged(sybil), slot);
        }
    }
    let honest_votes = |round: &Round| round.committees[0].votes_for(&honest.digest::<Sha256>());
    assert_eq!(honest_votes(&round), 20);

    // With two votes in, junk with one vote each only pushes out junk.
    let (mut round, slot) = committee_of(31);
    for seat in (0..2).chain(12..31) {
        if seat == 12 {
            for sybil in 2..12 {
                seal_and_reveal(&mut round, sybil, &vote_tagged(sybil), slot);
            }
        }
        seal_and_reveal(&mut round, seat, &honest, slot);
    }
    assert_eq!(honest_votes(&round), 21);
}

#[test]
fn config_changes_wait_out_the_timelock_in_bounded_steps() {
    let mut config = droppin_interface::state::ProtocolConfig {
        admin: [1; 32],
        params: params(),
        ..Default::default()
    };
    let mut next = config.params;
    next.fee_bps += 100;
    assert_eq!(
        propose_config(&mut config, &[2; 32], &next, None, 0),
        Err(DropPinError::Unauthorized)
    );
    let mut jump = config.params;
    jump.slash_bps = 10_000;
    assert_eq!(
        propose_config(&mut config, &[1; 32], &jump, None, 0),
        Err(DropPinError::ConfigStepTooLarge)
    );
    propose_config(&mut config, &[1; 32], &next, Some([3; 32]), 100).unwrap();
    assert_eq!(
        apply_config(&mut config, 100 + PHASE - 1),
        Err(DropPinError::TimelockActive)
    );
    apply_config(&mut config, 100 + PHASE).unwrap();
    assert_eq!(config.params.fee_bps, next.fee_bps);
    assert_eq!(config.admin, [3; 32]);
    assert_eq!(
        apply_config(&mut config, 1_000),
        Err(DropPinError::NoPendingConfig)
    );
}

/// Seats won by each of `bonds` over `draws` seeds, `expected` seats expected.
fn seat_counts(bonds: &[u64], expected: u8, draws: u32) -> Vec<u32> {
    let total: u64 = bonds.iter().sum();
    let mut counts = vec![0u32; bonds.len()];
    for draw in 0..draws {
        let seed = sortition::seed::<Sha256>(
            &ROUND_KEY,
            0,
            &[0; 32],
            &draw.to_le_bytes().repeat(8).try_into().unwrap(),
        );
        for (i, &bond) in bonds.iter().enumerate() {
            let validator = [i as u8 + 1; 32];
            let ticket = sortition::ticket::<Sha256>(&seed, &validator);
            if sortition::is_selected(ticket, bond, total, expected) {
                counts[i] += 1;
            }
        }
    }
    counts
}

#[test]
fn seat_frequencies_follow_bond_shares_over_ten_thousand_seeds() {
    // Five validators bonding 1..5 SOL, 2 seats expected: chances 2/15 .. 10/15.
    let bonds: Vec<u64> = (1..=5).map(|b| b * SOL).collect();
    let total: u64 = bonds.iter().sum();
    let draws = 10_000u32;
    let counts = seat_counts(&bonds, 2, draws);
    // Each count is binomial; the sum of squared standardized deviations is chi-square with 5
    // degrees of freedom under the hypothesis that seats follow bond shares.
    let chi2: f64 = bonds
        .iter()
        .zip(&counts)
        .map(|(&bond, &count)| {
            let p = sortition::probability(bond, total, 2);
            let n = f64::from(draws);
            (f64::from(count) - n * p).powi(2) / (n * p * (1.0 - p))
        })
        .sum();
    // 20.52 is the 99.9th percentile of chi-square(5): p = 0.001.
    assert!(chi2 < 20.52, "chi-square {chi2:.2} over counts {counts:?}");
    let mean_seats = f64::from(counts.iter().sum::<u32>()) / f64::from(draws);
    assert!(
        (mean_seats - 2.0).abs() < 0.05,
        "mean committee {mean_seats}"
    );
}

#[test]
fn splitting_a_bond_over_sybils_buys_no_extra_seats() {
    let draws = 10_000;
    let whole = seat_counts(&[5 * SOL, 10 * SOL], 3, draws);
    let split = seat_counts(&[SOL, SOL, SOL, SOL, SOL, 10 * SOL], 3, draws);
    let whole_seats = f64::from(whole[0]);
    let sybil_seats = f64::from(split[..5].iter().sum::<u32>());
    // Same expectation (1 seat per draw); the difference is noise (sd about 130 seats).
    assert!(
        (whole_seats - sybil_seats).abs() < 500.0,
        "{whole_seats} seats whole, {sybil_seats} split"
    );
}

// --- Whole rounds ------------------------------------------------------------------------

/// A small deterministic generator for the simulation's choices.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// Where the lamports are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    Funder,
    Treasury,
    Vault,
    Appellant,
    Contributor(usize),
    Node(usize),
    Wallet(usize),
    Bond(usize),
}

struct Ledger(BTreeMap<Who, u64>);

impl Ledger {
    fn pay(&mut self, from: Who, to: Who, amount: u64) {
        let balance = self.0.entry(from).or_insert(0);
        assert!(
            *balance >= amount,
            "{from:?} holds {balance}, pays {amount}"
        );
        *balance -= amount;
        *self.0.entry(to).or_insert(0) += amount;
    }

    fn of(&self, who: Who) -> u64 {
        self.0.get(&who).copied().unwrap_or(0)
    }

    fn total(&self) -> u128 {
        self.0.values().map(|&v| u128::from(v)).sum()
    }
}

const PLENTY: u64 = 1_000_000 * SOL;

struct Sim {
    dice: Dice,
    ledger: Ledger,
    /// $dPIN, where a third of the validators bond (its burns land on `Who::Treasury`).
    dpin: Ledger,
    round: Round,
    registry: Registry,
    bonds: Vec<ValidatorBond>,
    nodes: Vec<NodeState>,
    reputations: Vec<Reputation>,
    salts: Vec<[u8; 32]>,
    contributions: Vec<Contribution>,
    seats: Vec<Seat>,
    verdicts: BTreeMap<[u8; 32], VerdictTree>,
    slot: u64,
}

impl Sim {
    fn new(seed: u64) -> Sim {
        let mut dice = Dice(seed | 1);
        let mut ledger = Ledger(BTreeMap::new());
        for who in [Who::Funder, Who::Appellant] {
            ledger.0.insert(who, PLENTY);
        }
        let mut dpin = Ledger(BTreeMap::new());
        let mut registry = Registry::default();
        let validators = 6 + dice.below(12) as usize;
        let mut bonds = Vec::new();
        let price = params().swap.reference_price;
        for v in 0..validators {
            ledger.0.insert(Who::Wallet(v), PLENTY);
            dpin.0.insert(Who::Wallet(v), params().swap.to_dpin(PLENTY));
            let currency = if dice.chance(33) {
                Currency::Dpin
            } else {
                Currency::Sol
            };
            let worth = (1 + dice.below(20)) * SOL;
            let amount = match currency {
                Currency::Sol => worth,
                Currency::Dpin => droppin_interface::state::dpin_covering(worth, price),
            };
            let new = NewBond {
                validator: &[100 + v as u8; 32],
                amount,
                currency,
            };
            let bond = register_validator(&mut registry, new, SOL, price, 1).unwrap();
            let books = match currency {
                Currency::Sol => &mut ledger,
                Currency::Dpin => &mut dpin,
            };
            books.pay(Who::Wallet(v), Who::Bond(v), amount);
            bonds.push(bond);
        }
        Sim {
            dice,
            ledger,
            dpin,
            round: Round::default(),
            registry,
            bonds,
            nodes: Vec::new(),
            reputations: Vec::new(),
            salts: Vec::new(),
            contributions: Vec::new(),
            seats: Vec::new(),
            verdicts: BTreeMap::new(),
            slot: 10,
        }
    }

    fn open(&mut self) {
        let nodes = 1 + self.dice.below(8) as u32;
        let amount = (1 + self.dice.below(50)) * SOL / 10;
        let size = 3 + self.dice.below(5) as u8;
        let funding = open_round(
            &params(),
            &keys_with(self.registry.bonded_worth(params().swap.reference_price)),
            &args(self.slot, nodes, amount, size),
            self.slot,
            &mut self.round,
        )
        .unwrap();
        self.ledger.pay(Who::Funder, Who::Treasury, funding.fee);
        self.ledger.pay(Who::Funder, Who::Vault, funding.to_pool);
        for c in 0..self.dice.below(3) as usize {
            self.ledger.0.insert(Who::Contributor(c), PLENTY);
            let amount = (1 + self.dice.below(10)) * SOL / 10;
            let funding = fund_round(&mut self.round, self.slot, amount, false).unwrap();
            let mut record = Contribution {
                payer: [200 + c as u8; 32],
                ..Contribution::default()
            };
            record_contribution(&mut self.round, &mut record, &funding, true).unwrap();
            self.ledger
                .pay(Who::Contributor(c), Who::Treasury, funding.fee);
            self.ledger
                .pay(Who::Contributor(c), Who::Vault, funding.to_pool);
            self.contributions.push(record);
        }
        for n in 0..nodes as usize {
            self.ledger.0.insert(Who::Node(n), PLENTY);
            let key = [10 + n as u8; 32];
            let reputation = Reputation::default();
            let mut state =
                join_round(&mut self.round, &ROUND_KEY, &key, &reputation, self.slot).unwrap();
            assert_eq!(state.index as usize, n);
            self.ledger.pay(Who::Node(n), Who::Vault, state.stake);
            let salt = [n as u8 ^ 0x5a; 32];
            if self.dice.chance(90) {
                let cid = Cid::from_digest(&[n as u8; 32]);
                commit_update(
                    &mut state,
                    self.slot,
                    commitment::<Sha256>(&key, &cid, &salt),
                )
                .unwrap();
            }
            self.nodes.push(state);
            self.reputations.push(reputation);
            self.salts.push(salt);
        }
    }

    fn reveal(&mut self) {
        self.slot = self.round.deadlines.commit;
        for (n, node) in self.nodes.iter_mut().enumerate() {
            if node.status == NodeStatus::Committed && self.dice.chance(85) {
                let reveal = RevealArgs {
                    cid: Cid::from_digest(&[n as u8; 32]),
                    salt: self.salts[n],
                    sample_count: 10,
                };
                // The sysvar may no longer reach back to the commit deadline.
                let hash_before = |before: u64| {
                    self.dice
                        .chance(70)
                        .then(|| (before - 1, [self.dice.next() as u8; 32]))
                };
                reveal_update::<Sha256>(
                    &mut self.round,
                    node,
                    self.slot,
                    &reveal,
                    false,
                    hash_before,
                )
                .unwrap();
            }
        }
    }

    /// A verdict over every joined node: revealed ones judged at random, the rest no-shows.
    fn random_verdict(&mut self) -> (VerdictVote, VerdictTree) {
        let mut weights_left = droppin_interface::BPS;
        let leaves: Vec<Leaf> = self
            .nodes
            .iter()
            .map(|node| {
                if node.status != NodeStatus::Revealed {
                    return Leaf {
                        outcome: Outcome::NoShow,
                        weight_bps: 0,
                    };
                }
                match self.dice.below(3) {
                    0 => {
                        let weight = self.dice.below(u64::from(weights_left) + 1) as u16;
                        weights_left -= weight;
                        Leaf {
                            outcome: Outcome::Accepted,
                            weight_bps: weight,
                        }
                    }
                    1 => Leaf {
                        outcome: Outcome::Excluded,
                        weight_bps: 0,
                    },
                    _ => Leaf {
                        outcome: Outcome::Slashed,
                        weight_bps: 0,
                    },
                }
            })
            .collect();
        let tree = VerdictTree::new::<Sha256>(ROUND_KEY, leaves);
        let tally = tree.tally();
        let model = [self.dice.next() as u8; 32];
        let vote = VerdictVote {
            leaves_root: tree.root(),
            new_model_hash: model,
            new_model_cid: Cid::from_digest(&model),
            verdict_list_cid: Cid::from_digest(&[3; 32]),
            accepted: tally.accepted,
            excluded: tally.excluded,
            slashed: tally.slashed,
            no_shows: tally.no_shows,
            weight_sum_bps: tally.weight_sum,
        };
        self.verdicts.insert(vote.digest::<Sha256>(), tree.clone());
        (vote, tree)
    }

    fn validator_key(v: usize) -> Pubkey {
        [100 + v as u8; 32]
    }

    /// Draws committee `level`, seats the drawn validators (some stay away and are reported),
    /// and has each seat commit and reveal one of the candidate votes (or nothing).
    fn judge(&mut self, level: u8, candidates: &[VerdictVote]) {
        let committee = *self.round.committee(level);
        self.slot = committee.draw_slot;
        let slot_hash = [self.dice.next() as u8; 32];
        if self.dice.chance(3) {
            return; // nobody draws in time
        }
        let drawn = draw_committee::<Sha256>(&mut self.round, &ROUND_KEY, level, self.slot, |b| {
            Some((b - 1, slot_hash))
        });
        assert_eq!(drawn, Ok(Draw::Drawn));
        assert!(self.round.anchor.recorded);
        let mut seated = Vec::new();
        for v in 0..self.bonds.len() {
            let first_seat = self
                .seats
                .iter()
                .any(|s| s.level == 0 && s.validator == Self::validator_key(v));
            if level == 1 && first_seat {
                continue;
            }
            let present = self.dice.chance(85);
            if present {
                match claim_seat::<Sha256>(
                    &mut self.round,
                    &ROUND_KEY,
                    level,
                    &mut self.bonds[v],
                    self.slot,
                ) {
                    Ok(seat) => {
                        // An excused validator's record settles with the seats, and never votes.
                        if seat.status.took_seat() {
                            seated.push((v, self.seats.len()));
                        }
                        self.seats.push(seat);
                    }
                    Err(DropPinError::NotSelected | DropPinError::InsufficientBond) => {}
                    Err(e) => panic!("seat: {e:?}"),
                }
            }
        }
        for &(_, s) in &seated {
            // Most seats vote the first candidate, some the second, a few never vote.
            let roll = self.dice.below(100);
            let choice = if roll < 75 {
                0
            } else if roll < 93 {
                1
            } else {
                2
            };
            let Some(vote) = candidates.get(choice) else {
                continue; // this seat never votes
            };
            let salt = [s as u8; 32];
            let digest = vote.digest::<Sha256>();
            let seat = &mut self.seats[s];
            let sealed =
                vote_commitment::<Sha256>(&ROUND_KEY, &seat.validator, level, &digest, &salt);
            commit_vote(seat, self.slot, sealed).unwrap();
            if self.dice.chance(95) {
                let reveal_slot = self.round.committee(level).vote_deadline;
                let opening = RevealVoteArgs {
                    level,
                    vote: *vote,
                    salt,
                };
                reveal_vote::<Sha256>(&mut self.round, &ROUND_KEY, seat, reveal_slot, &opening)
                    .unwrap();
            }
        }
        // Absences: drawn validators who did not take their seat, reported by someone.
        let after = self.round.committee(level).vote_deadline;
        for v in 0..self.bonds.len() {
            let seated_here = self
                .seats
                .iter()
                .any(|s| s.level == level && s.validator == Self::validator_key(v));
            let first_seat = self
                .seats
                .iter()
                .any(|s| s.level == 0 && s.validator == Self::validator_key(v));
            if seated_here || (level == 1 && first_seat) || !self.dice.chance(80) {
                continue;
            }
            let mut bond = self.bonds[v].clone();
            let mut registry = self.registry.clone();
            match report_absent::<Sha256>(&mut self.round, level, &mut bond, &mut registry, after) {
                Ok(penalty) => {
                    self.bonds[v] = bond;
                    self.registry = registry;
                    let books = self.bond_books(v);
                    books.pay(Who::Bond(v), Who::Treasury, penalty.to_treasury);
                    books.pay(Who::Bond(v), Who::Appellant, penalty.to_reporter);
                    self.seats.push(Seat {
                        round: ROUND_KEY,
                        validator: Self::validator_key(v),
                        level,
                        status: droppin_interface::state::SeatStatus::Absent,
                        ..Seat::default()
                    });
                }
                // Undrawn, or drawn on a bond that never covered the lock.
                Err(DropPinError::NotSelected | DropPinError::SeatBeyondBond) => {}
                Err(e) => panic!("report: {e:?}"),
            }
        }
    }

    /// Posts every chunk of the verdict in force (unless its posters withhold it).
    fn post(&mut self, level: u8) {
        if self.dice.chance(5) {
            return;
        }
        let tree = self.verdicts[&self.round.outcome.digest].clone();
        let mut header = VerdictLeaves {
            round: ROUND_KEY,
            level,
            total: self.round.counts.nodes_joined,
            chunks: tree.chunks(),
            ..VerdictLeaves::default()
        };
        for chunk in 0..tree.chunks() {
            let args = PostLeavesArgs {
                level,
                chunk,
                leaves: tree.chunk(chunk).to_vec(),
                proof: tree.proof(chunk),
            };
            let bytes: Vec<u8> = args.leaves.iter().flat_map(Leaf::to_bytes).collect();
            let post = ChunkPost {
                args: &args,
                leaf_bytes: &bytes,
                posted: false,
            };
            let posted =
                post_leaves::<Sha256>(&mut self.round, &ROUND_KEY, &mut header, &post, self.slot);
            posted.unwrap();
        }
        assert!(header.complete);
    }

    fn run(mut self) {
        self.open();
        // Every participant's wallet exists from here on: the total must never change.
        let start = self.ledger.total();
        let dpin_start = self.dpin.total();
        // A crank during training never fails the round.
        assert_eq!(
            crank_timeout(&mut self.round.clone(), self.slot),
            Err(DropPinError::NoTimeout)
        );
        self.reveal();
        let honest = self.random_verdict().0;
        let dishonest = self.random_verdict().0;
        if self.round.counts.nodes_revealed > 0 {
            self.judge(0, &[honest, dishonest]);
        }
        self.slot = self.round.deadlines.vote_reveal;
        let winner = self.round.committees[0]
            .leader()
            .filter(|t| has_quorum(&self.round, &self.round.committees[0], t.votes));
        match winner {
            Some(tally) => {
                let seat = self
                    .seats
                    .iter()
                    .find(|s| s.level == 0 && s.digest == tally.digest)
                    .unwrap()
                    .clone();
                finalize_round(&mut self.round, &seat, self.slot).unwrap();
                self.post(0);
            }
            None => {
                let first = &self.round.committees[0];
                let escalate = first.drawn && first.seats > 0 && self.dice.chance(60);
                if escalate {
                    // Nobody can fail the round while it may still be escalated.
                    assert_eq!(
                        crank_timeout(&mut self.round.clone(), self.slot),
                        Err(DropPinError::NoTimeout)
                    );
                    self.appeal(honest, dishonest);
                } else {
                    self.slot = self
                        .slot
                        .max(self.round.deadlines.reveal + DRAW_WINDOW_SLOTS + 1)
                        .max(self.round.escalation_deadline());
                    crank_timeout(&mut self.round, self.slot).unwrap();
                }
            }
        }
        if self.round.status == RoundStatus::Finalized
            && self.round.outcome.leaves_complete_slot == 0
        {
            self.slot = self.round.post_deadline(0);
            assert_eq!(
                crank_timeout(&mut self.round, self.slot),
                Ok(FailReason::VerdictWithheld)
            );
        }
        if self.round.status == RoundStatus::Finalized
            && !self.round.appeal.filed()
            && self.dice.chance(50)
        {
            // The appeal's committee mostly sides with one verdict: sometimes the finalized one
            // (confirmed), sometimes the other (overturned).
            let (first, second) = if self.dice.chance(50) {
                (honest, dishonest)
            } else {
                (dishonest, honest)
            };
            self.appeal(first, second);
        }
        self.settle_all(start, dpin_start);
    }

    fn appeal(&mut self, honest: VerdictVote, dishonest: VerdictVote) {
        if self.round.status == RoundStatus::Finalized {
            self.slot = self.round.outcome.leaves_complete_slot;
        }
        let bond = file_appeal(&mut self.round, &[0xee; 32], self.slot).unwrap();
        self.ledger.pay(Who::Appellant, Who::Vault, bond);
        assert_eq!(
            file_appeal(&mut self.round, &[0xef; 32], self.slot),
            Err(DropPinError::AlreadyAppealed)
        );
        self.judge(1, &[honest, dishonest]);
        self.slot = self.round.committees[1].reveal_deadline;
        let leader = self.round.committees[1].leader();
        let cited = leader.and_then(|t| {
            self.seats
                .iter()
                .find(|s| s.level == 1 && s.digest == t.digest)
                .cloned()
        });
        let resolution = resolve_appeal(&mut self.round, cited.as_ref(), self.slot).unwrap();
        if matches!(
            resolution,
            AppealResolution::Overturned | AppealResolution::Decided
        ) {
            self.post(1);
            if self.round.outcome.leaves_complete_slot == 0 {
                self.slot = self.round.post_deadline(1);
                crank_timeout(&mut self.round, self.slot).unwrap();
            }
        }
    }

    fn settle_all(&mut self, start: u128, dpin_start: u128) {
        // Jump past every window, the absence reports' included.
        let reports = absences_over(&self.round);
        self.slot = self.slot.max(
            self.round
                .appeal_deadline()
                .unwrap_or(0)
                .max(self.round.deadlines.vote_reveal)
                .max(reports),
        );
        assert!(
            settlement_open(&self.round, self.slot),
            "{:?}",
            self.round.status
        );
        let stake = self.round.node_stake;
        let slash = bps_of(stake, self.round.terms.slash_bps);
        let mut order: Vec<usize> = (0..self.nodes.len()).collect();
        for i in (1..order.len()).rev() {
            order.swap(i, self.dice.below(i as u64 + 1) as usize);
        }
        for n in order {
            let node = self.nodes[n].clone();
            let leaf = (self.round.status == RoundStatus::Finalized)
                .then(|| self.verdicts[&self.round.outcome.digest].leaves[node.index as usize]);
            let payout = settle_node(
                &mut self.round,
                &node,
                &mut self.reputations[n],
                leaf,
                self.slot,
            )
            .unwrap();
            self.ledger.pay(Who::Vault, Who::Node(n), payout.to_node);
            self.ledger
                .pay(Who::Vault, Who::Treasury, payout.to_treasury);
            assert!(
                payout.to_node >= stake - slash,
                "every node keeps its floor"
            );
            if node.status == NodeStatus::Revealed && self.round.status == RoundStatus::Failed {
                assert_eq!(
                    payout.to_node, stake,
                    "a failed round refunds revealed nodes"
                );
            }
        }
        let seats = std::mem::take(&mut self.seats);
        // Seats of the first committee settle before the appellant is paid.
        for seat in seats.iter() {
            let v = seats_owner(seat);
            let mut registry = self.registry.clone();
            let payout = settle_seat(
                &mut self.round,
                seat,
                &mut self.bonds[v],
                &mut registry,
                self.slot,
            )
            .unwrap();
            self.registry = registry;
            self.ledger.pay(
                Who::Vault,
                Who::Wallet(v),
                payout.reward + payout.appeal_share,
            );
            let books = self.bond_books(v);
            books.pay(Who::Bond(v), Who::Treasury, payout.to_treasury);
            books.pay(Who::Bond(v), Who::Vault, payout.to_vault);
            books.pay(Who::Bond(v), Who::Appellant, payout.to_appellant);
        }
        if self.round.appeal.filed() {
            let payout = settle_appeal(&mut self.round).unwrap();
            self.ledger
                .pay(Who::Vault, Who::Appellant, payout.to_appellant);
            self.ledger
                .pay(Who::Vault, Who::Treasury, payout.to_treasury);
        }
        let funder_share_of_pool = self.round.funder_pool;
        for (c, record) in self.contributions.clone().iter().enumerate() {
            let refund = refund_contribution(&mut self.round, record).unwrap();
            assert!(
                refund <= record.amount,
                "a contributor never gets more than it paid"
            );
            self.ledger.pay(Who::Vault, Who::Contributor(c), refund);
        }
        let remainder = self.ledger.of(Who::Vault);
        let split = close_round(&self.round, remainder, None).unwrap();
        assert!(
            split.to_funder <= funder_share_of_pool,
            "the funder gets back at most what it paid into the pool: never a slashed lamport"
        );
        self.ledger.pay(Who::Vault, Who::Funder, split.to_funder);
        self.ledger
            .pay(Who::Vault, Who::Treasury, split.to_treasury);
        assert_eq!(self.ledger.of(Who::Vault), 0, "the vault ends empty");
        assert_eq!(self.ledger.total(), start, "not a lamport created or lost");
        assert_eq!(
            self.dpin.total(),
            dpin_start,
            "not a $dPIN unit created or lost"
        );
        assert_eq!(
            self.dpin.of(Who::Vault),
            0,
            "a $dPIN bond never pays into the vault"
        );
        for (v, bond) in self.bonds.iter().enumerate() {
            assert_eq!(bond.locked, 0, "every bond is free");
            assert_eq!(bond.open_seats, 0);
            let books = match bond.currency {
                Currency::Sol => &self.ledger,
                Currency::Dpin => &self.dpin,
            };
            assert_eq!(
                books.of(Who::Bond(v)),
                bond.bond,
                "bond books match its holdings"
            );
        }
        for currency in [Currency::Sol, Currency::Dpin] {
            let bonded: u64 = self
                .bonds
                .iter()
                .filter(|b| b.currency == currency)
                .map(|b| b.bond)
                .sum();
            assert_eq!(*self.registry.total_mut(currency), bonded);
        }
    }

    /// The books of validator `v`'s bond currency.
    fn bond_books(&mut self, v: usize) -> &mut Ledger {
        match self.bonds[v].currency {
            Currency::Sol => &mut self.ledger,
            Currency::Dpin => &mut self.dpin,
        }
    }
}

fn seats_owner(seat: &Seat) -> usize {
    usize::from(seat.validator[0] - 100)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Random rounds, honest or not, with random absences, appeals, withheld leaves, timeouts and
    /// settlement orders: every lamport is accounted for, every node keeps its floor, the funder
    /// never profits from a slash, every bond ends free, and every round closes.
    #[test]
    fn random_rounds_conserve_money_and_always_close(seed in any::<u64>()) {
        Sim::new(seed).run();
    }
}

#[test]
fn settlement_waits_for_the_appeal_window() {
    let mut sim = Sim::new(7);
    sim.open();
    sim.reveal();
    let round = &sim.round;
    assert!(!settlement_open(round, round.deadlines.vote_reveal));
    let mut failed = round.clone();
    failed.status = RoundStatus::Failed;
    assert!(settlement_open(&failed, 0));
}

#[test]
fn no_show_nodes_lose_only_the_slash_fraction_and_it_goes_to_the_treasury() {
    let mut round = Round::default();
    open_round(
        &params(),
        &keys_with(SOL),
        &args(10, 4, SOL, 3),
        10,
        &mut round,
    )
    .unwrap();
    let node = join_round(&mut round, &ROUND_KEY, &[1; 32], &Reputation::default(), 10).unwrap();
    round.status = RoundStatus::Failed;
    round.failure = FailReason::NoReveals;
    let mut reputation = Reputation::default();
    let payout = settle_node(&mut round, &node, &mut reputation, None, 100).unwrap();
    let slash = bps_of(node.stake, round.terms.slash_bps);
    assert_eq!(payout.to_node, node.stake - slash);
    assert_eq!(payout.to_treasury, slash);
    assert_eq!(reputation.no_shows, 1);
    let split = close_round(&round, round.pool, None).unwrap();
    assert_eq!(
        split.to_funder, round.pool,
        "the funder gets its pool, not the forfeit"
    );
}

#[test]
fn a_bond_emptied_by_penalties_closes_and_a_partial_one_waits_for_its_delay() {
    let mut registry = Registry::default();
    let new = NewBond {
        validator: &[7; 32],
        amount: 2 * SOL,
        currency: Currency::Sol,
    };
    let mut bond = register_validator(&mut registry, new, SOL, 0, 1).unwrap();
    assert_eq!(
        withdraw_bond(&mut registry, &mut bond, 100),
        Err(DropPinError::StillUnbonding),
        "nothing unbonding, bond left: nothing to withdraw"
    );
    unbond(&mut registry, &mut bond, SOL, 10, 50).unwrap();
    assert_eq!(
        withdraw_bond(&mut registry, &mut bond, 59),
        Err(DropPinError::StillUnbonding)
    );
    assert_eq!(
        withdraw_bond(&mut registry, &mut bond, 60),
        Ok((SOL, false))
    );
    // The rest is lost to a penalty: the empty bond closes without any delay.
    registry::take_penalty(&mut bond, &mut registry, SOL).unwrap();
    assert_eq!(withdraw_bond(&mut registry, &mut bond, 61), Ok((0, true)));
    assert_eq!((registry.validators, registry.total_bond), (0, 0));
}

/// A validator registered with `amount` of SOL bond, drawn for the first committee of a round
/// opened after it, whose seats lock 4 SOL and whose absences are reportable at slot 25.
fn drawn_on_a_bond(amount: u64) -> (Registry, ValidatorBond, Round) {
    let mut registry = Registry::default();
    let new = NewBond {
        validator: &[7; 32],
        amount,
        currency: Currency::Sol,
    };
    let bond = register_validator(&mut registry, new, SOL, 0, 1).unwrap();
    let mut round = Round {
        opened_slot: 10,
        ..Round::default()
    };
    round.terms.slash_bps = 5_000;
    round.terms.post_slots = 10;
    let committee = &mut round.committees[0];
    committee.drawn = true;
    committee.expected = 255;
    committee.bonded_total = amount;
    committee.seat_lock = 4 * SOL;
    committee.vote_deadline = 20;
    committee.reveal_deadline = 30;
    (registry, bond, round)
}

/// The seat's lock grows with the stakes a round holds, which its funder sets: a validator
/// drawn on a bond below it could never sit, and is not absent. One that could, and shrank its
/// bond after the round opened, still is.
#[test]
fn a_validator_whose_bond_never_covered_the_lock_is_not_absent() {
    let (mut registry, mut bond, mut round) = drawn_on_a_bond(3 * SOL);
    assert!(!could_sit(&round, 0, &bond));
    assert_eq!(
        report_absent::<Sha256>(&mut round, 0, &mut bond, &mut registry, 25),
        Err(DropPinError::SeatBeyondBond)
    );
    assert_eq!(
        (bond.bond, bond.debt, round.committees[0].absent),
        (3 * SOL, 0, 0)
    );
    round.committees[0].seat_lock = 3 * SOL;
    assert!(
        could_sit(&round, 0, &bond),
        "a bond equal to the lock covers it"
    );
    // Unbonding after the round opened shrinks nothing it is judged by.
    unbond(&mut registry, &mut bond, 2 * SOL, 11, 50).unwrap();
    assert!(could_sit(&round, 0, &bond));
    let penalty = report_absent::<Sha256>(&mut round, 0, &mut bond, &mut registry, 25).unwrap();
    assert_eq!(penalty.to_treasury + penalty.to_reporter, 3 * SOL / 2);
}

/// A funder sizes its round's lock just under the bonds of validators busy in other seats, to
/// have each drawn one reported absent and take the bounty: each records its excuse instead. It
/// locks nothing, holds no vote, cannot be reported absent and settles for nothing. One that
/// shrank its bond since the round opened is not excused.
#[test]
fn a_validator_busy_in_other_seats_is_excused_not_absent() {
    let (mut registry, mut bond, mut round) = drawn_on_a_bond(5 * SOL);
    // A seat elsewhere locks 2 SOL: the 3 SOL left cannot cover this round's 4 SOL lock.
    bond.locked = 2 * SOL;
    bond.open_seats = 1;
    assert!(excused(&round, 0, &bond));
    let mut seat = claim_seat::<Sha256>(&mut round, &ROUND_KEY, 0, &mut bond, 15).unwrap();
    assert_eq!((seat.status, seat.lock), (SeatStatus::Excused, 0));
    assert_eq!(
        (
            bond.locked,
            round.committees[0].seats,
            round.committees[0].absent
        ),
        (2 * SOL, 0, 1),
        "nothing locked; counted with the absences, not the seats"
    );
    assert_eq!(
        commit_vote(&mut seat, 16, [1; 32]),
        Err(DropPinError::SeatExcused)
    );
    round.status = RoundStatus::Failed;
    let payout = settle_seat(&mut round, &seat, &mut bond, &mut registry, 100).unwrap();
    assert_eq!(payout, SeatPayout::default());
    assert_eq!((bond.bond, bond.locked, bond.debt), (5 * SOL, 2 * SOL, 0));
    assert_eq!(round.committees[0].unsettled(), 0);

    // Unbonding since the opening is no excuse: the seat is refused, and the absence stands.
    let (mut registry, mut bond, mut round) = drawn_on_a_bond(5 * SOL);
    unbond(&mut registry, &mut bond, 2 * SOL, 11, 50).unwrap();
    assert!(!excused(&round, 0, &bond));
    assert_eq!(
        claim_seat::<Sha256>(&mut round, &ROUND_KEY, 0, &mut bond, 15).unwrap_err(),
        DropPinError::InsufficientBond
    );
    assert!(report_absent::<Sha256>(&mut round, 0, &mut bond, &mut registry, 25).is_ok());
}

#[test]
fn an_absence_the_free_bond_cannot_cover_is_owed_and_paid_as_locks_release() {
    let (mut registry, mut bond, mut round) = drawn_on_a_bond(10 * SOL);
    // A seat in another round holds most of the bond.
    bond.locked = 9 * SOL;
    bond.open_seats = 1;
    let penalty = report_absent::<Sha256>(&mut round, 0, &mut bond, &mut registry, 25).unwrap();
    assert_eq!(
        penalty.to_treasury + penalty.to_reporter,
        SOL,
        "its free part now"
    );
    assert_eq!(bond.debt, SOL, "the rest of the 2 SOL penalty is owed");
    assert_eq!(bond.available(), 0);
    assert_eq!(
        unbond(&mut registry, &mut bond, 1, 30, 50),
        Err(DropPinError::BondTooSmall),
        "nothing is unbonded before the debt is paid"
    );
    // The other seat settles: its released lock pays the debt.
    let mut other = Round {
        status: RoundStatus::Failed,
        ..Round::default()
    };
    let seat = Seat {
        status: SeatStatus::Revealed,
        lock: 9 * SOL,
        ..Seat::default()
    };
    let payout = settle_seat(&mut other, &seat, &mut bond, &mut registry, 100).unwrap();
    assert_eq!(payout.to_treasury, SOL);
    assert_eq!((bond.debt, bond.bond, bond.locked), (0, 8 * SOL, 0));
    assert_eq!(registry.total_bond, 8 * SOL);
}

/// A round in its reveals with `count` committed nodes; node `i` committed CID `[i; 32]` with
/// salt `[i; 32]`.
fn committed(count: u8) -> (Round, Vec<(NodeState, RevealArgs)>) {
    let mut round = opened(10 * SOL, SOL);
    let nodes = (0..count)
        .map(|i| {
            let (key, cid, salt) = ([i; 32], Cid::from_digest(&[i; 32]), [i; 32]);
            round.counts.nodes_joined += 1;
            let node = NodeState {
                node: key,
                status: NodeStatus::Committed,
                commitment: commitment::<Sha256>(&key, &cid, &salt),
                ..NodeState::default()
            };
            let reveal = RevealArgs {
                cid,
                salt,
                sample_count: 10,
            };
            (node, reveal)
        })
        .collect();
    (round, nodes)
}

/// What a leader grinding its block would make every later slot's hash: `tag`.
fn ground(before: u64, tag: u8) -> Option<(u64, [u8; 32])> {
    Some((before - 1, [tag; 32]))
}

#[test]
fn the_seed_is_anchored_before_any_salt_is_public_and_no_later_slot_moves_it() {
    let (mut round, mut nodes) = committed(3);
    let commit = round.deadlines.commit;
    assert_eq!(
        anchor_wanted(&round, commit - 1),
        None,
        "training: no anchor"
    );
    // The first reveal records the hash of the last slot before the commit deadline.
    for (i, (node, reveal)) in nodes.iter_mut().enumerate() {
        let (slot, tag) = (commit + i as u64, 1 + i as u8);
        reveal_update::<Sha256>(&mut round, node, slot, reveal, false, |b| ground(b, tag)).unwrap();
    }
    let anchor = SeedAnchor {
        recorded: true,
        slot: commit - 1,
        hash: [1; 32],
    };
    assert_eq!(round.anchor, anchor, "later reveals leave it");
    // Whatever the slots after the reveals hash to, the seed is the same.
    let seeds: Vec<[u8; 32]> = [7, 8]
        .into_iter()
        .map(|tag| {
            let mut round = round.clone();
            let slot = round.deadlines.reveal;
            let drawn =
                draw_committee::<Sha256>(&mut round, &ROUND_KEY, 0, slot, |b| ground(b, tag));
            assert_eq!(drawn, Ok(Draw::Drawn));
            round.committees[0].seed
        })
        .collect();
    let expected = sortition::seed::<Sha256>(&ROUND_KEY, 0, &round.beacon, &[1; 32]);
    assert_eq!(seeds, [expected, expected]);
}

#[test]
fn anyone_may_anchor_during_the_reveals_and_only_an_unanchored_round_falls_back() {
    let (mut round, mut nodes) = committed(1);
    let (commit, reveal) = (round.deadlines.commit, round.deadlines.reveal);
    // A reveal the sysvar no longer serves records nothing, and is not refused for it.
    let (node, args) = &mut nodes[0];
    reveal_update::<Sha256>(&mut round, node, commit + 2, args, false, |_| None).unwrap();
    assert!(!round.anchor.recorded);
    // Nor is a draw during the reveals, which can only record the anchor.
    let refused = draw_committee::<Sha256>(&mut round.clone(), &ROUND_KEY, 0, commit + 3, |_| None);
    assert_eq!(refused, Err(DropPinError::SeedUnavailable));

    // Anyone's draw during the reveals records it, draws nothing, and cannot record another.
    let mut anchored = round.clone();
    let draw = |round: &mut Round, slot, tag| {
        draw_committee::<Sha256>(round, &ROUND_KEY, 0, slot, |b| ground(b, tag))
    };
    assert_eq!(draw(&mut anchored, commit + 3, 4), Ok(Draw::Anchored));
    assert!(!anchored.committees[0].drawn);
    assert_eq!(
        draw(&mut anchored, commit + 4, 5),
        Err(DropPinError::SeedUnavailable)
    );
    // Anchored or not, a draw past its window would leave the committee too little time to
    // fetch and report: refused, and the round fails.
    let mut late = anchored.clone();
    let past = reveal + DRAW_WINDOW_SLOTS + 1;
    assert_eq!(draw(&mut late, past, 6), Err(DropPinError::SeedUnavailable));
    assert_eq!(crank_timeout(&mut late, past), Ok(FailReason::NoCommittee));
    assert_eq!(draw(&mut anchored, reveal, 6), Ok(Draw::Drawn));
    assert_eq!(
        (anchored.anchor.slot, anchored.anchor.hash),
        (commit - 1, [4; 32])
    );

    // Unanchored when the reveals close: the draw takes the last slot before their deadline.
    assert_eq!(anchor_wanted(&round, reveal), Some(reveal));
    assert_eq!(draw(&mut round, reveal, 6), Ok(Draw::Drawn));
    assert_eq!(
        (round.anchor.slot, round.anchor.hash),
        (reveal - 1, [6; 32])
    );
    // A slot hash that is not from before the slot asked for is never taken.
    let (mut late, _) = committed(1);
    assert!(!committee::take_anchor(&mut late, commit + 1, |b| Some((
        b, [1; 32]
    ))));
}
