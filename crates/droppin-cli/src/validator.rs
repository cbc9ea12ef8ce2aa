//! A committee member's side of a round: fetch every revealed update and check it against its
//! CID (what it reports as available), then, on the set a majority of the committee fetched,
//! run the FL engine's deterministic validation and aggregation, build the verdict's leaves in
//! join order, publish the new model and the verdict list, and compute the vote. Two honest
//! validators read the same reports, judge the same set and produce the same vote.

use std::collections::{BTreeMap, BTreeSet, btree_map::Entry};

use anyhow::{Context, bail};
use droppin_client::{Chain, Protocol};
use droppin_fl::{
    FlError,
    data::Dataset,
    model::{ModelSpec, Weights},
    sim::SimData,
    train::TrainConfig,
    update::{Encoding, Update, decode_model},
    validate::{
        ListedVerdict, Reference, RoundContext, ValidationReport, ValidatorConfig, VerdictList,
        outcome_name, validate,
    },
};
use droppin_interface::{
    Cid,
    availability::{Availability, availability_deadline, majority},
    hash::Sha256,
    instruction::VerdictVote,
    state::{NodeState, NodeStatus, Round, RoundStatus},
    verdict::{Leaf, Outcome, VerdictTree},
};
use droppin_node::{RoundTask, TaskLoadError};
use droppin_storage::{BlobStore, from_interface, to_interface};
use rayon::prelude::*;
use solana_address::Address;

/// What a validator concluded about a round.
pub struct Judgement {
    /// The set it judged: the updates its committee's majority fetched.
    pub available: Availability,
    /// The FL engine's report over the revealed updates.
    pub report: ValidationReport,
    /// The leaves, one per joined node in join order, and their chunk tree.
    pub tree: VerdictTree,
    /// The published list of reasons.
    pub list: VerdictList,
    /// The vote to seal and reveal.
    pub vote: VerdictVote,
}

impl Judgement {
    /// Why `node` got its outcome, if it was not accepted.
    pub fn reason_of(&self, node: &droppin_interface::Pubkey) -> Option<String> {
        self.list.entry(node).and_then(|e| e.reason.clone())
    }
}

/// Fetches a model blob, checks it is a whole model of `spec` with the expected hash.
pub fn load_model(
    store: &dyn BlobStore,
    spec: &ModelSpec,
    cid: &Cid,
    expected_hash: &[u8; 32],
) -> anyhow::Result<Weights> {
    let cid = from_interface(cid)?;
    let bytes = store
        .get(&cid)
        .with_context(|| format!("fetching the global model {cid}"))?;
    decode_model(spec, &bytes, expected_hash).with_context(|| format!("the global model {cid}"))
}

/// Publishes a model; returns its on-chain CID and hash.
pub fn publish_model(
    store: &dyn BlobStore,
    spec: &ModelSpec,
    weights: &Weights,
) -> anyhow::Result<(Cid, [u8; 32])> {
    let bytes = Update::model(spec, weights).encode(Encoding::default());
    let cid = to_interface(&store.put(&bytes).context("publishing the model")?)?;
    Ok((cid, *cid.digest()))
}

/// Publishes a task's manifest (its canonical bytes); returns its CID, which a round stores.
pub fn publish_task(store: &dyn BlobStore, task: &RoundTask) -> anyhow::Result<Cid> {
    let stored = store
        .put(&task.bytes())
        .context("publishing the task manifest")?;
    let cid = to_interface(&stored)?;
    anyhow::ensure!(
        cid == task.cid,
        "the store named the task manifest {stored}, not its CID"
    );
    Ok(cid)
}

/// Fetches the task manifest stored under `cid` and checks it against it.
pub fn fetch_task(store: &dyn BlobStore, cid: &Cid) -> anyhow::Result<RoundTask> {
    let stored = from_interface(cid)?;
    let bytes = store
        .get(&stored)
        .with_context(|| format!("fetching the round's task manifest {stored}"))?;
    Ok(RoundTask::from_stored(&bytes, cid)?)
}

