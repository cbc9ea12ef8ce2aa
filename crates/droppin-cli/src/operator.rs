//! What operators' commands share: round summaries, the winning voter, and a node's pending
//! commitment kept on disk between commit and reveal.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use droppin_client::{Chain, Protocol};
use droppin_coordinator::{Phase, phase};
use droppin_interface::{
    Cid,
    pda::find,
    state::{Round, RoundStatus, ValidatorState},
};
use droppin_storage::{from_interface, parse_cid, to_interface};
use serde::{Deserialize, Serialize};
use solana_address::Address;

use crate::node::Pending;

/// A round as `dpin round show` and `list` print it.
#[derive(Clone, Debug, Serialize)]
pub struct RoundSummary {
    pub address: String,
    pub id: u64,
    /// `training`, `reveal`, `validation`, `settlement`, `finalized` or `failed`.
    pub phase: &'static str,
    pub funder: String,
    pub pool_lamports: u64,
    pub fee_lamports: u64,
    pub node_stake_lamports: u64,
    pub validator_stake_lamports: u64,
    pub max_nodes: u32,
    pub nodes_joined: u32,
    pub nodes_revealed: u32,
    pub nodes_settled: u32,
    pub validators_joined: u8,
    pub validators_voted: u8,
    pub committee: Vec<String>,
    pub slot: u64,
    pub commit_deadline: u64,
    pub reveal_deadline: u64,
    pub validation_deadline: u64,
    /// The model the round trains from.
    pub model_cid: String,
    /// The model it shipped, once finalized.
    pub new_model_cid: Option<String>,
    pub verdict_list_cid: Option<String>,
    pub accepted: u32,
    pub slashed: u32,
}

/// The phase name of a round at `slot`.
pub fn phase_name(round: &Round, slot: u64) -> &'static str {
    match round.status {
        RoundStatus::Finalized => "finalized",
        RoundStatus::Failed => "failed",
        RoundStatus::Open => match phase(round, slot) {
            Phase::Training => "training",
            Phase::Reveal => "reveal",
            Phase::Validation => "validation",
            Phase::Settlement => "settlement",
        },
    }
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
    Ok(RoundSummary {
        address: address.to_string(),
        id: round.id,
        phase: phase_name(&round, slot),
        funder: Address::new_from_array(round.funder).to_string(),
        pool_lamports: round.pool,
        fee_lamports: round.fee_paid,
        node_stake_lamports: round.node_stake,
        validator_stake_lamports: round.validator_stake,
        max_nodes: round.max_nodes,
        nodes_joined: round.counts.nodes_joined,
        nodes_revealed: round.counts.nodes_revealed,
        nodes_settled: round.counts.nodes_settled,
        validators_joined: round.counts.validators_joined,
        validators_voted: round.counts.validators_voted,
        committee: round
            .committee
            .keys()
            .iter()
            .map(|k| Address::new_from_array(*k).to_string())
            .collect(),
        slot,
        commit_deadline: round.deadlines.commit,
        reveal_deadline: round.deadlines.reveal,
        validation_deadline: round.deadlines.validation,
        model_cid: cid_text(&round.model_cid)?,
        new_model_cid: finalized
            .then(|| cid_text(&round.outcome.new_model_cid))
            .transpose()?,
        verdict_list_cid: finalized
            .then(|| cid_text(&round.outcome.verdict_list_cid))
            .transpose()?,
        accepted: round.outcome.accepted,
        slashed: round.outcome.slashed,
    })
}

/// Every round still on-chain (closed rounds are gone), oldest first.
pub fn list_rounds<C: Chain>(protocol: &Protocol<C>) -> anyhow::Result<Vec<RoundSummary>> {
    let count = protocol.config()?.round_count;
    let mut rounds = Vec::new();
    for id in 0..count {
        let address = find::round(&protocol.program, id);
        if protocol.state::<Round>(&address)?.is_some() {
            rounds.push(summarize(protocol, &address)?);
        }
    }
    Ok(rounds)
}

