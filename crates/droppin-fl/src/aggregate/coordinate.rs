//! Coordinate-wise rules: median and trimmed mean.
//!
//! Each task gathers a block of coordinates from every update into a column buffer (contiguous
//! per coordinate), then selects in place: O(n) per coordinate with `select_nth_unstable`.
//! Values are gathered as integer keys ordered like `f32::total_cmp`, so selection compares plain
//! integers.

use rayon::prelude::*;

use super::{AggregationError, BLOCK, ClientUpdate};

/// Coordinates per gather: `n * GATHER` floats stay in the L1/L2 cache.
const GATHER: usize = 256;

/// Runs `reduce` on every coordinate's column of `n` values.
fn per_coordinate(
    updates: &[ClientUpdate<'_>],
    dim: usize,
    reduce: impl Fn(&mut [i32]) -> f32 + Sync,
) -> Vec<f32> {
    let n = updates.len();
    let mut out = vec![0f32; dim];
    out.par_chunks_mut(BLOCK)
        .enumerate()
        .for_each(|(block, out)| {
            let mut column = vec![0i32; n * GATHER];
            for (chunk_index, out) in out.chunks_mut(GATHER).enumerate() {
                let start = block * BLOCK + chunk_index * GATHER;
                let width = out.len();
                for (i, update) in updates.iter().enumerate() {
                    for (j, &v) in update.delta[start..start + width].iter().enumerate() {
                        column[j * n + i] = key(v);
                    }
                }
                for (j, o) in out.iter_mut().enumerate() {
                    *o = reduce(&mut column[j * n..(j + 1) * n]);
                }
            }
        });
    out
}

/// An integer whose order is `f32::total_cmp`'s order.
fn key(value: f32) -> i32 {
    let bits = value.to_bits() as i32;
    bits ^ (((bits >> 31) as u32) >> 1) as i32
}

/// The inverse of [`key`].
fn value(key: i32) -> f32 {
    f32::from_bits((key ^ (((key >> 31) as u32) >> 1) as i32) as u32)
}

/// Median of a column of keys (mean of the two middle values for even lengths), reordering it.
fn median_of_keys(column: &mut [i32]) -> f32 {
    let n = column.len();
    let mid = n / 2;
    let (left, upper, _) = column.select_nth_unstable(mid);
    let upper = value(*upper);
    if n % 2 == 1 {
        upper
    } else {
        let lower = value(left.iter().copied().max().expect("even n >= 2"));
        ((f64::from(lower) + f64::from(upper)) / 2.0) as f32
    }
}

/// Median of a column of values, through `scratch` (reused across calls, so no allocation).
pub(super) fn median_of(column: &[f32], scratch: &mut Vec<i32>) -> f32 {
    scratch.clear();
    scratch.extend(column.iter().map(|&v| key(v)));
    median_of_keys(scratch)
}

/// Coordinate-wise median.
pub(super) fn median(updates: &[ClientUpdate<'_>], dim: usize) -> Vec<f32> {
    per_coordinate(updates, dim, median_of_keys)
}

/// Coordinate-wise mean of the values left after cutting `floor(beta * n)` from each end
/// (Flower's `aggregate_trimmed_avg` with `proportiontocut = beta`).
pub(super) fn trimmed_mean(
    updates: &[ClientUpdate<'_>],
    dim: usize,
    beta: f32,
) -> Result<Vec<f32>, AggregationError> {
    let n = updates.len();
    if !(0.0..0.5).contains(&beta) {
        return Err(AggregationError::InvalidParameter(format!(
            "trimmed mean: beta must be in [0, 0.5), got {beta}"
        )));
    }
    let cut = (beta * n as f32) as usize;
    if n <= 2 * cut {
        return Err(AggregationError::InvalidParameter(format!(
            "trimmed mean: cutting {cut} from each end leaves nothing of {n}"
        )));
    }
    Ok(per_coordinate(updates, dim, |column| {
        trimmed_mean_of(column, cut)
    }))
}

/// Mean of a column of keys without its `cut` smallest and `cut` largest values, reordering it.
fn trimmed_mean_of(column: &mut [i32], cut: usize) -> f32 {
    let n = column.len();
    if cut > 0 {
        column.select_nth_unstable(cut);
        column[cut..].select_nth_unstable(n - 2 * cut - 1);
    }
    let kept = &column[cut..n - cut];
    (kept.iter().map(|&k| f64::from(value(k))).sum::<f64>() / kept.len() as f64) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_order_like_total_cmp() {
        let values = [
            f32::NEG_INFINITY,
            -3.5,
            -0.0,
            0.0,
            1e-30,
            2.0,
            f32::INFINITY,
        ];
        for pair in values.windows(2) {
            assert!(key(pair[0]) < key(pair[1]), "{pair:?}");
        }
        assert!(
            values
                .iter()
                .all(|&v| value(key(v)).to_bits() == v.to_bits())
        );
        assert_eq!(median_of(&[3.0, -1.0, 2.0, 10.0], &mut Vec::new()), 2.5);
    }
}
