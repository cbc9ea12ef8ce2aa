//! Hashing shared by the program and its clients.
//!
//! The program hashes with the runtime's `sol_sha256` syscall (a few hundred compute units) and
//! clients with the `sha2` crate; both implement [`Hasher`], so commitments, vote digests and the
//! verdict Merkle tree are one piece of code computed the same way on both sides.

use crate::{Cid, Pubkey};

/// A sha256 over the concatenation of several byte slices.
pub trait Hasher {
    /// `sha256(parts[0] || parts[1] || ...)`.
    fn hashv(parts: &[&[u8]]) -> [u8; 32];
}

/// The commit-reveal commitment `sha256(node || cid || salt)`.
///
/// Binding the node's key stops another node from re-committing a commitment it has seen.
pub fn commitment<H: Hasher>(node: &Pubkey, cid: &Cid, salt: &[u8; 32]) -> [u8; 32] {
    H::hashv(&[node, &cid.0, salt])
}

/// sha256 implemented with the `sha2` crate, for hosts and browsers.
#[cfg(feature = "client")]
pub struct Sha256;

#[cfg(feature = "client")]
impl Hasher for Sha256 {
    fn hashv(parts: &[&[u8]]) -> [u8; 32] {
        use sha2::Digest;
        let mut hasher = sha2::Sha256::new();
        for part in parts {
            hasher.update(part);
        }
        hasher.finalize().into()
    }
}
