//! Fixed training workloads for the benchmarks: a model, a batch size and seeded synthetic
//! samples. The browser's benchmark mode and the native step benchmark run the same ones; their
//! TensorFlow.js and PyTorch twins (`benchmarks/`) build the same models.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

use crate::FlError;
use crate::data::Dataset;
use crate::model::ModelSpec;

/// Every workload, by name.
pub const WORKLOADS: [&str; 9] = [
    "digits",
    "breast-cancer",
    "mnist",
    "mnist-256",
    "mnist-512",
    "mnist-wide",
    "mnist-cnn",
    "cifar10-cnn",
    "char-lm",
];

/// A model and the batch size it trains at.
#[derive(Clone, Debug, PartialEq)]
pub struct Workload {
    pub name: &'static str,
    pub spec: ModelSpec,
    pub batch: usize,
}

impl Workload {
    /// `digits`: MLP 64 -> 64 (ReLU) -> 10, batch 32; `mnist`: MLP 784 -> 128 -> 10, batch 64;
    /// `mnist-256` and `mnist-512`: the same at those widths (around the fused kernels' former
    /// cut); `mnist-wide`: MLP 784 -> 1024 -> 10, batch 256; `breast-cancer`, `mnist-cnn`,
    /// `cifar10-cnn` and `char-lm`: the catalog tasks' models at their recipes' batch sizes.
    pub fn parse(name: &str) -> Option<Self> {
        let name = *WORKLOADS.iter().find(|known| **known == name)?;
        let (spec, batch) = match name {
            "digits" => (ModelSpec::digits_mlp(), 32),
            "mnist" => (ModelSpec::mlp(vec![784], 128, 10), 64),
            "mnist-256" => (ModelSpec::mlp(vec![784], 256, 10), 64),
            "mnist-512" => (ModelSpec::mlp(vec![784], 512, 10), 64),
            "mnist-wide" => (ModelSpec::mlp(vec![784], 1024, 10), 256),
            task => {
                let manifest = droppin_task::catalog::get(task).ok()?;
                let batch = manifest.recipe.batch_size as usize;
                (crate::task::model_spec(&manifest).ok()?, batch)
            }
        };
        Some(Self { name, spec, batch })
    }

    /// `batches` batches of seeded uniform features (token ids for a text model) and labels.
    pub fn synthetic_data(&self, batches: usize) -> Result<Dataset, FlError> {
        let mut rng = ChaCha20Rng::seed_from_u64(42);
        let rows = self.batch * batches;
        let (dim, classes) = (self.spec.input_dim(), self.spec.classes);
        let features = (0..rows * dim)
            .map(|_| {
                if self.spec.is_text() {
                    rng.random_range(0..classes) as f32
                } else {
                    rng.random::<f32>()
                }
            })
            .collect();
        let labels = (0..rows)
            .map(|_| rng.random_range(0..classes as u8))
            .collect();
        Dataset::new(features, labels, self.spec.input.clone(), classes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Weights;

    #[test]
    fn workloads_match_their_description() {
        let mnist = Workload::parse("mnist").unwrap();
        assert_eq!(
            Weights::initial(&mnist.spec, 1).values.len(),
            784 * 128 + 128 + 128 * 10 + 10
        );
        let wide = Workload::parse("mnist-wide").unwrap();
        assert_eq!((wide.spec.standard().unwrap().1, wide.batch), (1024, 256));
        assert_eq!(Workload::parse("digits").unwrap().batch, 32);
        let sweep = Workload::parse("mnist-512").unwrap();
        assert_eq!((sweep.spec.standard().unwrap().1, sweep.batch), (512, 64));
        let tabular = Workload::parse("breast-cancer").unwrap();
        assert_eq!(
            (tabular.spec.input.as_slice(), tabular.batch),
            (&[30][..], 16)
        );
        let cnn = Workload::parse("mnist-cnn").unwrap();
        assert_eq!(
            (cnn.spec.input.as_slice(), cnn.batch),
            (&[1, 28, 28][..], 64)
        );
        let cifar = Workload::parse("cifar10-cnn").unwrap();
        assert_eq!(
            (cifar.spec.input.as_slice(), cifar.batch),
            (&[3, 32, 32][..], 64)
        );
        let text = Workload::parse("char-lm").unwrap();
        assert!(text.spec.is_text());
        let data = text.synthetic_data(4).unwrap();
        assert_eq!(data.len(), 4 * text.batch);
        assert!(
            data.features
                .iter()
                .all(|&id| id < 37.0 && id.fract() == 0.0)
        );
        assert!(Workload::parse("cifar").is_none());
        assert!(WORKLOADS.iter().all(|name| Workload::parse(name).is_some()));
    }
}
