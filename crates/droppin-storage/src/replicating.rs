//! A validator's store: its own, with its peers' behind it.
//!
//! A node may serve its update to some validators and not to others. The committee judges the
//! blobs a majority of its seats fetched, so a validator that missed one must get it from those
//! that have it: a read falls through to the peers' stores (other validators' gateways), and
//! whatever was found there is kept in the validator's own store, so it serves it in turn.
//! Blobs are content-addressed, so a peer is trusted for nothing: every store checks each blob
//! against its CID.

use cid::Cid;

use crate::{BlobStore, StorageError};

/// Reads from `own`, then from each peer in order, copying what a peer had into `own`; writes
/// go to `own`.
pub struct Replicating<'a> {
    own: &'a dyn BlobStore,
    peers: Vec<&'a dyn BlobStore>,
}

impl<'a> Replicating<'a> {
    /// `own` backed by `peers`.
    pub fn new(own: &'a dyn BlobStore, peers: Vec<&'a dyn BlobStore>) -> Replicating<'a> {
        Replicating { own, peers }
    }
}

impl BlobStore for Replicating<'_> {
    fn put(&self, bytes: &[u8]) -> Result<Cid, StorageError> {
        self.own.put(bytes)
    }

    fn get(&self, cid: &Cid) -> Result<Vec<u8>, StorageError> {
        let missing = match self.own.get(cid) {
            Ok(bytes) => return Ok(bytes),
            Err(error) => error,
        };
        for peer in &self.peers {
            if let Ok(bytes) = peer.get(cid) {
                // Kept to serve it in turn; a read-only own store still returns what it found.
                if self.own.writable() {
                    self.own.put(&bytes)?;
                }
                return Ok(bytes);
            }
        }
        Err(missing)
    }

    fn location(&self) -> String {
        match self.peers.len() {
            0 => self.own.location(),
            n => format!("{} (and {n} peers)", self.own.location()),
        }
    }

    fn writable(&self) -> bool {
        self.own.writable()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Limits, LocalStore};

    #[test]
    fn a_blob_only_a_peer_has_is_fetched_and_served_in_turn() {
        let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
        let stores: Vec<LocalStore> = dirs
            .iter()
            .map(|d| LocalStore::open(d.path(), Limits::default()).unwrap())
            .collect();
        let cid = stores[2].put(b"an update").unwrap();
        let own = Replicating::new(&stores[0], vec![&stores[1], &stores[2]]);
        assert_eq!(own.get(&cid).unwrap(), b"an update");
        assert_eq!(
            stores[0].get(&cid).unwrap(),
            b"an update",
            "kept in the validator's own store"
        );
        let absent = crate::content_id(b"nobody has it");
        assert!(matches!(own.get(&absent), Err(StorageError::NotFound(_))));
    }
}
