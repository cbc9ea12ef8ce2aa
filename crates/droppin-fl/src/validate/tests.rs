use super::*;
use crate::data::{Partition, digits, partition};
use crate::train::{TrainConfig, train};
use crate::update::Encoding;
use burn::tensor::Device;
use droppin_interface::verdict::Outcome;

/// The round the fixture's updates are made for.
const ROUND: [u8; 32] = [0xab; 32];

/// A round's inputs: model, base, validation set and each node's encoded update.
struct Fixture {
    spec: ModelSpec,
    base: Weights,
    validation: crate::data::Dataset,
    submissions: Vec<([u8; 32], Vec<u8>)>,
}

impl Fixture {
    /// `delta` as a blob for this round's base, claiming `samples`.
    fn encode(&self, delta: Vec<f32>, samples: u64) -> Vec<u8> {
        Update::delta(
            &self.spec,
            Update::model_hash(&self.spec, &self.base),
            ROUND,
            samples,
            self.base.layout.clone(),
            delta,
        )
        .encode(Encoding::default())
    }

    /// The delta of training this round's base on `data`.
    fn trained_on(&self, data: &crate::data::Dataset, config: &TrainConfig) -> Vec<f32> {
        train(
            &self.spec,
            &self.base,
            data,
            config,
            &Device::flex(),
            |_| {},
        )
        .unwrap()
        .delta_from(&self.base)
    }

