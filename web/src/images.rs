//! Images from the file picker as training samples, as an image task's schema says. The browser
//! decodes each file and scales it to the task's size: grey images with ink as intensity
//! (dark-on-light images are inverted, so photos of handwriting match the digits), colour images
//! as RGB in `[0, 1]`. Its label is the class its folder is named after (`cat/001.png`), or the
//! class its name starts with (`cat_001.png`, or `3.png` for a class's index).

use droppin_fl::data::Dataset;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::session::AppError;

/// The label of the image at `path` (its name, with the folder it was picked in, if any): the
/// folder's name if it is a class, else the class or the class index its name starts with.
pub fn label_of(path: &str, classes: &[String]) -> Result<u8, AppError> {
    let (folder, name) = path.rsplit_once('/').unwrap_or(("", path));
    let folder = folder.rsplit('/').next().unwrap_or_default();
    let stem = name.split(['_', '.', '-', ' ']).next().unwrap_or_default();
    let by_name = |text: &str| classes.iter().position(|c| c == text);
    let by_index = || {
        let digits: String = name.chars().take_while(char::is_ascii_digit).collect();
        digits.parse::<usize>().ok().filter(|i| *i < classes.len())
    };
    by_name(folder)
        .or_else(|| by_name(stem))
        .or_else(by_index)
        .map(|label| label as u8)
        .ok_or_else(|| {
            AppError::Invalid(format!(
                "{path}: put each image in a folder named after its class, or name it after its class ({}) or its number (e.g. 3.png)",
                classes.join(", ")
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

/// RGB in `[0, 1]` from RGBA pixels composited over white, channel after channel.
pub fn rgb(rgba: &[u8]) -> Vec<f32> {
    (0..3)
        .flat_map(|channel| {
            rgba.chunks_exact(4).map(move |p| {
                let alpha = f32::from(p[3]) / 255.0;
                f32::from(p[channel]) / 255.0 * alpha + (1.0 - alpha)
            })
        })
        .collect()
}

/// Decodes `files` into a dataset of `channels` x `height` x `width` images (grey for one
/// channel, RGB for three).
pub async fn read_images(
    files: &[web_sys::File],
    [channels, height, width]: [u32; 3],
    classes: &[String],
) -> Result<Dataset, AppError> {
    let failed = |name: &str, what: &str| AppError::Invalid(format!("{name}: {what}"));
    if !matches!(channels, 1 | 3) {
        return Err(AppError::Invalid(format!(
            "this page reads grey or RGB images, not {channels} channels"
        )));
    }
    let mut features = Vec::with_capacity(files.len() * (channels * height * width) as usize);
    let mut labels = Vec::with_capacity(files.len());
    for file in files {
        let name = file.name();
        // The path under a picked folder, where the browser gives one.
        let path = js_sys::Reflect::get(file, &"webkitRelativePath".into())
            .ok()
            .and_then(|p| p.as_string())
            .unwrap_or_default();
        labels.push(label_of(
            if path.is_empty() { &name } else { &path },
            classes,
        )?);
        let window = web_sys::window().ok_or_else(|| failed(&name, "no window"))?;
        let promise = window
            .create_image_bitmap_with_blob(file)
            .map_err(|_| failed(&name, "not an image"))?;
        let bitmap: web_sys::ImageBitmap = JsFuture::from(promise)
            .await
            .map_err(|_| failed(&name, "the browser cannot decode this image"))?
            .unchecked_into();
        let canvas =
            web_sys::OffscreenCanvas::new(width, height).map_err(|_| failed(&name, "no canvas"))?;
        let context: web_sys::OffscreenCanvasRenderingContext2d = canvas
            .get_context("2d")
            .ok()
            .flatten()
            .ok_or_else(|| failed(&name, "no 2D canvas"))?
            .unchecked_into();
        let (w, h) = (f64::from(width), f64::from(height));
        context
            .draw_image_with_image_bitmap_and_dw_and_dh(&bitmap, 0.0, 0.0, w, h)
            .map_err(|_| failed(&name, "cannot scale the image"))?;
        let pixels = context
            .get_image_data(0.0, 0.0, w, h)
            .map_err(|_| failed(&name, "cannot read the pixels"))?;
        features.extend(match channels {
            1 => ink(&pixels.data()),
            _ => rgb(&pixels.data()),
        });
    }
    Ok(Dataset::new(
        features,
        labels,
        [channels, height, width].map(|v| v as usize).to_vec(),
        classes.len(),
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_come_from_folders_and_names() {
        let digits: Vec<String> = (0..10).map(|d| d.to_string()).collect();
        assert_eq!(label_of("3.png", &digits).unwrap(), 3);
        assert_eq!(label_of("7_scan.jpg", &digits).unwrap(), 7);
        assert!(label_of("12.png", &digits).is_err());
        let animals = ["cat".to_string(), "dog".to_string()];
        assert_eq!(label_of("pets/dog/001.png", &animals).unwrap(), 1);
        assert_eq!(label_of("cat_001.png", &animals).unwrap(), 0);
        assert_eq!(label_of("1.png", &animals).unwrap(), 1);
        assert!(
            label_of("seven.png", &digits)
                .unwrap_err()
                .to_string()
                .contains("folder named after its class")
        );
    }

    #[test]
    fn colour_is_channel_after_channel() {
        assert_eq!(
            rgb(&[255, 0, 0, 255, 0, 0, 255, 255]),
            vec![1.0, 0.0, 0.0, 0.0, 0.0, 1.0]
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
