//! The burn modules behind each [`ModelKind`].

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use super::{ModelKind, ModelSpec};

/// Dense, ReLU, dense.
#[derive(Module, Debug)]
pub struct Mlp {
    hidden: Linear,
    output: Linear,
}

/// Conv 3x3 (same padding), ReLU, max pool 2x2, dense.
#[derive(Module, Debug)]
pub struct Cnn {
    conv: Conv2d,
    pool: MaxPool2d,
    output: Linear,
}

/// A model of either kind, so callers hold one type whatever the spec says.
#[derive(Module, Debug)]
pub enum Model {
    Mlp(Mlp),
    Cnn(Cnn),
}

impl Model {
    /// A fresh model of `spec` on `device`; its weights are replaced by [`crate::model::Weights`]
    /// before use, so burn's own initializer never decides a result.
    pub fn init(spec: &ModelSpec, device: &Device) -> Self {
        match spec.kind {
            ModelKind::Mlp => Model::Mlp(Mlp {
                hidden: LinearConfig::new(spec.input_dim(), spec.width).init(device),
                output: LinearConfig::new(spec.width, spec.classes).init(device),
            }),
            ModelKind::Cnn => {
                let [channels, height, width] = spec.input;
                Model::Cnn(Cnn {
                    conv: Conv2dConfig::new([channels, spec.width], [3, 3])
                        .with_padding(PaddingConfig2d::Same)
                        .init(device),
                    pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
                    output: LinearConfig::new(
                        spec.width * (height / 2) * (width / 2),
                        spec.classes,
                    )
                    .init(device),
                })
            }
        }
    }

    /// Logits for a batch of flat inputs `[batch, input_dim]`.
    pub fn forward(&self, inputs: Tensor<2>, spec: &ModelSpec) -> Tensor<2> {
        match self {
            Model::Mlp(mlp) => mlp.output.forward(relu(mlp.hidden.forward(inputs))),
            Model::Cnn(cnn) => {
                let [batch, _] = inputs.dims();
                let [c, h, w] = spec.input;
                let images = inputs.reshape([batch, c, h, w]);
                let features = cnn.pool.forward(relu(cnn.conv.forward(images)));
                let [_, fc, fh, fw] = features.dims();
                cnn.output.forward(features.reshape([batch, fc * fh * fw]))
            }
        }
    }
}
