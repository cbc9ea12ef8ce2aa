//! What the HTTP clients share: one configured client, bounded body reads, error mapping.

use std::{io::Read, time::Duration};

use reqwest::{StatusCode, blocking::Response};

use crate::{Limits, StorageError};

/// How long a store may keep a request waiting, for its answer and then for each read of the
/// body, before it is called unreachable: short, since a validator fetching a missing block
/// must still vote before its deadline. A slow but steady download is never cut.
const TIMEOUT: Duration = Duration::from_secs(20);

/// The slowest upload a put waits for (1 Mbit/s): the request's body is sent within its
/// timeout, so a large update on a slow uplink needs more than [`TIMEOUT`].
const SLOWEST_UPLOAD_BYTES_PER_SEC: u64 = 128 * 1024;

/// How long a put of `bytes` may take: [`TIMEOUT`] plus the body's time at the slowest upload.
pub(crate) fn upload_timeout(bytes: usize) -> Duration {
    TIMEOUT + Duration::from_secs((bytes as u64).div_ceil(SLOWEST_UPLOAD_BYTES_PER_SEC))
}

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

#[cfg(test)]
mod tests {
    use super::*;

    /// A 16 MiB update needs 128 s at 1 Mbit/s: its put waits that long, beyond the answer's.
    #[test]
    fn a_large_upload_gets_the_time_a_slow_uplink_needs() {
        assert_eq!(upload_timeout(0), TIMEOUT);
        assert_eq!(upload_timeout(1), TIMEOUT + Duration::from_secs(1));
        assert_eq!(upload_timeout(16 << 20), TIMEOUT + Duration::from_secs(128));
    }
}
