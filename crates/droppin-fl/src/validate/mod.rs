//! The committee's validation: verdicts, the new global model and contribution weights,
//! identical on every validator.
//!
//! Every update is judged against anchors the cohort cannot move: bounds pinned by the task
//! ([`ValidatorConfig`]), the committee's own validation set, and the previous round's global
//! step, which is public. Who else joined a round never decides a verdict, so sybils holding
//! most seats cannot push honest nodes out. Rules, in order (the first that applies decides):
//! 0. **Unavailable** (excluded: stake back, nothing paid): the blob could not be fetched by a
//!    majority of the committee. Unavailability cannot be proven against the node.
//! 1. **Malformed** (slashed): the bytes do not decode against the round's model and base
//!    (format, shape, spec, base, truncation, size, NaN or infinite values).
//! 2. **Replay** (slashed): the update is bound to another round's key (it was revealed there).
//! 3. **Duplicate** (slashed): byte-identical to another node's update, or a cosine >= 0.999 with
//!    it (a copy with a little noise). Commit-reveal stops copying within a round, so all copies
//!    are one party's.
//! 4. **Loss increase** (slashed): the base plus a tenth of this update (its share in a 10-node
//!    average, fixed per task) raises the validation loss by more than the task's bound (1 nat by
//!    default): poisoning anyone can check by re-running the evaluation on the set the round
//!    pinned. A share, not the whole: an honest update from a label-skewed shard, applied alone,
//!    can raise the loss on the other classes by nats.
//! 5. **Norm out of range** (excluded): outside the task's norm range.
//! 6. **Harmful** (excluded): the update's *marginal gain* is more than three standard errors
//!    below zero. The marginal gain is how much the validation loss falls when the base moves by
//!    the update's new part (the update minus its projection on the previous round's global
//!    step, which anyone can repeat for free) at its share of an average (divided by the number
//!    of decoded updates), the update first clipped to the reference update's norm, or without a
//!    reference to the median norm of the updates that gain at their own and pass rules 4 and 5
//!    (near-copies, at a cosine of 0.85, counting once), so that scaling an update up buys
//!    nothing. Free riders and noise gain nothing (accepted, paid nothing); updates against the
//!    descent direction are excluded.
//!
//! Pay is the gain an update *surely* brought: its marginal gain less three standard errors over
//! the validation samples (`significance`), nothing below `min_gain`, so noise earns nothing.
//! Accepted updates whose marginal directions have a cosine >= 0.5 (raised toward 0.85 when the
//! updates that help are alike, each pair weighed by what its updates surely brought, or by their
//! measured gains when fewer than three surely help; when fewer than three gain at all, the
//! reference's retraining bar below holds, which the cohort cannot move (without a reference, the
//! floor), and an update that gains nothing links only as a near-copy, at 0.85) form one group (the
//! same data trained again under several keys): a group is paid its *least* member's gain once,
//! split among its members, so neither the luckiest of several retrainings nor their steadier
//! average is what is paid, and splitting a shard over keys never pays. The committee's reference
//! update (the round's recipe on the task's public data, [`Reference`]) is an anchor: an update
//! whose own cosine with it reaches 0.9 of the cosine between two retrainings of the reference (and
//! at least the grouping floor) is one more retraining of public data and earns nothing, nor does
//! its group: training on public data, the validation sets of earlier rounds included, is free to
//! anyone. The bar never falls under where an update of other data is expected: the reference is
//! also trained on each half of the public sample, and the cosine of the two, scaled up to the
//! whole sample's size ([`rules::expected_alike`]), plus a margin of 0.05, bounds it from below.
//! Where training is chaotic (the character model's first rounds) two retrainings are no more
//! alike than honest updates, and the reference then only sets the norm gains are measured at.
//! Weights are proportional to those shares, capped per node (2,500 bps by default); below
//! a minimum total gain nobody is paid; what is not paid goes back to the funder. The new model
//! averages the accepted updates weighted by their measured gains (a group's average gain, each
//! member its own over the group's size), each clipped to the norm the gains were measured at:
//! copies count once, tiny or useless updates do not dilute it, and a few boosted ones cannot steer
//! it. Only parameters that updates holding half the weight move are moved. The base stays when
//! nothing helped.
//!
//! Determinism: every loss that decides a verdict comes from [`score`], a scalar `f64` forward
//! pass with a fixed summation order and software `exp`/`log`, and the reference update from the
//! same network's backward pass, so verdicts have the same bits on any x86-64 or ARM CPU and any
//! thread count; losses are then quantized to [`ValidatorConfig::loss_quantum`] (1e-5 nats) and
//! cosines to 1e-6 before any comparison.

