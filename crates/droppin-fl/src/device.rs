//! The compute device, chosen by name at run time: the same models, training and validation run
//! on any of them.

use burn::tensor::Device;

use crate::FlError;

/// Device names [`device`] accepts.
pub const DEVICE_NAMES: [&str; 2] = ["cpu", "wgpu"];

/// `cpu` (burn's Flex backend, always present) or `wgpu` (the first GPU adapter, when built with
/// the `wgpu` feature). Validation always runs on the CPU: its verdicts must be reproducible.
pub fn device(name: &str) -> Result<Device, FlError> {
    match name {
        "cpu" => Ok(Device::flex()),
        "wgpu" => wgpu(),
        other => Err(FlError::Model(format!(
            "unknown device {other:?}: use cpu or wgpu"
        ))),
    }
}

/// burn registers its wgpu runtime once per process (a second registration fails), so the
/// device is made once and shared.
#[cfg(all(feature = "wgpu", not(target_arch = "wasm32")))]
fn wgpu() -> Result<Device, FlError> {
    static DEVICE: std::sync::OnceLock<Result<Device, String>> = std::sync::OnceLock::new();
    DEVICE
        .get_or_init(|| Device::wgpu_options().init().map_err(|e| e.to_string()))
        .clone()
        .map_err(|e| FlError::Model(format!("no usable wgpu adapter ({e}); use --device cpu")))
}

/// The first GPU adapter, found without blocking: the only way to reach WebGPU in a browser
/// (natively it finds the same adapter as `device("wgpu")`).
#[cfg(feature = "wgpu")]
pub async fn wgpu_async() -> Result<Device, FlError> {
    let options = Device::wgpu_options();
    #[cfg(target_arch = "wasm32")]
    let options = options.graphics_api(burn::tensor::wgpu::WgpuBackend::WebGpu);
    options
        .init_async()
        .await
        .map_err(|e| FlError::Model(format!("no usable GPU adapter ({e})")))
}

/// A browser only reaches WebGPU asynchronously, through [`wgpu_async`].
#[cfg(all(feature = "wgpu", target_arch = "wasm32"))]
fn wgpu() -> Result<Device, FlError> {
    Err(FlError::Model(
        "in a browser the GPU is reached asynchronously: use wgpu_async".into(),
    ))
}

#[cfg(not(feature = "wgpu"))]
fn wgpu() -> Result<Device, FlError> {
    Err(FlError::Model(
        "this build has no wgpu backend: build with --features wgpu".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_or_explain() {
        assert!(device("cpu").is_ok());
        let err = device("tpu").unwrap_err().to_string();
        assert!(err.contains("unknown device \"tpu\""), "{err}");
        // Without a GPU adapter (or without the feature) the error says what to do.
        if let Err(err) = device("wgpu") {
            assert!(err.to_string().contains("wgpu"), "{err}");
        }
    }
}
