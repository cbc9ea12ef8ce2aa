//! The visitor's data for a round's task, read in the tab by the task's data schema: a CSV with
//! the task's columns, a text file, or images (or a CSV of pixels for an image task). The
//! samples never leave the tab.

use droppin_fl::data::{Dataset, parse_csv, read_for};
use droppin_node::RoundTask;
use droppin_task::DataSchema;
use solana_address::Address;

use crate::images::read_images;
use crate::session::AppError;

/// Demo shards: a task's shipped training data split IID in this many parts, one per wallet.
const DEMO_SHARDS: usize = 8;

/// Whether the repository ships data for `task`, so a visitor can try it without their own.
pub fn has_demo_data(task: &RoundTask) -> bool {
    droppin_fl::data::ships_data(&task.manifest)
}

/// The demo shard of `node` in `task`'s shipped training data.
pub fn demo_shard(task: &RoundTask, node: &Address) -> Result<Dataset, AppError> {
    let index = usize::from(node.as_ref()[0]) % DEMO_SHARDS;
    Ok(task.demo_shard(index, DEMO_SHARDS).ok_or_else(|| {
        AppError::Invalid(format!(
            "task `{}` ships no demo data: pick your own files",
            task.manifest.name
        ))
    })??)
}

fn is_csv(file: &web_sys::File) -> bool {
    file.type_() == "text/csv" || file.name().to_lowercase().ends_with(".csv")
}

async fn file_bytes(file: &web_sys::File) -> Result<Vec<u8>, AppError> {
    let buffer = wasm_bindgen_futures::JsFuture::from(file.array_buffer())
        .await
        .map_err(|_| AppError::Invalid(format!("cannot read {}", file.name())))?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// The visitor's picked `files`, read by `task`'s schema and checked against its model.
pub async fn read_own(
    task: &RoundTask,
    files: &[web_sys::File],
    label_column: &str,
) -> Result<Dataset, AppError> {
    let data = match (&task.manifest.data, files) {
        (_, []) => return Err(AppError::Invalid("pick your files first".into())),
        (DataSchema::Images { .. }, [file]) if is_csv(file) => parse_csv(
            file_bytes(file).await?.as_slice(),
            label_column,
            &file.name(),
        )?,
        (
            DataSchema::Images {
                channels,
                height,
                width,
                classes,
                ..
            },
            images,
        ) => read_images(images, [*channels, *height, *width], classes).await?,
        (_, [file]) => read_for(&task.manifest, &file_bytes(file).await?, &file.name())?,
        (_, _) => {
            return Err(AppError::Invalid(
                "this task reads one file: pick a single CSV or text file".into(),
            ));
        }
    };
    let spec = &task.spec;
    if data.feature_dim() != spec.input_dim() || data.classes > spec.classes {
        return Err(AppError::Invalid(format!(
            "task `{}` takes samples of {:?} and {} classes; the files give {:?} and {} classes ({})",
            task.manifest.name,
            spec.input,
            spec.classes,
            data.sample_shape,
            data.classes,
            task.manifest.data.summary()
        )));
    }
    Ok(data)
}
