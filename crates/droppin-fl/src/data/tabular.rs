//! A tabular task's CSV, read by its manifest's columns: numbers standardized by the file's own
//! mean and deviation, categories one-hot, the label by class name, missing values as the task
//! says.

use std::io::Read;

use droppin_task::{Column, Missing};

use super::Dataset;
use crate::FlError;

/// What a tabular task's data schema says, borrowed from its manifest.
#[derive(Clone, Copy, Debug)]
pub struct TabularSchema<'a> {
    pub columns: &'a [Column],
    pub label: &'a str,
    pub classes: &'a [String],
    pub missing: Missing,
}

/// A CSV cell that holds no value.
fn is_missing(field: &str) -> bool {
    matches!(field, "" | "?" | "NA" | "N/A" | "NaN" | "nan" | "null")
}

/// Reads a CSV with a header row naming at least the schema's columns and label (other columns
/// are ignored, in any order); `name` prefixes errors (`name:line: ...`).
pub fn read_tabular(
    schema: TabularSchema<'_>,
    source: impl Read,
    name: &str,
) -> Result<Dataset, FlError> {
    let mut reader = csv::Reader::from_reader(source);
    let headers = reader
        .headers()
        .map_err(|e| FlError::Data(format!("{name}: {e}")))?
        .clone();
    let find = |column: &str| {
        headers
            .iter()
            .position(|h| h.trim() == column)
            .ok_or_else(|| FlError::Data(format!("{name}: no column named {column:?}")))
    };
    let label_at = find(schema.label)?;
    let column_at = schema
        .columns
        .iter()
        .map(|c| find(c.name()))
        .collect::<Result<Vec<_>, _>>()?;
    // Numeric cells (None when missing) and category indices, row by row.
    let mut rows: Vec<Vec<Option<f64>>> = Vec::new();
    let mut labels = Vec::new();
    'rows: for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|e| FlError::Data(format!("{name}: {e}")))?;
        let line = index + 2;
        let field = |at: usize| record.get(at).map_or("", str::trim);
        let label = field(label_at);
        let Some(class) = schema.classes.iter().position(|c| c == label) else {
            if is_missing(label) {
                continue;
            }
            return Err(FlError::Data(format!(
                "{name}:{line}: label {label:?} is none of the task's classes ({})",
                schema.classes.join(", ")
            )));
        };
        let mut cells = Vec::with_capacity(schema.columns.len());
        for (column, &at) in schema.columns.iter().zip(&column_at) {
            let text = field(at);
            if is_missing(text) {
                if schema.missing == Missing::DropRow {
                    continue 'rows;
                }
                cells.push(None);
                continue;
            }
            let value = match column {
                Column::Numeric { .. } => text
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| {
                        FlError::Data(format!(
                            "{name}:{line}: {}: {text:?} is not a number",
                            column.name()
                        ))
                    })?,
                Column::Categorical { values, .. } => {
                    values.iter().position(|v| v == text).ok_or_else(|| {
                        FlError::Data(format!(
                            "{name}:{line}: {}: {text:?} is none of {}",
                            column.name(),
                            values.join(", ")
                        ))
                    })? as f64
                }
            };
            cells.push(Some(value));
        }
        rows.push(cells);
        labels.push(class as u8);
    }
    if rows.is_empty() {
        return Err(FlError::Data(format!("{name}: no complete rows")));
    }
    let features = encode(schema.columns, &rows);
    let dim = features.len() / rows.len();
    Dataset::new(features, labels, vec![dim], schema.classes.len())
}

/// Standardizes the numeric columns (a missing number becomes the mean, 0 after
/// standardizing) and one-hot encodes the categorical ones (missing: all zero).
fn encode(columns: &[Column], rows: &[Vec<Option<f64>>]) -> Vec<f32> {
    let stats: Vec<(f64, f64)> = (0..columns.len())
        .map(|c| {
            let values: Vec<f64> = rows.iter().filter_map(|r| r[c]).collect();
            let count = values.len().max(1) as f64;
            let mean = values.iter().sum::<f64>() / count;
            let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / count;
            (mean, variance.sqrt())
        })
        .collect();
    let mut features = Vec::new();
    for row in rows {
        for ((column, cell), &(mean, deviation)) in columns.iter().zip(row).zip(&stats) {
            match column {
                Column::Numeric { .. } => {
                    let standard = cell.map_or(0.0, |v| {
                        if deviation > 0.0 {
                            (v - mean) / deviation
                        } else {
                            0.0
                        }
                    });
                    features.push(standard as f32);
                }
                Column::Categorical { values, .. } => {
                    features.extend(
                        (0..values.len()).map(|i| f32::from(u8::from(*cell == Some(i as f64)))),
                    );
                }
            }
        }
    }
    features
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema<'a>(
        columns: &'a [Column],
        classes: &'a [String],
        missing: Missing,
    ) -> TabularSchema<'a> {
        TabularSchema {
            columns,
            label: "outcome",
            classes,
            missing,
        }
    }

    #[test]
    fn standardizes_numbers_one_hots_categories_and_names_bad_cells() {
        let columns = [
            Column::Numeric { name: "age".into() },
            Column::Categorical {
                name: "colour".into(),
                values: vec!["red".into(), "blue".into()],
            },
        ];
        let classes = ["no".to_string(), "yes".to_string()];
        let csv = "id,colour,outcome,age\n1,blue,yes,30\n2,red,no,50\n3,,no,?\n";
        let kept = read_tabular(
            schema(&columns, &classes, Missing::Mean),
            csv.as_bytes(),
            "t.csv",
        )
        .unwrap();
        assert_eq!(kept.labels, vec![1, 0, 0]);
        assert_eq!(kept.sample_shape, vec![3]);
        assert_eq!(kept.row(0), &[-1.0, 0.0, 1.0]);
        assert_eq!(kept.row(1), &[1.0, 1.0, 0.0]);
        assert_eq!(
            kept.row(2),
            &[0.0, 0.0, 0.0],
            "missing: the mean, and no category"
        );
        let dropped = read_tabular(
            schema(&columns, &classes, Missing::DropRow),
            csv.as_bytes(),
            "t.csv",
        )
        .unwrap();
        assert_eq!(dropped.len(), 2);
        for (bad, expected) in [
            (
                "colour,outcome,age\nred,maybe,1\n",
                "t.csv:2: label \"maybe\"",
            ),
            (
                "colour,outcome,age\ngreen,no,1\n",
                "t.csv:2: colour: \"green\"",
            ),
            (
                "colour,outcome,age\nred,no,old\n",
                "t.csv:2: age: \"old\" is not a number",
            ),
            ("colour,outcome\nred,no\n", "no column named \"age\""),
        ] {
            let error = read_tabular(
                schema(&columns, &classes, Missing::Mean),
                bad.as_bytes(),
                "t.csv",
            )
            .unwrap_err()
            .to_string();
            assert!(error.contains(expected), "{error}");
        }
    }
}
