//! What operators' commands share: round summaries, and a node's pending commitment kept on
//! disk between commit and reveal.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use droppin_client::{Chain, Protocol};
use droppin_coordinator::{phase_name, resolution_name};
use droppin_interface::{
    Cid,
    availability::availability_deadline,
    state::{Currency, RoundStatus},
};
use droppin_storage::from_interface;
use serde::{Deserialize, Serialize};
use solana_address::Address;

use droppin_node::Commitment;
use droppin_node::money::unit_name;

/// A round as `dpin round show` and `list` print it.
#[derive(Clone, Debug, Serialize)]
pub struct RoundSummary {
    pub address: String,
    pub id: u64,
    /// `training`, `reveal`, `validation`, `vote-reveal`, `settlement`, `finalized`, `appealed`
    /// or `failed`.
    pub phase: &'static str,
    /// Why a failed round failed.
    pub failure: Option<String>,
    pub funder: String,
    /// What the amounts below are in (their base units: lamports, or $dPIN's smallest unit).
    #[serde(serialize_with = "serialize_currency")]
    pub currency: Currency,
    pub pool: u64,
    pub fee: u64,
    pub node_stake: u64,
    pub max_nodes: u32,
    pub nodes_joined: u32,
    pub nodes_revealed: u32,
    pub nodes_settled: u32,
    /// The expected committee size the funder asked for.
    pub committee_size: u8,
    /// Whether the committee's seed is fixed (drawn from the registry, not picked).
    pub drawn: bool,
    /// The seed, in hex, once drawn.
    pub seed: Option<String>,
    pub seats: u8,
    pub votes_revealed: u8,
    pub seat_lock_lamports: u64,
    pub slot: u64,
    pub commit_deadline: u64,
    pub reveal_deadline: u64,
    /// The last slot (exclusive) the committee's seats report which updates they fetched.
    pub availability_deadline: u64,
    pub validation_deadline: u64,
    pub vote_reveal_deadline: u64,
    /// The last slot an appeal may be filed, once the verdict's leaves are posted.
    pub appeal_deadline: Option<u64>,
    pub appealed: bool,
    /// `confirmed`, `overturned`, `decided` (an escalated round's) or `unresolved`, once the
    /// appeal is resolved.
    pub appeal_resolution: Option<&'static str>,
    /// The task manifest the round trains (dpin task show reads it).
    pub task_cid: String,
    /// The model the round trains from.
    pub model_cid: String,
    /// The model it shipped, once finalized.
    pub new_model_cid: Option<String>,
    pub verdict_list_cid: Option<String>,
    pub accepted: u32,
    pub excluded: u32,
    pub slashed: u32,
    pub no_shows: u32,
}

fn cid_text(cid: &Cid) -> anyhow::Result<String> {
    Ok(from_interface(cid)?.to_string())
}

/// The summary of the round at `address`.
pub fn summarize<C: Chain>(
    protocol: &Protocol<C>,
    address: &Address,
) -> anyhow::Result<RoundSummary> {
    let round = protocol.round(address)?;
    let slot = protocol.chain.slot()?;
    let finalized = round.status == RoundStatus::Finalized;
    let committee = round.committees[0];
    let vote = &round.outcome.vote;
    Ok(RoundSummary {
        address: address.to_string(),
        id: round.id,
        phase: phase_name(&round, slot),
        failure: (round.status == RoundStatus::Failed).then(|| format!("{:?}", round.failure)),
        funder: Address::new_from_array(round.funder).to_string(),
        currency: round.currency,
        pool: round.pool,
        fee: round.fee_paid,
        node_stake: round.node_stake,
        max_nodes: round.max_nodes,
        nodes_joined: round.counts.nodes_joined,
        nodes_revealed: round.counts.nodes_revealed,
        nodes_settled: round.counts.nodes_settled,
        committee_size: committee.expected,
        drawn: committee.drawn,
        seed: committee.drawn.then(|| hex::encode(committee.seed)),
        seats: committee.seats,
        votes_revealed: committee.revealed,
        seat_lock_lamports: committee.seat_lock,
        slot,
        commit_deadline: round.deadlines.commit,
        reveal_deadline: round.deadlines.reveal,
        availability_deadline: availability_deadline(&committee),
        validation_deadline: round.deadlines.validation,
        vote_reveal_deadline: round.deadlines.vote_reveal,
        appeal_deadline: round.appeal_deadline(),
        appealed: round.appeal.filed(),
        appeal_resolution: resolution_name(round.appeal.resolution),
        task_cid: cid_text(&round.task_cid)?,
        model_cid: cid_text(&round.model_cid)?,
        new_model_cid: finalized
            .then(|| cid_text(&vote.new_model_cid))
            .transpose()?,
        verdict_list_cid: finalized
            .then(|| cid_text(&vote.verdict_list_cid))
            .transpose()?,
        accepted: vote.accepted,
        excluded: vote.excluded,
        slashed: vote.slashed,
        no_shows: vote.no_shows,
    })
}

