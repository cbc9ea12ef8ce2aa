//! The evaluation that decides verdicts: the model's forward pass in `f64`, one sample after the
//! other, every sum in one fixed order, with `libm`'s `exp` and `log` (a port of musl's, plain
//! IEEE arithmetic, no platform intrinsics).
//!
//! Basic IEEE operations are correctly rounded and Rust never fuses a multiply and an add on its
//! own, so the same weights and samples give the same bits on any x86-64 or ARM CPU and any
//! thread count: validators on different machines reach the same verdicts. burn's kernels, which
//! pick SIMD paths by CPU and split sums by thread, train and ship models; they never decide.
//! Written by hand because no crate offers a bit-reproducible forward pass across CPUs.

use crate::FlError;
use crate::data::Dataset;
use crate::evaluate::Evaluation;
use crate::model::{ModelKind, ModelSpec, Weights};

/// Mean cross-entropy (nats) and accuracy of `weights` on `data`, bit-identical everywhere.
pub fn score(spec: &ModelSpec, weights: &Weights, data: &Dataset) -> Result<Evaluation, FlError> {
    let (losses, correct) = sample_losses(spec, weights, data)?;
    Ok(Evaluation::of_sums(
        losses.iter().sum(),
        correct,
        data.len(),
    ))
}

/// Each sample's cross-entropy (nats), in order, and how many samples the model gets right.
pub(super) fn sample_losses(
    spec: &ModelSpec,
    weights: &Weights,
    data: &Dataset,
) -> Result<(Vec<f64>, usize), FlError> {
    if data.is_empty() {
        return Err(FlError::Data("cannot evaluate on an empty dataset".into()));
    }
    if data.feature_dim() != spec.input_dim() || data.classes != spec.classes {
        return Err(FlError::Data(format!(
            "the validation set has {} features and {} classes, the model takes {} and {}",
            data.feature_dim(),
            data.classes,
            spec.input_dim(),
            spec.classes
        )));
    }
    let net = Network::of(spec, weights)?;
    let mut losses = Vec::with_capacity(data.len());
    let mut correct = 0usize;
    let mut logits = vec![0f64; spec.classes];
    for row in 0..data.len() {
        net.logits(data.row(row), &mut logits);
        let label = usize::from(data.labels[row]);
        let max = logits.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
        let sum: f64 = logits.iter().map(|&v| libm::exp(v - max)).sum();
        losses.push(libm::log(sum) + max - logits[label]);
        let predicted = (0..spec.classes)
            .max_by(|&a, &b| logits[a].total_cmp(&logits[b]).then(b.cmp(&a)))
            .expect("at least two classes");
        correct += usize::from(predicted == label);
    }
    Ok((losses, correct))
}

/// The model's tensors, looked up by name in the flat weights.
struct Network<'a> {
    spec: &'a ModelSpec,
    weights: &'a Weights,
    /// `(offset, len)` of each tensor the architecture reads, in the order of [`Self::names`].
    tensors: Vec<(usize, usize)>,
}

impl<'a> Network<'a> {
    fn names(kind: ModelKind) -> [&'static str; 4] {
        match kind {
            ModelKind::Mlp => [
                "hidden.weight",
                "hidden.bias",
                "output.weight",
                "output.bias",
            ],
            ModelKind::Cnn => ["conv.weight", "conv.bias", "output.weight", "output.bias"],
        }
    }

