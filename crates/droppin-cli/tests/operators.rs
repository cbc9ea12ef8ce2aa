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

use droppin_client::{Chain, RpcChain, write_new_keypair};
use droppin_interface::LAMPORTS_PER_SOL;
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
            "--phase-slots",
            "80",
            "--json",
        ],
    )))
    .unwrap();
    let round = opened["address"].as_str().unwrap().to_string();
    assert_eq!(opened["phase"], "training");
    assert_eq!(opened["drawn"], false, "nobody knows the committee yet");
    let nodes: Vec<Child> = (0..3)
        .map(|i| {
            let shard = format!("{i}/3");
            operator.spawn(
                &keys[1 + i],
                &["node", "run", &round, "--shard", &shard, "--json"],
            )
        })
        .collect();
    let serving: Vec<Child> = validators
        .iter()
        .map(|v| operator.spawn(v, &["validate", &round]))
        .collect();
    let settled: Vec<String> = nodes
        .into_iter()
        .map(|node| ok(node.wait_with_output().unwrap()))
        .collect();
    let served: Vec<String> = serving
        .into_iter()
        .map(|validator| ok(validator.wait_with_output().unwrap()))
        .collect();
    // What the validators did and where the round ended, should a node not be paid.
    let story = || {
        let shown = ok(operator.run(&keys[0], &["round", "show", &round, "--json"]));
        format!("validators:\n{}\nround: {shown}", served.join("\n"))
    };
    for stdout in &settled {
        let settled: serde_json::Value =
            serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
        assert_eq!(settled["outcome"], "accepted", "{stdout}\n{}", story());
        assert!(settled["received_lamports"].as_u64().unwrap() > 20_000_000);
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
    assert_eq!(swapped["sol_swapped"], 0.05);
    // The batch pays the auction's price: within 1% of the reference (50 $dPIN).
    let bought = swapped["dpin_bought"].as_f64().unwrap();
    assert!((49.5..=50.5).contains(&bought), "{bought}");
    assert_eq!(swapped["dpin_burned"], bought);
    assert_eq!(swapped["supply"], 1_000_000.0 - bought);
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
