//! `dpin`: the dropPIN command line.

mod demo_cli;
mod localnet_cli;
mod operator_cli;
mod scenario_args;
mod sim;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "dpin",
    version,
    about = "dropPIN: train together, share nothing"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    cluster: operator_cli::Cluster,
}

#[derive(Subcommand)]
enum Command {
    /// Run complete rounds on the embedded chain: stake, train, commit, reveal, validate, pay.
    Demo(demo_cli::DemoArgs),
    /// Start a local network: JSON-RPC with the program deployed, the storage gateway, the web app.
    Localnet(localnet_cli::LocalnetArgs),
    /// Create a keypair file (Solana CLI format); never overwrites one.
    Keygen {
        /// Where to write it; default the Solana CLI's path.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// The task catalog, and writing, checking and explaining task manifests.
    #[command(subcommand)]
    Task(operator_cli::TaskCommand),
    /// Open, fund, show and list rounds.
    #[command(subcommand)]
    Round(operator_cli::RoundCommand),
    /// Run a node through a round, or claim.
    #[command(subcommand)]
    Node(operator_cli::NodeCommand),
    /// Register, top up, unbond and withdraw a validator's bond.
    #[command(subcommand)]
    Validator(operator_cli::ValidatorCommand),
    /// Serve as a validator: watch the rounds, take the seats this validator is drawn for,
    /// report which updates it fetched, judge the set its committee's majority fetched, seal
    /// and reveal votes, settle. With ROUND, serve that round only.
    Validate {
        round: Option<String>,
        /// Do one pass over the rounds instead of watching.
        #[arg(long)]
        once: bool,
        /// Another validator's store (a gateway URL, `kubo+URL` or a directory) to fetch the
        /// updates from that this validator's own store lacks; what is found there is kept in
        /// the own store and served in turn. Repeatable.
        #[arg(long = "peer", value_name = "STORE")]
        peers: Vec<String>,
    },
    /// Appeal a finalized verdict within its window (bonds one seat's lock).
    Appeal { round: String },
    /// Move a round along: draw, finalize, post the verdict's leaves, resolve an appeal.
    Finalize { round: String },
    /// Fail a timed-out round, settle everyone, close it.
    Crank { round: String },
    /// The $dPIN launch, the treasury's buy-and-burn and SOL -> $dPIN batches.
    #[command(subcommand)]
    Treasury(operator_cli::TreasuryCommand),
    /// Export a global model as safetensors.
    #[command(subcommand)]
    Model(ModelCommand),
    /// Print the program's IDL (Codama format): what explorers decode instructions and accounts
    /// with, and what Codama renders clients from (see "Build on dropPIN" in the README).
    Idl,
    /// Simulate federated rounds with malicious nodes and report what the defences caught.
    Sim(sim::SimArgs),
}

#[derive(Subcommand)]
enum ModelCommand {
    /// Write a round's model (or any model CID) as safetensors.
    Export(operator_cli::ExportArgs),
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => demo_cli::run_demo(args),
        Command::Localnet(args) => localnet_cli::run_localnet(args),
        Command::Keygen { out } => {
            let path = out.unwrap_or_else(droppin_client::default_keypair_path);
            droppin_client::write_new_keypair(&path)
                .map(|key| {
                    use solana_signer::Signer;
                    println!("{} written to {}", key.pubkey(), path.display());
                })
                .map_err(Into::into)
        }
        Command::Sim(args) => sim::run(args),
        Command::Round(command) => operator_cli::run_round(command, &cli.cluster),
        Command::Task(command) => operator_cli::run_task(command, &cli.cluster),
        Command::Treasury(command) => operator_cli::run_treasury(command, &cli.cluster),
        Command::Node(command) => operator_cli::run_node(command, &cli.cluster),
        Command::Validator(command) => operator_cli::run_validator(command, &cli.cluster),
        Command::Validate { round, once, peers } => {
            operator_cli::run_validate(round.as_deref(), once, &peers, &cli.cluster)
        }
        Command::Appeal { round } => operator_cli::run_appeal(&round, &cli.cluster),
        Command::Finalize { round } => operator_cli::run_finalize(&round, &cli.cluster),
        Command::Crank { round } => operator_cli::run_crank(&round, &cli.cluster),
        Command::Idl => {
            print!("{}", include_str!("../../../idl/droppin.json"));
            Ok(())
        }
        Command::Model(ModelCommand::Export(args)) => operator_cli::run_export(args, &cli.cluster),
    };
    if let Err(error) = result {
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}
