//! Round rules without a chain: random rounds never pay out more than the vault holds.

extern crate std;

use std::vec::Vec;

use droppin_interface::{hash::Sha256, merkle::MerkleTree, state::Deadlines};
use proptest::prelude::*;

use super::*;
use droppin_interface::{Cid, merkle::VerdictLeaf};

const ROUND_KEY: Pubkey = [42; 32];

fn args(committee: Vec<Pubkey>, amount: u64) -> OpenRoundArgs {
    let model_hash = [5; 32];
    OpenRoundArgs {
        task_hash: [1; 32],
        model_hash,
        model_cid: Cid::from_digest(&model_hash),
        validation_set_hash: [2; 32],
        max_nodes: 12,
        node_stake: 20_000_000,
        validator_stake: 30_000_000,
        amount,
        deadlines: Deadlines {
            commit: 100,
            reveal: 200,
            validation: 300,
        },
        committee,
        quorum_bps: 6_666,
        currency: Currency::Sol,
    }
}

fn keys() -> RoundKeys {
    RoundKeys {
        id: 0,
        bump: 255,
        funder: [9; 32],
        vault: [8; 32],
        vault_bump: 254,
        token_vault: [0; 32],
    }
}

#[test]
fn open_round_checks_its_inputs() {
    let params = ProtocolParams::default();
    let ok = args(std::vec![[1; 32]], 1_000_000_000);
    let mut round = Round::default();
    let funding = open_round(&params, keys(), &ok, 0, &mut round).unwrap();
    assert_eq!(
        funding,
        Funding {
            fee: 80_000_000,
            to_pool: 920_000_000
        }
    );
    assert_eq!(round.pool, 920_000_000);

    let mut bad = ok.clone();
    bad.committee = std::vec![[1; 32], [1; 32]];
    assert_eq!(
        open_round(&params, keys(), &bad, 0, &mut Round::default()).unwrap_err(),
        DropPinError::InvalidCommittee
    );
    let mut bad = ok.clone();
    bad.quorum_bps = 5_000;
    assert_eq!(
        open_round(&params, keys(), &bad, 0, &mut Round::default()).unwrap_err(),
        DropPinError::InvalidQuorum
    );
    let mut bad = ok.clone();
    bad.deadlines.reveal = bad.deadlines.commit;
    assert_eq!(
        open_round(&params, keys(), &bad, 0, &mut Round::default()).unwrap_err(),
        DropPinError::InvalidDeadlines
    );
    let mut bad = ok.clone();
    bad.model_cid = Cid::from_digest(&[6; 32]);
    assert_eq!(
        open_round(&params, keys(), &bad, 0, &mut Round::default()).unwrap_err(),
        DropPinError::InvalidCid
    );
    let mut bad = ok.clone();
    bad.max_nodes = 0;
    assert_eq!(
        open_round(&params, keys(), &bad, 0, &mut Round::default()).unwrap_err(),
        DropPinError::InvalidRoundParams
    );
    let mut bad = ok;
    bad.amount = u64::MAX;
    assert_eq!(
        open_round(&params, keys(), &bad, 0, &mut Round::default()).unwrap_err(),
        DropPinError::ArithmeticOverflow
    );
}

#[derive(Clone, Copy, Debug)]
enum NodePlan {
    NoShow,
    Silent,
    Reveal { accepted: bool, weight: u16 },
}

fn node_plan() -> impl Strategy<Value = NodePlan> {
    prop_oneof![
        Just(NodePlan::NoShow),
        Just(NodePlan::Silent),
        (any::<bool>(), 1u16..100)
            .prop_map(|(accepted, weight)| NodePlan::Reveal { accepted, weight }),
    ]
}

fn salt(i: usize) -> [u8; 32] {
    [i as u8 ^ 0x5a; 32]
}

