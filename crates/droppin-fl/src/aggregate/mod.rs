//! Aggregation rules over flat `f32` updates, named like Flower's strategies.
//!
//! Every rule takes the nodes' deltas (trained weights minus the global model) and returns the
//! delta to apply to the global model, plus which inputs it kept. Rules with a Byzantine
//! tolerance check it and fail with [`AggregationError::Tolerance`] rather than return garbage.
//! Work is done on plain slices, blocked for cache and split across threads with rayon; pairwise
//! distances come from one Gram matrix (GEMM) shared by Krum, Multi-Krum and Bulyan.

pub(crate) mod clip;
mod coordinate;
mod distance;
mod fltrust;
mod krum;
mod mean;
mod network;
mod server_opt;

pub use clip::{clip_to_norm, cosine, l2_norm};
pub use distance::pairwise_sq_distances;
pub use mean::weighted_mean;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// One node's contribution to aggregation.
#[derive(Clone, Copy, Debug)]
pub struct ClientUpdate<'a> {
    pub delta: &'a [f32],
    /// Training samples behind the update (FedAvg weights by it).
    pub samples: u64,
}

/// The aggregated delta and the inputs that shaped it.
#[derive(Clone, Debug, PartialEq)]
pub struct Aggregate {
    pub delta: Vec<f32>,
    /// Indices of the inputs the rule kept (all of them for averaging rules).
    pub selected: Vec<usize>,
}

/// Why aggregation refused to produce a result.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AggregationError {
    #[error("no updates to aggregate")]
    Empty,
    #[error("update {index} has {len} values, expected {expected}")]
    LengthMismatch {
        index: usize,
        len: usize,
        expected: usize,
    },
    #[error("update {0} holds NaN or infinite values")]
    NonFinite(usize),
    #[error("{rule} tolerates f = {f} Byzantine nodes only with {requirement}; got n = {n}")]
    Tolerance {
        rule: &'static str,
        n: usize,
        f: usize,
        requirement: &'static str,
    },
    #[error("{0}")]
    InvalidParameter(String),
    #[error("FLTrust: no update points the same way as the root update")]
    NoTrustedUpdate,
}

/// The rules, with their parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// Sample-weighted mean (McMahan et al. 2017).
    FedAvg,
    /// FedAvg with server momentum (Hsu et al. 2019).
    FedAvgM { server_lr: f32, momentum: f32 },
    /// Adaptive server optimizer (Reddi et al. 2021), Adam flavour.
    FedAdam {
        server_lr: f32,
        beta_1: f32,
        beta_2: f32,
        tau: f32,
    },
    /// Adaptive server optimizer, Yogi flavour.
    FedYogi {
        server_lr: f32,
        beta_1: f32,
        beta_2: f32,
        tau: f32,
    },
    /// Coordinate-wise median (Yin et al. 2018).
    Median,
    /// Coordinate-wise mean after dropping the `beta` fraction at each end.
    TrimmedMean { beta: f32 },
    /// The update closest to its n - f - 2 neighbours (Blanchard et al. 2017); n > 2f + 2.
    Krum { f: usize },
    /// Mean of the `m` best Krum scores; n > 2f + 2.
    MultiKrum { f: usize, m: usize },
    /// Krum selection then a trimmed coordinate-wise mean (El Mhamdi et al. 2018); n >= 4f + 3.
    Bulyan { f: usize },
    /// Trust by cosine with the validator's root-data update, rescaled to its norm (Cao et al. 2021).
    FlTrust { root: Vec<f32> },
}

impl Rule {
    /// Flower's default hyper-parameters for the server optimizers.
    pub fn named(name: &str, f: usize, n: usize) -> Option<Rule> {
        Some(match name {
            "fedavg" => Rule::FedAvg,
            "fedavgm" => Rule::FedAvgM {
                server_lr: 1.0,
                momentum: 0.9,
            },
            "fedadam" => Rule::FedAdam {
                server_lr: 0.1,
                beta_1: 0.9,
                beta_2: 0.99,
                tau: 1e-9,
            },
            "fedyogi" => Rule::FedYogi {
                server_lr: 0.01,
                beta_1: 0.9,
                beta_2: 0.99,
                tau: 1e-3,
            },
            "median" => Rule::Median,
            "trimmed-mean" => Rule::TrimmedMean { beta: 0.2 },
            "krum" => Rule::Krum { f },
            "multi-krum" => Rule::MultiKrum {
                f,
                m: n.saturating_sub(f).max(1),
            },
            "bulyan" => Rule::Bulyan { f },
            "fltrust" => Rule::FlTrust { root: Vec::new() },
            _ => return None,
        })
    }

