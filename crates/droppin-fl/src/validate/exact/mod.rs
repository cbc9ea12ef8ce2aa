//! The committee's own copy of the model, for any layer list a task manifest can hold: forward
//! and backward passes in `f64`, one sample at a time, every sum in one fixed order, with
//! `libm`'s `exp`, `erf`, `log` and `sqrt` (plain IEEE arithmetic, no platform intrinsics).
//!
//! Basic IEEE operations are correctly rounded and Rust never fuses a multiply and an add on its
//! own, so the same parameters and samples give the same bits on any x86-64 or ARM CPU and any
//! thread count: validators on different machines reach the same verdicts. burn's kernels, which
//! pick SIMD paths by CPU and split sums by thread, train and ship models; they never decide.
//! It mirrors [`crate::model::Model`]'s layers as burn computes them (tested against the backend
//! for every catalog model, and against finite differences for every layer). Written by hand
//! because no crate offers a bit-reproducible forward and backward pass across CPUs.

mod ops;
mod transformer;

use std::ops::Range;

use droppin_task::Layer;
use rand::Rng;

use crate::FlError;
use crate::data::Dataset;
use crate::model::{ModelSpec, Weights};

use ops::Conv;

/// A model's parameters in `f64`, in the layout's order, with where each tensor sits.
pub(super) struct ExactModel<'a> {
    spec: &'a ModelSpec,
    /// Every parameter, in the layout's order.
    pub params: Vec<f64>,
    /// Each tensor's place in `params`.
    tensors: Vec<Range<usize>>,
    /// Each layer's first tensor.
    first_tensor: Vec<usize>,
    /// Each layer's input shape.
    shapes: Vec<Vec<usize>>,
    /// The first layer holding parameters: no gradient is needed below it.
    first_trained: usize,
}

/// What a layer's forward pass leaves for its backward pass.
enum Saved {
    /// The layer's input (dense, convolution, activations, normalization, embedding).
    Input(Vec<f64>),
    /// Where each pooled maximum came from.
    Argmax(Vec<usize>),
    /// Each activation's factor: zero, or `1 / (1 - rate)`.
    Mask(Vec<f64>),
    Block(Box<transformer::Cache>),
    /// Nothing: the gradient passes as it is (flatten, average pooling, dropout at rate 0).
    Nothing,
}

impl<'a> ExactModel<'a> {
    /// The model of `spec` holding `weights`; refuses weights of another layout.
    pub(super) fn of(spec: &'a ModelSpec, weights: &Weights) -> Result<Self, FlError> {
        if Weights::layout_of(spec) != weights.layout {
            return Err(FlError::Model(
                "weights do not match the model spec's tensor layout".into(),
            ));
        }
        let mut offset = 0;
        let tensors: Vec<Range<usize>> = weights
            .layout
            .iter()
            .map(|tensor| {
                offset += tensor.len();
                offset - tensor.len()..offset
            })
            .collect();
        if offset != weights.values.len() {
            return Err(FlError::Model(
                "the weights do not fill their layout".into(),
            ));
        }
        let mut first_tensor = Vec::with_capacity(spec.layers.len());
        let mut next = 0;
        for layer in &spec.layers {
            first_tensor.push(next);
            next += tensors_of(layer);
        }
        if next != tensors.len() {
            return Err(FlError::Model(
                "the layout does not hold the layers' tensors".into(),
            ));
        }
        let first_trained = spec
            .layers
            .iter()
            .position(|layer| tensors_of(layer) > 0)
            .unwrap_or(0);
        Ok(Self {
            spec,
            first_trained,
            params: weights.values.iter().map(|&v| f64::from(v)).collect(),
            tensors,
            first_tensor,
            shapes: spec.layer_inputs()?,
        })
    }

    /// The logits of one sample: `classes` of them for a classifier, `context x vocabulary`
    /// (position after position) for a text model. Dropout passes everything.
    pub(super) fn logits(&self, input: &[f32]) -> Vec<f64> {
        let mut x: Vec<f64> = input.iter().map(|&v| f64::from(v)).collect();
        for at in 0..self.spec.layers.len() {
            x = self.forward(at, x, None).0;
        }
        x
    }

    /// Adds the gradient of one sample's cross-entropy, summed over its `targets` (one per
    /// prediction), to `gradient` (in the layout's order). Dropout masks come from `dropout`.
    pub(super) fn accumulate_gradient(
        &self,
        input: &[f32],
        targets: impl Iterator<Item = usize>,
        dropout: &mut impl Rng,
        gradient: &mut [f64],
    ) {
        let mut x: Vec<f64> = input.iter().map(|&v| f64::from(v)).collect();
        let mut saved = Vec::with_capacity(self.spec.layers.len());
        for at in 0..self.spec.layers.len() {
            let (out, kept) = self.forward(at, x, Some(&mut *dropout));
            x = out;
            saved.push(kept);
        }
        let mut d = Vec::with_capacity(x.len());
        for (logits, target) in x.chunks(self.spec.classes).zip(targets) {
            let (exps, sum) = shifted_exps(logits);
            d.extend(
                exps.iter()
                    .enumerate()
                    .map(|(o, e)| e / sum - f64::from(u8::from(o == target))),
            );
        }
        for (at, kept) in saved.iter().enumerate().rev() {
            let Some(back) = self.backward(at, kept, &d, gradient) else {
                break;
            };
            d = back;
        }
    }

