//! Any IPFS node through the Kubo RPC API: blobs are raw blocks (`block/put` with the raw codec
//! and sha2-256, so the node's CID is dropPIN's CID for any size; `block/get` to read).

use cid::Cid;
use reqwest::blocking::multipart;
use serde::Deserialize;

use crate::{
    BlobStore, Limits, StorageError, content_id,
    http::{client, read_body, unreachable, upload_timeout},
    store::verify,
};

/// A Kubo RPC endpoint (`http://127.0.0.1:5001`), or a `dpin localnet` gateway, which speaks
/// the same two calls.
pub struct KuboStore {
    api: String,
    client: reqwest::blocking::Client,
    limits: Limits,
}

/// The reply to `block/put`.
#[derive(Deserialize)]
struct BlockPut {
    #[serde(rename = "Key")]
    key: String,
}

impl KuboStore {
    /// A client for the RPC API at `api`.
    pub fn new(api: &str, limits: Limits) -> Result<KuboStore, StorageError> {
        Ok(KuboStore {
            api: api.trim_end_matches('/').to_string(),
            client: client(api)?,
            limits,
        })
    }
}

impl BlobStore for KuboStore {
    fn put(&self, bytes: &[u8]) -> Result<Cid, StorageError> {
        self.limits.check(bytes.len() as u64)?;
        let url = format!(
            "{}/api/v0/block/put?cid-codec=raw&mhtype=sha2-256&pin=true&allow-big-block=true",
            self.api
        );
        let form = multipart::Form::new().part("file", multipart::Part::bytes(bytes.to_vec()));
        let response = self
            .client
            .post(&url)
            .multipart(form)
            .timeout(upload_timeout(bytes.len()))
            .send()
            .map_err(|error| unreachable(&url, &error))?;
        let body = read_body(response, &Limits::default(), "block/put")?;
        let reply: BlockPut =
            serde_json::from_slice(&body).map_err(|error| unreachable(&url, &error))?;
        let expected = content_id(bytes);
        if reply.key == expected.to_string() {
            Ok(expected)
        } else {
            Err(StorageError::HashMismatch {
                expected: expected.to_string(),
                actual: reply.key,
            })
        }
    }

    fn get(&self, cid: &Cid) -> Result<Vec<u8>, StorageError> {
        let url = format!("{}/api/v0/block/get?arg={cid}", self.api);
        let response = self
            .client
            .post(&url)
            .send()
            .map_err(|error| unreachable(&url, &error))?;
        verify(cid, read_body(response, &self.limits, &cid.to_string())?)
    }

    fn location(&self) -> String {
        format!("kubo+{}", self.api)
    }
}
