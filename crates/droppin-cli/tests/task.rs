//! `dpin task`: the catalog, a manifest written, broken and checked, and a task explained.

use std::process::Command;

fn dpin(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dpin"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn the_catalog_a_new_manifest_its_check_and_its_explanation() {
    let listed = dpin(&["task", "list", "--json"]);
    assert!(listed.status.success());
    let tasks: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let names: Vec<&str> = tasks
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "digits",
            "mnist-cnn",
            "cifar10-cnn",
            "breast-cancer",
            "char-lm"
        ]
    );
    for task in tasks.as_array().unwrap() {
        assert!(
            task["cid"].as_str().unwrap().starts_with("bafkrei"),
            "{task}"
        );
        assert!(task["parameters"].as_u64().unwrap() > 0);
        assert!(["images", "tabular", "text"].contains(&task["data"].as_str().unwrap()));
    }

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mine.json");
    let file = path.to_str().unwrap();
    assert!(
        dpin(&[
            "task",
            "new",
            "mine",
            "--from",
            "breast-cancer",
            "--out",
            file
        ])
        .status
        .success()
    );
    let checked = dpin(&["task", "check", file, "--json"]);
    assert!(checked.status.success());
    let view: serde_json::Value = serde_json::from_slice(&checked.stdout).unwrap();
    assert_eq!(view["name"], "mine");
    assert_eq!(view["parameters"], 530);
    assert!(
        !dpin(&["task", "new", "again", "--out", file])
            .status
            .success(),
        "never overwrites"
    );

    // A layer nobody knows: one line naming the field, and a failure.
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("\"relu\"", "\"swish\"", 1)).unwrap();
    let broken = dpin(&["task", "check", file]);
    assert!(!broken.status.success());
    let error = String::from_utf8_lossy(&broken.stderr);
    assert!(
        error.contains("model[1].layer") && error.contains("swish"),
        "{error}"
    );
    assert_eq!(error.trim().lines().count(), 1, "{error}");

    let shown = dpin(&["task", "show", "mnist-cnn"]);
    assert!(shown.status.success());
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(text.contains("28x28 images"), "{text}");
    assert!(text.contains("max_pool2d         -> 16x14x14"), "{text}");
    assert!(!dpin(&["task", "show", "imagenet"]).status.success());
}
