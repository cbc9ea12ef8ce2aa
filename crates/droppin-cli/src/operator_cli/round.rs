//! `dpin round`: open, fund, show, list.

use super::*;

/// `dpin round ...`
#[derive(Subcommand)]
pub enum RoundCommand {
    /// Publish the initial model and open a round, funded by the signer.
    Open(OpenArgs),
    /// Add to a round's pool (fee included), in the round's currency; a third party's unearned
    /// share comes back to it.
    Fund {
        round: String,
        #[command(flatten)]
        amount: Amount,
    },
    /// A round's phase, pool, head counts and models.
    Show { round: String },
    /// Every round on-chain, with its model lineage.
    List,
}

#[derive(Args)]
pub struct OpenArgs {
    /// Expected committee size: the committee is drawn from the validator registry, weighted
    /// by bond; nobody names it.
    #[arg(long, default_value_t = DEFAULT_COMMITTEE_SIZE)]
    committee_size: u8,
    /// SOL paid, the 8% fee included.
    #[arg(long, default_value = "1")]
    fund_sol: String,
    #[arg(long, default_value_t = 8)]
    max_nodes: u32,
    /// Stake of each node, in SOL.
    #[arg(long, default_value = "0.02")]
    stake_sol: String,
    /// $dPIN paid, the fee included: the round pays in $dPIN (once launched), in place of
    /// --fund-sol.
    #[arg(long, conflicts_with = "fund_sol", requires = "stake_dpin")]
    fund_dpin: Option<String>,
    /// Stake of each node in a $dPIN round, in $dPIN.
    #[arg(long, conflicts_with = "stake_sol", requires = "fund_dpin")]
    stake_dpin: Option<String>,
    /// Slots to train and commit (a slot is about 0.4 s); default the protocol's shortest
    /// phase. Give the nodes time for the task's training on their data.
    #[arg(long)]
    training_slots: Option<u64>,
    /// Slots for the nodes' reveals, and as many again for the committee's validation; default
    /// the protocol's shortest phase. Grows with the updates a committee fetches and judges.
    #[arg(long)]
    review_slots: Option<u64>,
    /// The task: a catalog task's name or a manifest file (dpin task list). It is published
    /// to storage and the round pins its CID; the committee's validation set is the one the
    /// task's shipped data gives.
    #[arg(long, default_value = "digits")]
    task: String,
    /// Start from this model CID instead of a fresh one.
    #[arg(long)]
    model_cid: Option<String>,
    /// Seed of a fresh initial model.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// The phase lengths `args` ask for, checked against the protocol's bounds before anything is
/// published or paid.
fn phase_lengths(args: &OpenArgs, params: &ProtocolParams) -> anyhow::Result<PhaseLengths> {
    let lengths = PhaseLengths {
        training: args.training_slots.unwrap_or(params.min_phase_slots),
        review: args.review_slots.unwrap_or(params.min_phase_slots),
    };
    let (training_ok, review_ok) = lengths.allowed(params);
    for (ok, flag, range) in [
        (
            training_ok,
            "--training-slots",
            PhaseLengths::training_range(params),
        ),
        (review_ok, "--review-slots", params.phase_range()),
    ] {
        if !ok {
            bail!(
                "{flag} must be {} to {} on this cluster",
                range.start(),
                range.end()
            );
        }
    }
    Ok(lengths)
}

pub fn run_round(command: RoundCommand, cluster: &Cluster) -> anyhow::Result<()> {
    let mut protocol = cluster.protocol()?;
    match command {
        RoundCommand::Open(args) => {
            let funder = cluster.signer()?;
            let lengths = phase_lengths(&args, &protocol.config()?.params)?;
            let store = cluster.store()?;
            let task = RoundTask::new(load_task(&args.task)?.0)?;
            let validation_set = task.committee_split()?.validation;
            let spec = &task.spec;
            let task_cid = publish_task(store.as_ref(), &task)?;
            let (model_cid, model_hash) = match &args.model_cid {
                Some(text) => {
                    let cid = to_interface(&droppin_storage::parse_cid(text)?)?;
                    load_model(store.as_ref(), spec, &cid, cid.digest())?;
                    (cid, *cid.digest())
                }
                None => publish_model(store.as_ref(), spec, &Weights::initial(spec, args.seed))?,
            };
            let (currency, amount, node_stake) = match (&args.fund_dpin, &args.stake_dpin) {
                (Some(fund), Some(stake)) => (
                    Currency::Dpin,
                    base_units(fund, "--fund-dpin")?,
                    base_units(stake, "--stake-dpin")?,
                ),
                _ => (
                    Currency::Sol,
                    lamports(&args.fund_sol, "--fund-sol")?,
                    lamports(&args.stake_sol, "--stake-sol")?,
                ),
            };
            let (commit, reveal, validation) = lengths.deadlines(protocol.chain.slot()?);
            let round = protocol.open_round(
                &funder,
                OpenRoundArgs {
                    task_cid,
                    model_hash,
                    model_cid,
                    validation_set_hash: validation_set.hash(),
                    max_nodes: args.max_nodes,
                    node_stake,
                    amount,
                    commit,
                    reveal,
                    validation,
                    committee_size: args.committee_size,
                    currency,
                },
            )?;
            let summary = summarize(&protocol, &round)?;
            cluster.print(&summary, |s| {
                println!("opened round {} ({})", s.id, s.address);
                println!(
                    "pool {} after the {} fee; training until slot {}",
                    format_amount(s.pool, currency),
                    format_amount(s.fee, currency),
                    s.commit_deadline
                );
            })
        }
        RoundCommand::Fund { round, amount } => {
            let funder = cluster.signer()?;
            let round = parse_address(&round)?;
            let amount = amount.in_currency(protocol.round(&round)?.currency, "round")?;
            protocol.fund_round(&funder, &round, amount)?;
            let summary = summarize(&protocol, &round)?;
            cluster.print(&summary, |s| {
                println!(
                    "round {}: pool now {}",
                    s.id,
                    format_amount(s.pool, s.currency)
                )
            })
        }
        RoundCommand::Show { round } => {
            let summary = summarize(&protocol, &parse_address(&round)?)?;
            cluster.print(&summary, |s| {
                println!("{}", serde_json::to_string_pretty(s).expect("serializes"))
            })
        }
        RoundCommand::List => {
            let rounds = list_rounds(&protocol)?;
            cluster.print(&rounds, |rounds| {
                println!(
                    "{:>4} {:<12} {:>18} {:>7} {:>8}  model -> new model",
                    "id", "phase", "pool", "nodes", "revealed"
                );
                for r in rounds {
                    println!(
                        "{:>4} {:<12} {:>18} {:>7} {:>8}  {} -> {}",
                        r.id,
                        r.phase,
                        format_amount(r.pool, r.currency),
                        r.nodes_joined,
                        r.nodes_revealed,
                        r.model_cid,
                        r.new_model_cid.as_deref().unwrap_or("-")
                    );
                }
            })
        }
    }
}
