//! Helpers the command-line tests share.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
};

use droppin_cli::localnet::{Localnet, LocalnetOptions, PageOrigins};

/// A command's standard output, after asserting it succeeded (its output and errors otherwise).
pub fn ok(output: Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// A local network in `dir`, on free ports, with the built program deployed and `admin` as its
/// protocol admin.
pub fn localnet(dir: &std::path::Path, admin: &solana_keypair::Keypair) -> Localnet {
    Localnet::start(LocalnetOptions {
        rpc_port: 0,
        gateway_port: 0,
        data_dir: dir.join("localnet"),
        web_root: None,
        pages: PageOrigins::Any,
        program: droppin_client::default_program_path(),
        admin: admin.insecure_clone(),
    })
    .unwrap()
}

/// Runs `dpin` against a local network, its cluster and storage flags filled in.
#[derive(Clone)]
pub struct Operator {
    /// The cluster's JSON-RPC URL.
    pub rpc: String,
    /// The storage flag.
    pub storage: String,
    /// Where nodes and validators keep their state.
    pub state: PathBuf,
}

impl Operator {
    /// An operator of `localnet`, keeping node and validator state in `state`.
    pub fn on(localnet: &Localnet, state: PathBuf) -> Self {
        Operator {
            rpc: localnet.rpc_url.clone(),
            storage: format!("kubo+{}", localnet.gateway_url()),
            state,
        }
    }

    /// The `dpin` command for `args`, signed by `keypair`.
    pub fn command(&self, keypair: &Path, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_dpin"));
        command.args(args).args([
            "--url",
            &self.rpc,
            "--storage",
            &self.storage,
            "--state-dir",
            self.state.to_str().unwrap(),
            "--keypair",
            keypair.to_str().unwrap(),
        ]);
        command
    }

    /// Runs a command to its end.
    pub fn run(&self, keypair: &Path, args: &[&str]) -> Output {
        self.command(keypair, args).output().unwrap()
    }

    /// Starts a command, its output piped.
    pub fn spawn(&self, keypair: &Path, args: &[&str]) -> Child {
        self.command(keypair, args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }
}
