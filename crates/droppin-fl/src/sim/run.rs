//! Running rounds: honest and malicious nodes train, the server aggregates, accuracy is measured.

use std::time::Instant;

use burn::tensor::Device;
use rayon::prelude::*;

use droppin_interface::verdict::Outcome;

use super::Attack;
use super::attack::{Knowledge, attacker_data, backdoor_test, craft};
use crate::FlError;
use crate::aggregate::{Aggregator, ClientUpdate, Rule, l2_norm};
use crate::data::{Dataset, Partition, partition};
use crate::evaluate::evaluate;
use crate::model::{ModelSpec, Weights};
use crate::privacy::DpSgd;
use crate::train::{TrainConfig, train};
use crate::update::{Encoding, Update};
use crate::validate::{
    NodeVerdict, Reference, RoundContext, Submission, ValidatorConfig, validate,
};

/// Samples of the validation set the FLTrust server trains its root update on.
const ROOT_SAMPLES: usize = 100;

/// What to simulate.
#[derive(Clone, Debug)]
pub struct SimConfig {
    pub nodes: usize,
    pub malicious: usize,
    pub attack: Attack,
    /// `None`: the validator's default pipeline (verdicts, then FedAvg of accepted updates).
    pub aggregator: Option<String>,
    pub rounds: usize,
    pub seed: u64,
    pub spec: ModelSpec,
    pub train: TrainConfig,
    pub partition: Partition,
    /// Where nodes train (validation and test always run on the CPU).
    pub device: Device,
    /// DP-SGD target epsilon of every honest node's data over all rounds (delta 1e-5).
    pub dp_epsilon: Option<f64>,
    /// What a scaling or backdoor attacker multiplies its update by
    /// ([`Attack::default_boost`] unless set).
    pub boost: f32,
}

/// Train, public, validation and test sets.
#[derive(Clone, Debug)]
pub struct SimData {
    /// What the nodes' shards are cut from.
    pub train: Dataset,
    /// Data anyone can see (the task's published sample): validation trainers train on it, and
    /// the committee trains its reference update on it.
    pub public: Dataset,
    /// The committee's set, which no node sees before the reveal deadline.
    pub validation: Dataset,
    pub test: Dataset,
}

impl SimData {
    /// Share of the training data a task publishes.
    const PUBLIC_SHARE: usize = 10;

    /// `train`'s public sample (its first tenth) and the rest.
    pub fn split_public(train: &Dataset) -> (Dataset, Dataset) {
        let public_len = (train.len() / Self::PUBLIC_SHARE).max(train.len().min(1));
        (
            train.subset(&(0..public_len).collect::<Vec<_>>()),
            train.subset(&(public_len..train.len()).collect::<Vec<_>>()),
        )
    }

    /// Splits a tenth of `train` off (its first rows) as the public sample.
    pub fn with_public_sample(train: Dataset, validation: Dataset, test: Dataset) -> Self {
        let (public, train) = Self::split_public(&train);
        Self {
            train,
            public,
            validation,
            test,
        }
    }
}

/// The simulator's figures (the `--json` output of `dpin sim`).
#[derive(Clone, Debug, serde::Serialize)]
pub struct SimResult {
    /// Test accuracy of the same run with every node honest.
    pub clean_accuracy: f64,
    pub accuracy: f64,
    /// Test cross-entropy (nats per prediction) of the final model; a text task's perplexity
    /// is its `exp`.
    pub loss: f64,
    /// The same for the clean run.
    pub clean_loss: f64,
    /// Malicious updates not accepted (slashed, excluded or not selected), summed over rounds.
    pub malicious_rejected: usize,
    pub malicious_total: usize,
    pub honest_rejected: usize,
    pub honest_total: usize,
    pub epsilon: Option<f64>,
    pub seconds: f64,
    /// Share of triggered test samples (not of the target class) the final model sends to the
    /// backdoor's target class; measured for every attack, so the clean model's rate shows.
    pub backdoor_success: f64,
    /// The same rate for the clean run's model.
    pub clean_backdoor_success: f64,
    /// Honest updates slashed, summed over rounds (the validator's pipeline only).
    pub honest_slashed: Option<usize>,
    /// Honest updates excluded, summed over rounds (the validator's pipeline only).
    pub honest_excluded: Option<usize>,
    /// Honest updates accepted but paid nothing, summed over rounds (the validator's pipeline
    /// only): gains under the noise floor, updates taken for retrainings of public data, and
    /// every update of a round whose total gain was under the minimum.
    pub honest_unpaid: Option<usize>,
    /// Average fraction of a round's node pool per malicious node, from the verdicts' weights.
    pub malicious_share: Option<f64>,
    /// Average fraction of a round's node pool per honest node.
    pub honest_share: Option<f64>,
}

