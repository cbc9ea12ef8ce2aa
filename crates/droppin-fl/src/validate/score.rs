//! The evaluation that decides verdicts: the committee's bit-reproducible forward pass
//! ([`Network`]) over the validation set, losses summed in order.

use crate::FlError;
use crate::data::Dataset;
use crate::evaluate::Evaluation;
use crate::model::{ModelSpec, Weights};

use super::network::{Network, check_data, shifted_exps};

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
    check_data(spec, data, "the validation set")?;
    let net = Network::of(spec, weights)?;
    let mut losses = Vec::with_capacity(data.len());
    let mut correct = 0usize;
    for row in 0..data.len() {
        let logits = net.logits(data.row(row));
        let label = usize::from(data.labels[row]);
        let (max, _, sum) = shifted_exps(&logits);
        losses.push(libm::log(sum) + max - logits[label]);
        let predicted = (0..spec.classes)
            .max_by(|&a, &b| logits[a].total_cmp(&logits[b]).then(b.cmp(&a)))
            .expect("at least two classes");
        correct += usize::from(predicted == label);
    }
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

    #[test]
    fn refuses_data_of_another_shape() {
        let split = digits().unwrap();
        let spec = ModelSpec::for_data(ModelKind::Mlp, &[10], 10).unwrap();
        let error = score(&spec, &Weights::initial(&spec, 1), &split.validation).unwrap_err();
        assert!(error.to_string().contains("64 features"), "{error}");
    }
}
