//! `dpin demo` arguments and output: a table for people, one JSON object for scripts.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use droppin_cli::demo::{DemoConfig, DemoReport, Faults, embedded_chain, run};
use droppin_client::default_program_path;
use droppin_fl::{
    aggregate::Rule,
    data::task_split,
    model::{ModelKind, ModelSpec},
};
use droppin_node::{
    RoundTask,
    money::{exact_amount, parse_amount},
};

use crate::scenario_args::ScenarioArgs;
use droppin_interface::state::Currency;
use droppin_storage::{Limits, LocalStore};

#[derive(Args)]
pub struct DemoArgs {
    /// Nodes in the round.
    #[arg(long, default_value_t = 8)]
    nodes: usize,
    /// How many of them attack.
    #[arg(long, default_value_t = 2)]
    malicious: usize,
    /// How the committee combines accepted updates: fedavg, median or trimmed-mean.
    #[arg(long, default_value = "fedavg", value_parser = ["fedavg", "median", "trimmed-mean"])]
    aggregator: String,
    /// Validators in the registry (the committee is drawn from them, weighted by bond).
    #[arg(long, default_value_t = 10)]
    validators: usize,
    /// Expected committee size the funder asks for (an appeal draws 2k + 1).
    #[arg(long, default_value_t = 3)]
    committee_size: u8,
    /// SOL each validator bonds.
    #[arg(long, default_value = "5")]
    bond_sol: String,
    /// Rounds; each starts from the model the previous one published.
    #[arg(long, default_value_t = 1)]
    rounds: usize,
    #[command(flatten)]
    scenario: ScenarioArgs,
    /// The task the rounds train: a catalog task that ships its data (digits, breast-cancer,
    /// char-lm) or a manifest file of one.
    #[arg(long, default_value = "digits")]
    task: String,
    /// Local epochs per round, in place of the task recipe's (the round then pins a task with
    /// this recipe).
    #[arg(long)]
    epochs: Option<u32>,
    /// SOL the funder pays per round, the 8% fee included.
    #[arg(long, default_value = "1")]
    fund_sol: String,
    /// Honest nodes that commit and never reveal.
    #[arg(long, default_value_t = 0)]
    no_show: usize,
    /// Honest nodes whose update never reaches storage.
    #[arg(long, default_value_t = 0)]
    lost_blobs: usize,
    /// Honest nodes that serve their update to one reporting seat only (the committee's
    /// majority never fetched it: unavailable, stake back).
    #[arg(long, default_value_t = 0)]
    withheld_blobs: usize,
    /// Honest nodes that serve their update to every reporting seat but one (which fetches it
    /// from the others).
    #[arg(long, default_value_t = 0)]
    scarce_blobs: usize,
    /// Registered validators that take their seat when drawn and never vote.
    #[arg(long, default_value_t = 0)]
    silent_validators: usize,
    /// Registered validators that, when drawn, vote a verdict slashing every node (an honest
    /// node appeals it when they hold the quorum).
    #[arg(long, default_value_t = 0)]
    dishonest_validators: usize,
    /// Where the model (safetensors), the accuracy chart (SVG) and the blobs go.
    #[arg(long, default_value = "dpin-demo")]
    out: PathBuf,
    /// The program binary.
    #[arg(long)]
    program: Option<PathBuf>,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
}

pub fn run_demo(args: DemoArgs) -> anyhow::Result<()> {
    let mut config = DemoConfig::new(args.out.clone());
    config.nodes = args.nodes;
    config.malicious = args.malicious;
    config.attack = args.scenario.attack();
    config.validators = args.validators;
    config.committee_size = args.committee_size;
    config.bond_lamports = parse_amount(&args.bond_sol, Currency::Sol, "--bond-sol")?;
    config.rounds = args.rounds;
    config.seed = args.scenario.seed;
    let (mut manifest, _) = crate::operator_cli::load_task(&args.task)?;
    let data = match task_split(&manifest) {
        Some(split) => split.with_context(|| format!("loading task `{}`'s data", manifest.name))?,
        None => anyhow::bail!(
            "task `{}` ships no data: the demo runs a task whose data the repository ships",
            manifest.name
        ),
    };
    if args.scenario.model() == ModelKind::Cnn {
        let spec =
            ModelSpec::for_data(ModelKind::Cnn, &data.train.sample_shape, data.train.classes)?;
        manifest.model = spec.layers;
        manifest.name = format!("{}-cnn", manifest.name);
    }
    if let Some(epochs) = args.epochs {
        manifest.recipe.epochs = epochs;
    }
    config.task = RoundTask::new(manifest)?;
    config.train = config.task.recipe(args.scenario.seed);
    config.dp_epsilon = args.scenario.dp_epsilon;
    config.validator.aggregator =
        Rule::named(&args.aggregator, 0, args.nodes).expect("clap checked the name");
    config.fund_lamports = parse_amount(&args.fund_sol, Currency::Sol, "--fund-sol")?;
    config.faults = Faults {
        no_show: args.no_show,
        lost_blobs: args.lost_blobs,
        withheld_blobs: args.withheld_blobs,
        scarce_blobs: args.scarce_blobs,
        silent_validators: args.silent_validators,
        dishonest_validators: args.dishonest_validators,
    };
    config.progress = !args.json;
    let program = args.program.unwrap_or_else(default_program_path);
    let chain = embedded_chain(&program, config.seed)?;
    let store = LocalStore::open(args.out.join("blobs"), Limits::default())?;
    let report = run(&config, chain, &store, &data)?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print_report(&config, &report);
    }
    Ok(())
}

