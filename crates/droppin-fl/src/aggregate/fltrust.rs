//! FLTrust: the validator trains on a small clean root set; each update is trusted by its cosine
//! with that root update (negative: ignored) and rescaled to the root update's norm.

use super::clip::{cosine, l2_norm};
use super::{Aggregate, AggregationError, ClientUpdate};

pub(super) fn fltrust(
    updates: &[ClientUpdate<'_>],
    dim: usize,
    root: &[f32],
) -> Result<Aggregate, AggregationError> {
    if root.len() != dim {
        return Err(AggregationError::InvalidParameter(format!(
            "FLTrust needs the validator's root update of {dim} values, got {}",
            root.len()
        )));
    }
    let root_norm = l2_norm(root);
    if root_norm == 0.0 {
        return Err(AggregationError::InvalidParameter(
            "FLTrust: the root update is zero".into(),
        ));
    }
    let mut trust = Vec::with_capacity(updates.len());
    for update in updates {
        let norm = l2_norm(update.delta);
        let similarity = cosine(update.delta, root, norm, root_norm);
        trust.push((
            similarity.max(0.0),
            if norm > 0.0 { root_norm / norm } else { 0.0 },
        ));
    }
    let total: f64 = trust.iter().map(|(t, _)| t).sum();
    if total == 0.0 {
        return Err(AggregationError::NoTrustedUpdate);
    }
    let mut delta = vec![0f64; dim];
    for (update, (t, scale)) in updates.iter().zip(&trust) {
        if *t > 0.0 {
            let w = t * scale / total;
            delta
                .iter_mut()
                .zip(update.delta)
                .for_each(|(d, &v)| *d += w * f64::from(v));
        }
    }
    let selected = trust
        .iter()
        .enumerate()
        .filter(|(_, (t, _))| *t > 0.0)
        .map(|(i, _)| i)
        .collect();
    Ok(Aggregate {
        delta: delta.into_iter().map(|v| v as f32).collect(),
        selected,
    })
}