/// A task as a validator holds it: the manifest a round names, the committee's validation set
/// (from the task's shipped data), the public sample the reference update trains on and the
/// verdict rules.
pub struct HeldTask {
    pub task: RoundTask,
    pub validation: Dataset,
    /// The first tenth of the shipped training split: public, so anyone may train on it.
    pub public: Dataset,
    /// The task's recipe (the round's address seeds it for the reference).
    pub recipe: TrainConfig,
    pub config: ValidatorConfig,
}

impl HeldTask {
    /// The task `round` names, fetched from `store`, with the validation set its shipped data
    /// gives; refuses a round pinning another validation set.
    pub fn load(store: &dyn BlobStore, round: &Round) -> anyhow::Result<Self> {
        let task = fetch_task(store, &round.task_cid)?;
        let split = task.judged_split(round)?;
        let (public, _) = SimData::split_public(&split.train);
        Ok(Self {
            recipe: task.recipe(0),
            task,
            validation: split.validation,
            public,
            config: ValidatorConfig::default(),
        })
    }

    /// The view [`judge`] takes.
    pub fn view(&self) -> Task<'_> {
        Task {
            cid: self.task.cid,
            spec: &self.task.spec,
            validation: &self.validation,
            config: &self.config,
            public: Some((&self.public, &self.recipe)),
        }
    }
}

/// The tasks a validator holds, by CID: each loaded once, when a round first names it.
#[derive(Default)]
pub struct HeldTasks {
    /// By task CID and the validation set a round pins: a round of a held task pinning
    /// another set is loaded, checked and refused on its own, never judged on the held set.
    tasks: BTreeMap<([u8; 36], [u8; 32]), HeldTask>,
    /// The starting models already fetched and decoded, by task CID and model CID.
    models: BTreeSet<([u8; 36], [u8; 36])>,
}

