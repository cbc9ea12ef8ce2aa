//! The verdict rules (see the module docs of `validate` for their order and reasons).

use rayon::prelude::*;

use crate::aggregate::{Aggregator, ClientUpdate, Rule, cosine, l2_norm};
use crate::update::Update;

/// Thresholds of the verdict rules.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidatorConfig {
    pub duplicate_cosine: f64,
    pub min_norm_ratio: f64,
    pub max_norm_ratio: f64,
    /// Cosine with the median update below which an update is always rejected.
    pub min_median_cosine: f64,
    /// A direction outlier is kept unless it raises the validation loss on its own by more than
    /// this (honest local training can overshoot a little late in training).
    pub direction_loss_slack: f64,
    /// Allowed drop of the cosine below the median node's, or `mad_factor` MADs if larger.
    pub cosine_margin: f64,
    /// Allowed validation-loss increase above the typical (median) update's, in nats.
    pub max_loss_increase: f64,
    /// Median absolute deviations allowed beyond a typical score (cosine and loss rules).
    pub mad_factor: f64,
    pub loss_quantum: f64,
    /// How the accepted updates are combined: FedAvg, or a stateless robust rule (median,
    /// trimmed mean) as a second line of defence behind the verdicts.
    pub aggregator: crate::aggregate::Rule,
}

impl Default for ValidatorConfig {
    fn default() -> Self {
        Self {
            duplicate_cosine: 0.999,
            min_norm_ratio: 0.01,
            max_norm_ratio: 4.0,
            min_median_cosine: 0.0,
            max_loss_increase: 0.15,
            cosine_margin: 0.15,
            direction_loss_slack: 0.05,
            mad_factor: 4.0,
            loss_quantum: 1e-5,
            aggregator: crate::aggregate::Rule::FedAvg,
        }
    }
}

/// Why an update was rejected: its node is slashed, or excluded when its blob was unavailable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    /// The blob could not be fetched.
    Unavailable,
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
            Reason::Unavailable => f.write_str("update unavailable"),
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
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// The updates among `valid` that no rule has rejected yet.
fn unflagged_of(valid: &[usize], reasons: &[Option<Reason>]) -> Vec<usize> {
    valid
        .iter()
        .copied()
        .filter(|&k| reasons[k].is_none())
        .collect()
}

/// `median - max(margin, mad_factor * MAD)`: how low a score may go before it is an outlier.
fn robust_floor(mut scores: Vec<f64>, margin: f64, mad_factor: f64) -> f64 {
    let typical = median(&mut scores);
    let mut deviations: Vec<f64> = scores.iter().map(|s| (s - typical).abs()).collect();
    typical - margin.max(mad_factor * median(&mut deviations))
}

/// Applies the rules to decoded updates; `None` means accepted.
pub(super) fn judge(
    decoded: &[Result<Update, Reason>],
    solo_loss: &[Option<f64>],
    base_loss: f64,
    config: &ValidatorConfig,
) -> Vec<Option<Reason>> {
    let q = |v: f64| quantize(v, 1e-6);
    let mut reasons: Vec<Option<Reason>> =
        decoded.iter().map(|d| d.as_ref().err().cloned()).collect();
    let valid: Vec<usize> = (0..decoded.len())
        .filter(|&k| reasons[k].is_none())
        .collect();
    if valid.is_empty() {
        return reasons;
    }
    let values = |k: usize| -> &[f32] { &decoded[k].as_ref().expect("valid").values };
    let norms: Vec<f64> = (0..decoded.len())
        .map(|k| {
            if reasons[k].is_none() {
                l2_norm(values(k))
            } else {
                0.0
            }
        })
        .collect();
    let pairs: Vec<(usize, usize)> = valid
        .iter()
        .flat_map(|&a| valid.iter().filter(move |&&b| b > a).map(move |&b| (a, b)))
        .collect();
    let duplicates: Vec<(usize, usize)> = pairs
        .par_iter()
        .filter(|&&(a, b)| {
            q(cosine(values(a), values(b), norms[a], norms[b])) >= config.duplicate_cosine
        })
        .copied()
        .collect();
    for (a, b) in duplicates {
        reasons[a] = Some(Reason::Duplicate);
        reasons[b] = Some(Reason::Duplicate);
    }
    let mut valid_norms: Vec<f64> = valid.iter().map(|&k| norms[k]).collect();
    let median_norm = median(&mut valid_norms);
    let inputs: Vec<ClientUpdate<'_>> = valid
        .iter()
        .map(|&k| ClientUpdate {
            delta: values(k),
            samples: 1,
        })
        .collect();
    let median_update = Aggregator::new(Rule::Median)
        .aggregate(&inputs)
        .expect("valid updates share a length")
        .delta;
    let median_update_norm = l2_norm(&median_update);
    let cosines: Vec<f64> = (0..decoded.len())
        .map(|k| {
            if reasons[k].is_none() {
                q(cosine(
                    values(k),
                    &median_update,
                    norms[k],
                    median_update_norm,
                ))
            } else {
                0.0
            }
        })
        .collect();
    // Over the updates no rule has flagged yet: rejected copies must not loosen the floor.
    let unflagged = unflagged_of(&valid, &reasons);
    let min_cosine = if unflagged.is_empty() {
        config.min_median_cosine
    } else {
        robust_floor(
            unflagged.iter().map(|&k| cosines[k]).collect(),
            config.cosine_margin,
            config.mad_factor,
        )
        .max(config.min_median_cosine)
    };
    for &k in &valid {
        if reasons[k].is_some() {
            continue;
        }
        let ratio = if median_norm > 0.0 {
            q(norms[k] / median_norm)
        } else {
            0.0
        };
        reasons[k] = if ratio < config.min_norm_ratio {
            Some(Reason::NoOp)
        } else if ratio > config.max_norm_ratio {
            Some(Reason::NormOutlier)
        } else if cosines[k] < min_cosine
            && solo_loss[k].is_some_and(|loss| q(loss - base_loss) > config.direction_loss_slack)
        {
            Some(Reason::Direction)
        } else {
            None
        };
    }
    // Loss: an update is judged against the others, since honest local training on a small
    // shard can overshoot on its own while the average still improves.
    let survivors = unflagged_of(&valid, &reasons);
    let decreases: Vec<f64> = survivors
        .iter()
        .filter_map(|&k| solo_loss[k])
        .map(|l| base_loss - l)
        .collect();
    if !decreases.is_empty() {
        // An update that lowers the loss on its own is never rejected by this rule.
        let limit =
            q((-robust_floor(decreases, config.max_loss_increase, config.mad_factor)).max(0.0));
        for &k in &survivors {
            if solo_loss[k].is_some_and(|loss| q(loss - base_loss) > limit) {
                reasons[k] = Some(Reason::WorsensLoss);
            }
        }
    }
    reasons
}
