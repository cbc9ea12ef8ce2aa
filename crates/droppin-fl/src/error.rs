//! Engine errors: one variant per kind of failure, each saying what was wrong.

use crate::update::DecodeError;

/// Errors of the federated-learning engine.
#[derive(Debug, thiserror::Error)]
pub enum FlError {
    #[error("data: {0}")]
    Data(String),
    #[error("model: {0}")]
    Model(String),
    #[error("training: {0}")]
    Training(String),
    /// The GPU kernels cannot run: no adapter, a model or option they do not cover, a limit.
    #[error("GPU: {0}")]
    Gpu(String),
    #[error("update rejected: {0}")]
    Decode(#[from] DecodeError),
    #[error("aggregation: {0}")]
    Aggregation(#[from] crate::aggregate::AggregationError),
    #[error("privacy: {0}")]
    Privacy(String),
    #[error("safetensors export: {0}")]
    Export(String),
}