    /// Validates `submissions` (default: all of the fixture's) for `round`.
    fn validate(
        &self,
        submissions: Option<&[Submission<'_>]>,
    ) -> Result<ValidationReport, FlError> {
        let all = as_submissions(&self.submissions);
        self.judge(submissions.unwrap_or(&all), None, None)
    }

    /// Validates `submissions` with a previous step and a public reference.
    fn judge(
        &self,
        submissions: &[Submission<'_>],
        previous_step: Option<&[f32]>,
        reference: Option<&Reference>,
    ) -> Result<ValidationReport, FlError> {
        validate(
            &self.spec,
            &self.base,
            &self.validation,
            submissions,
            &RoundContext {
                round: ROUND,
                previous_step,
                reference,
            },
            &ValidatorConfig::default(),
        )
    }
}

/// Each node's blob, as fetched, at full reputation.
fn as_submissions(blobs: &[([u8; 32], Vec<u8>)]) -> Vec<Submission<'_>> {
    blobs
        .iter()
        .map(|(node, bytes)| Submission {
            node: *node,
            bytes: Some(bytes),
            reputation_bps: BPS,
        })
        .collect()
}

/// Five honest nodes trained on digits shards (1 to 5), a sign-flipper (6), a NaN sender (7), a
/// copy of node 2 (8), a replay of node 3's training from another round (9) and a huge poison
/// (10).
fn round_submissions() -> Fixture {
    let split = digits().unwrap();
    let spec = ModelSpec::digits_mlp();
    let base = Weights::initial(&spec, 9);
    let base_hash = Update::model_hash(&spec, &base);
    let shards = partition(&split.train, 5, Partition::Iid, 9).unwrap();
    let config = TrainConfig {
        learning_rate: 0.002,
        epochs: 4,
        ..TrainConfig::default()
    };
    let mut deltas: Vec<Vec<f32>> = shards
        .iter()
        .map(|s| {
            train(
                &spec,
                &base,
                &split.train.subset(s),
                &config,
                &Device::flex(),
                |_| {},
            )
            .unwrap()
            .delta_from(&base)
        })
        .collect();
    deltas.push(deltas[0].iter().map(|v| -v).collect());
    deltas.push(vec![f32::NAN; deltas[0].len()]);
    deltas.push(deltas[1].iter().map(|v| v * 1.0001).collect());
    deltas.push(deltas[2].iter().map(|v| v * 0.999).collect());
    deltas.push(deltas[3].iter().map(|v| v * -500.0).collect());
    let submissions = deltas
        .into_iter()
        .enumerate()
        .map(|(i, delta)| {
            let round = if i == 8 { [0xcd; 32] } else { ROUND };
            let update = Update::delta(&spec, base_hash, round, 200, base.layout.clone(), delta);
            ([i as u8 + 1; 32], update.encode(Encoding::default()))
        })
        .collect();
    Fixture {
        spec,
        base,
        validation: split.validation,
        submissions,
    }
}

#[test]
fn verdicts_weights_and_proofs() {
    let report = round_submissions().validate(None).unwrap();
    let reason = |node: u8| {
        report
            .verdicts
            .iter()
            .find(|v| v.node == [node; 32])
            .unwrap()
            .rejected
            .clone()
    };
    assert_eq!(reason(1), None);
    assert_eq!(
        reason(2),
        Some(Reason::Duplicate),
        "the original of a copy is rejected with it"
    );
    assert_eq!(reason(8), Some(Reason::Duplicate));
    assert_eq!(reason(6), Some(Reason::Harmful));
    assert!(matches!(reason(7), Some(Reason::Malformed(m)) if m.contains("NaN")));
    assert_eq!(reason(9), Some(Reason::Replay));
    assert_eq!(reason(10), Some(Reason::LossIncrease));
    for node in [1, 3, 4, 5] {
        assert_eq!(reason(node), None, "honest node {node}");
    }
    let total: u32 = report
        .verdicts
        .iter()
        .map(|v| u32::from(v.weight_bps))
        .sum();
    assert!(total > 0 && total <= 10_000, "{total}");
    assert!(report.aggregate.loss < report.base.loss);
    for verdict in &report.verdicts {
        let expected = verdict
            .rejected
            .as_ref()
            .map_or(Outcome::Accepted, Reason::outcome);
        assert_eq!(verdict.outcome, expected);
        assert!(verdict.weight_bps <= ValidatorConfig::default().max_share_bps);
        if verdict.outcome != Outcome::Accepted {
            assert_eq!(verdict.weight_bps, 0);
        }
    }
    // Sign flips are excluded (a statistical verdict), faults anyone can check are slashed.
    assert_eq!(reason(6).unwrap().outcome(), Outcome::Excluded);
    for node in [2, 7, 8, 9, 10] {
        assert_eq!(reason(node).unwrap().outcome(), Outcome::Slashed, "{node}");
    }
}

#[test]
fn an_unavailable_blob_is_excluded_not_slashed() {
    let fixture = round_submissions();
    let mut submissions = as_submissions(&fixture.submissions);
    submissions[0].bytes = None;
    let report = fixture.validate(Some(&submissions)).unwrap();
    let missing = report.verdict_of(&submissions[0].node).unwrap();
    assert_eq!(missing.rejected, Some(Reason::Unavailable));
    assert_eq!(missing.outcome, Outcome::Excluded);
    assert_eq!(missing.weight_bps, 0);
}

#[test]
fn a_lone_update_is_capped_and_duplicate_nodes_are_refused() {
    let fixture = round_submissions();
    let (node, bytes) = &fixture.submissions[0];
    let one = [Submission {
        node: *node,
        bytes: Some(bytes),
        reputation_bps: BPS,
    }];
    let report = fixture.validate(Some(&one)).unwrap();
    // No node takes more than the cap, however alone: the rest goes back to the funder.
    assert_eq!(
        report.verdicts[0].weight_bps,
        ValidatorConfig::default().max_share_bps
    );
    let twice = [one[0], one[0]];
    assert!(fixture.validate(Some(&twice)).is_err());
}

#[test]
fn byte_identical_updates_are_duplicates_even_when_no_rule_scores_them() {
    let fixture = round_submissions();
    // Two zero deltas: no norm to compare and no direction, yet the same CID.
    let zero = fixture.encode(vec![0.0; fixture.base.values.len()], 10);
    let pair = [
        Submission {
            node: [1; 32],
            bytes: Some(&zero),
            reputation_bps: BPS,
        },
        Submission {
            node: [2; 32],
            bytes: Some(&zero),
            reputation_bps: BPS,
        },
    ];
    let report = fixture.validate(Some(&pair)).unwrap();
    for verdict in &report.verdicts {
        assert_eq!(verdict.rejected, Some(Reason::Duplicate));
    }
}

/// The same inputs give byte-identical verdicts and root in separate processes with different
/// thread counts.
#[test]
fn identical_across_processes() {
    const CHILD: &str = "DROPPIN_VALIDATION_CHILD";
    if std::env::var_os(CHILD).is_some() {
        let report = round_submissions().validate(None).unwrap();
        let leaves: Vec<String> = report
            .verdicts
            .iter()
            .map(|v| format!("{:?}:{}", v.outcome, v.weight_bps))
            .collect();
        let model = Update::model_hash(&round_submissions().spec, &report.new_model);
        println!("VERDICT model={model:02x?} leaves={}", leaves.join(","));
        return;
    }
    let run = |threads: &str| {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "validate::tests::identical_across_processes",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD, "1")
            .env("RAYON_NUM_THREADS", threads)
            .output()
            .unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        stdout
            .lines()
            .find_map(|l| l.find("VERDICT").map(|at| l[at..].to_owned()))
            .expect("child printed a verdict")
    };
    let first = run("1");
    assert_eq!(first, run("3"));
    assert!(first.contains("Slashed") && first.contains("Accepted"));
}

