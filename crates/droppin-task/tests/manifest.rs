//! Manifests: the catalog checks, the canonical encoding is stable, and every kind of mistake
//! gets one error that names its field.

use droppin_task::{Layer, MAX_PARAMETERS, MAX_STEP_ACTIVATIONS, Manifest, TaskError, catalog};

#[test]
fn every_catalog_task_checks_with_its_expected_size() {
    let sizes: Vec<(String, u64)> = catalog::all()
        .iter()
        .map(|m| (m.name.clone(), m.check().unwrap().parameters))
        .collect();
    assert_eq!(
        sizes,
        [
            ("digits".to_string(), 4_810),
            ("mnist-cnn".to_string(), 31_530),
            ("cifar10-cnn".to_string(), 545_098),
            ("breast-cancer".to_string(), 530),
            ("char-lm".to_string(), 58_981),
        ]
    );
    // The digits task is the engine's 8x8 MLP: 64 -> 64 -> 10.
    let digits = catalog::get("digits").unwrap().check().unwrap();
    assert_eq!(digits.input, [1, 8, 8]);
    assert_eq!(digits.shapes.last().unwrap(), &[10]);
    let lm = catalog::get("char-lm").unwrap().check().unwrap();
    assert_eq!(
        lm.shapes.last().unwrap(),
        &[64, 37],
        "a token at every position"
    );
}

#[test]
fn the_canonical_encoding_ignores_layout_and_names_the_task() {
    let manifest = catalog::get("mnist-cnn").unwrap();
    let reparsed = Manifest::parse(&manifest.pretty()).unwrap();
    assert_eq!(reparsed.canonical(), manifest.canonical());
    assert_eq!(reparsed.hash(), manifest.hash());
    assert_eq!(manifest.cid().digest(), &manifest.hash());
    let mut other = manifest.clone();
    other.recipe.epochs += 1;
    assert_ne!(
        other.hash(),
        manifest.hash(),
        "the recipe is part of the task"
    );
    let hashes: std::collections::BTreeSet<[u8; 32]> =
        catalog::all().iter().map(Manifest::hash).collect();
    assert_eq!(hashes.len(), 5);
}

fn edited(name: &str, edit: impl FnOnce(&mut serde_json::Value)) -> Result<Manifest, TaskError> {
    let mut value: serde_json::Value =
        serde_json::from_slice(&catalog::get(name).unwrap().canonical()).unwrap();
    edit(&mut value);
    Manifest::parse(&value.to_string()).and_then(|m| m.check().map(|_| m))
}

fn field_of(result: Result<Manifest, TaskError>) -> String {
    match result.unwrap_err() {
        TaskError::Malformed { field, .. } | TaskError::Invalid { field, .. } => field,
        other => panic!("{other}"),
    }
}

