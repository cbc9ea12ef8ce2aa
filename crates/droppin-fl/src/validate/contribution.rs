//! Contribution weights: marginal gains, copies grouped, shares capped, in basis points by
//! integer arithmetic so every validator agrees.

use crate::aggregate::{cosine, l2_norm};

use super::rules::quantize;

/// How far the grouping bar rises from the typical pair cosine toward 1. Two retrainings of one
/// shard sit well above the typical pair of different shards, but not always halfway to 1 (0.79
/// against a typical 0.59 in the digits' first round).
const GROUP_RAISE: f64 = 0.4;

/// The cosine bars of [`groups`].
pub(super) struct Bars {
    /// The least cosine that links two updates.
    pub floor: f64,
    /// The most: copies closer than this are always one group, however the cohort skews the bar.
    pub ceiling: f64,
    /// A bar the cohort cannot move (the reference's retraining bar, never under the floor), for
    /// when it sets none.
    pub anchor: Option<f64>,
}

/// The group of each update: updates whose cosine reaches the threshold are linked, and linked
/// updates (transitively) form one group, named by its first member. The threshold is the floor,
/// raised two fifths of the way from the typical pairwise cosine of the updates to 1 when they
/// are alike (the first rounds, when every update points the same way), never above the
/// ceiling. "Typical" is the median of the pair cosines weighted by the product of the pair's
/// `sure` gains (what each surely brought, shared within the groups the floor would form, but
/// for a group of half the updates or more: see [`typical_bar`]):
/// updates that bring nothing, sybils' noise for one, cannot lower the bar until honest updates
/// fall into one group. With fewer than three updates bringing anything surely, the pairs are
/// weighted by the `measured` gains (late in training, when one update's gain is within its
/// error, but most still gain). With fewer than three of those there is no typical pair (the
/// only pair may be two retrainings of one shard, which would set the bar above themselves):
/// the anchor holds, or without one the floor. Not the floor when there is an anchor: on an
/// easy task two updates of different data clear it, and so does a weak update anyone can make
/// from public data, which would tie them into one group paid its least member's gain: nothing.
/// For the same reason, when the cohort sets no bar, an update that gains nothing links only as
/// a near-copy (at the ceiling).
pub(super) fn groups(
    directions: &[Vec<f32>],
    sure: &[f64],
    measured: &[f64],
    bars: &Bars,
) -> Vec<usize> {
    let linked = pair_cosines(directions);
    let n = directions.len();
    if let Some(typical) = typical_bar(&linked, sure, bars.floor)
        .or_else(|| typical_bar(&linked, measured, bars.floor))
    {
        return link(n, &linked, typical.min(bars.ceiling));
    }
    let linked: Vec<(usize, usize, f64)> = linked
        .into_iter()
        .filter(|&(a, b, c)| (measured[a] > 0.0 && measured[b] > 0.0) || c >= bars.ceiling)
        .collect();
    link(
        n,
        &linked,
        bars.anchor.unwrap_or(bars.floor).min(bars.ceiling),
    )
}

/// The norm the gains are measured at, at most, when there is no reference: the median norm
/// of the updates that gain, near-copies (`directions` with a cosine of at least `near`)
/// counting once, while updates of different data, alike as they are early in training, count
/// apart. One update boosted past it gains no more, under any number of near-copies; moving it
/// takes as many updates of their own on the other side (boosted ones that gain, above it;
/// small ones that gain, below it), as many as it takes to shrink every gain by joining the
/// round at all (each is measured as one share of an average). `None` without any update.
pub(super) fn typical_norm(directions: &[&[f32]], norms: &[f64], near: f64) -> Option<f64> {
    let copies = link(directions.len(), &pair_cosines(directions), near);
    let weighted = norms
        .iter()
        .zip(group_sizes(&copies))
        .map(|(&norm, size)| (norm, 1.0 / size as f64))
        .collect();
    weighted_median(weighted)
}

/// The quantized cosine of each pair `(a, b)` of `directions`, `a < b`.
fn pair_cosines<D: AsRef<[f32]>>(directions: &[D]) -> Vec<(usize, usize, f64)> {
    let n = directions.len();
    let norms: Vec<f64> = directions.iter().map(|d| l2_norm(d.as_ref())).collect();
    (0..n)
        .flat_map(|a| (a + 1..n).map(move |b| (a, b)))
        .map(|(a, b)| {
            let (x, y) = (directions[a].as_ref(), directions[b].as_ref());
            (a, b, quantize(cosine(x, y, norms[a], norms[b]), 1e-6))
        })
        .collect()
}

