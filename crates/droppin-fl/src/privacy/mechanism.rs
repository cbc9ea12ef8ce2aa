//! Client-level DP in the node: clip the update to norm `C`, add `N(0, (sigma * C)^2)` noise.

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rand_distr::{Distribution, Normal};

use crate::FlError;
use crate::aggregate::clip_to_norm;

/// The mechanism's parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GaussianMechanism {
    /// Clipping norm `C`: the sensitivity of the released update.
    pub clip_norm: f32,
    /// Noise multiplier `sigma`: the noise standard deviation is `sigma * C`.
    pub noise_multiplier: f64,
}

/// Clips `delta` and adds seeded Gaussian noise. The seed must be secret to the node in
/// production (the CLI and browser draw it from the OS); simulations fix it for reproducibility.
pub fn privatize(
    delta: &[f32],
    mechanism: &GaussianMechanism,
    seed: u64,
) -> Result<Vec<f32>, FlError> {
    if !(mechanism.clip_norm > 0.0 && mechanism.clip_norm.is_finite()) {
        return Err(FlError::Privacy(format!(
            "clip norm must be positive, got {}",
            mechanism.clip_norm
        )));
    }
    let std = mechanism.noise_multiplier * f64::from(mechanism.clip_norm);
    let normal = Normal::new(0.0, std).map_err(|_| {
        FlError::Privacy(format!(
            "noise multiplier must be non-negative, got {}",
            mechanism.noise_multiplier
        ))
    })?;
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut out = clip_to_norm(delta, mechanism.clip_norm);
    out.iter_mut()
        .for_each(|v| *v += normal.sample(&mut rng) as f32);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::clip::l2_norm;

    #[test]
    fn clips_then_adds_noise_of_the_right_scale() {
        let delta = vec![3.0f32; 10_000];
        let clipped = privatize(
            &delta,
            &GaussianMechanism {
                clip_norm: 1.0,
                noise_multiplier: 0.0,
            },
            1,
        )
        .unwrap();
        assert!((l2_norm(&clipped) - 1.0).abs() < 1e-5);
        let noisy = privatize(
            &vec![0.0; 10_000],
            &GaussianMechanism {
                clip_norm: 2.0,
                noise_multiplier: 0.5,
            },
            1,
        )
        .unwrap();
        let std = (noisy.iter().map(|v| f64::from(v * v)).sum::<f64>() / 10_000.0).sqrt();
        assert!((std - 1.0).abs() < 0.03, "std {std}");
        assert!(
            privatize(
                &delta,
                &GaussianMechanism {
                    clip_norm: 0.0,
                    noise_multiplier: 1.0
                },
                1
            )
            .is_err()
        );
    }
}
