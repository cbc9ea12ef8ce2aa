//! `dpin node`: a node's whole round, and claims.

use std::ops::ControlFlow;

use droppin_node::{
    Snapshot, Step, next_step,
    privacy::{apply_budget, exposure_warning},
    settle::preview_settlement,
    step::Awaited,
};

use droppin_cli::{
    local_training::{Hardware, train_locally},
    operator::serialize_currency,
};
use droppin_client::token;
use droppin_interface::state::Reputation;

use super::*;

/// `dpin node ...`
#[derive(Subcommand)]
pub enum NodeCommand {
    /// A node's whole round: train, stake and commit (one transaction), upload and reveal, wait
    /// for the verdict, claim. Run it again after an interruption: it resumes where the chain says it stopped.
    Run(NodeRunArgs),
    /// Settle the signer's node once settlement is open: its reward, its stake, or its refund.
    Claim { round: String },
}

#[derive(Args)]
pub struct NodeRunArgs {
    round: String,
    /// Train on a shard of the task's shipped training data, as INDEX/COUNT (e.g. 0/8).
    #[arg(long, required_unless_present = "data", conflicts_with = "data")]
    shard: Option<String>,
    /// Train on this file, read by the task's data schema: a CSV with the task's columns, or
    /// a text file.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Where to train: `auto` takes a GPU when this build has one (`--features wgpu`) and an
    /// adapter answers (the fused kernels for the plain MLP, burn's GPU backend for any other
    /// model), else the CPU.
    #[arg(long, value_enum, default_value_t = Hardware::Auto)]
    device: Hardware,
    /// Train with differential privacy (DP-SGD): this round's update is (EPSILON, 1e-5)-private
    /// for every row of the node's data (budgets add up over rounds that train on the same
    /// rows). Smaller is more private and noisier.
    #[arg(long)]
    epsilon: Option<f64>,
}

fn parse_shard(text: &str) -> anyhow::Result<(usize, usize)> {
    text.split_once('/')
        .and_then(|(i, n)| Some((i.parse::<usize>().ok()?, n.parse::<usize>().ok()?)))
        .filter(|(i, n)| i < n)
        .context("--shard takes INDEX/COUNT with INDEX < COUNT")
}

/// The node's own data for `task`: its file, or its demo shard of the task's shipped data.
fn node_data(args: &NodeRunArgs, task: &RoundTask) -> anyhow::Result<droppin_fl::data::Dataset> {
    let name = &task.manifest.name;
    if let Some(path) = &args.data {
        let bytes = std::fs::read(path).with_context(|| path.display().to_string())?;
        return Ok(read_for(
            &task.manifest,
            &bytes,
            &path.display().to_string(),
        )?);
    }
    let (index, count) = parse_shard(args.shard.as_deref().unwrap_or_default())?;
    Ok(task
        .demo_shard(index, count)
        .with_context(|| format!("task `{name}` ships no data: train on yours with --data"))??)
}

/// The task's recipe with a fresh seed, with DP-SGD when the node asked for a privacy budget
/// (and the epsilon it spends).
fn private_recipe(
    args: &NodeRunArgs,
    task: &RoundTask,
    rows: usize,
) -> anyhow::Result<(droppin_fl::train::TrainConfig, Option<f64>)> {
    let mut config = task.recipe(rand::rng().random());
    let spent = args
        .epsilon
        .map(|epsilon| apply_budget(&mut config, epsilon, rows))
        .transpose()?;
    Ok((config, spent))
}

/// Trains by the task's recipe and returns the committed-to-be update and its bytes.
fn train_update(
    args: &NodeRunArgs,
    task: &RoundTask,
    store: &dyn BlobStore,
    round_address: &Address,
    round: &Round,
    cluster: &Cluster,
) -> anyhow::Result<(Commitment, Vec<u8>)> {
    let spec = &task.spec;
    let base = load_model(store, spec, &round.model_cid, &round.model_hash)?;
    let data = node_data(args, task)?;
    say(
        cluster,
        &format!(
            "training task `{}` on {} private samples",
            task.manifest.name,
            data.len()
        ),
    );
    let (config, spent) = private_recipe(args, task, data.len())?;
    if let Some(epsilon) = spent {
        say(
            cluster,
            &format!("differential privacy: epsilon {epsilon:.2} at delta 1e-5"),
        );
    }
    let (trained, engine) = train_locally(args.device, spec, &base, &data, &config)?;
    say(cluster, &format!("trained on {}", engine.describe()));
    let samples = data.len() as u64;
    let bytes = encode_delta(
        spec,
        &base,
        &round_address.to_bytes(),
        trained.delta_from(&base),
        samples,
    );
    let salt = rand::rng().random();
    Ok((Commitment::to(round, &bytes, salt, samples), bytes))
}