/// The lower weighted median of `(value, weight)` pairs (ties in value broken by weight, so the
/// result does not depend on their order); `None` when empty.
fn weighted_median(mut pairs: Vec<(f64, f64)>) -> Option<f64> {
    pairs.sort_unstable_by(|x, y| x.0.total_cmp(&y.0).then(x.1.total_cmp(&y.1)));
    let total: f64 = pairs.iter().map(|&(_, w)| w).sum();
    let mut below = 0.0;
    pairs
        .iter()
        .find(|&&(_, w)| {
            below += w;
            2.0 * below >= total
        })
        .map(|&(value, _)| value)
}

/// The floor raised toward 1 from the typical cosine of the `linked` pairs, each pair weighted
/// by its members' `weights`; `None` with fewer than three weighted updates.
fn typical_bar(linked: &[(usize, usize, f64)], weights: &[f64], floor: f64) -> Option<f64> {
    if weights.iter().filter(|&&w| w > 0.0).count() < 3 {
        return None;
    }
    // Weights shared within the groups the floor alone would form, so that copies do not pull
    // the bar up either; but not within a group of half the updates or more: that is the
    // cohort's own likeness (every update of the first rounds), and shared, its pairs would
    // weigh as one update's against those of a single unlike one, which would set the bar.
    let n = weights.len();
    let at_floor = link(n, linked, floor);
    let shared: Vec<f64> = weights
        .iter()
        .zip(group_sizes(&at_floor))
        .map(|(w, size)| if 2 * size >= n { *w } else { w / size as f64 })
        .collect();
    let pairs = linked
        .iter()
        .map(|&(a, b, c)| (c, shared[a] * shared[b]))
        .filter(|&(_, w)| w > 0.0)
        .collect();
    let typical = weighted_median(pairs).unwrap_or(0.0);
    Some(floor.max(typical + (1.0 - typical) * GROUP_RAISE))
}

/// The groups of `n` items whose `linked` pairs `(a, b, cosine)` reach `threshold`, each named
/// by its first member.
fn link(n: usize, linked: &[(usize, usize, f64)], threshold: f64) -> Vec<usize> {
    let mut group: Vec<usize> = (0..n).collect();
    fn root(group: &mut [usize], mut k: usize) -> usize {
        while group[k] != k {
            group[k] = group[group[k]];
            k = group[k];
        }
        k
    }
    for &(a, b, c) in linked {
        if c >= threshold {
            let (ra, rb) = (root(&mut group, a), root(&mut group, b));
            group[ra.max(rb)] = ra.min(rb);
        }
    }
    (0..n).map(|k| root(&mut group, k)).collect()
}

/// How many members each item's group has.
fn group_sizes(groups: &[usize]) -> Vec<usize> {
    groups
        .iter()
        .map(|&g| groups.iter().filter(|&&h| h == g).count())
        .collect()
}

/// Each update's weight in the new model: a group counts its members' average gain once, each
/// member its own gain divided by the group's size, so copies add no weight and every copy's
/// information is used alike.
pub(super) fn shared_gains(gains: &[f64], groups: &[usize]) -> Vec<f64> {
    gains
        .iter()
        .zip(group_sizes(groups))
        .map(|(&gain, members)| gain / members as f64)
        .collect()
}

/// Each update's pay: a group earns its *least* member's gain once, split evenly among its
/// members. Not the best, which would pay for the luckiest of several retrainings of one shard
/// under several keys, and not the average either: a share of the pool is concave in the gain
/// (normalized, capped, nothing below a significance bar), so the average of three retrainings,
/// steadier than one, still earned more than one key did (1.25 honest shares for three keys, over
/// 12 seeds of the simulator). The least of several retrainings is below one retraining's
/// gain on average, so splitting a shard over keys never pays. A member under the significance
/// bar counts too: leaving it out would pay the retrainings that cleared the bar, which is most
/// of the overpayment (1.29 honest shares over the same seeds, against 0.53). Could someone zero
/// an honest update's pay by sending a weak one beside it? Only with an update closer to it than
/// different shards' updates are to each other, committed before the reveal, without seeing it:
/// that takes data like the honest node's own.
pub(super) fn paid_gains(gains: &[f64], groups: &[usize]) -> Vec<f64> {
    let least = |group: usize| {
        (0..gains.len())
            .filter(|&k| groups[k] == group)
            .map(|k| gains[k])
            .fold(f64::INFINITY, f64::min)
    };
    groups
        .iter()
        .zip(group_sizes(groups))
        .map(|(&group, members)| least(group) / members as f64)
        .collect()
}

