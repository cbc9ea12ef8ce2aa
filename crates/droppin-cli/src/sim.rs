//! `dpin sim`: the attack simulator on the shipped digits or on the user's own data.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use droppin_fl::aggregate::Rule;
use droppin_fl::data::{Dataset, Partition, Split, digits, load_csv, load_idx, read_for, shipped};
use droppin_fl::device::{DEVICE_NAMES, device};
use droppin_fl::model::ModelSpec;
use droppin_fl::sim::{SimConfig, SimData, SimResult, simulate};
use droppin_task::{DataSchema, Manifest};

use crate::scenario_args::ScenarioArgs;
use droppin_fl::train::{LocalOptimizer, TrainConfig};

#[derive(Args)]
pub struct SimArgs {
    /// Nodes per round.
    #[arg(long, default_value_t = 10)]
    nodes: usize,
    /// How many of them are malicious.
    #[arg(long, default_value_t = 3)]
    malicious: usize,
    /// fedavg, fedavgm, fedadam, fedyogi, median, trimmed-mean, krum, multi-krum, bulyan,
    /// fltrust, or all; without it, the validator's default pipeline.
    #[arg(long)]
    aggregator: Option<String>,
    #[arg(long, default_value_t = 10)]
    rounds: usize,
    #[command(flatten)]
    scenario: ScenarioArgs,
    /// A catalog task's name or a manifest file (dpin task list): its model and recipe replace
    /// --model, --epochs, --optimizer, --learning-rate and --batch-size.
    #[arg(long)]
    task: Option<String>,
    /// A CSV file (with a `label` column, see --label-column) or an MNIST IDX images file.
    #[arg(long)]
    data: Option<PathBuf>,
    /// The IDX labels file that goes with --data.
    #[arg(long)]
    labels: Option<PathBuf>,
    /// Label column of a CSV file.
    #[arg(long, default_value = "label")]
    label_column: String,
    /// Non-IID split: Dirichlet alpha over labels (IID without it).
    #[arg(long)]
    dirichlet_alpha: Option<f64>,
    /// Local epochs per round.
    #[arg(long, default_value_t = 2)]
    epochs: usize,
    /// Local optimizer: adam, or sgd (momentum 0.9).
    #[arg(long, default_value = "adam")]
    optimizer: String,
    /// Local learning rate.
    #[arg(long, default_value_t = 0.005)]
    learning_rate: f64,
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// What a scaling or backdoor attacker multiplies its update by (model replacement; 10 for
    /// scaling and 1, none, for a backdoor unless set).
    #[arg(long)]
    boost: Option<f32>,
    /// Where nodes train: cpu, or wgpu (a build with the `wgpu` feature and a GPU adapter).
    #[arg(long, default_value = "cpu", value_parser = clap::builder::PossibleValuesParser::new(DEVICE_NAMES))]
    device: String,
    /// Print one JSON object (or one per aggregator with `--aggregator all`).
    #[arg(long)]
    json: bool,
}

/// The model and recipe of `manifest`, checked against the data.
fn task_setup(
    manifest: &Manifest,
    data: &SimData,
    seed: u64,
) -> anyhow::Result<(ModelSpec, TrainConfig)> {
    if manifest.recipe.privacy.is_some() {
        bail!(
            "task `{}` asks for DP-SGD, which dpin sim applies with --dp-epsilon, not from a manifest",
            manifest.name
        );
    }
    let spec = droppin_fl::task::model_spec(manifest)?;
    let shape = &data.train.sample_shape;
    if data.train.feature_dim() != spec.input_dim() || data.train.classes != spec.classes {
        bail!(
            "task `{}` takes {:?} samples of {} classes; the data has {shape:?} samples of {} classes (give the task's data with --data)",
            manifest.name,
            spec.input,
            spec.classes,
            data.train.classes
        );
    }
    Ok((spec, droppin_fl::task::train_config(&manifest.recipe, seed)))
}

