//! Differential privacy: the node-side Gaussian mechanism and its RDP accountant.

mod accountant;
mod dp_sgd;
mod mechanism;

pub use accountant::{DEFAULT_ORDERS, PrivacySpent, RdpAccountant};
pub(crate) use dp_sgd::ClippedSum;
pub use dp_sgd::DpSgd;
pub use mechanism::{GaussianMechanism, privatize};
