//! Task manifests: what a funder brings to a round.
//!
//! A manifest names the data a task expects (images, tabular columns or text), its model as a
//! list of layers, its training recipe and how the committee judges it. It is JSON (the format
//! is [`Manifest`]'s fields, documented in the README), checked before anything trains
//! ([`Manifest::check`]: every layer's shape, the parameter limit, the recipe, the metric), and
//! content-addressed: its canonical encoding ([`Manifest::canonical`], the fields in a fixed
//! order, no whitespace) has a CID, and that CID's digest is the task hash a round pins.
//! [`catalog`] holds the tasks the order form offers.
//!
//! The crate has no training engine and no I/O, so the CLI, the validator and the browser all
//! read and check manifests with the same code.

pub mod catalog;
mod check;
mod describe;
mod manifest;

pub use check::{
    Checked, MAX_PARAMETERS, MAX_STEP_ACTIVATIONS, check_model, layer_name, shape_text,
};
pub use manifest::{
    Column, DataSchema, ImageLabels, Layer, Manifest, Metric, Missing, Optimizer, Privacy, Recipe,
    Validation, Vocabulary,
};

use droppin_storage::interface_cid;

/// Why a manifest cannot be used, naming the field.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum TaskError {
    /// The text is not a manifest (bad JSON, an unknown layer or field, a wrong type).
    #[error("{field}: {problem}")]
    Malformed {
        /// Where, as a path (`model[2].layer`).
        field: String,
        /// What the parser said.
        problem: String,
    },
    /// A manifest that parses but cannot train or be judged.
    #[error("{field}: {problem}")]
    Invalid {
        /// Where.
        field: String,
        /// Why.
        problem: String,
    },
    /// No catalog task has this name.
    #[error("no task `{0}` in the catalog (dpin task list)")]
    Unknown(String),
}

impl Manifest {
    /// Parses a manifest, naming the field of the first error.
    pub fn parse(text: &str) -> Result<Manifest, TaskError> {
        let mut deserializer = serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
            let path = error.path().to_string();
            TaskError::Malformed {
                field: if path == "." { "manifest".into() } else { path },
                problem: error.into_inner().to_string(),
            }
        })
    }

    /// The canonical encoding: compact JSON with the fields in declaration order. The same
    /// manifest always gives the same bytes, whatever its file's layout.
    pub fn canonical(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a manifest always serializes")
    }

    /// Its content identifier (CIDv1, raw, sha2-256 of the canonical encoding), as rounds store
    /// it.
    pub fn cid(&self) -> droppin_interface::Cid {
        interface_cid(&self.canonical())
    }

    /// The task hash a round pins: the digest of the CID.
    pub fn hash(&self) -> [u8; 32] {
        *self.cid().digest()
    }

    /// Pretty JSON, for files people edit.
    pub fn pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("a manifest always serializes")
    }
}
