//! The committee's validation: verdicts, the new global model and contribution weights,
//! identical on every validator.
//!
//! Rules, in order (the first that applies decides):
//! 0. **Unavailable**: the blob could not be fetched. The update is *excluded* (stake back,
//!    nothing paid): unavailability cannot be proven against the node, and a node that revealed
//!    after a failed upload must not lose more than a no-show.
//! 1. **Malformed**: the bytes do not decode against the round's model and base (wrong format,
//!    shape, spec or base, truncation, oversize, NaN or infinite values).
//! 2. **Duplicate**: two different nodes sent updates with cosine similarity >= 0.999 (copies with
//!    a little noise included). Independent private data never gives that; all copies are
//!    rejected, since commit-reveal stops anyone copying another node's update within a round.
//!    Byte-identical updates (one CID, which the program flags) are duplicates whatever their
//!    norm or direction.
//! 3. **No-op**: L2 norm under 1% of the median norm (free riders).
//! 4. **Norm outlier**: L2 norm over 4x the median norm (scaling, model replacement, noise).
//! 5. **Direction**: cosine with the coordinate-wise median update below the median node's
//!    cosine minus the larger of 0.15 and 4 median absolute deviations (or below 0), and the
//!    update raises the validation loss on its own by more than 0.05 nats (sign flips, IPM). An
//!    honest node with unusual data points elsewhere but still helps, so it is kept.
//! 6. **Worsens loss**: the base model plus this update alone lowers the validation loss by less
//!    than the median update does, minus the larger of 0.15 nats and 4 median absolute deviations,
//!    and does not lower it at all (label flipping, poisoned data). Judged against the others
//!    because honest training on a small shard can overshoot on its own while the average still
//!    improves; an update that lowers the loss on its own is never rejected by this rule.
//!
//! Accepted updates are averaged (sample-weighted, claims capped at twice the median claim), or
//! combined by the configured stateless robust rule (median, trimmed mean).
//! Contribution is the solo gain: how much the base model plus this update alone lowers the
//! validation loss, floored at zero, so no-ops earn nothing. Leave-one-out was tried first and
//! dropped: with several honest nodes on similar data, removing any one barely moves the
//! aggregate, so it paid some honest nodes nothing (redundancy is leave-one-out's known blind
//! spot). The solo gain reuses the evaluation rule 6 already made: no extra cost per node.
//!
//! Determinism: losses are computed in f64 from the model's logits (reduced sequentially here,
//! never by threads) and quantized to [`ValidatorConfig::loss_quantum`] (1e-5 nats) before any
//! comparison or weight; cosines and norm ratios are quantized to 1e-6. On one machine the result
//! is byte-identical run after run (tested across processes). Across CPUs, burn's kernels may pick
//! other SIMD paths and move logits by an ulp, about 1e-6 in the loss: a score then lands on the
//! other side of a quantum boundary with probability near 10%, which can move a weight by a few
//! basis points and so change the root. Validators should run the same build on the same CPU
//! family until the evaluation runs on one fixed scalar kernel.

mod contribution;
mod list;
mod rules;

pub use contribution::basis_points;
pub use list::{ListedVerdict, VerdictList, outcome_name};
pub use rules::{Reason, ValidatorConfig};

use burn::tensor::Device;
use droppin_interface::verdict::Outcome;
use droppin_interface::{BPS, Pubkey};

use crate::FlError;
use crate::aggregate::{Aggregator, ClientUpdate};
use crate::data::Dataset;
use crate::evaluate::{Evaluation, evaluate};
use crate::model::{ModelSpec, Weights};
use crate::update::{DecodeLimits, Update};

/// One node's revealed update, as fetched from storage.
#[derive(Clone, Copy, Debug)]
pub struct Submission<'a> {
    pub node: Pubkey,
    /// The blob, or `None` when it could not be fetched.
    pub bytes: Option<&'a [u8]>,
    /// The node's reputation multiplier in bps (10,000 = x1), snapshotted on-chain at join; it
    /// scales the node's measured contribution before the weights are normalized.
    pub reputation_bps: u16,
}

/// The verdict on one node.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeVerdict {
    pub node: Pubkey,
    /// `None` when accepted.
    pub rejected: Option<Reason>,
    /// What the verdict leaf says: accepted, excluded (unavailable) or slashed.
    pub outcome: Outcome,
    pub weight_bps: u16,
    /// Validation loss of the base model plus this update alone (quantized), when it decoded.
    pub solo_loss: Option<f64>,
}

/// Everything a validator publishes for a round.
#[derive(Clone, Debug)]
pub struct ValidationReport {
    /// Sorted by node key.
    pub verdicts: Vec<NodeVerdict>,
    pub base: Evaluation,
    pub aggregate: Evaluation,
    pub new_model: Weights,
}

impl ValidationReport {
    /// The verdict on `node`, if it submitted.
    pub fn verdict_of(&self, node: &Pubkey) -> Option<&NodeVerdict> {
        self.verdicts.iter().find(|v| &v.node == node)
    }
}

