//! Helpers the command-line tests share.

use std::process::Output;

/// A command's standard output, after asserting it succeeded (its output and errors otherwise).
pub fn ok(output: Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}
