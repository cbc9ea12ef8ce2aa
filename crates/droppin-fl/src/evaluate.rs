//! Evaluation of a model on a labelled set: mean cross-entropy and accuracy.
//!
//! Logits come from the backend; the loss is reduced here, sequentially in `f64`, so that the
//! sum order never depends on threads and a validator's scores are reproducible.

use burn::tensor::Device;

use crate::FlError;
use crate::data::Dataset;
use crate::model::{ModelSpec, Weights};
use crate::train::batch_tensors;

/// Evaluation batch size: bounded memory, same result for any value (rows are independent).
const EVAL_BATCH: usize = 512;

/// Loss and accuracy of a model on a dataset.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evaluation {
    pub loss: f64,
    pub accuracy: f64,
}

impl Evaluation {
    /// From the loss summed over `len` samples and the count of right answers among
    /// `predictions`; a non-finite loss reads as infinite, so it compares as the worst.
    pub fn of_sums(loss_sum: f64, len: usize, correct: usize, predictions: usize) -> Self {
        let loss = loss_sum / len as f64;
        Self {
            loss: if loss.is_finite() {
                loss
            } else {
                f64::INFINITY
            },
            accuracy: correct as f64 / predictions as f64,
        }
    }
}

/// Evaluates `weights` on `data` on the given device.
pub fn evaluate(
    spec: &ModelSpec,
    weights: &Weights,
    data: &Dataset,
    device: &Device,
) -> Result<Evaluation, FlError> {
    if data.is_empty() {
        return Err(FlError::Data("cannot evaluate on an empty dataset".into()));
    }
    let model = weights.to_model(spec, device)?;
    let rows: Vec<usize> = (0..data.len()).collect();
    let mut loss = 0f64;
    let mut correct = 0usize;
    for batch in rows.chunks(EVAL_BATCH) {
        let (inputs, _) = batch_tensors(data, batch, 1, device);
        let logits = model.forward(inputs, spec).into_data().convert::<f32>();
        let logits = logits
            .as_slice::<f32>()
            .map_err(|e| FlError::Model(format!("{e:?}")))?;
        let per_sample = spec.outputs_per_sample();
        for (row, sample_logits) in batch.iter().zip(logits.chunks(spec.classes * per_sample)) {
            for (logits, target) in sample_logits
                .chunks(spec.classes)
                .zip(data.targets(*row, per_sample))
            {
                let logits: Vec<f64> = logits.iter().map(|&v| f64::from(v)).collect();
                let (sample_loss, hit) = cross_entropy(&logits, target);
                loss += sample_loss / per_sample as f64;
                correct += usize::from(hit);
            }
        }
    }
    let predictions = data.len() * spec.outputs_per_sample();
    Ok(Evaluation::of_sums(loss, data.len(), correct, predictions))
}

/// One prediction's cross-entropy (nats, overflow-safe, `libm`'s `exp` and `log` in a fixed
/// order) and whether its top class, the lowest on ties, is `label`.
pub(crate) fn cross_entropy(logits: &[f64], label: usize) -> (f64, bool) {
    let max = logits.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
    let sum: f64 = logits.iter().map(|&v| libm::exp(v - max)).sum();
    let predicted = (0..logits.len())
        .max_by(|&a, &b| logits[a].total_cmp(&logits[b]).then(b.cmp(&a)))
        .expect("at least two classes");
    (libm::log(sum) + max - logits[label], predicted == label)
}
