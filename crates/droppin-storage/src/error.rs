//! Storage errors: each says which blob and what went wrong, so a node or validator can tell a
//! missing blob from a corrupt one from an unreachable service.

use thiserror::Error;

/// Why a store could not put or get a blob.
#[derive(Debug, Error)]
pub enum StorageError {
    /// The text is not a CID.
    #[error("`{text}` is not a CID: {reason}")]
    InvalidCid {
        /// What was given.
        text: String,
        /// Why it does not parse.
        reason: String,
    },
    /// A CID dropPIN does not use (another codec, hash or version).
    #[error("{0} is not a dropPIN CID (CIDv1, raw codec, sha2-256)")]
    UnsupportedCid(String),
    /// No blob with this CID.
    #[error("blob {0} not found")]
    NotFound(String),
    /// The bytes do not hash to the CID they were fetched under.
    #[error("blob {expected} is corrupt: its bytes hash to {actual}")]
    HashMismatch {
        /// The CID asked for.
        expected: String,
        /// The CID of the bytes received.
        actual: String,
    },
    /// A blob over the size limit.
    #[error("blob of {size} bytes exceeds the {limit}-byte limit")]
    TooLarge {
        /// Its size (or a lower bound when the transfer was cut off).
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A store that only reads (a trustless gateway).
    #[error("{0} is read-only")]
    ReadOnly(String),
    /// The service could not be reached or answered with an error.
    #[error("storage at {url} failed: {reason}")]
    Unreachable {
        /// The service.
        url: String,
        /// What happened.
        reason: String,
    },
    /// A local file-system failure.
    #[error("{path}: {source}")]
    Io {
        /// The path involved.
        path: String,
        /// The error.
        source: std::io::Error,
    },
}

impl StorageError {
    /// Whether a later try may succeed where this one failed: the service did not answer. A
    /// missing, corrupt or oversized blob stays so.
    pub fn is_transient(&self) -> bool {
        matches!(self, StorageError::Unreachable { .. })
    }
}
