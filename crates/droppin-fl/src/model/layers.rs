//! The burn model a [`ModelSpec`]'s layer list builds, at run time, on any backend.

use burn::module::{Module, Param};
use burn::nn::attention::generate_autoregressive_mask;
use burn::nn::attention::{MhaInput, MultiHeadAttention, MultiHeadAttentionConfig};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AvgPool2d, AvgPool2dConfig, MaxPool2d, MaxPool2dConfig};
use burn::nn::{
    Dropout, DropoutConfig, Embedding, EmbeddingConfig, Gelu, LayerNorm, Linear, LinearConfig,
    PaddingConfig2d, Relu, Tanh,
};
use burn::tensor::activation::gelu;
use burn::tensor::{Device, Int, Tensor};
use droppin_task::Layer;

use super::ModelSpec;
use super::norm::{norm, normalize};

/// Token vectors plus a learned vector per position.
#[derive(Module, Debug)]
pub struct Embed {
    tokens: Embedding,
    positions: Param<Tensor<2>>,
}

/// A pre-norm transformer block: causal self-attention, then a feed-forward block, each added
/// back to its input.
#[derive(Module, Debug)]
pub struct Transformer {
    attention_norm: LayerNorm,
    attention: MultiHeadAttention,
    feed_norm: LayerNorm,
    up: Linear,
    down: Linear,
}

/// Flattens everything but the batch dimension.
#[derive(Module, Debug, Default)]
pub struct Flatten;

/// One layer of the list, with its parameters if it has any.
// A model holds a handful of blocks, built once: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Block {
    Dense(Linear),
    Conv(Conv2d),
    MaxPool(MaxPool2d),
    AvgPool(AvgPool2d),
    Relu(Relu),
    Gelu(Gelu),
    Tanh(Tanh),
    Dropout(Dropout),
    Flatten(Flatten),
    Norm(LayerNorm),
    Embed(Embed),
    Transformer(Transformer),
}

/// The model: its blocks, one per layer of the spec, in order.
#[derive(Module, Debug)]
pub struct Model {
    blocks: Vec<Block>,
}

/// An activation between layers, whatever its rank.
enum Activation {
    /// `[batch, features]`.
    Flat(Tensor<2>),
    /// `[batch, positions, width]`.
    Sequence(Tensor<3>),
    /// `[batch, channels, height, width]`.
    Image(Tensor<4>),
}

impl Activation {
    fn map(
        self,
        f2: impl Fn(Tensor<2>) -> Tensor<2>,
        f3: impl Fn(Tensor<3>) -> Tensor<3>,
        f4: impl Fn(Tensor<4>) -> Tensor<4>,
    ) -> Self {
        match self {
            Activation::Flat(x) => Activation::Flat(f2(x)),
            Activation::Sequence(x) => Activation::Sequence(f3(x)),
            Activation::Image(x) => Activation::Image(f4(x)),
        }
    }
}

/// Applies a rank-generic function to an activation of any rank.
macro_rules! each_rank {
    ($activation:expr, |$x:ident| $body:expr) => {
        $activation.map(|$x| $body, |$x| $body, |$x| $body)
    };
}

impl Model {
    /// A fresh model of `spec` on `device`; its weights are replaced by [`crate::model::Weights`]
    /// before use, so burn's own initializer never decides a result. `spec` must have passed
    /// [`ModelSpec::check`].
    pub fn init(spec: &ModelSpec, device: &Device) -> Self {
        let inputs = spec
            .layer_inputs()
            .expect("a model is built from a checked spec");
        let blocks = spec
            .layers
            .iter()
            .zip(&inputs)
            .map(|(layer, input)| Block::init(layer, input, spec.classes, device))
            .collect();
        Self { blocks }
    }

    /// Logits for a batch of flat inputs `[batch, input_dim]` (token ids as floats for a text
    /// model): `[batch, classes]` for a classifier, `[batch * context, vocabulary]` for a text
    /// model (every position's prediction of the next token, sample after sample).
    pub fn forward(&self, inputs: Tensor<2>, spec: &ModelSpec) -> Tensor<2> {
        let [batch, _] = inputs.dims();
        let mut x = match *spec.input.as_slice() {
            [c, h, w] => Activation::Image(inputs.reshape([batch, c, h, w])),
            _ => Activation::Flat(inputs),
        };
        for block in &self.blocks {
            x = block.forward(x);
        }
        match x {
            Activation::Flat(x) => x,
            Activation::Sequence(x) => {
                let [batch, positions, width] = x.dims();
                x.reshape([batch * positions, width])
            }
            Activation::Image(x) => {
                let [batch, c, h, w] = x.dims();
                x.reshape([batch, c * h * w])
            }
        }
    }
}

