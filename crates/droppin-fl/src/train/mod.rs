//! Local training on a node's private data: SGD or Adam, mini-batches, optional FedProx.

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::{
    AdamConfig, GradientsParams, ModuleOptimizer, SgdConfig, momentum::MomentumConfig,
};
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};

use crate::FlError;
use crate::data::Dataset;
use crate::model::{Model, ModelSpec, Weights};
use crate::privacy::{ClippedSum, DpSgd};

mod loss;
mod schedule;
pub use schedule::{BatchSchedule, PlannedBatch};

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

impl TrainConfig {
    /// Refuses a configuration that cannot train `spec` on `data`.
    pub fn check(&self, spec: &ModelSpec, data: &Dataset) -> Result<(), FlError> {
        if data.is_empty() || self.batch_size == 0 || self.epochs == 0 {
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
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return Err(FlError::Training(format!(
                "learning rate must be positive, got {}",
                self.learning_rate
            )));
        }
        Ok(())
    }
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
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
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
    let mut trainer = LocalTrainer::new(spec, base, data, config, device)?;
    while let Some(step) = trainer.step() {
        let loss = step.loss.clone().into_scalar();
        progress(step.progress(loss)?);
    }
    Ok(trainer.into_weights())
}

/// One optimizer step that has run; its loss stays on the device until the caller reads it
/// (synchronously on the host, asynchronously in the browser).
pub struct TrainStep {
    pub epoch: usize,
    pub step: usize,
    pub steps_per_epoch: usize,
    /// The batch's loss before the step.
    pub loss: Tensor<1>,
}

impl TrainStep {
    /// The progress report for this step once its loss has been read.
    pub fn progress(&self, loss: f32) -> Result<TrainProgress, FlError> {
        TrainProgress::checked(self.epoch, self.step, self.steps_per_epoch, loss)
    }

    /// Reads the loss back without blocking (the only way in a browser) and returns the report.
    pub async fn read_progress(&self) -> Result<TrainProgress, FlError> {
        let loss = self
            .loss
            .clone()
            .into_scalar_async::<f32>()
            .await
            .map_err(|e| FlError::Training(format!("reading the loss back: {e:?}")))?;
        self.progress(loss)
    }
}

impl TrainProgress {
    /// A step's report; a diverged loss (NaN or infinite) is refused, since an update trained
    /// through it is junk.
    pub fn checked(
        epoch: usize,
        step: usize,
        steps_per_epoch: usize,
        loss: f32,
    ) -> Result<Self, FlError> {
        if !loss.is_finite() {
            return Err(FlError::Training(format!(
                "loss diverged to {loss} at epoch {epoch}, step {step}"
            )));
        }
        Ok(Self {
            epoch,
            step,
            steps_per_epoch,
            loss,
        })
    }
}

/// Local training one optimizer step at a time, so that a browser can yield between steps and a
/// caller chooses how to read losses and weights back from the device. [`train`] drives it to the
/// end on the host.
pub struct LocalTrainer<'a> {
    spec: &'a ModelSpec,
    base: &'a Weights,
    data: &'a Dataset,
    config: TrainConfig,
    inner_device: Device,
    device: Device,
    model: Option<Model>,
    optimizer: ModuleOptimizer,
    noise_rng: ChaCha20Rng,
    schedule: BatchSchedule,
}

impl<'a> LocalTrainer<'a> {
    /// Checks the configuration and places `base` on `device` (autodiff is enabled on it here).
    pub fn new(
        spec: &'a ModelSpec,
        base: &'a Weights,
        data: &'a Dataset,
        config: &TrainConfig,
        device: &Device,
    ) -> Result<Self, FlError> {
        config.check(spec, data)?;
        // Dropout draws its masks from the device's generator: seeded, the same seed, data and
        // base give the same update.
        device.seed(config.seed);
        let inner_device = device.clone();
        let device = device.clone().autodiff();
        let model = base.to_model(spec, &device)?.train();
        let optimizer = match config.optimizer {
            LocalOptimizer::Sgd { momentum } if momentum > 0.0 => SgdConfig::new()
                .with_momentum(Some(MomentumConfig::new().with_momentum(momentum)))
                .init(),
            LocalOptimizer::Sgd { .. } => SgdConfig::new().init(),
            LocalOptimizer::Adam => AdamConfig::new().init(),
        };
        let mut noise_rng = ChaCha20Rng::seed_from_u64(config.seed);
        noise_rng.set_stream(1);
        Ok(Self {
            spec,
            base,
            data,
            config: *config,
            inner_device,
            device,
            model: Some(model),
            optimizer,
            noise_rng,
            schedule: BatchSchedule::new(data.len(), config),
        })
    }

