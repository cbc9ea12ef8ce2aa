//! Sample-weighted mean, the core of FedAvg and of the server optimizers.

use rayon::prelude::*;

use super::{BLOCK, ClientUpdate};

/// `sum(samples_i * delta_i) / sum(samples_i)`; equal weights when no update reports samples.
/// Each output block is summed in input order, so the result does not depend on thread count.
pub fn weighted_mean(updates: &[ClientUpdate<'_>], dim: usize) -> Vec<f32> {
    // In f64: claimed sample counts are untrusted and a u64 sum could overflow.
    let total: f64 = updates.iter().map(|u| u.samples as f64).sum();
    let weights: Vec<f32> = if total == 0.0 {
        vec![1.0 / updates.len() as f32; updates.len()]
    } else {
        updates
            .iter()
            .map(|u| (u.samples as f64 / total) as f32)
            .collect()
    };
    let mut out = vec![0f32; dim];
    out.par_chunks_mut(BLOCK)
        .enumerate()
        .for_each(|(block, out)| {
            let start = block * BLOCK;
            for (update, &w) in updates.iter().zip(&weights) {
                let src = &update.delta[start..start + out.len()];
                for (o, &v) in out.iter_mut().zip(src) {
                    *o += w * v;
                }
            }
        });
    out
}
