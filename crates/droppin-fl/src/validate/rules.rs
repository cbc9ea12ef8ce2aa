//! The verdict rules (see the module docs of `validate` for their order and reasons).

use rayon::prelude::*;

use crate::aggregate::{ClientUpdate, Rule, Aggregator, l2_norm};
use crate::update::Update;

/// Thresholds of the verdict rules.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidatorConfig {
    pub duplicate_cosine: f64,
    pub min_norm_ratio: f64,
    pub max_norm_ratio: f64,
    pub min_median_cosine: f64,
    pub max_loss_increase: f64,
    pub loss_quantum: f64,
}

impl Default for ValidatorConfig {
    fn default() -> Self {
        Self {
            duplicate_cosine: 0.999,
            min_norm_ratio: 0.01,
            max_norm_ratio: 4.0,
            min_median_cosine: 0.0,
            max_loss_increase: 0.02,
            loss_quantum: 1e-6,
        }
    }
}

/// Why an update was rejected (and its node slashed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    Malformed(String),
    Duplicate,
    NoOp,
    NormOutlier,
    Direction,
    WorsensLoss,
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::Malformed(why) => write!(f, "malformed: {why}"),
            Reason::Duplicate => f.write_str("duplicate of another node's update"),
            Reason::NoOp => f.write_str("no-op update"),
            Reason::NormOutlier => f.write_str("norm far above the others"),
            Reason::Direction => f.write_str("points against the median update"),
            Reason::WorsensLoss => f.write_str("worsens validation loss"),
        }
    }
}

pub(crate) fn quantize(value: f64, quantum: f64) -> f64 {
    (value / quantum).round() * quantum
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_unstable_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 }
}

fn cosine(a: &[f32], b: &[f32], norm_a: f64, norm_b: f64) -> f64 {
    if norm_a == 0.0 || norm_b == 0.0 {
        return 0.0;
    }
    let dot: f64 = a.iter().zip(b).map(|(&x, &y)| f64::from(x) * f64::from(y)).sum();
    dot / (norm_a * norm_b)
}

/// Applies the rules to decoded updates; `None` means accepted.
pub(super) fn judge(
    decoded: &[Result<Update, Reason>],
    solo_loss: &[Option<f64>],
    base_loss: f64,
    config: &ValidatorConfig,
) -> Vec<Option<Reason>> {
    let q = |v: f64| quantize(v, 1e-6);
    let mut reasons: Vec<Option<Reason>> = decoded.iter().map(|d| d.as_ref().err().cloned()).collect();
    let valid: Vec<usize> = (0..decoded.len()).filter(|&k| reasons[k].is_none()).collect();
    if valid.is_empty() {
        return reasons;
    }
    let values = |k: usize| -> &[f32] { &decoded[k].as_ref().expect("valid").values };
    let norms: Vec<f64> = (0..decoded.len()).map(|k| if reasons[k].is_none() { l2_norm(values(k)) } else { 0.0 }).collect();
    let pairs: Vec<(usize, usize)> =
        valid.iter().flat_map(|&a| valid.iter().filter(move |&&b| b > a).map(move |&b| (a, b))).collect();
    let duplicates: Vec<(usize, usize)> = pairs
        .par_iter()
        .filter(|&&(a, b)| q(cosine(values(a), values(b), norms[a], norms[b])) >= config.duplicate_cosine)
        .copied()
        .collect();
    for (a, b) in duplicates {
        reasons[a] = Some(Reason::Duplicate);
        reasons[b] = Some(Reason::Duplicate);
    }
    let mut valid_norms: Vec<f64> = valid.iter().map(|&k| norms[k]).collect();
    let median_norm = median(&mut valid_norms);
    let inputs: Vec<ClientUpdate<'_>> = valid.iter().map(|&k| ClientUpdate { delta: values(k), samples: 1 }).collect();
    let median_update = Aggregator::new(Rule::Median).aggregate(&inputs).expect("valid updates share a length").delta;
    let median_update_norm = l2_norm(&median_update);
    for &k in &valid {
        if reasons[k].is_some() {
            continue;
        }
        let ratio = if median_norm > 0.0 { q(norms[k] / median_norm) } else { 0.0 };
        reasons[k] = if ratio < config.min_norm_ratio {
            Some(Reason::NoOp)
        } else if ratio > config.max_norm_ratio {
            Some(Reason::NormOutlier)
        } else if q(cosine(values(k), &median_update, norms[k], median_update_norm)) < config.min_median_cosine {
            Some(Reason::Direction)
        } else if solo_loss[k].is_some_and(|loss| loss - base_loss > config.max_loss_increase) {
            Some(Reason::WorsensLoss)
        } else {
            None
        };
    }
    reasons
}
