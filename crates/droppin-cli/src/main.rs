//! `dpin`: the dropPIN command line.

mod demo_cli;
mod localnet_cli;
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
}

#[derive(Subcommand)]
enum Command {
    /// Run complete rounds on the embedded chain: stake, train, commit, reveal, validate, pay.
    Demo(demo_cli::DemoArgs),
    /// Start a local network: JSON-RPC with the program deployed, the storage gateway, the web app.
    Localnet(localnet_cli::LocalnetArgs),
    /// Simulate federated rounds with malicious nodes and report what the defences caught.
    Sim(sim::SimArgs),
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => demo_cli::run_demo(args),
        Command::Localnet(args) => localnet_cli::run_localnet(args),
        Command::Sim(args) => sim::run(args),
    };
    if let Err(error) = result {
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}
