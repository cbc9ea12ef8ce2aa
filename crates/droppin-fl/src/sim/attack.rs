//! What malicious nodes send.

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rand_distr::{Distribution, Normal};
use statrs::distribution::{ContinuousCDF, Normal as StdNormal};

/// The attacks the simulator knows, by their command-line names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attack {
    /// Trains honestly, sends the negated update.
    SignFlip,
    /// Trains honestly, sends the update times 10 (model-replacement boosting).
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
}

impl Attack {
    pub const NAMES: [&'static str; 9] = [
        "sign-flip",
        "scaling",
        "noise",
        "label-flip",
        "alie",
        "ipm",
        "free-rider",
        "copy",
        "nan",
    ];
    pub const ALL: [Attack; 9] = [
        Attack::SignFlip,
        Attack::Scaling,
        Attack::Noise,
        Attack::LabelFlip,
        Attack::Alie,
        Attack::Ipm,
        Attack::FreeRider,
        Attack::Copy,
        Attack::Nan,
    ];

    pub fn name(self) -> &'static str {
        Self::NAMES[Self::ALL.iter().position(|&a| a == self).expect("listed")]
    }

    pub fn from_name(name: &str) -> Option<Attack> {
        Self::NAMES
            .iter()
            .position(|&n| n == name)
            .map(|i| Self::ALL[i])
    }

    /// Whether the malicious node trains (on its own or flipped labels) before crafting.
    pub fn trains(self) -> bool {
        matches!(
            self,
            Attack::SignFlip | Attack::Scaling | Attack::LabelFlip | Attack::Copy
        )
    }
}

/// Crafts the malicious updates of one round. `own` holds each malicious node's own trained
/// update (empty vectors when the attack does not train), `honest` the honest updates.
pub fn craft(
    attack: Attack,
    own: &[Vec<f32>],
    honest: &[Vec<f32>],
    n: usize,
    seed: u64,
) -> Vec<Vec<f32>> {
    let f = own.len();
    let dim = honest.first().map_or(0, Vec::len);
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    match attack {
        Attack::SignFlip => own.iter().map(|u| u.iter().map(|v| -v).collect()).collect(),
        Attack::Scaling => own
            .iter()
            .map(|u| u.iter().map(|v| 10.0 * v).collect())
            .collect(),
        Attack::LabelFlip => own.to_vec(),
        Attack::Noise => {
            let normal = Normal::new(0.0f32, 1.0).expect("unit normal");
            (0..f)
                .map(|_| (0..dim).map(|_| normal.sample(&mut rng)).collect())
                .collect()
        }
        Attack::Alie | Attack::Ipm => {
            let (mean, std) = mean_std(honest);
            let crafted: Vec<f32> = if attack == Attack::Ipm {
                mean.iter().map(|m| -0.5 * m).collect()
            } else {
                let z = alie_z(n, f) as f32;
                mean.iter().zip(&std).map(|(m, s)| m - z * s).collect()
            };
            vec![crafted; f]
        }
        Attack::FreeRider => vec![vec![0.0; dim]; f],
        Attack::Copy => {
            let Some(original) = own.first() else {
                return Vec::new();
            };
            let scale = crate::aggregate::l2_norm(original) as f32 * 1e-3 / (dim as f32).sqrt();
            let normal = Normal::new(0.0f32, scale.max(f32::MIN_POSITIVE)).expect("positive std");
            (0..f)
                .map(|_| {
                    original
                        .iter()
                        .map(|v| v + normal.sample(&mut rng))
                        .collect()
                })
                .collect()
        }
        Attack::Nan => vec![vec![f32::NAN; dim]; f],
    }
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
}