/// Splits 10,000 basis points in proportion to the positive gains (quantized to `quantum`),
/// each share capped at `cap_bps`. Remainders go to the largest fractional parts, then to the
/// lower index. Below `min_total` of positive gain in all, nobody is paid: no equal split, ever.
/// What the cap or the floor withholds goes back to the funder.
pub fn basis_points(gains: &[f64], quantum: f64, min_total: f64, cap_bps: u16) -> Vec<u16> {
    const TOTAL: u64 = 10_000;
    let units: Vec<u64> = gains
        .iter()
        // Capped so that `units * 10,000` cannot overflow, whatever the gains.
        .map(|g| (g / quantum).round().clamp(0.0, 1e12) as u64)
        .collect();
    let sum: u64 = units.iter().sum();
    if sum == 0 || (sum as f64) * quantum < min_total {
        return vec![0; gains.len()];
    }
    let mut shares: Vec<u64> = units.iter().map(|u| u * TOTAL / sum).collect();
    let mut remainders: Vec<(u64, usize)> = units
        .iter()
        .enumerate()
        .map(|(i, u)| (u * TOTAL % sum, i))
        .collect();
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let missing = TOTAL - shares.iter().sum::<u64>();
    for &(_, i) in remainders.iter().take(missing as usize) {
        shares[i] += 1;
    }
    shares
        .into_iter()
        .map(|s| s.min(u64::from(cap_bps)) as u16)
        .collect()
}

