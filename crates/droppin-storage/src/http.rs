//! What the HTTP clients share: one configured client, bounded body reads, error mapping.

use std::{io::Read, time::Duration};

use reqwest::{StatusCode, blocking::Response};

use crate::{Limits, StorageError};

/// How long one request may take before the store is called unreachable: short, since a
/// validator fetching a missing block must still vote before its deadline.
const TIMEOUT: Duration = Duration::from_secs(20);

/// A blocking client with dropPIN's timeouts.
pub(crate) fn client(url: &str) -> Result<reqwest::blocking::Client, StorageError> {
    reqwest::blocking::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(Duration::from_secs(10))
        .build()
        .map_err(|error| unreachable(url, &error))
}

/// `Unreachable` for `url`, with the cause chain in one line.
pub(crate) fn unreachable(url: &str, error: &dyn std::error::Error) -> StorageError {
    let mut reason = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        reason = format!("{reason}: {cause}");
        source = cause.source();
    }
    StorageError::Unreachable {
        url: url.to_string(),
        reason,
    }
}

/// The body of a successful response, at most `limits.max_blob_bytes` long; `NotFound` for a 404
/// (or a Kubo "not found" error), `Unreachable` for any other failure.
pub(crate) fn read_body(
    response: Response,
    limits: &Limits,
    what: &str,
) -> Result<Vec<u8>, StorageError> {
    let url = response.url().to_string();
    let status = response.status();
    if let (true, Some(length)) = (status.is_success(), response.content_length()) {
        limits.check(length)?;
    }
    let mut body = Vec::new();
    response
        .take(limits.max_blob_bytes + 1)
        .read_to_end(&mut body)
        .map_err(|error| unreachable(&url, &error))?;
    if status.is_success() {
        limits.check(body.len() as u64)?;
        return Ok(body);
    }
    let message = String::from_utf8_lossy(&body);
    if status == StatusCode::NOT_FOUND || message.contains("not found") {
        return Err(StorageError::NotFound(what.to_string()));
    }
    Err(StorageError::Unreachable {
        url,
        reason: format!(
            "{status}: {}",
            message.chars().take(200).collect::<String>()
        ),
    })
}
