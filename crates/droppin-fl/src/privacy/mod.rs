//! Differential privacy: the node-side Gaussian mechanism and its RDP accountant.

mod accountant;
mod dp_sgd;
mod mechanism;

pub use accountant::{PrivacySpent, RdpAccountant, DEFAULT_ORDERS};
pub use dp_sgd::DpSgd;
pub(crate) use dp_sgd::ClippedSum;
pub use mechanism::{GaussianMechanism, privatize};
