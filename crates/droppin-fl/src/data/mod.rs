//! Datasets: the shipped digits and catalog data, user formats (CSV, MNIST IDX, a task's
//! tabular CSV or text) and partitioning across nodes.

mod csv_file;
mod digits;
mod idx;
mod partition;
mod shipped;
mod tabular;
mod text;

pub use csv_file::{load_csv, parse_csv};
pub use digits::digits;
pub use idx::load_idx;
pub use partition::{Partition, partition};
pub use shipped::{read_for, shipped, ships_data, task_split};
pub use tabular::{TabularSchema, read_tabular};
pub use text::read_text;

use sha2::{Digest, Sha256};

use crate::FlError;

/// A task's data as a round uses it: what nodes train on, the committee's validation set, and
/// a test set for the figures.
#[derive(Clone, Debug)]
pub struct Split {
    pub train: Dataset,
    pub validation: Dataset,
    pub test: Dataset,
}

/// The seed of [`Split::of`]: changing it changes every figure measured on a split.
const SPLIT_SEED: u64 = 7;

impl Split {
    /// A fixed split of `all` into fifths, IID: three to train, one to validate, one to test.
    pub fn of(all: &Dataset) -> Result<Self, FlError> {
        if all.len() < 10 {
            return Err(FlError::Data(format!(
                "{} samples are too few to split",
                all.len()
            )));
        }
        let parts = partition(all, 5, Partition::Iid, SPLIT_SEED)?;
        Ok(Self {
            train: all.subset(&[parts[0].as_slice(), &parts[1], &parts[2]].concat()),
            validation: all.subset(&parts[3]),
            test: all.subset(&parts[4]),
        })
    }
}

/// Labelled samples in memory: `features` is row-major `len x feature_dim`, scaled to `[0, 1]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    pub features: Vec<f32>,
    pub labels: Vec<u8>,
    /// Shape of one sample (`[64]` for flat data, `[1, 8, 8]` for an image).
    pub sample_shape: Vec<usize>,
    pub classes: usize,
}

impl Dataset {
    /// Builds a dataset and checks that every row has its label and every label is a class.
    pub fn new(
        features: Vec<f32>,
        labels: Vec<u8>,
        sample_shape: Vec<usize>,
        classes: usize,
    ) -> Result<Self, FlError> {
        let dim: usize = sample_shape.iter().product();
        if dim == 0 || features.len() != labels.len() * dim {
            return Err(FlError::Data(format!(
                "{} feature values do not form {} rows of {dim}",
                features.len(),
                labels.len()
            )));
        }
        if let Some(bad) = labels.iter().find(|&&l| usize::from(l) >= classes) {
            return Err(FlError::Data(format!(
                "label {bad} is not below {classes} classes"
            )));
        }
        if features.iter().any(|v| !v.is_finite()) {
            return Err(FlError::Data("feature values must be finite".into()));
        }
        Ok(Self {
            features,
            labels,
            sample_shape,
            classes,
        })
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// sha256 of the shape, labels and features: the validation set hash a round pins on-chain,
    /// so validators and funders agree on the set without shipping it.
    pub fn hash(&self) -> [u8; 32] {
        let mut hasher = Sha256::new();
        for dim in &self.sample_shape {
            hasher.update((*dim as u64).to_le_bytes());
        }
        hasher.update((self.classes as u64).to_le_bytes());
        hasher.update(&self.labels);
        for value in &self.features {
            hasher.update(value.to_le_bytes());
        }
        hasher.finalize().into()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn feature_dim(&self) -> usize {
        self.sample_shape.iter().product()
    }

    /// Features of one sample.
    pub fn row(&self, index: usize) -> &[f32] {
        let dim = self.feature_dim();
        &self.features[index * dim..(index + 1) * dim]
    }

    /// The classes `row` is scored on, `per_sample` of them: a classifier's label; for a text
    /// window, the next token at every position (the window's own tokens shifted by one, then
    /// its label, the token after the window).
    pub fn targets(&self, row: usize, per_sample: usize) -> impl Iterator<Item = usize> + '_ {
        let shifted = if per_sample > 1 {
            &self.row(row)[1..]
        } else {
            &[]
        };
        shifted
            .iter()
            .map(|&token| token as usize)
            .chain(std::iter::once(usize::from(self.labels[row])))
    }

    /// A new dataset holding the given rows, in that order.
    pub fn subset(&self, indices: &[usize]) -> Self {
        let mut features = Vec::with_capacity(indices.len() * self.feature_dim());
        for &i in indices {
            features.extend_from_slice(self.row(i));
        }
        Self {
            features,
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            sample_shape: self.sample_shape.clone(),
            classes: self.classes,
        }
    }
}
