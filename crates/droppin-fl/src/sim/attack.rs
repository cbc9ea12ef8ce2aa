//! What malicious nodes send.

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rand_distr::{Distribution, Normal};
use statrs::distribution::{ContinuousCDF, Normal as StdNormal};

use crate::aggregate::l2_norm;
use crate::data::Dataset;

/// The class a backdoor's trigger sends samples to.
pub const BACKDOOR_TARGET: u8 = 0;

/// The attacks the simulator knows, by their command-line names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attack {
    /// Trains honestly, sends the negated update.
    SignFlip,
    /// Trains honestly, sends the update times the simulation's boost (10 unless set:
    /// model-replacement boosting).
    Scaling,
    /// Sends N(0, 1) noise in every coordinate.
    Noise,
    /// Trains on labels mapped `y -> classes - 1 - y`.
    LabelFlip,
    /// A Little Is Enough (Baruch et al. 2019): all send `mean - z * std` of the honest updates.
    Alie,
    /// Inner-product manipulation (Xie et al. 2020): all send `-0.5 * mean` of the honest updates.
    Ipm,
    /// Sends a zero update and claims its samples.
    FreeRider,
    /// Sybils: one update trained once, sent by every malicious node with 0.1% noise.
    Copy,
    /// Sends NaN values.
    Nan,
    /// Min-max (Shejwalkar and Houmansadr, NDSS 2021), knowing only the attackers' own updates:
    /// all send `mean - gamma * std`, with the largest `gamma` that keeps its distance to every
    /// own update within the largest distance between two of them.
    MinMax,
    /// Min-sum (same paper): as min-max, bounding the sum of squared distances to the own updates
    /// by the largest such sum of one own update.
    MinSum,
    /// A pixel trigger relabelled to [`BACKDOOR_TARGET`], trained into otherwise honest data (half
    /// of the shard again, triggered), sent times the simulation's boost (model replacement).
    Backdoor,
    /// Sybil majority, helpful but tiny: trains honestly, sends a thousandth of the update.
    SybilTiny,
    /// Sybil majority, poisonous and huge: trains honestly, sends the update times -100.
    SybilHuge,
    /// Sybil majority, noise: a random direction with the norm of an honest update.
    SybilNoise,
    /// One node's shard trained under several keys (each with its own seed), all sent.
    RetrainedCopies,
    /// Sends the previous round's global step (public) plus 10% noise: no data, no training.
    FreeRideMomentum,
    /// Trains on the validation data it can see instead of data of its own: the task's public
    /// sample (the committee's own set never reaches nodes before the reveal deadline).
    ValidationTrainer,
    /// Trains on the public sample as [`Attack::ValidationTrainer`] does, and adds Gaussian
    /// noise of half its update's norm: the retraining bar is a cosine, and noise lowers it.
    PaddedValidationTrainer,
    /// Replays an honest node's update revealed in another round on the same base model (a twin
    /// round): the blob carries that round's key.
    Replay,
}

impl Attack {
    pub const NAMES: [&'static str; 20] = [
        "sign-flip",
        "scaling",
        "noise",
        "label-flip",
        "alie",
        "ipm",
        "free-rider",
        "copy",
        "nan",
        "min-max",
        "min-sum",
        "backdoor",
        "sybil-tiny",
        "sybil-huge",
        "sybil-noise",
        "retrained-copies",
        "free-ride-momentum",
        "validation-trainer",
        "padded-validation-trainer",
        "replay",
    ];
    pub const ALL: [Attack; 20] = [
        Attack::SignFlip,
        Attack::Scaling,
        Attack::Noise,
        Attack::LabelFlip,
        Attack::Alie,
        Attack::Ipm,
        Attack::FreeRider,
        Attack::Copy,
        Attack::Nan,
        Attack::MinMax,
        Attack::MinSum,
        Attack::Backdoor,
        Attack::SybilTiny,
        Attack::SybilHuge,
        Attack::SybilNoise,
        Attack::RetrainedCopies,
        Attack::FreeRideMomentum,
        Attack::ValidationTrainer,
        Attack::PaddedValidationTrainer,
        Attack::Replay,
    ];

