//! Waiting without blocking the page: a timer as a future.

/// Resolves after `ms` milliseconds (a macrotask, so the browser renders and handles input
/// meanwhile); immediate off the browser.
#[cfg(target_arch = "wasm32")]
pub async fn sleep_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

#[cfg(not(target_arch = "wasm32"))]
pub async fn sleep_ms(_ms: i32) {}

/// Lets the browser run a frame between two steps of work.
pub async fn yield_to_page() {
    sleep_ms(0).await;
}