proptest! {
    /// Whatever nodes and validators do, payouts never exceed the vault and the vault's
    /// remainder at close is non-negative; with an honest quorum every accepted node gets exactly
    /// its stake plus its weighted share.
    #[test]
    fn payouts_never_exceed_the_vault(
        plans in proptest::collection::vec(node_plan(), 1..12),
        committee_size in 1usize..6,
        voters in proptest::collection::vec(0u8..3, 6),
        amount in 1_000u64..10_000_000_000,
    ) {
        let committee: Vec<Pubkey> = (0..committee_size).map(|i| [100 + i as u8; 32]).collect();
        let mut round = Round::default();
        open_round(&ProtocolParams::default(), keys(), &args(committee.clone(), amount), 0, &mut round).unwrap();
        let mut vault = round.pool;
        let mut nodes = Vec::new();
        for (i, plan) in plans.iter().enumerate() {
            let key = [i as u8 + 1; 32];
            let mut node = join_round(&mut round, &ROUND_KEY, &key, &Reputation::default(), 10).unwrap();
            vault += round.node_stake;
            let cid = Cid::from_digest(&[i as u8; 32]);
            if !matches!(plan, NodePlan::NoShow) {
                commit_update(&mut node, 20, commitment::<Sha256>(&key, &cid, &salt(i))).unwrap();
            }
            if matches!(plan, NodePlan::Reveal { .. }) {
                reveal_update::<Sha256>(&mut round, &mut node, 150, &RevealArgs { cid, salt: salt(i), sample_count: 10 }, false).unwrap();
            }
            nodes.push((node, *plan));
        }
        // The honest verdict list: weights normalised to 10,000 over accepted nodes.
        let accepted: Vec<usize> = nodes.iter().enumerate()
            .filter(|(_, (_, p))| matches!(p, NodePlan::Reveal { accepted: true, .. })).map(|(i, _)| i).collect();
        let total: u32 = accepted.iter().map(|&i| match nodes[i].1 { NodePlan::Reveal { weight, .. } => u32::from(weight), _ => 0 }).sum();
        let mut leaves = Vec::new();
        let mut assigned = 0u32;
        for (i, (node, plan)) in nodes.iter().enumerate() {
            if let NodePlan::Reveal { accepted: acc, weight } = plan {
                let weight_bps = if !acc { 0 } else if Some(&i) == accepted.last() {
                    10_000 - assigned
                } else {
                    u32::from(*weight) * 10_000 / total
                };
                assigned += if *acc { weight_bps } else { 0 };
                leaves.push(VerdictLeaf {
                    node: node.node,
                    verdict: if *acc { Verdict::Accepted } else { Verdict::Slashed },
                    weight_bps: weight_bps as u16,
                });
            }
        }
        let tree = MerkleTree::from_leaf_hashes::<Sha256>(leaves.iter().map(|l| l.hash::<Sha256>(&ROUND_KEY)).collect());
        let honest = VerdictVote {
            verdict_root: tree.root(),
            new_model_hash: [7; 32],
            new_model_cid: Cid::from_digest(&[7; 32]),
            verdict_list_cid: Cid::from_digest(&[8; 32]),
            accepted_count: accepted.len() as u32,
            slashed_count: (leaves.len() - accepted.len()) as u32,
        };
        let mut dishonest = honest;
        dishonest.verdict_root = [0xee; 32];
        let mut validators = Vec::new();
        for (i, key) in committee.iter().enumerate() {
            let mut v = join_committee(&mut round, &ROUND_KEY, key, 1, 50).unwrap();
            vault += round.validator_stake;
            let vote = match voters[i] { 0 => Some(honest), 1 => Some(dishonest), _ => None };
            if let Some(vote) = vote {
                let result = submit_verdict::<Sha256>(&mut round, &mut v, 250, vote);
                if leaves.is_empty() {
                    prop_assert_eq!(result, Err(DropPinError::NothingToValidate));
                } else {
                    result.unwrap();
                }
            }
            validators.push(v);
        }
        // Anyone may finalize with any voter: only a verdict with a quorum behind it passes.
        let finalized = validators.iter().any(|v| finalize_round(&mut round, v).is_ok());
        let honest_won = finalized && round.outcome.vote_digest == honest.digest::<Sha256>();
        if !finalized {
            prop_assert!(crank_timeout(&mut round, 300).is_ok());
        }
        let mut paid = 0u64;
        for (node, _) in &nodes {
            let mut rep = Reputation::default();
            let leaf = leaves.iter().position(|l| l.node == node.node);
            let payout = match leaf {
                Some(i) if finalized => {
                    let claim = claim_reward::<Sha256>(&mut round, &ROUND_KEY, node, &mut rep, &ClaimArgs { leaf: leaves[i], proof: tree.proof(i) });
                    if !honest_won {
                        // Nobody can prove against a bogus root: past the claim deadline the
                        // node takes its stake back.
                        prop_assert_eq!(claim, Err(DropPinError::InvalidMerkleProof));
                        prop_assert_eq!(refund_node(&mut round, node, &mut rep, 399), Err(DropPinError::NotRefundable));
                        paid += refund_node(&mut round, node, &mut rep, 400).unwrap().to_node;
                        continue;
                    }
                    let p = claim.unwrap();
                    if leaves[i].verdict == Verdict::Accepted {
                        prop_assert_eq!(p.to_node, node.stake + bps_of(round.outcome.node_pool, leaves[i].weight_bps));
                    }
                    p
                }
                _ => refund_node(&mut round, node, &mut rep, 300).unwrap(),
            };
            paid += payout.to_node;
        }
        for v in &validators {
            let p = settle_validator(&mut round, v, 300).unwrap();
            paid += p.to_validator + p.to_treasury;
        }
        prop_assert!(paid <= vault, "paid {} of a vault of {}", paid, vault);
        let split = close_round(&round, vault - paid).unwrap();
        prop_assert_eq!(split.to_funder + split.to_treasury, vault - paid);
    }
}