    /// What the attack multiplies its update by unless told otherwise: a scaling attacker
    /// boosts ten times; a backdoor is sent as trained.
    pub fn default_boost(self) -> f32 {
        if self == Attack::Scaling { 10.0 } else { 1.0 }
    }

    pub fn name(self) -> &'static str {
        Self::NAMES[Self::ALL.iter().position(|&a| a == self).expect("listed")]
    }

    pub fn from_name(name: &str) -> Option<Attack> {
        Self::NAMES
            .iter()
            .position(|&n| n == name)
            .map(|i| Self::ALL[i])
    }

    /// Whether the malicious node trains before crafting.
    pub fn trains(self) -> bool {
        !matches!(
            self,
            Attack::Noise
                | Attack::Alie
                | Attack::Ipm
                | Attack::FreeRider
                | Attack::Nan
                | Attack::FreeRideMomentum
        )
    }
}

/// What the attackers know when they craft: public facts of the round.
#[derive(Clone, Copy, Debug)]
pub struct Knowledge<'a> {
    /// The honest updates (the omniscient attacks ALIE and IPM read them).
    pub honest: &'a [Vec<f32>],
    /// The previous round's global step, once there is one.
    pub previous_step: Option<&'a [f32]>,
    /// Nodes in the round.
    pub nodes: usize,
    /// What a scaling or backdoor attacker multiplies its update by.
    pub boost: f32,
}

/// Crafts the malicious updates of one round. `own` holds each malicious node's own trained
/// update (empty vectors when the attack does not train).
pub fn craft(attack: Attack, own: &[Vec<f32>], knows: &Knowledge<'_>, seed: u64) -> Vec<Vec<f32>> {
    let f = own.len();
    let dim = knows.honest.first().map_or(0, Vec::len);
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let scaled = |factor: f32| -> Vec<Vec<f32>> {
        own.iter()
            .map(|u| u.iter().map(|v| factor * v).collect())
            .collect()
    };
    match attack {
        Attack::SignFlip => scaled(-1.0),
        Attack::Scaling | Attack::Backdoor => scaled(knows.boost),
        Attack::SybilTiny => scaled(1e-3),
        Attack::SybilHuge => scaled(-100.0),
        Attack::LabelFlip
        | Attack::RetrainedCopies
        | Attack::ValidationTrainer
        | Attack::Replay => own.to_vec(),
        Attack::Noise => (0..f).map(|_| noise(dim, 1.0, &mut rng)).collect(),
        Attack::SybilNoise => own
            .iter()
            .map(|u| {
                let scale = l2_norm(u) as f32 / (dim.max(1) as f32).sqrt();
                noise(dim, scale, &mut rng)
            })
            .collect(),
        Attack::PaddedValidationTrainer => own
            .iter()
            .map(|u| {
                let scale = 0.5 * l2_norm(u) as f32 / (dim.max(1) as f32).sqrt();
                u.iter()
                    .zip(noise(dim, scale, &mut rng))
                    .map(|(v, n)| v + n)
                    .collect()
            })
            .collect(),
        Attack::Alie | Attack::Ipm => {
            let (mean, std) = mean_std(knows.honest);
            let crafted: Vec<f32> = if attack == Attack::Ipm {
                mean.iter().map(|m| -0.5 * m).collect()
            } else {
                let z = alie_z(knows.nodes, f) as f32;
                mean.iter().zip(&std).map(|(m, s)| m - z * s).collect()
            };
            vec![crafted; f]
        }
        Attack::MinMax | Attack::MinSum => vec![min_max_sum(own, attack == Attack::MinSum); f],
        Attack::FreeRider => vec![vec![0.0; dim]; f],
        Attack::FreeRideMomentum => (0..f)
            .map(|_| match knows.previous_step {
                Some(step) => {
                    let scale = 0.1 * l2_norm(step) as f32 / (dim.max(1) as f32).sqrt();
                    step.iter()
                        .zip(noise(dim, scale, &mut rng))
                        .map(|(s, n)| s + n)
                        .collect()
                }
                None => noise(dim, 1e-6, &mut rng),
            })
            .collect(),
        Attack::Copy => {
            let Some(original) = own.first() else {
                return Vec::new();
            };
            let scale = l2_norm(original) as f32 * 1e-3 / (dim as f32).sqrt();
            (0..f)
                .map(|_| {
                    original
                        .iter()
                        .zip(noise(dim, scale, &mut rng))
                        .map(|(v, n)| v + n)
                        .collect()
                })
                .collect()
        }
        Attack::Nan => vec![vec![f32::NAN; dim]; f],
    }
}

