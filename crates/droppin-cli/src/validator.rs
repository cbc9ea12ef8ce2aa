//! A committee member's side of a round: fetch every revealed update, check it against its
//! CID, run the FL engine's deterministic validation and aggregation, publish the new model and
//! the verdict list, and vote their hashes. Two honest validators produce the same vote.

use anyhow::{Context, bail};
use droppin_client::{Chain, Protocol};
use droppin_fl::{
    data::Dataset,
    model::{ModelSpec, Weights},
    update::{Encoding, Update, decode_model},
    validate::{
        Claim, ListedVerdict, Submission, ValidationReport, ValidatorConfig, VerdictList, validate,
    },
};
use droppin_interface::{
    Cid,
    instruction::VerdictVote,
    merkle::Verdict,
    state::{NodeStatus, Round},
};
use droppin_storage::{BlobStore, from_interface, to_interface};
use rayon::prelude::*;
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
    let list =
        VerdictList::parse(&bytes).with_context(|| format!("the verdict list {list_cid}"))?;
    Ok(list.claim(
        &round_address.to_bytes(),
        &round.outcome.verdict_root,
        &node.to_bytes(),
    )?)
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
    if round.validation_set_hash != validation.hash() {
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
