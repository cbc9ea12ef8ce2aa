//! The storage gateway from the tab: uploads through the Kubo `block/put` endpoint and downloads
//! raw blocks from `/ipfs/{cid}`, re-hashing every download so a gateway cannot lie.

use droppin_interface::Cid;
use droppin_storage::{from_interface, interface_cid};
use thiserror::Error;

/// Why storage failed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum StorageError {
    #[error("cannot reach the storage gateway at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("the storage gateway refused: {0}")]
    Refused(String),
    #[error("the gateway stored the update under another CID")]
    WrongCid,
    #[error("the gateway returned bytes that do not match {0}")]
    HashMismatch(String),
}

/// The text form (`bafkrei...`) of an on-chain CID.
pub fn cid_text(cid: &Cid) -> String {
    from_interface(cid).map_or_else(|_| "(invalid CID)".into(), |cid| cid.to_string())
}

/// Uploads `bytes`; checks the gateway names them by their own hash.
pub async fn upload(gateway: &str, bytes: &[u8]) -> Result<Cid, StorageError> {
    let url = format!("{gateway}/api/v0/block/put?cid-codec=raw&mhtype=sha2-256");
    let unreachable = |reason: String| StorageError::Unreachable {
        url: gateway.to_owned(),
        reason,
    };
    let form = web_sys::FormData::new().map_err(|e| unreachable(format!("{e:?}")))?;
    let array = js_sys::Uint8Array::from(bytes);
    let blob = web_sys::Blob::new_with_u8_array_sequence(&js_sys::Array::of1(&array))
        .map_err(|e| unreachable(format!("{e:?}")))?;
    form.append_with_blob("file", &blob)
        .map_err(|e| unreachable(format!("{e:?}")))?;
    let response = gloo_net::http::Request::post(&url)
        .body(form)
        .map_err(|e| unreachable(e.to_string()))?
        .send()
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    if !response.ok() {
        return Err(StorageError::Refused(
            response.text().await.unwrap_or_default(),
        ));
    }
    let expected = interface_cid(bytes);
    let answer: serde_json::Value = response
        .json()
        .await
        .map_err(|e| StorageError::Refused(e.to_string()))?;
    if answer["Key"].as_str() != Some(cid_text(&expected).as_str()) {
        return Err(StorageError::WrongCid);
    }
    Ok(expected)
}

/// Downloads the block `cid` and checks its hash.
pub async fn download(gateway: &str, cid: &Cid) -> Result<Vec<u8>, StorageError> {
    let text = cid_text(cid);
    let url = format!("{gateway}/ipfs/{text}?format=raw");
    let response = gloo_net::http::Request::get(&url)
        .send()
        .await
        .map_err(|e| StorageError::Unreachable {
            url: gateway.to_owned(),
            reason: e.to_string(),
        })?;
    if !response.ok() {
        return Err(StorageError::Refused(format!(
            "HTTP {} for {text}",
            response.status()
        )));
    }
    let bytes = response
        .binary()
        .await
        .map_err(|e| StorageError::Refused(e.to_string()))?;
    if interface_cid(&bytes) != *cid {
        return Err(StorageError::HashMismatch(text));
    }
    Ok(bytes)
}
