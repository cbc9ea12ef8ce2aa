//! Models (an MLP and a small CNN), their specification, and flat weight vectors.
//!
//! Models run on whatever [`Device`] the caller picks at run time (Flex on the CPU, wgpu or
//! WebGPU on a GPU); the engine moves weights in and out as flat `f32` vectors so that updates,
//! aggregation and validation never depend on the backend.

mod layers;
mod norm;
mod spec;
mod weights;

pub use layers::Model;
pub(crate) use norm::NORM_EPSILON;
pub use spec::{ModelKind, ModelSpec};
pub use weights::{TensorSpec, Weights};
