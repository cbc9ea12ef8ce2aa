//! The same round over the wire: the local network (surfpool's surfnet behind JSON-RPC, the real
//! program deployed), blobs uploaded to and fetched from the storage gateway over HTTP.

use droppin_cli::{
    demo::{DemoConfig, run},
    localnet::{Localnet, LocalnetOptions},
};
use droppin_client::{ChainError, RpcChain};
use droppin_fl::data::digits;
use droppin_storage::{KuboStore, Limits};
use droppin_tests::program_path;
use solana_keypair::Keypair;

#[test]
fn a_round_over_json_rpc_and_the_storage_gateway() {
    let dir = tempfile::tempdir().unwrap();
    let localnet = Localnet::start(LocalnetOptions {
        rpc_port: 0,
        gateway_port: 0,
        data_dir: dir.path().join("localnet"),
        web_root: None,
        program: program_path(),
        admin: Keypair::new(),
    })
    .unwrap();
    // 100-slot phases at 250 ms a slot: 25 s to stake, train and commit over the wire.
    let config = DemoConfig::new(dir.path().join("out"));
    let chain = RpcChain::connect(&localnet.rpc_url).unwrap();
    let store = KuboStore::new(&localnet.gateway_url(), Limits::default()).unwrap();
    let report = run(&config, chain, &store, &digits().unwrap()).unwrap();
    for node in &report.nodes {
        let expected = if node.malicious {
            "slashed"
        } else {
            "accepted"
        };
        assert_eq!(node.verdict, expected, "{node:?}");
    }
    assert_eq!(report.escrow_remaining_lamports, 0);
    assert!(report.accuracy_after > report.accuracy_before + 0.3);
    // The cluster reports compute units per transaction, as the embedded chain does.
    assert!(report.compute_units["RevealUpdate"].max > 0);
    // The same seed on the embedded chain ships the same model: the chain does not matter.
    let embedded = run(
        &DemoConfig::new(dir.path().join("embedded")),
        droppin_client::EmbeddedChain::new(&program_path()).unwrap(),
        &droppin_storage::LocalStore::open(dir.path().join("blobs"), Limits::default()).unwrap(),
        &digits().unwrap(),
    )
    .unwrap();
    assert_eq!(embedded.model_cid, report.model_cid);
}

#[test]
fn an_unreachable_cluster_says_where() {
    match RpcChain::connect("http://127.0.0.1:9") {
        Err(ChainError::Unreachable { url, .. }) => assert_eq!(url, "http://127.0.0.1:9"),
        Err(other) => panic!("expected unreachable, got {other}"),
        Ok(_) => panic!("nothing listens on port 9"),
    }
}
