//! Helpers the command-line tests share.

use std::process::Output;

use droppin_cli::localnet::{Localnet, LocalnetOptions};

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
        program: droppin_client::default_program_path(),
        admin: admin.insecure_clone(),
    })
    .unwrap()
}