pub fn run_node(command: NodeCommand, cluster: &Cluster) -> anyhow::Result<()> {
    let node = cluster.signer()?;
    let mut protocol = cluster.protocol()?;
    let store = cluster.store()?;
    match command {
        NodeCommand::Run(args) => run_round(&args, &mut protocol, store.as_ref(), &node, cluster),
        NodeCommand::Claim { round } => {
            claim(&mut protocol, &node, &parse_address(&round)?, cluster)
        }
    }
}

/// Follows the node's steps ([`next_step`]) until its part in the round is over, reading the
/// chain and its saved commitment before each: run again after an interruption, it resumes. A
/// step that failed because the cluster or the store did not answer is tried again, with
/// pauses, for the cluster's patience: it reads the chain first, so it never acts twice.
fn run_round(
    args: &NodeRunArgs,
    protocol: &mut Protocol<RpcChain>,
    store: &dyn BlobStore,
    node: &Keypair,
    cluster: &Cluster,
) -> anyhow::Result<()> {
    if let Some(shard) = &args.shard {
        parse_shard(shard)?;
    }
    let round_address = parse_address(&args.round)?;
    let mut run = NodeRun {
        saved_file: pending_path(&cluster.state_dir(), &round_address, &node.pubkey()),
        args,
        store,
        node,
        round_address,
        cluster,
        task: None,
    };
    loop {
        let flow = cluster.patience().retry(
            || run.step(protocol),
            |error, pause| cluster.retrying(error, pause),
        )?;
        if flow.is_break() {
            return Ok(());
        }
    }
}

/// One node's run of one round.
struct NodeRun<'a> {
    args: &'a NodeRunArgs,
    store: &'a dyn BlobStore,
    node: &'a Keypair,
    round_address: Address,
    /// Where the node's commitment is saved between its steps.
    saved_file: PathBuf,
    cluster: &'a Cluster,
    /// A round's task never changes: it is fetched and checked against its CID once, when
    /// first needed, so a node restarted to reveal or settle does not depend on storage for it.
    task: Option<RoundTask>,
}

