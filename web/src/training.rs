//! Training in the tab: on the GPU through WebGPU when the browser offers an adapter, else on the
//! CPU backend compiled to wasm. Steps yield to the page between them so that it stays responsive
//! and can draw progress.

use std::fmt;

use burn::tensor::{Device, Tensor};
use droppin_fl::FlError;
use droppin_fl::data::Dataset;
use droppin_fl::evaluate::evaluate;
use droppin_fl::model::{ModelSpec, Weights};
use droppin_fl::train::{LocalTrainer, TrainConfig, TrainProgress};

use crate::timer::yield_to_page;

/// Where training runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    WebGpu,
    Cpu,
}

impl Backend {
    /// The name used in URLs and results: `webgpu` or `cpu`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::WebGpu => "webgpu",
            Backend::Cpu => "cpu",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "webgpu" => Some(Backend::WebGpu),
            "cpu" => Some(Backend::Cpu),
            _ => None,
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::WebGpu => "WebGPU (GPU)",
            Backend::Cpu => "CPU (WebAssembly)",
        })
    }
}

/// The device training runs on, and why it is not the GPU when it is not.
#[derive(Clone, Debug)]
pub struct Chosen {
    pub backend: Backend,
    pub device: Device,
    /// Set when WebGPU was wanted but unavailable.
    pub fallback_reason: Option<String>,
}

/// WebGPU when `preferred` is WebGPU and an adapter exists; the CPU otherwise, with the reason.
pub async fn choose_device(preferred: Backend) -> Chosen {
    let cpu = |reason| Chosen {
        backend: Backend::Cpu,
        device: Device::flex(),
        fallback_reason: reason,
    };
    if preferred == Backend::Cpu {
        return cpu(None);
    }
    match gpu().await {
        Ok(device) => Chosen {
            backend: Backend::WebGpu,
            device,
            fallback_reason: None,
        },
        Err(error) => cpu(Some(error.to_string())),
    }
}

#[cfg(target_arch = "wasm32")]
async fn gpu() -> Result<Device, FlError> {
    droppin_fl::device::wgpu_async().await
}

#[cfg(not(target_arch = "wasm32"))]
async fn gpu() -> Result<Device, FlError> {
    droppin_fl::device::device("wgpu")
}

/// Reads a scalar without blocking (the only way on WebGPU).
pub async fn read_scalar(tensor: Tensor<1>) -> Result<f32, FlError> {
    tensor
        .into_scalar_async::<f32>()
        .await
        .map_err(|e| FlError::Training(format!("reading the loss back: {e:?}")))
}

/// One step's report: its progress, and at the end of each epoch the accuracy on `check`.
#[derive(Clone, Copy, Debug)]
pub struct StepReport {
    pub progress: TrainProgress,
    pub accuracy: Option<f64>,
}

/// Trains like the CLI node does, reading every loss asynchronously and letting the page run
/// between steps; `on_step` sees each step, and after each epoch the accuracy on `check`
/// (evaluated on the CPU, so it is the same figure whatever the training device).
pub async fn train_in_tab(
    spec: &ModelSpec,
    base: &Weights,
    data: &Dataset,
    config: &TrainConfig,
    device: &Device,
    check: Option<&Dataset>,
    mut on_step: impl FnMut(StepReport),
) -> Result<Weights, FlError> {
    let mut trainer = LocalTrainer::new(spec, base, data, config, device)?;
    while let Some(step) = trainer.step() {
        let loss = read_scalar(step.loss.clone()).await?;
        let progress = step.progress(loss)?;
        let accuracy = match check {
            Some(check) if progress.step + 1 == progress.steps_per_epoch => {
                let weights = trainer.current_weights_async().await?;
                Some(evaluate(spec, &weights, check, &Device::flex())?.accuracy)
            }
            _ => None,
        };
        on_step(StepReport { progress, accuracy });
        yield_to_page().await;
    }
    trainer.into_weights_async().await
}
