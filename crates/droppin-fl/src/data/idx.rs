//! MNIST IDX files (`idx3-ubyte` images with an `idx1-ubyte` labels file).

use std::path::Path;

use super::Dataset;
use crate::FlError;

const IMAGES_MAGIC: u32 = 0x0000_0803;
const LABELS_MAGIC: u32 = 0x0000_0801;

/// Loads unsigned-byte images and labels; pixels are scaled to `[0, 1]`.
pub fn load_idx(images: &Path, labels: &Path) -> Result<Dataset, FlError> {
    let image_bytes = read(images)?;
    let label_bytes = read(labels)?;
    let (image_dims, pixels) = parse(&image_bytes, IMAGES_MAGIC, 3, images)?;
    let (label_dims, label_values) = parse(&label_bytes, LABELS_MAGIC, 1, labels)?;
    if image_dims[0] != label_dims[0] {
        return Err(FlError::Data(format!(
            "{} holds {} images but {} holds {} labels",
            images.display(),
            image_dims[0],
            labels.display(),
            label_dims[0]
        )));
    }
    let classes = usize::from(*label_values.iter().max().unwrap_or(&0)) + 1;
    Dataset::new(
        pixels.iter().map(|&p| f32::from(p) / 255.0).collect(),
        label_values.to_vec(),
        vec![1, image_dims[1], image_dims[2]],
        classes,
    )
}

fn read(path: &Path) -> Result<Vec<u8>, FlError> {
    std::fs::read(path).map_err(|e| FlError::Data(format!("{}: {e}", path.display())))
}

fn parse<'a>(
    bytes: &'a [u8],
    magic: u32,
    rank: usize,
    path: &Path,
) -> Result<(Vec<usize>, &'a [u8]), FlError> {
    let header_len = 4 + 4 * rank;
    let bad = |what: &str| FlError::Data(format!("{}: {what}", path.display()));
    if bytes.len() < header_len {
        return Err(bad("truncated IDX header"));
    }
    let word = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().expect("4 bytes"));
    if word(0) != magic {
        return Err(bad(&format!(
            "IDX magic {:#010x}, expected {magic:#010x}",
            word(0)
        )));
    }
    let dims: Vec<usize> = (0..rank).map(|i| word(4 + 4 * i) as usize).collect();
    let body = &bytes[header_len..];
    let expected = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| bad("IDX dimensions overflow"))?;
    if body.len() != expected {
        return Err(bad(&format!(
            "IDX body has {} bytes, dimensions say {expected}",
            body.len()
        )));
    }
    Ok((dims, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(magic: u32, dims: &[u32], body: &[u8]) -> Vec<u8> {
        let mut out = magic.to_be_bytes().to_vec();
        for d in dims {
            out.extend_from_slice(&d.to_be_bytes());
        }
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn reads_images_and_rejects_mismatches() {
        let dir = std::env::temp_dir().join(format!("droppin-idx-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (images, labels) = (dir.join("images"), dir.join("labels"));
        std::fs::write(
            &images,
            idx(IMAGES_MAGIC, &[2, 2, 2], &[0, 255, 0, 0, 51, 0, 0, 0]),
        )
        .unwrap();
        std::fs::write(&labels, idx(LABELS_MAGIC, &[2], &[3, 7])).unwrap();
        let data = load_idx(&images, &labels).unwrap();
        assert_eq!((data.len(), data.classes), (2, 8));
        assert_eq!(data.row(1), &[0.2, 0.0, 0.0, 0.0]);
        std::fs::write(&labels, idx(LABELS_MAGIC, &[3], &[3, 7, 1])).unwrap();
        assert!(
            load_idx(&images, &labels)
                .unwrap_err()
                .to_string()
                .contains("holds 2 images")
        );
        std::fs::write(&labels, idx(IMAGES_MAGIC, &[2], &[3, 7])).unwrap();
        assert!(
            load_idx(&images, &labels)
                .unwrap_err()
                .to_string()
                .contains("magic")
        );
        std::fs::write(&images, idx(IMAGES_MAGIC, &[2, 2, 2], &[0; 5])).unwrap();
        assert!(
            load_idx(&images, &labels)
                .unwrap_err()
                .to_string()
                .contains("body has 5 bytes")
        );
    }
}
