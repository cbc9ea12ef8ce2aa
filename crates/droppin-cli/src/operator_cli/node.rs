//! `dpin node`: a node's whole round, and claims.

use super::*;

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
