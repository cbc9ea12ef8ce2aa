//! Local training on a node's private data: SGD or Adam, mini-batches, optional FedProx.

use burn::module::{Module, ModuleVisitor, Param};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams, SgdConfig, momentum::MomentumConfig};
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};

use crate::FlError;
use crate::data::Dataset;
use crate::model::{Model, ModelSpec, Weights};
use crate::privacy::{ClippedSum, DpSgd};

/// The local optimizer.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LocalOptimizer {
    /// Stochastic gradient descent with heavy-ball momentum (0 for plain SGD).
    Sgd {
        momentum: f64,
    },
    Adam,
}

/// How a node trains for one round.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub optimizer: LocalOptimizer,
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    /// FedProx proximal weight `mu`: adds `mu/2 * ||w - w_global||^2` to the loss.
    pub proximal_mu: Option<f64>,
    /// DP-SGD: per-example clipping and noise (sample-level privacy of the node's data).
    pub dp_sgd: Option<DpSgd>,
    /// Seeds the batch order and, on a separate stream, the DP-SGD noise: the same seed, data and
    /// base give the same update on the CPU. With DP-SGD a node must draw it from the OS and keep
    /// it secret, or the noise can be subtracted.
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            optimizer: LocalOptimizer::Adam,
            epochs: 2,
            batch_size: 32,
            learning_rate: 0.01,
            proximal_mu: None,
            dp_sgd: None,
            seed: 0,
        }
    }
}

/// Progress of local training, reported after every optimizer step.
#[derive(Clone, Copy, Debug)]
pub struct TrainProgress {
    pub epoch: usize,
    pub step: usize,
    pub steps_per_epoch: usize,
    pub loss: f32,
}

/// Trains `base` on `data` and returns the new weights. `device` may be any backend; autodiff is
/// enabled on it here.
pub fn train(
    spec: &ModelSpec,
    base: &Weights,
    data: &Dataset,
    config: &TrainConfig,
    device: &Device,
    mut progress: impl FnMut(TrainProgress),
) -> Result<Weights, FlError> {
    if data.is_empty() || config.batch_size == 0 || config.epochs == 0 {
        return Err(FlError::Training(
            "training needs samples, a batch size and at least one epoch".into(),
        ));
    }
    if data.feature_dim() != spec.input_dim() {
        return Err(FlError::Training(format!(
            "samples have {} features, the model takes {}",
            data.feature_dim(),
            spec.input_dim()
        )));
    }
    if !(config.learning_rate > 0.0 && config.learning_rate.is_finite()) {
        return Err(FlError::Training(format!(
            "learning rate must be positive, got {}",
            config.learning_rate
        )));
    }
    let inner_device = device.clone();
    let device = device.clone().autodiff();
    let mut model = base.to_model(spec, &device)?.train();
    let mut optimizer = match config.optimizer {
        LocalOptimizer::Sgd { momentum } if momentum > 0.0 => SgdConfig::new()
            .with_momentum(Some(MomentumConfig::new().with_momentum(momentum)))
            .init(),
        LocalOptimizer::Sgd { .. } => SgdConfig::new().init(),
        LocalOptimizer::Adam => AdamConfig::new().init(),
    };
    let loss_fn = CrossEntropyLossConfig::new().init(&device);
    let mut rng = ChaCha20Rng::seed_from_u64(config.seed);
    let mut noise_rng = ChaCha20Rng::seed_from_u64(config.seed);
    noise_rng.set_stream(1);
    let mut order: Vec<usize> = (0..data.len()).collect();
    let steps_per_epoch = data.len().div_ceil(config.batch_size);
    for epoch in 0..config.epochs {
        order.shuffle(&mut rng);
        let batches: Vec<Vec<usize>> = match config.dp_sgd {
            // DP-SGD samples each example independently with rate batch/len (Poisson sampling),
            // which is what the RDP accountant of the sampled Gaussian assumes.
            Some(_) => {
                let rate = (config.batch_size as f64 / data.len() as f64).min(1.0);
                (0..steps_per_epoch)
                    .map(|_| {
                        (0..data.len())
                            .filter(|_| rng.random::<f64>() < rate)
                            .collect()
                    })
                    .collect()
            }
            None => order
                .chunks(config.batch_size)
                .map(<[usize]>::to_vec)
                .collect(),
        };
        for (step, batch) in batches.iter().enumerate() {
            // An empty Poisson batch releases nothing; skipping it is still accounted as a step.
            if batch.is_empty() {
                continue;
            }
            let loss_of = |model: &Model, rows: &[usize]| {
                let (inputs, targets) = batch_tensors(data, rows, &device);
                let mut loss = loss_fn.forward(model.forward(inputs, spec), targets);
                if let Some(mu) = config.proximal_mu.filter(|mu| *mu > 0.0) {
                    let mut proximal = ProximalTerm {
                        base: &base.values,
                        offset: 0,
                        device: &device,
                        sum: None,
                    };
                    model.visit(&mut proximal);
                    if let Some(sum) = proximal.sum {
                        loss = loss + sum.mul_scalar(mu / 2.0);
                    }
                }
                loss
            };
            let loss = loss_of(&model, batch);
            let loss_value: f32 = loss.clone().into_scalar();
            if !loss_value.is_finite() {
                return Err(FlError::Training(format!(
                    "loss diverged to {loss_value} at epoch {epoch}, step {step}"
                )));
            }
            let grads = match config.dp_sgd {
                None => GradientsParams::from_grads(loss.backward(), &model),
                Some(dp) => {
                    let mut clipped = ClippedSum::new(base.values.len(), dp.clip_norm);
                    for &row in batch {
                        clipped.add(
                            &model,
                            &GradientsParams::from_grads(
                                loss_of(&model, &[row]).backward(),
                                &model,
                            ),
                        );
                    }
                    clipped.noisy_mean(
                        &model,
                        dp.noise_multiplier,
                        config.batch_size,
                        &mut noise_rng,
                        &inner_device,
                    )
                }
            };
            model = optimizer.step(config.learning_rate, model, grads);
            progress(TrainProgress {
                epoch,
                step,
                steps_per_epoch,
                loss: loss_value,
            });
        }
    }
    Ok(Weights::from_model(&model.valid()))
}

