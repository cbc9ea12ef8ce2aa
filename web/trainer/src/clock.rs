//! One clock for the page and the worker: `performance.now()` of whichever global runs the code.

use wasm_bindgen::{JsCast, JsValue};

/// Milliseconds since the page (or worker) started; 0 where there is no `performance`.
pub fn now_ms() -> f64 {
    js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("performance"))
        .ok()
        .and_then(|performance| performance.dyn_into::<web_sys::Performance>().ok())
        .map_or(0.0, |performance| performance.now())
}
