use super::*;
use crate::data::{Partition, digits, partition};
use crate::train::{TrainConfig, train};
use crate::update::Encoding;
use droppin_interface::verdict::Outcome;

/// A round's inputs: model, base, validation set and each node's encoded update.
struct Fixture {
    spec: ModelSpec,
    base: Weights,
    validation: crate::data::Dataset,
    submissions: Vec<([u8; 32], Vec<u8>)>,
}

impl Fixture {
    /// Validates `submissions` (default: all of the fixture's) for `round`.
    fn validate(
        &self,
        submissions: Option<&[Submission<'_>]>,
    ) -> Result<ValidationReport, FlError> {
        let all: Vec<Submission<'_>> = self
            .submissions
            .iter()
            .map(|(node, bytes)| Submission {
                node: *node,
                bytes: Some(bytes),
                reputation_bps: BPS,
            })
            .collect();
        validate(
            &self.spec,
            &self.base,
            &self.validation,
            submissions.unwrap_or(&all),
            &ValidatorConfig::default(),
        )
    }
}

/// Five honest nodes trained on digits shards, one sign-flipper, one NaN sender, one copy pair.
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
    let submissions = deltas
        .into_iter()
        .enumerate()
        .map(|(i, delta)| {
            let update = Update::delta(&spec, base_hash, 200, base.layout.clone(), delta);
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
    assert_eq!(reason(6), Some(Reason::Direction));
    assert!(matches!(reason(7), Some(Reason::Malformed(m)) if m.contains("NaN")));
    let total: u32 = report
        .verdicts
        .iter()
        .map(|v| u32::from(v.weight_bps))
        .sum();
    assert_eq!(total, 10_000);
    assert!(report.aggregate.loss < report.base.loss);
    for verdict in &report.verdicts {
        let expected = if verdict.rejected.is_none() {
            Outcome::Accepted
        } else {
            Outcome::Slashed
        };
        assert_eq!(verdict.outcome, expected);
    }
}

#[test]
fn an_unavailable_blob_is_excluded_not_slashed() {
    let fixture = round_submissions();
    let mut submissions: Vec<Submission<'_>> = fixture
        .submissions
        .iter()
        .map(|(node, bytes)| Submission {
            node: *node,
            bytes: Some(bytes),
            reputation_bps: BPS,
        })
        .collect();
    submissions[0].bytes = None;
    let report = fixture.validate(Some(&submissions)).unwrap();
    let missing = report.verdict_of(&submissions[0].node).unwrap();
    assert_eq!(missing.rejected, Some(Reason::Unavailable));
    assert_eq!(missing.outcome, Outcome::Excluded);
    assert_eq!(missing.weight_bps, 0);
}

#[test]
fn a_lone_update_gets_everything_and_duplicate_nodes_are_refused() {
    let fixture = round_submissions();
    let (node, bytes) = &fixture.submissions[0];
    let one = [Submission {
        node: *node,
        bytes: Some(bytes),
        reputation_bps: BPS,
    }];
    let report = fixture.validate(Some(&one)).unwrap();
    assert_eq!(report.verdicts[0].weight_bps, 10_000);
    let twice = [one[0], one[0]];
    assert!(fixture.validate(Some(&twice)).is_err());
}

#[test]
fn byte_identical_updates_are_duplicates_even_when_no_rule_scores_them() {
    let fixture = round_submissions();
    // Two zero deltas: no norm to compare and no direction, yet the same CID.
    let zero = Update::delta(
        &fixture.spec,
        Update::model_hash(&fixture.spec, &fixture.base),
        10,
        fixture.base.layout.clone(),
        vec![0.0; fixture.base.values.len()],
    )
    .encode(Encoding::default());
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

/// The same inputs give byte-identical verdicts and root in two separate processes.
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
    let run = || {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "validate::tests::identical_across_processes",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD, "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        stdout
            .lines()
            .find_map(|l| l.find("VERDICT").map(|at| l[at..].to_owned()))
            .expect("child printed a verdict")
    };
    let first = run();
    assert_eq!(first, run());
    assert!(first.contains("Slashed") && first.contains("Accepted"));
}