/// The data a malicious node trains on, from its own shard and what it can see.
pub fn attacker_data(
    attack: Attack,
    own: &Dataset,
    first_attacker: &Dataset,
    public: &Dataset,
) -> Dataset {
    match attack {
        Attack::LabelFlip => {
            let mut flipped = own.clone();
            let classes = own.classes as u8;
            flipped
                .labels
                .iter_mut()
                .for_each(|l| *l = classes - 1 - *l);
            flipped
        }
        Attack::Backdoor => {
            let half: Vec<usize> = (0..own.len()).step_by(2).collect();
            let mut poisoned = triggered(&own.subset(&half));
            poisoned.labels.fill(BACKDOOR_TARGET);
            let mut mixed = own.clone();
            mixed.features.extend_from_slice(&poisoned.features);
            mixed.labels.extend_from_slice(&poisoned.labels);
            mixed
        }
        Attack::RetrainedCopies => first_attacker.clone(),
        Attack::ValidationTrainer | Attack::PaddedValidationTrainer => public.clone(),
        _ => own.clone(),
    }
}

/// The samples with the backdoor's trigger stamped on: the 2x2 bottom-right patch of every
/// channel of an image (the last four features of flat data) set to the brightest value.
pub fn triggered(data: &Dataset) -> Dataset {
    let mut stamped = data.clone();
    let dim = data.feature_dim();
    let pixels: Vec<usize> = match data.sample_shape.as_slice() {
        [channels, height, width] if *height >= 2 && *width >= 2 => (0..*channels)
            .flat_map(|c| {
                [height - 2, height - 1].into_iter().flat_map(move |y| {
                    [width - 2, width - 1]
                        .into_iter()
                        .map(move |x| (c * height + y) * width + x)
                })
            })
            .collect(),
        _ => (dim.saturating_sub(4)..dim).collect(),
    };
    for row in stamped.features.chunks_mut(dim) {
        pixels.iter().for_each(|&p| row[p] = 1.0);
    }
    stamped
}

/// The test samples a backdoor must move: those not of the target class, triggered and labelled
/// with the target, so that their accuracy is the backdoor's success rate.
pub fn backdoor_test(test: &Dataset) -> Dataset {
    let rows: Vec<usize> = (0..test.len())
        .filter(|&i| test.labels[i] != BACKDOOR_TARGET)
        .collect();
    let mut set = triggered(&test.subset(&rows));
    set.labels.fill(BACKDOOR_TARGET);
    set
}

fn noise(dim: usize, std: f32, rng: &mut ChaCha20Rng) -> Vec<f32> {
    let normal = Normal::new(0.0f32, std.max(f32::MIN_POSITIVE)).expect("positive std");
    (0..dim).map(|_| normal.sample(rng)).collect()
}

