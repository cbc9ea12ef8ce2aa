//! `dpin validate`, `dpin appeal`, `dpin finalize`, `dpin crank`: the committee's work, appeals
//! and settlement.

use droppin_cli::{
    committee::{SealedVote, drawn, reveal, sit_and_report, sit_and_seal},
    keeper::{self, Step},
    validator::{HeldTasks, committee_availability, fetch_updates, joined_nodes, void_verdict},
};

use droppin_interface::{
    availability::availability_deadline,
    state::{AppealResolution, SeatStatus},
};
use droppin_storage::Replicating;

use super::*;

/// `dpin validate [ROUND]`: serve every round this validator is drawn for (or one round),
/// fetching what its own store lacks from `peers`.
pub fn run_validate(
    round: Option<&str>,
    once: bool,
    peers: &[String],
    cluster: &Cluster,
) -> anyhow::Result<()> {
    let validator = cluster.signer()?;
    let mut protocol = cluster.protocol()?;
    let own = cluster.store()?;
    if !own.writable() {
        bail!(
            "{} is read-only: a validator publishes the new model and the verdict list, and serves what it fetched (use kubo+URL)",
            own.location()
        );
    }
    let peers = peers
        .iter()
        .map(|p| open(p, Limits::default()).with_context(|| format!("opening peer store {p}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let store = Replicating::new(own.as_ref(), peers.iter().map(AsRef::as_ref).collect());
    let key = validator.pubkey();
    if protocol.bond(&key)?.is_none() {
        bail!("{key} is not registered: dpin validator register --sol AMOUNT");
    }
    let mut tasks = HeldTasks::default();
    let only = round.map(parse_address).transpose()?;
    // One pass over the rounds; it answers whether the service is over. A pass that failed
    // because the cluster did not answer is tried again, with pauses, for the cluster's
    // patience: a validator that stops on one dropped request misses its votes.
    let mut pass = || -> anyhow::Result<bool> {
        let rounds = match &only {
            Some(address) => vec![*address],
            None => protocol.rounds()?.into_iter().map(|(a, _)| a).collect(),
        };
        let mut open = 0;
        for address in rounds {
            if protocol.state::<Round>(&address)?.is_none() {
                continue;
            }
            // One round's failure, transient or not, does not hold up the others, and the
            // round still counts as open: the next pass looks at it again.
            match serve(
                &mut protocol,
                &store,
                &mut tasks,
                &validator,
                &address,
                cluster,
            ) {
                Ok(true) => open += 1,
                Ok(false) => {}
                Err(error) => {
                    open += 1;
                    say(cluster, &format!("round {address}: {error:#}"));
                }
            }
        }
        let done = once || (only.is_some() && open == 0);
        if !done {
            let slot = protocol.chain.slot()?;
            protocol.chain.wait_for_slot(slot + 4)?;
        }
        Ok(done)
    };
    loop {
        let done = cluster
            .patience()
            .retry(&mut pass, |error, pause| cluster.retrying(error, pause))?;
        if done {
            return Ok(());
        }
    }
}

/// Slots a validator waits after the availability deadline before it reads the reports.
const REPORTS_SETTLE_SLOTS: u64 = 3;

/// Does this validator's next duty in one round; returns whether the round still needs it.
fn serve(
    protocol: &mut Protocol<RpcChain>,
    store: &dyn BlobStore,
    tasks: &mut HeldTasks,
    validator: &Keypair,
    address: &Address,
    cluster: &Cluster,
) -> anyhow::Result<bool> {
    let step = match keeper::advance(protocol, validator, store, address) {
        Ok(step) => Some(step),
        // Another keeper moved the round first (validators, nodes and funders all may): the
        // validator's own duties below still stand, and the next pass looks again.
        Err(error) if keeper::refused(&error) => {
            say(
                cluster,
                &format!("round {address}: {error:#}; looking again"),
            );
            None
        }
        Err(error) => return Err(error),
    };
    let round = protocol.round(address)?;
    let slot = protocol.chain.slot()?;
    let key = validator.pubkey();
    let bond = protocol
        .bond(&key)?
        .context("the validator's bond is gone")?;
    for level in 0..2u8 {
        let committee = round.committee(level);
        if !committee.drawn || (level == 1 && protocol.seat(address, &key, 0)?.is_some()) {
            continue;
        }
        let seat = protocol.seat_with_report(address, &key, level)?;
        let sealed_path = sealed_path(&cluster.state_dir(), address, &key, level);
        let deadline = availability_deadline(committee);
        let reporting = slot < deadline;
        // A few slots past the deadline, every report that landed before it is visible to any
        // RPC node this validator may ask.
        let judging = slot >= deadline + REPORTS_SETTLE_SLOTS;
        let seated = seat.is_some() || drawn(&round, &key, &bond, level);
        match seat.as_ref().map(|(s, _)| s.status) {
            // Its bond is locked in other seats: it records its excuse, or it would be
            // reported absent.
            None if seated
                && slot < committee.vote_deadline
                && droppin_coordinator::excused(&round, level, &bond) =>
            {
                protocol.claim_seat(validator, address, level)?;
                // A lock released meanwhile seats it instead: said as the chain has it.
                let taken = protocol.seat(address, &key, level)?.map(|s| s.status);
                let what = if taken == Some(SeatStatus::Excused) {
                    "its bond is locked in other seats: recorded its excuse (not absent)"
                } else {
                    "seated after all: a lock elsewhere was released"
                };
                say(
                    cluster,
                    &format!("round {address}: drawn for committee {level}, {what}"),
                );
            }
            None | Some(SeatStatus::Seated) if reporting && seated => {
                // It sits once it holds the task and the model, or knows that nobody can judge
                // the round (it will vote the void verdict: staying away would be slashed as an
                // absence the funder caused). Either way it reports the blobs it fetched.
                let judgeable = tasks.judgeable(store, &round)?.is_some();
                let fetched = fetch_updates(protocol, store, address, &round)?;
                let held = fetched.availability();
                // Reported again, until the deadline, whenever what it holds changed: a blob
                // that failed to come at first may come later.
                let reported = seat.filter(|(s, _)| s.reported).map(|(_, fetched)| fetched);
                if reported == Some(held) {
                    continue;
                }
                sit_and_report(protocol, validator, address, level, &held)?;
                let revealed = fetched
                    .nodes
                    .iter()
                    .filter(|n| n.status == NodeStatus::Revealed)
                    .count();
                let void = if judgeable {
                    ""
                } else {
                    " (the round cannot be judged)"
                };
                say(
                    cluster,
                    &format!(
                        "round {address}: drawn for committee {level}, seated, fetched {} of {revealed} revealed updates{void}",
                        fetched.blobs.iter().flatten().count(),
                    ),
                );
            }
            None | Some(SeatStatus::Seated)
                if judging && seated && slot < committee.vote_deadline =>
            {
                // A vote sealed by an earlier try is sent again as it is, never replaced: its
                // commitment may have landed unseen, and only its salt opens it.
                let (sealed, judged) = match load_sealed(&sealed_path) {
                    Ok(sealed) => (sealed, "as sealed before"),
                    Err(_) => {
                        let (vote, judged) = match tasks.judgeable(store, &round)? {
                            Some(task) => {
                                let available = committee_availability(protocol, address, level)?;
                                let task = task.view();
                                let vote = judge(protocol, store, address, &task, &available)?.vote;
                                (vote, "on what its majority fetched")
                            }
                            None => {
                                let nodes = joined_nodes(protocol, address, &round)?;
                                let vote = void_verdict(store, address, &round, &nodes)?.2;
                                (vote, "void: the round cannot be judged")
                            }
                        };
                        let sealed = SealedVote {
                            vote,
                            salt: rand::rng().random(),
                        };
                        save_sealed(&sealed_path, &sealed)?;
                        (sealed, judged)
                    }
                };
                let vote = sealed.vote;
                sit_and_seal(protocol, validator, address, level, &sealed)?;
                say(
                    cluster,
                    &format!(
                        "round {address}: committee {level} sealed its vote {judged} ({} accepted, {} excluded, {} slashed)",
                        vote.accepted, vote.excluded, vote.slashed
                    ),
                );
            }
            Some(SeatStatus::Committed)
                if slot >= committee.vote_deadline && slot < committee.reveal_deadline =>
            {
                let sealed = load_sealed(&sealed_path)?;
                reveal(protocol, validator, address, level, &sealed)?;
                say(cluster, &format!("round {address}: revealed its vote"));
            }
            _ => {}
        }
    }
    if step == Some(Step::SettlementOpen) {
        for seat in protocol.round_seats(address)? {
            if seat.validator == key.to_bytes() {
                protocol.settle_seat(validator, address, &key, seat.level)?;
                say(cluster, &format!("round {address}: settled its seat"));
            }
        }
        return Ok(false);
    }
    Ok(true)
}

/// Where a validator keeps a sealed vote until it reveals it.
fn sealed_path(state_dir: &Path, round: &Address, validator: &Address, level: u8) -> PathBuf {
    state_dir
        .join("votes")
        .join(format!("{round}-{validator}-{level}.json"))
}

#[derive(Serialize, serde::Deserialize)]
struct SealedFile {
    vote_hex: String,
    salt_hex: String,
}

/// Saves a sealed vote before it is committed, so a crash cannot lose the salt.
fn save_sealed(path: &Path, sealed: &SealedVote) -> anyhow::Result<()> {
    let file = SealedFile {
        vote_hex: hex::encode(borsh::to_vec(&sealed.vote)?),
        salt_hex: hex::encode(sealed.salt),
    };
    write_private(path, &serde_json::to_vec(&file)?)
}

fn load_sealed(path: &Path) -> anyhow::Result<SealedVote> {
    let bytes = std::fs::read(path).with_context(|| {
        format!(
            "no sealed vote at {} (sealed on another machine?)",
            path.display()
        )
    })?;
    let file: SealedFile = serde_json::from_slice(&bytes)?;
    let vote = borsh::from_slice(&hex::decode(&file.vote_hex).context("vote hex")?)?;
    let salt = hex::decode(&file.salt_hex)
        .ok()
        .and_then(|s| <[u8; 32]>::try_from(s).ok())
        .context("the salt is not 32 hex bytes")?;
    Ok(SealedVote { vote, salt })
}

/// `dpin appeal ROUND`: appeal the finalized verdict within its window.
pub fn run_appeal(round: &str, cluster: &Cluster) -> anyhow::Result<()> {
    let appellant = cluster.signer()?;
    let mut protocol = cluster.protocol()?;
    let address = parse_address(round)?;
    let state = protocol.round(&address)?;
    if state.appeal.filed() {
        bail!("round {address} was already appealed; one level of appeal is final");
    }
    protocol.appeal(&appellant, &address)?;
    let state = protocol.round(&address)?;
    let summary = summarize(&protocol, &address)?;
    cluster.print(&summary, |_| {
        println!(
            "appealed: {} bonded; the appeal's committee ({} seats expected) is drawn from slot {} and reveals by slot {}",
            format_amount(state.appeal.bond, Currency::Sol),
            state.committees[1].expected,
            state.committees[1].draw_slot,
            state.committees[1].reveal_deadline
        )
    })
}

/// `dpin finalize ROUND`: move the round along (draw, finalize, post the leaves, resolve an
/// appeal) until it waits for someone.
pub fn run_finalize(round: &str, cluster: &Cluster) -> anyhow::Result<()> {
    let payer = cluster.signer()?;
    let mut protocol = cluster.protocol()?;
    let store = cluster.store()?;
    let address = parse_address(round)?;
    loop {
        match keeper::advance(&mut protocol, &payer, store.as_ref(), &address)? {
            Step::Waiting { what, until } => {
                say(cluster, &format!("waiting for {what} (slot {until})"));
                break;
            }
            Step::SettlementOpen => {
                say(cluster, "settlement is open: dpin crank settles everyone");
                break;
            }
            Step::Failed(reason) => {
                say(
                    cluster,
                    &format!("the round failed: {reason:?}; everyone is refunded"),
                );
                break;
            }
            Step::Resolved(resolution) => say(
                cluster,
                match resolution {
                    AppealResolution::Confirmed => "the appeal confirmed the verdict",
                    AppealResolution::Overturned => "the appeal overturned the verdict",
                    _ => "the appeal reached no quorum: the round is void",
                },
            ),
            step => say(cluster, &format!("{step:?}")),
        }
    }
    let summary = summarize(&protocol, &address)?;
    cluster.print(&summary, |s| {
        println!(
            "round {} {}: {} accepted, {} excluded, {} slashed, new model {}",
            s.id,
            s.phase,
            s.accepted,
            s.excluded,
            s.slashed,
            s.new_model_cid.as_deref().unwrap_or("-")
        )
    })
}

/// `dpin crank ROUND`: move the round to settlement if it can, then settle everyone and close.
pub fn run_crank(round: &str, cluster: &Cluster) -> anyhow::Result<()> {
    let payer = cluster.signer()?;
    let mut protocol = cluster.protocol()?;
    let store = cluster.store()?;
    let address = parse_address(round)?;
    loop {
        match keeper::advance(&mut protocol, &payer, store.as_ref(), &address)? {
            Step::SettlementOpen => break,
            Step::Waiting { what, until } => {
                say(
                    cluster,
                    &format!("nothing to settle yet: waiting for {what} (slot {until})"),
                );
                return Ok(());
            }
            Step::Stalled { until } => {
                say(
                    cluster,
                    &format!(
                        "the committee reached no quorum: anyone may escalate it (dpin appeal) until slot {until}; after that, crank fails it"
                    ),
                );
                return Ok(());
            }
            Step::Failed(reason) => say(cluster, &format!("the round timed out: {reason:?}")),
            _ => {}
        }
    }
    let left = keeper::settle_everyone(&mut protocol, &payer, &address)?;
    if !left.0.is_empty() {
        bail!(
            "{} could not be settled yet (run crank again later): {}",
            left.0.len(),
            left.0.join("; ")
        );
    }
    say(cluster, "settled everyone and closed the round");
    Ok(())
}
