//! The benchmark mode (`?bench=mnist&backend=webgpu[&steps=N]`): a fixed training workload
//! ([`Workload`]) on the engine a node would use, timed step by step, published as JSON for a
//! WebDriver script to read. The same workloads run on TensorFlow.js in `benchmarks/tfjs` for
//! comparison.

use droppin_fl::FlError;
use droppin_fl::model::Weights;
use droppin_fl::train::{LocalOptimizer, TrainConfig};
pub use droppin_fl::workload::Workload;
use serde::Serialize;

use crate::timer::yield_to_page;
use crate::training::{Backend, Chosen, TabTrainer};

/// Warm-up steps; the first is reported on its own (it pays for whatever shader compilation and
/// buffer setup the browser defers to first use).
pub const WARMUP_STEPS: usize = 5;
/// Timed steps after the warm-up, unless the URL asks for fewer (`steps=`); the last epoch is
/// always finished.
pub const TIMED_STEPS: usize = 50;
/// Batches of samples, shuffled again each epoch.
const BATCHES: usize = 4;

/// What one run measured: the JSON the benchmark script reads.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BenchResult {
    pub workload: &'static str,
    pub backend: &'static str,
    /// The engine that ran the steps: the fused kernels, burn's GPU backend (in the training
    /// worker) or burn's CPU backend.
    pub engine: &'static str,
    pub batch: usize,
    /// The first warm-up step, with what the browser defers to first use.
    pub first_step_ms: f64,
    pub median_ms_per_step: f64,
    pub samples_per_s: f64,
    pub loss_first: f32,
    pub loss_last: f32,
    pub timed_steps: usize,
    /// How far training moved the weights (L2): the same on every engine, up to rounding.
    pub update_norm: f64,
}

/// Runs `workload` on the engine `chosen` picks for it, as a node trains: Adam at 1e-3, whole
/// epochs over the batches, at least `timed_steps` after the warm-up, each step building its
/// batch from the samples and timed where it runs until its loss has been read back. Fails when
/// the engine fell back from the GPU to the CPU.
pub async fn run(
    workload: Workload,
    chosen: &Chosen,
    timed_steps: usize,
) -> Result<BenchResult, FlError> {
    let data = workload.synthetic_data(BATCHES)?;
    let base = Weights::initial(&workload.spec, 1);
    let config = TrainConfig {
        optimizer: LocalOptimizer::Adam,
        epochs: (WARMUP_STEPS + timed_steps).div_ceil(BATCHES),
        batch_size: workload.batch,
        learning_rate: 1e-3,
        ..TrainConfig::default()
    };
    let (mut trainer, note) =
        TabTrainer::new(chosen, &workload.spec, &base, &data, &config).await?;
    if trainer.backend() != chosen.backend() {
        return Err(FlError::Gpu(note));
    }
    let mut times = Vec::new();
    let mut losses = Vec::new();
    while let Some(step) = trainer.step().await {
        let step = step?;
        times.push(step.ms);
        losses.push(step.progress.loss);
        yield_to_page().await;
    }
    let update_norm = trainer
        .weights()
        .await?
        .delta_from(&base)
        .iter()
        .map(|&d| f64::from(d).powi(2))
        .sum::<f64>()
        .sqrt();
    let median_ms = median(&mut times[WARMUP_STEPS..].to_vec());
    Ok(BenchResult {
        workload: workload.name,
        backend: trainer.backend().name(),
        engine: trainer.kind().describe(),
        batch: workload.batch,
        first_step_ms: times[0],
        median_ms_per_step: median_ms,
        samples_per_s: workload.batch as f64 * 1_000.0 / median_ms,
        loss_first: losses[0],
        loss_last: *losses.last().expect("at least one step"),
        timed_steps: times.len() - WARMUP_STEPS,
        update_norm,
    })
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

/// The timed steps a URL asks for (`steps=N`, at least 1), [`TIMED_STEPS`] by default.
pub fn timed_steps(steps: Option<&str>) -> usize {
    steps
        .and_then(|steps| steps.parse().ok())
        .filter(|&steps| steps > 0)
        .unwrap_or(TIMED_STEPS)
}

/// The backend a URL asks for (`backend=cpu|webgpu`, WebGPU by default).
pub fn requested_backend(name: Option<&str>) -> Backend {
    name.and_then(Backend::parse).unwrap_or(Backend::WebGpu)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_step_counts_read_as_documented() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0, 10.0]), 2.5);
        assert_eq!(timed_steps(Some("3")), 3);
        assert_eq!(timed_steps(Some("0")), TIMED_STEPS);
        assert_eq!(timed_steps(None), TIMED_STEPS);
    }
}
