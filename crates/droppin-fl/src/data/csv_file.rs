//! CSV loader: one sample per row, a named label column, every other column a numeric feature.

use std::io::Read;
use std::path::Path;

use super::Dataset;
use crate::FlError;

/// Loads a CSV file with a header row (see [`parse_csv`]).
pub fn load_csv(path: &Path, label_column: &str) -> Result<Dataset, FlError> {
    let file =
        std::fs::File::open(path).map_err(|e| FlError::Data(format!("{}: {e}", path.display())))?;
    parse_csv(file, label_column, &path.display().to_string())
}

/// Parses CSV with a header row from any reader (a file, or the bytes a browser's file picker
/// read); `name` prefixes its error messages (`name:line: ...`). Labels must be integers
/// `0..classes`; features are scaled to `[0, 1]` by the largest absolute value found, so pixel
/// data (0..255, 0..16) works as is.
pub fn parse_csv(source: impl Read, label_column: &str, name: &str) -> Result<Dataset, FlError> {
    let mut reader = csv::Reader::from_reader(source);
    let headers = reader
        .headers()
        .map_err(|e| FlError::Data(format!("{name}: {e}")))?;
    let label_index = headers
        .iter()
        .position(|h| h.trim() == label_column)
        .ok_or_else(|| FlError::Data(format!("{name}: no column named {label_column:?}")))?;
    let dim = headers.len() - 1;
    let mut features = Vec::new();
    let mut labels = Vec::new();
    for (row, record) in reader.records().enumerate() {
        let record = record.map_err(|e| FlError::Data(format!("{name}: {e}")))?;
        let line = row + 2;
        for (column, field) in record.iter().enumerate() {
            let field = field.trim();
            if column == label_index {
                let label: u8 = field.parse().map_err(|_| {
                    FlError::Data(format!(
                        "{name}:{line}: label {field:?} is not a class index"
                    ))
                })?;
                labels.push(label);
            } else {
                let value: f32 = field.parse().map_err(|_| {
                    FlError::Data(format!("{name}:{line}: {field:?} is not a number"))
                })?;
                features.push(value);
            }
        }
    }
    if labels.is_empty() {
        return Err(FlError::Data(format!("{name}: no rows")));
    }
    let scale = features.iter().fold(0f32, |m, v| m.max(v.abs()));
    if scale > 1.0 {
        features.iter_mut().for_each(|v| *v /= scale);
    }
    let classes = usize::from(*labels.iter().max().unwrap_or(&0)) + 1;
    Dataset::new(features, labels, image_shape(dim), classes)
}

/// A square feature count is treated as a one-channel image, so the CNN can use it.
pub(super) fn image_shape(dim: usize) -> Vec<usize> {
    let side = (dim as f64).sqrt() as usize;
    if side * side == dim {
        vec![1, side, side]
    } else {
        vec![dim]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_named_label_and_rejects_bad_rows() {
        let dir = std::env::temp_dir().join(format!("droppin-csv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good.csv");
        std::fs::write(&good, "a,label,b,c,d\n0,1,255,0,0\n255,0,0,0,255\n").unwrap();
        let data = load_csv(&good, "label").unwrap();
        assert_eq!(data.labels, vec![1, 0]);
        assert_eq!(data.sample_shape, vec![1, 2, 2]);
        assert_eq!(data.row(0), &[0.0, 1.0, 0.0, 0.0]);
        let err = load_csv(&good, "target").unwrap_err().to_string();
        assert!(err.contains("no column named \"target\""), "{err}");
        let bad = dir.join("bad.csv");
        std::fs::write(&bad, "x,label\nabc,1\n").unwrap();
        assert!(
            load_csv(&bad, "label")
                .unwrap_err()
                .to_string()
                .contains("bad.csv:2")
        );
    }
}
