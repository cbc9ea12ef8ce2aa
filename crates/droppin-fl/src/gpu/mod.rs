//! Training kernels of our own on the GPU, through wgpu: WebGPU in a browser, Vulkan, Metal, DX12
//! or GL natively.
//!
//! burn's GPU backend runs each tensor operation of the autodiff graph and each optimizer update
//! as its own kernel, and on the small models nodes train that per-kernel cost is the whole step
//! (hundreds of milliseconds in a browser on a software adapter). The MLP's forward pass, loss,
//! backward pass and optimizer step are instead written here as six compute shaders (seven with
//! FedProx) submitted together, with only the loss read back ([`MlpTrainer`]). They compute what
//! the CPU trainer computes, on the same batches in the same order, and tests hold them to it.

mod mlp;

pub use mlp::MlpTrainer;

use crate::FlError;
use crate::data::Dataset;
use crate::model::{ModelSpec, Weights};
use crate::train::{TrainConfig, TrainProgress};

/// Trains `base` through every step of `config` on the kernels, reading each step's loss (a
/// diverged step fails the run), and returns the trained weights.
pub async fn train_mlp(
    gpu: &Gpu,
    spec: &ModelSpec,
    base: &Weights,
    data: &Dataset,
    config: &TrainConfig,
) -> Result<Weights, FlError> {
    let mut trainer = MlpTrainer::new(gpu, spec, base, data, config).await?;
    while let Some(batch) = trainer.step() {
        let steps_per_epoch = trainer.schedule().steps_per_epoch();
        TrainProgress::checked(
            batch.epoch,
            batch.step,
            steps_per_epoch,
            trainer.loss().await?,
        )?;
    }
    trainer.weights().await
}

/// A GPU device and its queue.
#[derive(Clone, Debug)]
pub struct Gpu {
    device: wgpu::Device,
    queue: wgpu::Queue,
    /// The adapter, in words (name and backend).
    pub adapter: String,
    /// Whether the adapter emulates a GPU on the CPU (llvmpipe, SwiftShader, WARP).
    pub software: bool,
}

impl Gpu {
    /// The first adapter the platform offers (WebGPU's in a browser).
    pub async fn request() -> Result<Self, FlError> {
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions::default())
            .await
            .map_err(|e| FlError::Gpu(format!("no GPU adapter: {e}")))?;
        let info = adapter.get_info();
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("dropPIN training"),
                // The kernels bind six storage buffers and hold a node's samples in one.
                required_limits: adapter.limits(),
                ..Default::default()
            })
            .await
            .map_err(|e| FlError::Gpu(format!("the GPU refused a device: {e}")))?;
        Ok(Self {
            device,
            queue,
            software: info.device_type == wgpu::DeviceType::Cpu,
            // Browsers do not name their adapter.
            adapter: match (info.name.as_str(), info.backend) {
                ("", wgpu::Backend::BrowserWebGpu) => "the browser's adapter".to_owned(),
                ("", backend) => format!("a {backend} adapter"),
                (name, backend) => format!("{name} ({backend})"),
            },
        })
    }

    /// Copies `len` floats from the start of `buffer` (a `COPY_SRC` buffer) back to the host.
    async fn read(&self, buffer: &wgpu::Buffer, len: usize) -> Result<Vec<f32>, FlError> {
        let bytes = (len * 4) as wgpu::BufferAddress;
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut encoder = self.device.create_command_encoder(&Default::default());
        encoder.copy_buffer_to_buffer(buffer, 0, &staging, 0, bytes);
        self.queue.submit([encoder.finish()]);
        self.map_read(&staging).await
    }

    /// The floats of a `MAP_READ` buffer once the submitted work that fills it is done, without
    /// blocking a browser's thread. A buffer that was mapped is unmapped again, ready for the
    /// next copy.
    async fn map_read(&self, staging: &wgpu::Buffer) -> Result<Vec<f32>, FlError> {
        let (sender, receiver) = futures_channel::oneshot::channel();
        staging
            .slice(..)
            .map_async(wgpu::MapMode::Read, move |result| {
                let _ = sender.send(result);
            });
        // A browser maps on its own; natively the device is polled until the work is done.
        #[cfg(not(target_arch = "wasm32"))]
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| FlError::Gpu(format!("waiting for the GPU: {e}")))?;
        receiver
            .await
            .map_err(|_| FlError::Gpu("the GPU dropped a read".into()))?
            .map_err(|e| FlError::Gpu(format!("reading from the GPU: {e}")))?;
        let values = staging
            .slice(..)
            .get_mapped_range()
            .map(|view| bytemuck::cast_slice(&view).to_vec())
            .map_err(|e| FlError::Gpu(format!("reading from the GPU: {e}")));
        staging.unmap();
        values
    }
}

#[cfg(test)]
mod tests;
