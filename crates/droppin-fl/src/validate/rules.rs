//! The verdict rules (see the module docs of `validate` for their order and reasons).

use droppin_interface::verdict::Outcome;
use rayon::prelude::*;

use crate::aggregate::cosine;

/// The anchors and terms of the verdict: pinned per task, never moved by who joined a round.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidatorConfig {
    /// Cosine at or above which two updates are copies of one another (slashed).
    pub duplicate_cosine: f64,
    /// Largest rise of the validation loss the base plus `loss_bound_share` of an update may
    /// show before the update is slashed, in nats: honest training on a small shard can
    /// overshoot, never by this much.
    pub max_loss_increase: f64,
    /// The fraction of an update the loss bound is checked at: an update is one of many in an
    /// average, and an honest one from a label-skewed shard, applied whole, can raise the loss
    /// on every other class by nats. A fixed share, so that who else joined cannot move it.
    pub loss_bound_share: f64,
    /// The L2 norms an update of this task may have; outside them it is excluded.
    pub norm_range: (f64, f64),
    /// Standard errors a marginal gain must clear: an update whose gain is this many standard
    /// errors below zero is excluded, and each update is paid by its gain less this many standard
    /// errors (what it surely brought), so noise earns nothing.
    pub significance: f64,
    /// Least sure gain (nats) that earns anything: a random direction can lower the loss on a
    /// finite validation set by chance, by less than this.
    pub min_gain: f64,
    /// Below this total marginal gain of the accepted updates nobody is paid: the node pool goes
    /// back to the funder rather than being split among updates that did nothing.
    pub min_total_gain: f64,
    /// Cosine (of the marginal directions) at or above which accepted updates are one group:
    /// the same data trained again under other keys. A group is paid one share (its least
    /// earning member's) and counts once in the new model. Raised two fifths of the way from the
    /// cohort's typical pair cosine toward 1 when the updates are alike, up to
    /// `group_cosine_ceiling`.
    pub group_cosine: f64,
    pub group_cosine_ceiling: f64,
    /// An update whose own cosine with the public reference reaches this share of the cosine
    /// between two retrainings of the reference (and at least `group_cosine`) is one more
    /// retraining of public data: it earns nothing.
    pub public_cosine_share: f64,
    /// How far above the cosine expected between trainings on different data of the public
    /// sample's size ([`expected_alike`]) the retraining bar sits at least: honest updates
    /// scatter around that cosine.
    pub public_margin: f64,
    /// Most any node may earn, in bps of the node pool; the rest goes back to the funder.
    pub max_share_bps: u16,
    pub loss_quantum: f64,
    /// How the accepted updates are combined: FedAvg, or a stateless robust rule (median,
    /// trimmed mean) as a second line of defence behind the verdicts.
    pub aggregator: crate::aggregate::Rule,
}

impl Default for ValidatorConfig {
    fn default() -> Self {
        Self {
            duplicate_cosine: 0.999,
            max_loss_increase: 1.0,
            loss_bound_share: 0.1,
            norm_range: (0.01, 20.0),
            significance: 3.0,
            min_gain: 5e-4,
            min_total_gain: 1e-4,
            group_cosine: 0.5,
            group_cosine_ceiling: 0.85,
            public_cosine_share: 0.9,
            public_margin: 0.05,
            max_share_bps: 2_500,
            loss_quantum: 1e-5,
            aggregator: crate::aggregate::Rule::FedAvg,
        }
    }
}

/// Why an update was not accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    /// The blob could not be fetched.
    Unavailable,
    Malformed(String),
    /// Bound to another round: revealed elsewhere first.
    Replay,
    Duplicate,
    /// A share of it raises the validation loss beyond the task's bound.
    LossIncrease,
    /// Its norm is outside the task's range.
    NormOutOfRange,
    /// Its new part surely raises the validation loss.
    Harmful,
}

impl Reason {
    /// What the leaf says: slashed for faults anyone can check from the blob and the public
    /// inputs, excluded (stake back, nothing paid) for the rest.
    pub fn outcome(&self) -> Outcome {
        match self {
            Reason::Unavailable | Reason::NormOutOfRange | Reason::Harmful => Outcome::Excluded,
            Reason::Malformed(_) | Reason::Replay | Reason::Duplicate | Reason::LossIncrease => {
                Outcome::Slashed
            }
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::Unavailable => f.write_str("update unavailable"),
            Reason::Malformed(why) => write!(f, "malformed: {why}"),
            Reason::Replay => f.write_str("replayed from another round"),
            Reason::Duplicate => f.write_str("copy of another node's update"),
            Reason::LossIncrease => f.write_str("raises the validation loss beyond the bound"),
            Reason::NormOutOfRange => f.write_str("norm outside the task's range"),
            Reason::Harmful => f.write_str("its new part raises the validation loss"),
        }
    }
}

