//! The committee's exact forward pass for any layer list a task manifest can hold: `f64`, one
//! sample after the other, every sum in one fixed order, with `libm`'s `exp`, `erf`, `tanh` and
//! `sqrt` (plain IEEE arithmetic, no platform intrinsics), so the same parameters and samples
//! give the same logits, bit for bit, on any CPU and thread count.
//!
//! It mirrors [`crate::model::Model`]'s layers as burn computes them (tested against the backend
//! for every catalog model). Written by hand because no crate offers a bit-reproducible forward
//! pass across CPUs.

use droppin_task::Layer;

use crate::FlError;
use crate::model::{ModelSpec, Weights};

/// burn's layer-norm epsilon.
const NORM_EPSILON: f64 = 1e-5;

/// A model's parameters in `f64`, tensor by tensor in the layout's order.
pub(super) struct ExactModel<'a> {
    spec: &'a ModelSpec,
    tensors: Vec<Vec<f64>>,
}

/// An activation: values row-major in `shape`.
struct Values {
    data: Vec<f64>,
    shape: Vec<usize>,
}

/// Hands out the next tensors of the layout, layer by layer.
struct Cursor<'m> {
    tensors: &'m [Vec<f64>],
    next: usize,
}

impl<'m> Cursor<'m> {
    fn take(&mut self) -> &'m [f64] {
        let tensor = &self.tensors[self.next];
        self.next += 1;
        tensor
    }
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
        let mut tensors = Vec::with_capacity(weights.layout.len());
        for tensor in &weights.layout {
            let values = weights
                .values
                .get(offset..offset + tensor.len())
                .ok_or_else(|| FlError::Model("the weights do not fill their layout".into()))?;
            tensors.push(values.iter().map(|&v| f64::from(v)).collect());
            offset += tensor.len();
        }
        Ok(Self { spec, tensors })
    }

    /// The logits of one sample: `classes` of them for a classifier, `context x vocabulary`
    /// (position after position) for a text model.
    pub(super) fn logits(&self, input: &[f32]) -> Vec<f64> {
        let mut x = Values {
            data: input.iter().map(|&v| f64::from(v)).collect(),
            shape: self.spec.input.clone(),
        };
        let mut cursor = Cursor {
            tensors: &self.tensors,
            next: 0,
        };
        for layer in &self.spec.layers {
            x = self.layer(layer, x, &mut cursor);
        }
        x.data
    }

    fn layer(&self, layer: &Layer, x: Values, cursor: &mut Cursor) -> Values {
        match *layer {
            Layer::Dense { .. } => dense(x, cursor.take(), cursor.take()),
            Layer::Conv2d {
                kernel,
                stride,
                padding,
                channels,
            } => conv2d(
                &x,
                cursor.take(),
                cursor.take(),
                [channels, kernel, stride, padding].map(|v| v as usize),
            ),
            Layer::MaxPool2d { kernel } => pool(&x, kernel as usize, |window| {
                window.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v))
            }),
            Layer::AvgPool2d { kernel } => pool(&x, kernel as usize, |window| {
                window.iter().sum::<f64>() / window.len() as f64
            }),
            Layer::Relu => map(x, |v| v.max(0.0)),
            Layer::Gelu => map(x, gelu),
            Layer::Tanh => map(x, libm::tanh),
            Layer::Dropout { .. } => x,
            Layer::Flatten => Values {
                shape: vec![x.data.len()],
                data: x.data,
            },
            Layer::LayerNorm => layer_norm(x, cursor.take(), cursor.take()),
            Layer::Embedding { dim } => {
                let (tokens, positions) = (cursor.take(), cursor.take());
                let dim = dim as usize;
                let mut data = Vec::with_capacity(x.data.len() * dim);
                for (position, &id) in x.data.iter().enumerate() {
                    let id = id as usize;
                    let token = &tokens[id * dim..(id + 1) * dim];
                    let place = &positions[position * dim..(position + 1) * dim];
                    data.extend(token.iter().zip(place).map(|(a, b)| a + b));
                }
                Values {
                    shape: vec![x.data.len(), dim],
                    data,
                }
            }
            Layer::TransformerBlock { heads, .. } => transformer(x, heads as usize, cursor),
        }
    }
}

fn map(x: Values, f: impl Fn(f64) -> f64) -> Values {
    Values {
        data: x.data.into_iter().map(f).collect(),
        shape: x.shape,
    }
}

/// burn's exact GELU: `x/2 (1 + erf(x / sqrt 2))`.
fn gelu(x: f64) -> f64 {
    x * 0.5 * (1.0 + libm::erf(x / std::f64::consts::SQRT_2))
}

/// `x W + b` on the last dimension, `W` being `[in, out]` row-major.
fn dense(x: Values, weight: &[f64], bias: &[f64]) -> Values {
    let (inputs, outputs) = (*x.shape.last().expect("not empty"), bias.len());
    let mut data = Vec::with_capacity(x.data.len() / inputs * outputs);
    for row in x.data.chunks(inputs) {
        let mut out = bias.to_vec();
        for (i, &v) in row.iter().enumerate() {
            if v == 0.0 {
                continue;
            }
            for (o, &w) in out.iter_mut().zip(&weight[i * outputs..(i + 1) * outputs]) {
                *o += v * w;
            }
        }
        data.extend(out);
    }
    let mut shape = x.shape;
    *shape.last_mut().expect("not empty") = outputs;
    Values { data, shape }
}

