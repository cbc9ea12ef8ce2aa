//! Operators' commands against a cluster over JSON-RPC: rounds, nodes, validators, settlement,
//! models. Every command can be run again safely: it checks the chain first and says what
//! already happened instead of failing halfway.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use droppin_cli::{
    demo::dataset_hash,
    node::{Pending, encode_delta, reveal},
    operator::{leading_voter, list_rounds, load_pending, pending_path, save_pending, summarize},
    validator::{claim_from_list, judge, load_model, publish_model},
};
use droppin_client::{Chain, ChainError, Protocol, RpcChain, default_keypair_path, read_keypair};
use droppin_fl::{
    data::{Partition, digits, partition},
    model::{ModelSpec, Weights},
    train::{TrainConfig, train},
    update::export_safetensors,
    validate::ValidatorConfig,
};
use droppin_interface::{
    LAMPORTS_PER_SOL,
    hash::{Sha256, commitment},
    instruction::{DEFAULT_QUORUM_BPS, OpenRoundArgs},
    pda::find,
    state::{Deadlines, NodeState, NodeStatus, Round, RoundStatus, ValidatorState},
};
use droppin_storage::{BlobStore, Limits, open, to_interface};
use rand::Rng;
use serde::Serialize;
use solana_address::Address;
use solana_keypair::Keypair;
use solana_signer::Signer;

/// Where the cluster, the signer and the storage are.
#[derive(Args)]
pub struct Cluster {
    /// JSON-RPC URL of the cluster.
    #[arg(long, global = true, default_value = "http://127.0.0.1:8899")]
    url: String,
    /// Signer keypair (Solana CLI format); default ~/.config/solana/id.json.
    #[arg(long, global = true)]
    keypair: Option<PathBuf>,
    /// Blob storage: kubo+http://host:port (IPFS node or dpin localnet gateway), an https
    /// trustless gateway (read-only), or a directory.
    #[arg(long, global = true, default_value = "kubo+http://127.0.0.1:8080")]
    storage: String,
    /// Where nodes keep their commitments' salts between commit and reveal.
    #[arg(long, global = true)]
    state_dir: Option<PathBuf>,
    /// Print JSON.
    #[arg(long, global = true)]
    json: bool,
}

impl Cluster {
    fn protocol(&self) -> anyhow::Result<Protocol<RpcChain>> {
        Ok(Protocol::new(RpcChain::connect(&self.url)?))
    }

    fn signer(&self) -> anyhow::Result<Keypair> {
        let path = self.keypair.clone().unwrap_or_else(default_keypair_path);
        Ok(read_keypair(&path)?)
    }

    fn store(&self) -> anyhow::Result<Box<dyn BlobStore>> {
        Ok(open(&self.storage, Limits::default())?)
    }

    fn state_dir(&self) -> PathBuf {
        self.state_dir.clone().unwrap_or_else(|| {
            default_keypair_path()
                .parent()
                .and_then(|p| p.parent())
                .map_or_else(|| PathBuf::from(".droppin"), |c| c.join("droppin"))
        })
    }

    fn print<T: Serialize>(&self, value: &T, text: impl FnOnce(&T)) -> anyhow::Result<()> {
        if self.json {
            println!("{}", serde_json::to_string(value)?);
        } else {
            text(value);
        }
        Ok(())
    }
}

fn parse_address(text: &str) -> anyhow::Result<Address> {
    text.parse()
        .map_err(|_| anyhow::anyhow!("{text:?} is not a base-58 address"))
}

fn lamports(sol: f64, what: &str) -> anyhow::Result<u64> {
    if !(sol.is_finite() && sol > 0.0) {
        bail!("{what} must be a positive amount of SOL");
    }
    Ok((sol * LAMPORTS_PER_SOL as f64).round() as u64)
}

