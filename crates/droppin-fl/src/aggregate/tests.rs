use super::*;

fn inputs(vectors: &[Vec<f32>]) -> Vec<ClientUpdate<'_>> {
    vectors
        .iter()
        .map(|v| ClientUpdate {
            delta: v,
            samples: 1,
        })
        .collect()
}

fn run(rule: Rule, vectors: &[Vec<f32>]) -> Result<Aggregate, AggregationError> {
    Aggregator::new(rule).aggregate(&inputs(vectors))
}

/// Seven honest updates near (1, 1, ...) and two attackers far away.
fn poisoned(dim: usize) -> Vec<Vec<f32>> {
    let mut vectors: Vec<Vec<f32>> = (0..7)
        .map(|i| {
            (0..dim)
                .map(|j| 1.0 + 0.01 * (((i * 31 + j * 17) % 11) as f32 - 5.0))
                .collect()
        })
        .collect();
    vectors.push(vec![-50.0; dim]);
    vectors.push(vec![80.0; dim]);
    vectors
}

#[test]
fn fedavg_weights_by_samples() {
    let a = vec![1.0f32; 5_000];
    let b = vec![4.0f32; 5_000];
    let updates = [
        ClientUpdate {
            delta: &a,
            samples: 2,
        },
        ClientUpdate {
            delta: &b,
            samples: 1,
        },
    ];
    let out = Aggregator::new(Rule::FedAvg).aggregate(&updates).unwrap();
    assert!(out.delta.iter().all(|&v| (v - 2.0).abs() < 1e-6));
}

#[test]
fn robust_rules_ignore_the_outliers() {
    let dim = 10_000;
    let vectors = poisoned(dim);
    for rule in [
        Rule::Median,
        Rule::TrimmedMean { beta: 0.25 },
        Rule::Krum { f: 2 },
        Rule::MultiKrum { f: 2, m: 5 },
        Rule::FlTrust {
            root: vec![1.0; dim],
        },
    ] {
        let out = run(rule.clone(), &vectors).unwrap();
        assert!(
            out.delta.iter().all(|&v| (v - 1.0).abs() < 0.06),
            "{rule:?}"
        );
        match rule {
            Rule::Krum { .. } | Rule::MultiKrum { .. } => {
                assert!(out.selected.iter().all(|&i| i < 7))
            }
            // FLTrust keeps the update pointing the root's way, rescaled to the root's norm.
            Rule::FlTrust { .. } => assert!(!out.selected.contains(&7)),
            _ => assert_eq!(out.selected.len(), 9),
        }
    }
    let plain = run(Rule::FedAvg, &vectors).unwrap();
    assert!(plain.delta[0] > 4.0, "FedAvg is pulled by the attackers");
}

#[test]
fn bulyan_needs_four_f_plus_three() {
    let dim = 512;
    let mut vectors = poisoned(dim);
    vectors.extend(poisoned(dim).into_iter().take(2));
    // n = 11, f = 2: 11 >= 4 * 2 + 3.
    let out = run(Rule::Bulyan { f: 2 }, &vectors).unwrap();
    assert!(out.delta.iter().all(|&v| (v - 1.0).abs() < 0.06));
    assert_eq!(out.selected.len(), 7);
    let err = run(Rule::Bulyan { f: 2 }, &vectors[..10]).unwrap_err();
    assert!(
        matches!(
            err,
            AggregationError::Tolerance {
                rule: "Bulyan",
                n: 10,
                f: 2,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("n >= 4f + 3"));
}

#[test]
fn krum_checks_its_tolerance_and_inputs() {
    let vectors = poisoned(16);
    let err = run(Rule::Krum { f: 4 }, &vectors).unwrap_err();
    assert!(matches!(
        err,
        AggregationError::Tolerance {
            rule: "Krum",
            n: 9,
            f: 4,
            ..
        }
    ));
    assert_eq!(run(Rule::FedAvg, &[]).unwrap_err(), AggregationError::Empty);
    let ragged = vec![vec![1.0; 4], vec![1.0; 5]];
    assert!(matches!(
        run(Rule::Median, &ragged),
        Err(AggregationError::LengthMismatch { index: 1, .. })
    ));
    let nan = vec![vec![1.0; 4], vec![f32::NAN; 4]];
    assert_eq!(
        run(Rule::FedAvg, &nan).unwrap_err(),
        AggregationError::NonFinite(1)
    );
    assert!(run(Rule::TrimmedMean { beta: 0.5 }, &vectors).is_err());
    assert_eq!(
        run(
            Rule::FlTrust {
                root: vec![-1.0; 16]
            },
            &vectors[..7]
        )
        .unwrap_err(),
        AggregationError::NoTrustedUpdate
    );
}

fn norm2(values: &[f32]) -> f64 {
    values.iter().map(|&v| f64::from(v) * f64::from(v)).sum()
}

#[test]
fn distances_match_the_direct_computation() {
    // 70 rows: three row groups of the symmetric product, the last one partial.
    let n = 70;
    let vectors: Vec<Vec<f32>> = (0..n)
        .map(|i| {
            (0..20_000)
                .map(|j| ((i * 7 + j * (i % 5 + 1)) % 13) as f32 * 0.1)
                .collect()
        })
        .collect();
    let d = pairwise_sq_distances(&inputs(&vectors));
    for i in 0..n {
        for j in 0..n {
            let direct: f64 = vectors[i]
                .iter()
                .zip(&vectors[j])
                .map(|(a, b)| f64::from(a - b).powi(2))
                .sum();
            let got = d[i * n + j];
            // The Gram identity loses precision relative to the norms, not to the distance; f32
            // products within a block stay near 1e-6 of them, far below any logic slip.
            let scale = norm2(&vectors[i]) + norm2(&vectors[j]);
            assert!(
                (got - direct).abs() <= 1e-5 * scale.max(1.0),
                "{i},{j}: {got} vs {direct}"
            );
        }
    }
}

#[test]
fn server_optimizers_follow_flower() {
    let vectors = vec![vec![0.5f32; 8], vec![1.5f32; 8]];
    // FedAvgM: v1 = d, v2 = 0.9 d + d.
    let mut avgm = Aggregator::new(Rule::named("fedavgm", 0, 2).unwrap());
    assert_eq!(avgm.aggregate(&inputs(&vectors)).unwrap().delta[0], 1.0);
    assert!((avgm.aggregate(&inputs(&vectors)).unwrap().delta[0] - 1.9).abs() < 1e-6);
    // FedAdam first step: m = 0.1, v = tau^2 * 0.99 + 0.01, step = 0.1 * 0.1 / (sqrt(v) + tau).
    let mut adam = Aggregator::new(Rule::named("fedadam", 0, 2).unwrap());
    let step = adam.aggregate(&inputs(&vectors)).unwrap().delta[0];
    assert!((step - 0.1).abs() < 1e-4, "{step}");
    let mut yogi = Aggregator::new(Rule::named("fedyogi", 0, 2).unwrap());
    assert!(yogi.aggregate(&inputs(&vectors)).unwrap().delta[0] > 0.0);
    let clipped = Aggregator::new(Rule::FedAvg)
        .with_clip_norm(1.0)
        .aggregate(&inputs(&vectors))
        .unwrap();
    assert!((l2_norm(&clipped.delta) - 1.0).abs() < 1e-5);
}
