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
    /// From the summed loss and the count of right answers over `len` samples; a non-finite
    /// loss reads as infinite, so it compares as the worst.
    pub fn of_sums(loss_sum: f64, correct: usize, len: usize) -> Self {
        let loss = loss_sum / len as f64;
        Self {
            loss: if loss.is_finite() {
                loss
            } else {
                f64::INFINITY
            },
            accuracy: correct as f64 / len as f64,
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
        let (inputs, _) = batch_tensors(data, batch, device);
        let logits = model.forward(inputs, spec).into_data().convert::<f32>();
        let logits = logits
            .as_slice::<f32>()
            .map_err(|e| FlError::Model(format!("{e:?}")))?;
        for (row, sample_logits) in batch.iter().zip(logits.chunks(spec.classes)) {
            let label = usize::from(data.labels[*row]);
            let max = sample_logits
                .iter()
                .fold(f64::NEG_INFINITY, |m, &v| m.max(f64::from(v)));
            let log_sum: f64 = sample_logits
                .iter()
                .map(|&v| (f64::from(v) - max).exp())
                .sum::<f64>()
                .ln()
                + max;
            loss += log_sum - f64::from(sample_logits[label]);
            let predicted = (0..spec.classes)
                .max_by(|&a, &b| {
                    sample_logits[a]
                        .total_cmp(&sample_logits[b])
                        .then(b.cmp(&a))
                })
                .expect("at least two classes");
            correct += usize::from(predicted == label);
        }
    }
    Ok(Evaluation::of_sums(loss, correct, data.len()))
}
