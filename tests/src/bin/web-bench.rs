//! `web-bench`: the browser training benchmark. Serves the built app (`trunk build --release`)
//! and the TensorFlow.js page (`benchmarks/tfjs`) from one origin, runs every workload in headless
//! Chromium on WebGPU and on the CPU fallback, then the same workloads on TF.js's WebGPU and CPU
//! backends in the same browser, and prints the comparison. `scripts/bench-web` runs it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use droppin_storage::server::{GatewayConfig, RunningGateway};
use droppin_storage::{Limits, LocalStore};
use droppin_tests::browser::Browser;
use serde_json::Value;

#[derive(Parser)]
struct Args {
    /// The built web app.
    #[arg(long, default_value = "dist")]
    dist: PathBuf,
    /// Workloads to run (`mnist`, `digits`, and the catalog models `cifar10-cnn`, `char-lm`).
    #[arg(long, value_delimiter = ',', default_value = "mnist,digits")]
    workloads: Vec<String>,
    /// Our backends to run (`webgpu`, `cpu`), each beside its TF.js counterparts.
    #[arg(long, value_delimiter = ',', default_value = "webgpu,cpu")]
    backends: Vec<String>,
    /// Write every result as a JSON array here.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// The backend pairings a workload runs: ours, and TF.js's counterpart. Every workload meets
/// TF.js on WebGPU (ours: the fused kernels for the plain MLP, burn's WebGPU backend in the
/// training worker for the catalog models) and on the CPU (ours: burn's CPU backend in wasm;
/// TF.js: its wasm backend, and for the catalog models also its plain JavaScript backend, since
/// the wasm one lacks some of their training kernels).
fn pairs(workload: &str) -> &'static [(&'static str, &'static str)] {
    match workload {
        "mnist" | "digits" => &[("webgpu", "webgpu"), ("cpu", "wasm")],
        _ => &[("webgpu", "webgpu"), ("cpu", "wasm"), ("cpu", "cpu")],
    }
}
/// TensorFlow.js files the comparison page loads.
const TFJS_FILES: [&str; 6] = [
    "tfjs/dist/tf.min.js",
    "tfjs-backend-webgpu/dist/tf-backend-webgpu.min.js",
    "tfjs-backend-wasm/dist/tf-backend-wasm.min.js",
    "tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm",
    "tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm",
    "tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm",
];

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// The app at `/`, the TF.js page at `/tfjs/` with its library files in `/tfjs/lib/`.
fn site(root: &Path, dist: &Path, dir: &Path) -> anyhow::Result<()> {
    anyhow::ensure!(
        dist.join("index.html").exists(),
        "{} has no built app: run trunk build --release",
        dist.display()
    );
    copy_dir(dist, dir)?;
    copy_dir(&root.join("benchmarks/tfjs"), &dir.join("tfjs"))?;
    let lib = dir.join("tfjs/lib");
    std::fs::create_dir_all(&lib)?;
    let modules = root.join(".tools/node_modules/@tensorflow");
    for file in TFJS_FILES {
        let source = modules.join(file);
        std::fs::copy(&source, lib.join(source.file_name().expect("a file name")))
            .map_err(|e| anyhow::anyhow!("{}: {e} (run scripts/setup bench)", source.display()))?;
    }
    Ok(())
}

fn field(result: &Value, name: &str) -> f64 {
    result[name].as_f64().unwrap_or(f64::NAN)
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let site_dir = tempfile::tempdir()?;
    site(&root, &args.dist, site_dir.path())?;
    let store_dir = tempfile::tempdir()?;
    let store = Arc::new(LocalStore::open(store_dir.path(), Limits::default())?);
    let config = GatewayConfig {
        web_root: Some(site_dir.path().to_path_buf()),
        ..GatewayConfig::default()
    };
    let gateway = RunningGateway::start(store, config, "127.0.0.1:0".parse()?)?;
    let base = gateway.url();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let results = runtime.block_on(async {
        let browser = Browser::start(&root).await?;
        let timeout = Duration::from_secs(600);
        let mut results = Vec::new();
        for workload in &args.workloads {
            let chosen = pairs(workload)
                .iter()
                .filter(|(ours, _)| args.backends.iter().any(|b| b == ours));
            for &(ours, theirs) in chosen {
                let mine = browser
                    .published_result(
                        &format!("{base}/?bench={workload}&backend={ours}"),
                        "#bench-result",
                        timeout,
                    )
                    .await?;
                let tfjs = browser
                    .published_result(
                        &format!("{base}/tfjs/index.html?workload={workload}&backend={theirs}"),
                        "#bench-result",
                        timeout,
                    )
                    .await;
                let mine: Value = serde_json::from_str(&mine)?;
                // A backend that cannot train the model says so in the table.
                let mut tfjs: Value = match tfjs {
                    Ok(text) => serde_json::from_str(&text)?,
                    Err(error) => serde_json::json!({
                        "workload": workload,
                        "backend": theirs,
                        "error": error.to_string(),
                    }),
                };
                tfjs["engine"] = "TensorFlow.js 4.22".into();
                results.push((mine, tfjs));
            }
        }
        browser.close().await?;
        anyhow::Ok(results)
    })?;
    println!(
        "{:<7} {:<7} {:>12} {:>10} {:>10} | {:<7} {:>12} {:>10} {:>10} | {:>7}",
        "load",
        "ours",
        "ms/step",
        "samples/s",
        "first ms",
        "TF.js",
        "ms/step",
        "samples/s",
        "first ms",
        "speedup"
    );
    for (mine, tfjs) in &results {
        let ours = format!(
            "{:<7} {:<7} {:>12.2} {:>10.0} {:>10.1} | {:<7}",
            mine["workload"].as_str().unwrap_or("?"),
            mine["backend"].as_str().unwrap_or("?"),
            field(mine, "median_ms_per_step"),
            field(mine, "samples_per_s"),
            field(mine, "first_step_ms"),
            tfjs["backend"].as_str().unwrap_or("?"),
        );
        match tfjs["error"].as_str() {
            Some(error) => println!("{ours} cannot train it: {error}"),
            None => println!(
                "{ours} {:>12.2} {:>10.0} {:>10.1} | {:>6.2}x",
                field(tfjs, "median_ms_per_step"),
                field(tfjs, "samples_per_s"),
                field(tfjs, "first_step_ms"),
                field(mine, "samples_per_s") / field(tfjs, "samples_per_s"),
            ),
        }
    }
    if let Some(path) = args.json {
        let all: Vec<&Value> = results.iter().flat_map(|(a, b)| [a, b]).collect();
        std::fs::write(path, serde_json::to_string_pretty(&all)?)?;
    }
    Ok(())
}
