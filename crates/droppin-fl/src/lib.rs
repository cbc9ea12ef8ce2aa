//! dropPIN's federated-learning engine, shared by the CLI node, the validator and the browser node.
//!
//! - [`device`]: the compute device by name (`cpu`, or `wgpu` with the `wgpu` feature).
//! - [`data`]: the shipped digits, CSV and MNIST IDX loaders, IID and Dirichlet partitions.
//! - [`model`], [`train`], [`evaluate`]: an MLP and a CNN on any burn device, local training.
//! - `gpu` (feature `gpu`): the MLP's training step as fused compute shaders, for WebGPU.
//! - [`update`]: the versioned delta/model format, its CID, safetensors export.
//! - [`aggregate`]: robust aggregation rules over flat `f32` buffers.
//! - [`validate`]: the committee's deterministic verdicts, contribution weights and Merkle root.
//! - [`privacy`]: client-level differential privacy and its RDP accountant.
//! - [`sim`]: the attack simulator.
//! - [`workload`]: the benchmarks' fixed training workloads.

pub mod aggregate;
pub mod data;
pub mod device;
mod error;
pub mod evaluate;
#[cfg(feature = "gpu")]
pub mod gpu;
pub mod model;
pub mod privacy;
pub mod sim;
pub mod task;
pub mod train;
pub mod update;
pub mod validate;
pub mod workload;

pub use error::FlError;
