//! A committee member's side of a round: fetch every revealed update, check it against its
//! CID, run the FL engine's deterministic validation and aggregation, publish the new model and
//! the verdict list, and vote their hashes. Two honest validators produce the same vote.

use anyhow::{Context, bail};
use droppin_client::{Chain, Protocol};
use droppin_fl::{
    data::Dataset,
    model::{ModelSpec, Weights},
    update::{DecodeLimits, Encoding, PayloadKind, Update},
    validate::{Submission, ValidationReport, ValidatorConfig, validate},
};
use droppin_interface::{
    Cid,
    instruction::VerdictVote,
    merkle::{MerkleTree, Verdict, VerdictLeaf},
    state::{NodeStatus, Round},
};
use droppin_storage::{BlobStore, from_interface, to_interface};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use solana_address::Address;

/// What a validator concluded about a round.
pub struct Judgement {
    /// The FL engine's report: verdicts, leaves (sorted by node key), tree, new model.
    pub report: ValidationReport,
    /// The revealed CID of each leaf's node, in leaf order.
    pub cids: Vec<Cid>,
    /// Why each leaf's blob could not be fetched, if it could not, in leaf order.
    pub unavailable: Vec<Option<String>>,
    /// The vote to submit.
    pub vote: VerdictVote,
}

impl Judgement {
    /// Why `node` was slashed, if it was: the storage error when its blob was unavailable.
    pub fn reason_of(&self, node: &droppin_interface::Pubkey) -> Option<String> {
        let index = self.report.verdicts.iter().position(|v| &v.node == node)?;
        let rejected = self.report.verdicts[index].rejected.as_ref()?;
        Some(match &self.unavailable[index] {
            Some(error) => format!("update unavailable: {error}"),
            None => rejected.to_string(),
        })
    }
}

/// One entry of the published verdict list.
#[derive(Serialize, Deserialize)]
pub struct ListedVerdict {
    pub node: String,
    pub cid: String,
    /// `accepted` or `slashed`.
    pub verdict: String,
    pub weight_bps: u16,
    pub reason: Option<String>,
}

/// The published verdict list: enough for anyone to rebuild the Merkle tree and check a claim.
#[derive(Serialize, Deserialize)]
pub struct VerdictList {
    pub round: String,
    pub verdict_root: String,
    pub new_model_cid: String,
    /// In leaf order (sorted by node key).
    pub verdicts: Vec<ListedVerdict>,
}

/// What a node needs to claim, besides its on-chain CID: its leaf and the proof.
pub struct Claim {
    pub leaf: VerdictLeaf,
    pub proof: Vec<[u8; 32]>,
}

