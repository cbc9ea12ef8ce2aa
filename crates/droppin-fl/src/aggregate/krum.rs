//! Krum, Multi-Krum and Bulyan: selection by distance to the closest neighbours.

use super::coordinate::mean_around_median;
use super::distance::pairwise_sq_distances;

use super::{Aggregate, AggregationError, ClientUpdate, weighted_mean};

/// Krum scores: for each update, the sum of squared distances to its `n - f - 2` nearest others.
fn scores(distances: &[f64], candidates: &[usize], n: usize, f: usize) -> Vec<f64> {
    let neighbours = candidates.len() - f - 2;
    candidates
        .iter()
        .map(|&i| {
            let mut row: Vec<f64> = candidates
                .iter()
                .filter(|&&j| j != i)
                .map(|&j| distances[i * n + j])
                .collect();
            row.sort_unstable_by(f64::total_cmp);
            row[..neighbours].iter().sum()
        })
        .collect()
}

/// Candidates ordered by Krum score, best first; ties go to the lower index.
fn ranked(distances: &[f64], candidates: &[usize], n: usize, f: usize) -> Vec<usize> {
    let scores = scores(distances, candidates, n, f);
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]).then(a.cmp(&b)));
    order.into_iter().map(|k| candidates[k]).collect()
}

fn require_krum(n: usize, f: usize, rule: &'static str) -> Result<(), AggregationError> {
    if n > 2 * f + 2 {
        Ok(())
    } else {
        Err(AggregationError::Tolerance {
            rule,
            n,
            f,
            requirement: "n > 2f + 2",
        })
    }
}

/// Mean of the `m` updates with the best Krum scores (`m = 1` is Krum).
pub(super) fn multi_krum(
    updates: &[ClientUpdate<'_>],
    dim: usize,
    f: usize,
    m: usize,
) -> Result<Aggregate, AggregationError> {
    let n = updates.len();
    require_krum(n, f, if m == 1 { "Krum" } else { "Multi-Krum" })?;
    if m == 0 || m > n {
        return Err(AggregationError::InvalidParameter(format!(
            "Multi-Krum: m must be in 1..={n}, got {m}"
        )));
    }
    let distances = pairwise_sq_distances(updates);
    let mut selected = ranked(&distances, &(0..n).collect::<Vec<_>>(), n, f);
    selected.truncate(m);
    selected.sort_unstable();
    let chosen: Vec<ClientUpdate<'_>> = selected.iter().map(|&i| updates[i]).collect();
    let delta = if m == 1 {
        chosen[0].delta.to_vec()
    } else {
        weighted_mean(&chosen, dim)
    };
    Ok(Aggregate { delta, selected })
}

/// Bulyan: pick `theta = n - 2f` updates by repeated Krum, then per coordinate average the
/// `beta = theta - 2f` values closest to the median.
pub(super) fn bulyan(
    updates: &[ClientUpdate<'_>],
    dim: usize,
    f: usize,
) -> Result<Aggregate, AggregationError> {
    let n = updates.len();
    if n < 4 * f + 3 {
        return Err(AggregationError::Tolerance {
            rule: "Bulyan",
            n,
            f,
            requirement: "n >= 4f + 3",
        });
    }
    let distances = pairwise_sq_distances(updates);
    let theta = n - 2 * f;
    let mut remaining: Vec<usize> = (0..n).collect();
    let mut selected = Vec::with_capacity(theta);
    while selected.len() < theta {
        // Krum needs more than f + 2 candidates; once fewer remain, take them all.
        let best = if remaining.len() > f + 2 {
            ranked(&distances, &remaining, n, f)[0]
        } else {
            remaining[0]
        };
        selected.push(best);
        remaining.retain(|&i| i != best);
    }
    selected.sort_unstable();
    let beta = theta - 2 * f;
    let chosen: Vec<&[f32]> = selected.iter().map(|&i| updates[i].delta).collect();
    let delta = mean_around_median(&chosen, dim, beta);
    Ok(Aggregate { delta, selected })
}