/// The previous round's step is public: sending it again, with a little noise, earns nothing,
/// while the honest nodes of the round are still accepted and paid.
#[test]
fn repeating_the_public_step_earns_nothing() {
    let fixture = round_submissions();
    let honest: Vec<Update> = fixture.submissions[..5]
        .iter()
        .map(|(_, bytes)| {
            let limits = DecodeLimits::delta(
                &fixture.spec,
                &fixture.base.layout,
                Update::model_hash(&fixture.spec, &fixture.base),
                ROUND,
            );
            Update::decode(bytes, &limits).unwrap()
        })
        .collect();
    // The step that made this base stands in for an honest-like update from an earlier round:
    // node 5's, which does not take part here.
    let step: Vec<f32> = honest[4].values.clone();
    let riders: Vec<Vec<u8>> = (0..2)
        .map(|r| {
            let noisy: Vec<f32> = step
                .iter()
                .enumerate()
                .map(|(i, v)| v * (1.0 + 0.05 * (((i * 31 + r * 7) % 11) as f32 - 5.0) / 5.0))
                .collect();
            fixture.encode(noisy, 200)
        })
        .collect();
    let mut submissions = as_submissions(&fixture.submissions[..4]);
    for (r, bytes) in riders.iter().enumerate() {
        submissions.push(Submission {
            node: [0xf0 + r as u8; 32],
            bytes: Some(bytes),
            reputation_bps: BPS,
        });
    }
    let report = fixture.judge(&submissions, Some(&step), None).unwrap();
    let paid = |node: [u8; 32]| report.verdict_of(&node).unwrap().weight_bps;
    let honest_paid: u32 = (1..=4).map(|n| u32::from(paid([n; 32]))).sum();
    assert!(honest_paid > 0);
    for r in 0..2 {
        assert_eq!(paid([0xf0 + r; 32]), 0, "free rider {r}");
    }
    for n in 1..=4 {
        assert_ne!(
            report.verdict_of(&[n; 32]).unwrap().outcome,
            Outcome::Slashed
        );
    }
}

/// Public data is free to anyone: a node that trains on it instead of data of its own is grouped
/// with the committee's reference update and earns nothing, while the same update is paid when
/// the committee has no reference; honest nodes are paid either way.
#[test]
fn training_on_public_data_earns_nothing() {
    let fixture = round_submissions();
    let (public, recipe, reference) = public_reference(&fixture);
    let bytes = fixture.encode(
        fixture.trained_on(&public, &TrainConfig { seed: 22, ..recipe }),
        200,
    );
    let rider = [0xee; 32];
    let mut submissions = as_submissions(&fixture.submissions[..5]);
    submissions.push(Submission {
        node: rider,
        bytes: Some(&bytes),
        reputation_bps: BPS,
    });
    let judge = |reference| fixture.judge(&submissions, None, reference).unwrap();
    let paid =
        |report: &ValidationReport, node: [u8; 32]| report.verdict_of(&node).unwrap().weight_bps;
    let without = judge(None);
    assert!(paid(&without, rider) > 0, "{:?}", without.verdicts);
    let with = judge(Some(&reference));
    assert_eq!(paid(&with, rider), 0, "{:?}", with.verdicts);
    assert_eq!(
        with.verdict_of(&rider).unwrap().outcome,
        Outcome::Accepted,
        "helpful, so not excluded: only unpaid"
    );
    let honest_paid = (1..=5).filter(|&n| paid(&with, [n; 32]) > 0).count();
    assert!(honest_paid >= 4, "{:?}", with.verdicts);
}

