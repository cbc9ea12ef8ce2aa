//! `dpin`: the dropPIN command line.

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
    /// Simulate federated rounds with malicious nodes and report what the defences caught.
    Sim(sim::SimArgs),
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Sim(args) => sim::run(args),
    };
    if let Err(error) = result {
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}
