//! The manifest's fields: what data a task expects, its model, its recipe and its validation.

use serde::{Deserialize, Serialize};

/// A task: everything a node needs to train for it and a validator needs to judge it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Short name, shown in the catalog and the order form.
    pub name: String,
    /// One line on what the model learns.
    pub description: String,
    /// The data a node brings.
    pub data: DataSchema,
    /// The layers, in order, from the input to the output.
    pub model: Vec<Layer>,
    /// How nodes train.
    pub recipe: Recipe,
    /// How the committee judges.
    pub validation: Validation,
}

/// The data a task expects from a node: its shape and where its labels are.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DataSchema {
    /// Images of a fixed size, one class each.
    Images {
        /// Colour channels (1 grey, 3 RGB).
        channels: u32,
        /// Height in pixels (images are scaled to it).
        height: u32,
        /// Width in pixels.
        width: u32,
        /// The class names, in label order.
        classes: Vec<String>,
        /// Where each image's label is read.
        labels: ImageLabels,
    },
    /// Rows of named columns, one of them the label.
    Tabular {
        /// The feature columns, in order.
        columns: Vec<Column>,
        /// The label column's name.
        label: String,
        /// The class names, in label order (the label column holds one of them).
        classes: Vec<String>,
        /// What a missing value becomes.
        missing: Missing,
    },
    /// Text, predicted one token at a time.
    Text {
        /// How text becomes tokens.
        vocabulary: Vocabulary,
        /// Tokens of context the model sees.
        context: u32,
    },
}

/// Where an image's label is read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageLabels {
    /// The name of the folder the image is in (`cat/001.png`).
    Folder,
    /// A CSV of `file,label` rows beside the images.
    Csv,
}

/// A feature column of a tabular task, by its header in the CSV.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Column {
    /// A number, standardized by the node's own mean and deviation.
    Numeric {
        /// The header.
        name: String,
    },
    /// One of the listed values, one-hot encoded.
    Categorical {
        /// The header.
        name: String,
        /// The values, in encoding order.
        values: Vec<String>,
    },
}

impl Column {
    /// The column's header.
    pub fn name(&self) -> &str {
        match self {
            Column::Numeric { name } | Column::Categorical { name, .. } => name,
        }
    }
}

/// What a missing tabular value becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Missing {
    /// The row is left out.
    DropRow,
    /// The column's mean (numeric) or an all-zero one-hot (categorical).
    Mean,
}

/// How text becomes tokens.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Vocabulary {
    /// Every byte is a token (256).
    Bytes,
    /// Each listed character is a token; any other character is the last token.
    Characters {
        /// The characters, in token order.
        alphabet: String,
    },
}

impl Vocabulary {
    /// Tokens in the vocabulary: 256 bytes, or each listed character and one for any other.
    pub fn len(&self) -> usize {
        match self {
            Vocabulary::Bytes => 256,
            Vocabulary::Characters { alphabet } => alphabet.chars().count() + 1,
        }
    }

    /// Never empty: even an empty alphabet has the token for any other character.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The token ids of `text`.
    pub fn encode(&self, text: &str) -> Vec<u16> {
        match self {
            Vocabulary::Bytes => text.bytes().map(u16::from).collect(),
            Vocabulary::Characters { alphabet } => {
                let other = alphabet.chars().count() as u16;
                text.chars()
                    .map(|c| {
                        alphabet
                            .chars()
                            .position(|a| a == c)
                            .map_or(other, |i| i as u16)
                    })
                    .collect()
            }
        }
    }
}

/// A layer of the model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "layer", rename_all = "snake_case", deny_unknown_fields)]
pub enum Layer {
    /// Fully connected, on the last dimension.
    Dense {
        /// Output features.
        units: u32,
    },
    /// 2-D convolution over `[channels, height, width]`.
    Conv2d {
        /// Output channels.
        channels: u32,
        /// Square kernel side.
        kernel: u32,
        /// Step between windows.
        #[serde(default = "one")]
        stride: u32,
        /// Zeroes added on each side.
        #[serde(default)]
        padding: u32,
    },
    /// Maximum over square windows.
    MaxPool2d {
        /// Window side (and step).
        kernel: u32,
    },
    /// Mean over square windows.
    AvgPool2d {
        /// Window side (and step).
        kernel: u32,
    },
    /// Rectified linear unit.
    Relu,
    /// Gaussian error linear unit.
    Gelu,
    /// Hyperbolic tangent.
    Tanh,
    /// Zeroes a share of the activations while training.
    Dropout {
        /// The share, in `[0, 1)`.
        rate: f64,
    },
    /// Everything into one dimension.
    Flatten,
    /// Normalizes the last dimension, with a learned scale and shift.
    LayerNorm,
    /// Token ids into vectors, plus a learned vector per position (the first layer of a text
    /// model).
    Embedding {
        /// The vectors' size.
        dim: u32,
    },
    /// Causal self-attention and a feed-forward block, each with a residual and a layer norm.
    TransformerBlock {
        /// Attention heads (they divide the model's width).
        heads: u32,
        /// The feed-forward block's hidden width.
        hidden: u32,
    },
}

fn one() -> u32 {
    1
}

/// How nodes train.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipe {
    /// The optimizer.
    pub optimizer: Optimizer,
    /// Step size.
    pub learning_rate: f64,
    /// Passes over the node's data per round.
    pub epochs: u32,
    /// Samples per step.
    pub batch_size: u32,
    /// FedProx weight pulling local weights toward the round's base (0: plain FedAvg).
    #[serde(default)]
    pub proximal_mu: f64,
    /// Differential privacy, when the task asks for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privacy: Option<Privacy>,
}

/// The optimizer.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Optimizer {
    /// Adam.
    Adam,
    /// Stochastic gradient descent with momentum.
    Sgd {
        /// Momentum, in `[0, 1)`.
        momentum: f64,
    },
}

/// DP-SGD: per-example clipping and Gaussian noise, to a privacy budget over all rounds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Privacy {
    /// Target epsilon.
    pub epsilon: f64,
    /// Target delta.
    pub delta: f64,
    /// Per-example gradient norm bound.
    pub clip: f64,
}

/// How the committee judges.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Validation {
    /// What the committee reports of the new model.
    pub metric: Metric,
    /// The largest validation-loss rise (nats) a tenth of an update may cause before it is
    /// slashed.
    #[serde(default = "default_loss_bound")]
    pub max_loss_increase: f64,
}

fn default_loss_bound() -> f64 {
    1.0
}

/// What the committee reports of the new model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Share of samples classified right.
    Accuracy,
    /// `exp` of the mean cross-entropy per token.
    Perplexity,
}
