//! Coordinate-wise rules: median, trimmed mean, and Bulyan's mean around the median.
//!
//! Each task takes a block of coordinates, [`LANES`] at a time: it gathers their values from
//! every update as integer keys ordered like `f32::total_cmp` (so sorting compares plain
//! integers, and `-0.0 < 0.0` as everywhere else), sorts the 16 columns together through one
//! sorting network ([`super::network`]) pruned to the positions the statistic reads, and reduces
//! each column. Sorting is exact, so results do not depend on the vector width picked at run
//! time, on thread count or on the machine.

use rayon::prelude::*;

use super::network::{LANES, Lanes, SortingNetwork};
use super::{AggregationError, BLOCK, ClientUpdate};

/// What to compute from a column of `n` sorted values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Statistic {
    /// The middle value (mean of the two middle values for even `n`).
    Median,
    /// Mean of the values left after dropping `cut` from each end.
    TrimmedMean { cut: usize },
    /// Mean of the `keep` values closest to the median (Bulyan's second stage).
    MeanAroundMedian { keep: usize },
}

impl Statistic {
    /// Sorted positions the statistic reads.
    fn positions(self, n: usize) -> std::ops::Range<usize> {
        match self {
            Statistic::Median => (n - 1) / 2..n / 2 + 1,
            Statistic::TrimmedMean { cut } => cut..n - cut,
            // The window around the median may reach any position.
            Statistic::MeanAroundMedian { .. } => 0..n,
        }
    }

    /// Writes the statistic of each lane of `rows` (sorted along the rows) to `out`.
    #[inline(always)]
    fn reduce(self, rows: &[Lanes], out: &mut [f32]) {
        let n = rows.len();
        match self {
            Statistic::Median => {
                let (lower, upper) = (&rows[(n - 1) / 2], &rows[n / 2]);
                for (l, o) in out.iter_mut().enumerate() {
                    *o = midpoint(lower[l], upper[l]);
                }
            }
            Statistic::TrimmedMean { cut } => {
                let kept = &rows[cut..n - cut];
                // -0.0 is the sum of nothing, so a column of -0.0 keeps its sign.
                let mut sums = [-0f64; LANES];
                for row in kept {
                    for (sum, &k) in sums.iter_mut().zip(row) {
                        *sum += f64::from(value(k));
                    }
                }
                for (o, sum) in out.iter_mut().zip(sums) {
                    *o = (sum / kept.len() as f64) as f32;
                }
            }
            Statistic::MeanAroundMedian { keep } => {
                for (l, o) in out.iter_mut().enumerate() {
                    *o = mean_around_median_of(|i| rows[i][l], n, keep);
                }
            }
        }
    }
}

/// The mean of two sorted neighbours, in f64 (the median of an even count).
fn midpoint(lower: i32, upper: i32) -> f32 {
    if lower == upper {
        value(upper)
    } else {
        ((f64::from(value(lower)) + f64::from(value(upper))) / 2.0) as f32
    }
}

/// Mean of the `keep` values of a sorted column (`sorted(i)` for `i < n`) nearest its median.
/// They form a window of the column: shrink it from whichever end is farther from the median
/// (distances in f64, where they are exact for values of like magnitude; the larger value on
/// ties), then average it in ascending order.
fn mean_around_median_of(sorted: impl Fn(usize) -> i32, n: usize, keep: usize) -> f32 {
    let median = f64::from(midpoint(sorted((n - 1) / 2), sorted(n / 2)));
    let distance = |i: usize| (f64::from(value(sorted(i))) - median).abs();
    let (mut low, mut high) = (0, n);
    while high - low > keep {
        if distance(high - 1) >= distance(low) {
            high -= 1;
        } else {
            low += 1;
        }
    }
    let sum = (low..high).fold(-0f64, |sum, i| sum + f64::from(value(sorted(i))));
    (sum / keep as f64) as f32
}