    fn of(spec: &'a ModelSpec, weights: &'a Weights) -> Result<Self, FlError> {
        let tensors = Self::names(spec.kind)
            .iter()
            .map(|name| {
                let mut offset = 0;
                for tensor in &weights.layout {
                    // Named by its path in the model, under the architecture's variant.
                    if tensor.name == *name || tensor.name.ends_with(&format!(".{name}")) {
                        return Ok((offset, tensor.len()));
                    }
                    offset += tensor.len();
                }
                Err(FlError::Model(format!("the weights lack tensor {name:?}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let expected: usize = weights.layout.iter().map(|t| t.len()).sum();
        if expected != weights.values.len() {
            return Err(FlError::Model(
                "the weights do not fill their layout".into(),
            ));
        }
        Ok(Self {
            spec,
            weights,
            tensors,
        })
    }

    fn tensor(&self, index: usize) -> &[f32] {
        let (offset, len) = self.tensors[index];
        &self.weights.values[offset..offset + len]
    }

    /// The logits of one sample.
    fn logits(&self, input: &[f32], logits: &mut [f64]) {
        let features = match self.spec.kind {
            ModelKind::Mlp => {
                let input: Vec<f64> = input.iter().map(|&v| f64::from(v)).collect();
                let hidden = dense(&input, self.tensor(0), self.tensor(1));
                hidden.into_iter().map(|v| v.max(0.0)).collect()
            }
            ModelKind::Cnn => self.conv_relu_pool(input),
        };
        let out = dense(&features, self.tensor(2), self.tensor(3));
        logits.copy_from_slice(&out);
    }

    /// 3x3 convolution with same padding, ReLU, 2x2 max pooling: the flattened features.
    fn conv_relu_pool(&self, input: &[f32]) -> Vec<f64> {
        let [channels, height, width] = self.spec.input;
        let filters = self.spec.width;
        let (kernel, bias) = (self.tensor(0), self.tensor(1));
        let (ph, pw) = (height / 2, width / 2);
        let mut pooled = Vec::with_capacity(filters * ph * pw);
        let mut conv = vec![0f64; height * width];
        for f in 0..filters {
            for y in 0..height {
                for x in 0..width {
                    let mut sum = f64::from(bias[f]);
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
                                sum += f64::from(kernel[((f * channels + c) * 3 + ky) * 3 + kx])
                                    * f64::from(input[(c * height + iy) * width + ix]);
                            }
                        }
                    }
                    conv[y * width + x] = sum.max(0.0);
                }
            }
            for y in 0..ph {
                for x in 0..pw {
                    let at = |dy: usize, dx: usize| conv[(2 * y + dy) * width + 2 * x + dx];
                    pooled.push(at(0, 0).max(at(0, 1)).max(at(1, 0)).max(at(1, 1)));
                }
            }
        }
        pooled
    }
}

/// `input x weight + bias` for a `[in, out]` row-major weight, inputs in order.
fn dense(input: &[f64], weight: &[f32], bias: &[f32]) -> Vec<f64> {
    let outputs = bias.len();
    let mut out: Vec<f64> = bias.iter().map(|&b| f64::from(b)).collect();
    for (i, &x) in input.iter().enumerate() {
        if x == 0.0 {
            continue;
        }
        let row = &weight[i * outputs..(i + 1) * outputs];
        for (o, &w) in out.iter_mut().zip(row) {
            *o += x * f64::from(w);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use burn::tensor::Device;

    use super::*;
    use crate::data::digits;
    use crate::evaluate::evaluate;

    #[test]
    fn matches_the_backend_on_both_architectures() {
        let split = digits().unwrap();
        for spec in [ModelSpec::digits_mlp(), ModelSpec::digits_cnn()] {
            let weights = Weights::initial(&spec, 3);
            let exact = score(&spec, &weights, &split.validation).unwrap();
            let backend = evaluate(&spec, &weights, &split.validation, &Device::flex()).unwrap();
            assert!(
                (exact.loss - backend.loss).abs() < 1e-5,
                "{spec:?}: {exact:?} against {backend:?}"
            );
            assert_eq!(exact.accuracy, backend.accuracy, "{spec:?}");
        }
    }

    #[test]
    fn refuses_data_of_another_shape() {
        let split = digits().unwrap();
        let spec = ModelSpec::for_data(ModelKind::Mlp, &[10], 10).unwrap();
        let error = score(&spec, &Weights::initial(&spec, 1), &split.validation).unwrap_err();
        assert!(error.to_string().contains("64 features"), "{error}");
    }
}