impl NodeRun<'_> {
    /// Reads the chain and the saved commitment, and takes the node's next step; breaks once
    /// the node's part in the round is over.
    fn step(&mut self, protocol: &mut Protocol<RpcChain>) -> anyhow::Result<ControlFlow<()>> {
        let (args, store, node, cluster) = (self.args, self.store, self.node, self.cluster);
        let round_address = self.round_address;
        let saved_file = &self.saved_file;
        let round = protocol.round(&round_address)?;
        let slot = protocol.chain.slot()?;
        let state = node_state(protocol, &round_address, &node.pubkey())?;
        let saved = saved_commitment(saved_file)?;
        let step = next_step(
            Snapshot {
                slot,
                round: &round,
                node: state.as_ref(),
            },
            saved.as_ref().map(|(commitment, _)| commitment),
        );
        match step {
            Step::Join => {
                // Nothing is staked on a round whose task this node cannot train or whose
                // model it cannot fetch: a funder with a missing blob takes nobody's stake.
                let task = round_task(&mut self.task, store, &round)?;
                check_task(args, task, store, &round)?;
                // Trained and saved first: the stake is locked with the commitment, in one
                // transaction, however long training took.
                let (pending, bytes) =
                    train_update(args, task, store, &round_address, &round, cluster)?;
                save_pending(saved_file, &pending, &bytes)?;
                commit(protocol, node, &round_address, &pending, true)?;
                say(cluster, "joined and committed: stake locked");
            }
            Step::TrainAndCommit => {
                // Saved before the commit is sent: if it lands unseen, only this salt reveals.
                let task = round_task(&mut self.task, store, &round)?;
                let (pending, bytes) =
                    train_update(args, task, store, &round_address, &round, cluster)?;
                save_pending(saved_file, &pending, &bytes)?;
                commit(protocol, node, &round_address, &pending, false)?;
                say(cluster, "committed");
            }
            Step::Commit => {
                let (pending, _) = saved.context("the saved commitment vanished")?;
                let joining = state.is_none();
                commit(protocol, node, &round_address, &pending, joining)?;
                say(
                    cluster,
                    if joining {
                        "joined and committed the saved update: stake locked"
                    } else {
                        "committed the saved update"
                    },
                );
            }
            Step::Reveal => {
                let (mut pending, bytes) = saved.context("the saved commitment vanished")?;
                let patience =
                    Patience::before_deadline(round.deadlines.reveal.saturating_sub(slot));
                let uploaded = upload(store, &pending, &bytes, &patience, |error, pause| {
                    cluster.retrying(error, pause)
                });
                reveal(protocol, node, &round_address, &pending)?;
                match &uploaded {
                    Ok(()) => say(cluster, "uploaded and revealed"),
                    Err(error) => say(
                        cluster,
                        &format!(
                            "revealed, but the upload failed ({error:#}): uploading again while the committee fetches"
                        ),
                    ),
                }
                pending.revealed = true;
                pending.uploaded = uploaded.is_ok();
                save_pending(saved_file, &pending, &bytes)?;
            }
            Step::Upload { until } => {
                let (mut pending, bytes) = saved.context("the saved commitment vanished")?;
                let patience = Patience::before_deadline(until.saturating_sub(slot));
                match upload(store, &pending, &bytes, &patience, |error, pause| {
                    cluster.retrying(error, pause)
                }) {
                    Ok(()) => {
                        pending.uploaded = true;
                        save_pending(saved_file, &pending, &bytes)?;
                        say(cluster, "uploaded the revealed update");
                    }
                    // Tried again at the next step while the committee still fetches; once its
                    // reports close, the node waits for the verdict (its update excluded).
                    Err(error) => {
                        say(cluster, &format!("{}: {error:#}", step.describe(slot)));
                        wait_until(protocol, slot + 4, "the next upload try", cluster)?;
                    }
                }
            }
            Step::Wait {
                awaited: Awaited::RevealPhase,
                until,
            } => wait_until(protocol, until, "the reveal phase opens", cluster)?,
            Step::Wait { .. } | Step::Unrevealable => {
                if step == Step::Unrevealable {
                    say(cluster, &step.describe(slot));
                }
                // Anyone may move a round along; a node waiting for its pay does, so it never
                // waits on a particular party.
                droppin_cli::keeper::drive_to_settlement(
                    protocol,
                    node,
                    store,
                    &round_address,
                    |step| {
                        if let droppin_cli::keeper::Step::Waiting { what, until } = step {
                            say(cluster, &format!("waiting for {what} (slot {until})"));
                        }
                    },
                )?;
            }
            Step::FailRound => {
                protocol.crank_timeout(node, &round_address)?;
                say(
                    cluster,
                    "the round timed out: failed it, the stake comes back",
                );
            }
            Step::Settle => {
                claim(protocol, node, &round_address, cluster)?;
                if let Some((mut pending, bytes)) = saved {
                    pending.settled = true;
                    save_pending(saved_file, &pending, &bytes)?;
                }
                return Ok(ControlFlow::Break(()));
            }
            Step::Done => {
                say(cluster, &step.describe(slot));
                return Ok(ControlFlow::Break(()));
            }
            Step::Closed => bail!(
                "training closes at slot {} and it is slot {slot}: too late to join this round",
                round.deadlines.commit
            ),
        }
        Ok(ControlFlow::Continue(()))
    }
}

/// The round's task, fetched and checked against its CID the first time it is asked for.
fn round_task<'t>(
    cached: &'t mut Option<RoundTask>,
    store: &dyn BlobStore,
    round: &Round,
) -> anyhow::Result<&'t RoundTask> {
    match cached {
        Some(task) => Ok(task),
        None => Ok(cached.insert(
            fetch_task(store, &round.task_cid)
                .context("the round's task is not available: not staking")?,
        )),
    }
}