/// A committee member whose vote has the most votes (the one `FinalizeRound` needs).
pub fn leading_voter<C: Chain>(
    protocol: &Protocol<C>,
    address: &Address,
) -> anyhow::Result<Address> {
    let round = protocol.round(address)?;
    let best = round
        .tallies
        .iter()
        .max_by_key(|t| t.votes)
        .filter(|t| t.votes > 0)
        .context("nobody has voted in this round yet")?;
    for member in round.committee.keys() {
        let key = Address::new_from_array(*member);
        let state: Option<ValidatorState> =
            protocol.state(&find::validator(&protocol.program, address, &key))?;
        if state.is_some_and(|s| s.voted && s.vote_digest == best.digest) {
            return Ok(key);
        }
    }
    bail!("no committee member holds the leading vote")
}

/// A pending commitment as saved on disk, with the update's bytes (uploaded only at reveal).
#[derive(Serialize, Deserialize)]
struct PendingFile {
    cid: String,
    salt: String,
    samples: u64,
    update_hex: String,
}

/// Where a node keeps the salt of its commitment to `round`.
pub fn pending_path(state_dir: &Path, round: &Address, node: &Address) -> PathBuf {
    state_dir
        .join("pending")
        .join(format!("{round}-{node}.json"))
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Saves a pending commitment and its update, atomically and readable by the owner only,
/// before the commit is sent, so a crash cannot lose the salt and nobody else learns the CID.
pub fn save_pending(path: &Path, pending: &Pending, update: &[u8]) -> anyhow::Result<()> {
    let file = PendingFile {
        cid: cid_text(&pending.cid)?,
        salt: to_hex(&pending.salt),
        samples: pending.samples,
        update_hex: to_hex(update),
    };
    let dir = path.parent().context("a pending file has a directory")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut temporary = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("writing in {}", dir.display()))?;
    std::io::Write::write_all(&mut temporary, &serde_json::to_vec(&file)?)?;
    temporary.as_file().sync_all()?;
    temporary
        .persist(path)
        .with_context(|| format!("saving the commitment's salt to {}", path.display()))?;
    Ok(())
}

/// Loads a pending commitment and its update, checking the update still has the CID.
pub fn load_pending(path: &Path) -> anyhow::Result<(Pending, Vec<u8>)> {
    let bytes = std::fs::read(path).with_context(|| {
        format!(
            "no saved commitment at {} (was it committed from this machine?)",
            path.display()
        )
    })?;
    let file: PendingFile = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not a saved commitment", path.display()))?;
    let salt = from_hex(&file.salt)
        .and_then(|s| <[u8; 32]>::try_from(s).ok())
        .with_context(|| format!("{}: the salt is not 32 hex bytes", path.display()))?;
    let update = from_hex(&file.update_hex)
        .with_context(|| format!("{}: the update is not hex", path.display()))?;
    let pending = Pending {
        cid: to_interface(&parse_cid(&file.cid)?)?,
        salt,
        samples: file.samples,
    };
    if droppin_storage::interface_cid(&update) != pending.cid {
        bail!(
            "{}: the saved update does not match its CID",
            path.display()
        );
    }
    Ok((pending, update))
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
        let pending = crate::node::pending_for(&update, [9; 32], 42);
        save_pending(&path, &pending, &update).unwrap();
        let (loaded, bytes) = load_pending(&path).unwrap();
        assert_eq!(
            (loaded.cid, loaded.salt, loaded.samples),
            (pending.cid, [9; 32], 42)
        );
        assert_eq!(bytes, update);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(
            &path,
            text.replace(&to_hex(&update), &to_hex(b"another delta!!!")),
        )
        .unwrap();
        let error = load_pending(&path).unwrap_err().to_string();
        assert!(error.contains("does not match its CID"), "{error}");
    }
}
