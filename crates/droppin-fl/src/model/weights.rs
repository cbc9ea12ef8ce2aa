//! Flat weight vectors: the backend-independent form of a model, of an update and of an aggregate.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{Device, Tensor, TensorData};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rand_distr::{Distribution, Uniform};
use serde::{Deserialize, Serialize};

use super::{Model, ModelSpec};
use crate::FlError;

/// One named tensor inside a flat vector, in the model's parameter order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TensorSpec {
    pub name: String,
    pub shape: Vec<usize>,
}

impl TensorSpec {
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A model's parameters as one `f32` vector with the tensor layout beside it.
#[derive(Clone, Debug, PartialEq)]
pub struct Weights {
    pub layout: Vec<TensorSpec>,
    pub values: Vec<f32>,
}

impl Weights {
    /// The tensor layout of `spec`, read from a model built on the CPU.
    pub fn layout_of(spec: &ModelSpec) -> Vec<TensorSpec> {
        let mut reader = Reader::default();
        Model::init(spec, &Device::flex()).visit(&mut reader);
        reader.layout
    }

    /// Seeded initial weights: kernels uniform in `±1/sqrt(fan_in)`, token and position vectors
    /// uniform in `±0.05`, layer-norm scales at one, biases and shifts at zero. Every participant
    /// derives the same round-zero model from the same seed on any machine.
    pub fn initial(spec: &ModelSpec, seed: u64) -> Self {
        let layout = Self::layout_of(spec);
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let mut values = Vec::with_capacity(layout.iter().map(TensorSpec::len).sum());
        for tensor in &layout {
            let role = tensor.name.rsplit('.').next().unwrap_or_default();
            let within_parent = |parent: &str| tensor.name.ends_with(&format!("{parent}.weight"));
            let bound = match (role, tensor.shape.as_slice()) {
                ("gamma", _) => {
                    values.extend(std::iter::repeat_n(1.0, tensor.len()));
                    continue;
                }
                ("positions", _) => 0.05,
                _ if within_parent("tokens") => 0.05,
                ("weight", [input, _output]) => 1.0 / (*input as f32).sqrt(),
                ("weight", [_out, input, kh, kw]) => 1.0 / ((input * kh * kw) as f32).sqrt(),
                _ => 0.0,
            };
            if bound == 0.0 {
                values.extend(std::iter::repeat_n(0.0, tensor.len()));
            } else {
                let uniform = Uniform::new_inclusive(-bound, bound).expect("finite bound");
                values.extend((0..tensor.len()).map(|_| uniform.sample(&mut rng)));
            }
        }
        Self { layout, values }
    }

    /// Reads the parameters out of a model.
    pub fn from_model(model: &Model) -> Self {
        let (layout, flat) = Reader::flatten(model);
        Self {
            layout,
            values: f32_values(flat.into_data()),
        }
    }

    /// Reads the parameters out of a model without blocking: the browser's WebGPU device can
    /// only be read asynchronously.
    pub async fn from_model_async(model: &Model) -> Result<Self, FlError> {
        let (layout, flat) = Reader::flatten(model);
        let data = flat
            .into_data_async()
            .await
            .map_err(|e| FlError::Model(format!("reading the weights back: {e:?}")))?;
        Ok(Self {
            layout,
            values: f32_values(data),
        })
    }

    /// A model of `spec` on `device` holding these weights.
    pub fn to_model(&self, spec: &ModelSpec, device: &Device) -> Result<Model, FlError> {
        spec.check()?;
        let expected = Self::layout_of(spec);
        if expected != self.layout {
            return Err(FlError::Model(
                "weights do not match the model spec's tensor layout".into(),
            ));
        }
        let mut writer = Writer {
            values: &self.values,
            offset: 0,
        };
        Ok(Model::init(spec, device).map(&mut writer))
    }

    /// `self - base`, element by element (an update from a base model).
    pub fn delta_from(&self, base: &Weights) -> Vec<f32> {
        self.values
            .iter()
            .zip(&base.values)
            .map(|(a, b)| a - b)
            .collect()
    }

    /// `self + delta`: a base model with an update applied.
    pub fn apply(&self, delta: &[f32]) -> Weights {
        Weights {
            layout: self.layout.clone(),
            values: self.values.iter().zip(delta).map(|(w, d)| w + d).collect(),
        }
    }
}

fn f32_values(data: TensorData) -> Vec<f32> {
    data.convert::<f32>()
        .try_into_vec::<f32>()
        .expect("f32 tensor data")
}

/// Collects names and shapes in visiting order, and the parameters as flat tensors so that they
/// are read back from the device in one transfer.
#[derive(Default)]
struct Reader {
    path: Vec<String>,
    layout: Vec<TensorSpec>,
    tensors: Vec<Tensor<1>>,
}

impl Reader {
    fn flatten(model: &Model) -> (Vec<TensorSpec>, Tensor<1>) {
        let mut reader = Reader::default();
        model.visit(&mut reader);
        (reader.layout, Tensor::cat(reader.tensors, 0))
    }
}

impl ModuleVisitor for Reader {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_owned());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let tensor = param.val();
        let shape = tensor.dims().to_vec();
        let len: usize = shape.iter().product();
        self.layout.push(TensorSpec {
            name: self.path.join("."),
            shape,
        });
        self.tensors.push(tensor.reshape([len]));
    }
}

/// Replaces every float parameter, in visiting order, from a flat slice.
struct Writer<'a> {
    values: &'a [f32],
    offset: usize,
}

impl ModuleMapper for Writer<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        param.map(|tensor| {
            let shape = tensor.dims();
            let len: usize = shape.iter().product();
            let slice = &self.values[self.offset..self.offset + len];
            self.offset += len;
            let replaced =
                Tensor::from_data(TensorData::new(slice.to_vec(), shape), &tensor.device());
            if tensor.is_require_grad() {
                replaced.require_grad()
            } else {
                replaced
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_a_model() {
        for spec in [ModelSpec::digits_mlp(), ModelSpec::digits_cnn()] {
            let weights = Weights::initial(&spec, 3);
            let names: Vec<&str> = weights.layout.iter().map(|t| t.name.as_str()).collect();
            assert!(
                names
                    .iter()
                    .all(|n| n.ends_with("weight") || n.ends_with("bias")),
                "{names:?}"
            );
            let model = weights.to_model(&spec, &Device::flex()).unwrap();
            assert_eq!(Weights::from_model(&model), weights);
            assert_eq!(weights, Weights::initial(&spec, 3));
            assert_ne!(weights, Weights::initial(&spec, 4));
        }
        assert_eq!(
            Weights::initial(&ModelSpec::digits_mlp(), 0).values.len(),
            4_810
        );
        assert_eq!(
            Weights::initial(&ModelSpec::digits_cnn(), 0).values.len(),
            2_730
        );
    }
}
