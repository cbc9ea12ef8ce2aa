//! Sorting networks applied to many columns at once.
//!
//! Coordinate-wise rules need, for every coordinate, its `n` values in order. A branchy
//! selection per coordinate spends most of its time on mispredicted branches; a sorting network
//! is a fixed list of compare-exchanges, the same for every coordinate, so 16 coordinates go
//! through it together as the 16 lanes of one vector min and one vector max. The network is
//! Batcher's odd-even merge sort (O(n log² n) comparators), cut to `n` wires and pruned to the
//! outputs a rule reads. No crate sorts across SIMD lanes with a shared network, so this is
//! written here. The kernel is inlined into its callers, which are compiled for AVX-512, AVX2
//! and NEON and picked at run time.

use std::ops::Range;

/// Columns sorted together: one lane each.
pub(super) const LANES: usize = 16;

/// One row of a block: the `i`-th value of each of [`LANES`] columns.
pub(super) type Lanes = [i32; LANES];

/// Compare-exchange of two wires: afterwards the smaller value is on `low`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Comparator {
    low: u32,
    high: u32,
}

/// The compare-exchanges that sort `n` values, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct SortingNetwork {
    wires: usize,
    comparators: Vec<Comparator>,
}

impl SortingNetwork {
    /// Batcher's odd-even merge sort on `n` wires, keeping only the comparators that can change
    /// the values ending on `outputs`: the wires past `n` of the power-of-two network would hold
    /// `+inf`, so comparators touching them never swap and are left out.
    pub(super) fn sorting(n: usize, outputs: Range<usize>) -> Self {
        let mut comparators = Vec::new();
        let mut p = 1;
        while p < n {
            let mut k = p;
            while k >= 1 {
                let mut j = k % p;
                while j + k < n {
                    for i in 0..k.min(n - j - k) {
                        if (i + j) / (2 * p) == (i + j + k) / (2 * p) {
                            comparators.push(Comparator {
                                low: (i + j) as u32,
                                high: (i + j + k) as u32,
                            });
                        }
                    }
                    j += 2 * k;
                }
                k /= 2;
            }
            p *= 2;
        }
        Self {
            wires: n,
            comparators: prune(comparators, n, outputs),
        }
    }

    /// Compare-exchanges kept.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.comparators.len()
    }

    /// Sorts every lane of `rows` (one row per wire) along the wires: per comparator, one
    /// lane-wise min and one lane-wise max, which become vector instructions.
    #[inline(always)]
    pub(super) fn sort(&self, rows: &mut [Lanes]) {
        assert_eq!(rows.len(), self.wires, "one row per wire");
        for c in &self.comparators {
            let (a, b) = (rows[c.low as usize], rows[c.high as usize]);
            rows[c.low as usize] = std::array::from_fn(|l| a[l].min(b[l]));
            rows[c.high as usize] = std::array::from_fn(|l| a[l].max(b[l]));
        }
    }
}

/// Drops, from the end backwards, every comparator whose wires no kept comparator or output
/// reads afterwards.
fn prune(comparators: Vec<Comparator>, n: usize, outputs: Range<usize>) -> Vec<Comparator> {
    let mut live = vec![false; n];
    live[outputs].fill(true);
    let mut kept: Vec<Comparator> = comparators
        .into_iter()
        .rev()
        .filter(|c| {
            let (low, high) = (c.low as usize, c.high as usize);
            let needed = live[low] || live[high];
            if needed {
                live[low] = true;
                live[high] = true;
            }
            needed
        })
        .collect();
    kept.reverse();
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sorted_by_network(n: usize, outputs: Range<usize>, columns: &[Vec<i32>]) -> Vec<Vec<i32>> {
        let network = SortingNetwork::sorting(n, outputs);
        let mut rows: Vec<Lanes> = (0..n)
            .map(|i| std::array::from_fn(|l| columns.get(l).map_or(0, |c| c[i])))
            .collect();
        network.sort(&mut rows);
        (0..columns.len())
            .map(|l| rows.iter().map(|r| r[l]).collect())
            .collect()
    }

    #[test]
    fn zero_one_principle_for_small_n() {
        // A comparator network sorts every input iff it sorts every 0/1 input.
        for n in 1..=12usize {
            let columns: Vec<Vec<i32>> = (0..1u32 << n)
                .map(|bits| (0..n).map(|i| ((bits >> i) & 1) as i32).collect())
                .collect();
            for chunk in columns.chunks(LANES) {
                for (got, input) in sorted_by_network(n, 0..n, chunk).iter().zip(chunk) {
                    let mut want = input.clone();
                    want.sort_unstable();
                    assert_eq!(got, &want, "n = {n}");
                }
            }
        }
    }

    #[test]
    fn batcher_sizes_and_pruning() {
        // Batcher's count for 2^k wires: (k^2 - k + 4) 2^(k-2) - 1.
        assert_eq!(SortingNetwork::sorting(128, 0..128).len(), 46 * 32 - 1);
        let full = SortingNetwork::sorting(100, 0..100).len();
        let median = SortingNetwork::sorting(100, 49..51).len();
        assert!(full < 46 * 32 - 1 && median < full, "{median} < {full}");
        assert_eq!(SortingNetwork::sorting(1, 0..1).len(), 0);
    }

    proptest! {
        #[test]
        fn sorts_the_outputs_it_keeps(
            n in 1usize..80,
            seed_columns in proptest::collection::vec(proptest::collection::vec(any::<i32>(), 80), 1..LANES + 1),
            a in 0usize..80,
            b in 0usize..80,
        ) {
            let columns: Vec<Vec<i32>> = seed_columns.iter().map(|c| c[..n].to_vec()).collect();
            let (lo, hi) = (a.min(b) % n, a.max(b) % n + 1);
            for (got, input) in sorted_by_network(n, lo..hi.max(lo + 1), &columns).iter().zip(&columns) {
                let mut want = input.clone();
                want.sort_unstable();
                prop_assert_eq!(&got[lo..hi.max(lo + 1)], &want[lo..hi.max(lo + 1)]);
                let mut all = got.clone();
                all.sort_unstable();
                prop_assert_eq!(all, want, "a permutation of the input");
            }
        }
    }
}