/// Inputs `[batch, dim]` and integer targets for the given rows.
pub(crate) fn batch_tensors(
    data: &Dataset,
    rows: &[usize],
    device: &Device,
) -> (Tensor<2>, Tensor<1, Int>) {
    let dim = data.feature_dim();
    let mut features = Vec::with_capacity(rows.len() * dim);
    for &row in rows {
        features.extend_from_slice(data.row(row));
    }
    let labels: Vec<i64> = rows
        .iter()
        .map(|&row| i64::from(data.labels[row]))
        .collect();
    (
        Tensor::from_data(TensorData::new(features, [rows.len(), dim]), device),
        Tensor::from_data(TensorData::new(labels, [rows.len()]), device),
    )
}

/// Sums `||w - w_base||^2` over all parameters, inside the autodiff graph.
struct ProximalTerm<'a> {
    base: &'a [f32],
    offset: usize,
    device: &'a Device,
    sum: Option<Tensor<1>>,
}

impl ModuleVisitor for ProximalTerm<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let weights = param.val();
        let shape = weights.dims();
        let len: usize = shape.iter().product();
        let base = Tensor::<D>::from_data(
            TensorData::new(self.base[self.offset..self.offset + len].to_vec(), shape),
            self.device,
        );
        self.offset += len;
        let term = (weights - base).powi_scalar(2).sum();
        self.sum = Some(match self.sum.take() {
            Some(sum) => sum + term,
            None => term,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::digits;
    use crate::evaluate::evaluate;

    #[test]
    fn learns_digits_deterministically_with_each_optimizer() {
        let split = digits().unwrap();
        let device = Device::flex();
        for (spec, optimizer, lr) in [
            (ModelSpec::digits_mlp(), LocalOptimizer::Adam, 0.01),
            (
                ModelSpec::digits_cnn(),
                LocalOptimizer::Sgd { momentum: 0.9 },
                0.05,
            ),
        ] {
            let base = Weights::initial(&spec, 1);
            let config = TrainConfig {
                optimizer,
                epochs: 3,
                learning_rate: lr,
                proximal_mu: Some(0.01),
                ..TrainConfig::default()
            };
            let mut steps = 0;
            let trained =
                train(&spec, &base, &split.train, &config, &device, |_| steps += 1).unwrap();
            assert_eq!(steps, 3 * split.train.len().div_ceil(32));
            let before = evaluate(&spec, &base, &split.validation, &device).unwrap();
            let after = evaluate(&spec, &trained, &split.validation, &device).unwrap();
            assert!(
                after.accuracy > 0.85 && after.loss < before.loss,
                "{spec:?}: {before:?} -> {after:?}"
            );
            let again = train(&spec, &base, &split.train, &config, &device, |_| {}).unwrap();
            assert_eq!(trained, again, "same seed, same update");
        }
    }

    #[test]
    fn rejects_bad_configuration() {
        let split = digits().unwrap();
        let spec = ModelSpec::digits_mlp();
        let base = Weights::initial(&spec, 1);
        let bad = TrainConfig {
            learning_rate: f64::NAN,
            ..TrainConfig::default()
        };
        let err = train(&spec, &base, &split.train, &bad, &Device::flex(), |_| {}).unwrap_err();
        assert!(err.to_string().contains("learning rate"), "{err}");
        let wrong = ModelSpec {
            input: [1, 1, 10],
            ..spec
        };
        assert!(
            train(
                &wrong,
                &Weights::initial(&wrong, 1),
                &split.train,
                &TrainConfig::default(),
                &Device::flex(),
                |_| {}
            )
            .is_err()
        );
    }
}
