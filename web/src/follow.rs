//! Pages that follow the chain: a timer that reads it while the page is open, and signals that
//! change only when what was read did, so nothing is redrawn under the visitor for nothing.

use leptos::prelude::*;

/// How often an open page reads the chain.
const FOLLOW_MS: u64 = 3_000;

/// Runs `read` every few seconds until the page that called this is left.
pub fn every_few_seconds(read: impl Fn() + 'static) {
    if let Ok(timer) = set_interval_with_handle(read, std::time::Duration::from_millis(FOLLOW_MS)) {
        on_cleanup(move || timer.clear());
    }
}

/// Sets `signal` to `value` unless it already holds it.
pub fn set_if_changed<T: PartialEq + Send + Sync + 'static>(signal: RwSignal<T>, value: T) {
    if signal.with_untracked(|current| *current != value) {
        signal.set(value);
    }
}
