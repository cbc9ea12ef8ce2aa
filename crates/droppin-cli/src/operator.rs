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

/// A pending commitment as saved on disk.
#[derive(Serialize, Deserialize)]
struct PendingFile {
    cid: String,
    salt: String,
    samples: u64,
}

/// Where a node keeps the salt of its commitment to `round`.
pub fn pending_path(state_dir: &Path, round: &Address, node: &Address) -> PathBuf {
    state_dir
        .join("pending")
        .join(format!("{round}-{node}.json"))
}

/// Saves a pending commitment (before the commit is sent, so a crash cannot lose the salt).
pub fn save_pending(path: &Path, pending: &Pending) -> anyhow::Result<()> {
    let file = PendingFile {
        cid: cid_text(&pending.cid)?,
        salt: pending.salt.iter().map(|b| format!("{b:02x}")).collect(),
        samples: pending.samples,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, serde_json::to_vec_pretty(&file)?)
        .with_context(|| format!("saving the commitment's salt to {}", path.display()))
}

/// Loads a pending commitment.
pub fn load_pending(path: &Path) -> anyhow::Result<Pending> {
    let bytes = std::fs::read(path).with_context(|| {
        format!(
            "no saved commitment at {} (was it committed from this machine?)",
            path.display()
        )
    })?;
    let file: PendingFile = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not a saved commitment", path.display()))?;
    let salt_bytes: Vec<u8> = (0..file.salt.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(file.salt.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<Result<_, _>>()
        .with_context(|| format!("{}: the salt is not hex", path.display()))?;
    Ok(Pending {
        cid: to_interface(&parse_cid(&file.cid)?)?,
        salt: salt_bytes
            .try_into()
            .map_err(|_| anyhow::anyhow!("{}: the salt is not 32 bytes", path.display()))?,
        samples: file.samples,
    })
}