impl HeldTasks {
    /// The task to judge `round` by, once its starting model is fetched and decoded too;
    /// `None` when nobody can judge the round ([`unjudgeable`]): the validator then votes the
    /// [`void_verdict`]. A task or a model that cannot be fetched is an error, not a void: the
    /// next try may get it, and a validator that never does stays out of the committee rather
    /// than vote against those that could judge. (Nor would a void vote spare it: a funder that
    /// served the blobs after the vote could appeal, and the appeal's committee, able to judge,
    /// would overturn the void and hand the appellant half of each void voter's lock.)
    pub fn judgeable(
        &mut self,
        store: &dyn BlobStore,
        round: &Round,
    ) -> anyhow::Result<Option<&HeldTask>> {
        match self.checked(store, round) {
            Ok(held) => Ok(Some(held)),
            Err(error) if unjudgeable(&error) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// The task `round` names, loaded and checked against the round, and its starting model
    /// fetched and decoded: each the first time it is asked for.
    fn checked(&mut self, store: &dyn BlobStore, round: &Round) -> anyhow::Result<&HeldTask> {
        let key = (round.task_cid.0, round.validation_set_hash);
        let held = match self.tasks.entry(key) {
            Entry::Occupied(held) => held.into_mut(),
            Entry::Vacant(slot) => slot.insert(HeldTask::load(store, round)?),
        };
        let model = (round.task_cid.0, round.model_cid.0);
        if !self.models.contains(&model) {
            load_model(store, &held.task.spec, &round.model_cid, &round.model_hash)?;
            self.models.insert(model);
        }
        Ok(held)
    }
}

/// What a validator holds of a round's task.
#[derive(Clone, Copy)]
pub struct Task<'a> {
    /// The task manifest's CID, which the round must name.
    pub cid: Cid,
    /// The model.
    pub spec: &'a ModelSpec,
    /// The committee's validation set (the round pins its hash).
    pub validation: &'a Dataset,
    /// The verdict rules.
    pub config: &'a ValidatorConfig,
    /// The task's public sample and its training recipe, when it publishes them: the committee
    /// trains its reference update from them ([`Reference`]).
    pub public: Option<(&'a Dataset, &'a TrainConfig)>,
}

/// Checks that the round trains `task`'s model on its validation set, and returns its joined
/// nodes in join order (every one of them: settlement has not started while a committee
/// judges).
pub fn round_inputs<C: Chain>(
    protocol: &Protocol<C>,
    round_address: &Address,
    task: &Task<'_>,
) -> anyhow::Result<(Round, Vec<NodeState>)> {
    let validation = task.validation;
    let round: Round = protocol.round(round_address)?;
    if round.validation_set_hash != validation.hash() {
        bail!("round {round_address} pins another validation set than this validator holds");
    }
    if round.task_cid != task.cid {
        bail!("round {round_address} trains another task than this validator holds");
    }
    let nodes = joined_nodes(protocol, round_address, &round)?;
    Ok((round, nodes))
}

/// Every node that joined `round`, in join order.
pub fn joined_nodes<C: Chain>(
    protocol: &Protocol<C>,
    round_address: &Address,
    round: &Round,
) -> anyhow::Result<Vec<NodeState>> {
    let nodes = protocol.round_nodes(round_address)?;
    if nodes.len() != round.counts.nodes_joined as usize {
        bail!(
            "found {} nodes of the round's {}; the cluster's account index is behind",
            nodes.len(),
            round.counts.nodes_joined
        );
    }
    Ok(nodes)
}

/// What a validator fetched of a round's revealed updates.
pub struct Fetched {
    /// The round's joined nodes, in join order.
    pub nodes: Vec<NodeState>,
    /// Each node's blob, if it revealed and its blob was fetched and matched its CID.
    pub blobs: Vec<Option<Vec<u8>>>,
}

impl Fetched {
    /// The nodes whose blobs this validator holds: its availability report.
    pub fn availability(&self) -> Availability {
        Availability::of(
            self.nodes
                .iter()
                .zip(&self.blobs)
                .filter(|(_, blob)| blob.is_some())
                .map(|(n, _)| n.index),
        )
    }
}

/// Fetches every revealed update of `nodes` (in `wanted`), in parallel, so one slow or missing
/// blob costs one timeout, not one per node. A blob that is missing or does not match its CID
/// is `None`.
fn fetch_blobs(
    store: &dyn BlobStore,
    nodes: &[NodeState],
    wanted: impl Fn(&NodeState) -> bool + Sync,
) -> Vec<Option<Vec<u8>>> {
    nodes
        .par_iter()
        .map(|n| {
            (n.status == NodeStatus::Revealed && wanted(n))
                .then(|| from_interface(&n.cid).and_then(|cid| store.get(&cid)).ok())
                .flatten()
        })
        .collect()
}

/// Fetches a round's revealed updates once its reveal phase has closed: what this validator
/// reports as available. Needs only the round's accounts, not its task.
pub fn fetch_updates<C: Chain>(
    protocol: &Protocol<C>,
    store: &dyn BlobStore,
    round_address: &Address,
    round: &Round,
) -> anyhow::Result<Fetched> {
    let nodes = joined_nodes(protocol, round_address, round)?;
    let blobs = fetch_blobs(store, &nodes, |_| true);
    Ok(Fetched { nodes, blobs })
}

/// The updates committee `level` judges: those more than half of its seats taken before the
/// availability deadline reported fetching ([`droppin_interface::availability`]).
pub fn committee_availability<C: Chain>(
    protocol: &Protocol<C>,
    round_address: &Address,
    level: u8,
) -> anyhow::Result<Availability> {
    let round = protocol.round(round_address)?;
    let deadline = availability_deadline(round.committee(level));
    let (seats, reports) = protocol.availability_reports(round_address, level, deadline)?;
    Ok(majority(&reports, seats, round.counts.nodes_joined))
}

/// Judges a round on the updates in `available` (the committee's majority set): every other
/// revealed node is unavailable. Fails, rather than vote a verdict its committee would not,
/// when an update in the set is in neither this validator's store nor its peers'.
pub fn judge<C: Chain>(
    protocol: &Protocol<C>,
    store: &dyn BlobStore,
    round_address: &Address,
    task: &Task<'_>,
    available: &Availability,
) -> anyhow::Result<Judgement> {
    let spec = task.spec;
    let (round, nodes) = round_inputs(protocol, round_address, task)?;
    let base = load_model(store, spec, &round.model_cid, &round.model_hash)?;
    let fetched = fetch_blobs(store, &nodes, |n| available.contains(n.index));
    if let Some(missing) = nodes.iter().zip(&fetched).find(|(n, blob)| {
        n.status == NodeStatus::Revealed && available.contains(n.index) && blob.is_none()
    }) {
        bail!(
            "the committee's majority fetched node {}'s update, but neither {} nor its peers serve it: not voting",
            Address::new_from_array(missing.0.node),
            store.location()
        );
    }
    let (revealed, fetched): (Vec<&NodeState>, Vec<&Option<Vec<u8>>>) = nodes
        .iter()
        .zip(&fetched)
        .filter(|(n, _)| n.status == NodeStatus::Revealed)
        .unzip();
    let submissions: Vec<droppin_fl::validate::Submission<'_>> = revealed
        .iter()
        .zip(&fetched)
        .map(|(n, bytes)| droppin_fl::validate::Submission {
            node: n.node,
            bytes: bytes.as_deref(),
            reputation_bps: n.reputation_bps,
        })
        .collect();
    let previous_step = previous_step(store, spec, &protocol.rounds()?, &round, &base)?;
    let reference = task
        .public
        .map(|(public, recipe)| {
            // Every validator trains the same reference: the recipe seeded by the round.
            let seed = u64::from_le_bytes(round_address.to_bytes()[..8].try_into().expect("8"));
            Reference::for_round(spec, &base, public, &TrainConfig { seed, ..*recipe })
        })
        .transpose()?
        .flatten();
    let context = RoundContext {
        round: round_address.to_bytes(),
        previous_step: previous_step.as_deref(),
        reference: reference.as_ref(),
    };
    let report = validate(
        spec,
        &base,
        task.validation,
        &submissions,
        &context,
        task.config,
    )?;
    let entries: Vec<(Leaf, Option<String>)> = nodes
        .iter()
        .map(|n| match report.verdict_of(&n.node) {
            Some(v) => (
                Leaf {
                    outcome: v.outcome,
                    weight_bps: v.weight_bps,
                },
                v.rejected.as_ref().map(ToString::to_string),
            ),
            None => (
                Leaf {
                    outcome: Outcome::NoShow,
                    weight_bps: 0,
                },
                Some("never revealed".into()),
            ),
        })
        .collect();
    let new_model = publish_model(store, spec, &report.new_model)?;
    let judged = publish_verdict(store, round_address, &nodes, entries, new_model)?;
    Ok(Judgement {
        available: *available,
        report,
        tree: judged.0,
        list: judged.1,
        vote: judged.2,
    })
}

/// The step that made `base`: its model minus the model of the finalized round among `rounds`
/// that shipped it (the latest, if several did). `None` for a first model or one no listed round
/// shipped, or whose parent model no store holds or decodes; the step is public, so an update
/// that repeats it earns nothing. A store that does not answer is an error, never a `None`: the
/// step changes the verdict, so judging without it for a passing outage would split the
/// committee.
fn previous_step(
    store: &dyn BlobStore,
    spec: &ModelSpec,
    rounds: &[(Address, Round)],
    round: &Round,
    base: &Weights,
) -> anyhow::Result<Option<Vec<f32>>> {
    let parent = rounds
        .iter()
        .filter(|(_, r)| {
            r.status == RoundStatus::Finalized && r.outcome.vote.new_model_hash == round.model_hash
        })
        .max_by_key(|(_, r)| r.id);
    let Some((_, parent)) = parent else {
        return Ok(None);
    };
    match load_model(store, spec, &parent.model_cid, &parent.model_hash) {
        Ok(previous) => Ok(Some(base.delta_from(&previous))),
        Err(error) if crate::patience::transient(&error) => Err(error),
        Err(_) => Ok(None),
    }
}

/// Builds the tree of `entries` (one per node, in join order, with its reason), publishes the
/// verdict list naming the published `new_model`, and returns the tree, the list and the vote.
pub fn publish_verdict(
    store: &dyn BlobStore,
    round_address: &Address,
    nodes: &[NodeState],
    entries: Vec<(Leaf, Option<String>)>,
    (new_model_cid, new_model_hash): (Cid, [u8; 32]),
) -> anyhow::Result<(VerdictTree, VerdictList, VerdictVote)> {
    let tree = VerdictTree::new::<Sha256>(
        round_address.to_bytes(),
        entries.iter().map(|(leaf, _)| *leaf).collect(),
    );
    let list = VerdictList {
        round: round_address.to_string(),
        leaves_root: hex::encode(tree.root()),
        new_model_cid: from_interface(&new_model_cid)?.to_string(),
        verdicts: nodes
            .iter()
            .zip(&entries)
            .map(|(n, (leaf, reason))| {
                Ok(ListedVerdict {
                    node: Address::new_from_array(n.node).to_string(),
                    index: n.index,
                    cid: n
                        .cid
                        .is_well_formed()
                        .then(|| from_interface(&n.cid).map(|c| c.to_string()))
                        .transpose()?,
                    outcome: outcome_name(leaf.outcome).into(),
                    weight_bps: leaf.weight_bps,
                    // Canonical text only: the list's CID is part of every vote.
                    reason: reason.clone(),
                })
            })
            .collect::<anyhow::Result<_>>()?,
    };
    let list_bytes = serde_json::to_vec(&list)?;
    let verdict_list_cid = to_interface(
        &store
            .put(&list_bytes)
            .context("publishing the verdict list")?,
    )?;
    let tally = tree.tally();
    let vote = VerdictVote {
        leaves_root: tree.root(),
        new_model_hash,
        new_model_cid,
        verdict_list_cid,
        accepted: tally.accepted,
        excluded: tally.excluded,
        slashed: tally.slashed,
        no_shows: tally.no_shows,
        weight_sum_bps: tally.weight_sum,
    };
    Ok((tree, list, vote))
}

/// The canonical reason the void verdict gives every revealed update.
pub const UNJUDGEABLE: &str = "the round cannot be judged: its task or starting model is invalid, or it pins a validation set no validator holds";

/// Whether `error`, met loading a round's task or starting model, means that nobody can judge
/// the round, as every validator sees alike from the round's accounts and content-addressed
/// bytes: the round pins a validation set no validator holds, or the manifest or the model
/// (whose bytes match their CIDs) is invalid. What a store did or did not serve never counts:
/// a funder could serve a blob to some validators and not others, and split the committee.
pub fn unjudgeable(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<TaskLoadError>(),
            Some(error) if !matches!(error, TaskLoadError::HashMismatch)
        ) || cause.is::<FlError>()
    })
}

