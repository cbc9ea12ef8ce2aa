//! The committee's reference update: what the round's recipe makes of the task's public data,
//! trained by every validator on its own, with the same bits everywhere.
//!
//! Public data (a task's published sample, the validation sets of earlier rounds once revealed)
//! is free to anyone, so an update that only trains on it brings nothing a funder should pay for.
//! The reference is that update; an update the validator groups with it earns nothing. It is an
//! anchor the cohort cannot move: it depends on the base, the recipe and public data alone.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::FlError;
use crate::data::Dataset;
use crate::model::{ModelSpec, Weights};
use crate::train::{BatchSchedule, LocalOptimizer, TrainConfig};

use super::exact::{ExactModel, check_data};

/// The committee's reference, trained twice on the public sample: with the recipe's seed and
/// with another (another batch order and other dropout masks), so that the validator knows how
/// alike two retrainings of the same data are (the bar at which an update counts as one more
/// retraining of public data); and once on each half of the sample, so that it knows how alike
/// trainings on *different* data of the same kind are (where an honest update sits).
#[derive(Clone, Debug, PartialEq)]
pub struct Reference {
    pub update: Vec<f32>,
    pub retrained: Vec<f32>,
    /// Trainings on the sample's first and second halves, each for twice the recipe's epochs
    /// (about as many steps as on the whole sample).
    pub halves: [Vec<f32>; 2],
}

impl Reference {
    /// The fewest public samples a reference trains on: one for each half.
    const LEAST_SAMPLES: usize = 2;

    /// The reference a round is judged with, or none where the public sample is too small to
    /// halve (a task shipping under 20 training samples): every validator, and the simulator,
    /// then judges without one alike.
    pub fn for_round(
        spec: &ModelSpec,
        base: &Weights,
        public: &Dataset,
        recipe: &TrainConfig,
    ) -> Result<Option<Self>, FlError> {
        (public.len() >= Self::LEAST_SAMPLES)
            .then(|| Self::train(spec, base, public, recipe))
            .transpose()
    }

    /// The four trainings of `base` with `recipe`, each by `reference_update`.
    pub fn train(
        spec: &ModelSpec,
        base: &Weights,
        public: &Dataset,
        recipe: &TrainConfig,
    ) -> Result<Self, FlError> {
        if public.len() < Self::LEAST_SAMPLES {
            return Err(FlError::Data(format!(
                "the public sample holds {} samples: the reference needs {} at least, one for each half",
                public.len(),
                Self::LEAST_SAMPLES
            )));
        }
        let half = public.len() / 2;
        let halves = [
            (0..half).collect::<Vec<_>>(),
            (half..public.len()).collect(),
        ];
        let twice = TrainConfig {
            epochs: recipe.epochs.saturating_mul(2),
            ..*recipe
        };
        let [first, second] =
            halves.map(|rows| reference_update(spec, base, &public.subset(&rows), &twice));
        Ok(Self {
            update: reference_update(spec, base, public, recipe)?,
            retrained: reference_update(
                spec,
                base,
                public,
                &TrainConfig {
                    seed: recipe.seed ^ RETRAINING_SEED,
                    ..*recipe
                },
            )?,
            halves: [first?, second?],
        })
    }
}

/// What the second training's seed differs by.
const RETRAINING_SEED: u64 = 0x5eed_2e7a_0f0f;
/// What the dropout masks' seed differs from the recipe's by.
const DROPOUT_SEED: u64 = 0xd20f_0a75;

/// burn's Adam defaults, which nodes train with.
const ADAM_BETAS: (f64, f64) = (0.9, 0.999);
const ADAM_EPSILON: f64 = 1e-5;
/// burn's momentum dampening, which nodes train with.
const DAMPENING: f64 = 0.1;