    fn params_of(&self, layer: usize) -> Vec<&[f64]> {
        let first = self.first_tensor[layer];
        self.tensors[first..first + tensors_of(&self.spec.layers[layer])]
            .iter()
            .map(|range| &self.params[range.clone()])
            .collect()
    }

    /// The layer's input shape as `[channels, height, width]` (the layers that take images).
    fn image(&self, layer: usize) -> [usize; 3] {
        match *self.shapes[layer].as_slice() {
            [c, h, w] => [c, h, w],
            _ => unreachable!("the checked spec gives this layer an image"),
        }
    }

    fn conv(&self, layer: usize) -> Conv {
        let Layer::Conv2d {
            channels,
            kernel,
            stride,
            padding,
        } = self.spec.layers[layer]
        else {
            unreachable!("a convolution")
        };
        Conv {
            input: self.image(layer),
            filters: channels as usize,
            kernel: kernel as usize,
            stride: stride as usize,
            padding: padding as usize,
        }
    }

    /// Layer `at` over `x`; with `dropout` (training), what its backward pass needs.
    fn forward(
        &self,
        at: usize,
        x: Vec<f64>,
        dropout: Option<&mut dyn rand::RngCore>,
    ) -> (Vec<f64>, Saved) {
        let p = self.params_of(at);
        let out = match self.spec.layers[at] {
            Layer::Dense { .. } => ops::dense(&x, p[0], p[1]),
            Layer::Conv2d { .. } => ops::conv2d(&x, p[0], p[1], self.conv(at)),
            Layer::MaxPool2d { kernel } => {
                let (out, argmax) = ops::max_pool(&x, self.image(at), kernel as usize);
                return (out, Saved::Argmax(argmax));
            }
            Layer::AvgPool2d { kernel } => {
                return (
                    ops::avg_pool(&x, self.image(at), kernel as usize),
                    Saved::Nothing,
                );
            }
            // Written out rather than `max`, which leaves the sign of a zero input open.
            Layer::Relu => x.iter().map(|&v| if v > 0.0 { v } else { 0.0 }).collect(),
            Layer::Gelu => x.iter().map(|&v| ops::gelu(v)).collect(),
            Layer::Tanh => x.iter().map(|&v| libm::tanh(v)).collect(),
            Layer::Dropout { rate } => {
                let Some(rng) = dropout.filter(|_| rate > 0.0) else {
                    return (x, Saved::Nothing);
                };
                let mask: Vec<f64> = x
                    .iter()
                    .map(|_| {
                        if rng.random::<f64>() < rate {
                            0.0
                        } else {
                            1.0 / (1.0 - rate)
                        }
                    })
                    .collect();
                let out = x.iter().zip(&mask).map(|(v, m)| v * m).collect();
                return (out, Saved::Mask(mask));
            }
            Layer::Flatten => return (x, Saved::Nothing),
            Layer::LayerNorm => ops::layer_norm(&x, p[0], p[1]),
            Layer::Embedding { dim } => {
                let dim = dim as usize;
                let (tokens, positions) = (p[0], p[1]);
                let mut out = Vec::with_capacity(x.len() * dim);
                for (position, &id) in x.iter().enumerate() {
                    let token = &tokens[id as usize * dim..(id as usize + 1) * dim];
                    let place = &positions[position * dim..(position + 1) * dim];
                    out.extend(token.iter().zip(place).map(|(a, b)| a + b));
                }
                out
            }
            Layer::TransformerBlock { heads, .. } => {
                let width = *self.shapes[at].last().expect("positions x width");
                let (out, cache) = transformer::forward(x, width, heads as usize, &p);
                return (out, Saved::Block(Box::new(cache)));
            }
        };
        (out, Saved::Input(x))
    }

