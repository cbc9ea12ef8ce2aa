//! The committee's own copy of the model: forward and backward passes in `f64`, one sample after
//! the other, every sum in one fixed order, with `libm`'s `exp` and `log` (a port of musl's, plain
//! IEEE arithmetic, no platform intrinsics).
//!
//! Basic IEEE operations are correctly rounded and Rust never fuses a multiply and an add on its
//! own, so the same parameters and samples give the same bits on any x86-64 or ARM CPU and any
//! thread count: validators on different machines reach the same verdicts. burn's kernels, which
//! pick SIMD paths by CPU and split sums by thread, train and ship models; they never decide.
//! Written by hand because no crate offers a bit-reproducible forward and backward pass across
//! CPUs.

use crate::FlError;
use crate::data::Dataset;
use crate::model::{ModelKind, ModelSpec, Weights};

/// The model's parameters in `f64`, with where each tensor the architecture reads sits.
pub(super) struct Network<'a> {
    spec: &'a ModelSpec,
    kind: ModelKind,
    /// Hidden units (MLP) or convolution channels (CNN).
    width: usize,
    /// Every parameter, in the layout's order.
    pub params: Vec<f64>,
    /// `(offset, len)` of each tensor the architecture reads, in the order of [`Self::names`].
    tensors: Vec<(usize, usize)>,
}

/// What a forward pass leaves for the backward pass.
struct Trace {
    /// The first layer's output after ReLU (and pooling), flattened: the output layer's input.
    features: Vec<f64>,
    /// CNN only: the convolution's output after ReLU, `[filters, height, width]`.
    conv: Vec<f64>,
    /// CNN only: for each pooled feature, the index in `conv` of the maximum it took.
    argmax: Vec<usize>,
    logits: Vec<f64>,
}

impl<'a> Network<'a> {
    /// The network of a standard architecture ([`ModelSpec::standard`]); its four tensors are
    /// the first layer's kernel and bias, then the output layer's, in the layout's order.
    pub(super) fn of(spec: &'a ModelSpec, weights: &Weights) -> Result<Self, FlError> {
        let Some((kind, width)) = spec.standard() else {
            return Err(FlError::Model(
                "the committee's exact trainer takes the standard MLP and CNN only".into(),
            ));
        };
        let expected: usize = weights.layout.iter().map(|t| t.len()).sum();
        if weights.layout.len() != 4 || expected != weights.values.len() {
            return Err(FlError::Model(
                "the weights do not fill the model's layout".into(),
            ));
        }
        let mut offset = 0;
        let tensors = weights
            .layout
            .iter()
            .map(|tensor| {
                offset += tensor.len();
                (offset - tensor.len(), tensor.len())
            })
            .collect();
        Ok(Self {
            spec,
            kind,
            width,
            params: weights.values.iter().map(|&v| f64::from(v)).collect(),
            tensors,
        })
    }

    /// The CNN's input, `[channels, height, width]`.
    fn image(&self) -> [usize; 3] {
        match *self.spec.input.as_slice() {
            [c, h, w] => [c, h, w],
            _ => unreachable!("a standard CNN takes images"),
        }
    }

    fn range(&self, index: usize) -> std::ops::Range<usize> {
        let (offset, len) = self.tensors[index];
        offset..offset + len
    }

    fn tensor(&self, index: usize) -> &[f64] {
        &self.params[self.range(index)]
    }

    fn forward(&self, input: &[f32]) -> Trace {
        let (features, conv, argmax) = match self.kind {
            ModelKind::Mlp => {
                let input: Vec<f64> = input.iter().map(|&v| f64::from(v)).collect();
                let hidden = dense(&input, self.tensor(0), self.tensor(1));
                (
                    hidden.into_iter().map(|v| v.max(0.0)).collect(),
                    Vec::new(),
                    Vec::new(),
                )
            }
            ModelKind::Cnn => self.conv_relu_pool(input),
        };
        let logits = dense(&features, self.tensor(2), self.tensor(3));
        Trace {
            features,
            conv,
            argmax,
            logits,
        }
    }

    /// Adds the gradient of one sample's cross-entropy to `gradient` (in the layout's order).
    pub(super) fn accumulate_gradient(&self, input: &[f32], label: usize, gradient: &mut [f64]) {
        let trace = self.forward(input);
        let classes = trace.logits.len();
        let (_, exps, sum) = shifted_exps(&trace.logits);
        let d_logits: Vec<f64> = exps
            .iter()
            .enumerate()
            .map(|(o, e)| e / sum - f64::from(u8::from(o == label)))
            .collect();
        // The output layer: weight [features, classes], row-major.
        let (weight, bias) = (self.range(2), self.range(3));
        let mut d_features = vec![0f64; trace.features.len()];
        for (j, &feature) in trace.features.iter().enumerate() {
            let row = weight.start + j * classes;
            let mut back = 0f64;
            for (o, &d) in d_logits.iter().enumerate() {
                gradient[row + o] += feature * d;
                back += self.params[row + o] * d;
            }
            d_features[j] = back;
        }
        for (o, &d) in d_logits.iter().enumerate() {
            gradient[bias.start + o] += d;
        }
        match self.kind {
            ModelKind::Mlp => self.back_hidden(input, &trace, &d_features, gradient),
            ModelKind::Cnn => self.back_conv(input, &trace, &d_features, gradient),
        }
    }

