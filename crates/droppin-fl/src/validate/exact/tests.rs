use droppin_task::Layer;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;
use crate::evaluate::cross_entropy;

/// Every layer kind, with strides, padding, both poolings and dropout, on a small image.
fn image_spec() -> ModelSpec {
    ModelSpec {
        input: vec![2, 6, 6],
        classes: 3,
        layers: vec![
            Layer::Conv2d {
                channels: 3,
                kernel: 3,
                stride: 1,
                padding: 1,
            },
            Layer::Gelu,
            Layer::AvgPool2d { kernel: 2 },
            Layer::Conv2d {
                channels: 4,
                kernel: 2,
                stride: 1,
                padding: 0,
            },
            Layer::Relu,
            Layer::MaxPool2d { kernel: 2 },
            Layer::Flatten,
            Layer::Dropout { rate: 0.3 },
            Layer::Dense { units: 6 },
            Layer::LayerNorm,
            Layer::Tanh,
            Layer::Dense { units: 3 },
        ],
    }
}

/// A text model: embedding, a transformer block of two heads, a norm and the output.
fn text_spec() -> ModelSpec {
    ModelSpec {
        input: vec![5],
        classes: 6,
        layers: vec![
            Layer::Embedding { dim: 8 },
            Layer::TransformerBlock {
                heads: 2,
                hidden: 12,
            },
            Layer::LayerNorm,
            Layer::Dense { units: 6 },
        ],
    }
}

/// Seeded weights with every parameter moved off its initial value (biases off zero, scales
/// off one), so that every term of every gradient counts.
fn weights(spec: &ModelSpec) -> Weights {
    let mut weights = Weights::initial(spec, 3);
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for v in &mut weights.values {
        *v += rng.random_range(-0.3..0.3);
    }
    weights
}

fn sample(spec: &ModelSpec, seed: u64) -> (Vec<f32>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let input = (0..spec.input_dim())
        .map(|_| {
            if spec.is_text() {
                rng.random_range(0..spec.classes) as f32
            } else {
                rng.random_range(-1.0..1.0)
            }
        })
        .collect();
    let targets = (0..spec.outputs_per_sample())
        .map(|_| rng.random_range(0..spec.classes))
        .collect();
    (input, targets)
}

/// The training loss of one sample (summed over its predictions), dropout masks drawn from a
/// generator seeded `mask_seed`.
fn loss(model: &ExactModel, input: &[f32], targets: &[usize], mask_seed: u64) -> f64 {
    let mut rng = ChaCha8Rng::seed_from_u64(mask_seed);
    let mut x: Vec<f64> = input.iter().map(|&v| f64::from(v)).collect();
    for at in 0..model.spec.layers.len() {
        x = model.forward(at, x, Some(&mut rng)).0;
    }
    x.chunks(model.spec.classes)
        .zip(targets)
        .map(|(logits, &target)| cross_entropy(logits, target).0)
        .sum()
}

/// Each parameter's gradient against a central difference of the loss, the dropout masks the
/// same in every evaluation.
#[test]
fn every_layer_s_gradient_matches_finite_differences() {
    for spec in [image_spec(), text_spec()] {
        spec.check().unwrap();
        let weights = weights(&spec);
        let mut model = ExactModel::of(&spec, &weights).unwrap();
        for sample_seed in [1, 2] {
            let (input, targets) = sample(&spec, sample_seed);
            let mut gradient = vec![0f64; model.params.len()];
            model.accumulate_gradient(
                &input,
                targets.iter().copied(),
                &mut ChaCha8Rng::seed_from_u64(7),
                &mut gradient,
            );
            let step = 1e-6;
            for (at, &analytic) in gradient.iter().enumerate() {
                let kept = model.params[at];
                model.params[at] = kept + step;
                let up = loss(&model, &input, &targets, 7);
                model.params[at] = kept - step;
                let down = loss(&model, &input, &targets, 7);
                model.params[at] = kept;
                let numeric = (up - down) / (2.0 * step);
                let error = (numeric - analytic).abs() / (1e-3 + numeric.abs());
                assert!(
                    error < 1e-4,
                    "{:?}, parameter {at}: {analytic} against {numeric}",
                    spec.layers
                );
            }
            assert!(gradient.iter().all(|g| g.is_finite()));
            assert!(
                gradient.iter().filter(|g| **g != 0.0).count() > model.params.len() / 2,
                "most parameters take part"
            );
        }
    }
}

/// Dropout zeroes about its rate of the activations while training, scales the rest, and
/// passes everything when scoring.
#[test]
fn dropout_applies_while_training_only() {
    let spec = image_spec();
    let model = ExactModel::of(&spec, &weights(&spec)).unwrap();
    let dropout = 7;
    let x: Vec<f64> = (1..=1000).map(f64::from).collect();
    let (scored, _) = model.forward(dropout, x.clone(), None);
    assert_eq!(scored, x);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let (trained, _) = model.forward(dropout, x.clone(), Some(&mut rng));
    let zeroed = trained.iter().filter(|v| **v == 0.0).count();
    assert!((250..350).contains(&zeroed), "{zeroed} of 1000 at rate 0.3");
    let kept = trained.iter().zip(&x).find(|(t, _)| **t != 0.0).unwrap();
    assert!((kept.0 - kept.1 / 0.7).abs() < 1e-12);
}