/// Caps each group's total at `cap_bps` too: a group is one contribution, whatever the number
/// of keys it was sent under. Members keep their proportions (rounded down; the rest goes back
/// to the funder).
pub(super) fn cap_groups(shares: &[u16], groups: &[usize], cap_bps: u16) -> Vec<u16> {
    shares
        .iter()
        .zip(groups)
        .map(|(&share, &g)| {
            let total: u64 = (0..shares.len())
                .filter(|&k| groups[k] == g)
                .map(|k| u64::from(shares[k]))
                .sum();
            if total <= u64::from(cap_bps) {
                share
            } else {
                (u64::from(share) * u64::from(cap_bps) / total) as u16
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_by_gain_caps_and_never_splits_evenly() {
        assert_eq!(
            basis_points(&[3e-6, 1e-6, -5e-6], 1e-6, 0.0, 10_000),
            vec![7_500, 2_500, 0]
        );
        assert_eq!(
            basis_points(&[1e-6, 1e-6, 1e-6], 1e-6, 0.0, 10_000),
            vec![3_334, 3_333, 3_333]
        );
        // Nothing gained, nothing paid: the pool goes back to the funder.
        assert_eq!(basis_points(&[0.0, -1.0], 1e-6, 0.0, 10_000), vec![0, 0]);
        assert_eq!(basis_points(&[2e-6, 1e-6], 1e-6, 1e-5, 10_000), vec![0, 0]);
        assert_eq!(basis_points(&[0.5], 1e-6, 0.0, 2_500), vec![2_500]);
    }

    #[test]
    fn copies_form_one_group_and_share_one_gain() {
        let directions = vec![
            vec![1.0, 0.0, 0.0],
            vec![0.0, 1.0, 0.0],
            vec![0.95, 0.1, 0.0],
            vec![0.0, 0.0, 1.0],
        ];
        let groups = groups(&directions, &[1.0; 4], &[1.0; 4], &bars(0.9, 0.95));
        assert_eq!(groups, vec![0, 1, 0, 3]);
        let shared = shared_gains(&[0.4, 0.3, 0.2, 0.1], &groups);
        for (got, want) in shared.iter().zip([0.2, 0.3, 0.1, 0.1]) {
            assert!((got - want).abs() < 1e-12, "{shared:?}");
        }
        // Paid: the group's least gain (0.2), once, split between its two members.
        let paid = paid_gains(&[0.4, 0.3, 0.2, 0.1], &groups);
        for (got, want) in paid.iter().zip([0.1, 0.3, 0.1, 0.1]) {
            assert!((got - want).abs() < 1e-12, "{paid:?}");
        }
        // A retraining under the significance bar holds its group's pay at zero.
        let paid = paid_gains(&[0.4, 0.3, 0.0, 0.1], &groups);
        for (got, want) in paid.iter().zip([0.0, 0.3, 0.0, 0.1]) {
            assert!((got - want).abs() < 1e-12, "{paid:?}");
        }
        assert_eq!(
            cap_groups(&[2_000, 3_000, 2_000, 1_000], &groups, 2_500),
            vec![1_250, 2_500, 1_250, 1_000]
        );
        // When every update points the same way (the first rounds), the bar rises with them:
        // only the closer pair is one group.
        let alike = vec![
            vec![1.0, 1.0, 0.0, 0.0],
            vec![1.0, 0.0, 1.0, 0.0],
            vec![1.0, 0.0, 0.0, 1.0],
            vec![1.0, 0.0, 0.0, 0.95],
        ];
        assert_eq!(
            super::groups(&alike, &[1.0; 4], &[1.0; 4], &bars(0.4, 0.85)),
            vec![0, 1, 2, 2]
        );
        // Updates that bring nothing do not lower the bar: with many opposed ones of weight
        // zero beside them, the alike updates still separate as before.
        let mut crowded = alike.clone();
        crowded.extend((0..6).map(|k| {
            let mut v = vec![0.0; 4];
            v[k % 4] = -1.0;
            v
        }));
        let weights = [[1.0; 4], [0.0; 4]].concat();
        let weights = [&weights[..], &[0.0, 0.0]].concat();
        assert_eq!(
            super::groups(&crowded, &weights, &weights, &bars(0.4, 0.85))[..4],
            [0, 1, 2, 2]
        );
    }

    #[test]
    fn two_retrainings_alone_bringing_something_do_not_set_their_own_bar() {
        // Late in training only two updates surely help, and they are two retrainings of one
        // shard (cosine 0.7): their pair alone would put the bar above them; the floor holds.
        let directions = vec![
            vec![1.0, 0.0, 0.0],
            vec![0.7, 0.714_142_8, 0.0],
            vec![0.0, 0.0, 1.0],
        ];
        let weights = [1.0, 1.0, 0.0];
        assert_eq!(
            groups(&directions, &weights, &weights, &bars(0.5, 0.85)),
            vec![0, 0, 2]
        );
        // With a third update bringing something, the typical pair decides as before.
        let weights = [1.0; 3];
        assert_eq!(
            groups(&directions, &weights, &weights, &bars(0.5, 0.85)),
            vec![0, 0, 2]
        );
    }

    #[test]
    fn a_weak_update_between_two_alike_ones_does_not_tie_them() {
        // Two updates of different data on an easy task (cosine 0.8), and a weak one at 0.8 from
        // both that brings nothing: over the floor, it would tie them into one group, paid its
        // gain. Without an anchor the two still clear the floor together; the weak one stays
        // apart, as it would be even at the ceiling (0.85).
        let directions = vec![
            vec![1.0, 0.0, 0.0],
            vec![0.8, 0.6, 0.0],
            vec![0.9, 0.3, 0.605],
        ];
        let (sure, measured) = ([0.1, 0.1, 0.0], [0.1, 0.1, 0.0]);
        assert_eq!(
            groups(&directions, &sure, &measured, &bars(0.5, 0.85)),
            vec![0, 0, 2]
        );
        assert_eq!(
            groups(&directions, &sure, &measured, &bars(0.5, 0.79)),
            vec![0, 0, 0]
        );
        let anchored = Bars {
            anchor: Some(0.84),
            ..bars(0.5, 0.85)
        };
        assert_eq!(
            groups(&directions, &sure, &measured, &anchored),
            vec![0, 1, 2]
        );
        // When the weak one's measured gain counts, the pair's typical cosine sets the bar.
        assert_eq!(
            groups(&directions, &sure, &[0.1, 0.1, 1e-4], &bars(0.5, 0.85)),
            vec![0, 1, 2]
        );
    }

    #[test]
    fn one_update_unlike_the_rest_does_not_tie_them_into_one_group() {
        // Five honest updates of different data, alike as early in training (pairwise cosine
        // 0.75), and one unlike them all (0.476 from each: a label-skewed shard, or a key sent
        // to do this) that gains 0.6 of theirs. The five are one group at the floor, so their
        // pairs shared one update's weight while the outsider's five pairs kept theirs: the
        // typical pair became the outsider's, the bar fell to 0.69, and the five honest updates
        // became one group, paid its least member's gain once and capped at one share.
        let axis = |k: usize, along: f32, at: f32| -> Vec<f32> {
            let mut v = vec![0.0; 8];
            v[0] = along;
            v[k] = at;
            v
        };
        let mut directions: Vec<Vec<f32>> = (1..=5).map(|k| axis(k, 1.0, 0.577_350_3)).collect();
        let alone = groups(&directions, &[1.0; 5], &[1.0; 5], &bars(0.5, 0.85));
        assert_eq!(alone, vec![0, 1, 2, 3, 4]);
        directions.push(axis(7, 0.55, 0.835));
        let gains = [1.0, 1.0, 1.0, 1.0, 1.0, 0.6];
        assert_eq!(
            groups(&directions, &gains, &gains, &bars(0.5, 0.85)),
            vec![0, 1, 2, 3, 4, 5]
        );
        // A minority of alike updates still counts once: late in training, three keys sharing
        // a trigger (0.67 alike) beside one other update that gains and six that gain nothing
        // are one group, not paid three times.
        let axis = |k: usize, along: f32, at: f32| -> Vec<f32> {
            let mut v = vec![0.0; 12];
            v[0] = along;
            v[k] = at;
            v
        };
        let mut late: Vec<Vec<f32>> = (1..=3).map(|k| axis(k, 1.0, 0.7)).collect();
        late.extend((4..=10).map(|k| axis(k, 0.0, 1.0)));
        let gains = [0.002, 0.003, 0.0013, 0.0008, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        assert_eq!(
            groups(&late, &gains, &gains, &bars(0.5, 0.85))[..4],
            [0, 0, 0, 3]
        );
    }

    #[test]
    fn the_typical_norm_is_the_median_of_the_updates_that_gain_near_copies_once() {
        let axis = |k: usize| -> Vec<f32> {
            let mut v = vec![0.0; 8];
            v[k] = 1.0;
            v
        };
        // Three updates of different data, and a boosted one sent under four keys.
        let directions = [
            axis(0),
            axis(1),
            axis(2),
            axis(3),
            axis(3),
            axis(3),
            axis(3),
        ];
        let views: Vec<&[f32]> = directions.iter().map(Vec::as_slice).collect();
        let norms = [1.0, 2.0, 3.0, 100.0, 100.0, 100.0, 100.0];
        assert_eq!(typical_norm(&views, &norms, 0.85), Some(2.0));
        // Counted apart, the four keys would set it.
        assert_eq!(typical_norm(&views, &norms, 1.1), Some(100.0));
        // Three alike updates of different data (cosines 0.64-0.8, as honest updates early in
        // training) count apart, so two small keys of other directions do not set it; were alike
        // updates one group, as at the grouping floor, those two would.
        let alike = [
            vec![1.0, 0.0, 0.0, 0.0, 0.0],
            vec![0.8, 0.6, 0.0, 0.0, 0.0],
            vec![0.8, 0.0, 0.6, 0.0, 0.0],
            vec![0.0, 0.0, 0.0, 1.0, 0.0],
            vec![0.0, 0.0, 0.0, 0.0, 1.0],
        ];
        let views: Vec<&[f32]> = alike.iter().map(Vec::as_slice).collect();
        let norms = [1.0, 2.0, 3.0, 0.01, 0.01];
        assert_eq!(typical_norm(&views, &norms, 0.85), Some(1.0));
        assert_eq!(typical_norm(&views, &norms, 0.5), Some(0.01));
        assert_eq!(typical_norm(&[], &[], 0.85), None);
    }

    fn bars(floor: f64, ceiling: f64) -> Bars {
        Bars {
            floor,
            ceiling,
            anchor: None,
        }
    }
}