/// Runs the attacked simulation and the clean one beside it.
pub fn simulate(config: &SimConfig, data: &SimData) -> Result<SimResult, FlError> {
    let started = Instant::now();
    if config.malicious >= config.nodes {
        return Err(FlError::Data(format!(
            "{} malicious of {} nodes leaves no honest node",
            config.malicious, config.nodes
        )));
    }
    let clean = run(
        &SimConfig {
            malicious: 0,
            ..config.clone()
        },
        data,
    )?;
    // Without attackers the attacked run is the clean one: the same seeds, the same bits.
    let attacked = match config.malicious {
        0 => None,
        _ => Some(run(config, data)?),
    };
    let attacked = attacked.as_ref().unwrap_or(&clean);
    let honest = config.nodes - config.malicious;
    let per_node = |total: f64, nodes: usize| total / (nodes * config.rounds).max(1) as f64;
    let verdicts = attacked.verdicts.as_ref();
    Ok(SimResult {
        clean_accuracy: clean.accuracy,
        accuracy: attacked.accuracy,
        loss: attacked.loss,
        clean_loss: clean.loss,
        malicious_rejected: attacked.malicious_rejected,
        malicious_total: config.malicious * config.rounds,
        honest_rejected: attacked.honest_rejected,
        honest_total: honest * config.rounds,
        epsilon: attacked.epsilon,
        seconds: started.elapsed().as_secs_f64(),
        backdoor_success: attacked.backdoor_success,
        clean_backdoor_success: clean.backdoor_success,
        honest_slashed: verdicts.map(|v| v.honest_slashed),
        honest_excluded: verdicts.map(|v| v.honest_excluded),
        honest_unpaid: verdicts.map(|v| v.honest_unpaid),
        malicious_share: verdicts
            .filter(|_| config.malicious > 0)
            .map(|v| per_node(v.malicious_pool, config.malicious)),
        honest_share: verdicts.map(|v| per_node(v.honest_pool, honest)),
    })
}

/// What the verdicts gave each group over a run.
#[derive(Clone, Copy, Debug, Default)]
struct VerdictTotals {
    honest_slashed: usize,
    honest_excluded: usize,
    honest_unpaid: usize,
    /// Fractions of a round's node pool, summed over rounds and nodes.
    honest_pool: f64,
    malicious_pool: f64,
}

struct RunOutcome {
    accuracy: f64,
    loss: f64,
    backdoor_success: f64,
    malicious_rejected: usize,
    honest_rejected: usize,
    epsilon: Option<f64>,
    verdicts: Option<VerdictTotals>,
}

