//! `dpin model export`.

use super::*;

/// `dpin model export`
#[derive(Args)]
pub struct ExportArgs {
    /// The round whose shipped model (or, before finalization, starting model) to export.
    #[arg(long, conflicts_with = "cid")]
    round: Option<String>,
    /// A model CID.
    #[arg(long, requires = "task")]
    cid: Option<String>,
    /// The task the model of --cid trains (a catalog name or a manifest file).
    #[arg(long)]
    task: Option<String>,
    /// Output file.
    #[arg(long, default_value = "model.safetensors")]
    out: PathBuf,
}

pub fn run_export(args: ExportArgs, cluster: &Cluster) -> anyhow::Result<()> {
    let store = cluster.store()?;
    let (task, cid) = match (&args.round, &args.cid, &args.task) {
        (Some(round), None, _) => {
            let protocol = cluster.protocol()?;
            let round = protocol.round(&parse_address(round)?)?;
            let task = fetch_task(store.as_ref(), &round.task_cid)?;
            if round.status == RoundStatus::Finalized {
                (task, round.outcome.vote.new_model_cid)
            } else {
                (task, round.model_cid)
            }
        }
        (None, Some(text), Some(task)) => (
            RoundTask::new(load_task(task)?.0)?,
            to_interface(&droppin_storage::parse_cid(text)?)?,
        ),
        _ => bail!("give --round, or --cid with --task"),
    };
    let weights = load_model(store.as_ref(), &task.spec, &cid, cid.digest())?;
    std::fs::write(&args.out, export_safetensors(&task.spec, &weights)?)
        .with_context(|| format!("writing {}", args.out.display()))?;
    say(cluster, &format!("wrote {}", args.out.display()));
    Ok(())
}