/// Lamports as an exact number of SOL, for the report's columns.
fn sol(lamports: u64) -> String {
    exact_amount(lamports, Currency::Sol)
}

/// A change in lamports as an exact, signed number of SOL.
fn signed_sol(lamports: i128) -> String {
    let sign = if lamports < 0 { '-' } else { '+' };
    let size = u64::try_from(lamports.unsigned_abs()).unwrap_or(u64::MAX);
    format!("{sign}{}", exact_amount(size, Currency::Sol))
}

fn print_report(config: &DemoConfig, report: &DemoReport) {
    println!(
        "{} round(s) on the embedded chain: {} nodes ({} attacking with {}), a registry of {} validators, committees of {} expected",
        config.rounds,
        config.nodes,
        config.malicious,
        config.attack.name(),
        config.validators,
        config.committee_size
    );
    println!();
    println!(
        "{:<12} {:<10} {:<9} {:>7} {:>10} {:>10} {:>10}  {:<18} reason",
        "node", "role", "verdict", "weight", "stake", "payout", "reward", "reputation a/e/s/n"
    );
    for node in &report.nodes {
        let reward = node.payout_lamports as i128
            - node.stake_lamports as i128
            - node.rent_refund_lamports as i128;
        println!(
            "{:<12} {:<10} {:<9} {:>6.2}% {:>10} {:>10} {:>10}  {:<18} {}",
            format!("{}..", &node.pubkey[..10]),
            node.role,
            node.verdict,
            node.weight_bps as f64 / 100.0,
            sol(node.stake_lamports),
            sol(node.payout_lamports),
            signed_sol(reward),
            format!(
                "{}/{}/{}/{}",
                node.reputation.accepted,
                node.reputation.excluded,
                node.reputation.slashed,
                node.reputation.no_shows
            ),
            node.reason.as_deref().unwrap_or("")
        );
    }
    println!();
    println!(
        "{:<12} {:<10} {:<6} {:<10} {:>10} {:>10} {:>10}",
        "validator", "role", "drawn", "with final", "bond", "after", "change"
    );
    for v in &report.validators {
        println!(
            "{:<12} {:<10} {:<6} {:<10} {:>10} {:>10} {:>10}",
            format!("{}..", &v.pubkey[..10]),
            v.role,
            if v.drawn { "yes" } else { "no" },
            if v.voted_with_final { "yes" } else { "no" },
            sol(v.bond_lamports),
            sol(v.payout_lamports),
            signed_sol(v.payout_lamports as i128 - v.bond_lamports as i128)
        );
    }
    println!();
    println!(
        "test accuracy {:.1}% -> {:.1}%",
        100.0 * report.accuracy_before,
        100.0 * report.accuracy_after
    );
    for round in &report.rounds {
        println!(
            "  round {} {}: {:.1}%, {} accepted, {} excluded, {} slashed, {} no-shows{}, model {}",
            round.round,
            round.status,
            100.0 * round.accuracy,
            round.accepted,
            round.excluded,
            round.slashed,
            round.no_shows,
            match (round.appealed, round.overturned) {
                (true, true) => ", appealed and overturned",
                (true, false) => ", appealed",
                _ => "",
            },
            round.model_cid
        );
    }
    println!(
        "funded {} SOL, fee {} SOL (buys and burns $dPIN), slashes to the treasury {} SOL, unearned pool back to the funder {} SOL, left in escrow {} SOL",
        sol(report.funded_lamports),
        sol(report.fee_lamports),
        sol(report.slashed_to_treasury_lamports),
        sol(report.funder_refund_lamports),
        sol(report.escrow_remaining_lamports)
    );
    if let Some(epsilon) = report.epsilon {
        println!("differential privacy: epsilon {epsilon:.2} at delta 1e-5 per honest node");
    }
    println!("global model {}", report.model_cid);
    println!("wrote {} and {}", report.model_path, report.plot_path);
    println!("{:.1} s", report.seconds);
}