fn run(config: &SimConfig, data: &SimData) -> Result<RunOutcome, FlError> {
    let device = Device::flex();
    let shards = partition(&data.train, config.nodes, config.partition, config.seed)?;
    let node_data: Vec<Dataset> = shards.iter().map(|s| data.train.subset(s)).collect();
    let mut global = Weights::initial(&config.spec, config.seed);
    let rule = match &config.aggregator {
        Some(name) => Some(
            Rule::named(name, config.malicious, config.nodes)
                .ok_or_else(|| FlError::Data(format!("unknown aggregator {name:?}")))?,
        ),
        None => None,
    };
    let mut aggregator = rule.map(Aggregator::new);
    let dp = DpSgd::for_shards(config.dp_epsilon, &node_data, &config.train, config.rounds)?;
    let smallest = node_data.iter().map(Dataset::len).min().unwrap_or(1);
    let honest = config.nodes - config.malicious;
    let (mut malicious_rejected, mut honest_rejected) = (0, 0);
    let mut totals = aggregator.is_none().then(VerdictTotals::default);
    let mut previous_step: Option<Vec<f32>> = None;
    for round in 0..config.rounds {
        let round_seed = config
            .seed
            .wrapping_mul(1_000_003)
            .wrapping_add(round as u64);
        let updates = local_updates(
            &LocalRound {
                spec: &config.spec,
                global: &global,
                shards: &node_data,
                malicious: config.malicious,
                attack: config.attack,
                train: &config.train,
                dp,
                seed: round_seed,
                device: &config.device,
                public: &data.public,
                previous_step: previous_step.as_deref(),
                boost: config.boost,
            },
            || {},
        )?;
        let samples: Vec<u64> = node_data.iter().map(|d| d.len() as u64).collect();
        let before = global.clone();
        let rejected: Vec<bool> = match aggregator.as_mut() {
            None => {
                let round_key = round_key(round_seed);
                let base_hash = Update::model_hash(&config.spec, &global);
                let encoded: Vec<Vec<u8>> = updates
                    .iter()
                    .zip(&samples)
                    .enumerate()
                    .map(|(node, (u, &s))| {
                        let bound_to = if node >= honest && config.attack == Attack::Replay {
                            twin_round_key(round_seed)
                        } else {
                            round_key
                        };
                        Update::delta(
                            &config.spec,
                            base_hash,
                            bound_to,
                            s,
                            global.layout.clone(),
                            u.clone(),
                        )
                        .encode(Encoding::default())
                    })
                    .collect();
                let submissions: Vec<Submission<'_>> = encoded
                    .iter()
                    .enumerate()
                    .map(|(node, bytes)| Submission {
                        node: node_key(node),
                        bytes: Some(bytes),
                        reputation_bps: droppin_interface::BPS,
                    })
                    .collect();
                let reference = Reference::for_round(
                    &config.spec,
                    &global,
                    &data.public,
                    &TrainConfig {
                        seed: round_seed,
                        ..config.train
                    },
                )?;
                let report = validate(
                    &config.spec,
                    &global,
                    &data.validation,
                    &submissions,
                    &RoundContext {
                        round: round_key,
                        previous_step: previous_step.as_deref(),
                        reference: reference.as_ref(),
                    },
                    &ValidatorConfig::default(),
                )?;
                let verdicts: Vec<&NodeVerdict> = (0..config.nodes)
                    .map(|node| {
                        report
                            .verdict_of(&node_key(node))
                            .expect("every node submitted")
                    })
                    .collect();
                let totals = totals.as_mut().expect("the validator keeps totals");
                for (node, verdict) in verdicts.iter().enumerate() {
                    let share = f64::from(verdict.weight_bps) / f64::from(droppin_interface::BPS);
                    if node < honest {
                        totals.honest_pool += share;
                        totals.honest_slashed += usize::from(verdict.outcome == Outcome::Slashed);
                        totals.honest_excluded += usize::from(verdict.outcome == Outcome::Excluded);
                        totals.honest_unpaid += usize::from(
                            verdict.outcome == Outcome::Accepted && verdict.weight_bps == 0,
                        );
                    } else {
                        totals.malicious_pool += share;
                    }
                }
                let rejected = verdicts.iter().map(|v| v.rejected.is_some()).collect();
                global = report.new_model;
                rejected
            }
            Some(aggregator) => {
                if let Rule::FlTrust { root } = &mut aggregator.rule {
                    let root_rows: Vec<usize> =
                        (0..ROOT_SAMPLES.min(data.validation.len())).collect();
                    let root_train = TrainConfig {
                        seed: round_seed,
                        ..config.train
                    };
                    *root = train(
                        &config.spec,
                        &global,
                        &data.validation.subset(&root_rows),
                        &root_train,
                        &device,
                        |_| {},
                    )?
                    .delta_from(&global);
                }
                // Non-finite updates never reach a rule: the update format refuses them.
                let finite: Vec<usize> = (0..updates.len())
                    .filter(|&i| updates[i].iter().all(|v| v.is_finite()))
                    .collect();
                let inputs: Vec<ClientUpdate<'_>> = finite
                    .iter()
                    .map(|&i| ClientUpdate {
                        delta: &updates[i],
                        samples: samples[i],
                    })
                    .collect();
                let aggregate = aggregator.aggregate(&inputs)?;
                global = global.apply(&aggregate.delta);
                let kept: Vec<usize> = aggregate.selected.iter().map(|&k| finite[k]).collect();
                (0..config.nodes).map(|i| !kept.contains(&i)).collect()
            }
        };
        previous_step = Some(global.delta_from(&before));
        honest_rejected += rejected[..honest].iter().filter(|&&r| r).count();
        malicious_rejected += rejected[honest..].iter().filter(|&&r| r).count();
        debug_assert!(l2_norm(&global.values).is_finite());
    }
    let epsilon = dp
        .map(|dp_sgd| {
            dp_sgd.epsilon_spent(
                smallest,
                config.train.batch_size,
                config.train.epochs,
                config.rounds,
            )
        })
        .transpose()?;
    let test = evaluate(&config.spec, &global, &data.test, &device)?;
    let backdoor_success =
        evaluate(&config.spec, &global, &backdoor_test(&data.test), &device)?.accuracy;
    Ok(RunOutcome {
        accuracy: test.accuracy,
        loss: test.loss,
        backdoor_success,
        malicious_rejected,
        honest_rejected,
        epsilon,
        verdicts: totals,
    })
}

