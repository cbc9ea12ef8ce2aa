//! `dpin demo` end to end: the binary on the embedded chain, its JSON, its files, its errors.

use std::process::Command;

fn dpin(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dpin"))
        .args(args)
        .output()
        .expect("dpin runs")
}

#[test]
fn json_reports_every_field_and_the_files_exist() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("demo");
    let out = dpin(&["demo", "--json", "--out", out_dir.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    let nodes = report["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 8);
    for node in nodes {
        for field in ["pubkey", "verdict"] {
            assert!(node[field].is_string(), "{field}");
        }
        for field in ["weight_bps", "stake_lamports", "payout_lamports"] {
            assert!(node[field].is_u64(), "{field}");
        }
        assert!(node["malicious"].is_boolean());
        let verdict = node["verdict"].as_str().unwrap();
        // Sign flips surely raise the validation loss: excluded, stake back, nothing paid.
        if node["malicious"] == true {
            assert!(verdict == "excluded" || verdict == "slashed", "{verdict}");
            assert_eq!(node["weight_bps"], 0);
        } else {
            assert_eq!(verdict, "accepted");
        }
    }
    assert_eq!(nodes.iter().filter(|n| n["malicious"] == true).count(), 2);
    let validators = report["validators"].as_array().unwrap();
    assert_eq!(validators.len(), 10, "the registry");
    for v in validators {
        assert!(v["drawn"].is_boolean() && v["voted_with_final"].is_boolean());
        assert!(v["bond_lamports"].is_u64() && v["payout_lamports"].is_u64());
    }
    assert!(report["appealed"].is_boolean() && report["overturned"].is_boolean());
    for field in ["accuracy_before", "accuracy_after", "seconds"] {
        assert!(report[field].is_f64(), "{field}");
    }
    for field in [
        "funded_lamports",
        "fee_lamports",
        "escrow_remaining_lamports",
        "funder_refund_lamports",
        "slashed_to_treasury_lamports",
    ] {
        assert!(report[field].is_u64(), "{field}");
    }
    assert!(report["model_cid"].as_str().unwrap().starts_with("bafkrei"));
    assert!(report["compute_units"]["RevealUpdate"]["max"].is_u64());
    assert!(out_dir.join("model.safetensors").exists());
    assert!(out_dir.join("accuracy.svg").exists());
}

#[test]
fn bad_input_is_one_readable_line_and_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().to_str().unwrap();
    let cases: [(&[&str], &str); 3] = [
        (
            &[
                "demo",
                "--out",
                out_dir,
                "--program",
                "/nonexistent/droppin.so",
            ],
            "cannot load the program from /nonexistent/droppin.so",
        ),
        (
            &["demo", "--out", out_dir, "--nodes", "4", "--malicious", "4"],
            "4 nodes cannot hold 4 attackers",
        ),
        (
            &[
                "demo",
                "--out",
                out_dir,
                "--validators",
                "4",
                "--silent-validators",
                "2",
            ],
            "leave no honest majority in the registry",
        ),
    ];
    for (args, message) in cases {
        let out = dpin(args);
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(message), "{stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    }
}