/// Trains `base` on `public` with `recipe` (its optimizer, epochs, batch size, learning rate,
/// FedProx weight and seed; DP-SGD does not apply to public data) in `f64`, and returns the delta.
/// Each sample's gradient is its own (its dropout masks drawn from the seed and its position in
/// the training), and a batch adds them in the schedule's order: the same inputs give the same
/// bits on any CPU and thread count.
fn reference_update(
    spec: &ModelSpec,
    base: &Weights,
    public: &Dataset,
    recipe: &TrainConfig,
) -> Result<Vec<f32>, FlError> {
    let recipe = TrainConfig {
        dp_sgd: None,
        ..*recipe
    };
    check_data(spec, public, "the public data")?;
    recipe.check(spec, public)?;
    let mut net = ExactModel::of(spec, base)?;
    let start = net.params.clone();
    let per_sample = spec.outputs_per_sample();
    let mut optimizer = Optimizer::new(recipe.optimizer, start.len());
    let mut gradient = vec![0f64; start.len()];
    let mut samples = vec![vec![0f64; start.len()]; WAVE.min(recipe.batch_size.max(1))];
    // The position of a wave's first sample in the whole training: it picks its dropout masks.
    let mut position = 0u64;
    // As the trainer: FedProx only with a positive weight.
    let proximal = recipe.proximal_mu.filter(|mu| *mu > 0.0).unwrap_or(0.0);
    for batch in BatchSchedule::new(public.len(), &recipe) {
        gradient.fill(0.0);
        for wave in batch.rows.chunks(samples.len()) {
            let sample_gradient = |(k, (sample, &row)): (usize, (&mut Vec<f64>, &usize))| {
                sample.fill(0.0);
                let mut dropout = ChaCha8Rng::seed_from_u64(recipe.seed ^ DROPOUT_SEED);
                dropout.set_stream(position + k as u64);
                net.accumulate_gradient(
                    public.row(row),
                    public.targets(row, per_sample),
                    &mut dropout,
                    sample,
                );
            };
            let wave_samples = &mut samples[..wave.len()];
            if start.len() < PARALLEL_FROM {
                wave_samples
                    .iter_mut()
                    .zip(wave)
                    .enumerate()
                    .for_each(sample_gradient);
            } else {
                wave_samples
                    .par_iter_mut()
                    .zip(wave)
                    .enumerate()
                    .for_each(sample_gradient);
            }
            add_in_order(&mut gradient, &samples[..wave.len()]);
            position += wave.len() as u64;
        }
        // The mean over the batch's predictions, as the trainer's loss.
        let scale = 1.0 / (batch.rows.len() * per_sample) as f64;
        for ((g, &p), &s) in gradient.iter_mut().zip(&net.params).zip(&start) {
            *g = *g * scale + proximal * (p - s);
        }
        optimizer.step(&mut net.params, &gradient, recipe.learning_rate);
    }
    Ok(net
        .params
        .iter()
        .zip(&start)
        .map(|(p, s)| (p - s) as f32)
        .collect())
}

/// How many samples' gradients are held at once. Each sample's gradient is worked out on its own
/// (in parallel) and the batch's sum adds them in the batch's order, so the bits depend neither
/// on this nor on the thread count.
const WAVE: usize = 8;
/// The parameter count from which samples are worked out in parallel: a smaller model's sample
/// takes less time than handing it to another thread.
const PARALLEL_FROM: usize = 16_384;

/// Adds each of `samples` to `gradient`, one after the other for every parameter (in parallel
/// over the parameters, which changes no sum's order).
fn add_in_order(gradient: &mut [f64], samples: &[Vec<f64>]) {
    const SPAN: usize = 1 << 14;
    gradient
        .par_chunks_mut(SPAN)
        .enumerate()
        .for_each(|(span, gradient)| {
            let from = span * SPAN;
            for sample in samples {
                for (g, s) in gradient.iter_mut().zip(&sample[from..]) {
                    *g += s;
                }
            }
        });
}

/// The optimizer's state, in `f64`.
enum Optimizer {
    /// Heavy-ball momentum as burn applies it: `v = momentum * v + (1 - dampening) * g`, the
    /// first `v` being `g`; plain SGD without momentum.
    Sgd {
        momentum: f64,
        velocity: Option<Vec<f64>>,
    },
    /// Adam with bias correction; the powers of the betas are kept as running products.
    Adam {
        first: Vec<f64>,
        second: Vec<f64>,
        beta_powers: (f64, f64),
    },
}

impl Optimizer {
    fn new(kind: LocalOptimizer, len: usize) -> Self {
        match kind {
            LocalOptimizer::Sgd { momentum } => Self::Sgd {
                momentum,
                velocity: None,
            },
            LocalOptimizer::Adam => Self::Adam {
                first: vec![0.0; len],
                second: vec![0.0; len],
                beta_powers: (1.0, 1.0),
            },
        }
    }