/// The verdict on a round nobody can judge ([`unjudgeable`]): every revealed update excluded
/// (its stake back), every other node a no-show, the starting model kept. Every honest
/// validator votes it, so a funder who opens such a round (and joins its own nodes to have a
/// committee drawn) pays the committee for its seats instead of having it slashed as absent,
/// gets its node pool back, and nobody is paid for updates nobody could judge. Needs neither
/// the task nor the model: only `round` and its joined `nodes` ([`joined_nodes`]).
pub fn void_verdict(
    store: &dyn BlobStore,
    round_address: &Address,
    round: &Round,
    nodes: &[NodeState],
) -> anyhow::Result<(VerdictTree, VerdictList, VerdictVote)> {
    let entries = nodes
        .iter()
        .map(|n| {
            let (outcome, reason) = if n.status == NodeStatus::Revealed {
                (Outcome::Excluded, UNJUDGEABLE)
            } else {
                (Outcome::NoShow, "never revealed")
            };
            let leaf = Leaf {
                outcome,
                weight_bps: 0,
            };
            (leaf, Some(reason.to_string()))
        })
        .collect();
    // The round's model CID, with the hash it names: a vote's model hash must be its CID's
    // digest, even where the funder pinned another hash (the void verdict ships no new model).
    let model = (round.model_cid, *round.model_cid.digest());
    publish_verdict(store, round_address, nodes, entries, model)
}

