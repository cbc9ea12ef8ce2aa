//! Operators' commands against a cluster over JSON-RPC: rounds, nodes, validators, settlement,
//! models. Every command can be run again safely: it checks the chain first and says what
//! already happened instead of failing halfway.

mod committee;
mod model;
mod node;
mod round;
mod task;
mod treasury;
mod validator;

pub use committee::{run_appeal, run_crank, run_finalize, run_validate};
pub use model::{ExportArgs, run_export};
pub use node::{NodeCommand, run_node};
pub use round::{RoundCommand, run_round};
pub use task::{TaskCommand, load_task, run_task};
pub use treasury::{TreasuryCommand, run_treasury};
pub use validator::{ValidatorCommand, run_validator};

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use droppin_cli::{
    node::{Commitment, commit, encode_delta, reveal, upload},
    operator::{
        list_rounds, pending_path, save_pending, saved_commitment, summarize, write_private,
    },
    patience::Patience,
    validator::{fetch_task, judge, load_model, publish_model, publish_task},
};
use droppin_client::{Chain, Protocol, RpcChain, default_keypair_path, read_keypair};
use droppin_fl::{data::read_for, model::Weights, update::export_safetensors};
use droppin_interface::{
    instruction::{DEFAULT_COMMITTEE_SIZE, OpenRoundArgs, PhaseLengths},
    pda::find,
    state::{Currency, NodeState, NodeStatus, ProtocolParams, Round, RoundStatus},
};
use droppin_node::{
    RoundTask,
    money::{exact_amount, format_amount, parse_amount, unit_name},
};
use droppin_storage::{BlobStore, Limits, open, to_interface};
use rand::Rng;
use serde::Serialize;
use solana_address::Address;
use solana_keypair::Keypair;
use solana_signer::Signer;

/// An amount in SOL or in $dPIN: exactly one of the two flags.
#[derive(Args)]
#[command(group(clap::ArgGroup::new("amount").required(true).args(["sol", "dpin"])))]
pub struct Amount {
    /// SOL.
    #[arg(long)]
    sol: Option<String>,
    /// $dPIN, whole tokens (once $dPIN is launched).
    #[arg(long)]
    dpin: Option<String>,
}

impl Amount {
    /// The currency and the amount in its base units.
    fn parse(&self) -> anyhow::Result<(Currency, u64)> {
        match (&self.sol, &self.dpin) {
            (Some(sol), _) => Ok((Currency::Sol, lamports(sol, "--sol")?)),
            (None, Some(dpin)) => Ok((Currency::Dpin, base_units(dpin, "--dpin")?)),
            (None, None) => bail!("give --sol or --dpin"),
        }
    }

    /// The amount in base units of `currency`, that of the `holder` (a bond, a round) it moves
    /// into or out of: an amount in the other currency is refused, never converted.
    fn in_currency(&self, currency: Currency, holder: &str) -> anyhow::Result<u64> {
        let (given, amount) = self.parse()?;
        if given != currency {
            let flag = match currency {
                Currency::Sol => "sol",
                Currency::Dpin => "dpin",
            };
            bail!(
                "this {holder} is held in {}: give the amount with --{flag}",
                unit_name(currency)
            );
        }
        Ok(amount)
    }
}

/// An amount exactly, with its unit (`0.000000001 SOL`): what a user may type back.
fn exact(base_units: u64, currency: Currency) -> String {
    format!(
        "{} {}",
        exact_amount(base_units, currency),
        unit_name(currency)
    )
}

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
    /// How long a node or a validator keeps trying a step again while the cluster or the
    /// storage does not answer, in seconds of pauses (doubling from 1 s to 30 s, plus jitter).
    #[arg(long, global = true, default_value_t = 600, value_name = "SECONDS")]
    patience: u64,
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

    fn patience(&self) -> Patience {
        Patience::lasting(Duration::from_secs(self.patience))
    }

    /// Says that a step failed for now and when it is tried again (on standard error, so that
    /// `--json` output stays one document).
    fn retrying(&self, error: &anyhow::Error, pause: Duration) {
        eprintln!("{error:#}; trying again in {:.1} s", pause.as_secs_f64());
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

/// A typed amount of SOL (`what` names its flag) in lamports.
fn lamports(sol: &str, what: &str) -> anyhow::Result<u64> {
    Ok(parse_amount(sol, Currency::Sol, what)?)
}

/// A typed amount of whole $dPIN (`what` names its flag) in base units.
fn base_units(whole: &str, what: &str) -> anyhow::Result<u64> {
    Ok(parse_amount(whole, Currency::Dpin, what)?)
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

/// Waits for `slot` with a spinner saying why (none with `--json`).
fn wait_until(
    protocol: &mut Protocol<RpcChain>,
    slot: u64,
    why: &str,
    cluster: &Cluster,
) -> anyhow::Result<()> {
    let spinner = if cluster.json {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new_spinner()
    };
    spinner.set_message(format!("waiting for slot {slot}: {why}"));
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    let result = protocol.chain.wait_for_slot(slot);
    spinner.finish_and_clear();
    Ok(result?)
}
