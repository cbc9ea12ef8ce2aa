//! `dpin validate`, `dpin finalize`, `dpin crank`: the committee's work and settlement.

use super::*;

/// `dpin validate ROUND`: stake if needed, wait for the reveals, judge, publish, vote.
pub fn run_validate(round: &str, cluster: &Cluster) -> anyhow::Result<()> {
    let validator = cluster.signer()?;
    let mut protocol = cluster.protocol()?;
    let store = cluster.store()?;
    let round_address = parse_address(round)?;
    let state_address = find::validator(&protocol.program, &round_address, &validator.pubkey());
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
    say(
        cluster,
        &format!(
            "waiting for slot {} (reveals close)",
            round.deadlines.reveal
        ),
    );
    protocol.chain.wait_for_slot(round.deadlines.reveal)?;
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
    let round = protocol.round(&round_address)?;
    if round.status == RoundStatus::Open {
        match protocol.crank_timeout(&payer, &round_address) {
            Ok(_) => say(cluster, "the round timed out: failed, everyone is refunded"),
            Err(ChainError::Program { error, .. }) => {
                say(cluster, &format!("not failed: {error}"));
                return Ok(());
            }
            Err(other) => return Err(other.into()),
        }
    }
    let round = protocol.round(&round_address)?;
    let mut settled = 0;
    for state in protocol.round_nodes(&round_address)? {
        let node = Address::new_from_array(state.node);
        if round.status == RoundStatus::Finalized && state.status == NodeStatus::Revealed {
            let claim = claim_from_list(store.as_ref(), &round_address, &round, &node)?;
            protocol.claim_reward(&payer, &round_address, &claim.cid, claim.leaf, claim.proof)?;
        } else {
            protocol.refund_node(&payer, &round_address, &node, Some(&state.cid))?;
        }
        settled += 1;
    }
    for state in protocol.round_validators(&round_address)? {
        let validator = Address::new_from_array(state.validator);
        protocol.settle_validator(&payer, &round_address, &validator)?;
        settled += 1;
    }
    say(cluster, &format!("settled {settled} participants"));
    protocol.close_round(
        &payer,
        &round_address,
        &Address::new_from_array(round.funder),
    )?;
    say(cluster, "closed the round: rent back to the funder");
    Ok(())
}