/// Fetches the verdict list a vote names and rebuilds its tree, checking it against the vote's
/// leaves root: anyone holding the list can post the leaves.
pub fn tree_from_list(
    store: &dyn BlobStore,
    round_address: &Address,
    vote: &VerdictVote,
) -> anyhow::Result<VerdictTree> {
    let list_cid = from_interface(&vote.verdict_list_cid)?;
    let bytes = store
        .get(&list_cid)
        .with_context(|| format!("fetching the verdict list {list_cid}"))?;
    let list =
        VerdictList::parse(&bytes).with_context(|| format!("the verdict list {list_cid}"))?;
    let tree = VerdictTree::new::<Sha256>(round_address.to_bytes(), list.leaves()?);
    if tree.root() != vote.leaves_root {
        bail!("the verdict list {list_cid} does not rebuild the verdict's leaves root");
    }
    Ok(tree)
}

#[cfg(test)]
mod tests {
    use droppin_storage::StorageError;

    use super::*;

    /// A round is void only for what every validator sees alike: an invalid task or model, or a
    /// validation set nobody holds. What a store served, or failed to, never makes it void.
    #[test]
    fn only_what_every_validator_sees_alike_makes_a_round_unjudgeable() {
        let foreign = TaskLoadError::ForeignValidationSet("digits".into());
        let missing = StorageError::NotFound("bafkrei".into());
        let down = StorageError::Unreachable {
            url: "http://127.0.0.1:9".into(),
            reason: "connection refused".into(),
        };
        let corrupt = FlError::Model("4,810 parameters expected, 10 found".into());
        assert!(unjudgeable(&anyhow::Error::from(foreign)));
        assert!(unjudgeable(
            &anyhow::Error::from(corrupt).context("the global model")
        ));
        assert!(!unjudgeable(
            &anyhow::Error::from(missing).context("fetching the round's task manifest")
        ));
        assert!(!unjudgeable(&anyhow::Error::from(
            TaskLoadError::HashMismatch
        )));
        assert!(!unjudgeable(
            &anyhow::Error::from(down).context("fetching the global model")
        ));
        assert!(!unjudgeable(&anyhow::anyhow!(
            "the cluster's account index is behind"
        )));
    }