    fn step(&mut self, params: &mut [f64], gradient: &[f64], learning_rate: f64) {
        match self {
            Self::Sgd { momentum, velocity } => {
                // As the trainer: plain SGD unless the momentum is positive.
                if momentum.is_nan() || *momentum <= 0.0 {
                    for (p, &g) in params.iter_mut().zip(gradient) {
                        *p -= learning_rate * g;
                    }
                    return;
                }
                match velocity {
                    None => *velocity = Some(gradient.to_vec()),
                    Some(velocity) => {
                        for (v, &g) in velocity.iter_mut().zip(gradient) {
                            *v = *momentum * *v + (1.0 - DAMPENING) * g;
                        }
                    }
                }
                let velocity = velocity.as_ref().expect("set above");
                for (p, &v) in params.iter_mut().zip(velocity) {
                    *p -= learning_rate * v;
                }
            }
            Self::Adam {
                first,
                second,
                beta_powers,
            } => {
                let (b1, b2) = ADAM_BETAS;
                beta_powers.0 *= b1;
                beta_powers.1 *= b2;
                let (c1, c2) = (1.0 - beta_powers.0, 1.0 - beta_powers.1);
                for (((p, m), v), &g) in params.iter_mut().zip(first).zip(second).zip(gradient) {
                    *m = b1 * *m + (1.0 - b1) * g;
                    *v = b2 * *v + (1.0 - b2) * g * g;
                    *p -= learning_rate * (*m / c1) / ((*v / c2).sqrt() + ADAM_EPSILON);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::Device;

    use super::*;
    use crate::aggregate::{cosine, l2_norm};
    use crate::data::digits;
    use crate::train::train;

    fn cosine_of(a: &[f32], b: &[f32]) -> f64 {
        cosine(a, b, l2_norm(a), l2_norm(b))
    }

    #[test]
    fn matches_the_trainer_on_both_architectures() {
        let split = digits().unwrap();
        let public = split.validation.subset(&(0..96).collect::<Vec<_>>());
        for spec in [ModelSpec::digits_mlp(), ModelSpec::digits_cnn()] {
            let base = Weights::initial(&spec, 5);
            for optimizer in [LocalOptimizer::Adam, LocalOptimizer::Sgd { momentum: 0.9 }] {
                let recipe = TrainConfig {
                    optimizer,
                    epochs: 2,
                    learning_rate: 0.005,
                    seed: 11,
                    ..TrainConfig::default()
                };
                let exact = reference_update(&spec, &base, &public, &recipe).unwrap();
                let trained = train(&spec, &base, &public, &recipe, &Device::flex(), |_| {})
                    .unwrap()
                    .delta_from(&base);
                // The same recipe and batches: the same update, up to f32 rounding.
                let c = cosine_of(&exact, &trained);
                assert!(c > 0.999, "{spec:?} {optimizer:?}: cosine {c}");
                let other_seed = train(
                    &spec,
                    &base,
                    &public,
                    &TrainConfig { seed: 12, ..recipe },
                    &Device::flex(),
                    |_| {},
                )
                .unwrap()
                .delta_from(&base);
                assert!(cosine_of(&exact, &other_seed) < c, "{spec:?} {optimizer:?}");
            }
        }
    }

    /// Every catalog model with its dropout taken out (the trainer's masks come from the
    /// device's generator, the committee's from its own), trained on seeded samples with the
    /// recipe's seed by the committee and by the trainer: the same batches, the same update up to
    /// `f32` rounding.
    #[test]
    fn matches_the_trainer_on_every_catalog_model() {
        for name in ["mnist-cnn", "cifar10-cnn", "char-lm"] {
            let mut workload = crate::workload::Workload::parse(name).unwrap();
            workload
                .spec
                .layers
                .retain(|layer| !matches!(layer, droppin_task::Layer::Dropout { .. }));
            workload.batch = 4;
            let (spec, data) = (&workload.spec, workload.synthetic_data(3).unwrap());
            let base = Weights::initial(spec, 5);
            let recipe = TrainConfig {
                learning_rate: 0.001,
                batch_size: 4,
                seed: 11,
                ..TrainConfig::default()
            };
            let exact = reference_update(spec, &base, &data, &recipe).unwrap();
            let trained = train(spec, &base, &data, &recipe, &Device::flex(), |_| {})
                .unwrap()
                .delta_from(&base);
            let c = cosine_of(&exact, &trained);
            assert!(c > 0.999, "{name}: cosine {c}");
        }
    }

    /// Dropout's masks are drawn from the recipe's seed: the same seed, the same bits; the
    /// retraining's seed, other masks.
    #[test]
    fn dropout_masks_follow_the_seed() {
        let workload = crate::workload::Workload::parse("cifar10-cnn").unwrap();
        let data = workload.synthetic_data(1).unwrap().subset(&[0, 1, 2, 3]);
        let base = Weights::initial(&workload.spec, 5);
        let recipe = TrainConfig {
            batch_size: 4,
            seed: 11,
            ..TrainConfig::default()
        };
        let once = reference_update(&workload.spec, &base, &data, &recipe).unwrap();
        assert_eq!(
            once,
            reference_update(&workload.spec, &base, &data, &recipe).unwrap()
        );
        let reference = Reference::train(&workload.spec, &base, &data, &recipe).unwrap();
        assert_eq!(reference.update, once);
        // One batch: the batch order is the same, only the masks differ.
        assert_ne!(reference.retrained, once);
    }

    /// The bits are pinned: any change to the arithmetic, its order or the schedule shows here,
    /// as it would between two validators.
    #[test]
    fn the_same_inputs_give_the_same_bits() {
        use sha2::{Digest, Sha256};
        let split = digits().unwrap();
        let digest = |spec: &ModelSpec| {
            let base = Weights::initial(spec, 2);
            let recipe = TrainConfig {
                seed: 4,
                proximal_mu: Some(0.01),
                ..TrainConfig::default()
            };
            let update = reference_update(spec, &base, &split.validation, &recipe).unwrap();
            let mut hasher = Sha256::new();
            update.iter().for_each(|v| hasher.update(v.to_le_bytes()));
            hex::encode(hasher.finalize())
        };
        let mlp = digest(&ModelSpec::digits_mlp());
        assert_eq!(mlp, digest(&ModelSpec::digits_mlp()));
        assert_eq!(
            mlp,
            "de98c62b5499c37063061277f8cd7e29251cfa63b2e3f8f7dfddd98843077994"
        );
        assert_eq!(
            digest(&ModelSpec::digits_cnn()),
            "723af82e6b742bea2e1efd13e07145358bfb1ae2224d1c88deb6b773a9797412"
        );
        assert_eq!(
            digest(&digits_mlp_with_dropout()),
            "6a9af464c5c93b2ba3c00b0d2e2b0e59e66d0f44c919c0b648d984762eec2755"
        );
    }

    /// The digits MLP with dropout after its hidden layer.
    fn digits_mlp_with_dropout() -> ModelSpec {
        digits_mlp_dropping(64, 0.3)
    }

    fn digits_mlp_dropping(width: usize, rate: f64) -> ModelSpec {
        let mut spec = ModelSpec::mlp(vec![1, 8, 8], width, 10);
        spec.layers.insert(2, droppin_task::Layer::Dropout { rate });
        spec
    }

    /// Samples' gradients are worked out in parallel: one thread or three, the same bits, dropout
    /// masks included, waves of eight and a shorter last one.
    #[test]
    fn the_thread_count_changes_no_bit() {
        let split = digits().unwrap();
        // 44 rows: batches of 16, 16 and 12, so the last wave holds four.
        let public = split.validation.subset(&(0..44).collect::<Vec<_>>());
        // Wide enough to be worked out in parallel.
        let spec = digits_mlp_dropping(256, 0.3);
        let base = Weights::initial(&spec, 2);
        assert!(base.values.len() >= PARALLEL_FROM);
        let recipe = TrainConfig {
            batch_size: 16,
            seed: 9,
            ..TrainConfig::default()
        };
        let on = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| reference_update(&spec, &base, &public, &recipe).unwrap())
        };
        let one = on(1);
        assert_eq!(one, on(3));
        assert_ne!(
            one,
            reference_update(&digits_mlp_dropping(256, 0.0), &base, &public, &recipe).unwrap(),
            "dropout applies"
        );
    }

    #[test]
    fn refuses_data_of_another_shape() {
        let split = digits().unwrap();
        let spec = ModelSpec::digits_mlp();
        let base = Weights::initial(&spec, 1);
        let mut other = split.validation.clone();
        other.classes = 12;
        let error = reference_update(&spec, &base, &other, &TrainConfig::default()).unwrap_err();
        assert!(error.to_string().contains("12 classes"), "{error}");
    }
}