/// The round's task must be one a committee can judge, that this node can train, on data it
/// holds, from a model it can fetch.
fn check_task(
    args: &NodeRunArgs,
    task: &RoundTask,
    store: &dyn BlobStore,
    round: &Round,
) -> anyhow::Result<()> {
    task.judged_split(round).context("not staking")?;
    let data = node_data(args, task).context("not staking")?;
    let (config, _) = private_recipe(args, task, data.len()).context("not staking")?;
    if let Some(warning) = exposure_warning(&config, data.len(), args.data.is_some()) {
        eprintln!("warning: {warning} (--epsilon)");
    }
    load_model(store, &task.spec, &round.model_cid, &round.model_hash)
        .context("the round's starting model is not available: not staking")?;
    Ok(())
}

/// What a settlement paid.
#[derive(Serialize)]
struct Settled {
    node: String,
    outcome: String,
    weight_bps: u16,
    /// The round's currency, in which `received` is counted (its base units).
    #[serde(serialize_with = "serialize_currency")]
    currency: Currency,
    /// What the node's holding in that currency grew by: its stake and reward (in SOL, net of
    /// the transaction's fee and with its account's rent).
    received: u64,
    /// In a $dPIN round, what the wallet's SOL grew by: the rent of the node's account, which
    /// the claim closes, net of the transaction's fee and of a token account it had to create
    /// (in SOL rounds it is in `received`).
    #[serde(skip_serializing_if = "Option::is_none")]
    rent_refund_lamports: Option<u64>,
}

/// What `node` holds in `currency`: its lamports, or the $dPIN in its wallet's token account.
fn holding(
    protocol: &Protocol<RpcChain>,
    currency: Currency,
    node: &Address,
) -> anyhow::Result<u64> {
    Ok(match currency {
        Currency::Sol => protocol.chain.balance(node)?,
        Currency::Dpin => {
            let account = token::wallet_account(node, &protocol.dpin_mint()?);
            token::balance(&protocol.chain, &account)?.unwrap_or(0)
        }
    })
}

fn claim(
    protocol: &mut Protocol<RpcChain>,
    payer: &Keypair,
    round_address: &Address,
    cluster: &Cluster,
) -> anyhow::Result<()> {
    let node = payer.pubkey();
    let Some(state) = node_state(protocol, round_address, &node)? else {
        bail!(
            "nothing to claim: {node} holds no state in round {round_address} (already settled?)"
        );
    };
    let round = protocol.round(round_address)?;
    let leaf = match round.status {
        RoundStatus::Open => bail!("the round is not settled yet: claim after the verdict"),
        RoundStatus::Failed => None,
        RoundStatus::Finalized => {
            match protocol.verdict_leaves(round_address, round.outcome.level)? {
                Some((header, data)) => header.leaf(&data, state.index),
                None => bail!("the verdict's leaves are not posted yet"),
            }
        }
    };
    let reputation = protocol
        .state::<Reputation>(&find::reputation(&protocol.program, &node))?
        .unwrap_or_default();
    let slot = protocol.chain.slot()?;
    let preview = preview_settlement(&round, &state, &reputation, leaf, slot)
        .map_err(|error| anyhow::anyhow!("cannot settle yet: {error}"))?;
    let before = holding(protocol, round.currency, &node)?;
    // In a SOL round the lamports are the holding, read above.
    let lamports_before = match round.currency {
        Currency::Sol => None,
        Currency::Dpin => Some(protocol.chain.balance(&node)?),
    };
    protocol.settle_node(payer, round_address, &node)?;
    let rent_refund_lamports = match lamports_before {
        Some(before) => Some(protocol.chain.balance(&node)?.saturating_sub(before)),
        None => None,
    };
    let settled = Settled {
        node: node.to_string(),
        outcome: preview.outcome.to_string(),
        weight_bps: preview.weight_bps,
        currency: round.currency,
        received: holding(protocol, round.currency, &node)?.saturating_sub(before),
        rent_refund_lamports,
    };
    cluster.print(&settled, |s| {
        let rent = s.rent_refund_lamports.map_or(String::new(), |rent| {
            format!(
                ", and {} of its account's rent",
                format_amount(rent, Currency::Sol)
            )
        });
        println!(
            "{}: {} ({:.2}%), received {}{rent}",
            s.node,
            s.outcome,
            f64::from(s.weight_bps) / 100.0,
            format_amount(s.received, s.currency)
        )
    })
}