impl Block {
    /// The block of `layer`, which takes samples of shape `input` (`vocabulary`: a text model's
    /// tokens).
    fn init(layer: &Layer, input: &[usize], vocabulary: usize, device: &Device) -> Self {
        let last = *input.last().expect("a shape has a dimension");
        match *layer {
            Layer::Dense { units } => {
                Block::Dense(LinearConfig::new(last, units as usize).init(device))
            }
            Layer::Conv2d {
                channels,
                kernel,
                stride,
                padding,
            } => {
                let (k, s, p) = (kernel as usize, stride as usize, padding as usize);
                Block::Conv(
                    Conv2dConfig::new([input[0], channels as usize], [k, k])
                        .with_stride([s, s])
                        .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
                        .init(device),
                )
            }
            Layer::MaxPool2d { kernel } => {
                let k = kernel as usize;
                Block::MaxPool(MaxPool2dConfig::new([k, k]).with_strides([k, k]).init())
            }
            Layer::AvgPool2d { kernel } => {
                let k = kernel as usize;
                Block::AvgPool(AvgPool2dConfig::new([k, k]).with_strides([k, k]).init())
            }
            Layer::Relu => Block::Relu(Relu),
            Layer::Gelu => Block::Gelu(Gelu::new()),
            Layer::Tanh => Block::Tanh(Tanh),
            Layer::Dropout { rate } => Block::Dropout(DropoutConfig::new(rate).init()),
            Layer::Flatten => Block::Flatten(Flatten),
            Layer::LayerNorm => Block::Norm(norm(last, device)),
            Layer::Embedding { dim } => Block::Embed(Embed {
                tokens: EmbeddingConfig::new(vocabulary, dim as usize).init(device),
                positions: Param::from_tensor(Tensor::zeros([input[0], dim as usize], device)),
            }),
            Layer::TransformerBlock { heads, hidden } => Block::Transformer(Transformer {
                attention_norm: norm(last, device),
                attention: MultiHeadAttentionConfig::new(last, heads as usize)
                    .with_dropout(0.0)
                    .init(device),
                feed_norm: norm(last, device),
                up: LinearConfig::new(last, hidden as usize).init(device),
                down: LinearConfig::new(hidden as usize, last).init(device),
            }),
        }
    }

    fn forward(&self, x: Activation) -> Activation {
        match (self, x) {
            (Block::Dense(linear), x) => each_rank!(x, |t| linear.forward(t)),
            (Block::Conv(conv), Activation::Image(x)) => Activation::Image(conv.forward(x)),
            (Block::MaxPool(pool), Activation::Image(x)) => Activation::Image(pool.forward(x)),
            (Block::AvgPool(pool), Activation::Image(x)) => Activation::Image(pool.forward(x)),
            (Block::Relu(relu), x) => each_rank!(x, |t| relu.forward(t)),
            (Block::Gelu(_), x) => each_rank!(x, |t| gelu(t)),
            (Block::Tanh(_), x) => each_rank!(x, |t| t.tanh()),
            (Block::Dropout(dropout), x) => each_rank!(x, |t| dropout.forward(t)),
            (Block::Norm(norm), x) => each_rank!(x, |t| normalize(norm, t)),
            (Block::Flatten(_), Activation::Image(x)) => {
                let [batch, c, h, w] = x.dims();
                Activation::Flat(x.reshape([batch, c * h * w]))
            }
            (Block::Flatten(_), Activation::Sequence(x)) => {
                let [batch, positions, width] = x.dims();
                Activation::Flat(x.reshape([batch, positions * width]))
            }
            (Block::Flatten(_), x) => x,
            (Block::Embed(embed), Activation::Flat(ids)) => {
                let ids: Tensor<2, Int> = ids.int();
                let positions: Tensor<3> = embed.positions.val().unsqueeze_dim(0);
                Activation::Sequence(embed.tokens.forward(ids) + positions)
            }
            (Block::Transformer(block), Activation::Sequence(x)) => {
                Activation::Sequence(block.forward(x))
            }
            (_, _) => unreachable!("a checked spec gives every layer the rank it takes"),
        }
    }
}

impl Transformer {
    fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let [batch, positions, _] = x.dims();
        let mask = generate_autoregressive_mask(batch, positions, &x.device());
        let attended = self
            .attention
            .forward(
                MhaInput::self_attn(normalize(&self.attention_norm, x.clone())).mask_attn(mask),
            )
            .context;
        let x = x + attended;
        let fed = self
            .down
            .forward(gelu(self.up.forward(normalize(&self.feed_norm, x.clone()))));
        x + fed
    }
}
