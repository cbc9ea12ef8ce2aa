//! Training on burn's WebGPU backend in a Web Worker. The worker's wasm carries burn's GPU
//! backend, which outweighs the whole app, so the app fetches it only when a model that needs it
//! (anything but the plain MLP, which the engine's own kernels train) trains on a GPU; the worker
//! also keeps the page responsive while it trains.
//!
//! - [`protocol`]: the messages between page and worker, shared by both sides.
//! - [`clock`]: milliseconds from the page's or the worker's clock.
//! - `worker` (feature `worker`): the worker itself.

pub mod clock;
pub mod protocol;
#[cfg(feature = "worker")]
pub mod worker;

/// The worker's script and wasm, as the build names them beside the app.
pub const WORKER_SCRIPT: &str = "droppin-trainer.js";
pub const WORKER_WASM: &str = "droppin-trainer_bg.wasm";
