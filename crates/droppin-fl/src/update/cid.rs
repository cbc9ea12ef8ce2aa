//! Content identifiers: sha256 of the canonical bytes in a CIDv1 (raw codec, sha2-256 multihash).

use cid::Cid;
use multihash::Multihash;
use sha2::{Digest, Sha256};

/// Multicodec of raw bytes.
const RAW_CODEC: u64 = 0x55;
/// Multihash code of sha2-256.
const SHA2_256: u64 = 0x12;

/// The CIDv1 of `bytes`, as IPFS computes it for a raw block (`bafkrei...`).
pub fn content_id(bytes: &[u8]) -> Cid {
    let digest = Sha256::digest(bytes);
    let hash = Multihash::<64>::wrap(SHA2_256, &digest).expect("a 32-byte digest fits a multihash");
    Cid::new_v1(RAW_CODEC, hash)
}

/// The same CID in the fixed 36-byte form the on-chain program stores.
pub fn interface_cid(bytes: &[u8]) -> droppin_interface::Cid {
    droppin_interface::Cid::from_digest(&Sha256::digest(bytes).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_ipfs_and_the_on_chain_form() {
        // `echo -n hello | ipfs add --raw-leaves --cid-version 1` prints this CID.
        assert_eq!(
            content_id(b"hello").to_string(),
            "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq"
        );
        assert_eq!(
            interface_cid(b"hello").0.to_vec(),
            content_id(b"hello").to_bytes()
        );
    }
}
