//! The MLP's optimizer step as six compute shaders (seven with FedProx) (`mlp.wgsl`), submitted together.

use wgpu::util::DeviceExt;

use super::Gpu;
use crate::FlError;
use crate::data::Dataset;
use crate::model::{ModelKind, ModelSpec, TensorSpec, Weights};
use crate::train::{BatchSchedule, LocalOptimizer, PlannedBatch, TrainConfig};

/// burn's Adam defaults, which the CPU trainer uses.
const ADAM_BETA_1: f32 = 0.9;
const ADAM_BETA_2: f32 = 0.999;
const ADAM_EPSILON: f32 = 1e-5;
/// burn's momentum dampening.
const DAMPENING: f64 = 0.1;
/// Invocations per workgroup, as in the shaders.
const GROUP: u32 = 64;
/// Rows and columns of the block each invocation of the big products computes, as in the shaders.
const TILE: usize = 4;
/// Parameters per partial sum of FedProx's term, as in the shaders.
const PROXIMAL_CHUNK: usize = GROUP as usize * 16;

/// The per-step values the shaders read (`Step` in `mlp.wgsl`).
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct StepUniform {
    rows: u32,
    first: u32,
    learning_rate: f32,
    mu: f32,
    beta_1: f32,
    beta_2: f32,
    adam_factor: f32,
    adam_epsilon: f32,
    momentum: f32,
    gradient_share: f32,
    pad: [u32; 2],
}

/// One step's pipelines and how many workgroups each gets.
struct Pass {
    pipeline: wgpu::ComputePipeline,
    workgroups: u32,
}

/// Trains an MLP on the GPU, one optimizer step per [`MlpTrainer::step`], walking the same
/// [`BatchSchedule`] as the CPU trainer: the samples are uploaded once, a step sends only its
/// row indices, and nothing comes back but the loss, when asked.
pub struct MlpTrainer {
    gpu: Gpu,
    layout: Vec<TensorSpec>,
    config: TrainConfig,
    schedule: BatchSchedule,
    passes: Vec<Pass>,
    bind_group: wgpu::BindGroup,
    batch_rows: wgpu::Buffer,
    params: wgpu::Buffer,
    scratch: wgpu::Buffer,
    uniform: wgpu::Buffer,
    loss_staging: wgpu::Buffer,
    loss_offset: wgpu::BufferAddress,
    /// Set while a loss read waits; cleared when it ends either way.
    loss_read_pending: bool,
    batch_capacity: usize,
    samples: usize,
    /// Optimizer steps taken (Adam's bias correction counts them).
    time: i32,
}

impl MlpTrainer {
    /// Uploads `base`, the samples of `data` and the optimizer state, and builds the pipelines.
    /// Refuses what the kernels do not compute (a CNN, DP-SGD's per-example clipping), and
    /// reports what the device refuses, so that the caller can train on the CPU instead.
    pub async fn new(
        gpu: &Gpu,
        spec: &ModelSpec,
        base: &Weights,
        data: &Dataset,
        config: &TrainConfig,
    ) -> Result<Self, FlError> {
        let validation = gpu.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let memory = gpu.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let trainer = Self::build(gpu, spec, base, data, config);
        for scope in [memory, validation] {
            if let Some(error) = scope.pop().await {
                return Err(FlError::Gpu(format!(
                    "the device refused the kernels: {error}"
                )));
            }
        }
        trainer
    }

