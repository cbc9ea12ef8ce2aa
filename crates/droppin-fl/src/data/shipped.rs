//! Data shipped for catalog tasks, compiled into the binary and read through the task's own
//! schema: the Wisconsin diagnostic breast cancer set for `breast-cancer`, and a public-domain
//! text for `char-lm`. (The digits have their own fixed split: [`super::digits`].)

use std::io::Read;

use droppin_task::{DataSchema, Manifest};
use flate2::read::GzDecoder;

use super::{Dataset, Split, TabularSchema, digits, read_tabular, read_text};
use crate::FlError;

const BREAST_CANCER_CSV_GZ: &[u8] = include_bytes!("../../data/breast-cancer.csv.gz");
const SHAKESPEARE_TXT_GZ: &[u8] = include_bytes!("../../data/shakespeare.txt.gz");

fn gunzip(bytes: &[u8], name: &str) -> Result<String, FlError> {
    let mut text = String::new();
    GzDecoder::new(bytes)
        .read_to_string(&mut text)
        .map_err(|e| FlError::Data(format!("shipped {name} unreadable: {e}")))?;
    Ok(text)
}

/// The compressed file shipped for the task named `task`, and its name.
fn shipped_file(task: &str) -> Option<(&'static [u8], &'static str)> {
    match task {
        "breast-cancer" => Some((BREAST_CANCER_CSV_GZ, "breast-cancer.csv")),
        "char-lm" => Some((SHAKESPEARE_TXT_GZ, "shakespeare.txt")),
        _ => None,
    }
}

/// Whether the repository ships data for `task` (the digits included): what a round's
/// committee takes its validation set from, and what a visitor can try without their own.
pub fn ships_data(task: &Manifest) -> bool {
    task.name == "digits" || shipped_file(&task.name).is_some()
}

/// The data shipped for `task`, read by its schema; `None` when the repository ships none for
/// it (bring files with `--data`).
pub fn shipped(task: &Manifest) -> Option<Result<Dataset, FlError>> {
    let (bytes, name) = shipped_file(&task.name)?;
    Some(gunzip(bytes, name).and_then(|text| read_for(task, text.as_bytes(), name)))
}

/// The split a round of `task` uses when the repository ships its data: the digits' fixed
/// split, or [`Split::of`] the shipped set.
pub fn task_split(task: &Manifest) -> Option<Result<Split, FlError>> {
    if task.name == "digits" {
        return Some(digits());
    }
    shipped(task).map(|all| all.and_then(|all| Split::of(&all)))
}

/// A node's own file for `task`, read by its schema: a CSV for a tabular task, a text file for
/// a text task. Image tasks take image files (or a CSV or IDX of pixels), read elsewhere.
pub fn read_for(task: &Manifest, bytes: &[u8], name: &str) -> Result<Dataset, FlError> {
    match &task.data {
        DataSchema::Tabular {
            columns,
            label,
            classes,
            missing,
        } => read_tabular(
            TabularSchema {
                columns,
                label,
                classes,
                missing: *missing,
            },
            bytes,
            name,
        ),
        DataSchema::Text {
            vocabulary,
            context,
        } => {
            let text = std::str::from_utf8(bytes)
                .map_err(|e| FlError::Data(format!("{name}: not UTF-8 text: {e}")))?;
            read_text(vocabulary, *context as usize, text)
        }
        DataSchema::Images { .. } => Err(FlError::Data(format!(
            "{name}: task `{}` takes images",
            task.name
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use droppin_task::catalog;

    #[test]
    fn the_shipped_data_fits_its_task() {
        let cancer = shipped(&catalog::get("breast-cancer").unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(
            (cancer.len(), cancer.feature_dim(), cancer.classes),
            (569, 30, 2)
        );
        assert_eq!(
            cancer.labels.iter().filter(|&&l| l == 1).count(),
            212,
            "malignant"
        );
        let text = shipped(&catalog::get("char-lm").unwrap()).unwrap().unwrap();
        assert_eq!((text.feature_dim(), text.classes), (64, 37));
        assert!(text.len() > 2_000, "{} windows", text.len());
        assert!(shipped(&catalog::get("mnist-cnn").unwrap()).is_none());
        let shipping: Vec<String> = catalog::all()
            .into_iter()
            .filter(ships_data)
            .map(|t| t.name)
            .collect();
        assert_eq!(shipping, ["digits", "breast-cancer", "char-lm"]);
    }
}