/// Where two trainings of the public data are far apart (the character model's first round, 35
/// Adam steps through attention: 0.57), honest updates of other data sit as close to the
/// reference as a retraining does. The bar must not fall to where honest nodes sit: here the
/// second training runs on 40 other samples (0.5-0.7 from the first, so a bar of 0.9 of that
/// would take in every honest update, at 0.77-0.81), and the halves' trainings hold the bar above
/// where updates of other data are expected.
#[test]
fn a_reference_that_cannot_tell_a_retraining_marks_nobody() {
    let fixture = round_submissions();
    let (_, recipe, reference) = public_reference(&fixture);
    let other = digits()
        .unwrap()
        .test
        .subset(&(200..240).collect::<Vec<_>>());
    let chaotic = Reference {
        retrained: fixture.trained_on(&other, &recipe),
        ..reference
    };
    let alike = crate::aggregate::cosine(
        &chaotic.update,
        &chaotic.retrained,
        crate::aggregate::l2_norm(&chaotic.update),
        crate::aggregate::l2_norm(&chaotic.retrained),
    );
    assert!((0.5..0.7).contains(&alike), "{alike}");
    let pay = honest_pay(&fixture, 5, &[], &chaotic);
    assert!(pay.iter().all(|&bps| bps > 0), "{pay:?}");
}

/// A reference that overflowed (an infinite weight) is no anchor: the round is judged as
/// without one, rather than at an infinite norm against a bar no cosine can be compared with.
#[test]
fn a_reference_with_an_infinite_weight_is_set_aside() {
    let fixture = round_submissions();
    let (_, _, reference) = public_reference(&fixture);
    let mut update = reference.update.clone();
    update[7] = f32::INFINITY;
    let broken = Reference {
        update,
        ..reference.clone()
    };
    let submissions = as_submissions(&fixture.submissions[..5]);
    let judge = |reference| fixture.judge(&submissions, None, reference).unwrap();
    let without = judge(None).verdicts;
    assert_ne!(
        judge(Some(&reference)).verdicts,
        without,
        "the reference counts"
    );
    assert_eq!(judge(Some(&broken)).verdicts, without);
}

/// The bar keeps above where updates of data of the public sample's size are expected. A node
/// holding five times that data and training by the recipe (five times the steps) moves further
/// from the reference than they do (0.77 against 0.77-0.81), not closer: it is no retraining, and
/// is paid for what it gains.
#[test]
fn a_node_with_five_times_the_public_data_is_paid() {
    let fixture = round_submissions();
    let (_, recipe, reference) = public_reference(&fixture);
    let all = digits().unwrap().train;
    let big = [0xbb; 32];
    let bytes = fixture.encode(
        fixture.trained_on(&all, &TrainConfig { seed: 31, ..recipe }),
        all.len() as u64,
    );
    let blobs = [&fixture.submissions[..5], &[(big, bytes)]].concat();
    let report = fixture
        .judge(&as_submissions(&blobs), None, Some(&reference))
        .unwrap();
    for node in [[1; 32], [2; 32], [3; 32], [4; 32], [5; 32], big] {
        assert!(
            report.verdict_of(&node).unwrap().weight_bps > 0,
            "{:?}",
            report.verdicts
        );
    }
}

/// The public reference and the recipe it was trained with: 200 samples of the digits' test
/// split, which no fixture node trained on.
fn public_reference(fixture: &Fixture) -> (crate::data::Dataset, TrainConfig, Reference) {
    let public = digits().unwrap().test.subset(&(0..200).collect::<Vec<_>>());
    let recipe = TrainConfig {
        learning_rate: 0.002,
        epochs: 4,
        seed: 21,
        ..TrainConfig::default()
    };
    let reference = Reference::train(&fixture.spec, &fixture.base, &public, &recipe).unwrap();
    (public, recipe, reference)
}

