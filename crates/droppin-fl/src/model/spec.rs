//! What a model is: architecture, input shape and classes, hashed into the on-chain task id.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::FlError;

/// The two architectures the engine trains.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// Two dense layers with a ReLU between them.
    Mlp,
    /// One 3x3 convolution (same padding), ReLU, 2x2 max pooling, then a dense classifier.
    Cnn,
}

/// A model architecture with its input and output sizes; two nodes train the same model only if
/// their specs hash the same.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelSpec {
    pub kind: ModelKind,
    /// Channels, height, width of one input (flat inputs use `[1, 1, dim]`).
    pub input: [usize; 3],
    pub classes: usize,
    /// Hidden units (MLP) or convolution channels (CNN).
    pub width: usize,
}

impl ModelSpec {
    /// The MLP used on the shipped digits (4,810 parameters).
    pub const fn digits_mlp() -> Self {
        Self {
            kind: ModelKind::Mlp,
            input: [1, 8, 8],
            classes: 10,
            width: 64,
        }
    }

    /// The CNN used on the shipped digits (2,730 parameters).
    pub const fn digits_cnn() -> Self {
        Self {
            kind: ModelKind::Cnn,
            input: [1, 8, 8],
            classes: 10,
            width: 16,
        }
    }

    /// A spec of `kind` for samples of `sample_shape` (`[dim]` or `[channels, height, width]`).
    pub fn for_data(
        kind: ModelKind,
        sample_shape: &[usize],
        classes: usize,
    ) -> Result<Self, FlError> {
        let input = match *sample_shape {
            [dim] => [1, 1, dim],
            [c, h, w] => [c, h, w],
            _ => {
                return Err(FlError::Model(format!(
                    "unsupported sample shape {sample_shape:?}"
                )));
            }
        };
        let width = match kind {
            ModelKind::Mlp => 64,
            ModelKind::Cnn => 16,
        };
        let spec = Self {
            kind,
            input,
            classes,
            width,
        };
        spec.check()?;
        Ok(spec)
    }

    /// Rejects shapes the architecture cannot take.
    pub fn check(&self) -> Result<(), FlError> {
        if self.classes < 2 || self.width == 0 || self.input.contains(&0) {
            return Err(FlError::Model(format!("degenerate model spec {self:?}")));
        }
        if self.kind == ModelKind::Cnn && (self.input[1] < 2 || self.input[2] < 2) {
            return Err(FlError::Model(format!(
                "a CNN needs images of at least 2x2, got {:?}",
                self.input
            )));
        }
        Ok(())
    }

    pub fn input_dim(&self) -> usize {
        self.input.iter().product()
    }

    /// sha256 over a fixed byte encoding: the task's model hash pinned on-chain.
    pub fn hash(&self) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(b"droppin/model-spec/v1");
        hasher.update([match self.kind {
            ModelKind::Mlp => 0u8,
            ModelKind::Cnn => 1u8,
        }]);
        for v in self.input.iter().chain([&self.classes, &self.width]) {
            hasher.update((*v as u64).to_le_bytes());
        }
        hasher.finalize().into()
    }
}
