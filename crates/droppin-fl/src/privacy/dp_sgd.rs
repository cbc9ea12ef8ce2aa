//! DP-SGD in the node (Abadi et al. 2016): per-example gradients clipped to `C`, summed, Gaussian
//! noise `N(0, (sigma * C)^2)` added, divided by the batch size. burn has no vectorized
//! per-example gradients, so each example gets its own backward pass: affordable for the small
//! models nodes train here (the training benchmark prints the cost).

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};
use rand::Rng;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

use crate::aggregate::clip_to_norm;

/// Per-example clipping norm and noise multiplier.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct DpSgd {
    pub clip_norm: f32,
    pub noise_multiplier: f64,
}

impl DpSgd {
    /// Target delta of dropPIN's DP figures.
    pub const DELTA: f64 = 1e-5;
    /// Per-example gradient clipping norm.
    pub const CLIP_NORM: f32 = 1.0;

    /// The noise that keeps a node's data `(epsilon, 1e-5)`-private over every local step of
    /// every round: Poisson sampling at `batch_size / shard_len`, `epochs` passes per round.
    pub fn for_budget(
        epsilon: f64,
        shard_len: usize,
        batch_size: usize,
        epochs: usize,
        rounds: usize,
    ) -> Result<DpSgd, crate::FlError> {
        let (sampling_rate, steps) = schedule(shard_len, batch_size, epochs, rounds);
        Ok(DpSgd {
            clip_norm: Self::CLIP_NORM,
            noise_multiplier: super::RdpAccountant::noise_for(
                epsilon,
                Self::DELTA,
                sampling_rate,
                steps,
            )?,
        })
    }

    /// The noise for `epsilon` (if any) over nodes holding `shards`: the smallest shard, whose
    /// sampling rate is the largest, is accounted.
    pub fn for_shards(
        epsilon: Option<f64>,
        shards: &[crate::data::Dataset],
        train: &crate::train::TrainConfig,
        rounds: usize,
    ) -> Result<Option<DpSgd>, crate::FlError> {
        let smallest = shards
            .iter()
            .map(crate::data::Dataset::len)
            .min()
            .unwrap_or(1);
        epsilon
            .map(|epsilon| {
                Self::for_budget(epsilon, smallest, train.batch_size, train.epochs, rounds)
            })
            .transpose()
    }

    /// The epsilon (at delta 1e-5) this noise spends over the same schedule.
    pub fn epsilon_spent(
        &self,
        shard_len: usize,
        batch_size: usize,
        epochs: usize,
        rounds: usize,
    ) -> Result<f64, crate::FlError> {
        let (sampling_rate, steps) = schedule(shard_len, batch_size, epochs, rounds);
        let mut accountant = super::RdpAccountant::default();
        accountant.step(sampling_rate, self.noise_multiplier, steps)?;
        Ok(accountant.spent(Self::DELTA)?.epsilon)
    }
}

/// Sampling rate and step count of `epochs` passes per round over a shard, for `rounds` rounds.
fn schedule(shard_len: usize, batch_size: usize, epochs: usize, rounds: usize) -> (f64, u64) {
    let shard_len = shard_len.max(1);
    let sampling_rate = (batch_size as f64 / shard_len as f64).min(1.0);
    let steps = (epochs * shard_len.div_ceil(batch_size) * rounds) as u64;
    (sampling_rate, steps)
}

/// Accumulates clipped per-example gradients of one batch.
pub(crate) struct ClippedSum {
    sum: Vec<f32>,
    clip_norm: f32,
}

impl ClippedSum {
    pub(crate) fn new(params: usize, clip_norm: f32) -> Self {
        Self {
            sum: vec![0.0; params],
            clip_norm,
        }
    }

    /// Adds one example's gradients, clipped to the norm.
    pub(crate) fn add<M: Module>(&mut self, model: &M, grads: &GradientsParams) {
        let mut reader = GradReader {
            grads,
            values: Vec::with_capacity(self.sum.len()),
        };
        model.visit(&mut reader);
        let clipped = clip_to_norm(&reader.values, self.clip_norm);
        self.sum.iter_mut().zip(&clipped).for_each(|(s, g)| *s += g);
    }

    /// The noisy mean gradient, as gradients the optimizer can apply to `model`.
    pub(crate) fn noisy_mean<M: Module>(
        mut self,
        model: &M,
        noise_multiplier: f64,
        expected_batch: usize,
        rng: &mut impl Rng,
        device: &Device,
    ) -> GradientsParams {
        let normal = Normal::new(0.0, noise_multiplier * f64::from(self.clip_norm))
            .expect("non-negative noise");
        // Divided by the expected batch size, not the drawn one: with Poisson sampling the drawn
        // size itself depends on the data set.
        let examples = expected_batch.max(1) as f32;
        self.sum
            .iter_mut()
            .for_each(|s| *s = (*s + normal.sample(rng) as f32) / examples);
        let mut writer = GradWriter {
            values: &self.sum,
            offset: 0,
            grads: GradientsParams::new(),
            device,
        };
        model.visit(&mut writer);
        writer.grads
    }
}

/// Reads gradients in parameter order (zero where a parameter got none).
struct GradReader<'a> {
    grads: &'a GradientsParams,
    values: Vec<f32>,
}

impl ModuleVisitor for GradReader<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        match self.grads.get::<D>(param.id) {
            Some(grad) => {
                let data = grad.into_data().convert::<f32>();
                self.values
                    .extend_from_slice(data.as_slice::<f32>().expect("f32 gradient"));
            }
            None => self.values.extend(std::iter::repeat_n(
                0.0,
                param.val().dims().iter().product(),
            )),
        }
    }
}

/// Registers flat gradients back, one tensor per parameter.
struct GradWriter<'a> {
    values: &'a [f32],
    offset: usize,
    grads: GradientsParams,
    device: &'a Device,
}

impl ModuleVisitor for GradWriter<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let shape = param.val().dims();
        let len: usize = shape.iter().product();
        let slice = &self.values[self.offset..self.offset + len];
        self.offset += len;
        self.grads.register::<D>(
            param.id,
            Tensor::from_data(TensorData::new(slice.to_vec(), shape), self.device),
        );
    }
}
