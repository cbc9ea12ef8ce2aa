use super::*;
use crate::data::{Partition, digits, partition};
use crate::train::{TrainConfig, train};
use crate::update::Encoding;
use droppin_interface::merkle::verify;

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
        round: &[u8; 32],
    ) -> Result<ValidationReport, FlError> {
        let all: Vec<Submission<'_>> = self
            .submissions
            .iter()
            .map(|(node, bytes)| Submission {
                node: *node,
                bytes,
                reputation_bps: BPS,
            })
            .collect();
        validate(
            &self.spec,
            &self.base,
            &self.validation,
            submissions.unwrap_or(&all),
            round,
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
    let round = [7u8; 32];
    let report = round_submissions().validate(None, &round).unwrap();
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
    for (index, leaf) in report.leaves.iter().enumerate() {
        leaf.check().unwrap();
        assert!(verify::<Sha256>(
            &report.root,
            leaf.hash::<Sha256>(&round),
            &report.tree.proof(index)
        ));
    }
}

#[test]
fn a_lone_update_gets_everything_and_duplicate_nodes_are_refused() {
    let fixture = round_submissions();
    let (node, bytes) = &fixture.submissions[0];
    let one = [Submission {
        node: *node,
        bytes,
        reputation_bps: BPS,
    }];
    let report = fixture.validate(Some(&one), &[0; 32]).unwrap();
    assert_eq!(report.verdicts[0].weight_bps, 10_000);
    let twice = [one[0], one[0]];
    assert!(fixture.validate(Some(&twice), &[0; 32]).is_err());
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
            bytes: &zero,
            reputation_bps: BPS,
        },
        Submission {
            node: [2; 32],
            bytes: &zero,
            reputation_bps: BPS,
        },
    ];
    let report = fixture.validate(Some(&pair), &[0; 32]).unwrap();
    for verdict in &report.verdicts {
        assert_eq!(verdict.rejected, Some(Reason::Duplicate));
    }
}

/// The same inputs give byte-identical verdicts and root in two separate processes.
#[test]
fn identical_across_processes() {
    const CHILD: &str = "DROPPIN_VALIDATION_CHILD";
    if std::env::var_os(CHILD).is_some() {
        let report = round_submissions().validate(None, &[3; 32]).unwrap();
        let leaves: Vec<String> = report
            .leaves
            .iter()
            .map(|l| format!("{:?}:{}", l.verdict, l.weight_bps))
            .collect();
        println!(
            "VERDICT root={:02x?} leaves={}",
            report.root,
            leaves.join(",")
        );
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
