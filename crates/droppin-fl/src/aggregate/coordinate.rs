//! Coordinate-wise rules: median and trimmed mean.
//!
//! Each task gathers a block of coordinates from every update into a column buffer (contiguous
//! per coordinate), then selects in place: O(n) per coordinate with `select_nth_unstable`.

use rayon::prelude::*;

use super::{AggregationError, BLOCK, ClientUpdate};

/// Coordinates per gather: `n * GATHER` floats stay in the L1/L2 cache.
const GATHER: usize = 256;

/// Runs `reduce` on every coordinate's column of `n` values.
fn per_coordinate(updates: &[ClientUpdate<'_>], dim: usize, reduce: impl Fn(&mut [f32]) -> f32 + Sync) -> Vec<f32> {
    let n = updates.len();
    let mut out = vec![0f32; dim];
    out.par_chunks_mut(BLOCK).enumerate().for_each(|(block, out)| {
        let mut column = vec![0f32; n * GATHER];
        for (chunk_index, out) in out.chunks_mut(GATHER).enumerate() {
            let start = block * BLOCK + chunk_index * GATHER;
            let width = out.len();
            for (i, update) in updates.iter().enumerate() {
                for (j, &v) in update.delta[start..start + width].iter().enumerate() {
                    column[j * n + i] = v;
                }
            }
            for (j, o) in out.iter_mut().enumerate() {
                *o = reduce(&mut column[j * n..(j + 1) * n]);
            }
        }
    });
    out
}

/// Median of a column (mean of the two middle values for even lengths), reordering it.
pub(super) fn median_of(column: &mut [f32]) -> f32 {
    let n = column.len();
    let mid = n / 2;
    let (left, upper, _) = column.select_nth_unstable_by(mid, f32::total_cmp);
    let upper = *upper;
    if n % 2 == 1 {
        upper
    } else {
        let lower = left.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        (lower + upper) / 2.0
    }
}

/// Coordinate-wise median.
pub(super) fn median(updates: &[ClientUpdate<'_>], dim: usize) -> Vec<f32> {
    per_coordinate(updates, dim, median_of)
}

/// Coordinate-wise mean of the values left after cutting `floor(beta * n)` from each end
/// (Flower's `aggregate_trimmed_avg` with `proportiontocut = beta`).
pub(super) fn trimmed_mean(updates: &[ClientUpdate<'_>], dim: usize, beta: f32) -> Result<Vec<f32>, AggregationError> {
    let n = updates.len();
    if !(0.0..0.5).contains(&beta) {
        return Err(AggregationError::InvalidParameter(format!("trimmed mean: beta must be in [0, 0.5), got {beta}")));
    }
    let cut = (beta * n as f32) as usize;
    if n <= 2 * cut {
        return Err(AggregationError::InvalidParameter(format!("trimmed mean: cutting {cut} from each end leaves nothing of {n}")));
    }
    Ok(per_coordinate(updates, dim, |column| trimmed_mean_of(column, cut)))
}

/// Mean of `column` without its `cut` smallest and `cut` largest values, reordering it.
pub(super) fn trimmed_mean_of(column: &mut [f32], cut: usize) -> f32 {
    let n = column.len();
    if cut > 0 {
        column.select_nth_unstable_by(cut, f32::total_cmp);
        column[cut..].select_nth_unstable_by(n - 2 * cut - 1, f32::total_cmp);
    }
    let kept = &column[cut..n - cut];
    (kept.iter().map(|&v| f64::from(v)).sum::<f64>() / kept.len() as f64) as f32
}
