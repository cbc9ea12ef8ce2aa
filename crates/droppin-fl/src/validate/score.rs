//! The evaluation that decides verdicts: the committee's bit-reproducible forward pass
//! ([`super::exact`]) over the validation set, losses summed in order.

use rayon::prelude::*;

use crate::FlError;
use crate::data::Dataset;
use crate::evaluate::{Evaluation, cross_entropy};
use crate::model::{ModelSpec, Weights};

use super::exact::{ExactModel, check_data};

/// Mean cross-entropy (nats) and accuracy of `weights` on `data`, bit-identical everywhere.
/// A text model's loss is per token, and its accuracy counts every position's next token.
pub fn score(spec: &ModelSpec, weights: &Weights, data: &Dataset) -> Result<Evaluation, FlError> {
    let (losses, correct) = sample_losses(spec, weights, data)?;
    Ok(evaluation_of(spec, data, &losses, correct))
}

/// The evaluation [`sample_losses`]' output sums to (losses summed in order).
pub(super) fn evaluation_of(
    spec: &ModelSpec,
    data: &Dataset,
    losses: &[f64],
    correct: usize,
) -> Evaluation {
    let predictions = data.len() * spec.outputs_per_sample();
    Evaluation::of_sums(losses.iter().sum(), data.len(), correct, predictions)
}

/// Each sample's cross-entropy (nats; a text window's mean over its positions), in order, and
/// how many predictions the model gets right.
pub(super) fn sample_losses(
    spec: &ModelSpec,
    weights: &Weights,
    data: &Dataset,
) -> Result<(Vec<f64>, usize), FlError> {
    check_data(spec, data, "the validation set")?;
    let model = ExactModel::of(spec, weights)?;
    let per_sample = spec.outputs_per_sample();
    // Samples are scored in parallel, each on its own, and their losses kept in order: the sum
    // below runs in one fixed order, so the bits do not depend on the thread count.
    let scored: Vec<(f64, usize)> = (0..data.len())
        .into_par_iter()
        .map(|row| {
            let logits = model.logits(data.row(row));
            let mut loss = 0f64;
            let mut hits = 0usize;
            for (logits, target) in logits
                .chunks(spec.classes)
                .zip(data.targets(row, per_sample))
            {
                let (prediction_loss, hit) = cross_entropy(logits, target);
                loss += prediction_loss;
                hits += usize::from(hit);
            }
            (loss / per_sample as f64, hits)
        })
        .collect();
    let correct = scored.iter().map(|(_, hits)| hits).sum();
    let losses = scored.into_iter().map(|(loss, _)| loss).collect();
    Ok((losses, correct))
}

#[cfg(test)]
mod tests {
    use burn::tensor::Device;

    use super::*;
    use crate::data::digits;
    use crate::evaluate::evaluate;
    use crate::model::ModelKind;

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

    /// Seeded samples that fit `spec`: uniform features, or token ids for a text model.
    fn samples_for(spec: &ModelSpec, rows: usize) -> Dataset {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(9);
        let features = (0..rows * spec.input_dim())
            .map(|_| {
                if spec.is_text() {
                    rng.random_range(0..spec.classes) as f32
                } else {
                    rng.random::<f32>()
                }
            })
            .collect();
        let labels = (0..rows)
            .map(|_| rng.random_range(0..spec.classes) as u8)
            .collect();
        Dataset::new(features, labels, spec.input.clone(), spec.classes).unwrap()
    }

    #[test]
    fn matches_the_backend_on_every_catalog_model() {
        for task in droppin_task::catalog::all() {
            let spec = crate::task::model_spec(&task).unwrap();
            let data = samples_for(&spec, 6);
            let weights = Weights::initial(&spec, 5);
            let exact = score(&spec, &weights, &data).unwrap();
            let backend = evaluate(&spec, &weights, &data, &Device::flex()).unwrap();
            assert!(
                (exact.loss - backend.loss).abs() < 1e-4,
                "{}: {exact:?} against {backend:?}",
                task.name
            );
            assert_eq!(exact.accuracy, backend.accuracy, "{}", task.name);
            assert!(exact.loss.is_finite() && exact.loss > 0.0, "{}", task.name);
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
