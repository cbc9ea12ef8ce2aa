//! `dpin demo`: complete rounds on a chain running the real program, with real training.
//!
//! A funder opens and funds a round; nodes stake, train on their shard of the shipped digits,
//! upload their deltas and commit; a committee stakes; nodes reveal; each validator fetches and
//! checks every delta, validates and aggregates, publishes the new model and the verdict list,
//! and votes; the round is finalized, every node claims with its Merkle proof, validators settle,
//! the round closes. The next round starts from the model the committee published.

use std::{collections::BTreeMap, path::PathBuf, time::Instant};

use anyhow::{Context, bail};
use droppin_client::{Chain, Protocol};
use droppin_fl::{
    data::{Dataset, DigitsSplit, Partition, partition},
    evaluate::evaluate,
    model::{ModelSpec, Weights},
    privacy::DpSgd,
    sim::{Attack, LocalRound, local_updates},
    train::TrainConfig,
    validate::ValidatorConfig,
};
use droppin_interface::{
    Cid, LAMPORTS_PER_SOL,
    hash::Sha256,
    instruction::{DEFAULT_QUORUM_BPS, OpenRoundArgs, VerdictVote},
    merkle::{MerkleTree, Verdict, VerdictLeaf},
    pda::find,
    state::{Currency, Deadlines, NodeState, Reputation},
};
use droppin_storage::{BlobStore, from_interface};
use indicatif::{ProgressBar, ProgressStyle};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use solana_address::Address;
use solana_keypair::Keypair;
use solana_signer::Signer;

mod report;

pub use report::{
    ComputeFigures, DemoReport, NodeReport, NodeRole, PhaseSeconds, ReputationReport, RoundReport,
    ValidatorReport, ValidatorRole,
};

use crate::{
    node::{Pending, commit, encode_delta, pending_for, reveal, upload_and_reveal},
    validator::{claim_from_list, judge, publish_model},
};

/// Lamports every participant is given on a local chain.
const AIRDROP: u64 = 10 * LAMPORTS_PER_SOL;

/// Faults to inject, to show what the protocol does with them.
#[derive(Clone, Copy, Debug, Default)]
pub struct Faults {
    /// Honest nodes that commit but never reveal.
    pub no_show: usize,
    /// Honest nodes that commit and reveal a CID whose blob never reaches storage.
    pub lost_blobs: usize,
    /// Committee members that stake but never vote.
    pub silent_validators: usize,
    /// Committee members that vote a different verdict (every update accepted).
    pub dishonest_validators: usize,
}

/// What to run.
#[derive(Clone, Debug)]
pub struct DemoConfig {
    /// Nodes per round.
    pub nodes: usize,
    /// How many of them attack.
    pub malicious: usize,
    /// Their attack.
    pub attack: Attack,
    /// Committee size.
    pub validators: usize,
    /// Rounds, each starting from the previous round's model.
    pub rounds: usize,
    /// Seed of keys, data split, initial model, training and attacks.
    pub seed: u64,
    /// The model.
    pub spec: ModelSpec,
    /// Local training.
    pub train: TrainConfig,
    /// DP-SGD target epsilon of every honest node over all rounds (delta 1e-5).
    pub dp_epsilon: Option<f64>,
    /// Lamports the funder pays per round, fee included.
    pub fund_lamports: u64,
    /// Stake of each node and each validator, in lamports.
    pub stake_lamports: u64,
    /// Slots per phase (commit, reveal, validation).
    pub phase_slots: u64,
    /// The committee's validation, including how accepted updates are combined.
    pub validator: ValidatorConfig,
    /// Injected faults.
    pub faults: Faults,
    /// Where the model and the chart are written.
    pub out_dir: PathBuf,
    /// Show progress bars on stderr.
    pub progress: bool,
}