/// Fetches a finalized round's verdict list, rebuilds the tree, checks its root against the
/// one pinned on-chain, and returns `node`'s claim.
pub fn claim_from_list(
    store: &dyn BlobStore,
    round_address: &Address,
    round: &Round,
    node: &Address,
) -> anyhow::Result<Claim> {
    let list_cid = from_interface(&round.outcome.verdict_list_cid)?;
    let bytes = store
        .get(&list_cid)
        .with_context(|| format!("fetching the verdict list {list_cid}"))?;
    let list: VerdictList = serde_json::from_slice(&bytes)
        .with_context(|| format!("the verdict list {list_cid} is not valid JSON"))?;
    let mut leaves = Vec::with_capacity(list.verdicts.len());
    for entry in &list.verdicts {
        let key: Address = entry
            .node
            .parse()
            .map_err(|_| anyhow::anyhow!("bad node key {:?} in the verdict list", entry.node))?;
        leaves.push(VerdictLeaf {
            node: key.to_bytes(),
            verdict: match entry.verdict.as_str() {
                "accepted" => Verdict::Accepted,
                "slashed" => Verdict::Slashed,
                other => bail!("unknown verdict {other:?} in the verdict list"),
            },
            weight_bps: entry.weight_bps,
        });
    }
    let key = round_address.to_bytes();
    let tree = MerkleTree::from_leaf_hashes::<droppin_interface::hash::Sha256>(
        leaves
            .iter()
            .map(|l| l.hash::<droppin_interface::hash::Sha256>(&key))
            .collect(),
    );
    if tree.root() != round.outcome.verdict_root {
        bail!("the verdict list {list_cid} does not match the round's verdict root");
    }
    let index = leaves
        .iter()
        .position(|l| l.node == node.to_bytes())
        .with_context(|| format!("{node} has no verdict in round {round_address}"))?;
    Ok(Claim {
        leaf: leaves[index],
        proof: tree.proof(index),
    })
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
    let hash: [u8; 32] = Sha256::digest(&bytes).into();
    if &hash != expected_hash {
        bail!("the global model {cid} does not hash to the round's model hash");
    }
    let layout = Weights::layout_of(spec);
    let limits = DecodeLimits {
        payload: PayloadKind::Model,
        base_hash: None,
        ..DecodeLimits::delta(spec, &layout, [0; 32])
    };
    let update =
        Update::decode(&bytes, &limits).with_context(|| format!("decoding the model {cid}"))?;
    Ok(Weights {
        layout: update.layout,
        values: update.values,
    })
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

/// Judges a round whose reveal phase has closed.
pub fn judge<C: Chain>(
    protocol: &Protocol<C>,
    store: &dyn BlobStore,
    round_address: &Address,
    spec: &ModelSpec,
    validation: &Dataset,
    config: &ValidatorConfig,
) -> anyhow::Result<Judgement> {
    let round: Round = protocol.round(round_address)?;
    if round.validation_set_hash != dataset_hash(validation) {
        bail!("round {round_address} pins another validation set than this validator holds");
    }
    if round.task_hash != spec.hash() {
        bail!(
            "round {round_address} trains another task than this {:?} model",
            spec.kind
        );
    }
    let base = load_model(store, spec, &round.model_cid, &round.model_hash)?;
    let revealed: Vec<_> = protocol
        .round_nodes(round_address)?
        .into_iter()
        .filter(|n| n.status == NodeStatus::Revealed)
        .collect();
    if revealed.len() != round.counts.nodes_revealed as usize {
        bail!(
            "found {} revealed nodes of the round's {}; the cluster's account index is behind",
            revealed.len(),
            round.counts.nodes_revealed
        );
    }
    // A blob that is missing or does not match its CID is judged as malformed bytes: keeping
    // the update available is the node's duty.
    // Fetched in parallel, so one slow or missing blob costs one timeout, not one per node.
    let fetched: Vec<Result<Vec<u8>, String>> = revealed
        .par_iter()
        .map(|n| {
            from_interface(&n.cid)
                .and_then(|cid| store.get(&cid))
                .map_err(|error| error.to_string())
        })
        .collect();
    let blobs: Vec<&[u8]> = fetched
        .iter()
        .map(|f| f.as_deref().unwrap_or_default())
        .collect();
    let submissions: Vec<Submission<'_>> = revealed
        .iter()
        .zip(&blobs)
        .map(|(n, bytes)| Submission {
            node: n.node,
            bytes,
            reputation_bps: n.reputation_bps,
        })
        .collect();
    let report = validate(
        spec,
        &base,
        validation,
        &submissions,
        &round_address.to_bytes(),
        config,
    )?;
    let leaf_sources: Vec<usize> = report
        .leaves
        .iter()
        .map(|leaf| {
            revealed
                .iter()
                .position(|n| n.node == leaf.node)
                .expect("every leaf is a revealed node")
        })
        .collect();
    let cids: Vec<Cid> = leaf_sources.iter().map(|&i| revealed[i].cid).collect();
    let unavailable: Vec<Option<String>> = leaf_sources
        .iter()
        .map(|&i| fetched[i].as_ref().err().cloned())
        .collect();
    let (new_model_cid, new_model_hash) = publish_model(store, spec, &report.new_model)?;
    let list = VerdictList {
        round: round_address.to_string(),
        verdict_root: hex(&report.root),
        new_model_cid: from_interface(&new_model_cid)?.to_string(),
        verdicts: report
            .verdicts
            .iter()
            .zip(&cids)
            .zip(&unavailable)
            .map(|((v, cid), unavailable)| {
                Ok(ListedVerdict {
                    node: Address::new_from_array(v.node).to_string(),
                    cid: from_interface(cid)?.to_string(),
                    verdict: if v.rejected.is_none() {
                        "accepted".into()
                    } else {
                        "slashed".into()
                    },
                    weight_bps: v.weight_bps,
                    // Canonical text only: the list's CID is part of every vote, so what one
                    // validator's storage said must not leak into it.
                    reason: v.rejected.as_ref().map(|reason| {
                        if unavailable.is_some() {
                            "update unavailable".to_string()
                        } else {
                            reason.to_string()
                        }
                    }),
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
    let count = |verdict| {
        report
            .leaves
            .iter()
            .filter(|l| l.verdict == verdict)
            .count() as u32
    };
    let vote = VerdictVote {
        verdict_root: report.root,
        new_model_hash,
        new_model_cid,
        verdict_list_cid,
        accepted_count: count(Verdict::Accepted),
        slashed_count: count(Verdict::Slashed),
    };
    Ok(Judgement {
        report,
        cids,
        unavailable,
        vote,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// sha256 of a dataset's shape, labels and features: the validation set hash pinned on-chain.
pub fn dataset_hash(data: &Dataset) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for dim in &data.sample_shape {
        hasher.update((*dim as u64).to_le_bytes());
    }
    hasher.update((data.classes as u64).to_le_bytes());
    hasher.update(&data.labels);
    for value in &data.features {
        hasher.update(value.to_le_bytes());
    }
    hasher.finalize().into()
}