/// A 2-D convolution of a `[channels, height, width]` input by a `[out, in, k, k]` kernel.
fn conv2d(
    x: &Values,
    kernel: &[f64],
    bias: &[f64],
    [filters, k, stride, padding]: [usize; 4],
) -> Values {
    let [channels, height, width] = [x.shape[0], x.shape[1], x.shape[2]];
    let out_h = (height + 2 * padding - k) / stride + 1;
    let out_w = (width + 2 * padding - k) / stride + 1;
    let mut data = Vec::with_capacity(filters * out_h * out_w);
    for f in 0..filters {
        for oy in 0..out_h {
            for ox in 0..out_w {
                let mut sum = bias[f];
                for c in 0..channels {
                    for ky in 0..k {
                        let Some(iy) = (oy * stride + ky)
                            .checked_sub(padding)
                            .filter(|&v| v < height)
                        else {
                            continue;
                        };
                        for kx in 0..k {
                            let Some(ix) = (ox * stride + kx)
                                .checked_sub(padding)
                                .filter(|&v| v < width)
                            else {
                                continue;
                            };
                            sum += kernel[((f * channels + c) * k + ky) * k + kx]
                                * x.data[(c * height + iy) * width + ix];
                        }
                    }
                }
                data.push(sum);
            }
        }
    }
    Values {
        data,
        shape: vec![filters, out_h, out_w],
    }
}

/// Square windows of side `k`, step `k`, reduced by `reduce`.
fn pool(x: &Values, k: usize, reduce: impl Fn(&[f64]) -> f64) -> Values {
    let [channels, height, width] = [x.shape[0], x.shape[1], x.shape[2]];
    let (out_h, out_w) = (height / k, width / k);
    let mut data = Vec::with_capacity(channels * out_h * out_w);
    let mut window = Vec::with_capacity(k * k);
    for c in 0..channels {
        for oy in 0..out_h {
            for ox in 0..out_w {
                window.clear();
                for dy in 0..k {
                    let row = (c * height + oy * k + dy) * width + ox * k;
                    window.extend_from_slice(&x.data[row..row + k]);
                }
                data.push(reduce(&window));
            }
        }
    }
    Values {
        data,
        shape: vec![channels, out_h, out_w],
    }
}

/// Normalizes each row of the last dimension (biased variance), then scales and shifts.
fn layer_norm(x: Values, gamma: &[f64], beta: &[f64]) -> Values {
    let width = gamma.len();
    let mut data = Vec::with_capacity(x.data.len());
    for row in x.data.chunks(width) {
        let mean = row.iter().sum::<f64>() / width as f64;
        let variance = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / width as f64;
        let scale = 1.0 / libm::sqrt(variance + NORM_EPSILON);
        data.extend(
            row.iter()
                .zip(gamma.iter().zip(beta))
                .map(|(v, (g, b))| (v - mean) * scale * g + b),
        );
    }
    Values {
        data,
        shape: x.shape,
    }
}

/// A pre-norm block: `x + attention(norm(x))`, then `x + down(gelu(up(norm(x))))`, attention
/// causal (a position sees itself and the positions before it).
fn transformer(x: Values, heads: usize, cursor: &mut Cursor) -> Values {
    let shape = x.shape.clone();
    let [positions, width] = [shape[0], shape[1]];
    let (norm_gamma, norm_beta) = (cursor.take(), cursor.take());
    let [query, key, value, output] = [0; 4].map(|_| (cursor.take(), cursor.take()));
    let (feed_gamma, feed_beta) = (cursor.take(), cursor.take());
    let (up, down) = (
        (cursor.take(), cursor.take()),
        (cursor.take(), cursor.take()),
    );
    let normed = layer_norm(
        Values {
            data: x.data.clone(),
            shape: shape.clone(),
        },
        norm_gamma,
        norm_beta,
    );
    let project = |(w, b): (&[f64], &[f64])| {
        dense(
            Values {
                data: normed.data.clone(),
                shape: shape.clone(),
            },
            w,
            b,
        )
        .data
    };
    let (q, k, v) = (project(query), project(key), project(value));
    let head = width / heads;
    let scale = 1.0 / libm::sqrt(head as f64);
    let mut context = vec![0f64; positions * width];
    for h in 0..heads {
        let slot = |t: usize| t * width + h * head..t * width + (h + 1) * head;
        for t in 0..positions {
            let scores: Vec<f64> = (0..=t)
                .map(|s| {
                    q[slot(t)]
                        .iter()
                        .zip(&k[slot(s)])
                        .map(|(a, b)| a * b)
                        .sum::<f64>()
                        * scale
                })
                .collect();
            let max = scores.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
            let exps: Vec<f64> = scores.iter().map(|&s| libm::exp(s - max)).collect();
            let sum: f64 = exps.iter().sum();
            for (s, e) in exps.iter().enumerate() {
                let weight = e / sum;
                for (out, &val) in context[slot(t)].iter_mut().zip(&v[slot(s)]) {
                    *out += weight * val;
                }
            }
        }
    }
    let attended = dense(
        Values {
            data: context,
            shape: shape.clone(),
        },
        output.0,
        output.1,
    );
    let x: Vec<f64> = x
        .data
        .iter()
        .zip(&attended.data)
        .map(|(a, b)| a + b)
        .collect();
    let fed = dense(
        map(
            dense(
                layer_norm(
                    Values {
                        data: x.clone(),
                        shape: shape.clone(),
                    },
                    feed_gamma,
                    feed_beta,
                ),
                up.0,
                up.1,
            ),
            gelu,
        ),
        down.0,
        down.1,
    );
    Values {
        data: x.iter().zip(&fed.data).map(|(a, b)| a + b).collect(),
        shape,
    }
}