    /// The hidden layer's gradient: `input x weight + bias` then ReLU.
    fn back_hidden(&self, input: &[f32], trace: &Trace, d_features: &[f64], gradient: &mut [f64]) {
        let (weight, bias) = (self.range(0), self.range(1));
        let width = d_features.len();
        let d_hidden: Vec<f64> = d_features
            .iter()
            .zip(&trace.features)
            .map(|(&d, &h)| if h > 0.0 { d } else { 0.0 })
            .collect();
        for (i, &x) in input.iter().enumerate() {
            if x == 0.0 {
                continue;
            }
            let row = weight.start + i * width;
            for (j, &d) in d_hidden.iter().enumerate() {
                gradient[row + j] += f64::from(x) * d;
            }
        }
        for (j, &d) in d_hidden.iter().enumerate() {
            gradient[bias.start + j] += d;
        }
    }

    /// The convolution's gradient, through pooling (to the maximum taken) and ReLU.
    fn back_conv(&self, input: &[f32], trace: &Trace, d_features: &[f64], gradient: &mut [f64]) {
        let [channels, height, width] = self.image();
        let (kernel, bias) = (self.range(0), self.range(1));
        let mut d_conv = vec![0f64; trace.conv.len()];
        for (&at, &d) in trace.argmax.iter().zip(d_features) {
            if trace.conv[at] > 0.0 {
                d_conv[at] += d;
            }
        }
        for (at, &d) in d_conv.iter().enumerate() {
            if d == 0.0 {
                continue;
            }
            let (f, y, x) = (at / (height * width), at / width % height, at % width);
            gradient[bias.start + f] += d;
            for c in 0..channels {
                for ky in 0..3 {
                    let Some(iy) = (y + ky).checked_sub(1).filter(|&v| v < height) else {
                        continue;
                    };
                    for kx in 0..3 {
                        let Some(ix) = (x + kx).checked_sub(1).filter(|&v| v < width) else {
                            continue;
                        };
                        gradient[kernel.start + ((f * channels + c) * 3 + ky) * 3 + kx] +=
                            d * f64::from(input[(c * height + iy) * width + ix]);
                    }
                }
            }
        }
    }

    /// 3x3 convolution with same padding, ReLU, 2x2 max pooling: the flattened features, the
    /// convolution's output and where each pooled maximum came from.
    fn conv_relu_pool(&self, input: &[f32]) -> (Vec<f64>, Vec<f64>, Vec<usize>) {
        let [channels, height, width] = self.image();
        let filters = self.width;
        let (kernel, bias) = (self.tensor(0), self.tensor(1));
        let (ph, pw) = (height / 2, width / 2);
        let mut pooled = Vec::with_capacity(filters * ph * pw);
        let mut argmax = Vec::with_capacity(filters * ph * pw);
        let mut conv = vec![0f64; filters * height * width];
        for f in 0..filters {
            let map = &mut conv[f * height * width..(f + 1) * height * width];
            for y in 0..height {
                for x in 0..width {
                    let mut sum = bias[f];
                    for c in 0..channels {
                        for ky in 0..3 {
                            let Some(iy) = (y + ky).checked_sub(1).filter(|&v| v < height) else {
                                continue;
                            };
                            for kx in 0..3 {
                                let Some(ix) = (x + kx).checked_sub(1).filter(|&v| v < width)
                                else {
                                    continue;
                                };
                                sum += kernel[((f * channels + c) * 3 + ky) * 3 + kx]
                                    * f64::from(input[(c * height + iy) * width + ix]);
                            }
                        }
                    }
                    map[y * width + x] = sum.max(0.0);
                }
            }
            for y in 0..ph {
                for x in 0..pw {
                    let mut best = (2 * y) * width + 2 * x;
                    for (dy, dx) in [(0, 1), (1, 0), (1, 1)] {
                        let at = (2 * y + dy) * width + 2 * x + dx;
                        if map[at] > map[best] {
                            best = at;
                        }
                    }
                    pooled.push(map[best]);
                    argmax.push(f * height * width + best);
                }
            }
        }
        (pooled, conv, argmax)
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

/// The softmax's parts, overflow-safe: the largest logit, `exp(logit - largest)` of each logit
/// and their sum, in order.
pub(super) fn shifted_exps(logits: &[f64]) -> (f64, Vec<f64>, f64) {
    let max = logits.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
    let exps: Vec<f64> = logits.iter().map(|&v| libm::exp(v - max)).collect();
    let sum = exps.iter().sum();
    (max, exps, sum)
}

/// `input x weight + bias` for a `[in, out]` row-major weight, inputs in order.
fn dense(input: &[f64], weight: &[f64], bias: &[f64]) -> Vec<f64> {
    let outputs = bias.len();
    let mut out = bias.to_vec();
    for (i, &x) in input.iter().enumerate() {
        if x == 0.0 {
            continue;
        }
        let row = &weight[i * outputs..(i + 1) * outputs];
        for (o, &w) in out.iter_mut().zip(row) {
            *o += x * w;
        }
    }
    out
}