/// Every round still on-chain (closed rounds are gone), oldest first.
pub fn list_rounds<C: Chain>(protocol: &Protocol<C>) -> anyhow::Result<Vec<RoundSummary>> {
    protocol
        .rounds()?
        .iter()
        .map(|(address, _)| summarize(protocol, address))
        .collect()
}

/// A saved commitment on disk, with the update's bytes (uploaded only at reveal).
#[derive(Serialize, Deserialize)]
struct PendingFile {
    #[serde(flatten)]
    commitment: Commitment,
    update_hex: String,
}

/// Where a node keeps the salt of its commitment to `round`.
pub fn pending_path(state_dir: &Path, round: &Address, node: &Address) -> PathBuf {
    state_dir
        .join("pending")
        .join(format!("{round}-{node}.json"))
}

/// Saves a pending commitment and its update, atomically and readable by the owner only,
/// before the commit is sent, so a crash cannot lose the salt and nobody else learns the CID.
pub fn save_pending(path: &Path, saved: &Commitment, update: &[u8]) -> anyhow::Result<()> {
    let file = PendingFile {
        commitment: *saved,
        update_hex: hex::encode(update),
    };
    write_private(path, &serde_json::to_vec(&file)?)
        .with_context(|| format!("saving the commitment's salt to {}", path.display()))
}

/// Writes a secret file atomically (a temporary file, synced, then renamed), readable by its
/// owner only.
pub fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().context("a state file has a directory")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut temporary = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("writing in {}", dir.display()))?;
    std::io::Write::write_all(&mut temporary, bytes)?;
    temporary.as_file().sync_all()?;
    temporary
        .persist(path)
        .with_context(|| format!("writing {}", path.display()))?;
    // The rename itself is durable only once the directory is synced.
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("syncing {}", dir.display()))?;
    Ok(())
}

/// The pending commitment saved at `path`, `None` if nothing was saved there. A file that is
/// there but cannot be read back is an error, never "nothing saved": a node that took it for
/// none would train again over a salt an in-flight commit needs, or give up its reveal.
pub fn saved_commitment(path: &Path) -> anyhow::Result<Option<(Commitment, Vec<u8>)>> {
    match std::fs::metadata(path) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        _ => load_pending(path).map(Some),
    }
}

/// Loads a pending commitment and its update, checking the update still has the CID.
pub fn load_pending(path: &Path) -> anyhow::Result<(Commitment, Vec<u8>)> {
    let bytes = std::fs::read(path).with_context(|| {
        format!(
            "no saved commitment at {} (was it committed from this machine?)",
            path.display()
        )
    })?;
    let file: PendingFile = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not a saved commitment", path.display()))?;
    let update = hex::decode(&file.update_hex)
        .with_context(|| format!("{}: the update is not hex", path.display()))?;
    if !file.commitment.holds(&update) {
        bail!(
            "{}: the saved update does not match its CID",
            path.display()
        );
    }
    Ok((file.commitment, update))
}

/// A currency in the CLI's JSON as people name it: `SOL` or `$dPIN`.
pub fn serialize_currency<S: serde::Serializer>(
    currency: &Currency,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(unit_name(*currency))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_commitment_comes_back_and_a_tampered_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = pending_path(
            dir.path(),
            &Address::new_from_array([1; 32]),
            &Address::new_from_array([2; 32]),
        );
        let update = b"an encoded delta".to_vec();
        let round = droppin_interface::state::Round::default();
        let saved = Commitment::to(&round, &update, [9; 32], 42);
        save_pending(&path, &saved, &update).unwrap();
        let (loaded, bytes) = load_pending(&path).unwrap();
        assert_eq!(loaded, saved);
        assert_eq!(bytes, update);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(
            &path,
            text.replace(&hex::encode(&update), &hex::encode(b"another delta!!!")),
        )
        .unwrap();
        let error = load_pending(&path).unwrap_err().to_string();
        assert!(error.contains("does not match its CID"), "{error}");
        // Damaged is an error, not "nothing saved"; only a missing file is that.
        assert!(saved_commitment(&path).is_err());
        std::fs::remove_file(&path).unwrap();
        assert!(saved_commitment(&path).unwrap().is_none());
    }
}
