//! `dpin demo`: complete rounds on a chain running the real program, with real training.
//!
//! Validators bond into the registry; a funder opens and funds a round, naming only the size of
//! its committee; nodes stake, train on their shard of the shipped digits, commit and reveal;
//! the committee is drawn from the registry with a seed nobody knew in advance; drawn validators
//! take their seats, judge every update, and seal then reveal their votes; the verdict with the
//! quorum is finalized and its leaves posted on-chain; a verdict that slashes honest nodes is
//! appealed by one of them and re-judged by a larger drawn committee; then everyone settles by
//! the leaves and the round closes. The next round starts from the model it published.

use std::{collections::BTreeMap, path::PathBuf, time::Instant};

use anyhow::{Context, bail};
use droppin_client::{Chain, EmbeddedChain, Protocol};
use droppin_fl::{
    data::{Dataset, Partition, Split, partition},
    evaluate::evaluate,
    model::Weights,
    privacy::DpSgd,
    sim::{Attack, LocalRound, SimData, local_updates},
    train::TrainConfig,
    validate::ValidatorConfig,
};
use droppin_interface::{
    LAMPORTS_PER_SOL,
    availability::{Availability, availability_deadline},
    hash::Sha256,
    instruction::{OpenRoundArgs, PhaseLengths},
    pda::find,
    state::{
        AccountState, AppealResolution, Currency, NodeStatus, ProtocolParams, Reputation, Round,
        RoundStatus, SeatStatus, Treasury, Vault,
    },
    verdict::{Leaf, Outcome},
};
use droppin_node::RoundTask;
use droppin_storage::{BlobStore, Limits, LocalStore, Replicating, from_interface};
use droppin_task::catalog;
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
    committee::{SealedVote, drawn, reveal, sit_and_report, sit_and_seal},
    keeper::{self, Step},
    node::{Commitment, commit, encode_delta, reveal as reveal_update, upload},
    patience::Patience,
    validator::{
        Judgement, Task, committee_availability, fetch_updates, judge, publish_model, publish_task,
        publish_verdict, round_inputs,
    },
};

/// Lamports every participant is given on a local chain.
const AIRDROP: u64 = 20 * LAMPORTS_PER_SOL;

