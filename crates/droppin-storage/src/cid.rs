//! Content identifiers: sha256 of a blob's bytes in a CIDv1 (raw codec, sha2-256 multihash),
//! the `bafkrei...` CID IPFS gives a raw block, and its fixed 36-byte on-chain form.

use cid::Cid;
use multihash::Multihash;
use sha2::{Digest, Sha256};

use crate::StorageError;

/// HTTP media type of a raw block, what trustless gateways serve and accept.
pub const RAW_BLOCK: &str = "application/vnd.ipld.raw";

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

/// Parses a CID from text and checks it is one dropPIN uses.
pub fn parse_cid(text: &str) -> Result<Cid, StorageError> {
    let cid = Cid::try_from(text).map_err(|error| StorageError::InvalidCid {
        text: text.chars().take(100).collect(),
        reason: error.to_string(),
    })?;
    to_interface(&cid)?;
    Ok(cid)
}

/// The on-chain form of a CID; only CIDv1 raw sha2-256 CIDs have one.
pub fn to_interface(cid: &Cid) -> Result<droppin_interface::Cid, StorageError> {
    let bytes = cid.to_bytes();
    let fixed: [u8; droppin_interface::cid::CID_LEN] = bytes
        .try_into()
        .map_err(|_| StorageError::UnsupportedCid(cid.to_string()))?;
    let on_chain = droppin_interface::Cid(fixed);
    if on_chain.is_well_formed() {
        Ok(on_chain)
    } else {
        Err(StorageError::UnsupportedCid(cid.to_string()))
    }
}

/// The CID an on-chain 36-byte form names.
pub fn from_interface(cid: &droppin_interface::Cid) -> Result<Cid, StorageError> {
    Cid::try_from(&cid.0[..]).map_err(|error| StorageError::InvalidCid {
        text: format!("{cid:?}"),
        reason: error.to_string(),
    })
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
        let cid = content_id(b"hello");
        assert_eq!(from_interface(&to_interface(&cid).unwrap()).unwrap(), cid);
    }

    #[test]
    fn rejects_text_that_is_not_a_dropin_cid() {
        assert!(matches!(
            parse_cid("../etc/passwd"),
            Err(StorageError::InvalidCid { .. })
        ));
        // A CIDv0 (dag-pb) is a valid CID but not one dropPIN pins.
        assert!(matches!(
            parse_cid("QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"),
            Err(StorageError::UnsupportedCid(_))
        ));
        assert!(parse_cid(&content_id(b"x").to_string()).is_ok());
    }
}
