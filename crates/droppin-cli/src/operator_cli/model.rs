//! `dpin model export`.

use super::*;

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
                round.outcome.vote.new_model_cid
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
