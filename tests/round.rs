//! Whole rounds on the embedded chain: the real program in LiteSVM, real training, the local
//! blob store, and the CLI's node and validator logic. Payouts are checked to the lamport
//! against the protocol's terms (8% fee, 5% validators' share, 50% slash), computed here.

use droppin_cli::demo::{
    DemoConfig, DemoReport, Faults, NodeReport, NodeRole, ValidatorRole, embedded_chain, run,
};
use droppin_fl::data::{digits, task_split};
use droppin_node::RoundTask;
use droppin_storage::{BlobStore, from_interface};
use droppin_storage::{Limits, LocalStore};
use droppin_task::catalog;
use droppin_tests::program_path;

const BPS: u64 = 10_000;
const FEE_BPS: u64 = 800;
const VALIDATOR_SHARE_BPS: u64 = 500;
const SLASH_BPS: u64 = 5_000;

fn demo(tweak: impl FnOnce(&mut DemoConfig)) -> DemoReport {
    let dir = tempfile::tempdir().unwrap();
    let mut config = DemoConfig::new(dir.path().join("out"));
    tweak(&mut config);
    let chain = embedded_chain(&program_path(), config.seed).unwrap();
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
fn check_node_payouts(report: &DemoReport) -> u64 {
    let stake = report.nodes[0].stake_lamports;
    let funded = report.funded_lamports;
    assert_eq!(report.fee_lamports, funded * FEE_BPS / BPS);
    let pool = funded - report.fee_lamports;
    let node_pool = pool - pool * VALIDATOR_SHARE_BPS / BPS;
    let mut weights = 0;
    for node in &report.nodes {
        let expected = match node.verdict {
            "accepted" => stake + node_pool * u64::from(node.weight_bps) / BPS,
            "excluded" => stake,
            "slashed" | "no-show" => stake - stake * SLASH_BPS / BPS,
            other => panic!("unknown verdict {other}"),
        };
        assert_eq!(net(node), expected, "{node:?}");
        weights += u64::from(node.weight_bps);
    }
    // Pay is by measured contribution, capped per node: what nobody earned goes back to the
    // funder, never split evenly.
    assert!(weights > 0 && weights <= BPS, "accepted weights: {weights}");
    assert_eq!(
        report.escrow_remaining_lamports, 0,
        "nothing stays in escrow"
    );
    node_pool
}

/// Validators' fees over a round (seat, seal, reveal, settle): payouts are checked within them.
const FEES: i128 = 60_000;

/// Checks that every seat that voted the final verdict got its bond and an equal share of the
/// validators' pool, and every other validator at most its bond.
fn check_validators(report: &DemoReport) {
    let pool = report.funded_lamports - report.fee_lamports;
    let validator_pool = pool * VALIDATOR_SHARE_BPS / BPS;
    let agreeing = report
        .validators
        .iter()
        .filter(|v| v.voted_with_final)
        .count() as u64;
    assert!(agreeing > 0);
    for v in &report.validators {
        let change = v.payout_lamports as i128 - v.bond_lamports as i128;
        if v.voted_with_final {
            let share = (validator_pool / agreeing) as i128;
            assert!((change - share).abs() <= FEES, "{v:?}");
        } else if v.drawn {
            assert!(
                change < 0,
                "a drawn validator that did not vote the final verdict loses: {v:?}"
            );
        } else {
            assert!(change.abs() <= FEES, "{v:?}");
        }
    }
}

#[test]
fn a_round_trains_the_task_it_pins_by_cid() {
    // The breast cancer task: the funder publishes its manifest and the round stores its CID;
    // nodes and committee read the model and the recipe from it, and the shipped data's split
    // gives the shards and the validation set.
    let task = RoundTask::new(catalog::get("breast-cancer").unwrap()).unwrap();
    let data = task_split(&task.manifest).unwrap().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = DemoConfig::new(dir.path().join("out"));
    config.train = task.recipe(config.seed);
    config.task = task.clone();
    let chain = embedded_chain(&program_path(), config.seed).unwrap();
    let store = LocalStore::open(dir.path().join("blobs"), Limits::default()).unwrap();
    let report = run(&config, chain, &store, &data).unwrap();
    let honest = report.nodes.iter().filter(|n| n.role == NodeRole::Honest);
    assert!(
        honest.clone().all(|n| n.verdict == "accepted"),
        "{report:?}"
    );
    assert!(
        report
            .nodes
            .iter()
            .filter(|n| n.role != NodeRole::Honest)
            .all(|n| n.verdict != "accepted"),
        "{report:?}"
    );
    assert!(
        report.accuracy_after > 0.9 && report.accuracy_after > report.accuracy_before,
        "{} -> {}",
        report.accuracy_before,
        report.accuracy_after
    );
    let stored = store.get(&from_interface(&task.cid).unwrap()).unwrap();
    assert_eq!(RoundTask::from_stored(&stored, &task.cid).unwrap(), task);
    check_node_payouts(&report);
}

#[test]
fn a_full_round_slashes_the_attackers_pays_the_honest_and_improves_the_model() {
    let report = demo(|_| {});
    assert_eq!(report.nodes.len(), 8);
    for node in &report.nodes {
        // A sign flip surely raises the validation loss: excluded, nothing paid.
        let expected = if node.malicious {
            "excluded"
        } else {
            "accepted"
        };
        assert_eq!(node.verdict, expected, "{node:?}");
        assert!(!node.malicious || node.weight_bps == 0, "{node:?}");
        assert_eq!(node.reputation.rounds_joined, 1);
    }
    let node_pool = check_node_payouts(&report);
    check_validators(&report);
    assert!(
        report.validators.iter().any(|v| v.drawn),
        "a committee was drawn"
    );
    assert!(!report.appealed);
    let paid: u64 = report
        .nodes
        .iter()
        .map(|n| node_pool * u64::from(n.weight_bps) / BPS)
        .sum();
    assert!(paid > 0, "honest nodes earn");
    assert!(
        report.funder_refund_lamports.abs_diff(node_pool - paid) <= report.nodes.len() as u64,
        "the funder gets back what nobody earned: {} of {}",
        report.funder_refund_lamports,
        node_pool - paid
    );
    assert!(
        report.accuracy_after > report.accuracy_before + 0.3,
        "{} -> {}",
        report.accuracy_before,
        report.accuracy_after
    );
    for name in [
        "OpenRound",
        "RegisterValidator",
        "JoinRound",
        "CommitUpdate",
        "RevealUpdate",
        "DrawCommittee",
        "ClaimSeat",
        "ReportAvailability",
        "CommitVote",
        "RevealVote",
        "FinalizeRound",
        "PostVerdictLeaves",
        "SettleNode",
        "SettleSeat",
        "CloseRound",
    ] {
        assert!(report.compute_units.contains_key(name), "{name}");
    }
    assert_eq!(report.compute_units["SettleNode"].count, 8);
}

#[test]
fn the_same_seed_ships_the_same_model() {
    let first = demo(|_| {});
    let second = demo(|_| {});
    assert_eq!(first.model_cid, second.model_cid);
    let weights = |r: &DemoReport| r.nodes.iter().map(|n| n.weight_bps).collect::<Vec<_>>();
    assert_eq!(weights(&first), weights(&second));
    let drawn = |r: &DemoReport| r.validators.iter().map(|v| v.drawn).collect::<Vec<_>>();
    assert_eq!(drawn(&first), drawn(&second), "the seed picks the draw");
}

#[test]
fn a_no_show_keeps_its_floor_a_lost_blob_is_excluded_and_slashes_go_to_the_treasury() {
    let report = demo(|config| {
        config.faults = Faults {
            no_show: 1,
            lost_blobs: 1,
            silent_validators: 1,
            ..Faults::default()
        };
    });
    let role = |r: NodeRole| report.nodes.iter().find(|n| n.role == r).unwrap();
    let no_show = role(NodeRole::NoShow);
    assert_eq!(no_show.verdict, "no-show");
    assert_eq!(no_show.reputation.no_shows, 1);
    let stake = no_show.stake_lamports;
    assert!(no_show.payout_lamports >= stake - stake * SLASH_BPS / BPS);
    let lost = role(NodeRole::LostBlob);
    assert_eq!(
        lost.verdict, "excluded",
        "an unavailable update is not slashed"
    );
    assert!(
        lost.reason.as_deref().unwrap().contains("unavailable"),
        "{lost:?}"
    );
    let node_pool = check_node_payouts(&report);
    check_validators(&report);
    let slashed = report
        .nodes
        .iter()
        .filter(|n| n.verdict == "slashed" || n.verdict == "no-show")
        .count() as u64;
    assert!(
        report.slashed_to_treasury_lamports >= slashed * (stake * SLASH_BPS / BPS),
        "every forfeit went to the treasury"
    );
    // What returns to the funder is the node pool nobody earned and the rounding of the shares,
    // never a slashed or forfeited lamport.
    let paid: u64 = report
        .nodes
        .iter()
        .map(|n| node_pool * u64::from(n.weight_bps) / BPS)
        .sum();
    assert!(
        report.funder_refund_lamports.abs_diff(node_pool - paid) <= report.nodes.len() as u64,
        "{} against {}",
        report.funder_refund_lamports,
        node_pool - paid
    );
}

/// A blob served to one reporting seat only is unavailable to the committee's majority, and one
/// served to all reporting seats but one is fetched by that one from the others: either way
/// every honest validator judges the same set, votes the same verdict and is paid.
#[test]
fn a_blob_served_to_some_validators_only_cannot_split_the_committee() {
    let report = demo(|config| {
        config.faults = Faults {
            withheld_blobs: 1,
            scarce_blobs: 1,
            ..Faults::default()
        };
        config.seed = 5;
    });
    let role = |r: NodeRole| report.nodes.iter().find(|n| n.role == r).unwrap();
    let withheld = role(NodeRole::WithheldBlob);
    assert_eq!(withheld.verdict, "excluded");
    assert!(
        withheld.reason.as_deref().unwrap().contains("unavailable"),
        "{withheld:?}"
    );
    assert_eq!(role(NodeRole::ScarceBlob).verdict, "accepted");
    assert!(!report.appealed, "the committee did not split");
    assert!(report.validators.iter().filter(|v| v.drawn).count() >= 3);
    check_validators(&report);
}

#[test]
fn dishonest_validators_are_outvoted_or_appealed_and_always_lose() {
    // Seed 11 gives three dishonest validators the first committee's quorum (an honest node
    // appeals and the appeal overturns it); seed 1 splits the first committee (the round is
    // escalated to the appeal's committee, which decides); seed 3 leaves them outvoted.
    for (dishonest, seed, appealed, overturned) in [
        (3, 11, true, true),
        (2, 1, true, false),
        (3, 3, false, false),
    ] {
        let report = demo(|config| {
            config.faults.dishonest_validators = dishonest;
            config.seed = seed;
        });
        assert_eq!(
            (report.appealed, report.overturned),
            (appealed, overturned),
            "seed {seed}"
        );
        for node in &report.nodes {
            if node.role == NodeRole::Honest {
                assert_eq!(node.verdict, "accepted", "seed {seed}: {node:?}");
                assert!(node.payout_lamports >= node.stake_lamports);
            }
        }
        check_node_payouts(&report);
        let dishonest_drawn = report
            .validators
            .iter()
            .any(|v| v.role == ValidatorRole::Dishonest && v.drawn);
        assert!(
            dishonest_drawn,
            "seed {seed}: no dishonest validator was drawn"
        );
        for v in &report.validators {
            if v.role == ValidatorRole::Dishonest && v.drawn {
                assert!(v.payout_lamports < v.bond_lamports, "seed {seed}: {v:?}");
            }
        }
    }
}
