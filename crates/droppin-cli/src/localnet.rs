//! The local network: surfpool's offline surfnet behind the Solana JSON-RPC API on 127.0.0.1,
//! with the dropPIN program deployed and the protocol initialized, plus the storage gateway
//! (and the built web app, when there is one) on a second port.

use std::{
    io::{BufRead, BufReader},
    net::{SocketAddr, TcpListener},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, mpsc},
    time::Duration,
};

use anyhow::{Context, bail};
use droppin_client::{Chain, Protocol, RpcChain};
use droppin_interface::{LAMPORTS_PER_SOL, state::ProtocolParams};
pub use droppin_storage::origins::{Origin, PageOrigins};
use droppin_storage::{
    Limits, LocalStore,
    server::{GatewayConfig, RunningGateway},
};
use solana_keypair::Keypair;
use solana_signer::Signer;

/// How long the surfnet may take to answer.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// The local network's shortest phase, in slots: seconds rather than the hours a public
/// cluster's protocol parameters ask for, so rounds can be tried interactively.
pub const LOCALNET_PHASE_SLOTS: u64 = 40;

/// Where the local network binary is: `$DPIN_LOCALNET`, else the one `scripts/setup localnet`
/// builds into the workspace's `.tools/bin`.
pub fn localnet_binary() -> PathBuf {
    std::env::var_os("DPIN_LOCALNET").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.tools/bin/droppin-localnet"),
        PathBuf::from,
    )
}

/// What to start.
pub struct LocalnetOptions {
    /// JSON-RPC port (0: any free port).
    pub rpc_port: u16,
    /// Storage gateway port (0: any free port).
    pub gateway_port: u16,
    /// Where blobs are kept.
    pub data_dir: PathBuf,
    /// The built web app, served by the gateway at `/`.
    pub web_root: Option<PathBuf>,
    /// The web pages the storage gateway serves.
    pub pages: PageOrigins,
    /// The program binary to deploy.
    pub program: PathBuf,
    /// The protocol admin (airdropped, then initializes the config).
    pub admin: Keypair,
}

/// A running local network; dropping it stops everything.
pub struct Localnet {
    surfnet: Child,
    gateway: RunningGateway,
    /// The JSON-RPC URL.
    pub rpc_url: String,
}

/// Two distinct free ports (both held until both are known, so they differ).
fn free_ports() -> anyhow::Result<(u16, u16)> {
    let first = TcpListener::bind("127.0.0.1:0")?;
    let second = TcpListener::bind("127.0.0.1:0")?;
    Ok((first.local_addr()?.port(), second.local_addr()?.port()))
}

/// Starts attempted on fresh ports when the surfnet exits at once: a port picked free can be
/// taken by another process before the surfnet binds it.
const START_ATTEMPTS: usize = 3;

/// Starts the surfnet binary on `rpc_port` (a free one when 0) and waits until it is ready.
fn spawn_surfnet(binary: &Path, rpc_port: u16) -> anyhow::Result<(Child, u16)> {
    for attempt in 1..=START_ATTEMPTS {
        let (free_rpc, ws_port) = free_ports()?;
        let port = if rpc_port == 0 { free_rpc } else { rpc_port };
        let mut surfnet = Command::new(binary)
            .args([port.to_string(), ws_port.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let stdout = surfnet.stdout.take().expect("piped");
        let (ready_tx, ready_rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            for line in lines.by_ref().map_while(Result::ok) {
                if line.starts_with("ready ") {
                    let _ = ready_tx.send(());
                    break;
                }
            }
            // Keep the pipe drained for as long as the surfnet lives.
            lines.for_each(drop);
        });
        match ready_rx.recv_timeout(READY_TIMEOUT) {
            Ok(()) => return Ok((surfnet, port)),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = surfnet.kill();
                bail!(
                    "the local network did not start on port {port} within {} s",
                    READY_TIMEOUT.as_secs()
                );
            }
            // It exited before it was ready: its port was taken.
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let _ = surfnet.wait();
                if rpc_port != 0 || attempt == START_ATTEMPTS {
                    bail!("the local network exited at start on port {port} (is the port taken?)");
                }
            }
        }
    }
    unreachable!("the last attempt returns")
}

impl Localnet {
    /// Starts the surfnet, deploys and initializes the program, and serves storage.
    pub fn start(options: LocalnetOptions) -> anyhow::Result<Localnet> {
        let binary = localnet_binary();
        if !binary.exists() {
            bail!(
                "{} is missing: run scripts/setup localnet",
                binary.display()
            );
        }
        let (surfnet, rpc_port) = spawn_surfnet(&binary, options.rpc_port)?;
        let rpc_url = format!("http://127.0.0.1:{rpc_port}");
        // From here on, a failure must not leave the surfnet running.
        let guard = KillOnDrop(Some(surfnet));
        let chain = RpcChain::connect(&rpc_url)?;
        let elf = std::fs::read(&options.program).with_context(|| {
            format!(
                "reading {} (run scripts/build-programs)",
                options.program.display()
            )
        })?;
        chain.write_program_on_surfnet(&elf, &options.admin.pubkey())?;
        let mut protocol = Protocol::new(chain);
        protocol
            .chain
            .airdrop(&options.admin.pubkey(), 10 * LAMPORTS_PER_SOL)?;
        protocol
            .initialize_config(
                &options.admin,
                ProtocolParams::short_phases(LOCALNET_PHASE_SLOTS),
            )
            .context("initializing the protocol")?;
        let store = LocalStore::open(options.data_dir.join("blobs"), Limits::default())?;
        let gateway = RunningGateway::start(
            Arc::new(store),
            GatewayConfig {
                web_root: options.web_root,
                pages: options.pages,
                ..GatewayConfig::default()
            },
            SocketAddr::from(([127, 0, 0, 1], options.gateway_port)),
        )
        .with_context(|| format!("serving storage on port {}", options.gateway_port))?;
        Ok(Localnet {
            surfnet: guard.disarm(),
            gateway,
            rpc_url,
        })
    }

    /// The storage gateway's URL (also serves the web app).
    pub fn gateway_url(&self) -> String {
        self.gateway.url()
    }
}

impl Drop for Localnet {
    fn drop(&mut self) {
        let _ = self.surfnet.kill();
        let _ = self.surfnet.wait();
    }
}

/// Kills a child process unless disarmed.
struct KillOnDrop(Option<Child>);

impl KillOnDrop {
    fn disarm(mut self) -> Child {
        self.0.take().expect("armed")
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(child) = self.0.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
