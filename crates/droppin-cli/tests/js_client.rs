//! A client nobody on this project wrote: the JavaScript client Codama renders from the IDL
//! (`clients/js`) runs its tests with Node's test runner against the local network, on
//! accounts `dpin` wrote there: the config, a round it opened and the state of a node it joined.
//! `scripts/setup js` installs, renders and builds the client first. `dpin idl` prints the IDL.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

mod common;

use common::{Operator, ok};
use droppin_client::{Chain, RpcChain, write_new_keypair};
use droppin_interface::{LAMPORTS_PER_SOL, pda::find};
use solana_address::Address;
use solana_signer::Signer;

fn client_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../clients/js")
}

#[test]
fn the_generated_javascript_client_reads_and_writes_the_program() {
    assert!(
        client_dir().join("dist/index.js").exists(),
        "the JavaScript client is not built: run scripts/setup js"
    );
    let dir = tempfile::tempdir().unwrap();
    let key = |name: &str| dir.path().join(format!("{name}.json"));
    let admin = write_new_keypair(&key("admin")).unwrap();
    let localnet = common::localnet(dir.path(), &admin);
    let operator = Operator::on(&localnet, dir.path().join("state"));
    let mut chain = RpcChain::connect(&localnet.rpc_url).unwrap();
    let mut funded = |name: &str| {
        let keypair = write_new_keypair(&key(name)).unwrap();
        chain
            .airdrop(&keypair.pubkey(), 5 * LAMPORTS_PER_SOL)
            .unwrap();
        keypair.pubkey()
    };
    let (funder, node, _, _) = (
        funded("funder"),
        funded("node"),
        funded("validator"),
        funded("payer"),
    );
    ok(operator.run(&key("validator"), &["validator", "register", "--sol", "2"]));
    let opened: serde_json::Value = serde_json::from_str(&ok(operator.run(
        &key("funder"),
        &[
            "round",
            "open",
            "--committee-size",
            "3",
            "--training-slots",
            "1000",
            "--json",
        ],
    )))
    .unwrap();
    let round: Address = opened["address"].as_str().unwrap().parse().unwrap();
    // The node trains, then joins and commits; its state is all this test needs of it.
    let mut node_run = operator.spawn(
        &key("node"),
        &["node", "run", &round.to_string(), "--shard", "0/1"],
    );
    let program = Address::new_from_array(droppin_interface::PROGRAM_ID);
    let node_state = find::node(&program, &round, &node);
    let started = Instant::now();
    while chain.account(&node_state).unwrap().is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the node never joined"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    node_run.kill().unwrap();
    node_run.wait().unwrap();

    let started = Instant::now();
    let output = Command::new("node")
        .args(["--test", "test/"])
        .current_dir(client_dir())
        .env("DROPPIN_RPC_URL", &localnet.rpc_url)
        .env("DROPPIN_ROUND", round.to_string())
        .env("DROPPIN_ADMIN", admin.pubkey().to_string())
        .env("DROPPIN_FUNDER", funder.to_string())
        .env("DROPPIN_NODE", node.to_string())
        .env("DROPPIN_PAYER_KEYPAIR", key("payer"))
        .output()
        .expect("node (Node.js) runs the JavaScript client's tests");
    let report = String::from_utf8_lossy(&output.stdout);
    println!(
        "{report}\nJavaScript client tests: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(
        output.status.success(),
        "{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(report.contains("# pass 6"), "{report}");
}

#[test]
fn dpin_idl_prints_the_checked_in_idl() {
    let output = Command::new(env!("CARGO_BIN_EXE_dpin"))
        .arg("idl")
        .output()
        .unwrap();
    assert!(output.status.success());
    let idl: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let program = Address::new_from_array(droppin_interface::PROGRAM_ID);
    assert_eq!(idl["standard"], "codama");
    assert_eq!(idl["program"]["publicKey"], program.to_string());
    let checked_in = std::fs::read(client_dir().join("../../idl/droppin.json")).unwrap();
    assert_eq!(output.stdout, checked_in);
}
