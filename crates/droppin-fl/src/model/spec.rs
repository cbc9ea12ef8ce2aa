//! What a model is: its input, what it predicts and its layers, hashed into the on-chain task id.

use droppin_task::{Layer, check_model};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::FlError;

/// The two standard architectures the CLI offers with `--model`; the fused GPU kernels train the
/// MLP ([`ModelSpec::standard`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// Flatten, dense, ReLU, dense.
    Mlp,
    /// One 3x3 convolution (padding 1), ReLU, 2x2 max pooling, flatten, dense.
    Cnn,
}

/// A model: the shape of one sample, the classes (or tokens) it predicts and its layers, built
/// at run time on burn. Two nodes train the same model only if their specs hash the same.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelSpec {
    /// One sample's shape: `[channels, height, width]` for images, `[features]` for flat rows,
    /// `[context]` token ids for text.
    pub input: Vec<usize>,
    /// Classes a classifier scores, or a text model's vocabulary.
    pub classes: usize,
    /// The layers, from the input to the output, as a task manifest lists them.
    pub layers: Vec<Layer>,
}

impl ModelSpec {
    /// Flatten, dense of `width`, ReLU, dense: the fused GPU kernels' model.
    pub fn mlp(input: Vec<usize>, width: usize, classes: usize) -> Self {
        Self {
            input,
            classes,
            layers: vec![
                Layer::Flatten,
                Layer::Dense {
                    units: width as u32,
                },
                Layer::Relu,
                Layer::Dense {
                    units: classes as u32,
                },
            ],
        }
    }

    /// A 3x3 convolution of `width` channels (padding 1), ReLU, 2x2 max pooling, flatten, dense.
    pub fn cnn(input: [usize; 3], width: usize, classes: usize) -> Self {
        Self {
            input: input.to_vec(),
            classes,
            layers: vec![
                Layer::Conv2d {
                    channels: width as u32,
                    kernel: 3,
                    stride: 1,
                    padding: 1,
                },
                Layer::Relu,
                Layer::MaxPool2d { kernel: 2 },
                Layer::Flatten,
                Layer::Dense {
                    units: classes as u32,
                },
            ],
        }
    }

    /// The MLP used on the shipped digits (4,810 parameters).
    pub fn digits_mlp() -> Self {
        Self::mlp(vec![1, 8, 8], 64, 10)
    }

    /// The CNN used on the shipped digits (2,730 parameters).
    pub fn digits_cnn() -> Self {
        Self::cnn([1, 8, 8], 16, 10)
    }

    /// A standard spec of `kind` for samples of `sample_shape` (`[dim]` or
    /// `[channels, height, width]`).
    pub fn for_data(
        kind: ModelKind,
        sample_shape: &[usize],
        classes: usize,
    ) -> Result<Self, FlError> {
        let spec = match (kind, sample_shape) {
            (ModelKind::Mlp, _) => Self::mlp(sample_shape.to_vec(), 64, classes),
            (ModelKind::Cnn, &[c, h, w]) => Self::cnn([c, h, w], 16, classes),
            (ModelKind::Cnn, _) => {
                return Err(FlError::Model(format!(
                    "a CNN takes images, not samples of shape {sample_shape:?}"
                )));
            }
        };
        spec.check()?;
        Ok(spec)
    }

    /// Which standard architecture this is, with its width, if it is one (an MLP on flat rows
    /// needs no `flatten`).
    pub fn standard(&self) -> Option<(ModelKind, usize)> {
        let (kind, width) = match self.layers.as_slice() {
            [Layer::Flatten, Layer::Dense { units }, ..] | [Layer::Dense { units }, ..] => {
                (ModelKind::Mlp, *units as usize)
            }
            [Layer::Conv2d { channels, .. }, ..] => (ModelKind::Cnn, *channels as usize),
            _ => return None,
        };
        let candidate = match (kind, self.input.as_slice()) {
            (ModelKind::Mlp, _) => Self::mlp(self.input.clone(), width, self.classes),
            (ModelKind::Cnn, &[c, h, w]) if h % 2 == 0 && w % 2 == 0 => {
                Self::cnn([c, h, w], width, self.classes)
            }
            (ModelKind::Cnn, _) => return None,
        };
        // On flat rows the MLP's leading `flatten` changes nothing, so it may be left out.
        let flat_mlp = kind == ModelKind::Mlp
            && self.input.len() == 1
            && self.layers.as_slice() == &candidate.layers[1..];
        (self.layers == candidate.layers || flat_mlp).then_some((kind, width))
    }

    /// Each layer's input shape, in order (the checked shapes, shifted by one).
    pub fn layer_inputs(&self) -> Result<Vec<Vec<usize>>, FlError> {
        let input: Vec<u64> = self.input.iter().map(|&v| v as u64).collect();
        let (shapes, _) = check_model(&self.layers, &input, self.classes as u64, self.is_text())
            .map_err(|e| FlError::Model(e.to_string()))?;
        Ok(std::iter::once(self.input.clone())
            .chain(
                shapes
                    .iter()
                    .map(|shape| shape.iter().map(|&v| v as usize).collect()),
            )
            .take(self.layers.len())
            .collect())
    }

    /// A text model: it starts from token ids.
    pub fn is_text(&self) -> bool {
        matches!(self.layers.first(), Some(Layer::Embedding { .. }))
    }

    /// Predictions per sample: one for a classifier, one per position for a text model.
    pub fn outputs_per_sample(&self) -> usize {
        if self.is_text() { self.input[0] } else { 1 }
    }

    /// Rejects a model whose layers do not fit its input and classes, or that is too big; the
    /// error names the layer.
    pub fn check(&self) -> Result<u64, FlError> {
        if self.classes < 2 || self.input.is_empty() || self.input.contains(&0) {
            return Err(FlError::Model(format!("degenerate model spec {self:?}")));
        }
        let input: Vec<u64> = self.input.iter().map(|&v| v as u64).collect();
        check_model(&self.layers, &input, self.classes as u64, self.is_text())
            .map(|(_, parameters)| parameters)
            .map_err(|e| FlError::Model(e.to_string()))
    }

    pub fn input_dim(&self) -> usize {
        self.input.iter().product()
    }

    /// sha256 over a fixed encoding (the input, the classes and the layers as canonical JSON):
    /// the model hash pinned on-chain.
    pub fn hash(&self) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(b"droppin/model-spec/v2");
        hasher.update(serde_json::to_vec(self).expect("a spec always serializes"));
        hasher.finalize().into()
    }
}
