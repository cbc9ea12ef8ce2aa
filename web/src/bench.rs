//! The benchmark mode (`?bench=mnist&backend=webgpu`): a fixed training workload on the chosen
//! backend, timed step by step, published as JSON for a WebDriver script to read. The same
//! workloads run on TensorFlow.js in `benchmarks/tfjs` for comparison.

use burn::tensor::{Device, Int, Tensor};
use droppin_fl::FlError;
use droppin_fl::data::Dataset;
use droppin_fl::gpu::MlpTrainer;
use droppin_fl::model::{ModelSpec, Weights};
use droppin_fl::train::{LocalOptimizer, LocalTrainer, TrainConfig};
use droppin_task::catalog;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde::Serialize;

use crate::timer::yield_to_page;
use crate::training::{Backend, Chosen, read_scalar};

/// Warm-up steps; the first is reported on its own (it pays for whatever shader compilation and
/// buffer setup the browser defers to first use).
pub const WARMUP_STEPS: usize = 5;
/// Timed steps after the warm-up.
pub const TIMED_STEPS: usize = 50;
/// Distinct batches cycled through (placed on the device before timing starts).
const BATCHES: usize = 4;

/// A fixed workload: model, batch size, seeded synthetic data.
#[derive(Clone, Debug, PartialEq)]
pub struct Workload {
    pub name: &'static str,
    pub spec: ModelSpec,
    pub batch: usize,
}

impl Workload {
    /// `mnist`: MLP 784 -> 128 (ReLU) -> 10, batch 64; `digits`: MLP 64 -> 64 (ReLU) -> 10,
    /// batch 32; `cifar10-cnn` and `char-lm`: the catalog tasks' models at their recipes' batch
    /// sizes.
    pub fn parse(name: &str) -> Option<Self> {
        let (name, spec, batch) = match name {
            "mnist" => ("mnist", ModelSpec::mlp(vec![784], 128, 10), 64),
            "digits" => ("digits", ModelSpec::digits_mlp(), 32),
            "cifar10-cnn" | "char-lm" => {
                let task = catalog::get(name).ok()?;
                let name = if name == "char-lm" {
                    "char-lm"
                } else {
                    "cifar10-cnn"
                };
                let batch = task.recipe.batch_size as usize;
                (name, droppin_fl::task::model_spec(&task).ok()?, batch)
            }
            _ => return None,
        };
        Some(Self { name, spec, batch })
    }

    /// `BATCHES` batches of seeded uniform features (token ids for a text model) and labels.
    pub fn synthetic_data(&self) -> Result<Dataset, FlError> {
        let mut rng = ChaCha20Rng::seed_from_u64(42);
        let rows = self.batch * BATCHES;
        let (dim, classes) = (self.spec.input_dim(), self.spec.classes);
        let features = (0..rows * dim)
            .map(|_| {
                if self.spec.is_text() {
                    rng.random_range(0..classes) as f32
                } else {
                    rng.random::<f32>()
                }
            })
            .collect();
        let labels = (0..rows)
            .map(|_| rng.random_range(0..classes as u8))
            .collect();
        Dataset::new(features, labels, self.spec.input.clone(), classes)
    }
}

/// What one run measured: the JSON the benchmark script reads.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BenchResult {
    pub workload: &'static str,
    pub backend: &'static str,
    pub batch: usize,
    /// The first warm-up step, with what the browser defers to first use.
    pub first_step_ms: f64,
    pub median_ms_per_step: f64,
    pub samples_per_s: f64,
    pub loss_first: f32,
    pub loss_last: f32,
    pub timed_steps: usize,
}