impl DemoConfig {
    /// The README's demo: 8 nodes (2 attacking with sign flips), 3 validators, one round.
    pub fn new(out_dir: PathBuf) -> DemoConfig {
        DemoConfig {
            nodes: 8,
            malicious: 2,
            attack: Attack::SignFlip,
            validators: 3,
            rounds: 1,
            seed: 1,
            spec: ModelSpec::digits_mlp(),
            train: TrainConfig {
                epochs: 5,
                learning_rate: 0.005,
                ..TrainConfig::default()
            },
            dp_epsilon: None,
            fund_lamports: LAMPORTS_PER_SOL,
            stake_lamports: LAMPORTS_PER_SOL / 50,
            phase_slots: 100,
            validator: ValidatorConfig::default(),
            faults: Faults::default(),
            out_dir,
            progress: false,
        }
    }

    fn check(&self) -> anyhow::Result<()> {
        let f = &self.faults;
        if self.nodes == 0 || self.rounds == 0 {
            bail!("a demo needs at least one node and one round");
        }
        if self.malicious + f.no_show + f.lost_blobs >= self.nodes {
            bail!(
                "{} nodes cannot hold {} attackers, {} no-shows and {} lost blobs and one honest node",
                self.nodes,
                self.malicious,
                f.no_show,
                f.lost_blobs
            );
        }
        if !(1..=8).contains(&self.validators) {
            bail!("the committee has 1 to 8 validators");
        }
        let honest = self.validators - f.silent_validators.min(self.validators);
        let honest = honest.saturating_sub(f.dishonest_validators);
        if honest * 10_000 <= self.validators * usize::from(DEFAULT_QUORUM_BPS) {
            bail!(
                "{honest} honest validators of {} cannot reach the quorum",
                self.validators
            );
        }
        Ok(())
    }
}

struct Participant<R> {
    key: Keypair,
    role: R,
}

/// The demo's participants, data and chain.
struct Demo<'a, C> {
    config: &'a DemoConfig,
    protocol: Protocol<C>,
    store: &'a dyn BlobStore,
    data: &'a DigitsSplit,
    shards: Vec<Dataset>,
    funder: Keypair,
    nodes: Vec<Participant<NodeRole>>,
    validators: Vec<Participant<ValidatorRole>>,
    dp: Option<DpSgd>,
    phases: PhaseSeconds,
    funded: u64,
    fees: u64,
    escrow_left: u64,
    rng: ChaCha20Rng,
}

/// Everything measured in one round.
struct RoundOutcome {
    model: Weights,
    report: RoundReport,
    node_reports: Vec<NodeReport>,
    validator_reports: Vec<ValidatorReport>,
}

