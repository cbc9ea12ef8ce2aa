//! The tasks the order form offers, each a manifest shipped with the crate.

use crate::{Manifest, TaskError};

/// Name and manifest text of every catalog task, in the order the form lists them.
const TASKS: [(&str, &str); 5] = [
    ("digits", include_str!("../catalog/digits.json")),
    ("mnist-cnn", include_str!("../catalog/mnist-cnn.json")),
    ("cifar10-cnn", include_str!("../catalog/cifar10-cnn.json")),
    (
        "breast-cancer",
        include_str!("../catalog/breast-cancer.json"),
    ),
    ("char-lm", include_str!("../catalog/char-lm.json")),
];

/// The catalog's task names.
pub fn names() -> impl Iterator<Item = &'static str> {
    TASKS.iter().map(|(name, _)| *name)
}

/// A catalog task's manifest.
pub fn get(name: &str) -> Result<Manifest, TaskError> {
    let (_, text) = TASKS
        .iter()
        .find(|(n, _)| *n == name)
        .ok_or_else(|| TaskError::Unknown(name.into()))?;
    Manifest::parse(text)
}

/// Every catalog task, in order.
pub fn all() -> Vec<Manifest> {
    names()
        .map(|name| get(name).expect("the shipped manifests parse (tested)"))
        .collect()
}
