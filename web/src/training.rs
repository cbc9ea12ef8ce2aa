//! Training in the tab: on the GPU through WebGPU when the browser offers an adapter (the
//! engine's fused MLP kernels), else on burn's CPU backend compiled to wasm. Both walk the same
//! batches and compute the same step; they yield to the page between steps so that it stays
//! responsive and can draw progress.

use std::fmt;

use burn::tensor::{Device, Tensor};
use droppin_fl::FlError;
use droppin_fl::data::Dataset;
use droppin_fl::evaluate::evaluate;
use droppin_fl::gpu::{Gpu, MlpTrainer};
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

/// The engine training runs on, and why it is not the GPU when it is not.
#[derive(Clone, Debug)]
pub struct Chosen {
    /// The GPU, when WebGPU was wanted and an adapter answered.
    pub gpu: Option<Gpu>,
    /// Set when WebGPU was wanted but unavailable.
    pub fallback_reason: Option<String>,
}

impl Chosen {
    /// WebGPU when there is a GPU, else the CPU.
    pub fn backend(&self) -> Backend {
        match self.gpu {
            Some(_) => Backend::WebGpu,
            None => Backend::Cpu,
        }
    }
}

/// WebGPU when `preferred` is WebGPU and an adapter exists; the CPU otherwise, with the reason.
pub async fn choose_device(preferred: Backend) -> Chosen {
    if preferred == Backend::Cpu {
        return Chosen {
            gpu: None,
            fallback_reason: None,
        };
    }
    match Gpu::request().await {
        Ok(gpu) => Chosen {
            gpu: Some(gpu),
            fallback_reason: None,
        },
        Err(error) => Chosen {
            gpu: None,
            fallback_reason: Some(error.to_string()),
        },
    }
}

/// Reads a scalar without blocking (the only way in a browser).
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

/// A node's local training on the chosen engine, a step at a time.
pub enum TabTrainer<'a> {
    Gpu(Box<MlpTrainer>),
    Cpu(Box<LocalTrainer<'a>>),
}

impl<'a> TabTrainer<'a> {
    /// The GPU kernels when `chosen` has a GPU and they cover the model and options (the MLP,
    /// without DP-SGD); the CPU otherwise. Also returns what to tell the visitor.
    pub async fn new(
        chosen: &Chosen,
        spec: &'a ModelSpec,
        base: &'a Weights,
        data: &'a Dataset,
        config: &TrainConfig,
    ) -> Result<(Self, String), FlError> {
        let mut reason = chosen
            .fallback_reason
            .as_ref()
            .map(|r| format!("no WebGPU adapter: {r}"));
        if let Some(gpu) = &chosen.gpu {
            match MlpTrainer::new(gpu, spec, base, data, config).await {
                Ok(trainer) => {
                    let note = format!("Training on {}: {}.", Backend::WebGpu, gpu.adapter);
                    return Ok((TabTrainer::Gpu(Box::new(trainer)), note));
                }
                Err(FlError::Gpu(why)) => reason = Some(why),
                Err(other) => return Err(other),
            }
        }
        let trainer = LocalTrainer::new(spec, base, data, config, &Device::flex())?;
        let note = match reason {
            Some(reason) => format!("Training on {} ({reason}).", Backend::Cpu),
            None => format!("Training on {}.", Backend::Cpu),
        };
        Ok((TabTrainer::Cpu(Box::new(trainer)), note))
    }

    /// Where the steps run.
    pub fn backend(&self) -> Backend {
        match self {
            TabTrainer::Gpu(_) => Backend::WebGpu,
            TabTrainer::Cpu(_) => Backend::Cpu,
        }
    }

    /// Runs the next step and reads its loss, or returns `None` once every epoch is done.
    pub async fn step(&mut self) -> Option<Result<TrainProgress, FlError>> {
        match self {
            TabTrainer::Gpu(trainer) => {
                let batch = trainer.step()?;
                let steps_per_epoch = trainer.schedule().steps_per_epoch();
                Some(trainer.loss().await.and_then(|loss| {
                    TrainProgress::checked(batch.epoch, batch.step, steps_per_epoch, loss)
                }))
            }
            TabTrainer::Cpu(trainer) => {
                let step = trainer.step()?;
                Some(
                    read_scalar(step.loss.clone())
                        .await
                        .and_then(|loss| step.progress(loss)),
                )
            }
        }
    }

    /// The weights so far, read back without blocking.
    pub async fn weights(&self) -> Result<Weights, FlError> {
        match self {
            TabTrainer::Gpu(trainer) => trainer.weights().await,
            TabTrainer::Cpu(trainer) => trainer.current_weights_async().await,
        }
    }

    /// Trains to the end; `on_step` sees each step, and after each epoch the accuracy on `check`
    /// (evaluated on the CPU, so it is the same figure whatever the engine).
    pub async fn run(
        mut self,
        spec: &ModelSpec,
        check: Option<&Dataset>,
        mut on_step: impl FnMut(StepReport),
    ) -> Result<Weights, FlError> {
        while let Some(progress) = self.step().await {
            let progress = progress?;
            let accuracy = match check {
                Some(check) if progress.step + 1 == progress.steps_per_epoch => {
                    let weights = self.weights().await?;
                    Some(evaluate(spec, &weights, check, &Device::flex())?.accuracy)
                }
                _ => None,
            };
            on_step(StepReport { progress, accuracy });
            yield_to_page().await;
        }
        self.weights().await
    }
}
