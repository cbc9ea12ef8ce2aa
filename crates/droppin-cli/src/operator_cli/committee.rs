//! `dpin validate`, `dpin finalize`, `dpin crank`: the committee's work and settlement.

use super::{node, *};

/// `dpin validate ROUND`: stake if needed, wait for the reveals, judge, publish, vote.
pub fn run_validate(round: &str, cluster: &Cluster) -> anyhow::Result<()> {
    let validator = cluster.signer()?;
    let mut protocol = cluster.protocol()?;
    let store = cluster.store()?;
    let round_address = parse_address(round)?;
    let state_address = find::validator(&protocol.program, &round_address, &validator.pubkey());
    if !store.writable() {
        bail!(
            "{} is read-only: a validator publishes the new model and the verdict list (use kubo+URL)",
            store.location()
        );
    }
    if protocol.state::<ValidatorState>(&state_address)?.is_none() {
        protocol.join_committee(&validator, &round_address)?;
        say(cluster, "joined the committee: stake locked");
    }
    if protocol
        .state::<ValidatorState>(&state_address)?
        .is_some_and(|s| s.voted)
    {
        say(cluster, "already voted");
        return Ok(());
    }
    let round: Round = protocol.round(&round_address)?;
    wait_until(
        &mut protocol,
        round.deadlines.reveal,
        "the reveals close",
        cluster,
    )?;
    let judgement = judge(
        &protocol,
        store.as_ref(),
        &round_address,
        &ModelSpec::digits_mlp(),
        &digits()?.validation,
        &ValidatorConfig::default(),
    )?;
    protocol.submit_verdict(&validator, &round_address, judgement.vote)?;
    cluster.print(&judgement.vote.accepted_count, |_| {
        println!(
            "voted: {} accepted, {} slashed, new model {}",
            judgement.vote.accepted_count,
            judgement.vote.slashed_count,
            droppin_storage::from_interface(&judgement.vote.new_model_cid)
                .map(|c| c.to_string())
                .unwrap_or_default()
        )
    })
}

/// `dpin finalize ROUND`: pin the leading verdict.
pub fn run_finalize(round: &str, cluster: &Cluster) -> anyhow::Result<()> {
    let payer = cluster.signer()?;
    let mut protocol = cluster.protocol()?;
    let round_address = parse_address(round)?;
    if protocol.round(&round_address)?.status != RoundStatus::Open {
        say(cluster, "already finalized or failed");
        return Ok(());
    }
    let voter = leading_voter(&protocol, &round_address)?;
    protocol.finalize_round(&payer, &round_address, &voter)?;
    let summary = summarize(&protocol, &round_address)?;
    cluster.print(&summary, |s| {
        println!(
            "finalized: {} accepted, {} slashed, new model {}",
            s.accepted,
            s.slashed,
            s.new_model_cid.as_deref().unwrap_or("-")
        )
    })
}

/// `dpin crank ROUND`: fail a timed-out round, then settle and close whatever can be.
pub fn run_crank(round: &str, cluster: &Cluster) -> anyhow::Result<()> {
    let payer = cluster.signer()?;
    let mut protocol = cluster.protocol()?;
    let store = cluster.store()?;
    let round_address = parse_address(round)?;
    if protocol.round(&round_address)?.status == RoundStatus::Open {
        // A verdict with a quorum is pinned first; only without one does the round fail.
        let finalized = leading_voter(&protocol, &round_address)
            .ok()
            .and_then(|voter| protocol.finalize_round(&payer, &round_address, &voter).ok());
        if finalized.is_some() {
            say(cluster, "finalized the leading verdict");
        } else {
            match protocol.crank_timeout(&payer, &round_address) {
                Ok(_) => say(cluster, "the round timed out: failed, everyone is refunded"),
                Err(ChainError::Program { error, .. }) => {
                    say(cluster, &format!("nothing to crank yet: {error}"));
                    return Ok(());
                }
                Err(other) => return Err(other.into()),
            }
        }
    }
    let round = protocol.round(&round_address)?;
    // Each participant is settled on its own: one that cannot be settled yet does not stop
    // the others, and is reported.
    let mut settled = 0;
    let mut left = Vec::new();
    for state in protocol.round_nodes(&round_address)? {
        let node = Address::new_from_array(state.node);
        match node::settle_node(
            &mut protocol,
            store.as_ref(),
            &payer,
            &round_address,
            &round,
            &state,
        ) {
            Ok(_) => settled += 1,
            Err(error) => left.push(format!("node {node}: {error:#}")),
        }
    }
    for state in protocol.round_validators(&round_address)? {
        let validator = Address::new_from_array(state.validator);
        match protocol.settle_validator(&payer, &round_address, &validator) {
            Ok(_) => settled += 1,
            Err(error) => left.push(format!("validator {validator}: {error}")),
        }
    }
    say(cluster, &format!("settled {settled} participants"));
    if !left.is_empty() {
        bail!(
            "{} participants could not be settled yet (run crank again later): {}",
            left.len(),
            left.join("; ")
        );
    }
    protocol.close_round(
        &payer,
        &round_address,
        &Address::new_from_array(round.funder),
    )?;
    say(cluster, "closed the round: rent back to the funder");
    Ok(())
}
