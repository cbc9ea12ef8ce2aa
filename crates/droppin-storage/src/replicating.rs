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

    /// The blob from the own store, else from the first peer that has it. When nobody has it
    /// and a store did not answer, that is the error (it may answer on the next try), not the
    /// own store's "not found", which would read as final.
    fn get(&self, cid: &Cid) -> Result<Vec<u8>, StorageError> {
        let mut failure = match self.own.get(cid) {
            Ok(bytes) => return Ok(bytes),
            Err(error) => error,
        };
        for peer in &self.peers {
            match peer.get(cid) {
                Ok(bytes) => {
                    // Kept to serve it in turn, when the own store can; what was fetched and
                    // checked is returned either way.
                    if self.own.writable() {
                        let _ = self.own.put(&bytes);
                    }
                    return Ok(bytes);
                }
                Err(error) if error.is_transient() => failure = error,
                Err(_) => {}
            }
        }
        Err(failure)
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
        // A peer that does not answer makes a miss a failure to try again, not a final one.
        let down = crate::open("kubo+http://127.0.0.1:9", Limits::default()).unwrap();
        let partly = Replicating::new(&stores[0], vec![down.as_ref(), &stores[1]]);
        let error = partly.get(&absent).unwrap_err();
        assert!(error.is_transient(), "{error}");
    }
}