/// Runs the demo on `chain` with blobs in `store`.
pub fn run<C: Chain>(
    config: &DemoConfig,
    chain: C,
    store: &dyn BlobStore,
    data: &DigitsSplit,
) -> anyhow::Result<DemoReport> {
    config.check()?;
    let started = Instant::now();
    let mut rng = ChaCha20Rng::seed_from_u64(config.seed);
    let mut keypair = || Keypair::new_from_array(rng.random());
    let funder = keypair();
    let admin = keypair();
    let honest = config.nodes - config.malicious;
    let nodes: Vec<Participant<NodeRole>> = (0..config.nodes)
        .map(|i| Participant {
            key: keypair(),
            role: if i >= honest {
                NodeRole::Malicious
            } else if i < config.faults.no_show {
                NodeRole::NoShow
            } else if i < config.faults.no_show + config.faults.lost_blobs {
                NodeRole::LostBlob
            } else {
                NodeRole::Honest
            },
        })
        .collect();
    let silent = config.faults.silent_validators;
    let validators: Vec<Participant<ValidatorRole>> = (0..config.validators)
        .map(|i| Participant {
            key: keypair(),
            role: if i < silent {
                ValidatorRole::Silent
            } else if i < silent + config.faults.dishonest_validators {
                ValidatorRole::Dishonest
            } else {
                ValidatorRole::Honest
            },
        })
        .collect();
    let shards: Vec<Dataset> = partition(&data.train, config.nodes, Partition::Iid, config.seed)?
        .iter()
        .map(|rows| data.train.subset(rows))
        .collect();
    let smallest = shards.iter().map(Dataset::len).min().unwrap_or(1);
    let dp = DpSgd::for_shards(config.dp_epsilon, &shards, &config.train, config.rounds)?;
    let mut protocol = Protocol::new(chain);
    for key in [&funder, &admin]
        .into_iter()
        .chain(nodes.iter().map(|p| &p.key))
        .chain(validators.iter().map(|p| &p.key))
    {
        protocol.chain.airdrop(&key.pubkey(), AIRDROP)?;
    }
    if protocol.config().is_err() {
        protocol.initialize_config(&admin, Default::default())?;
    }
    let mut demo = Demo {
        config,
        protocol,
        store,
        data,
        shards,
        funder,
        nodes,
        validators,
        dp,
        phases: PhaseSeconds::default(),
        funded: 0,
        fees: 0,
        escrow_left: 0,
        rng,
    };
    let mut global = Weights::initial(&config.spec, config.seed);
    let accuracy_before = demo.accuracy(&global)?;
    let mut rounds = Vec::new();
    let mut last = None;
    for round in 0..config.rounds {
        let outcome = demo
            .round(round, &global)
            .with_context(|| format!("round {}", round + 1))?;
        global = outcome.model.clone();
        rounds.push(outcome.report.clone());
        last = Some(outcome);
    }
    let last = last.expect("at least one round");
    std::fs::create_dir_all(&config.out_dir)
        .with_context(|| format!("creating {}", config.out_dir.display()))?;
    let model_path = config.out_dir.join("model.safetensors");
    std::fs::write(
        &model_path,
        droppin_fl::update::export_safetensors(&config.spec, &global)?,
    )
    .with_context(|| format!("writing {}", model_path.display()))?;
    let plot_path = config.out_dir.join("accuracy.svg");
    let mut curve = vec![accuracy_before];
    curve.extend(rounds.iter().map(|r| r.accuracy));
    crate::plot::accuracy_chart(&plot_path, &curve)?;
    let compute_units = demo
        .protocol
        .compute
        .by_instruction()
        .iter()
        .map(|(name, units)| {
            let sum: u64 = units.iter().sum();
            (
                name.to_string(),
                ComputeFigures {
                    count: units.len(),
                    min: units.iter().copied().min().unwrap_or(0),
                    mean: sum / units.len().max(1) as u64,
                    max: units.iter().copied().max().unwrap_or(0),
                },
            )
        })
        .collect();
    let epsilon = dp
        .map(|dp| {
            dp.epsilon_spent(
                smallest,
                config.train.batch_size,
                config.train.epochs,
                config.rounds,
            )
        })
        .transpose()?;
    Ok(DemoReport {
        nodes: last.node_reports,
        validators: last.validator_reports,
        accuracy_before,
        accuracy_after: last.report.accuracy,
        model_cid: last.report.model_cid.clone(),
        funded_lamports: demo.funded,
        fee_lamports: demo.fees,
        escrow_remaining_lamports: demo.escrow_left,
        compute_units,
        seconds: started.elapsed().as_secs_f64(),
        rounds,
        phase_seconds: demo.phases,
        epsilon,
        model_path: model_path.display().to_string(),
        plot_path: plot_path.display().to_string(),
    })
}