    fn build(
        gpu: &Gpu,
        spec: &ModelSpec,
        base: &Weights,
        data: &Dataset,
        config: &TrainConfig,
    ) -> Result<Self, FlError> {
        config.check(spec, data)?;
        let Some((ModelKind::Mlp, hidden)) = spec.standard() else {
            return Err(FlError::Gpu(
                "the GPU kernels train the standard MLP (flatten, dense, relu, dense)".into(),
            ));
        };
        if config.dp_sgd.is_some() {
            return Err(FlError::Gpu(
                "DP-SGD clips every example's gradient on its own, which runs on the CPU".into(),
            ));
        }
        if base.layout != Weights::layout_of(spec) {
            return Err(FlError::Model(
                "weights do not match the model spec's tensor layout".into(),
            ));
        }
        if let Some(&bad) = data
            .labels
            .iter()
            .find(|&&l| usize::from(l) >= spec.classes)
        {
            return Err(FlError::Data(format!(
                "label {bad} is not below the model's {} classes",
                spec.classes
            )));
        }
        let (inputs, classes) = (spec.input_dim(), spec.classes);
        let batch = config.batch_size.min(data.len());
        let params_len = base.values.len();
        let device = &gpu.device;
        let proximal_partials = params_len.div_ceil(PROXIMAL_CHUNK);
        let scratch_len = batch * (2 * hidden + classes) + proximal_partials + 1;
        // Checked before any buffer exists: natively, creating one past a limit panics.
        let limits = device.limits();
        let limit = limits
            .max_storage_buffer_binding_size
            .min(limits.max_buffer_size);
        for (what, floats) in [
            ("the samples", data.features.len()),
            ("the optimizer state", 4 * params_len),
            ("the activations", scratch_len),
        ] {
            let bytes = (floats * 4) as u64;
            if bytes > limit {
                return Err(FlError::Gpu(format!(
                    "{what} ({} MB) exceed the GPU's buffer limit ({} MB)",
                    bytes >> 20,
                    limit >> 20
                )));
            }
        }

        let storage = |label: &str, contents: &[u8], usage: wgpu::BufferUsages| {
            device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents,
                usage: wgpu::BufferUsages::STORAGE | usage,
            })
        };
        let labels: Vec<u32> = data.labels.iter().map(|&l| u32::from(l)).collect();
        let samples = storage(
            "samples",
            bytemuck::cast_slice(&data.features),
            wgpu::BufferUsages::empty(),
        );
        let labels = storage(
            "labels",
            bytemuck::cast_slice(&labels),
            wgpu::BufferUsages::empty(),
        );
        let batch_rows = storage(
            "batch rows",
            &vec![0; batch * 4],
            wgpu::BufferUsages::COPY_DST,
        );
        let params = storage(
            "parameters",
            bytemuck::cast_slice(&base.values),
            wgpu::BufferUsages::COPY_SRC,
        );
        // gradient | first moment | second moment | base model
        let mut state = vec![0f32; 3 * params_len];
        state.extend_from_slice(&base.values);
        let state = storage(
            "optimizer state",
            bytemuck::cast_slice(&state),
            wgpu::BufferUsages::empty(),
        );
        let scratch = storage(
            "activations",
            &vec![0; scratch_len * 4],
            wgpu::BufferUsages::COPY_SRC,
        );
        let uniform = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("step"),
            size: std::mem::size_of::<StepUniform>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let loss_staging = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("loss readback"),
            size: 4,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });

        let storage_entry = |binding, read_only| wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Storage { read_only },
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        };
        let mut entries: Vec<wgpu::BindGroupLayoutEntry> =
            (0..6).map(|b| storage_entry(b, b < 3)).collect();
        entries.push(wgpu::BindGroupLayoutEntry {
            binding: 6,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Uniform,
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        });
        let bind_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("mlp"),
            entries: &entries,
        });
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("mlp"),
            layout: &bind_layout,
            entries: &[
                &samples,
                &labels,
                &batch_rows,
                &params,
                &state,
                &scratch,
                &uniform,
            ]
            .iter()
            .enumerate()
            .map(|(binding, buffer)| wgpu::BindGroupEntry {
                binding: binding as u32,
                resource: buffer.as_entire_binding(),
            })
            .collect::<Vec<_>>(),
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("mlp"),
            bind_group_layouts: &[Some(&bind_layout)],
            immediate_size: 0,
        });
        let module = device.create_shader_module(wgpu::include_wgsl!("mlp.wgsl"));
        let constants = [
            ("INPUTS", inputs as f64),
            ("HIDDEN", hidden as f64),
            ("CLASSES", classes as f64),
            ("BATCH", batch as f64),
        ];
        let optimizer = match config.optimizer {
            LocalOptimizer::Adam => "adam",
            LocalOptimizer::Sgd { .. } => "sgd",
        };
        let tiles = |n: usize| n.div_ceil(TILE);
        let mut invocations = vec![
            ("forward_hidden", tiles(batch) * tiles(hidden)),
            ("forward_logits", batch * classes),
        ];
        if config.proximal_mu.is_some_and(|mu| mu > 0.0) {
            invocations.push(("proximal_partials", proximal_partials * GROUP as usize));
        }
        invocations.extend([
            ("forward_loss", GROUP as usize),
            (
                "backward_output",
                hidden * classes + classes + batch * hidden,
            ),
            ("backward_input", tiles(inputs) * tiles(hidden) + hidden),
            (optimizer, params_len),
        ]);
        let passes = invocations
            .iter()
            .map(|&(entry, invocations)| {
                let workgroups = invocations.div_ceil(GROUP as usize) as u32;
                if workgroups > limits.max_compute_workgroups_per_dimension {
                    return Err(FlError::Gpu(format!(
                        "the model is too large for one dispatch of {entry} ({workgroups} workgroups)"
                    )));
                }
                let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                    label: Some(entry),
                    layout: Some(&pipeline_layout),
                    module: &module,
                    entry_point: Some(entry),
                    compilation_options: wgpu::PipelineCompilationOptions {
                        constants: &constants,
                        ..Default::default()
                    },
                    cache: None,
                });
                Ok(Pass {
                    pipeline,
                    workgroups,
                })
            })
            .collect::<Result<Vec<_>, FlError>>()?;

        Ok(Self {
            gpu: gpu.clone(),
            layout: base.layout.clone(),
            config: *config,
            schedule: BatchSchedule::new(data.len(), config),
            passes,
            bind_group,
            batch_rows,
            params,
            uniform,
            loss_staging,
            loss_offset: ((scratch_len - 1) * 4) as u64,
            scratch,
            loss_read_pending: false,
            batch_capacity: batch,
            samples: data.len(),
            time: 0,
        })
    }

    /// The batches this trainer walks.
    pub fn schedule(&self) -> &BatchSchedule {
        &self.schedule
    }

    /// Submits the next optimizer step of the schedule, or returns `None` once every epoch is
    /// done. Its loss is read with [`MlpTrainer::loss`].
    pub fn step(&mut self) -> Option<PlannedBatch> {
        let batch = self.schedule.next()?;
        self.submit(&batch.rows);
        Some(batch)
    }

    /// Submits one optimizer step on the given rows of the uploaded samples: 1 to the
    /// configured batch size of them, each below the number of samples.
    pub fn step_on(&mut self, rows: &[usize]) -> Result<(), FlError> {
        if rows.is_empty() || rows.len() > self.batch_capacity {
            return Err(FlError::Training(format!(
                "a batch holds 1 to {} rows, not {}",
                self.batch_capacity,
                rows.len()
            )));
        }
        if let Some(&row) = rows.iter().find(|&&r| r >= self.samples) {
            return Err(FlError::Training(format!(
                "row {row} is past the {} samples",
                self.samples
            )));
        }
        self.submit(rows);
        Ok(())
    }

    fn submit(&mut self, rows: &[usize]) {
        self.time += 1;
        let momentum = match self.config.optimizer {
            LocalOptimizer::Sgd { momentum } => momentum as f32,
            LocalOptimizer::Adam => 0.0,
        };
        let bias_correction_2 = (1.0 - ADAM_BETA_2.powi(self.time)).sqrt();
        let uniform = StepUniform {
            rows: rows.len() as u32,
            first: u32::from(self.time == 1),
            learning_rate: self.config.learning_rate as f32,
            mu: self.config.proximal_mu.unwrap_or(0.0).max(0.0) as f32,
            beta_1: ADAM_BETA_1,
            beta_2: ADAM_BETA_2,
            adam_factor: bias_correction_2 / (1.0 - ADAM_BETA_1.powi(self.time)),
            adam_epsilon: ADAM_EPSILON * bias_correction_2,
            momentum,
            gradient_share: (1.0 - DAMPENING) as f32,
            pad: [0; 2],
        };
        let rows: Vec<u32> = rows.iter().map(|&r| r as u32).collect();
        let queue = &self.gpu.queue;
        queue.write_buffer(&self.batch_rows, 0, bytemuck::cast_slice(&rows));
        queue.write_buffer(&self.uniform, 0, bytemuck::bytes_of(&uniform));
        let mut encoder = self.gpu.device.create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            pass.set_bind_group(0, &self.bind_group, &[]);
            for step in &self.passes {
                pass.set_pipeline(&step.pipeline);
                pass.dispatch_workgroups(step.workgroups, 1, 1);
            }
        }
        encoder.copy_buffer_to_buffer(&self.scratch, self.loss_offset, &self.loss_staging, 0, 4);
        // A read abandoned mid-way leaves its map pending; a copy into that buffer is invalid.
        if std::mem::take(&mut self.loss_read_pending) {
            self.loss_staging.unmap();
        }
        queue.submit([encoder.finish()]);
    }

    /// The loss of the last submitted step's batch, before that step (waits for it).
    pub async fn loss(&mut self) -> Result<f32, FlError> {
        self.loss_read_pending = true;
        let read = self.gpu.map_read(&self.loss_staging).await;
        self.loss_read_pending = false;
        Ok(read?[0])
    }

    /// The weights so far (waits for the submitted steps).
    pub async fn weights(&self) -> Result<Weights, FlError> {
        let len = self.layout.iter().map(TensorSpec::len).sum();
        let values = self.gpu.read(&self.params, len).await?;
        Ok(Weights {
            layout: self.layout.clone(),
            values,
        })
    }
}