/// The pay of the fixture's first `honest` nodes, judged beside `extra` blobs.
fn honest_pay(
    fixture: &Fixture,
    honest: usize,
    extra: &[([u8; 32], Vec<u8>)],
    reference: &Reference,
) -> Vec<u16> {
    let blobs = [&fixture.submissions[..honest], extra].concat();
    let report = fixture
        .judge(&as_submissions(&blobs), None, Some(reference))
        .unwrap();
    (1..=honest as u8)
        .map(|n| report.verdict_of(&[n; 32]).unwrap().weight_bps)
        .collect()
}

/// The committee's validation set is private until the round ends, but the direction every
/// honest update shares is not: anyone can train the public sample, or data of their own from
/// the same distribution, and land near the middle of the honest updates without seeing one. A
/// weak update there (it earns nothing, and its stake comes back) must not tie honest updates
/// into one group and so cut their pay to the least member's: the funder behind it would get
/// the pool back. With two honest nodes the cohort sets no grouping bar of its own; the
/// reference's retraining bar holds then.
#[test]
fn a_weak_update_in_the_middle_of_the_cohort_takes_no_honest_pay() {
    let fixture = round_submissions();
    let (public, recipe, reference) = public_reference(&fixture);
    // Scaled to a little over the least norm the task accepts: it gains too little to carry any
    // weight of its own.
    let least_norm = ValidatorConfig::default().norm_range.0;
    let weak = |delta: Vec<f32>| -> Vec<f32> {
        let scale = (1.2 * least_norm / l2_norm(&delta)) as f32;
        delta.iter().map(|v| v * scale).collect()
    };
    // The public sample retrained, and the attacker's own three shards (of the test split, which
    // no fixture node trained on) trained and averaged.
    let retrained = fixture.trained_on(&public, &TrainConfig { seed: 23, ..recipe });
    let split = digits().unwrap();
    let own: Vec<Vec<f32>> = (0..3)
        .map(|k| {
            let shard = split
                .test
                .subset(&(200 + 50 * k..250 + 50 * k).collect::<Vec<_>>());
            let seed = 40 + k as u64;
            fixture.trained_on(&shard, &TrainConfig { seed, ..recipe })
        })
        .collect();
    let centroid: Vec<f32> = (0..own[0].len())
        .map(|i| own.iter().map(|d| d[i]).sum::<f32>() / 3.0)
        .collect();
    let attackers = [("public", weak(retrained)), ("centroid", weak(centroid))];
    for honest in [2, 5] {
        let before = honest_pay(&fixture, honest, &[], &reference);
        assert!(before.iter().all(|&w| w > 0), "{honest} honest: {before:?}");
        if honest == 2 {
            // Two shards of different data are not one group: each is paid in full (the cap).
            let cap = ValidatorConfig::default().max_share_bps;
            assert_eq!(before, [cap, cap]);
        }
        for (name, delta) in &attackers {
            let attacker = [([0xc0; 32], fixture.encode(delta.clone(), 200))];
            let after = honest_pay(&fixture, honest, &attacker, &reference);
            let total = |pay: &[u16]| pay.iter().map(|&w| u32::from(w)).sum::<u32>();
            assert!(
                after.iter().all(|&w| w > 0) && 10 * total(&after) >= 9 * total(&before),
                "{name}, {honest} honest: pay {before:?} alone, {after:?} beside the weak update"
            );
        }
    }
}

