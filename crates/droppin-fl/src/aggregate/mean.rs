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
            let sources: Vec<&[f32]> = updates
                .iter()
                .map(|u| &u.delta[start..start + out.len()])
                .collect();
            accumulate(out, &sources, &weights);
        });
    out
}

/// `out += sum(weights[i] * sources[i])`, added in input order (so the sum is the same as one
/// source at a time), four sources per pass over `out` to save its loads and stores.
#[multiversion::multiversion(targets("x86_64+avx512f", "x86_64+avx2", "aarch64+neon"))]
fn accumulate(out: &mut [f32], sources: &[&[f32]], weights: &[f32]) {
    let len = out.len();
    let (source_groups, weight_groups) = (sources.chunks_exact(4), weights.chunks_exact(4));
    let rest = source_groups
        .remainder()
        .iter()
        .zip(weight_groups.remainder());
    for (s, w) in source_groups.zip(weight_groups) {
        let (s0, s1, s2, s3) = (&s[0][..len], &s[1][..len], &s[2][..len], &s[3][..len]);
        for k in 0..len {
            out[k] = out[k] + w[0] * s0[k] + w[1] * s1[k] + w[2] * s2[k] + w[3] * s3[k];
        }
    }
    for (source, &w) in rest {
        for (o, &v) in out.iter_mut().zip(&source[..len]) {
            *o += w * v;
        }
    }
}