    /// The previous step changes the verdict, so a validator whose store does not answer for
    /// the parent model must not judge without it (its vote would differ from the committee's):
    /// it fails and tries again. A parent nobody holds is judged without, by everyone alike.
    #[test]
    fn the_previous_step_is_never_dropped_for_a_passing_outage() {
        let spec = droppin_node::RoundTask::new(droppin_task::catalog::get("digits").unwrap())
            .unwrap()
            .spec;
        let dir = tempfile::tempdir().unwrap();
        let store = droppin_storage::LocalStore::open(dir.path(), Default::default()).unwrap();
        let parent_model = Weights::initial(&spec, 1);
        let base = Weights::initial(&spec, 2);
        let (parent_cid, parent_hash) = publish_model(&store, &spec, &parent_model).unwrap();
        let (base_cid, base_hash) = publish_model(&store, &spec, &base).unwrap();
        let mut parent = Round {
            status: RoundStatus::Finalized,
            model_cid: parent_cid,
            model_hash: parent_hash,
            ..Round::default()
        };
        parent.outcome.vote.new_model_hash = base_hash;
        let rounds = vec![(Address::new_from_array([1; 32]), parent)];
        let round = Round {
            model_cid: base_cid,
            model_hash: base_hash,
            ..Round::default()
        };
        let step = previous_step(&store, &spec, &rounds, &round, &base).unwrap();
        assert_eq!(step, Some(base.delta_from(&parent_model)));
        let down = droppin_storage::open("kubo+http://127.0.0.1:9", Default::default()).unwrap();
        let error = previous_step(down.as_ref(), &spec, &rounds, &round, &base).unwrap_err();
        assert!(crate::patience::transient(&error), "{error:#}");
        let empty = tempfile::tempdir().unwrap();
        let empty = droppin_storage::LocalStore::open(empty.path(), Default::default()).unwrap();
        assert_eq!(
            previous_step(&empty, &spec, &rounds, &round, &base).unwrap(),
            None
        );
        assert_eq!(
            previous_step(&store, &spec, &[], &round, &base).unwrap(),
            None
        );
    }
}