/// The key of simulated round `seed`: what its updates are bound to.
fn round_key(seed: u64) -> [u8; 32] {
    let mut key = [0xd0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key
}

/// The key of a twin round on the same base, where a replayed update was first revealed.
fn twin_round_key(seed: u64) -> [u8; 32] {
    let mut key = round_key(seed);
    key[31] ^= 1;
    key
}

/// A stand-in node key for simulated node `index`.
fn node_key(index: usize) -> [u8; 32] {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&(index as u64).to_be_bytes());
    key
}

/// One round's local work for every node.
pub struct LocalRound<'a> {
    pub spec: &'a ModelSpec,
    /// The model every node starts from.
    pub global: &'a Weights,
    /// Each node's private data, honest nodes first.
    pub shards: &'a [Dataset],
    /// How many of the last nodes attack.
    pub malicious: usize,
    pub attack: Attack,
    pub train: &'a TrainConfig,
    /// DP-SGD in the honest nodes.
    pub dp: Option<DpSgd>,
    /// This round's seed (node `i` trains with `seed ^ i`).
    pub seed: u64,
    pub device: &'a Device,
    /// The data anyone can see, which a validation trainer trains on.
    pub public: &'a Dataset,
    /// The previous round's global step, once there is one (public).
    pub previous_step: Option<&'a [f32]>,
    /// What a scaling or backdoor attacker multiplies its update by.
    pub boost: f32,
}

/// Seed offset of the twin round a replay attacker copies from.
const TWIN_SEED: u64 = 0x7411_5eed;

/// Every node's delta for one round: honest nodes train on their shard (with DP-SGD when set),
/// attackers train on the data their attack uses when it needs training, then craft.
/// `trained` is called as each node finishes, for progress.
pub fn local_updates(
    round: &LocalRound<'_>,
    trained: impl Fn() + Sync,
) -> Result<Vec<Vec<f32>>, FlError> {
    let nodes = round.shards.len();
    let honest = nodes - round.malicious;
    let deltas: Vec<Vec<f32>> = (0..nodes)
        .into_par_iter()
        .map(|node| -> Result<Vec<f32>, FlError> {
            let malicious = node >= honest;
            if malicious && !round.attack.trains() {
                trained();
                return Ok(Vec::new());
            }
            let (local, seed) = if !malicious {
                (round.shards[node].clone(), round.seed ^ node as u64)
            } else if round.attack == Attack::Replay {
                // The honest node's update from the twin round: its shard, that round's seed.
                let copied = (node - honest) % honest.max(1);
                (
                    round.shards[copied].clone(),
                    (round.seed ^ TWIN_SEED) ^ copied as u64,
                )
            } else {
                (
                    attacker_data(
                        round.attack,
                        &round.shards[node],
                        &round.shards[honest],
                        round.public,
                    ),
                    round.seed ^ node as u64,
                )
            };
            let config = TrainConfig {
                seed,
                dp_sgd: if malicious { None } else { round.dp },
                ..*round.train
            };
            let model = train(
                round.spec,
                round.global,
                &local,
                &config,
                round.device,
                |_| {},
            )?;
            trained();
            Ok(model.delta_from(round.global))
        })
        .collect::<Result<_, _>>()?;
    let (honest_updates, own) = deltas.split_at(honest);
    let mut updates = honest_updates.to_vec();
    updates.extend(craft(
        round.attack,
        own,
        &Knowledge {
            honest: honest_updates,
            previous_step: round.previous_step,
            nodes,
            boost: round.boost,
        },
        round.seed,
    ));
    Ok(updates)
}