mod contribution;
mod exact;
mod list;
mod reference;
mod rules;
mod score;

pub use contribution::basis_points;
pub use list::{ListedVerdict, VerdictList, outcome_name};
pub use reference::Reference;
pub use rules::{Reason, ValidatorConfig};
pub use score::score;

use droppin_interface::verdict::Outcome;
use droppin_interface::{BPS, Pubkey};
use rayon::prelude::*;

use crate::FlError;
use crate::aggregate::{Aggregator, ClientUpdate, cosine, l2_norm};
use crate::data::Dataset;
use crate::evaluate::Evaluation;
use crate::model::{ModelSpec, Weights};
use crate::update::{DecodeError, DecodeLimits, Update};

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

/// The public facts of the round an update is judged in.
#[derive(Clone, Copy, Debug)]
pub struct RoundContext<'a> {
    /// The round's key: an update bound to another round is a replay.
    pub round: Pubkey,
    /// The previous round's global step (this round's base minus the one before), when the base
    /// was shipped by a round: repeating it is free, so it earns nothing.
    pub previous_step: Option<&'a [f32]>,
    /// The committee's reference update ([`Reference`]: the round's recipe on the task's public
    /// data), when the task has public data: anyone can train it, so an update grouped with it
    /// earns nothing.
    pub reference: Option<&'a Reference>,
}

