//! `dpin localnet`: start the local network and keep it up until Ctrl-C.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use droppin_cli::localnet::{Localnet, LocalnetOptions, Origin, PageOrigins};
use droppin_client::{default_program_path, read_keypair, write_new_keypair};

#[derive(Args)]
pub struct LocalnetArgs {
    /// JSON-RPC port.
    #[arg(long, default_value_t = 8899)]
    rpc_port: u16,
    /// Storage gateway (and web app) port.
    #[arg(long, default_value_t = 8080)]
    gateway_port: u16,
    /// Where blobs and the admin keypair are kept.
    #[arg(long, default_value = ".localnet")]
    data: PathBuf,
    /// The built web app to serve (`trunk build --release` writes `dist`).
    #[arg(long, default_value = "dist")]
    web: PathBuf,
    /// The program binary.
    #[arg(long)]
    program: Option<PathBuf>,
    /// Serve only web pages of this origin (repeat for several; the gateway's own is added):
    /// uploads from pages of other sites are refused. By default any page may use the gateway,
    /// within its upload quota.
    #[arg(long = "allow-origin", value_name = "http[s]://HOST[:PORT]")]
    allow_origins: Vec<Origin>,
}

pub fn run_localnet(args: LocalnetArgs) -> anyhow::Result<()> {
    let admin_path = args.data.join("admin.json");
    let admin = if admin_path.exists() {
        read_keypair(&admin_path)?
    } else {
        write_new_keypair(&admin_path)?
    };
    let web_root = args
        .web
        .join("index.html")
        .exists()
        .then(|| args.web.clone());
    let pages = if args.allow_origins.is_empty() {
        PageOrigins::Any
    } else {
        let own = ["127.0.0.1", "localhost"]
            .into_iter()
            .map(|host| format!("http://{host}:{}", args.gateway_port).parse())
            .collect::<Result<Vec<Origin>, _>>()?;
        PageOrigins::Only([args.allow_origins, own].concat())
    };
    let localnet = Localnet::start(LocalnetOptions {
        rpc_port: args.rpc_port,
        gateway_port: args.gateway_port,
        data_dir: args.data.clone(),
        web_root: web_root.clone(),
        pages,
        program: args.program.unwrap_or_else(default_program_path),
        admin,
    })?;
    println!("JSON-RPC  {}", localnet.rpc_url);
    println!(
        "storage   {}/ipfs/{{cid}}  (upload: POST /api/v0/block/put)",
        localnet.gateway_url()
    );
    match web_root {
        Some(_) => println!("web app   {}/", localnet.gateway_url()),
        None => println!(
            "web app   not built ({} has no index.html: run trunk build --release)",
            args.web.display()
        ),
    }
    println!("admin     {}", admin_path.display());
    println!("Ctrl-C stops the network");
    let (stop_tx, stop_rx) = std::sync::mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = stop_tx.send(());
    })
    .context("installing the Ctrl-C handler")?;
    let _ = stop_rx.recv();
    drop(localnet);
    println!("stopped");
    Ok(())
}
