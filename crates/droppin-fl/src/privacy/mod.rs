//! Differential privacy: the node-side Gaussian mechanism and its RDP accountant.

mod accountant;
mod mechanism;

pub use accountant::{PrivacySpent, RdpAccountant, DEFAULT_ORDERS};
pub use mechanism::{GaussianMechanism, privatize};