/// Runs `workload` on `chosen`: Adam at 1e-3, batches already on the device, each step timed
/// until its loss has been read back. `now_ms` is the clock (`performance.now()` in the browser).
pub async fn run(
    workload: Workload,
    chosen: &Chosen,
    now_ms: impl Fn() -> f64,
) -> Result<BenchResult, FlError> {
    let data = workload.synthetic_data()?;
    let base = Weights::initial(&workload.spec, 1);
    let config = TrainConfig {
        optimizer: LocalOptimizer::Adam,
        epochs: 1,
        batch_size: workload.batch,
        learning_rate: 1e-3,
        ..TrainConfig::default()
    };
    let rows: Vec<Vec<usize>> = (0..data.len())
        .collect::<Vec<_>>()
        .chunks(workload.batch)
        .map(<[usize]>::to_vec)
        .collect();
    let mut stepper = Stepper::new(chosen, &workload, &base, &data, &config, &rows).await?;
    let mut times = Vec::with_capacity(WARMUP_STEPS + TIMED_STEPS);
    let mut losses = Vec::with_capacity(WARMUP_STEPS + TIMED_STEPS);
    for step in 0..WARMUP_STEPS + TIMED_STEPS {
        let start = now_ms();
        let loss = stepper.step(step % rows.len()).await?;
        times.push(now_ms() - start);
        losses.push(loss);
        yield_to_page().await;
    }
    let median_ms = median(&mut times[WARMUP_STEPS..].to_vec());
    Ok(BenchResult {
        workload: workload.name,
        backend: chosen.backend().name(),
        batch: workload.batch,
        first_step_ms: times[0],
        median_ms_per_step: median_ms,
        samples_per_s: workload.batch as f64 * 1_000.0 / median_ms,
        loss_first: losses[0],
        loss_last: *losses.last().expect("at least one step"),
        timed_steps: TIMED_STEPS,
    })
}

/// The benchmark's steps on either engine, with the data on its device before timing starts:
/// the samples in a GPU buffer (a step sends its row indices), or the batches as CPU tensors.
enum Stepper<'a> {
    Gpu {
        trainer: Box<MlpTrainer>,
        batches: Vec<Vec<usize>>,
    },
    Cpu {
        trainer: Box<LocalTrainer<'a>>,
        batches: Vec<(Tensor<2>, Tensor<1, Int>)>,
    },
}

impl<'a> Stepper<'a> {
    async fn new(
        chosen: &Chosen,
        workload: &'a Workload,
        base: &'a Weights,
        data: &'a Dataset,
        config: &TrainConfig,
        rows: &[Vec<usize>],
    ) -> Result<Self, FlError> {
        let spec = &workload.spec;
        Ok(match &chosen.gpu {
            Some(gpu) => Stepper::Gpu {
                trainer: Box::new(MlpTrainer::new(gpu, spec, base, data, config).await?),
                batches: rows.to_vec(),
            },
            None => {
                let trainer = LocalTrainer::new(spec, base, data, config, &Device::flex())?;
                let batches = rows.iter().map(|rows| trainer.device_batch(rows)).collect();
                Stepper::Cpu {
                    trainer: Box::new(trainer),
                    batches,
                }
            }
        })
    }

    /// One step on batch `index`; its loss once read back.
    async fn step(&mut self, index: usize) -> Result<f32, FlError> {
        match self {
            Stepper::Gpu { trainer, batches } => {
                trainer.step_on(&batches[index])?;
                trainer.loss().await
            }
            Stepper::Cpu { trainer, batches } => {
                let (inputs, targets) = batches[index].clone();
                read_scalar(trainer.step_on(inputs, targets)).await
            }
        }
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    }
}

/// The backend a URL asks for (`backend=cpu|webgpu`, WebGPU by default).
pub fn requested_backend(name: Option<&str>) -> Backend {
    name.and_then(Backend::parse).unwrap_or(Backend::WebGpu)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workloads_match_their_description() {
        let mnist = Workload::parse("mnist").unwrap();
        assert_eq!(mnist.spec.input_dim(), 784);
        assert_eq!(
            Weights::initial(&mnist.spec, 1).values.len(),
            784 * 128 + 128 + 128 * 10 + 10
        );
        assert_eq!(Workload::parse("digits").unwrap().batch, 32);
        let cifar = Workload::parse("cifar10-cnn").unwrap();
        assert_eq!(
            (cifar.spec.input.as_slice(), cifar.batch),
            (&[3, 32, 32][..], 64)
        );
        let text = Workload::parse("char-lm").unwrap();
        assert!(text.spec.is_text());
        let data = text.synthetic_data().unwrap();
        assert!(
            data.features
                .iter()
                .all(|&id| id < 37.0 && id.fract() == 0.0)
        );
        assert!(Workload::parse("cifar").is_none());
        assert_eq!(median(&mut [3.0, 1.0, 2.0, 10.0]), 2.5);
    }
}