/// Runs `statistic` on every coordinate's column of `n` values.
fn per_coordinate(updates: &[&[f32]], dim: usize, statistic: Statistic) -> Vec<f32> {
    let n = updates.len();
    let network = SortingNetwork::sorting(n, statistic.positions(n));
    let mut out = vec![0f32; dim];
    out.par_chunks_mut(BLOCK)
        .enumerate()
        .for_each(|(block, out)| {
            let mut rows: Vec<Lanes> = vec![[0; LANES]; n];
            reduce_block(updates, block * BLOCK, out, &network, statistic, &mut rows);
        });
    out
}

/// The statistic of coordinates `start..start + out.len()`, [`LANES`] at a time, through `rows`
/// (one per update). Compiled for each vector extension, picked at run time.
#[multiversion::multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl",
    "x86_64+avx2",
    "x86_64+sse4.1",
    "aarch64+neon"
))]
fn reduce_block(
    updates: &[&[f32]],
    start: usize,
    out: &mut [f32],
    network: &SortingNetwork,
    statistic: Statistic,
    rows: &mut [Lanes],
) {
    for (group, out) in out.chunks_mut(LANES).enumerate() {
        gather(updates, start + group * LANES, rows);
        network.sort(rows);
        statistic.reduce(rows, out);
    }
}

/// Row `i` of `rows` gets the keys of `updates[i][start..start + LANES]` (zeros past the end).
#[inline(always)]
fn gather(updates: &[&[f32]], start: usize, rows: &mut [Lanes]) {
    for (row, update) in rows.iter_mut().zip(updates) {
        match update.get(start..start + LANES) {
            Some(values) => *row = std::array::from_fn(|l| key(values[l])),
            None => {
                let values = &update[start..];
                *row = std::array::from_fn(|l| values.get(l).map_or(0, |&v| key(v)));
            }
        }
    }
}

/// An integer whose order is `f32::total_cmp`'s order.
#[inline(always)]
fn key(value: f32) -> i32 {
    let bits = value.to_bits() as i32;
    bits ^ (((bits >> 31) as u32) >> 1) as i32
}

/// The inverse of [`key`].
#[inline(always)]
fn value(key: i32) -> f32 {
    f32::from_bits((key ^ (((key >> 31) as u32) >> 1) as i32) as u32)
}

fn deltas<'a>(updates: &[ClientUpdate<'a>]) -> Vec<&'a [f32]> {
    updates.iter().map(|u| u.delta).collect()
}

