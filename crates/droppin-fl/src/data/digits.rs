//! The UCI optical recognition of handwritten digits data (1,797 8x8 images, pixel values 0..=16),
//! as shipped in scikit-learn, compiled into the binary.

use std::io::Read;

use flate2::read::GzDecoder;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha20Rng;

use super::{Dataset, Split};
use crate::FlError;

const DIGITS_CSV_GZ: &[u8] = include_bytes!("../../data/digits.csv.gz");
/// The seed of the fixed split: changing it changes every published figure.
const SPLIT_SEED: u64 = 1_797;
const VALIDATION_LEN: usize = 360;
const TEST_LEN: usize = 360;

/// Loads the shipped digits as 8x8 single-channel images scaled to `[0, 1]`, with their fixed
/// split (1,077 / 360 / 360).
pub fn digits() -> Result<Split, FlError> {
    let mut text = String::new();
    GzDecoder::new(DIGITS_CSV_GZ)
        .read_to_string(&mut text)
        .map_err(|e| FlError::Data(format!("shipped digits data unreadable: {e}")))?;
    let mut features = Vec::with_capacity(1_797 * 64);
    let mut labels = Vec::with_capacity(1_797);
    for (line_no, line) in text.lines().enumerate() {
        let values: Vec<&str> = line.split(',').collect();
        if values.len() != 65 {
            return Err(FlError::Data(format!(
                "digits line {} has {} fields",
                line_no + 1,
                values.len()
            )));
        }
        for v in &values[..64] {
            let pixel: f32 = v.trim().parse().map_err(|_| {
                FlError::Data(format!("digits line {}: bad pixel {v:?}", line_no + 1))
            })?;
            features.push(pixel / 16.0);
        }
        labels.push(
            values[64]
                .trim()
                .parse()
                .map_err(|_| FlError::Data(format!("digits line {}: bad label", line_no + 1)))?,
        );
    }
    let all = Dataset::new(features, labels, vec![1, 8, 8], 10)?;
    let mut order: Vec<usize> = (0..all.len()).collect();
    order.shuffle(&mut ChaCha20Rng::seed_from_u64(SPLIT_SEED));
    let (validation, rest) = order.split_at(VALIDATION_LEN);
    let (test, train) = rest.split_at(TEST_LEN);
    Ok(Split {
        train: all.subset(train),
        validation: all.subset(validation),
        test: all.subset(test),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_fixed_and_disjoint() {
        let a = digits().unwrap();
        let b = digits().unwrap();
        assert_eq!(
            (a.train.len(), a.validation.len(), a.test.len()),
            (1_077, 360, 360)
        );
        assert_eq!(a.train, b.train);
        let mut counts = [0usize; 10];
        for d in [&a.train, &a.validation, &a.test] {
            for &l in &d.labels {
                counts[l as usize] += 1;
            }
        }
        assert_eq!(counts.iter().sum::<usize>(), 1_797);
        assert!(
            counts.iter().all(|&c| (174..=183).contains(&c)),
            "{counts:?}"
        );
        assert!(a.train.features.iter().all(|&v| (0.0..=1.0).contains(&v)));
    }
}