#[test]
fn each_mistake_is_one_error_naming_its_field() {
    // An unknown layer.
    let unknown = edited("digits", |v| v["model"][1]["layer"] = "conv3d".into());
    assert_eq!(field_of(unknown.clone()), "model[1].layer");
    assert!(unknown.unwrap_err().to_string().contains("conv3d"));
    // An unknown field, and a wrong type.
    assert_eq!(
        field_of(edited("digits", |v| v["recipe"]["lr"] = 0.1.into())),
        "recipe.lr"
    );
    assert_eq!(
        field_of(edited("digits", |v| v["recipe"]["epochs"] = "five".into())),
        "recipe.epochs"
    );
    // A shape mismatch: a convolution on flattened input.
    let mismatch = edited("mnist-cnn", |v| {
        v["model"]
            .as_array_mut()
            .unwrap()
            .insert(0, serde_json::json!({"layer": "flatten"}))
    });
    assert_eq!(field_of(mismatch.clone()), "model[1] (conv2d)");
    assert!(mismatch.unwrap_err().to_string().contains("784"));
    // A kernel larger than its input.
    assert_eq!(
        field_of(edited("digits", |v| {
            v["model"][0] = serde_json::json!({"layer": "conv2d", "channels": 4, "kernel": 9})
        })),
        "model[0] (conv2d)"
    );
    // An output that does not match the classes.
    assert_eq!(
        field_of(edited("digits", |v| v["model"][3]["units"] = 9.into())),
        "model"
    );
    // Over the parameter limit.
    let huge = edited("digits", |v| v["model"][1]["units"] = 100_000.into());
    assert_eq!(field_of(huge.clone()), "model[1] (dense)");
    assert!(
        huge.unwrap_err()
            .to_string()
            .contains(&MAX_PARAMETERS.to_string())
    );
    // Few parameters, but more activations than a step may hold: a wide convolution, and a
    // batch too large for a model that fits one sample.
    let wide = edited("mnist-cnn", |v| {
        v["data"]["channels"] = 4.into();
        v["data"]["height"] = 1024.into();
        v["data"]["width"] = 1024.into();
        v["model"] = serde_json::json!([
            {"layer": "conv2d", "channels": 256, "kernel": 1},
            {"layer": "max_pool2d", "kernel": 1024},
            {"layer": "flatten"},
            {"layer": "dense", "units": 10}
        ]);
    });
    assert_eq!(field_of(wide.clone()), "model");
    assert!(
        wide.unwrap_err()
            .to_string()
            .contains(&MAX_STEP_ACTIVATIONS.to_string())
    );
    assert_eq!(
        field_of(edited("cifar10-cnn", |v| v["recipe"]["batch_size"] = 4096.into())),
        "recipe.batch_size"
    );
    // An unknown field in a column, too (the parser names the field itself, inside `data`).
    let column = edited("breast-cancer", |v| {
        v["data"]["columns"][0]["unit"] = "mm".into()
    });
    assert!(
        column.clone().unwrap_err().to_string().contains("`unit`"),
        "{column:?}"
    );
    assert_eq!(field_of(column), "data");
    // Sizes that would overflow are errors, not crashes.
    assert_eq!(
        field_of(edited("digits", |v| {
            v["model"][0] = serde_json::json!(
                {"layer": "conv2d", "channels": 4_000_000_000u32, "kernel": 3, "padding": 1}
            )
        })),
        "model[0] (conv2d)"
    );
    assert_eq!(
        field_of(edited("digits", |v| {
            v["model"][0] = serde_json::json!(
                {"layer": "conv2d", "channels": 1, "kernel": 1, "padding": 4_000_000_000u32}
            )
        })),
        "model[0] (conv2d)"
    );
    // An embedding takes token ids, which only a text task has.
    assert_eq!(
        field_of(edited("breast-cancer", |v| {
            v["model"][0] = serde_json::json!({"layer": "embedding", "dim": 8})
        })),
        "model[0] (embedding)"
    );
    // A bad schema, an unknown metric, a metric that does not fit the task.
    assert_eq!(
        field_of(edited("digits", |v| v["data"]["classes"] =
            serde_json::json!(["a"]))),
        "data.classes"
    );
    assert_eq!(
        field_of(edited(
            "breast-cancer",
            |v| v["data"]["columns"][3]["name"] = "radius_mean".into()
        )),
        "data.columns[3].name"
    );
    assert_eq!(
        field_of(edited("digits", |v| v["validation"]["metric"] = "f1".into())),
        "validation.metric"
    );
    assert_eq!(
        field_of(edited("digits", |v| v["validation"]["metric"] =
            "perplexity".into())),
        "validation.metric"
    );
    // A text model that does not start with an embedding, a recipe out of range.
    assert_eq!(
        field_of(edited("char-lm", |v| {
            v["model"].as_array_mut().unwrap().remove(0);
        })),
        "model[0] (transformer_block)"
    );
    assert_eq!(
        field_of(edited("digits", |v| v["recipe"]["learning_rate"] = (-1.0).into())),
        "recipe.learning_rate"
    );
    assert!(matches!(
        catalog::get("imagenet"),
        Err(TaskError::Unknown(name)) if name == "imagenet"
    ));
    assert!(matches!(
        Manifest::parse("{"),
        Err(TaskError::Malformed { .. })
    ));
}

#[test]
fn layers_compute_their_shapes() {
    let mut manifest = catalog::get("cifar10-cnn").unwrap();
    let shapes = manifest.check().unwrap().shapes;
    assert_eq!(shapes[2], [32, 16, 16], "pooled");
    assert_eq!(shapes[6], [4096], "flattened 64x8x8");
    // A 5x5 kernel with stride 2: (32 - 5) / 2 + 1 = 14, pooled to 7, then to 3.
    manifest.model[0] = Layer::Conv2d {
        channels: 32,
        kernel: 5,
        stride: 2,
        padding: 0,
    };
    let shapes = manifest.check().unwrap().shapes;
    assert_eq!(shapes[0], [32, 14, 14]);
    assert_eq!(shapes[6], [576]);
}
