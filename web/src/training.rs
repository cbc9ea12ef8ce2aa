//! Training in the tab: on the GPU through WebGPU when the browser offers an adapter (the
//! engine's fused kernels for the plain MLP, burn's WebGPU backend in a worker for any other
//! model), else on burn's CPU backend compiled to wasm. All walk the same batches and compute the
//! same step; the page yields between steps so that it stays responsive and draws progress.

use std::fmt;

use burn::tensor::Device;
use droppin_fl::FlError;
use droppin_fl::data::Dataset;
use droppin_fl::evaluate::evaluate;
use droppin_fl::gpu::{Gpu, MlpTrainer};
use droppin_fl::model::{ModelSpec, Weights};
use droppin_fl::train::{LocalTrainer, TrainConfig, TrainProgress};

use droppin_node::trainer::{TrainerKind, choose_trainer};
use droppin_web_trainer::clock::now_ms;
use droppin_web_trainer::protocol::TimedStep;

use crate::timer::yield_to_page;
use crate::worker::WorkerTrainer;

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

/// One step's report: its progress, and at the end of each epoch the accuracy on `check`.
#[derive(Clone, Copy, Debug)]
pub struct StepReport {
    pub progress: TrainProgress,
    pub accuracy: Option<f64>,
}

/// A node's local training on the chosen engine, a step at a time.
pub enum TabTrainer<'a> {
    /// The engine's fused kernels (the plain MLP), on this thread.
    FusedKernels(Box<MlpTrainer>),
    /// burn's WebGPU backend, in the training worker.
    Worker(Box<WorkerTrainer>),
    /// burn's CPU backend, on this thread.
    Cpu(Box<LocalTrainer<'a>>),
}

impl<'a> TabTrainer<'a> {
    /// The engine the node library picks for the model ([`choose_trainer`]) when `chosen` has a
    /// GPU; the CPU when it has none, or when the GPU engine refuses (DP-SGD on the fused
    /// kernels) or does not start. Also returns what to tell the visitor.
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
            let started = match choose_trainer(spec, true) {
                TrainerKind::FusedKernels => MlpTrainer::new(gpu, spec, base, data, config)
                    .await
                    .map(|trainer| TabTrainer::FusedKernels(Box::new(trainer))),
                _ => WorkerTrainer::start(spec, base, data, config)
                    .await
                    .map(|trainer| TabTrainer::Worker(Box::new(trainer))),
            };
            match started {
                Ok(trainer) => {
                    let note = format!(
                        "Training on {} with {}: {}.",
                        Backend::WebGpu,
                        trainer.kind().describe(),
                        gpu.adapter
                    );
                    return Ok((trainer, note));
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
            TabTrainer::FusedKernels(_) | TabTrainer::Worker(_) => Backend::WebGpu,
            TabTrainer::Cpu(_) => Backend::Cpu,
        }
    }

    /// Which engine runs the steps.
    pub fn kind(&self) -> TrainerKind {
        match self {
            TabTrainer::FusedKernels(_) => TrainerKind::FusedKernels,
            TabTrainer::Worker(_) => TrainerKind::BurnGpu,
            TabTrainer::Cpu(_) => TrainerKind::Cpu,
        }
    }

    /// Runs the next step and reads its loss, or returns `None` once every epoch is done. The
    /// step's time is measured where it ran, loss read back included.
    pub async fn step(&mut self) -> Option<Result<TimedStep, FlError>> {
        let start = now_ms();
        let progress = match self {
            TabTrainer::FusedKernels(trainer) => {
                let batch = trainer.step()?;
                let steps_per_epoch = trainer.schedule().steps_per_epoch();
                trainer.loss().await.and_then(|loss| {
                    TrainProgress::checked(batch.epoch, batch.step, steps_per_epoch, loss)
                })
            }
            TabTrainer::Worker(trainer) => return trainer.step().await,
            TabTrainer::Cpu(trainer) => trainer.step()?.read_progress().await,
        };
        Some(progress.map(|progress| TimedStep {
            progress,
            ms: now_ms() - start,
        }))
    }

    /// The weights so far (at an epoch's end for the worker), read back without blocking.
    pub async fn weights(&self) -> Result<Weights, FlError> {
        match self {
            TabTrainer::FusedKernels(trainer) => trainer.weights().await,
            TabTrainer::Worker(trainer) => trainer.weights(),
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
        while let Some(step) = self.step().await {
            let progress = step?.progress;
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