/// Validates a round's submissions on the CPU.
pub fn validate(
    spec: &ModelSpec,
    base: &Weights,
    validation: &Dataset,
    submissions: &[Submission<'_>],
    config: &ValidatorConfig,
) -> Result<ValidationReport, FlError> {
    let device = Device::flex();
    let mut order: Vec<usize> = (0..submissions.len()).collect();
    order.sort_by_key(|&i| submissions[i].node);
    if order
        .windows(2)
        .any(|w| submissions[w[0]].node == submissions[w[1]].node)
    {
        return Err(FlError::Data(
            "a node appears twice in the submissions".into(),
        ));
    }
    let base_hash = Update::model_hash(spec, base);
    let limits = DecodeLimits::delta(spec, &base.layout, base_hash);
    let decoded: Vec<Result<Update, Reason>> = order
        .iter()
        .map(|&i| match submissions[i].bytes {
            None => Err(Reason::Unavailable),
            Some(bytes) => {
                Update::decode(bytes, &limits).map_err(|e| Reason::Malformed(e.to_string()))
            }
        })
        .collect();
    let base_eval = quantized(evaluate(spec, base, validation, &device)?, config);
    let mut solo_loss = vec![None; decoded.len()];
    for (slot, update) in solo_loss.iter_mut().zip(&decoded) {
        if let Ok(update) = update {
            *slot = Some(
                quantized(
                    evaluate(spec, &base.apply(&update.values), validation, &device)?,
                    config,
                )
                .loss,
            );
        }
    }
    let mut reasons = rules::judge(&decoded, &solo_loss, base_eval.loss, config);
    // Byte-identical updates (the same CID, which the program flags as duplicates) are always
    // duplicates, whatever their norm: a flagged reveal can never be paid as accepted.
    let mut by_bytes: Vec<usize> = (0..order.len()).filter(|&k| decoded[k].is_ok()).collect();
    by_bytes.sort_by_key(|&k| submissions[order[k]].bytes);
    for pair in by_bytes.windows(2) {
        if submissions[order[pair[0]]].bytes == submissions[order[pair[1]]].bytes {
            reasons[pair[0]] = Some(Reason::Duplicate);
            reasons[pair[1]] = Some(Reason::Duplicate);
        }
    }
    let accepted: Vec<usize> = (0..decoded.len())
        .filter(|&k| reasons[k].is_none())
        .collect();
    let accepted_updates: Vec<&Update> = accepted
        .iter()
        .map(|&k| decoded[k].as_ref().expect("accepted decodes"))
        .collect();
    let (new_model, aggregate_eval, weights) = if accepted.is_empty() {
        (base.clone(), base_eval, Vec::new())
    } else {
        let samples = capped_samples(&accepted_updates);
        let inputs: Vec<ClientUpdate<'_>> = accepted_updates
            .iter()
            .zip(&samples)
            .map(|(u, &samples)| ClientUpdate {
                delta: &u.values,
                samples,
            })
            .collect();
        let model = base.apply(
            &Aggregator::new(config.aggregator.clone())
                .aggregate(&inputs)?
                .delta,
        );
        let full = quantized(evaluate(spec, &model, validation, &device)?, config);
        let gains: Vec<f64> = accepted
            .iter()
            .map(|&k| {
                let gain = base_eval.loss - solo_loss[k].expect("accepted updates decode");
                gain * f64::from(submissions[order[k]].reputation_bps) / f64::from(BPS)
            })
            .collect();
        (model, full, basis_points(&gains, config.loss_quantum))
    };
    let mut verdicts = Vec::with_capacity(decoded.len());
    for (k, &i) in order.iter().enumerate() {
        let weight_bps = accepted
            .iter()
            .position(|&a| a == k)
            .map_or(0, |p| weights[p]);
        let outcome = match &reasons[k] {
            None => Outcome::Accepted,
            Some(Reason::Unavailable) => Outcome::Excluded,
            Some(_) => Outcome::Slashed,
        };
        verdicts.push(NodeVerdict {
            node: submissions[i].node,
            rejected: reasons[k].clone(),
            outcome,
            weight_bps,
            solo_loss: solo_loss[k],
        });
    }
    Ok(ValidationReport {
        verdicts,
        base: base_eval,
        aggregate: aggregate_eval,
        new_model,
    })
}

/// Sample claims capped at twice the median claim, so a node cannot buy weight by lying.
fn capped_samples(updates: &[&Update]) -> Vec<u64> {
    let mut claims: Vec<u64> = updates.iter().map(|u| u.samples).collect();
    claims.sort_unstable();
    let cap = claims[claims.len() / 2].saturating_mul(2).max(1);
    updates.iter().map(|u| u.samples.min(cap)).collect()
}

fn quantized(evaluation: Evaluation, config: &ValidatorConfig) -> Evaluation {
    Evaluation {
        loss: rules::quantize(evaluation.loss, config.loss_quantum),
        accuracy: evaluation.accuracy,
    }
}

#[cfg(test)]
mod tests;
