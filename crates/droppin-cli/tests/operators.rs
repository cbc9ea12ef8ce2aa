//! Operators' commands end to end against the local network: five validators bond into the
//! registry, a funder opens a round naming only its committee's size, three node processes run
//! their whole round, the validators serve it (those drawn take seats, report what they fetched,
//! seal and reveal votes), anyone cranks, and the shipped model is exported.

use std::{
    path::PathBuf,
    process::{Child, Command},
};

mod common;

use common::{Operator, ok};

use std::time::Duration;

use droppin_client::{Chain, Protocol, RpcChain, write_new_keypair};
use droppin_interface::LAMPORTS_PER_SOL;
use solana_address::Address;
use solana_signer::Signer;

#[test]
fn a_round_driven_by_operators_commands() {
    let dir = tempfile::tempdir().unwrap();
    let admin_path = dir.path().join("admin.json");
    let admin = write_new_keypair(&admin_path).unwrap();
    let localnet = common::localnet(dir.path(), &admin);
    let operator = Operator::on(&localnet, dir.path().join("state"));
    let mut chain = RpcChain::connect(&localnet.rpc_url).unwrap();
    let names = [
        "funder", "node0", "node1", "node2", "v0", "v1", "v2", "v3", "v4",
    ];
    let keys: Vec<PathBuf> = names
        .iter()
        .map(|name| {
            let path = dir.path().join(format!("{name}.json"));
            let key = write_new_keypair(&path).unwrap();
            chain.airdrop(&key.pubkey(), 5 * LAMPORTS_PER_SOL).unwrap();
            path
        })
        .collect();
    let validators = &keys[4..];
    for v in validators {
        let status: serde_json::Value = serde_json::from_str(&ok(
            operator.run(v, &["validator", "register", "--sol", "2", "--json"])
        ))
        .unwrap();
        assert_eq!(status["bond"], 2 * LAMPORTS_PER_SOL);
        assert_eq!(status["currency"], "SOL");
    }
    let again = operator.run(&validators[0], &["validator", "register", "--sol", "2"]);
    assert!(!again.status.success(), "a validator registers once");
    let opened: serde_json::Value = serde_json::from_str(&ok(operator.run(
        &keys[0],
        &[
            "round",
            "open",
            // The whole registry is the expected committee, so the draw seats all five: with
            // three of five, about one draw in twelve seats a single validator, short of a
            // quorum, and nobody in this test escalates.
            "--committee-size",
            "5",
            "--max-nodes",
            "3",
            // 80-slot phases: room for three nodes training and five validators judging on
            // two loaded cores.
            "--training-slots",
            "80",
            "--review-slots",
            "80",
            "--json",
        ],
    )))
    .unwrap();
    let round = opened["address"].as_str().unwrap().to_string();
    assert_eq!(opened["phase"], "training");
    assert_eq!(opened["drawn"], false, "nobody knows the committee yet");
    // Nodes and validators reach the cluster through a relay that goes down for 5 s once the
    // nodes have joined: they wait for it to come back (a minute's patience, so that none
    // lingers long should the test fail) and finish the round.
    let outage = Outage::relay(&localnet.rpc_url);
    let relayed = Operator {
        rpc: outage.url.clone(),
        ..operator.clone()
    };
    let nodes: Vec<Child> = (0..3)
        .map(|i| {
            let shard = format!("{i}/3");
            relayed.spawn(
                &keys[1 + i],
                &[
                    "node",
                    "run",
                    &round,
                    "--shard",
                    &shard,
                    "--json",
                    "--patience",
                    "60",
                ],
            )
        })
        .collect();
    let serving: Vec<Child> = validators
        .iter()
        .map(|v| relayed.spawn(v, &["validate", &round, "--patience", "60"]))
        .collect();
    let protocol = Protocol::new(RpcChain::connect(&localnet.rpc_url).unwrap());
    let round_address: Address = round.parse().unwrap();
    let joining = std::time::Instant::now();
    while protocol.round(&round_address).unwrap().counts.nodes_joined < 3 {
        assert!(
            joining.elapsed() < Duration::from_secs(300),
            "the nodes did not all join"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    outage.cut(Duration::from_secs(5));
    let finished = |process: Child| {
        let output = process.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).to_string();
        (ok(output), stderr)
    };
    let (settled, nodes_told): (Vec<String>, Vec<String>) = nodes.into_iter().map(finished).unzip();
    let (served, validators_told): (Vec<String>, Vec<String>) =
        serving.into_iter().map(finished).unzip();
    for told in [&nodes_told, &validators_told] {
        assert!(
            told.iter()
                .any(|stderr| stderr.contains("cannot reach the cluster")
                    && stderr.contains("trying again in")),
            "{told:?}"
        );
    }
    // What the validators did and where the round ended, should a node not be paid.
    let story = || {
        let shown = ok(operator.run(&keys[0], &["round", "show", &round, "--json"]));
        format!("validators:\n{}\nround: {shown}", served.join("\n"))
    };
    for stdout in &settled {
        let settled: serde_json::Value =
            serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
        assert_eq!(settled["outcome"], "accepted", "{stdout}\n{}", story());
        assert_eq!(settled["currency"], "SOL", "{stdout}");
        assert!(settled["received"].as_u64().unwrap() > 20_000_000);
    }
    let mut seated = 0;
    for stdout in &served {
        if stdout.contains("sealed its vote") {
            seated += 1;
            // It reported what it fetched before it judged what the majority fetched.
            assert!(stdout.contains("seated, fetched 3 of 3"), "{stdout}");
            assert!(stdout.contains("revealed its vote"), "{stdout}");
        }
    }
    assert!(seated >= 2, "a drawn committee judged the round");
    let shown: serde_json::Value = serde_json::from_str(&ok(
        operator.run(&keys[0], &["round", "show", &round, "--json"])
    ))
    .unwrap();
    assert_eq!(shown["phase"], "finalized");
    assert_eq!(shown["drawn"], true);
    assert_eq!(shown["nodes_settled"], 3);
    let model = dir.path().join("model.safetensors");
    ok(operator.run(
        &keys[0],
        &[
            "model",
            "export",
            "--round",
            &round,
            "--out",
            model.to_str().unwrap(),
        ],
    ));
    assert!(model.exists());
    ok(operator.run(&keys[0], &["crank", &round]));
    let listed = ok(operator.run(&keys[0], &["round", "list", "--json"]));
    assert_eq!(listed.trim(), "[]", "the closed round is gone");

    // The round's fee is in the treasury: launch $dPIN, buy some with it and burn it. The admin
    // holds the whole supply, so it is its own counterparty here.
    chain.airdrop(&admin.pubkey(), LAMPORTS_PER_SOL).unwrap();
    let admin_key = admin_path.to_str().unwrap();
    ok(operator.run(&admin_path, &["treasury", "launch", "--supply", "1000000"]));
    let swapped: serde_json::Value = serde_json::from_str(
        ok(operator.run(
            &admin_path,
            &[
                "treasury",
                "swap",
                "--sol",
                "0.05",
                "--counterparty",
                admin_key,
                "--json",
            ],
        ))
        .lines()
        .last()
        .unwrap(),
    )
    .unwrap();
    // Amounts are exact integers of base units.
    let dpin = 10u64.pow(u32::from(droppin_interface::DPIN_DECIMALS));
    assert_eq!(swapped["swapped_lamports"], 50_000_000);
    // The batch pays the auction's price: within 1% of the reference (50 $dPIN).
    let bought = swapped["bought_dpin_base_units"].as_u64().unwrap();
    assert!(
        (4_950 * dpin / 100..=5_050 * dpin / 100).contains(&bought),
        "{bought}"
    );
    assert_eq!(swapped["burned_dpin_base_units"], bought);
    assert_eq!(swapped["supply_dpin_base_units"], 1_000_000 * dpin - bought);
    let refused = operator.run(
        &admin_path,
        &[
            "treasury",
            "swap",
            "--sol",
            "0.01",
            "--counterparty",
            admin_key,
            "--dpin",
            "9",
        ],
    );
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("the batch's auction price requires now"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    // Once launched, a validator may bond $dPIN instead: weighed at the reference price.
    let bonded: serde_json::Value = serde_json::from_str(&ok(operator.run(
        &admin_path,
        &["validator", "register", "--dpin", "1500", "--json"],
    )))
    .unwrap();
    assert_eq!(bonded["currency"], "$dPIN");
    assert_eq!(bonded["bond"], 1_500_000_000u64);
    assert_eq!(
        bonded["bond_worth_lamports"], 1_500_000_000u64,
        "1.5 SOL's worth"
    );
    let mixed = operator.run(&admin_path, &["validator", "top-up", "--sol", "1"]);
    assert!(
        String::from_utf8_lossy(&mixed.stderr).contains("this bond is held in $dPIN"),
        "{}",
        String::from_utf8_lossy(&mixed.stderr)
    );
    let unbonding: serde_json::Value = serde_json::from_str(&ok(operator.run(
        &admin_path,
        &["validator", "unbond", "--dpin", "500", "--json"],
    )))
    .unwrap();
    assert_eq!(unbonding["unbonding"], 500_000_000u64);
}

#[test]
fn operators_errors_are_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    let output = Command::new(env!("CARGO_BIN_EXE_dpin"))
        .args(["round", "list", "--url", "http://127.0.0.1:9"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("cannot reach the cluster at http://127.0.0.1:9"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    std::fs::write(missing.with_extension("bad"), "not a key").unwrap();
    for (path, message) in [
        (missing.clone(), "no such file"),
        (missing.with_extension("bad"), "not a Solana keypair file"),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_dpin"))
            .args([
                "node",
                "claim",
                "11111111111111111111111111111111",
                "--keypair",
            ])
            .arg(&path)
            .args(["--url", "http://127.0.0.1:9"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success());
        assert!(
            stderr.contains(message) || stderr.contains("cannot reach"),
            "{stderr}"
        );
    }
}

/// A TCP relay to a cluster's RPC port that can be cut off for a while, as a network outage:
/// while it is cut, open connections are severed and new ones are closed unanswered.
pub struct Outage {
    /// The URL to give the commands instead of the cluster's.
    pub url: String,
    down: std::sync::Arc<std::sync::atomic::AtomicBool>,
    open: std::sync::Arc<std::sync::Mutex<Vec<std::net::TcpStream>>>,
}

impl Outage {
    /// A relay to the cluster at `url` (`http://127.0.0.1:PORT`), up.
    pub fn relay(url: &str) -> Outage {
        use std::{
            net::{TcpListener, TcpStream},
            sync::atomic::Ordering,
        };
        let target = url.trim_start_matches("http://").to_string();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let outage = Outage {
            url: format!("http://{}", listener.local_addr().unwrap()),
            down: Default::default(),
            open: Default::default(),
        };
        let (down, open) = (outage.down.clone(), outage.open.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if down.load(Ordering::SeqCst) {
                    continue;
                }
                let Ok(server) = TcpStream::connect(&target) else {
                    continue;
                };
                let mut open = open.lock().unwrap();
                open.extend([client.try_clone().unwrap(), server.try_clone().unwrap()]);
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        outage
    }

    /// Cuts the relay for `length`: every request in that time fails as if the cluster were
    /// unreachable.
    pub fn cut(&self, length: std::time::Duration) {
        use std::sync::atomic::Ordering;
        self.down.store(true, Ordering::SeqCst);
        for stream in self.open.lock().unwrap().drain(..) {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
        std::thread::sleep(length);
        self.down.store(false, Ordering::SeqCst);
    }
}
