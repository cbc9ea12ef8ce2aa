//! Export of a model as safetensors, so PyTorch and Hugging Face users can load the global model.

use std::collections::HashMap;

use safetensors::tensor::{Dtype, TensorView};

use crate::FlError;
use crate::model::{ModelSpec, Weights};

/// The model's tensors (f32, burn's names and shapes) with the spec in the metadata. Note burn's
/// `Linear` stores its weight as `[in, out]`, the transpose of `torch.nn.Linear`.
pub fn export_safetensors(spec: &ModelSpec, weights: &Weights) -> Result<Vec<u8>, FlError> {
    let bytes: Vec<u8> = weights
        .values
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let mut views = Vec::with_capacity(weights.layout.len());
    let mut offset = 0;
    for tensor in &weights.layout {
        let len = tensor.len() * 4;
        let view = TensorView::new(
            Dtype::F32,
            tensor.shape.clone(),
            &bytes[offset..offset + len],
        )
        .map_err(|e| FlError::Export(format!("{}: {e}", tensor.name)))?;
        views.push((tensor.name.clone(), view));
        offset += len;
    }
    let metadata = HashMap::from([
        ("format".to_owned(), "droppin".to_owned()),
        (
            "model_spec".to_owned(),
            serde_json::to_string(spec).map_err(|e| FlError::Export(e.to_string()))?,
        ),
        ("model_spec_hash".to_owned(), hex::encode(spec.hash())),
    ]);
    safetensors::serialize(views, Some(metadata)).map_err(|e| FlError::Export(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use safetensors::SafeTensors;

    #[test]
    fn reads_back_with_the_safetensors_reader() {
        let spec = ModelSpec::digits_cnn();
        let weights = Weights::initial(&spec, 1);
        let bytes = export_safetensors(&spec, &weights).unwrap();
        let file = SafeTensors::deserialize(&bytes).unwrap();
        let mut offset = 0;
        for tensor in &weights.layout {
            let view = file.tensor(&tensor.name).unwrap();
            assert_eq!(view.shape(), tensor.shape.as_slice());
            let values: Vec<f32> = view
                .data()
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                .collect();
            assert_eq!(values, weights.values[offset..offset + tensor.len()]);
            offset += tensor.len();
        }
    }
}