/// `dpin round ...`
#[derive(Subcommand)]
pub enum RoundCommand {
    /// Publish the initial model and open a round, funded by the signer.
    Open(OpenArgs),
    /// Add SOL (fee included) to a round's pool.
    Fund {
        round: String,
        #[arg(long)]
        sol: f64,
    },
    /// A round's phase, pool, head counts and models.
    Show { round: String },
    /// Every round on-chain, with its model lineage.
    List,
}

#[derive(Args)]
pub struct OpenArgs {
    /// Committee members' addresses, comma-separated (1 to 8).
    #[arg(long, value_delimiter = ',', required = true)]
    committee: Vec<String>,
    /// SOL paid, the 8% fee included.
    #[arg(long, default_value_t = 1.0)]
    fund_sol: f64,
    #[arg(long, default_value_t = 8)]
    max_nodes: u32,
    /// Stake of each node and validator, in SOL.
    #[arg(long, default_value_t = 0.02)]
    stake_sol: f64,
    /// Slots per phase (commit, reveal, validation).
    #[arg(long, default_value_t = 100)]
    phase_slots: u64,
    /// Start from this model CID instead of a fresh one.
    #[arg(long)]
    model_cid: Option<String>,
    /// Seed of a fresh initial model.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

pub fn run_round(command: RoundCommand, cluster: &Cluster) -> anyhow::Result<()> {
    let mut protocol = cluster.protocol()?;
    match command {
        RoundCommand::Open(args) => {
            let funder = cluster.signer()?;
            let store = cluster.store()?;
            let spec = ModelSpec::digits_mlp();
            let (model_cid, model_hash) = match &args.model_cid {
                Some(text) => {
                    let cid = to_interface(&droppin_storage::parse_cid(text)?)?;
                    load_model(store.as_ref(), &spec, &cid, cid.digest())?;
                    (cid, *cid.digest())
                }
                None => publish_model(store.as_ref(), &spec, &Weights::initial(&spec, args.seed))?,
            };
            let committee = args
                .committee
                .iter()
                .map(|k| parse_address(k).map(|a| a.to_bytes()))
                .collect::<anyhow::Result<_>>()?;
            let slot = protocol.chain.slot()?;
            let round = protocol.open_round(
                &funder,
                OpenRoundArgs {
                    task_hash: spec.hash(),
                    model_hash,
                    model_cid,
                    validation_set_hash: dataset_hash(&digits()?.validation),
                    max_nodes: args.max_nodes,
                    node_stake: lamports(args.stake_sol, "--stake-sol")?,
                    validator_stake: lamports(args.stake_sol, "--stake-sol")?,
                    amount: lamports(args.fund_sol, "--fund-sol")?,
                    deadlines: Deadlines {
                        commit: slot + args.phase_slots,
                        reveal: slot + 2 * args.phase_slots,
                        validation: slot + 3 * args.phase_slots,
                    },
                    committee,
                    quorum_bps: DEFAULT_QUORUM_BPS,
                },
            )?;
            let summary = summarize(&protocol, &round)?;
            cluster.print(&summary, |s| {
                println!("opened round {} ({})", s.id, s.address);
                println!(
                    "pool {} SOL after the {} SOL fee; training until slot {}",
                    s.pool_lamports as f64 / LAMPORTS_PER_SOL as f64,
                    s.fee_lamports as f64 / LAMPORTS_PER_SOL as f64,
                    s.commit_deadline
                );
            })
        }
        RoundCommand::Fund { round, sol } => {
            let funder = cluster.signer()?;
            let round = parse_address(&round)?;
            protocol.fund_round(&funder, &round, lamports(sol, "--sol")?)?;
            let summary = summarize(&protocol, &round)?;
            cluster.print(&summary, |s| {
                println!(
                    "round {}: pool now {} SOL",
                    s.id,
                    s.pool_lamports as f64 / LAMPORTS_PER_SOL as f64
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
                    "{:>4} {:<12} {:>12} {:>7} {:>8}  model -> new model",
                    "id", "phase", "pool SOL", "nodes", "revealed"
                );
                for r in rounds {
                    println!(
                        "{:>4} {:<12} {:>12.6} {:>7} {:>8}  {} -> {}",
                        r.id,
                        r.phase,
                        r.pool_lamports as f64 / LAMPORTS_PER_SOL as f64,
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

/// `dpin node ...`
#[derive(Subcommand)]
pub enum NodeCommand {
    /// A node's whole round: stake, train, upload, commit, reveal, wait for the verdict, claim.
    /// Run it again after an interruption: it resumes where the chain says it stopped.
    Run(NodeRunArgs),
    /// Claim a node's reward (or refund) in a finalized round.
    Claim { round: String },
}

#[derive(Args)]
pub struct NodeRunArgs {
    round: String,
    /// Which shard of the shipped digits to train on, as INDEX/COUNT (e.g. 0/8).
    #[arg(long, default_value = "0/8")]
    shard: String,
    /// Local epochs.
    #[arg(long, default_value_t = 5)]
    epochs: usize,
}

fn node_state<C: Chain>(
    protocol: &Protocol<C>,
    round: &Address,
    node: &Address,
) -> anyhow::Result<Option<NodeState>> {
    Ok(protocol.state(&find::node(&protocol.program, round, node))?)
}

fn say(cluster: &Cluster, message: &str) {
    if !cluster.json {
        println!("{message}");
    }
}

pub fn run_node(command: NodeCommand, cluster: &Cluster) -> anyhow::Result<()> {
    let node = cluster.signer()?;
    let mut protocol = cluster.protocol()?;
    let store = cluster.store()?;
    let address = node.pubkey();
    match command {
        NodeCommand::Run(args) => {
            let round_address = parse_address(&args.round)?;
            let round = protocol.round(&round_address)?;
            let pending_file = pending_path(&cluster.state_dir(), &round_address, &address);
            match node_state(&protocol, &round_address, &address)? {
                Some(_) => say(cluster, "already joined"),
                None => {
                    protocol.join_round(&node, &round_address)?;
                    say(cluster, "joined: stake locked");
                }
            }
            let state = node_state(&protocol, &round_address, &address)?
                .context("the node state vanished: the round was settled")?;
            let pending = if state.status == NodeStatus::Joined {
                let spec = ModelSpec::digits_mlp();
                let base = load_model(store.as_ref(), &spec, &round.model_cid, &round.model_hash)?;
                let (index, count) = args
                    .shard
                    .split_once('/')
                    .and_then(|(i, n)| Some((i.parse::<usize>().ok()?, n.parse::<usize>().ok()?)))
                    .filter(|(i, n)| i < n)
                    .context("--shard takes INDEX/COUNT with INDEX < COUNT")?;
                let data = digits()?;
                let shard = data
                    .train
                    .subset(&partition(&data.train, count, Partition::Iid, 7)?[index]);
                say(
                    cluster,
                    &format!("training on {} private samples", shard.len()),
                );
                let config = TrainConfig {
                    epochs: args.epochs,
                    learning_rate: 0.005,
                    seed: rand::rng().random(),
                    ..TrainConfig::default()
                };
                let device = droppin_fl::device::device("cpu")?;
                let trained = train(&spec, &base, &shard, &config, &device, |_| {})?;
                let bytes =
                    encode_delta(&spec, &base, trained.delta_from(&base), shard.len() as u64);
                let cid = to_interface(&store.put(&bytes).context("uploading the update")?)?;
                let pending = Pending {
                    cid,
                    salt: rand::rng().random(),
                    samples: shard.len() as u64,
                };
                save_pending(&pending_file, &pending)?;
                let hash = commitment::<Sha256>(&address.to_bytes(), &cid, &pending.salt);
                protocol.commit_update(&node, &round_address, hash)?;
                say(
                    cluster,
                    &format!("committed {}", droppin_storage::from_interface(&cid)?),
                );
                pending
            } else {
                say(cluster, "already committed");
                load_pending(&pending_file)?
            };
            if state.status != NodeStatus::Revealed {
                say(
                    cluster,
                    &format!("waiting for slot {} to reveal", round.deadlines.commit),
                );
                protocol.chain.wait_for_slot(round.deadlines.commit)?;
                reveal(&mut protocol, &node, &round_address, &pending)?;
                say(cluster, "revealed");
            } else {
                say(cluster, "already revealed");
            }
            say(cluster, "waiting for the committee's verdict");
            loop {
                let now = protocol.round(&round_address)?;
                if now.status != RoundStatus::Open {
                    break;
                }
                let slot = protocol.chain.slot()?;
                protocol.chain.wait_for_slot(slot + 8)?;
            }
            claim(
                &mut protocol,
                store.as_ref(),
                &node,
                &round_address,
                cluster,
            )
        }
        NodeCommand::Claim { round } => claim(
            &mut protocol,
            store.as_ref(),
            &node,
            &parse_address(&round)?,
            cluster,
        ),
    }
}

/// What a settlement paid.
#[derive(Serialize)]
struct Settled {
    node: String,
    verdict: String,
    weight_bps: u16,
    received_lamports: u64,
}

fn claim(
    protocol: &mut Protocol<RpcChain>,
    store: &dyn BlobStore,
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
    let before = protocol.chain.balance(&node)?;
    let (verdict, weight_bps) = match round.status {
        RoundStatus::Finalized if state.status == NodeStatus::Revealed => {
            let claim = claim_from_list(store, round_address, &round, &node)?;
            protocol.claim_reward(payer, round_address, &claim.cid, claim.leaf, claim.proof)?;
            (
                format!("{:?}", claim.leaf.verdict).to_lowercase(),
                claim.leaf.weight_bps,
            )
        }
        RoundStatus::Open => bail!("the round is not finalized yet: claim after the verdict"),
        _ => {
            protocol.refund_node(payer, round_address, &node, Some(&state.cid))?;
            ("refunded".into(), 0)
        }
    };
    let settled = Settled {
        node: node.to_string(),
        verdict,
        weight_bps,
        received_lamports: protocol.chain.balance(&node)?.saturating_sub(before),
    };
    cluster.print(&settled, |s| {
        println!(
            "{}: {} ({:.2}%), received {} SOL",
            s.node,
            s.verdict,
            f64::from(s.weight_bps) / 100.0,
            s.received_lamports as f64 / LAMPORTS_PER_SOL as f64
        )
    })
}

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

/// `dpin model export`
#[derive(Args)]
pub struct ExportArgs {
    /// The round whose shipped model (or, before finalization, starting model) to export.
    #[arg(long, conflicts_with = "cid")]
    round: Option<String>,
    /// A model CID.
    #[arg(long)]
    cid: Option<String>,
    /// Output file.
    #[arg(long, default_value = "model.safetensors")]
    out: PathBuf,
}

pub fn run_export(args: ExportArgs, cluster: &Cluster) -> anyhow::Result<()> {
    let store = cluster.store()?;
    let spec = ModelSpec::digits_mlp();
    let cid = match (&args.round, &args.cid) {
        (Some(round), None) => {
            let protocol = cluster.protocol()?;
            let round = protocol.round(&parse_address(round)?)?;
            if round.status == RoundStatus::Finalized {
                round.outcome.new_model_cid
            } else {
                round.model_cid
            }
        }
        (None, Some(text)) => to_interface(&droppin_storage::parse_cid(text)?)?,
        _ => bail!("give --round or --cid"),
    };
    let weights = load_model(store.as_ref(), &spec, &cid, cid.digest())?;
    std::fs::write(&args.out, export_safetensors(&spec, &weights)?)
        .with_context(|| format!("writing {}", args.out.display()))?;
    say(cluster, &format!("wrote {}", args.out.display()));
    Ok(())
}
