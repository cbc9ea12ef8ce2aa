//! Scaling of a whole round on the embedded chain: 10, 100 and 1,000 nodes (a fifth of them
//! attacking) on tiny shards of the digits, a committee of 3 drawn from a registry of 10, one
//! local epoch. Prints the wall time
//! of each phase, so growth per node can be read off.
//!
//! `cargo bench -p droppin-cli --bench round_scaling [-- 10,100,1000]`

use std::time::Instant;

use droppin_cli::demo::{DemoConfig, embedded_chain, run};
use droppin_client::default_program_path;
use droppin_fl::data::digits;
use droppin_storage::{Limits, LocalStore};

fn main() -> anyhow::Result<()> {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .find(|arg| !arg.starts_with('-'))
        .unwrap_or_else(|| "10,100,1000".into())
        .split(',')
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let data = digits()?;
    println!(
        "| nodes | open+stake s | train+commit s | reveal s | validate s (drawn committee) | settle s | total s | ms per node |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for nodes in sizes {
        let dir = tempfile::tempdir()?;
        let mut config = DemoConfig::new(dir.path().join("out"));
        config.nodes = nodes;
        config.malicious = nodes / 5;
        config.train.epochs = 1;
        // A seat locks what the round puts at risk over the smallest quorum: at 1,000 nodes the
        // slashable stakes alone are 10 SOL, so validators bond accordingly.
        config.bond_lamports = 20 * droppin_interface::LAMPORTS_PER_SOL;
        let chain = embedded_chain(&default_program_path(), config.seed)?;
        let store = LocalStore::open(dir.path().join("blobs"), Limits::default())?;
        let started = Instant::now();
        let report = run(&config, chain, &store, &data)?;
        let total = started.elapsed().as_secs_f64();
        let p = &report.phase_seconds;
        println!(
            "| {nodes} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {total:.2} | {:.1} |",
            p.open,
            p.train_commit,
            p.reveal,
            p.validate,
            p.settle,
            1000.0 * total / nodes as f64
        );
    }
    Ok(())
}