/// Min-max or min-sum over the attackers' own updates, with the inverse-std perturbation.
fn min_max_sum(own: &[Vec<f32>], sum: bool) -> Vec<f32> {
    let (mean, std) = mean_std(own);
    let distance = |a: &[f32], b: &[f32]| -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| f64::from(x - y).powi(2))
            .sum::<f64>()
    };
    let score = |candidate: &[f32]| -> f64 {
        let distances = own.iter().map(|u| distance(candidate, u));
        if sum {
            distances.sum()
        } else {
            distances.fold(0.0, f64::max)
        }
    };
    let bound = own
        .iter()
        .map(|a| {
            let distances = own.iter().map(|b| distance(a, b));
            if sum {
                distances.sum()
            } else {
                distances.fold(0.0, f64::max)
            }
        })
        .fold(0.0, f64::max);
    let at =
        |gamma: f32| -> Vec<f32> { mean.iter().zip(&std).map(|(m, s)| m - gamma * s).collect() };
    // The paper's search: grow gamma while the bound holds, halving the step each time.
    let (mut gamma, mut step, mut best) = (10.0f32, 5.0f32, 0.0f32);
    for _ in 0..30 {
        if score(&at(gamma)) <= bound {
            best = best.max(gamma);
            gamma += step;
        } else {
            gamma -= step;
        }
        step /= 2.0;
    }
    at(best)
}

/// The largest z for which `mean - z * std` still sits inside the honest spread (ALIE's eq. 3).
fn alie_z(n: usize, f: usize) -> f64 {
    let s = (n / 2 + 1).saturating_sub(f);
    let p = ((n - s) as f64 / n as f64).clamp(0.5, 0.999);
    StdNormal::standard().inverse_cdf(p)
}

fn mean_std(updates: &[Vec<f32>]) -> (Vec<f32>, Vec<f32>) {
    let n = updates.len().max(1) as f32;
    let dim = updates.first().map_or(0, Vec::len);
    let mut mean = vec![0f32; dim];
    updates
        .iter()
        .for_each(|u| mean.iter_mut().zip(u).for_each(|(m, v)| *m += v / n));
    let mut var = vec![0f32; dim];
    updates.iter().for_each(|u| {
        var.iter_mut()
            .zip(u)
            .zip(&mean)
            .for_each(|((s, v), m)| *s += (v - m).powi(2) / n)
    });
    (mean, var.into_iter().map(f32::sqrt).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_alie_z_matches_the_paper() {
        for attack in Attack::ALL {
            assert_eq!(Attack::from_name(attack.name()), Some(attack));
        }
        assert!(Attack::from_name("bogus").is_none());
        // n = 50, f = 12 in Baruch et al.: s = 14, z = inverse_cdf(36 / 50) ~ 0.58.
        assert!((alie_z(50, 12) - 0.5828).abs() < 1e-3);
    }

    #[test]
    fn min_max_stays_within_the_attackers_own_spread() {
        let own = vec![vec![1.0, 0.0], vec![0.0, 1.0], vec![1.0, 1.0]];
        let crafted = min_max_sum(&own, false);
        let farthest = |c: &[f32]| {
            own.iter()
                .map(|u| (c[0] - u[0]).powi(2) + (c[1] - u[1]).powi(2))
                .fold(0.0f32, f32::max)
        };
        assert!(farthest(&crafted) <= 2.0 + 1e-4);
        // It moved against the spread as far as the bound allows: the mean is strictly inside.
        assert!(farthest(&crafted) > farthest(&[2.0 / 3.0, 2.0 / 3.0]));
    }

    #[test]
    fn the_trigger_stamps_the_bottom_right_corner() {
        let data = Dataset::new(vec![0.0; 2 * 16], vec![3, 0], vec![1, 4, 4], 10).expect("valid");
        let stamped = triggered(&data);
        let lit: Vec<usize> = (0..16).filter(|&p| stamped.row(0)[p] == 1.0).collect();
        assert_eq!(lit, vec![10, 11, 14, 15]);
        let test = backdoor_test(&data);
        assert_eq!((test.len(), test.labels[0]), (1, BACKDOOR_TARGET));
    }
}