pub fn run(args: SimArgs) -> anyhow::Result<()> {
    let task = match &args.task {
        Some(task) => Some(crate::operator_cli::load_task(task)?.0),
        None => None,
    };
    let data = load_data(&args, task.as_ref())?;
    let seed = args.scenario.seed;
    let (spec, train) = match &task {
        Some(task) => task_setup(task, &data, seed)?,
        None => (
            ModelSpec::for_data(
                args.scenario.model(),
                &data.train.sample_shape,
                data.train.classes,
            )?,
            TrainConfig {
                optimizer: match args.optimizer.as_str() {
                    "adam" => LocalOptimizer::Adam,
                    "sgd" => LocalOptimizer::Sgd { momentum: 0.9 },
                    other => bail!("unknown optimizer {other:?}: use adam or sgd"),
                },
                epochs: args.epochs,
                learning_rate: args.learning_rate,
                batch_size: args.batch_size,
                seed,
                ..TrainConfig::default()
            },
        ),
    };
    let model = task.as_ref().map_or_else(
        || format!("{:?}", args.scenario.model()).to_lowercase(),
        |task| task.name.clone(),
    );
    let pipelines: Vec<Option<String>> = match args.aggregator.as_deref() {
        None => vec![None],
        Some("all") => std::iter::once(None)
            .chain(Rule::NAMES.iter().map(|n| Some(n.to_string())))
            .collect(),
        Some(name) if Rule::NAMES.contains(&name) => vec![Some(name.to_owned())],
        Some(other) => bail!(
            "unknown aggregator {other:?}: use one of {} or all",
            Rule::NAMES.join(", ")
        ),
    };
    let attack = args.scenario.attack();
    let base = SimConfig {
        nodes: args.nodes,
        malicious: args.malicious,
        attack,
        aggregator: None,
        rounds: args.rounds,
        seed: args.scenario.seed,
        spec,
        train,
        partition: args
            .dirichlet_alpha
            .map_or(Partition::Iid, |alpha| Partition::Dirichlet { alpha }),
        dp_epsilon: args.scenario.dp_epsilon,
        device: device(&args.device)?,
        boost: args.boost.unwrap_or(attack.default_boost()),
    };
    if !args.json {
        println!(
            "{} nodes, {} malicious ({}), {} rounds, {} model, seed {}",
            args.nodes,
            args.malicious,
            attack.name(),
            args.rounds,
            model,
            args.scenario.seed
        );
        println!(
            "{:<14} {:>9} {:>9} {:>9} {:>10} {:>8} {:>15} {:>15} {:>8} {:>8} {:>9}",
            "aggregator",
            "accuracy",
            "clean",
            "backdoor",
            "precision",
            "recall",
            "honest rejected",
            "slashed/excl.",
            "honest",
            "attacker",
            "epsilon"
        );
    }
    for pipeline in pipelines {
        let name = pipeline.clone().unwrap_or_else(|| "validator".into());
        let result = simulate(
            &SimConfig {
                aggregator: pipeline,
                ..base.clone()
            },
            &data,
        );
        let result = match result {
            // With every rule, one that cannot run at this n and f is reported, not fatal.
            Err(error) if args.aggregator.as_deref() == Some("all") => {
                if !args.json {
                    println!("{name:<14} cannot run: {error}");
                }
                continue;
            }
            other => other.with_context(|| format!("simulating with {name}"))?,
        };
        if args.json {
            println!("{}", serde_json::to_string(&result)?);
        } else {
            print_row(&name, &result);
            if base.spec.is_text() {
                println!(
                    "{:<14} test perplexity {:.2} (clean {:.2})",
                    "",
                    result.loss.exp(),
                    result.clean_loss.exp()
                );
            }
        }
    }
    Ok(())
}

fn print_row(name: &str, r: &SimResult) {
    let flagged = r.malicious_rejected + r.honest_rejected;
    let precision = if flagged == 0 {
        "-".to_owned()
    } else {
        format!("{:.2}", r.malicious_rejected as f64 / flagged as f64)
    };
    let recall = if r.malicious_total == 0 {
        "-".to_owned()
    } else {
        format!(
            "{:.2}",
            r.malicious_rejected as f64 / r.malicious_total as f64
        )
    };
    let epsilon = r.epsilon.map_or("-".to_owned(), |e| format!("{e:.2}"));
    let share = |s: Option<f64>| s.map_or("-".to_owned(), |s| format!("{:.1}%", 100.0 * s));
    let outcomes = match (r.honest_slashed, r.honest_excluded) {
        (Some(slashed), Some(excluded)) => format!("{slashed}/{excluded}"),
        _ => "-".to_owned(),
    };
    println!(
        "{:<14} {:>8.1}% {:>8.1}% {:>8.1}% {:>10} {:>8} {:>15} {:>15} {:>8} {:>8} {:>9}",
        name,
        100.0 * r.accuracy,
        100.0 * r.clean_accuracy,
        100.0 * r.backdoor_success,
        precision,
        recall,
        format!("{}/{}", r.honest_rejected, r.honest_total),
        outcomes,
        share(r.honest_share),
        share(r.malicious_share),
        epsilon
    );
}

/// The shipped digits split, or the user's file split 60/20/20 by a fixed seed; a tenth of the
/// training part is the task's public sample.
/// The shipped digits with their fixed split.
fn digits_data() -> anyhow::Result<SimData> {
    let split = digits()?;
    Ok(SimData::with_public_sample(
        split.train,
        split.validation,
        split.test,
    ))
}

/// The data of the run: `--data` (read by the task's schema when it is tabular or text), else
/// the task's shipped data, else the shipped digits with their fixed split.
fn load_data(args: &SimArgs, task: Option<&Manifest>) -> anyhow::Result<SimData> {
    let all: Dataset = match (&args.data, task) {
        (None, None) => return digits_data(),
        (None, Some(task)) if task.name == "digits" => return digits_data(),
        (None, Some(task)) => match shipped(task) {
            Some(data) => data?,
            None => bail!("task `{}` ships no data: give yours with --data", task.name),
        },
        (Some(path), Some(task)) if !matches!(task.data, DataSchema::Images { .. }) => {
            let bytes = std::fs::read(path).with_context(|| path.display().to_string())?;
            read_for(task, &bytes, &path.display().to_string())?
        }
        (Some(path), _) => match &args.labels {
            Some(labels) => load_idx(path, labels)?,
            None if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("csv")) =>
            {
                load_csv(path, &args.label_column)?
            }
            None => bail!(
                "{}: give --labels for an IDX images file, or a .csv file",
                path.display()
            ),
        },
    };
    let split = Split::of(&all).with_context(|| {
        args.data.as_ref().map_or_else(
            || "the shipped data".to_string(),
            |p| p.display().to_string(),
        )
    })?;
    Ok(SimData::with_public_sample(
        split.train,
        split.validation,
        split.test,
    ))
}
