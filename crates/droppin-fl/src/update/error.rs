//! Why an update's bytes were refused.

/// Decoding errors: each names the first problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("update is {len} bytes, over the {max}-byte limit")]
    TooLarge { len: usize, max: usize },
    #[error("update truncated: needed {needed} more bytes at offset {at}")]
    Truncated { at: usize, needed: usize },
    #[error("not a dropPIN update (magic {0:02x?})")]
    BadMagic([u8; 4]),
    #[error("update format version {0} is not supported (this node reads version 2)")]
    UnsupportedVersion(u16),
    #[error("unknown payload kind {0}")]
    UnknownPayload(u8),
    #[error("unknown value encoding {0}")]
    UnknownEncoding(u8),
    #[error("unknown sparsity {0}")]
    UnknownSparsity(u8),
    #[error("reserved header bytes must be zero")]
    ReservedBytes,
    #[error("tensor name is not UTF-8 or is empty")]
    BadName,
    #[error("tensor {0:?} appears twice")]
    DuplicateTensor(String),
    #[error("update has {0} tensors, over the limit")]
    TooManyTensors(usize),
    #[error("update holds {0} values, over the limit")]
    TooManyValues(usize),
    #[error("tensor layout does not match the base model: {0}")]
    LayoutMismatch(String),
    #[error("update is for another model spec")]
    SpecMismatch,
    #[error("update was trained from another base model")]
    BaseMismatch,
    #[error("update was made for another round (a replay)")]
    RoundMismatch,
    #[error("expected a {expected} payload, found a {found}")]
    WrongPayload {
        expected: &'static str,
        found: &'static str,
    },
    #[error("tensor {0:?} holds NaN or infinite values")]
    NonFinite(String),
    #[error("tensor {0:?} has an invalid int8 scale")]
    BadScale(String),
    #[error("tensor {0:?}: top-k indices must be strictly increasing and in range")]
    BadIndices(String),
    #[error("not the canonical encoding: {0}")]
    NonCanonical(String),
    #[error("{0} bytes after the last tensor")]
    TrailingBytes(usize),
}
