//! A directory of blobs, one file per CID: the embedded default store.

use std::{
    fs,
    io::{ErrorKind, Read, Write},
    path::{Path, PathBuf},
};

use cid::Cid;

use crate::{BlobStore, Limits, StorageError, content_id, store::verify};

/// Blobs stored as `DIR/<cid>` files, written atomically (temporary file, then rename), so a
/// crash never leaves a partial blob under a CID.
pub struct LocalStore {
    dir: PathBuf,
    limits: Limits,
}

impl LocalStore {
    /// Opens (creating if needed) the store in `dir`.
    pub fn open(dir: impl AsRef<Path>, limits: Limits) -> Result<LocalStore, StorageError> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir).map_err(|source| io_error(&dir, source))?;
        Ok(LocalStore { dir, limits })
    }

    /// The directory holding the blobs.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, cid: &Cid) -> PathBuf {
        self.dir.join(cid.to_string())
    }
}

fn io_error(path: &Path, source: std::io::Error) -> StorageError {
    StorageError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl BlobStore for LocalStore {
    fn put(&self, bytes: &[u8]) -> Result<Cid, StorageError> {
        self.limits.check(bytes.len() as u64)?;
        let cid = content_id(bytes);
        let path = self.path(&cid);
        // A copy already there is kept only if it reads back whole: a damaged one is replaced.
        if self.get(&cid).is_ok() {
            return Ok(cid);
        }
        let mut file =
            tempfile::NamedTempFile::new_in(&self.dir).map_err(|e| io_error(&self.dir, e))?;
        file.write_all(bytes).map_err(|e| io_error(&path, e))?;
        file.persist(&path).map_err(|e| io_error(&path, e.error))?;
        Ok(cid)
    }

    fn get(&self, cid: &Cid) -> Result<Vec<u8>, StorageError> {
        let path = self.path(cid);
        let file = match fs::File::open(&path) {
            Ok(file) => file,
            Err(error) if error.kind() == ErrorKind::NotFound => {
                return Err(StorageError::NotFound(cid.to_string()));
            }
            Err(error) => return Err(io_error(&path, error)),
        };
        let size = file.metadata().map_err(|e| io_error(&path, e))?.len();
        self.limits.check(size)?;
        let mut bytes = Vec::with_capacity(size as usize);
        file.take(self.limits.max_blob_bytes + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| io_error(&path, e))?;
        self.limits.check(bytes.len() as u64)?;
        verify(cid, bytes)
    }

    fn location(&self) -> String {
        self.dir.display().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(limit: u64) -> (tempfile::TempDir, LocalStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(
            dir.path(),
            Limits {
                max_blob_bytes: limit,
            },
        )
        .unwrap();
        (dir, store)
    }

    #[test]
    fn puts_and_gets_by_cid() {
        let (_dir, store) = store(1024);
        let cid = store.put(b"delta").unwrap();
        assert_eq!(cid, content_id(b"delta"));
        assert_eq!(store.put(b"delta").unwrap(), cid, "idempotent");
        assert_eq!(store.get(&cid).unwrap(), b"delta");
    }

    #[test]
    fn a_damaged_copy_is_replaced_by_the_next_put() {
        let (_dir, store) = store(1024);
        let cid = store.put(b"delta").unwrap();
        fs::write(store.path(&cid), b"delt").unwrap();
        assert!(store.get(&cid).is_err());
        assert_eq!(store.put(b"delta").unwrap(), cid);
        assert_eq!(store.get(&cid).unwrap(), b"delta");
    }

    #[test]
    fn missing_corrupt_and_oversized_blobs_are_refused() {
        let (_dir, store) = store(8);
        assert!(matches!(
            store.get(&content_id(b"absent")),
            Err(StorageError::NotFound(_))
        ));
        assert!(matches!(
            store.put(b"nine bytes"),
            Err(StorageError::TooLarge { size: 10, limit: 8 })
        ));
        let cid = store.put(b"good").unwrap();
        fs::write(store.dir().join(cid.to_string()), b"evil").unwrap();
        assert!(matches!(
            store.get(&cid),
            Err(StorageError::HashMismatch { .. })
        ));
        fs::write(store.dir().join(cid.to_string()), b"far too long").unwrap();
        assert!(matches!(
            store.get(&cid),
            Err(StorageError::TooLarge { .. })
        ));
    }
}
