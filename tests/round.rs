//! Whole rounds on the embedded chain: the real program in LiteSVM, real training, the local
//! blob store, and the CLI's node and validator logic. Payouts are checked to the lamport
//! against the protocol's terms (8% fee, 5% validators' share, 50% slash), computed here.

use droppin_cli::demo::{DemoConfig, DemoReport, Faults, NodeReport, NodeRole, ValidatorRole, run};
use droppin_client::EmbeddedChain;
use droppin_fl::data::digits;
use droppin_storage::{Limits, LocalStore};
use droppin_tests::program_path;

const BPS: u64 = 10_000;
const FEE_BPS: u64 = 800;
const VALIDATOR_SHARE_BPS: u64 = 500;
const SLASH_BPS: u64 = 5_000;

fn demo(tweak: impl FnOnce(&mut DemoConfig)) -> DemoReport {
    let dir = tempfile::tempdir().unwrap();
    let mut config = DemoConfig::new(dir.path().join("out"));
    tweak(&mut config);
    let chain = EmbeddedChain::new(&program_path()).unwrap();
    let store = LocalStore::open(dir.path().join("blobs"), Limits::default()).unwrap();
    let report = run(&config, chain, &store, &digits().unwrap()).unwrap();
    assert!(std::path::Path::new(&report.model_path).exists());
    assert!(
        std::fs::read_to_string(&report.plot_path)
            .unwrap()
            .contains("<svg")
    );
    report
}

/// What a node received beyond the rent of its closed accounts.
fn net(node: &NodeReport) -> u64 {
    node.payout_lamports - node.rent_refund_lamports
}

/// Checks every node's payout against the terms; returns the node pool.
fn check_node_payouts(report: &DemoReport, no_shows: u64) -> u64 {
    let stake = report.nodes[0].stake_lamports;
    let funded = report.funded_lamports;
    assert_eq!(report.fee_lamports, funded * FEE_BPS / BPS);
    let pool = funded - report.fee_lamports;
    let slashed = report
        .nodes
        .iter()
        .filter(|n| n.verdict == "slashed")
        .count() as u64;
    let node_pool = pool - pool * VALIDATOR_SHARE_BPS / BPS
        + no_shows * stake
        + slashed * (stake * SLASH_BPS / BPS);
    let mut weights = 0;
    for node in &report.nodes {
        let expected = match node.verdict {
            "accepted" => stake + node_pool * u64::from(node.weight_bps) / BPS,
            "slashed" => stake - stake * SLASH_BPS / BPS,
            "no-show" => 0,
            other => panic!("unknown verdict {other}"),
        };
        assert_eq!(net(node), expected, "{node:?}");
        weights += u64::from(node.weight_bps);
    }
    assert_eq!(weights, BPS, "accepted weights add up to 100%");
    assert_eq!(
        report.escrow_remaining_lamports, 0,
        "nothing stays in escrow"
    );
    node_pool
}

#[test]
fn a_full_round_slashes_the_attackers_pays_the_honest_and_improves_the_model() {
    let report = demo(|_| {});
    assert_eq!(report.nodes.len(), 8);
    for node in &report.nodes {
        let expected = if node.malicious {
            "slashed"
        } else {
            "accepted"
        };
        assert_eq!(node.verdict, expected, "{node:?}");
        assert!(
            node.malicious || node.weight_bps > 0,
            "every honest node earns"
        );
        assert_eq!(node.reputation.rounds_joined, 1);
    }
    check_node_payouts(&report, 0);
    let pool = report.funded_lamports - report.fee_lamports;
    let validator_pool = pool * VALIDATOR_SHARE_BPS / BPS;
    for v in &report.validators {
        assert_eq!(
            v.payout_lamports - v.rent_refund_lamports,
            v.stake_lamports + validator_pool / 3
        );
    }
    assert!(
        report.accuracy_after > report.accuracy_before + 0.3,
        "{} -> {}",
        report.accuracy_before,
        report.accuracy_after
    );
    for name in [
        "OpenRound",
        "JoinRound",
        "CommitUpdate",
        "RevealUpdate",
        "SubmitVerdict",
        "FinalizeRound",
        "ClaimReward",
        "SettleValidator",
        "CloseRound",
    ] {
        assert!(report.compute_units.contains_key(name), "{name}");
    }
    assert_eq!(report.compute_units["ClaimReward"].count, 8);
}

#[test]
fn the_same_seed_ships_the_same_model() {
    let first = demo(|_| {});
    let second = demo(|_| {});
    assert_eq!(first.model_cid, second.model_cid);
    let weights = |r: &DemoReport| r.nodes.iter().map(|n| n.weight_bps).collect::<Vec<_>>();
    assert_eq!(weights(&first), weights(&second));
}

#[test]
fn a_no_show_forfeits_a_lost_blob_is_slashed_and_a_silent_validator_loses_half() {
    let report = demo(|config| {
        config.faults = Faults {
            no_show: 1,
            lost_blobs: 1,
            silent_validators: 1,
            dishonest_validators: 0,
        };
    });
    let role = |r: NodeRole| report.nodes.iter().find(|n| n.role == r).unwrap();
    assert_eq!(role(NodeRole::NoShow).verdict, "no-show");
    assert_eq!(role(NodeRole::NoShow).reputation.no_shows, 1);
    let lost = role(NodeRole::LostBlob);
    assert_eq!(lost.verdict, "slashed");
    assert!(
        lost.reason.as_deref().unwrap().contains("unavailable"),
        "{lost:?}"
    );
    check_node_payouts(&report, 1);
    let pool = report.funded_lamports - report.fee_lamports;
    let validator_pool = pool * VALIDATOR_SHARE_BPS / BPS;
    for v in &report.validators {
        let expected = match v.role {
            ValidatorRole::Silent => v.stake_lamports - v.stake_lamports * SLASH_BPS / BPS,
            _ => v.stake_lamports + validator_pool / 2,
        };
        assert_eq!(
            v.payout_lamports - v.rent_refund_lamports,
            expected,
            "{v:?}"
        );
    }
}

#[test]
fn a_dishonest_validator_is_outvoted_and_slashed() {
    let report = demo(|config| config.faults.dishonest_validators = 1);
    for node in &report.nodes {
        assert_eq!(node.verdict == "slashed", node.malicious, "{node:?}");
    }
    check_node_payouts(&report, 0);
    let pool = report.funded_lamports - report.fee_lamports;
    for v in &report.validators {
        let expected = match v.role {
            ValidatorRole::Dishonest => v.stake_lamports - v.stake_lamports * SLASH_BPS / BPS,
            _ => v.stake_lamports + pool * VALIDATOR_SHARE_BPS / BPS / 2,
        };
        assert_eq!(
            v.payout_lamports - v.rent_refund_lamports,
            expected,
            "{v:?}"
        );
    }
}
