//! `dpin task`: the catalog, and writing, checking and explaining manifests.

use droppin_task::{Checked, DataSchema, Manifest, catalog, layer_name, shape_text};

use super::*;

/// `dpin task ...`
#[derive(Subcommand)]
pub enum TaskCommand {
    /// The catalog's tasks: name, data kind, parameters, CID, whether its data ships.
    List,
    /// Write a manifest to edit, starting from a catalog task.
    New {
        /// The new task's name.
        name: String,
        /// The catalog task to start from.
        #[arg(long, default_value = "digits")]
        from: String,
        /// Where to write it.
        #[arg(long)]
        out: PathBuf,
    },
    /// Check a manifest: every layer's shape, the parameter limit, the recipe, the metric.
    Check {
        /// A manifest file.
        file: PathBuf,
    },
    /// Explain a task: the data it expects, its layers with their shapes, its recipe.
    Show {
        /// A catalog task's name or a manifest file.
        task: String,
    },
}

/// A task as `dpin task list` and `show --json` print it.
#[derive(Serialize)]
struct TaskView {
    name: String,
    description: String,
    data: &'static str,
    parameters: u64,
    cid: String,
    /// Whether the repository ships its data: `dpin round open` and `dpin demo` take the
    /// committee's validation set from it.
    ships_data: bool,
}

impl TaskView {
    fn of(manifest: &Manifest, checked: &Checked) -> anyhow::Result<TaskView> {
        Ok(TaskView {
            name: manifest.name.clone(),
            description: manifest.description.clone(),
            data: match manifest.data {
                DataSchema::Images { .. } => "images",
                DataSchema::Tabular { .. } => "tabular",
                DataSchema::Text { .. } => "text",
            },
            parameters: checked.parameters,
            cid: droppin_storage::from_interface(&manifest.cid())?.to_string(),
            ships_data: droppin_fl::data::ships_data(manifest),
        })
    }
}

/// A catalog task by name, or a manifest file, checked.
pub fn load_task(task: &str) -> anyhow::Result<(Manifest, Checked)> {
    let manifest = if catalog::names().any(|n| n == task) {
        catalog::get(task)?
    } else {
        let text = std::fs::read_to_string(task).with_context(|| {
            format!("`{task}` is neither a catalog task (dpin task list) nor a readable file")
        })?;
        Manifest::parse(&text).with_context(|| format!("{task} is not a task manifest"))?
    };
    let checked = manifest
        .check()
        .with_context(|| format!("task `{}` cannot train", manifest.name))?;
    Ok((manifest, checked))
}

pub fn run_task(command: TaskCommand, cluster: &Cluster) -> anyhow::Result<()> {
    match command {
        TaskCommand::List => {
            let views = catalog::all()
                .iter()
                .map(|m| TaskView::of(m, &m.check()?))
                .collect::<anyhow::Result<Vec<_>>>()?;
            cluster.print(&views, |views| {
                for v in views {
                    println!(
                        "{:<14} {:<8} {:>9} parameters  {}  {}{}",
                        v.name,
                        v.data,
                        v.parameters,
                        v.cid,
                        v.description,
                        if v.ships_data { " (data shipped)" } else { "" }
                    );
                }
            })
        }
        TaskCommand::New { name, from, out } => {
            let mut manifest = catalog::get(&from)?;
            manifest.name = name;
            manifest.check()?;
            if out.exists() {
                bail!("{} exists; choose another --out", out.display());
            }
            std::fs::write(&out, manifest.pretty() + "\n")
                .with_context(|| format!("writing {}", out.display()))?;
            say(
                cluster,
                &format!(
                    "wrote {} (from {from}): edit it, then dpin task check {}",
                    out.display(),
                    out.display()
                ),
            );
            Ok(())
        }
        TaskCommand::Check { file } => {
            let (manifest, checked) = load_task(&file.to_string_lossy())?;
            let view = TaskView::of(&manifest, &checked)?;
            cluster.print(&view, |v| {
                println!(
                    "ok: {} ({} data, {} parameters), CID {}",
                    v.name, v.data, v.parameters, v.cid
                )
            })
        }
        TaskCommand::Show { task } => {
            let (manifest, checked) = load_task(&task)?;
            let view = TaskView::of(&manifest, &checked)?;
            cluster.print(&view, |v| explain(&manifest, &checked, v))
        }
    }
}

/// What `dpin task show` prints.
fn explain(manifest: &Manifest, checked: &Checked, view: &TaskView) {
    println!("{}: {}", manifest.name, manifest.description);
    println!("CID {} ({} parameters)", view.cid, checked.parameters);
    println!("data: {}", manifest.data.summary());
    println!("model (input {}):", shape_text(&checked.input));
    for (layer, shape) in manifest.model.iter().zip(&checked.shapes) {
        println!("  {:<18} -> {}", layer_name(layer), shape_text(shape));
    }
    println!("recipe: {}", manifest.recipe.summary());
    println!("validation: {}", manifest.validation.summary());
}