/// Coordinate-wise median.
pub(super) fn median(updates: &[ClientUpdate<'_>], dim: usize) -> Vec<f32> {
    per_coordinate(&deltas(updates), dim, Statistic::Median)
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
    Ok(per_coordinate(
        &deltas(updates),
        dim,
        Statistic::TrimmedMean { cut },
    ))
}

/// Coordinate-wise mean of the `keep` values closest to the median (`1 <= keep <= n`).
pub(super) fn mean_around_median(updates: &[&[f32]], dim: usize, keep: usize) -> Vec<f32> {
    assert!((1..=updates.len()).contains(&keep), "keep within 1..=n");
    per_coordinate(updates, dim, Statistic::MeanAroundMedian { keep })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
    }

    /// The statistic computed the plain way: sort each column of floats.
    fn reference(updates: &[Vec<f32>], dim: usize, statistic: Statistic) -> Vec<f32> {
        let mean = |values: &[f32]| {
            let mut values = values.to_vec();
            values.sort_by(f32::total_cmp);
            (values.iter().map(|&v| f64::from(v)).sum::<f64>() / values.len() as f64) as f32
        };
        (0..dim)
            .map(|c| {
                let mut column: Vec<f32> = updates.iter().map(|u| u[c]).collect();
                column.sort_by(f32::total_cmp);
                let n = column.len();
                let median = if n % 2 == 1 {
                    column[n / 2]
                } else {
                    ((f64::from(column[n / 2 - 1]) + f64::from(column[n / 2])) / 2.0) as f32
                };
                match statistic {
                    Statistic::Median => median,
                    Statistic::TrimmedMean { cut } => mean(&column[cut..n - cut]),
                    Statistic::MeanAroundMedian { keep } => {
                        let distance = |v: &f32| (f64::from(*v) - f64::from(median)).abs();
                        column.sort_by(|a, b| {
                            distance(a).total_cmp(&distance(b)).then(a.total_cmp(b))
                        });
                        mean(&column[..keep])
                    }
                }
            })
            .collect()
    }

    proptest! {
        #[test]
        fn every_statistic_matches_sorting_each_column(
            // Eighths from -64 to 64 and both zeros: exact distances and many ties.
            updates in (1usize..24, 1usize..70).prop_flat_map(|(n, dim)| {
                proptest::collection::vec(proptest::collection::vec(
                    prop_oneof![(-512i32..512).prop_map(|k| k as f32 / 8.0), Just(-0.0f32)],
                    dim,
                ), n)
            }),
            cut_share in 0.0f64..0.5,
            keep_share in 0.0f64..1.0,
        ) {
            let n = updates.len();
            let dim = updates[0].len();
            let slices: Vec<&[f32]> = updates.iter().map(Vec::as_slice).collect();
            let cut = ((n as f64 * cut_share) as usize).min((n - 1) / 2);
            let keep = 1 + ((n - 1) as f64 * keep_share) as usize;
            for statistic in [
                Statistic::Median,
                Statistic::TrimmedMean { cut },
                Statistic::MeanAroundMedian { keep },
            ] {
                let got = per_coordinate(&slices, dim, statistic);
                let want = reference(&updates, dim, statistic);
                prop_assert_eq!(
                    got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    want.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    "{:?}", statistic
                );
            }
        }
    }

    #[test]
    fn signed_zeros_and_far_ends() {
        let zeros: Vec<&[f32]> = vec![&[-0.0], &[-0.0], &[-0.0]];
        for statistic in [
            Statistic::Median,
            Statistic::TrimmedMean { cut: 1 },
            Statistic::MeanAroundMedian { keep: 2 },
        ] {
            let got = per_coordinate(&zeros, 1, statistic)[0];
            assert_eq!(got.to_bits(), (-0.0f32).to_bits(), "{statistic:?}");
        }
        // In f32 the two lowest values are equally far from the median 1.0; in f64 the nearer
        // one wins, as the window keeps it.
        let column = [-0.999_999_05f32, -0.999_999, 1.0, 2.999_999_8, 3.0];
        let updates: Vec<&[f32]> = column.iter().map(std::slice::from_ref).collect();
        let got = per_coordinate(&updates, 1, Statistic::MeanAroundMedian { keep: 2 })[0];
        assert_eq!(got, ((f64::from(-0.999_999f32) + 1.0) / 2.0) as f32);
    }

    #[test]
    fn known_columns() {
        let a = [3.0f32, -1.0, 7.0];
        let b = [-1.0f32, 2.0, 7.0];
        let c = [2.0f32, 2.0, -7.0];
        let d = [10.0f32, 2.5, 7.0];
        let updates: Vec<&[f32]> = vec![&a, &b, &c, &d];
        assert_eq!(
            per_coordinate(&updates, 3, Statistic::Median),
            vec![2.5, 2.0, 7.0]
        );
        assert_eq!(
            per_coordinate(&updates, 3, Statistic::TrimmedMean { cut: 1 }),
            vec![2.5, 2.0, 7.0]
        );
        // Closest two to the median 2.5 of (-1, 2, 3, 10): 2 and 3.
        assert_eq!(
            per_coordinate(&updates, 1, Statistic::MeanAroundMedian { keep: 2 })[0],
            2.5
        );
    }
}
