//! Content identifiers of model updates, models and verdict lists.
//!
//! dropPIN addresses every blob by a CIDv1 with the `raw` codec and a sha2-256 multihash, so a
//! CID is always exactly 36 bytes and its digest is the sha256 of the blob's canonical bytes.
//! Fixed size keeps account layouts fixed and lets the program check well-formedness cheaply.

use borsh::{BorshDeserialize, BorshSerialize};
use codama_macros::CodamaType;

/// CIDv1 version byte.
pub const CID_V1: u8 = 0x01;
/// Multicodec code of `raw` bytes.
pub const RAW_CODEC: u8 = 0x55;
/// Multihash code of sha2-256.
pub const SHA2_256: u8 = 0x12;
/// Digest length of sha2-256.
pub const DIGEST_LEN: u8 = 32;
/// The four bytes every dropPIN CID starts with.
pub const CID_PREFIX: [u8; 4] = [CID_V1, RAW_CODEC, SHA2_256, DIGEST_LEN];
/// Encoded length of a dropPIN CID.
pub const CID_LEN: usize = 36;

/// A binary CIDv1 (raw codec, sha2-256).
#[derive(Clone, Copy, PartialEq, Eq, Hash, BorshSerialize, BorshDeserialize, CodamaType)]
pub struct Cid(#[codama(type = fixed_size(bytes, 36))] pub [u8; CID_LEN]);

impl Cid {
    /// The all-zero placeholder (not a valid CID): used for fields not yet set.
    pub const EMPTY: Cid = Cid([0; CID_LEN]);

    /// The CID of a blob whose sha256 digest is `digest`.
    pub fn from_digest(digest: &[u8; 32]) -> Cid {
        let mut bytes = [0u8; CID_LEN];
        bytes[..4].copy_from_slice(&CID_PREFIX);
        bytes[4..].copy_from_slice(digest);
        Cid(bytes)
    }

    /// Whether the bytes carry the dropPIN CID prefix.
    pub fn is_well_formed(&self) -> bool {
        self.0[..4] == CID_PREFIX
    }

    /// The sha256 digest the CID names.
    pub fn digest(&self) -> &[u8; 32] {
        self.0[4..].try_into().expect("a CID has 32 digest bytes")
    }
}

impl Default for Cid {
    fn default() -> Self {
        Cid::EMPTY
    }
}

impl core::fmt::Debug for Cid {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Cid(")?;
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        write!(f, ")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_digest_round_trips() {
        let digest = [7u8; 32];
        let cid = Cid::from_digest(&digest);
        assert!(cid.is_well_formed());
        assert_eq!(cid.digest(), &digest);
        assert!(!Cid::EMPTY.is_well_formed());
    }
}