/// A progress bar on stderr, or a hidden one.
fn bar(show: bool, length: usize, message: &'static str) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(length as u64).with_message(message);
    bar.set_style(
        ProgressStyle::with_template("{msg:>24} [{bar:30}] {pos}/{len} {elapsed}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar
}

impl<C: Chain> Demo<'_, C> {
    fn accuracy(&self, weights: &Weights) -> anyhow::Result<f64> {
        Ok(evaluate(
            &self.config.spec,
            weights,
            &self.data.test,
            &droppin_fl::device::device("cpu")?,
        )?
        .accuracy)
    }

    fn timed<T>(elapsed: &mut f64, work: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<T> {
        let started = Instant::now();
        let result = work();
        *elapsed += started.elapsed().as_secs_f64();
        result
    }

    fn round(&mut self, index: usize, global: &Weights) -> anyhow::Result<RoundOutcome> {
        let mut phases = std::mem::take(&mut self.phases);
        let round = Self::timed(&mut phases.open, || self.open(global))?;
        let committed = Self::timed(&mut phases.train_commit, || {
            self.train_and_commit(index, global, &round)
        })?;
        Self::timed(&mut phases.reveal, || self.reveal_all(&round, &committed))?;
        let pending: Vec<Pending> = committed.into_iter().map(|(p, _)| p).collect();
        let judgement = Self::timed(&mut phases.validate, || self.vote(&round))?;
        let outcome = Self::timed(&mut phases.settle, || {
            self.settle(&round, &pending, judgement)
        })?;
        self.phases = phases;
        Ok(outcome)
    }

    /// Publishes the global model, opens and funds the round, stakes everyone.
    fn open(&mut self, global: &Weights) -> anyhow::Result<Address> {
        let config = self.config;
        let (model_cid, model_hash) = publish_model(self.store, &config.spec, global)?;
        let slot = self.protocol.chain.slot()?;
        let args = OpenRoundArgs {
            task_hash: config.spec.hash(),
            model_hash,
            model_cid,
            validation_set_hash: self.data.validation.hash(),
            max_nodes: config.nodes as u32,
            node_stake: config.stake_lamports,
            validator_stake: config.stake_lamports,
            amount: config.fund_lamports,
            deadlines: Deadlines {
                commit: slot + config.phase_slots,
                reveal: slot + 2 * config.phase_slots,
                validation: slot + 3 * config.phase_slots,
            },
            committee: self
                .validators
                .iter()
                .map(|v| v.key.pubkey().to_bytes())
                .collect(),
            quorum_bps: DEFAULT_QUORUM_BPS,
            currency: Currency::Sol,
        };
        let round = self.protocol.open_round(&self.funder, args)?;
        let opened = self.protocol.round(&round)?;
        self.funded += config.fund_lamports;
        self.fees += opened.fee_paid;
        let stakes = bar(
            config.progress,
            self.nodes.len() + self.validators.len(),
            "staking",
        );
        for node in &self.nodes {
            self.protocol.join_round(&node.key, &round)?;
            stakes.inc(1);
        }
        for validator in &self.validators {
            self.protocol.join_committee(&validator.key, &round)?;
            stakes.inc(1);
        }
        stakes.finish_and_clear();
        Ok(round)
    }

    /// Every node trains on its shard (attackers craft their updates), uploads and commits.
    fn train_and_commit(
        &mut self,
        index: usize,
        global: &Weights,
        round: &Address,
    ) -> anyhow::Result<Vec<(Pending, Vec<u8>)>> {
        let config = self.config;
        let round_seed = config
            .seed
            .wrapping_mul(1_000_003)
            .wrapping_add(index as u64);
        let training = bar(config.progress, config.nodes, "training");
        let updates = local_updates(
            &LocalRound {
                spec: &config.spec,
                global,
                shards: &self.shards,
                malicious: config.malicious,
                attack: config.attack,
                train: &config.train,
                dp: self.dp,
                seed: round_seed,
                device: &droppin_fl::device::device("cpu")?,
            },
            || training.inc(1),
        )?;
        training.finish_and_clear();
        let committing = bar(config.progress, config.nodes, "committing");
        let mut committed = Vec::with_capacity(config.nodes);
        for (index, (node, delta)) in self.nodes.iter().zip(updates).enumerate() {
            let samples = self.shards[index].len() as u64;
            let bytes = encode_delta(&config.spec, global, delta, samples);
            let pending = pending_for(&bytes, self.rng.random(), samples);
            commit(&mut self.protocol, &node.key, round, &pending)?;
            committed.push((pending, bytes));
            committing.inc(1);
        }
        committing.finish_and_clear();
        Ok(committed)
    }

    /// After the commit deadline: every node uploads its update and reveals (no-shows do not;
    /// lost blobs reveal without uploading).
    fn reveal_all(
        &mut self,
        round: &Address,
        committed: &[(Pending, Vec<u8>)],
    ) -> anyhow::Result<()> {
        let deadlines = self.protocol.round(round)?.deadlines;
        self.protocol.chain.wait_for_slot(deadlines.commit)?;
        let revealing = bar(
            self.config.progress,
            self.nodes.len(),
            "uploading, revealing",
        );
        for (node, (pending, bytes)) in self.nodes.iter().zip(committed) {
            match node.role {
                NodeRole::NoShow => {}
                NodeRole::LostBlob => reveal(&mut self.protocol, &node.key, round, pending)?,
                NodeRole::Honest | NodeRole::Malicious => upload_and_reveal(
                    &mut self.protocol,
                    self.store,
                    &node.key,
                    round,
                    pending,
                    bytes,
                )?,
            }
            revealing.inc(1);
        }
        revealing.finish_and_clear();
        self.protocol.chain.wait_for_slot(deadlines.reveal)?;
        Ok(())
    }

    /// Every validator judges the round on its own and votes; returns an honest judgement.
    fn vote(&mut self, round: &Address) -> anyhow::Result<crate::validator::Judgement> {
        let voting = bar(self.config.progress, self.validators.len(), "validating");
        let mut honest = None;
        for validator in &self.validators {
            if validator.role != ValidatorRole::Silent {
                let judgement = judge(
                    &self.protocol,
                    self.store,
                    round,
                    &self.config.spec,
                    &self.data.validation,
                    &self.config.validator,
                )?;
                let vote = if validator.role == ValidatorRole::Dishonest {
                    accept_everyone(round, &judgement.report.leaves, judgement.vote)
                } else {
                    judgement.vote
                };
                self.protocol.submit_verdict(&validator.key, round, vote)?;
                if validator.role == ValidatorRole::Honest {
                    honest.get_or_insert(judgement);
                }
            }
            voting.inc(1);
        }
        voting.finish_and_clear();
        honest.context("no honest validator voted")
    }

    /// Lamports in a node's state and CID marker accounts: the rent its settlement returns.
    fn rent_of(&self, round: &Address, node: &Address, cid: &Cid) -> anyhow::Result<u64> {
        let program = self.protocol.program;
        Ok(self
            .protocol
            .chain
            .balance(&find::node(&program, round, node))?
            + self
                .protocol
                .chain
                .balance(&find::cid_marker(&program, round, cid))?)
    }

    /// Finalizes, claims for every node, settles validators, closes the round.
    fn settle(
        &mut self,
        round: &Address,
        pending: &[Pending],
        judgement: crate::validator::Judgement,
    ) -> anyhow::Result<RoundOutcome> {
        let program = self.protocol.program;
        let voter = self
            .validators
            .iter()
            .find(|v| v.role == ValidatorRole::Honest)
            .expect("checked: an honest quorum")
            .key
            .pubkey();
        self.protocol.finalize_round(&self.funder, round, &voter)?;
        let report = &judgement.report;
        // Per node: lamports received when it was settled, and the rent of what closed.
        let mut payouts: BTreeMap<Address, (u64, u64)> = BTreeMap::new();
        // Claims go through the published verdict list, as any node's would.
        let finalized = self.protocol.round(round)?;
        for leaf in &report.leaves {
            let node = Address::new_from_array(leaf.node);
            let cid = self
                .protocol
                .state::<NodeState>(&find::node(&program, round, &node))?
                .context("a revealed node's state is missing")?
                .cid;
            let claim = claim_from_list(self.store, round, &finalized, &node)?;
            let rent = self.rent_of(round, &node, &cid)?;
            let before = self.protocol.chain.balance(&node)?;
            self.protocol
                .claim_reward(&self.funder, round, &cid, claim.leaf, claim.proof)?;
            payouts.insert(node, (self.protocol.chain.balance(&node)? - before, rent));
        }
        for (node, pending) in self.nodes.iter().zip(pending) {
            if node.role == NodeRole::NoShow {
                let address = node.key.pubkey();
                let rent = self.rent_of(round, &address, &pending.cid)?;
                let before = self.protocol.chain.balance(&address)?;
                self.protocol
                    .refund_node(&self.funder, round, &address, Some(&pending.cid))?;
                let received = self.protocol.chain.balance(&address)? - before;
                payouts.insert(address, (received, rent));
            }
        }
        // Until every member voted, votes stay open to the validation deadline, and nobody
        // settles before it.
        let state = self.protocol.round(round)?;
        if state.counts.validators_voted < state.committee.len {
            self.protocol
                .chain
                .wait_for_slot(state.deadlines.validation)?;
        }
        let mut validator_reports = Vec::new();
        for validator in &self.validators {
            let address = validator.key.pubkey();
            let rent = self
                .protocol
                .chain
                .balance(&find::validator(&program, round, &address))?;
            let before = self.protocol.chain.balance(&address)?;
            self.protocol
                .settle_validator(&self.funder, round, &address)?;
            validator_reports.push(ValidatorReport {
                pubkey: address.to_string(),
                role: validator.role,
                stake_lamports: self.config.stake_lamports,
                payout_lamports: self.protocol.chain.balance(&address)? - before,
                rent_refund_lamports: rent,
            });
        }
        let finalized = self.protocol.round(round)?;
        self.protocol
            .close_round(&self.funder, round, &self.funder.pubkey())?;
        self.escrow_left += self.protocol.chain.balance(&find::vault(&program, round))?;
        let mut node_reports = Vec::new();
        for (i, node) in self.nodes.iter().enumerate() {
            let address = node.key.pubkey();
            let verdict = report
                .verdicts
                .iter()
                .find(|v| v.node == address.to_bytes());
            let reputation: Reputation = self
                .protocol
                .state(&find::reputation(&program, &address))?
                .context("a node's reputation account is missing")?;
            node_reports.push(NodeReport {
                pubkey: address.to_string(),
                malicious: i >= self.config.nodes - self.config.malicious,
                role: node.role,
                verdict: match verdict {
                    None => "no-show",
                    Some(v) if v.rejected.is_none() => "accepted",
                    Some(_) => "slashed",
                },
                reason: judgement.reason_of(&address.to_bytes()),
                weight_bps: verdict.map_or(0, |v| v.weight_bps),
                stake_lamports: self.config.stake_lamports,
                payout_lamports: payouts.get(&address).map_or(0, |p| p.0),
                rent_refund_lamports: payouts.get(&address).map_or(0, |p| p.1),
                reputation: ReputationReport {
                    rounds_joined: reputation.rounds_joined,
                    accepted: reputation.accepted,
                    slashed: reputation.slashed,
                    no_shows: reputation.no_shows,
                    cumulative_weight_bps: reputation.cumulative_weight_bps,
                },
            });
        }
        let model = report.new_model.clone();
        Ok(RoundOutcome {
            report: RoundReport {
                round: round.to_string(),
                accuracy: self.accuracy(&model)?,
                accepted: finalized.outcome.accepted,
                slashed: finalized.outcome.slashed,
                model_cid: from_interface(&finalized.outcome.new_model_cid)?.to_string(),
                verdict_list_cid: from_interface(&finalized.outcome.verdict_list_cid)?.to_string(),
            },
            model,
            node_reports,
            validator_reports,
        })
    }
}

/// A dishonest vote: every revealed update accepted with equal weights.
fn accept_everyone(round: &Address, leaves: &[VerdictLeaf], honest: VerdictVote) -> VerdictVote {
    let weights = droppin_fl::validate::basis_points(&vec![1.0; leaves.len()], 1e-6);
    let forged: Vec<VerdictLeaf> = leaves
        .iter()
        .zip(weights)
        .map(|(leaf, weight_bps)| VerdictLeaf {
            node: leaf.node,
            verdict: Verdict::Accepted,
            weight_bps,
        })
        .collect();
    let tree = MerkleTree::from_leaf_hashes::<Sha256>(
        forged
            .iter()
            .map(|l| l.hash::<Sha256>(&round.to_bytes()))
            .collect(),
    );
    VerdictVote {
        verdict_root: tree.root(),
        accepted_count: forged.len() as u32,
        slashed_count: 0,
        ..honest
    }
}