/// The cosine expected between two trainings on different data of some size, from `halves`,
/// the cosine between two trainings on different data of half that size. An update is a signal
/// every sample shares plus noise that averages out over the samples: at `n` samples each, two
/// updates are `1 / (1 + k / n)` alike, so doubling the data turns `c` into `2c / (1 + c)` (the
/// Spearman-Brown formula). Unlike halves are taken as unrelated (0).
pub(super) fn expected_alike(halves: f64) -> f64 {
    let halves = halves.max(0.0);
    quantize(2.0 * halves / (1.0 + halves), 1e-6)
}

pub(crate) fn quantize(value: f64, quantum: f64) -> f64 {
    (value / quantum).round() * quantum
}

/// What the committee measured of one decoded update.
#[derive(Clone, Copy, Debug)]
pub(super) struct Scores {
    pub norm: f64,
    /// Validation loss of the base plus the update's `loss_bound_share`.
    pub solo_loss: f64,
    /// Marginal gain: how much the update's new part, at its share of an average, lowers the
    /// validation loss.
    pub gain: f64,
    /// The standard error of `gain` over the validation samples.
    pub gain_error: f64,
}

impl Scores {
    /// What the update surely brought: its gain less `significance` standard errors, or nothing
    /// when that is below `min_gain`.
    pub fn sure_gain(&self, significance: f64, min_gain: f64) -> f64 {
        let sure = self.gain - significance * self.gain_error;
        if sure < min_gain.max(0.0) { 0.0 } else { sure }
    }
}

/// Applies the rules to decoded updates (`Err` carries a decoding verdict); `None` means
/// accepted.
pub(super) fn judge(
    decoded: &[Result<&[f32], Reason>],
    scores: &[Option<Scores>],
    base_loss: f64,
    config: &ValidatorConfig,
) -> Vec<Option<Reason>> {
    let q = |v: f64| quantize(v, 1e-6);
    let mut reasons: Vec<Option<Reason>> =
        decoded.iter().map(|d| d.as_ref().err().cloned()).collect();
    let valid: Vec<usize> = (0..decoded.len())
        .filter(|&k| reasons[k].is_none())
        .collect();
    let values = |k: usize| -> &[f32] { decoded[k].as_ref().expect("valid") };
    let norm = |k: usize| scores[k].expect("valid updates are scored").norm;
    let pairs: Vec<(usize, usize)> = valid
        .iter()
        .flat_map(|&a| valid.iter().filter(move |&&b| b > a).map(move |&b| (a, b)))
        .collect();
    let duplicates: Vec<(usize, usize)> = pairs
        .par_iter()
        .filter(|&&(a, b)| {
            q(cosine(values(a), values(b), norm(a), norm(b))) >= config.duplicate_cosine
        })
        .copied()
        .collect();
    for (a, b) in duplicates {
        reasons[a] = Some(Reason::Duplicate);
        reasons[b] = Some(Reason::Duplicate);
    }
    for &k in &valid {
        if reasons[k].is_none() {
            reasons[k] = fault(
                &scores[k].expect("valid updates are scored"),
                base_loss,
                config,
            );
        }
    }
    reasons
}

/// What rules 4 to 6 find against one decoded update, from its scores alone.
pub(super) fn fault(scores: &Scores, base_loss: f64, config: &ValidatorConfig) -> Option<Reason> {
    let (low, high) = config.norm_range;
    if quantize(scores.solo_loss - base_loss, 1e-6) > config.max_loss_increase {
        Some(Reason::LossIncrease)
    } else if !(low..=high).contains(&scores.norm) {
        Some(Reason::NormOutOfRange)
    } else if scores.gain < -config.significance * scores.gain_error {
        Some(Reason::Harmful)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, Normal};

    use super::*;
    use crate::aggregate::{cosine, l2_norm};

    /// Updates made of a shared signal and noise averaging out over `n` samples: the cosine of
    /// two on `n / 2` samples each predicts the cosine of two on `n`.
    #[test]
    fn halves_predict_how_alike_whole_samples_are() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let unit = Normal::new(0.0, 1.0).unwrap();
        let signal: Vec<f64> = (0..20_000).map(|_| unit.sample(&mut rng)).collect();
        let mut update = |samples: f64| -> Vec<f32> {
            let spread = (4.0 / samples).sqrt();
            signal
                .iter()
                .map(|s| (s + spread * unit.sample(&mut rng)) as f32)
                .collect()
        };
        let alike = |a: &[f32], b: &[f32]| cosine(a, b, l2_norm(a), l2_norm(b));
        for samples in [2.0, 8.0, 40.0] {
            let halves = alike(&update(samples / 2.0), &update(samples / 2.0));
            let whole = alike(&update(samples), &update(samples));
            let expected = expected_alike(halves);
            assert!(
                (expected - whole).abs() < 0.02 && whole - halves > 0.05,
                "{samples}: halves {halves}, whole {whole}, expected {expected}"
            );
        }
        assert_eq!(expected_alike(-0.3), 0.0);
        assert_eq!(expected_alike(1.0), 1.0);
    }
}