/// The verdict on one node.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeVerdict {
    pub node: Pubkey,
    /// `None` when accepted.
    pub rejected: Option<Reason>,
    /// What the verdict leaf says: accepted, excluded or slashed.
    pub outcome: Outcome,
    pub weight_bps: u16,
    /// Validation loss of the base model plus the loss-bound share of this update (quantized),
    /// when it decoded.
    pub solo_loss: Option<f64>,
    /// The update's marginal gain in nats (see the module docs), when it decoded; measured at
    /// the update's own norm when rule 4 or 5 rejected it, which no gain changes.
    pub gain: Option<f64>,
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
    context: &RoundContext<'_>,
    config: &ValidatorConfig,
) -> Result<ValidationReport, FlError> {
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
    let fits = |values: &[f32]| values.len() == base.values.len() && usable_norm(values).is_some();
    let previous_step = context.previous_step.filter(|step| fits(step));
    let base_hash = Update::model_hash(spec, base);
    let limits = DecodeLimits::delta(spec, &base.layout, base_hash, context.round);
    let decoded: Vec<Result<Update, Reason>> = order
        .iter()
        .map(|&i| match submissions[i].bytes {
            None => Err(Reason::Unavailable),
            Some(bytes) => Update::decode(bytes, &limits).map_err(|e| match e {
                DecodeError::RoundMismatch => Reason::Replay,
                other => Reason::Malformed(other.to_string()),
            }),
        })
        .collect();
    // The base is scored once: its per-sample losses serve every update's gain too.
    let (base_losses, base_correct) = score::sample_losses(spec, base, validation)?;
    let base_eval = quantized(
        score::evaluation_of(spec, validation, &base_losses, base_correct),
        config,
    );
    let valid = decoded.iter().filter(|d| d.is_ok()).count().max(1);
    let directions: Vec<Option<Vec<f32>>> = decoded
        .iter()
        .map(|d| d.as_ref().ok().map(|u| marginal(&u.values, previous_step)))
        .collect();
    let reference = context.reference.filter(|r| {
        [&r.update, &r.retrained, &r.halves[0], &r.halves[1]]
            .iter()
            .all(|u| fits(u))
    });
    let reference_norm = reference.map(|r| l2_norm(&r.update));
    let public = reference.and_then(|r| public_anchor(r, previous_step, config));
    // The gain of `direction` as one share of an average, `clip` times its size.
    let gain_at = |direction: &[f32], clip: f64| -> Result<(f64, f64), FlError> {
        let share: Vec<f32> = direction
            .iter()
            .map(|v| v * clip as f32 / valid as f32)
            .collect();
        let (stepped, _) = score::sample_losses(spec, &base.apply(&share), validation)?;
        let (gain, gain_error) = mean_and_error(&base_losses, &stepped);
        Ok((
            rules::quantize(gain, config.loss_quantum),
            rules::quantize(gain_error, config.loss_quantum),
        ))
    };
    // Gains are measured at most at the reference's norm (FLTrust's normalization), or without
    // one at the cohort's ([`measure_at_cohort_norm`]): scaling an update up buys no gain.
    let mut scores: Vec<Option<rules::Scores>> = decoded
        .par_iter()
        .zip(&directions)
        .map(|(update, direction)| -> Result<_, FlError> {
            let (Ok(update), Some(direction)) = (update, direction) else {
                return Ok(None);
            };
            let probe: Vec<f32> = update
                .values
                .iter()
                .map(|v| v * config.loss_bound_share as f32)
                .collect();
            let solo = quantized(score(spec, &base.apply(&probe), validation)?, config);
            let norm = l2_norm(&update.values);
            let (gain, gain_error) = gain_at(direction, clip_factor(norm, reference_norm))?;
            Ok(Some(rules::Scores {
                norm,
                solo_loss: solo.loss,
                gain,
                gain_error,
            }))
        })
        .collect::<Result<_, _>>()?;
    let measuring_norm = match reference_norm {
        Some(norm) => Some(norm),
        None => measure_at_cohort_norm(&mut scores, &directions, base_eval.loss, config, gain_at)?,
    };
    let values: Vec<Result<&[f32], Reason>> = decoded
        .iter()
        .map(|d| {
            d.as_ref()
                .map(|u| u.values.as_slice())
                .map_err(Clone::clone)
        })
        .collect();
    let mut reasons = rules::judge(&values, &scores, base_eval.loss, config);
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
    let mut weights = vec![0u16; decoded.len()];
    let (new_model, aggregate_eval) = if accepted.is_empty() {
        (base.clone(), base_eval)
    } else {
        let marginal_directions: Vec<Vec<f32>> = accepted
            .iter()
            .map(|&k| directions[k].clone().expect("accepted updates decode"))
            .collect();
        let sure: Vec<f64> = accepted
            .iter()
            .map(|&k| {
                scores[k]
                    .expect("accepted updates are scored")
                    .sure_gain(config.significance, config.min_gain)
            })
            .collect();
        let measured: Vec<f64> = accepted
            .iter()
            .map(|&k| {
                scores[k]
                    .expect("accepted updates are scored")
                    .gain
                    .max(0.0)
            })
            .collect();
        let groups = contribution::groups(
            &marginal_directions,
            &sure,
            &measured,
            &contribution::Bars {
                floor: config.group_cosine,
                ceiling: config.group_cosine_ceiling,
                anchor: public.as_ref().map(|(_, _, bar)| *bar),
            },
        );
        let split = |shared: Vec<f64>| {
            let shares = basis_points(
                &shared,
                config.loss_quantum,
                config.min_total_gain,
                config.max_share_bps,
            );
            contribution::cap_groups(&shares, &groups, config.max_share_bps)
        };
        // The new model weighs each update by its measured gain (copies sharing one), so tiny
        // or useless updates do not dilute it and a skewed shard that helps still counts; each
        // is clipped (below), so no few updates can steer it. The base stays when nothing
        // helped.
        let blend = split(contribution::shared_gains(&measured, &groups));
        let contributing: Vec<usize> = (0..accepted.len()).filter(|&p| blend[p] > 0).collect();
        let model = if contributing.is_empty() {
            base.clone()
        } else {
            let inputs: Vec<ClientUpdate<'_>> = contributing
                .iter()
                .map(|&p| ClientUpdate {
                    delta: &decoded[accepted[p]]
                        .as_ref()
                        .expect("accepted updates decode")
                        .values,
                    samples: u64::from(blend[p]),
                })
                .collect();
            // Each clipped to the norm the gains were measured at.
            let clip =
                measuring_norm.expect("an update that helps gained, so there is a norm") as f32;
            let mut step = Aggregator::new(config.aggregator.clone())
                .with_clip_norm(clip)
                .aggregate(&inputs)?
                .delta;
            consensus(&mut step, &inputs);
            base.apply(&step)
        };
        let full = quantized(score(spec, &model, validation)?, config);
        // A retraining of the public reference is free to anyone: it earns nothing, and so does
        // its group (near-copies of it, which only its sender can make before the reveal).
        let retrains: Vec<bool> = marginal_directions
            .iter()
            .map(|d| {
                public.as_ref().is_some_and(|(reference, norm, bar)| {
                    rules::quantize(cosine(d, reference, l2_norm(d), *norm), 1e-6) >= *bar
                })
            })
            .collect();
        let free: Vec<bool> = groups
            .iter()
            .map(|&g| (0..groups.len()).any(|k| groups[k] == g && retrains[k]))
            .collect();
        let earned: Vec<f64> = accepted
            .iter()
            .zip(&sure)
            .zip(&free)
            .map(|((&k, gain), &free)| {
                if free {
                    0.0
                } else {
                    gain * f64::from(submissions[order[k]].reputation_bps) / f64::from(BPS)
                }
            })
            .collect();
        for (&k, w) in accepted
            .iter()
            .zip(split(contribution::paid_gains(&earned, &groups)))
        {
            weights[k] = w;
        }
        (model, full)
    };
    let verdicts = order
        .iter()
        .enumerate()
        .map(|(k, &i)| NodeVerdict {
            node: submissions[i].node,
            rejected: reasons[k].clone(),
            outcome: reasons[k]
                .as_ref()
                .map_or(Outcome::Accepted, Reason::outcome),
            weight_bps: weights[k],
            solo_loss: scores[k].map(|s| s.solo_loss),
            gain: scores[k].map(|s| s.gain),
        })
        .collect();
    Ok(ValidationReport {
        verdicts,
        base: base_eval,
        aggregate: aggregate_eval,
        new_model,
    })
}