    /// Layer `at`'s backward pass for `d_out`: adds its parameters' gradients to `gradient` and
    /// returns its input's gradient, or `None` at the first layer holding parameters (nothing
    /// below it needs one).
    fn backward(
        &self,
        at: usize,
        saved: &Saved,
        d_out: &[f64],
        gradient: &mut [f64],
    ) -> Option<Vec<f64>> {
        let want_input = at > self.first_trained;
        let p = self.params_of(at);
        let mut grads = self.gradient_of(at, gradient);
        let input = || match saved {
            Saved::Input(x) => x.as_slice(),
            _ => unreachable!("this layer keeps its input"),
        };
        let slope = |f: &dyn Fn(f64) -> f64| -> Vec<f64> {
            d_out.iter().zip(input()).map(|(d, &x)| d * f(x)).collect()
        };
        match (&self.spec.layers[at], saved) {
            (Layer::Dense { .. }, _) => {
                let [w, b] = two(&mut grads);
                ops::dense_back(input(), p[0], d_out, [w, b], want_input)
            }
            (Layer::Conv2d { .. }, _) => {
                let [k, b] = two(&mut grads);
                ops::conv2d_back(input(), p[0], d_out, [k, b], self.conv(at), want_input)
            }
            (Layer::MaxPool2d { .. }, Saved::Argmax(argmax)) => {
                let mut d_x = vec![0f64; self.shapes[at].iter().product()];
                for (&from, &d) in argmax.iter().zip(d_out) {
                    d_x[from] += d;
                }
                Some(d_x)
            }
            (Layer::AvgPool2d { kernel }, _) => {
                Some(ops::avg_pool_back(d_out, self.image(at), *kernel as usize))
            }
            (Layer::Relu, _) => Some(
                d_out
                    .iter()
                    .zip(input())
                    .map(|(&d, &x)| if x > 0.0 { d } else { 0.0 })
                    .collect(),
            ),
            (Layer::Gelu, _) => Some(slope(&ops::gelu_slope)),
            (Layer::Tanh, _) => Some(slope(&|x| {
                let y = libm::tanh(x);
                1.0 - y * y
            })),
            (Layer::Dropout { .. }, Saved::Mask(mask)) => {
                Some(d_out.iter().zip(mask).map(|(d, m)| d * m).collect())
            }
            (Layer::LayerNorm, _) => {
                let [g, b] = two(&mut grads);
                Some(ops::layer_norm_back(input(), p[0], d_out, [g, b]))
            }
            (Layer::Embedding { dim }, _) => {
                let dim = *dim as usize;
                let [tokens, positions] = two(&mut grads);
                for (position, (&id, d)) in input().iter().zip(d_out.chunks(dim)).enumerate() {
                    let token = &mut tokens[id as usize * dim..(id as usize + 1) * dim];
                    for (g, &v) in token.iter_mut().zip(d) {
                        *g += v;
                    }
                    for (g, &v) in positions[position * dim..(position + 1) * dim]
                        .iter_mut()
                        .zip(d)
                    {
                        *g += v;
                    }
                }
                None
            }
            (Layer::TransformerBlock { heads, .. }, Saved::Block(cache)) => {
                let width = *self.shapes[at].last().expect("positions x width");
                Some(transformer::backward(
                    cache,
                    d_out,
                    width,
                    *heads as usize,
                    &p,
                    &mut grads,
                ))
            }
            // Flatten, and dropout while not training.
            _ => Some(d_out.to_vec()),
        }
        .filter(|_| want_input)
    }

    /// Layer `at`'s tensors within `gradient`, in order.
    fn gradient_of<'g>(&self, at: usize, gradient: &'g mut [f64]) -> Vec<&'g mut [f64]> {
        let first = self.first_tensor[at];
        let ranges = &self.tensors[first..first + tensors_of(&self.spec.layers[at])];
        let Some(start) = ranges.first().map(|r| r.start) else {
            return Vec::new();
        };
        let mut rest = &mut gradient[start..];
        ranges
            .iter()
            .map(|range| {
                let (tensor, tail) = std::mem::take(&mut rest).split_at_mut(range.len());
                rest = tail;
                tensor
            })
            .collect()
    }
}

/// The tensors a layer holds, in the layout.
fn tensors_of(layer: &Layer) -> usize {
    match layer {
        Layer::Dense { .. } | Layer::Conv2d { .. } | Layer::LayerNorm | Layer::Embedding { .. } => {
            2
        }
        Layer::TransformerBlock { .. } => transformer::TENSORS,
        _ => 0,
    }
}

/// The two tensors of a layer that holds two.
fn two<'s>(grads: &'s mut [&mut [f64]]) -> [&'s mut [f64]; 2] {
    match grads {
        [a, b] => [&mut **a, &mut **b],
        _ => unreachable!("a layer of two tensors"),
    }
}

/// Refuses `data` (named `what` in the error) whose samples or classes do not fit `spec`, or
/// that is empty.
pub(super) fn check_data(spec: &ModelSpec, data: &Dataset, what: &str) -> Result<(), FlError> {
    if data.is_empty() {
        return Err(FlError::Data(format!("{what} is empty")));
    }
    if data.feature_dim() != spec.input_dim() || data.classes != spec.classes {
        return Err(FlError::Data(format!(
            "{what} has {} features and {} classes, the model takes {} and {}",
            data.feature_dim(),
            data.classes,
            spec.input_dim(),
            spec.classes
        )));
    }
    if spec.is_text()
        && let Some(bad) = data
            .features
            .iter()
            .find(|&&id| id.fract() != 0.0 || !(0.0..spec.classes as f32).contains(&id))
    {
        return Err(FlError::Data(format!(
            "{what} holds {bad}, not a token id below {}",
            spec.classes
        )));
    }
    Ok(())
}

/// The softmax's parts, overflow-safe: `exp(logit - largest)` of each logit and their sum, in
/// order.
fn shifted_exps(logits: &[f64]) -> (Vec<f64>, f64) {
    let max = logits.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
    let exps: Vec<f64> = logits.iter().map(|&v| libm::exp(v - max)).collect();
    let sum = exps.iter().sum();
    (exps, sum)
}

#[cfg(test)]
mod tests;
