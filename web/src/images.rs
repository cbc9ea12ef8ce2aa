//! Images from the file picker as training samples. The browser decodes each file; it is scaled
//! to the model's square grey input with ink as intensity (dark-on-light images are inverted, so
//! photos of handwriting match the digits), and its label is the number its name starts with
//! (`3.png`, `7_scan.jpg`).

use droppin_fl::data::Dataset;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::session::AppError;

/// The label a file name gives: its leading decimal number, below `classes`.
pub fn label_of(name: &str, classes: usize) -> Result<u8, AppError> {
    let digits: String = name.chars().take_while(char::is_ascii_digit).collect();
    digits
        .parse::<u8>()
        .ok()
        .filter(|label| usize::from(*label) < classes)
        .ok_or_else(|| {
            AppError::Invalid(format!(
                "{name}: name each image after its label, a number below {classes} (e.g. 3.png)"
            ))
        })
}

/// Grey levels in `[0, 1]` (ink high) from RGBA pixels composited over white.
pub fn ink(rgba: &[u8]) -> Vec<f32> {
    let grey: Vec<f32> = rgba
        .chunks_exact(4)
        .map(|p| {
            let alpha = f32::from(p[3]) / 255.0;
            let luma =
                (0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2]))
                    / 255.0;
            luma * alpha + (1.0 - alpha)
        })
        .collect();
    let mean = grey.iter().sum::<f32>() / grey.len().max(1) as f32;
    // Mostly light: dark ink on paper, so ink is the inverse of brightness.
    if mean > 0.5 {
        grey.iter().map(|g| 1.0 - g).collect()
    } else {
        grey
    }
}

/// Decodes `files` into a dataset of `side` x `side` grey images.
pub async fn read_images(
    files: &[web_sys::File],
    side: u32,
    classes: usize,
) -> Result<Dataset, AppError> {
    let failed = |name: &str, what: &str| AppError::Invalid(format!("{name}: {what}"));
    let mut features = Vec::with_capacity(files.len() * (side * side) as usize);
    let mut labels = Vec::with_capacity(files.len());
    for file in files {
        let name = file.name();
        labels.push(label_of(&name, classes)?);
        let window = web_sys::window().ok_or_else(|| failed(&name, "no window"))?;
        let promise = window
            .create_image_bitmap_with_blob(file)
            .map_err(|_| failed(&name, "not an image"))?;
        let bitmap: web_sys::ImageBitmap = JsFuture::from(promise)
            .await
            .map_err(|_| failed(&name, "the browser cannot decode this image"))?
            .unchecked_into();
        let canvas =
            web_sys::OffscreenCanvas::new(side, side).map_err(|_| failed(&name, "no canvas"))?;
        let context: web_sys::OffscreenCanvasRenderingContext2d = canvas
            .get_context("2d")
            .ok()
            .flatten()
            .ok_or_else(|| failed(&name, "no 2D canvas"))?
            .unchecked_into();
        let side = f64::from(side);
        context
            .draw_image_with_image_bitmap_and_dw_and_dh(&bitmap, 0.0, 0.0, side, side)
            .map_err(|_| failed(&name, "cannot scale the image"))?;
        let pixels = context
            .get_image_data(0.0, 0.0, side, side)
            .map_err(|_| failed(&name, "cannot read the pixels"))?;
        features.extend(ink(&pixels.data()));
    }
    let side = side as usize;
    Ok(Dataset::new(
        features,
        labels,
        vec![1, side, side],
        classes,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_come_from_names() {
        assert_eq!(label_of("3.png", 10).unwrap(), 3);
        assert_eq!(label_of("7_scan.jpg", 10).unwrap(), 7);
        assert!(label_of("12.png", 10).is_err());
        assert!(
            label_of("seven.png", 10)
                .unwrap_err()
                .to_string()
                .contains("name each image")
        );
    }

    #[test]
    fn ink_is_dark_on_light_inverted() {
        // Black pixel, white pixel, transparent (reads as paper).
        let rgba = [
            0, 0, 0, 255, 255, 255, 255, 255, 0, 0, 0, 0, 255, 255, 255, 255,
        ];
        assert_eq!(ink(&rgba), vec![1.0, 0.0, 0.0, 0.0]);
        // White on black (MNIST style) stays as it is.
        assert_eq!(
            ink(&[255, 255, 255, 255, 0, 0, 0, 255, 0, 0, 0, 255]),
            vec![1.0, 0.0, 0.0]
        );
    }
}