/// Leaves only the parameters that updates holding at least half the blend weight move: a
/// minority cannot write into the model where the rest are silent (a pixel-trigger backdoor
/// lives in weights of pixels that clean data never lights). Integer weights and exact zero
/// tests, so every validator keeps the same parameters.
fn consensus(step: &mut [f32], inputs: &[ClientUpdate<'_>]) {
    let total: u64 = inputs.iter().map(|u| u.samples).sum();
    for (j, value) in step.iter_mut().enumerate() {
        let moved: u64 = inputs
            .iter()
            .filter(|u| u.delta[j] != 0.0)
            .map(|u| u.samples)
            .sum();
        if 2 * moved < total {
            *value = 0.0;
        }
    }
}

/// Without a reference: the typical norm of the updates that gain and pass the loss bound and
/// the norm range ([`contribution::typical_norm`]), with the gains of the updates above it
/// measured again at it (by `gain_at`), those whose verdict can depend on their gain. `None`
/// when no update gains.
fn measure_at_cohort_norm(
    scores: &mut [Option<rules::Scores>],
    directions: &[Option<Vec<f32>>],
    base_loss: f64,
    config: &ValidatorConfig,
    gain_at: impl Fn(&[f32], f64) -> Result<(f64, f64), FlError> + Sync,
) -> Result<Option<f64>, FlError> {
    let fault = |s: &rules::Scores| rules::fault(s, base_loss, config);
    let direction = |k: usize| directions[k].as_deref().expect("scored updates decode");
    let gaining: Vec<(usize, f64)> = (0..scores.len())
        .filter_map(|k| Some((k, scores[k]?)))
        .filter(|(_, s)| s.gain > 0.0 && fault(s).is_none())
        .map(|(k, s)| (k, s.norm))
        .collect();
    let Some(typical) = contribution::typical_norm(
        &gaining
            .iter()
            .map(|&(k, _)| direction(k))
            .collect::<Vec<_>>(),
        &gaining.iter().map(|&(_, norm)| norm).collect::<Vec<_>>(),
        config.group_cosine_ceiling,
    ) else {
        return Ok(None);
    };
    let remeasured: Vec<(usize, (f64, f64))> = (0..scores.len())
        .into_par_iter()
        .filter_map(|k| {
            let scores = scores[k]?;
            let judged_on_gain = matches!(fault(&scores), None | Some(Reason::Harmful));
            (scores.norm > typical && judged_on_gain).then_some((k, scores.norm))
        })
        .map(|(k, norm)| Ok((k, gain_at(direction(k), clip_factor(norm, Some(typical)))?)))
        .collect::<Result<_, FlError>>()?;
    for (k, (gain, gain_error)) in remeasured {
        let score = scores[k].as_mut().expect("remeasured updates are scored");
        (score.gain, score.gain_error) = (gain, gain_error);
    }
    Ok(Some(typical))
}

/// What an update of `norm` is scaled by to be at most `at_most`.
fn clip_factor(norm: f64, at_most: Option<f64>) -> f64 {
    at_most.map_or(1.0, |limit| (limit / norm).min(1.0))
}

/// The mean of `before - after` and its standard error, summed in order.
fn mean_and_error(before: &[f64], after: &[f64]) -> (f64, f64) {
    let n = before.len() as f64;
    let differences: Vec<f64> = before.iter().zip(after).map(|(b, a)| b - a).collect();
    let mean = differences.iter().sum::<f64>() / n;
    let variance = differences
        .iter()
        .map(|d| (d - mean) * (d - mean))
        .sum::<f64>()
        / (n - 1.0).max(1.0);
    (mean, (variance / n).sqrt())
}

/// The reference's own part beyond the previous step (what it adds to public knowledge), its
/// norm, and the bar of a retraining: a share of the cosine between its two trainings' parts,
/// never under the grouping floor, nor under where an update of other data of the sample's size
/// is expected (from the halves' trainings), raised by `public_margin`. That last keeps honest
/// updates under the bar where training is chaotic: the character model's first rounds, whose
/// two trainings are 0.57-0.74 alike, as alike as honest updates. That expectation is for nodes
/// holding about the sample's data: one holding more, trained by the recipe, takes more steps and
/// moves further from the reference, not closer (`a_node_with_five_times_the_public_data_is_paid`).
/// A reference that adds nothing beyond the step is no anchor.
fn public_anchor(
    reference: &Reference,
    previous_step: Option<&[f32]>,
    config: &ValidatorConfig,
) -> Option<(Vec<f32>, f64, f64)> {
    // Each training's part beyond the step, with its norm.
    let part = |update: &[f32]| {
        let part = marginal(update, previous_step);
        usable_norm(&part).map(|norm| (part, norm))
    };
    let [own, retrained, first, second] = [
        &reference.update,
        &reference.retrained,
        &reference.halves[0],
        &reference.halves[1],
    ]
    .map(|update| part(update));
    let (own, retrained, first, second) = (own?, retrained?, first?, second?);
    let alike_of = |(a, a_norm): &(Vec<f32>, f64), (b, b_norm): &(Vec<f32>, f64)| {
        rules::quantize(cosine(a, b, *a_norm, *b_norm), 1e-6)
    };
    let alike = alike_of(&own, &retrained);
    let halves = alike_of(&first, &second);
    if alike.is_nan() || halves.is_nan() {
        return None;
    }
    let bar = (alike * config.public_cosine_share)
        .max(config.group_cosine)
        .max(rules::expected_alike(halves) + config.public_margin);
    let (direction, norm) = own;
    Some((direction, norm, bar))
}

/// The norm of `values` when it is finite and positive: what a direction needs to count.
fn usable_norm(values: &[f32]) -> Option<f64> {
    let norm = l2_norm(values);
    (norm.is_finite() && norm > 0.0).then_some(norm)
}

/// The update without its component along the public previous step.
fn marginal(update: &[f32], previous_step: Option<&[f32]>) -> Vec<f32> {
    let Some(step) = previous_step else {
        return update.to_vec();
    };
    let dot: f64 = update
        .iter()
        .zip(step)
        .map(|(u, s)| f64::from(*u) * f64::from(*s))
        .sum();
    let scale = (dot
        / step
            .iter()
            .map(|s| f64::from(*s) * f64::from(*s))
            .sum::<f64>()) as f32;
    update
        .iter()
        .zip(step)
        .map(|(u, s)| u - scale * s)
        .collect()
}

fn quantized(evaluation: Evaluation, config: &ValidatorConfig) -> Evaluation {
    Evaluation {
        loss: rules::quantize(evaluation.loss, config.loss_quantum),
        accuracy: evaluation.accuracy,
    }
}

#[cfg(test)]
mod tests;
