//! Which samples each optimizer step sees: one shuffle per epoch from the node's seed, cut into
//! batches (Poisson-sampled under DP-SGD). Every trainer, on any device, walks the same schedule,
//! so the same seed visits the same batches in the same order.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

use super::TrainConfig;

/// One step's batch and where it sits in the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedBatch {
    pub epoch: usize,
    pub step: usize,
    pub rows: Vec<usize>,
}

/// The batches of a whole run, planned an epoch at a time.
#[derive(Clone, Debug)]
pub struct BatchSchedule {
    rng: ChaCha20Rng,
    order: Vec<usize>,
    batch_size: usize,
    epochs: usize,
    poisson: bool,
    steps_per_epoch: usize,
    epoch: usize,
    batches: std::vec::IntoIter<(usize, Vec<usize>)>,
}

impl BatchSchedule {
    /// The schedule of `config` over `samples` samples (`batch_size` must be positive).
    pub fn new(samples: usize, config: &TrainConfig) -> Self {
        Self {
            rng: ChaCha20Rng::seed_from_u64(config.seed),
            order: (0..samples).collect(),
            batch_size: config.batch_size,
            epochs: config.epochs,
            poisson: config.dp_sgd.is_some(),
            steps_per_epoch: samples.div_ceil(config.batch_size),
            epoch: 0,
            batches: Vec::new().into_iter(),
        }
    }

    /// Optimizer steps in one epoch.
    pub fn steps_per_epoch(&self) -> usize {
        self.steps_per_epoch
    }

    /// Steps in the whole run.
    pub fn total_steps(&self) -> usize {
        self.steps_per_epoch * self.epochs
    }

    /// Shuffles and cuts the next epoch's batches.
    fn plan_epoch(&mut self) {
        self.order.shuffle(&mut self.rng);
        let batches: Vec<Vec<usize>> = if self.poisson {
            // DP-SGD samples each example independently with rate batch/len (Poisson sampling),
            // which is what the RDP accountant of the sampled Gaussian assumes.
            let len = self.order.len();
            let rate = (self.batch_size as f64 / len as f64).min(1.0);
            (0..self.steps_per_epoch)
                .map(|_| {
                    (0..len)
                        .filter(|_| self.rng.random::<f64>() < rate)
                        .collect()
                })
                .collect()
        } else {
            self.order
                .chunks(self.batch_size)
                .map(<[usize]>::to_vec)
                .collect()
        };
        self.batches = batches
            .into_iter()
            .enumerate()
            .collect::<Vec<_>>()
            .into_iter();
        self.epoch += 1;
    }
}

impl Iterator for BatchSchedule {
    type Item = PlannedBatch;

    /// The next non-empty batch, or `None` once every epoch is done.
    fn next(&mut self) -> Option<PlannedBatch> {
        loop {
            match self.batches.next() {
                // An empty Poisson batch releases nothing; skipping it is still accounted as a step.
                Some((_, rows)) if rows.is_empty() => continue,
                Some((step, rows)) => {
                    return Some(PlannedBatch {
                        epoch: self.epoch - 1,
                        step,
                        rows,
                    });
                }
                None if self.epoch < self.epochs => self.plan_epoch(),
                None => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sample_once_per_epoch_in_a_seeded_order() {
        let config = TrainConfig {
            epochs: 3,
            batch_size: 4,
            seed: 9,
            ..TrainConfig::default()
        };
        let batches: Vec<PlannedBatch> = BatchSchedule::new(10, &config).collect();
        assert_eq!(batches.len(), 9);
        for epoch in 0..3 {
            let mut seen: Vec<usize> = batches
                .iter()
                .filter(|b| b.epoch == epoch)
                .flat_map(|b| b.rows.clone())
                .collect();
            seen.sort_unstable();
            assert_eq!(seen, (0..10).collect::<Vec<_>>());
        }
        assert_eq!(batches[2].rows.len(), 2, "the last batch holds the rest");
        let again: Vec<PlannedBatch> = BatchSchedule::new(10, &config).collect();
        assert_eq!(batches, again);
        assert_ne!(batches[0].rows, batches[3].rows, "reshuffled each epoch");
    }
}