/// A party that trains its one shard under three keys (three batch orders) is one group, paid
/// its least retraining's gain once: about what the same shard earns under one key.
#[test]
fn one_shard_under_three_keys_is_paid_no_more_than_under_one() {
    let fixture = round_submissions();
    let split = digits().unwrap();
    // The party's private shard: a part of the test split, which no fixture node trained on.
    let shard = split.test.subset(&(0..150).collect::<Vec<_>>());
    let blobs: Vec<([u8; 32], Vec<u8>)> = (0..3u8)
        .map(|k| {
            let recipe = TrainConfig {
                learning_rate: 0.002,
                epochs: 4,
                seed: 31 + u64::from(k),
                ..TrainConfig::default()
            };
            let delta = fixture.trained_on(&shard, &recipe);
            ([0xd0 + k; 32], fixture.encode(delta, 150))
        })
        .collect();
    let honest = &fixture.submissions[..5];
    let judge = |keys: usize| {
        let blobs = [honest, &blobs[..keys]].concat();
        fixture.judge(&as_submissions(&blobs), None, None).unwrap()
    };
    let paid = |report: &ValidationReport, keys: usize| -> u32 {
        (0..keys as u8)
            .map(|k| u32::from(report.verdict_of(&[0xd0 + k; 32]).unwrap().weight_bps))
            .sum()
    };
    let (one, three) = (judge(1), judge(3));
    assert!(paid(&one, 1) > 0, "{:?}", one.verdicts);
    let honest: Vec<u32> = (1..=5u8)
        .map(|n| u32::from(three.verdict_of(&[n; 32]).unwrap().weight_bps))
        .collect();
    assert!(
        honest.iter().filter(|&&w| w > 0).count() >= 4,
        "{:?}",
        three.verdicts
    );
    // Each extra key brings at most a tenth of an honest share (the cohort grows with the
    // keys, so gains are measured at a smaller share of the average: not exactly equal).
    let tenth = honest.iter().sum::<u32>() / 5 / 10;
    assert!(
        paid(&three, 3) <= paid(&one, 1) + 2 * tenth,
        "three keys {} bps, one key {} bps, a tenth of an honest share {tenth} bps",
        paid(&three, 3),
        paid(&one, 1)
    );
}

/// An honest node whose shard holds a single class: its update, applied whole, raises the
/// validation loss by more than the bound (it forgets the other classes), yet as one share of an
/// average it is no fault, so it is not slashed.
#[test]
fn a_label_skewed_update_is_not_slashed() {
    let fixture = round_submissions();
    let split = digits().unwrap();
    let one_class: Vec<usize> = (0..split.train.len())
        .filter(|&i| split.train.labels[i] == 3)
        .collect();
    let config = TrainConfig {
        learning_rate: 0.01,
        epochs: 4,
        ..TrainConfig::default()
    };
    let skewed = fixture.trained_on(&split.train.subset(&one_class), &config);
    let rise = score(
        &fixture.spec,
        &fixture.base.apply(&skewed),
        &fixture.validation,
    )
    .unwrap()
    .loss
        - score(&fixture.spec, &fixture.base, &fixture.validation)
            .unwrap()
            .loss;
    assert!(
        rise > ValidatorConfig::default().max_loss_increase,
        "whole, it raises the loss by {rise}"
    );
    let bytes = fixture.encode(skewed, 200);
    let node = [0x33; 32];
    let mut submissions = as_submissions(&fixture.submissions[..5]);
    submissions.push(Submission {
        node,
        bytes: Some(&bytes),
        reputation_bps: BPS,
    });
    let report = fixture.validate(Some(&submissions)).unwrap();
    assert_ne!(
        report.verdict_of(&node).unwrap().outcome,
        Outcome::Slashed,
        "{:?}",
        report.verdict_of(&node)
    );
}

/// A parameter only a minority of the blend weight moves stays where it was (a trigger's weights,
/// which clean data never lights); one that updates holding half the weight move is kept.
#[test]
fn the_consensus_gate_keeps_minority_only_parameters_out() {
    let honest = [0.5f32, -0.2, 0.0];
    let trigger = [0.4f32, 0.0, 0.9];
    let inputs = [
        ClientUpdate {
            delta: &honest,
            samples: 4,
        },
        ClientUpdate {
            delta: &honest,
            samples: 3,
        },
        ClientUpdate {
            delta: &trigger,
            samples: 3,
        },
    ];
    let mut step = vec![0.47f32, -0.14, 0.27];
    consensus(&mut step, &inputs);
    assert_eq!(step, vec![0.47, -0.14, 0.0]);
    // At exactly half the weight, a parameter moves.
    let mut step = vec![0.1f32, 0.1, 0.1];
    consensus(&mut step, &inputs[1..]);
    assert_eq!(step, vec![0.1, 0.1, 0.1]);
}

