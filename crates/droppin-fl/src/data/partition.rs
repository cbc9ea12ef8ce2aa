//! Splitting a dataset across simulated nodes: IID, or label-skewed by a Dirichlet(alpha) draw.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha20Rng;
use rand_distr::{Distribution, Gamma};

use super::Dataset;
use crate::FlError;

/// How samples are dealt to nodes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Partition {
    /// Shuffled and dealt evenly.
    Iid,
    /// For each class, node shares are drawn from Dirichlet(alpha): small alpha, strong skew.
    Dirichlet { alpha: f64 },
}

/// Returns each node's sample indices into `data`. Every sample goes to exactly one node and no
/// node is left empty.
pub fn partition(
    data: &Dataset,
    nodes: usize,
    how: Partition,
    seed: u64,
) -> Result<Vec<Vec<usize>>, FlError> {
    if nodes == 0 || nodes > data.len() {
        return Err(FlError::Data(format!(
            "cannot split {} samples across {nodes} nodes",
            data.len()
        )));
    }
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut shards = vec![Vec::new(); nodes];
    match how {
        Partition::Iid => {
            let mut order: Vec<usize> = (0..data.len()).collect();
            order.shuffle(&mut rng);
            for (k, i) in order.into_iter().enumerate() {
                shards[k % nodes].push(i);
            }
        }
        Partition::Dirichlet { alpha } => {
            if !(alpha > 0.0 && alpha.is_finite()) {
                return Err(FlError::Data(format!(
                    "Dirichlet alpha must be positive, got {alpha}"
                )));
            }
            // A Dirichlet draw is a normalized vector of independent Gamma(alpha, 1) draws
            // (rand_distr's Dirichlet fixes the dimension at compile time).
            let gamma = Gamma::new(alpha, 1.0)
                .map_err(|e| FlError::Data(format!("Dirichlet alpha {alpha}: {e}")))?;
            for class in 0..data.classes {
                let mut members: Vec<usize> = (0..data.len())
                    .filter(|&i| usize::from(data.labels[i]) == class)
                    .collect();
                members.shuffle(&mut rng);
                let draws: Vec<f64> = (0..nodes).map(|_| gamma.sample(&mut rng)).collect();
                let total: f64 = draws.iter().sum::<f64>().max(f64::MIN_POSITIVE);
                let shares: Vec<f64> = draws.iter().map(|d| d / total).collect();
                let mut start = 0;
                let mut cumulative = 0.0;
                for (node, share) in shares.iter().enumerate() {
                    cumulative += share;
                    let end = if node + 1 == nodes {
                        members.len()
                    } else {
                        ((cumulative * members.len() as f64).round() as usize).min(members.len())
                    };
                    shards[node].extend_from_slice(&members[start..end.max(start)]);
                    start = end.max(start);
                }
            }
            // A node with nothing would have no update to send: give it one sample from the largest.
            for node in 0..nodes {
                if shards[node].is_empty() {
                    let largest = (0..nodes)
                        .max_by_key(|&n| shards[n].len())
                        .expect("nodes > 0");
                    let moved = shards[largest].pop().expect("largest shard is not empty");
                    shards[node].push(moved);
                }
            }
        }
    }
    Ok(shards)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::digits;

    #[test]
    fn every_sample_dealt_once() {
        let train = digits().unwrap().train;
        for how in [
            Partition::Iid,
            Partition::Dirichlet { alpha: 0.1 },
            Partition::Dirichlet { alpha: 100.0 },
        ] {
            let shards = partition(&train, 10, how, 7).unwrap();
            let mut all: Vec<usize> = shards.concat();
            all.sort_unstable();
            assert_eq!(all, (0..train.len()).collect::<Vec<_>>());
            assert!(shards.iter().all(|s| !s.is_empty()));
            assert_eq!(shards, partition(&train, 10, how, 7).unwrap());
        }
        let skewed = partition(&train, 10, Partition::Dirichlet { alpha: 0.05 }, 1).unwrap();
        let dominant = skewed.iter().map(|s| {
            let mut counts = [0usize; 10];
            s.iter()
                .for_each(|&i| counts[train.labels[i] as usize] += 1);
            *counts.iter().max().unwrap() as f64 / s.len() as f64
        });
        assert!(
            dominant.sum::<f64>() / 10.0 > 0.6,
            "alpha 0.05 should skew labels"
        );
        assert!(partition(&train, 0, Partition::Iid, 1).is_err());
    }
}