    /// The batches this trainer walks.
    pub fn schedule(&self) -> &BatchSchedule {
        &self.schedule
    }

    /// Runs the next optimizer step, or `None` once every epoch is done.
    pub fn step(&mut self) -> Option<TrainStep> {
        let batch = self.schedule.next()?;
        let loss = match self.config.dp_sgd {
            None => {
                let (inputs, targets) = self.device_batch(&batch.rows);
                self.step_on(inputs, targets)
            }
            Some(dp) => self.dp_step(&batch.rows, dp),
        };
        Some(TrainStep {
            epoch: batch.epoch,
            step: batch.step,
            steps_per_epoch: self.schedule.steps_per_epoch(),
            loss,
        })
    }

    /// The rows' inputs `[batch, dim]` and targets, on the training device.
    pub fn device_batch(&self, rows: &[usize]) -> (Tensor<2>, Tensor<1, Int>) {
        batch_tensors(
            self.data,
            rows,
            self.spec.outputs_per_sample(),
            &self.device,
        )
    }

    /// One gradient step on a batch already on the device; returns its loss before the step.
    pub fn step_on(&mut self, inputs: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
        let model = self
            .model
            .take()
            .expect("the model is back after every step");
        let loss = self.loss_on(&model, inputs, targets);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        self.model = Some(self.optimizer.step(self.config.learning_rate, model, grads));
        loss
    }

    /// A DP-SGD step: one backward pass per example, clipped, summed and noised.
    fn dp_step(&mut self, batch: &[usize], dp: DpSgd) -> Tensor<1> {
        let model = self
            .model
            .take()
            .expect("the model is back after every step");
        let (inputs, targets) = self.device_batch(batch);
        let loss = self.loss_on(&model, inputs, targets);
        let mut clipped = ClippedSum::new(self.base.values.len(), dp.clip_norm);
        for &row in batch {
            let (inputs, targets) = self.device_batch(&[row]);
            let example = self.loss_on(&model, inputs, targets);
            clipped.add(
                &model,
                &GradientsParams::from_grads(example.backward(), &model),
            );
        }
        let grads = clipped.noisy_mean(
            &model,
            dp.noise_multiplier,
            self.config.batch_size,
            &mut self.noise_rng,
            &self.inner_device,
        );
        self.model = Some(self.optimizer.step(self.config.learning_rate, model, grads));
        loss
    }

    /// The weights so far, read back without blocking (progress checks between epochs).
    pub async fn current_weights_async(&self) -> Result<Weights, FlError> {
        let model = self
            .model
            .clone()
            .expect("the model is back after every step");
        Weights::from_model_async(&model.valid()).await
    }

    /// The trained weights, read back synchronously.
    pub fn into_weights(self) -> Weights {
        Weights::from_model(&self.trained())
    }

    /// The trained weights, read back without blocking (the browser's WebGPU device).
    pub async fn into_weights_async(self) -> Result<Weights, FlError> {
        Weights::from_model_async(&self.trained()).await
    }

    fn trained(self) -> Model {
        self.model
            .expect("the model is back after every step")
            .valid()
    }

    /// The batch's loss, with the FedProx proximal term when configured.
    fn loss_on(&self, model: &Model, inputs: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
        let mut loss = loss::cross_entropy(model.forward(inputs, self.spec), targets);
        if let Some(mu) = self.config.proximal_mu.filter(|mu| *mu > 0.0) {
            let mut proximal = ProximalTerm {
                base: &self.base.values,
                offset: 0,
                device: &self.device,
                sum: None,
            };
            model.visit(&mut proximal);
            if let Some(sum) = proximal.sum {
                loss = loss + sum.mul_scalar(mu / 2.0);
            }
        }
        loss
    }
}

/// Inputs `[batch, dim]` and integer targets for the given rows, `per_sample` targets each (see
/// [`Dataset::targets`]).
pub(crate) fn batch_tensors(
    data: &Dataset,
    rows: &[usize],
    per_sample: usize,
    device: &Device,
) -> (Tensor<2>, Tensor<1, Int>) {
    let dim = data.feature_dim();
    let mut features = Vec::with_capacity(rows.len() * dim);
    for &row in rows {
        features.extend_from_slice(data.row(row));
    }
    let targets: Vec<i64> = rows
        .iter()
        .flat_map(|&row| data.targets(row, per_sample))
        .map(|target| target as i64)
        .collect();
    (
        Tensor::from_data(TensorData::new(features, [rows.len(), dim]), device),
        Tensor::from_data(TensorData::new(targets, [rows.len() * per_sample]), device),
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
            input: vec![10],
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