    /// The names [`Rule::named`] accepts.
    pub const NAMES: [&'static str; 10] = [
        "fedavg",
        "fedavgm",
        "fedadam",
        "fedyogi",
        "median",
        "trimmed-mean",
        "krum",
        "multi-krum",
        "bulyan",
        "fltrust",
    ];
}

/// A rule plus the server state it carries across rounds, and optional norm clipping of inputs.
#[derive(Clone, Debug)]
pub struct Aggregator {
    pub rule: Rule,
    /// Clip every input to this L2 norm before aggregating.
    pub clip_norm: Option<f32>,
    state: server_opt::ServerState,
}

impl Aggregator {
    pub fn new(rule: Rule) -> Self {
        Self {
            rule,
            clip_norm: None,
            state: server_opt::ServerState::default(),
        }
    }

    pub fn with_clip_norm(mut self, clip_norm: f32) -> Self {
        self.clip_norm = Some(clip_norm);
        self
    }

    /// Aggregates one round's updates.
    pub fn aggregate(
        &mut self,
        updates: &[ClientUpdate<'_>],
    ) -> Result<Aggregate, AggregationError> {
        let dim = check_inputs(updates)?;
        let clipped: Vec<Vec<f32>>;
        let updates: Vec<ClientUpdate<'_>> = match self.clip_norm {
            Some(norm) => {
                clipped = updates
                    .iter()
                    .map(|u| clip_to_norm(u.delta, norm))
                    .collect();
                updates
                    .iter()
                    .zip(&clipped)
                    .map(|(u, c)| ClientUpdate {
                        delta: c,
                        samples: u.samples,
                    })
                    .collect()
            }
            None => updates.to_vec(),
        };
        let all: Vec<usize> = (0..updates.len()).collect();
        let averaged = |updates: &[ClientUpdate<'_>]| weighted_mean(updates, dim);
        Ok(match &self.rule {
            Rule::FedAvg => Aggregate {
                delta: averaged(&updates),
                selected: all,
            },
            Rule::FedAvgM {
                server_lr,
                momentum,
            } => {
                let delta = self
                    .state
                    .momentum(averaged(&updates), *server_lr, *momentum);
                Aggregate {
                    delta,
                    selected: all,
                }
            }
            Rule::FedAdam {
                server_lr,
                beta_1,
                beta_2,
                tau,
            }
            | Rule::FedYogi {
                server_lr,
                beta_1,
                beta_2,
                tau,
            } => {
                let yogi = matches!(self.rule, Rule::FedYogi { .. });
                let delta = self.state.adaptive(
                    averaged(&updates),
                    *server_lr,
                    *beta_1,
                    *beta_2,
                    *tau,
                    yogi,
                );
                Aggregate {
                    delta,
                    selected: all,
                }
            }
            Rule::Median => Aggregate {
                delta: coordinate::median(&updates, dim),
                selected: all,
            },
            Rule::TrimmedMean { beta } => Aggregate {
                delta: coordinate::trimmed_mean(&updates, dim, *beta)?,
                selected: all,
            },
            Rule::Krum { f } => krum::multi_krum(&updates, dim, *f, 1)?,
            Rule::MultiKrum { f, m } => krum::multi_krum(&updates, dim, *f, *m)?,
            Rule::Bulyan { f } => krum::bulyan(&updates, dim, *f)?,
            Rule::FlTrust { root } => fltrust::fltrust(&updates, dim, root)?,
        })
    }
}

/// Checks that there are updates, all of one length, all finite; returns the length.
fn check_inputs(updates: &[ClientUpdate<'_>]) -> Result<usize, AggregationError> {
    let first = updates.first().ok_or(AggregationError::Empty)?;
    let dim = first.delta.len();
    for (index, update) in updates.iter().enumerate() {
        if update.delta.len() != dim {
            return Err(AggregationError::LengthMismatch {
                index,
                len: update.delta.len(),
                expected: dim,
            });
        }
    }
    match updates.par_iter().position_first(|u| !all_finite(u.delta)) {
        Some(index) => Err(AggregationError::NonFinite(index)),
        None => Ok(dim),
    }
}

/// Whether no value is NaN or infinite: a branch-free fold per chunk, so it runs at memory speed.
fn all_finite(values: &[f32]) -> bool {
    values
        .chunks(BLOCK)
        .all(|chunk| chunk.iter().fold(true, |finite, v| finite & v.is_finite()))
}

/// Coordinates handled per task: big enough to amortize scheduling, small enough for the cache.
const BLOCK: usize = 4_096;

#[cfg(test)]
mod tests;
