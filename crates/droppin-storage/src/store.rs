//! The blob-store interface every backend implements, its size limits, and the hash check every
//! read goes through.

use cid::Cid;

use crate::{StorageError, content_id};

/// Size bounds on what a store accepts and returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest blob accepted by `put` or returned by `get`, in bytes.
    pub max_blob_bytes: u64,
}

impl Default for Limits {
    /// 16 MiB: a dense f32 update of four million parameters, far above the shipped models.
    fn default() -> Self {
        Limits {
            max_blob_bytes: 16 << 20,
        }
    }
}

impl Limits {
    /// `Err(TooLarge)` when `size` is over the limit.
    pub fn check(&self, size: u64) -> Result<(), StorageError> {
        if size > self.max_blob_bytes {
            Err(StorageError::TooLarge {
                size,
                limit: self.max_blob_bytes,
            })
        } else {
            Ok(())
        }
    }
}

/// A content-addressed blob store. Implementations never return bytes that do not hash to the
/// CID asked for, and never accept or return a blob over their [`Limits`].
pub trait BlobStore: Send + Sync {
    /// Stores `bytes` and returns their CID. Storing the same bytes twice is harmless.
    fn put(&self, bytes: &[u8]) -> Result<Cid, StorageError>;

    /// The bytes named by `cid`, verified against it.
    fn get(&self, cid: &Cid) -> Result<Vec<u8>, StorageError>;

    /// Where the store lives, for messages.
    fn location(&self) -> String;

    /// Whether `put` can succeed at all (a trustless gateway only reads).
    fn writable(&self) -> bool {
        true
    }
}

/// `Ok(bytes)` if they hash to `cid`, else `Err(HashMismatch)`.
pub fn verify(cid: &Cid, bytes: Vec<u8>) -> Result<Vec<u8>, StorageError> {
    let actual = content_id(&bytes);
    if &actual == cid {
        Ok(bytes)
    } else {
        Err(StorageError::HashMismatch {
            expected: cid.to_string(),
            actual: actual.to_string(),
        })
    }
}

/// Opens a store from a location: `kubo+http://host:port` (an IPFS node's RPC API, or a
/// `dpin localnet` gateway), `http(s)://host` (a trustless gateway, read-only), or a directory.
pub fn open(location: &str, limits: Limits) -> Result<Box<dyn BlobStore>, StorageError> {
    #[cfg(feature = "http")]
    {
        if let Some(api) = location.strip_prefix("kubo+") {
            return Ok(Box::new(crate::KuboStore::new(api, limits)?));
        }
        if location.starts_with("http://") || location.starts_with("https://") {
            return Ok(Box::new(crate::GatewayStore::new(location, limits)?));
        }
    }
    Ok(Box::new(crate::LocalStore::open(location, limits)?))
}
