//! Any IPFS trustless gateway (`GET /ipfs/{cid}` asking for the raw block): reads only, and the
//! gateway need not be trusted, since every block is re-hashed.

use cid::Cid;
use reqwest::header::ACCEPT;

use crate::cid::RAW_BLOCK;
use crate::{
    BlobStore, Limits, StorageError,
    http::{client, read_body, unreachable},
    store::verify,
};

/// A trustless gateway such as `https://trustless-gateway.link` or a `dpin localnet` gateway.
pub struct GatewayStore {
    base: String,
    client: reqwest::blocking::Client,
    limits: Limits,
}

impl GatewayStore {
    /// A client for the gateway at `base`.
    pub fn new(base: &str, limits: Limits) -> Result<GatewayStore, StorageError> {
        Ok(GatewayStore {
            base: base.trim_end_matches('/').to_string(),
            client: client(base)?,
            limits,
        })
    }
}

impl BlobStore for GatewayStore {
    fn put(&self, _bytes: &[u8]) -> Result<Cid, StorageError> {
        Err(StorageError::ReadOnly(format!(
            "the trustless gateway {} (use kubo+URL to upload)",
            self.base
        )))
    }

    fn get(&self, cid: &Cid) -> Result<Vec<u8>, StorageError> {
        let url = format!("{}/ipfs/{cid}?format=raw", self.base);
        let response = self
            .client
            .get(&url)
            .header(ACCEPT, RAW_BLOCK)
            .send()
            .map_err(|error| unreachable(&url, &error))?;
        verify(cid, read_body(response, &self.limits, &cid.to_string())?)
    }

    fn location(&self) -> String {
        self.base.clone()
    }

    fn writable(&self) -> bool {
        false
    }
}