/// Without a reference (a task that publishes no public sample to train one on), no norm was
/// pinned for measuring gains: an update scaled up gained more, and took the cap and the
/// honest nodes' pay with it. Now it is measured at the cohort's typical norm, so a boost past
/// it buys nothing.
#[test]
fn a_boosted_update_buys_nothing_without_a_reference() {
    let fixture = round_submissions();
    let (public, recipe, _) = public_reference(&fixture);
    let own = fixture.trained_on(&public, &TrainConfig { seed: 23, ..recipe });
    let honest = &fixture.submissions[..5];
    let norm = |blob: &[u8]| {
        let limits = crate::update::DecodeLimits::delta(
            &fixture.spec,
            &fixture.base.layout,
            Update::model_hash(&fixture.spec, &fixture.base),
            ROUND,
        );
        l2_norm(&Update::decode(blob, &limits).unwrap().values)
    };
    let mut honest_norms: Vec<f64> = honest.iter().map(|(_, blob)| norm(blob)).collect();
    honest_norms.sort_by(f64::total_cmp);
    // Sent at the honest nodes' median norm, and boosted three and ten times past it.
    let pay = |boost: f64| -> (Vec<u16>, u16) {
        let scale = (boost * honest_norms[2] / l2_norm(&own)) as f32;
        let delta: Vec<f32> = own.iter().map(|v| v * scale).collect();
        let attacker = [([0xc0; 32], fixture.encode(delta, 200))];
        let report = fixture
            .judge(&as_submissions(&[honest, &attacker].concat()), None, None)
            .unwrap();
        let weight = |node: [u8; 32]| report.verdict_of(&node).unwrap().weight_bps;
        (
            (1..=5u8).map(|n| weight([n; 32])).collect(),
            weight([0xc0; 32]),
        )
    };
    let total = |pay: &[u16]| pay.iter().map(|&w| u32::from(w)).sum::<u32>();
    let (honest_plain, attacker_plain) = pay(1.0);
    for boost in [3.0, 10.0] {
        let (honest_boosted, attacker_boosted) = pay(boost);
        assert!(
            attacker_boosted <= attacker_plain + 50
                && 100 * total(&honest_boosted) >= 98 * total(&honest_plain),
            "boosted {boost}x: honest {honest_boosted:?}, attacker {attacker_boosted}; at the \
             median norm: honest {honest_plain:?}, attacker {attacker_plain}"
        );
    }
}

/// The other way round: without a reference, small keys that gain a little must not pull the
/// norm every gain is measured at down to theirs, which would put every honest gain under the
/// least pay and send the pool back to the funder behind them. Six keys, each trained on one
/// digit class of data of their own and sent at a little over the least norm: their directions
/// are far from the honest ones and from each other, while the honest updates are alike (were
/// alike updates counted as one, these keys would set the norm, and the honest nodes would be
/// paid nothing).
#[test]
fn small_keys_do_not_pull_every_gain_down_without_a_reference() {
    let fixture = round_submissions();
    let (_, recipe, _) = public_reference(&fixture);
    let split = digits().unwrap();
    let least_norm = ValidatorConfig::default().norm_range.0;
    let small: Vec<([u8; 32], Vec<u8>)> = (0..6u8)
        .map(|class| {
            let rows: Vec<usize> = (0..split.test.len())
                .filter(|&i| split.test.labels[i] == class)
                .collect();
            let seed = 60 + u64::from(class);
            let delta =
                fixture.trained_on(&split.test.subset(&rows), &TrainConfig { seed, ..recipe });
            let scale = (1.2 * least_norm / l2_norm(&delta)) as f32;
            let delta = delta.iter().map(|v| v * scale).collect();
            ([0xb0 + class; 32], fixture.encode(delta, 200))
        })
        .collect();
    let honest = &fixture.submissions[..5];
    let honest_total = |extra: &[([u8; 32], Vec<u8>)]| -> u32 {
        let report = fixture
            .judge(&as_submissions(&[honest, extra].concat()), None, None)
            .unwrap();
        (1..=5u8)
            .map(|n| u32::from(report.verdict_of(&[n; 32]).unwrap().weight_bps))
            .sum()
    };
    let (alone, beside) = (honest_total(&[]), honest_total(&small));
    assert!(
        100 * beside >= 98 * alone,
        "honest nodes paid {alone} bps alone, {beside} beside six small keys"
    );
}