/// Faults to inject, to show what the protocol does with them.
#[derive(Clone, Copy, Debug, Default)]
pub struct Faults {
    /// Honest nodes that commit but never reveal.
    pub no_show: usize,
    /// Honest nodes that commit and reveal a CID whose blob never reaches storage.
    pub lost_blobs: usize,
    /// Honest nodes that serve their update to one reporting seat only.
    pub withheld_blobs: usize,
    /// Honest nodes that serve their update to every reporting seat but one.
    pub scarce_blobs: usize,
    /// Registered validators that take their seat and never vote.
    pub silent_validators: usize,
    /// Registered validators that vote a verdict slashing every node.
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
    /// Validators in the registry.
    pub validators: usize,
    /// Expected committee size the funder asks for.
    pub committee_size: u8,
    /// Lamports each validator bonds.
    pub bond_lamports: u64,
    /// Rounds, each starting from the previous round's model.
    pub rounds: usize,
    /// Seed of keys, data split, initial model, training, attacks and (on the embedded chain)
    /// the slot hashes that seed the draws.
    pub seed: u64,
    /// The task the rounds train (published in the store, named by its CID on-chain).
    pub task: RoundTask,
    /// Local training: the task's recipe.
    pub train: TrainConfig,
    /// DP-SGD target epsilon of every honest node over all rounds (delta 1e-5).
    pub dp_epsilon: Option<f64>,
    /// Lamports the funder pays per round, fee included.
    pub fund_lamports: u64,
    /// Stake of each node, in lamports.
    pub stake_lamports: u64,
    /// Slots per phase; `None`: the protocol's shortest phase (a cluster in real time may need
    /// more to stake, train and commit).
    pub phase_slots: Option<u64>,
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
    /// The README's demo: 8 nodes (2 attacking with sign flips), a registry of 10 validators,
    /// committees of 3 expected, one round.
    pub fn new(out_dir: PathBuf) -> DemoConfig {
        let task = RoundTask::new(catalog::get("digits").expect("the catalog has the digits"))
            .expect("the digits task builds");
        DemoConfig {
            nodes: 8,
            malicious: 2,
            attack: Attack::SignFlip,
            validators: 10,
            committee_size: 3,
            bond_lamports: 5 * LAMPORTS_PER_SOL,
            rounds: 1,
            seed: 1,
            train: task.recipe(1),
            task,
            dp_epsilon: None,
            fund_lamports: LAMPORTS_PER_SOL,
            stake_lamports: LAMPORTS_PER_SOL / 50,
            phase_slots: None,
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
        let faulty = f.no_show + f.lost_blobs + f.withheld_blobs + f.scarce_blobs;
        if self.malicious + faulty >= self.nodes {
            bail!(
                "{} nodes cannot hold {} attackers, {faulty} faulty nodes (no-shows, lost, withheld and scarce blobs) and one honest node",
                self.nodes,
                self.malicious,
            );
        }
        if self.validators == 0 {
            bail!("the registry needs at least one validator");
        }
        if 2 * (f.dishonest_validators + f.silent_validators) >= self.validators {
            bail!(
                "{} dishonest and {} silent validators of {} leave no honest majority in the registry",
                f.dishonest_validators,
                f.silent_validators,
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
    served: ServedApart,
    data: &'a Split,
    /// The task's public sample.
    public: Dataset,
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
    /// The last round's global step (public), for the attacks that replay it.
    previous_step: Option<Vec<f32>>,
}

/// The stores that set validators' views apart: where withheld and scarce blobs are served, and
/// each validator's own store (what it fetched, which it re-serves to the others).
struct ServedApart {
    /// Blobs served to the first reporting seat only.
    withheld: LocalStore,
    /// Blobs served to every reporting seat but the last.
    scarce: LocalStore,
    /// Each validator's own store, by registry position.
    own: Vec<LocalStore>,
}

impl ServedApart {
    fn open(dir: &std::path::Path, validators: usize) -> anyhow::Result<ServedApart> {
        let open = |name: String| LocalStore::open(dir.join(name), Limits::default());
        Ok(ServedApart {
            withheld: open("withheld".into())?,
            scarce: open("scarce".into())?,
            own: (0..validators)
                .map(|i| open(format!("validator-{i}")))
                .collect::<Result<_, _>>()?,
        })
    }
}

/// Everything measured in one round.
struct RoundOutcome {
    model: Weights,
    report: RoundReport,
    node_reports: Vec<NodeReport>,
    validator_reports: Vec<ValidatorReport>,
}

/// Runs the demo on `chain` with blobs in `store`. On a fresh chain the demo's admin must be the
/// program's upgrade authority (see `EmbeddedChain::set_upgrade_authority`); [`admin_key`] is
/// that key for a seed.
pub fn run<C: Chain>(
    config: &DemoConfig,
    chain: C,
    store: &dyn BlobStore,
    data: &Split,
) -> anyhow::Result<DemoReport> {
    config.check()?;
    let started = Instant::now();
    let mut rng = ChaCha20Rng::seed_from_u64(config.seed);
    let mut keypair = || Keypair::new_from_array(rng.random());
    let funder = keypair();
    let admin = keypair();
    let honest = config.nodes - config.malicious;
    let faulty_before_scarce =
        config.faults.no_show + config.faults.lost_blobs + config.faults.withheld_blobs;
    let nodes: Vec<Participant<NodeRole>> = (0..config.nodes)
        .map(|i| Participant {
            key: keypair(),
            role: if i >= honest {
                NodeRole::Malicious
            } else if i < config.faults.no_show {
                NodeRole::NoShow
            } else if i < config.faults.no_show + config.faults.lost_blobs {
                NodeRole::LostBlob
            } else if i < faulty_before_scarce {
                NodeRole::WithheldBlob
            } else if i < faulty_before_scarce + config.faults.scarce_blobs {
                NodeRole::ScarceBlob
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
    // The first tenth of the training split is the task's public sample, as in `dpin sim`: the
    // committee trains its reference update on it. Public data is anyone's to train on, so the
    // nodes' shards cover the whole split.
    let (public, _) = SimData::split_public(&data.train);
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
    {
        protocol.chain.airdrop(&key.pubkey(), AIRDROP)?;
    }
    // Validators get their bond on top, whatever it is.
    for validator in &validators {
        let lamports = AIRDROP.saturating_add(config.bond_lamports);
        protocol.chain.airdrop(&validator.key.pubkey(), lamports)?;
    }
    if protocol.config().is_err() {
        protocol.initialize_config(&admin, ProtocolParams::default())?;
    }
    for validator in &validators {
        if protocol.bond(&validator.key.pubkey())?.is_none() {
            protocol.register_validator(&validator.key, config.bond_lamports)?;
        }
    }
    // Bonds count for rounds opened after them.
    let slot = protocol.chain.slot()?;
    protocol.chain.wait_for_slot(slot + 1)?;
    let served = ServedApart::open(&config.out_dir.join("stores"), config.validators)?;
    let mut demo = Demo {
        config,
        protocol,
        store,
        served,
        data,
        public,
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
        previous_step: None,
    };
    let mut global = Weights::initial(&config.task.spec, config.seed);
    let accuracy_before = demo.accuracy(&global)?;
    let mut rounds = Vec::new();
    let mut last = None;
    for round in 0..config.rounds {
        let outcome = demo
            .round(round, &global)
            .with_context(|| format!("round {}", round + 1))?;
        demo.previous_step = Some(outcome.model.delta_from(&global));
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
        droppin_fl::update::export_safetensors(&config.task.spec, &global)?,
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
    let report = last.report.clone();
    Ok(DemoReport {
        nodes: last.node_reports,
        validators: last.validator_reports,
        accuracy_before,
        accuracy_after: report.accuracy,
        model_cid: report.model_cid.clone(),
        funded_lamports: demo.funded,
        fee_lamports: demo.fees,
        escrow_remaining_lamports: demo.escrow_left,
        appealed: report.appealed,
        overturned: report.overturned,
        funder_refund_lamports: report.funder_refund_lamports,
        slashed_to_treasury_lamports: report.slashed_to_treasury_lamports,
        compute_units,
        seconds: started.elapsed().as_secs_f64(),
        rounds,
        phase_seconds: demo.phases,
        epsilon,
        model_path: model_path.display().to_string(),
        plot_path: plot_path.display().to_string(),
    })
}

/// A fresh embedded chain with the program at `program`, deployed by the demo's admin for
/// `seed` (the program's upgrade authority, who initializes the protocol).
pub fn embedded_chain(program: &std::path::Path, seed: u64) -> anyhow::Result<EmbeddedChain> {
    let mut chain = EmbeddedChain::new(program)?;
    chain.set_upgrade_authority(&admin_key(seed))?;
    Ok(chain)
}

/// The admin key the demo derives from `seed`: on a fresh embedded chain it must be the
/// program's upgrade authority, as the deployer's key is on a real cluster.
pub fn admin_key(seed: u64) -> Address {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let _funder: [u8; 32] = rng.random();
    Keypair::new_from_array(rng.random()).pubkey()
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

/// Balances of a validator before the round: its wallet and its bond.
#[derive(Clone, Copy)]
struct Holdings {
    wallet: u64,
    bond: u64,
}

impl<C: Chain> Demo<'_, C> {
    fn accuracy(&self, weights: &Weights) -> anyhow::Result<f64> {
        Ok(evaluate(
            &self.config.task.spec,
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
        let holdings = self.validator_holdings()?;
        let treasury_before = self.treasury()?.slashes_collected;
        let round = Self::timed(&mut phases.open, || self.open(global))?;
        let committed = Self::timed(&mut phases.train_commit, || {
            self.train_and_commit(index, global, &round)
        })?;
        Self::timed(&mut phases.reveal, || self.reveal_all(&round, &committed))?;
        let (judgement, appealed) = Self::timed(&mut phases.validate, || self.judge(&round))?;
        let outcome = Self::timed(&mut phases.settle, || {
            self.settle(&round, judgement, appealed, &holdings, treasury_before)
        })?;
        self.phases = phases;
        Ok(outcome)
    }

    fn validator_holdings(&self) -> anyhow::Result<Vec<Holdings>> {
        self.validators
            .iter()
            .map(|v| {
                let key = v.key.pubkey();
                Ok(Holdings {
                    wallet: self.protocol.chain.balance(&key)?,
                    bond: self.protocol.bond(&key)?.map_or(0, |b| b.bond),
                })
            })
            .collect()
    }

    fn treasury(&self) -> anyhow::Result<Treasury> {
        Ok(self.protocol.treasury()?)
    }

    /// Publishes the global model, opens and funds the round, stakes every node.
    fn open(&mut self, global: &Weights) -> anyhow::Result<Address> {
        let config = self.config;
        let (model_cid, model_hash) = publish_model(self.store, &config.task.spec, global)?;
        let task_cid = publish_task(self.store, &config.task)?;
        let params = self.protocol.config()?.params;
        let phase = config
            .phase_slots
            .unwrap_or(params.min_phase_slots)
            .max(params.min_phase_slots);
        let (commit, reveal, validation) =
            PhaseLengths::uniform(phase).deadlines(self.protocol.chain.slot()?);
        let size = config
            .committee_size
            .clamp(params.committee.min_size, params.committee.max_size);
        let args = OpenRoundArgs {
            task_cid,
            model_hash,
            model_cid,
            validation_set_hash: self.data.validation.hash(),
            max_nodes: config.nodes as u32,
            node_stake: config.stake_lamports,
            amount: config.fund_lamports,
            commit,
            reveal,
            validation,
            committee_size: size,
            currency: Currency::Sol,
        };
        let round = self.protocol.open_round(&self.funder, args)?;
        let opened = self.protocol.round(&round)?;
        self.funded += config.fund_lamports;
        self.fees += opened.fee_paid;
        let stakes = bar(config.progress, self.nodes.len(), "staking");
        for node in &self.nodes {
            self.protocol.join_round(&node.key, &round)?;
            stakes.inc(1);
        }
        stakes.finish_and_clear();
        Ok(round)
    }

    /// Every node trains on its shard (attackers craft their updates) and commits.
    fn train_and_commit(
        &mut self,
        index: usize,
        global: &Weights,
        round: &Address,
    ) -> anyhow::Result<Vec<(Commitment, Vec<u8>)>> {
        let config = self.config;
        let round_seed = config
            .seed
            .wrapping_mul(1_000_003)
            .wrapping_add(index as u64);
        let training = bar(config.progress, config.nodes, "training");
        let updates = local_updates(
            &LocalRound {
                spec: &config.task.spec,
                global,
                shards: &self.shards,
                malicious: config.malicious,
                attack: config.attack,
                train: &config.train,
                dp: self.dp,
                seed: round_seed,
                device: &droppin_fl::device::device("cpu")?,
                // The shipped digits are all public, the committee's split included.
                public: &self.data.validation,
                previous_step: self.previous_step.as_deref(),
                boost: config.attack.default_boost(),
            },
            || training.inc(1),
        )?;
        training.finish_and_clear();
        let committing = bar(config.progress, config.nodes, "committing");
        let opened = self.protocol.round(round)?;
        let mut committed = Vec::with_capacity(config.nodes);
        for (index, (node, delta)) in self.nodes.iter().zip(updates).enumerate() {
            let samples = self.shards[index].len() as u64;
            let bound_to = if config.attack == Attack::Replay && node.role == NodeRole::Malicious {
                // Revealed first in a twin round on the same base.
                let mut twin = round.to_bytes();
                twin[31] ^= 1;
                twin
            } else {
                round.to_bytes()
            };
            let bytes = encode_delta(&config.task.spec, global, &bound_to, delta, samples);
            let pending = Commitment::to(&opened, &bytes, self.rng.random(), samples);
            commit(&mut self.protocol, &node.key, round, &pending, false)?;
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
        committed: &[(Commitment, Vec<u8>)],
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
                NodeRole::LostBlob => reveal_update(&mut self.protocol, &node.key, round, pending)?,
                NodeRole::Honest
                | NodeRole::Malicious
                | NodeRole::WithheldBlob
                | NodeRole::ScarceBlob => {
                    let store: &dyn BlobStore = match node.role {
                        NodeRole::WithheldBlob => &self.served.withheld,
                        NodeRole::ScarceBlob => &self.served.scarce,
                        _ => self.store,
                    };
                    let uploaded = upload(
                        store,
                        pending,
                        bytes,
                        &Patience::before_deadline(0),
                        |_, _| {},
                    );
                    reveal_update(&mut self.protocol, &node.key, round, pending)?;
                    uploaded?;
                }
            }
            revealing.inc(1);
        }
        revealing.finish_and_clear();
        self.protocol.chain.wait_for_slot(deadlines.reveal + 1)?;
        Ok(())
    }

    /// Moves the round along until it waits for something a participant must do.
    fn keep(&mut self, round: &Address) -> anyhow::Result<Step> {
        loop {
            let step = keeper::advance(&mut self.protocol, &self.funder, self.store, round)?;
            match step {
                Step::Waiting { .. }
                | Step::Stalled { .. }
                | Step::SettlementOpen
                | Step::Failed(_) => return Ok(step),
                _ => {}
            }
        }
    }

    /// The committee of `level` takes its seats and reports what it fetched; after the
    /// availability deadline it judges the set its majority fetched, seals its votes, then
    /// reveals them. Returns the honest judgement once one was made.
    fn sit(
        &mut self,
        round: &Address,
        level: u8,
        honest: &mut Option<Judgement>,
    ) -> anyhow::Result<()> {
        self.keep(round)?;
        let state = self.protocol.round(round)?;
        if !state.committee(level).drawn {
            return Ok(());
        }
        let mut seated = Vec::new();
        for (i, validator) in self.validators.iter().enumerate() {
            let key = validator.key.pubkey();
            let Some(bond) = self.protocol.bond(&key)? else {
                continue;
            };
            let first_seat = level == 1 && self.protocol.seat(round, &key, 0)?.is_some();
            if !first_seat && drawn(&state, &key, &bond, level) {
                seated.push(i);
            }
        }
        let fetching = bar(self.config.progress, seated.len(), "fetching");
        // Withheld blobs reach the first reporting seat only, scarce ones every reporting seat
        // but the last.
        let reporting = seated
            .iter()
            .filter(|&&i| self.validators[i].role != ValidatorRole::Silent)
            .count();
        let mut order = 0;
        for &i in &seated {
            fetching.inc(1);
            let validator = &self.validators[i].key;
            // A silent member takes its seat and never reports or votes: it loses part of its
            // lock.
            if self.validators[i].role == ValidatorRole::Silent {
                self.protocol.claim_seat(validator, round, level)?;
                continue;
            }
            let mut sources: Vec<&dyn BlobStore> = vec![self.store];
            if order == 0 {
                sources.push(&self.served.withheld);
            }
            if order + 1 < reporting {
                sources.push(&self.served.scarce);
            }
            order += 1;
            // What it fetched lands in its own store, from which it serves the others.
            let view = Replicating::new(&self.served.own[i], sources);
            let fetched = fetch_updates(&self.protocol, &view, round, &state)?;
            sit_and_report(
                &mut self.protocol,
                validator,
                round,
                level,
                &fetched.availability(),
            )?;
        }
        fetching.finish_and_clear();
        let committee = *self.protocol.round(round)?.committee(level);
        self.protocol
            .chain
            .wait_for_slot(availability_deadline(&committee))?;
        let available = committee_availability(&self.protocol, round, level)?;
        if honest.as_ref().is_some_and(|h| h.available != available) {
            *honest = None;
        }
        let voting = bar(self.config.progress, seated.len(), "validating");
        let mut sealed = Vec::new();
        for &i in &seated {
            voting.inc(1);
            let vote = match self.validators[i].role {
                ValidatorRole::Honest => {
                    if honest.is_none() {
                        *honest = Some(self.judgement(round, &seated, &available)?);
                    }
                    honest.as_ref().expect("judged").vote
                }
                ValidatorRole::Dishonest => self.slash_everyone(round)?,
                ValidatorRole::Silent => continue,
            };
            let seal = SealedVote {
                vote,
                salt: self.rng.random(),
            };
            sit_and_seal(
                &mut self.protocol,
                &self.validators[i].key,
                round,
                level,
                &seal,
            )?;
            sealed.push((i, seal));
        }
        voting.finish_and_clear();
        self.protocol.chain.wait_for_slot(committee.vote_deadline)?;
        for (i, seal) in &sealed {
            reveal(
                &mut self.protocol,
                &self.validators[*i].key,
                round,
                level,
                seal,
            )?;
        }
        self.protocol
            .chain
            .wait_for_slot(committee.reveal_deadline)?;
        Ok(())
    }

    /// An honest judgement of the set `available`, by a validator that reads the blobs it lacks
    /// from the seated validators' own stores (every honest validator reaches the same one).
    fn judgement(
        &self,
        round: &Address,
        serving: &[usize],
        available: &Availability,
    ) -> anyhow::Result<Judgement> {
        let peers = serving
            .iter()
            .map(|&i| &self.served.own[i] as &dyn BlobStore)
            .collect();
        judge(
            &self.protocol,
            &Replicating::new(self.store, peers),
            round,
            &self.task(),
            available,
        )
    }

    /// The task as the committee holds it: the model, the validation set, the rules, and the
    /// public sample with the recipe every honest node trains by.
    fn task(&self) -> Task<'_> {
        Task {
            cid: self.config.task.cid,
            spec: &self.config.task.spec,
            validation: &self.data.validation,
            config: &self.config.validator,
            public: Some((&self.public, &self.config.train)),
        }
    }

    /// A dishonest verdict: every revealed node slashed, so that the pool goes back to the
    /// funder. Published like an honest one, so its leaves can be posted.
    fn slash_everyone(
        &self,
        round: &Address,
    ) -> anyhow::Result<droppin_interface::instruction::VerdictVote> {
        let (state, nodes) = round_inputs(&self.protocol, round, &self.task())?;
        let base = crate::validator::load_model(
            self.store,
            &self.config.task.spec,
            &state.model_cid,
            &state.model_hash,
        )?;
        let entries = nodes
            .iter()
            .map(|n| {
                let outcome = if n.status == NodeStatus::Revealed {
                    Outcome::Slashed
                } else {
                    Outcome::NoShow
                };
                (
                    Leaf {
                        outcome,
                        weight_bps: 0,
                    },
                    Some("judged by a dishonest validator".to_string()),
                )
            })
            .collect();
        let model = publish_model(self.store, &self.config.task.spec, &base)?;
        let (_, _, vote) = publish_verdict(self.store, round, &nodes, entries, model)?;
        Ok(vote)
    }

    /// The first committee judges; when its verdict slashes an honest node, or it reaches no
    /// quorum, an honest node appeals (escalates) and a larger drawn committee re-judges.
    /// Returns an honest judgement and whether the round was appealed.
    fn judge(&mut self, round: &Address) -> anyhow::Result<(Judgement, bool)> {
        let mut honest = None;
        self.sit(round, 0, &mut honest)?;
        let step = self.keep(round)?;
        let state = self.protocol.round(round)?;
        let honest = match honest {
            Some(judgement) => judgement,
            None => {
                let available = committee_availability(&self.protocol, round, 0)?;
                let everyone: Vec<usize> = (0..self.validators.len()).collect();
                self.judgement(round, &everyone, &available)?
            }
        };
        let mut appealed = false;
        let dishonest = state.status == RoundStatus::Finalized
            && state.outcome.digest != honest.vote.digest::<Sha256>();
        let stalled = matches!(step, Step::Stalled { .. });
        if dishonest || stalled {
            let appellant = self
                .nodes
                .iter()
                .find(|n| n.role == NodeRole::Honest)
                .context("no honest node to appeal")?;
            self.protocol.appeal(&appellant.key, round)?;
            appealed = true;
            let slot = self.protocol.chain.slot()?;
            self.protocol.chain.wait_for_slot(slot + 2)?;
            let mut judged = Some(honest);
            self.sit(round, 1, &mut judged)?;
            self.keep(round)?;
            return Ok((judged.expect("kept"), appealed));
        }
        Ok((honest, appealed))
    }

    /// Lamports in a node's state and CID marker accounts: the rent its settlement returns.
    fn rent_of(&self, round: &Address, node: &Address) -> anyhow::Result<u64> {
        let program = self.protocol.program;
        let state = self
            .protocol
            .state::<droppin_interface::state::NodeState>(&find::node(&program, round, node))?;
        let marker = match state {
            Some(s) if s.cid.is_well_formed() && !s.duplicate => self
                .protocol
                .chain
                .balance(&find::cid_marker(&program, round, &s.cid))?,
            _ => 0,
        };
        Ok(self
            .protocol
            .chain
            .balance(&find::node(&program, round, node))?
            + marker)
    }

    /// Waits for settlement, settles every node and seat by itself, the appeal, closes.
    fn settle(
        &mut self,
        round: &Address,
        judgement: Judgement,
        appealed: bool,
        holdings: &[Holdings],
        treasury_before: u64,
    ) -> anyhow::Result<RoundOutcome> {
        let program = self.protocol.program;
        keeper::drive_to_settlement(&mut self.protocol, &self.funder, self.store, round, |_| {})?;
        let final_state = self.protocol.round(round)?;
        let leaves: Option<Vec<Leaf>> = match final_state.status {
            RoundStatus::Finalized => {
                let (header, data) = self
                    .protocol
                    .verdict_leaves(round, final_state.outcome.level)?
                    .context("the verdict in force has no leaves")?;
                Some(
                    (0..header.total)
                        .filter_map(|i| header.leaf(&data, i))
                        .collect(),
                )
            }
            _ => None,
        };
        // Per node: lamports received when it settled, and the rent of what closed.
        let mut payouts: BTreeMap<Address, (u64, u64)> = BTreeMap::new();
        let mut outcomes: BTreeMap<Address, (Outcome, u16)> = BTreeMap::new();
        for node in &self.nodes {
            let address = node.key.pubkey();
            let Some(state) =
                self.protocol
                    .state::<droppin_interface::state::NodeState>(&find::node(
                        &program, round, &address,
                    ))?
            else {
                continue;
            };
            let outcome = match (&leaves, state.status) {
                (_, status) if status != NodeStatus::Revealed => (Outcome::NoShow, 0),
                (Some(leaves), _) => {
                    let leaf = leaves[state.index as usize];
                    (leaf.outcome, leaf.weight_bps)
                }
                (None, _) => (Outcome::Excluded, 0),
            };
            outcomes.insert(address, outcome);
            let rent = self.rent_of(round, &address)?;
            let before = self.protocol.chain.balance(&address)?;
            let fee = self
                .protocol
                .settle_node(&node.key, round, &address)?
                .fee
                .unwrap_or(0);
            // What the settlement paid, before the node's own transaction fee.
            let received = self.protocol.chain.balance(&address)? + fee - before;
            payouts.insert(address, (received, rent));
        }
        let mut seats: BTreeMap<Address, Vec<droppin_interface::state::Seat>> = BTreeMap::new();
        for seat in self.protocol.round_seats(round)? {
            seats
                .entry(Address::new_from_array(seat.validator))
                .or_default()
                .push(seat);
        }
        let mut validator_reports = Vec::new();
        for (i, validator) in self.validators.iter().enumerate() {
            let address = validator.key.pubkey();
            let mut mine = seats.remove(&address).unwrap_or_default();
            mine.sort_by_key(|s| s.level);
            let mut rent = 0;
            for seat in &mine {
                rent += self
                    .protocol
                    .chain
                    .balance(&find::seat(&program, round, &address, seat.level))?;
                self.protocol
                    .settle_seat(&validator.key, round, &address, seat.level)?;
            }
            let voted_with_final = final_state.status == RoundStatus::Finalized
                && mine.iter().any(|s| {
                    s.status == SeatStatus::Revealed && s.digest == final_state.outcome.digest
                });
            let bond_after = self.protocol.bond(&address)?.map_or(0, |b| b.bond);
            // Seat rent went out and came back: the wallet's change is the reward less fees.
            let wallet_change =
                i128::from(self.protocol.chain.balance(&address)?) - i128::from(holdings[i].wallet);
            let payout = (i128::from(bond_after) + wallet_change).max(0) as u64;
            validator_reports.push(ValidatorReport {
                pubkey: address.to_string(),
                role: validator.role,
                drawn: !mine.is_empty(),
                voted_with_final,
                bond_lamports: holdings[i].bond,
                payout_lamports: payout,
                rent_refund_lamports: rent,
            });
        }
        if final_state.appeal.filed() {
            self.protocol.settle_appeal(&self.funder, round)?;
        }
        let funder_refund = self.funder_refund(round)?;
        let treasury_after = self.treasury()?.slashes_collected;
        self.protocol.close_round(&self.funder, round)?;
        self.escrow_left += self.protocol.chain.balance(&find::vault(&program, round))?;
        let mut node_reports = Vec::new();
        for (i, node) in self.nodes.iter().enumerate() {
            let address = node.key.pubkey();
            let (outcome, weight_bps) = outcomes
                .get(&address)
                .copied()
                .unwrap_or((Outcome::NoShow, 0));
            let reputation: Reputation = self
                .protocol
                .state(&find::reputation(&program, &address))?
                .context("a node's reputation account is missing")?;
            node_reports.push(NodeReport {
                pubkey: address.to_string(),
                malicious: i >= self.config.nodes - self.config.malicious,
                role: node.role,
                verdict: droppin_fl::validate::outcome_name(outcome),
                reason: (outcome != Outcome::Accepted)
                    .then(|| judgement.reason_of(&address.to_bytes()))
                    .flatten(),
                weight_bps,
                stake_lamports: self.config.stake_lamports,
                payout_lamports: payouts.get(&address).map_or(0, |p| p.0),
                rent_refund_lamports: payouts.get(&address).map_or(0, |p| p.1),
                reputation: ReputationReport {
                    rounds_joined: reputation.rounds_joined,
                    accepted: reputation.accepted,
                    excluded: reputation.excluded,
                    slashed: reputation.slashed,
                    no_shows: reputation.no_shows,
                    points: reputation.points,
                },
            });
        }
        let vote = &final_state.outcome.vote;
        let finalized = final_state.status == RoundStatus::Finalized;
        let model = if finalized {
            crate::validator::load_model(
                self.store,
                &self.config.task.spec,
                &vote.new_model_cid,
                &vote.new_model_hash,
            )?
        } else {
            judgement.report.new_model.clone()
        };
        Ok(RoundOutcome {
            report: RoundReport {
                round: round.to_string(),
                accuracy: self.accuracy(&model)?,
                status: if finalized { "finalized" } else { "failed" },
                accepted: vote.accepted,
                excluded: vote.excluded,
                slashed: vote.slashed,
                no_shows: vote.no_shows,
                model_cid: from_interface(if finalized {
                    &vote.new_model_cid
                } else {
                    &final_state.model_cid
                })?
                .to_string(),
                verdict_list_cid: finalized
                    .then(|| from_interface(&vote.verdict_list_cid).map(|c| c.to_string()))
                    .transpose()?,
                appealed,
                overturned: final_state.appeal.resolution == AppealResolution::Overturned,
                funder_refund_lamports: funder_refund,
                slashed_to_treasury_lamports: treasury_after - treasury_before,
            },
            model,
            node_reports,
            validator_reports,
        })
    }

    /// What closing the round returns to the funder besides rent: the unearned pool, computed
    /// by the coordinator's own split of the vault.
    fn funder_refund(&self, round: &Address) -> anyhow::Result<u64> {
        let Some(state) = self.protocol.state::<Round>(round)? else {
            return Ok(0);
        };
        let vault = self
            .protocol
            .chain
            .balance(&find::vault(&self.protocol.program, round))?;
        let rent = solana_rent::Rent::default().minimum_balance(Vault::LEN);
        let split = droppin_coordinator::close_round(&state, vault.saturating_sub(rent), None)?;
        Ok(split.to_funder)
    }
}
