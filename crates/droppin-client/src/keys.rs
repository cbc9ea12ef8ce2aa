//! Keypairs in the Solana CLI's file format (a JSON array of 64 bytes).

use std::path::{Path, PathBuf};

use solana_keypair::{Keypair, read_keypair_file, write_keypair_file};

use crate::ChainError;

/// The Solana CLI's default keypair: `~/.config/solana/id.json`.
pub fn default_keypair_path() -> PathBuf {
    dirs::home_dir()
        .unwrap_or_default()
        .join(".config/solana/id.json")
}

/// Reads a keypair file, saying which file and why when it cannot.
pub fn read_keypair(path: &Path) -> Result<Keypair, ChainError> {
    read_keypair_file(path).map_err(|error| ChainError::Keypair {
        path: path.display().to_string(),
        reason: if path.exists() {
            format!("not a Solana keypair file ({error})")
        } else {
            "no such file (create one with `dpin keygen` or `solana-keygen new`)".into()
        },
    })
}

/// Writes a fresh keypair to `path`, refusing to overwrite an existing file.
pub fn write_new_keypair(path: &Path) -> Result<Keypair, ChainError> {
    let fail = |reason: String| ChainError::Keypair {
        path: path.display().to_string(),
        reason,
    };
    if path.exists() {
        return Err(fail("already exists; not overwriting it".into()));
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
    }
    let keypair = Keypair::new();
    write_keypair_file(&keypair, path).map_err(|e| fail(e.to_string()))?;
    Ok(keypair)
}

#[cfg(test)]
mod tests {
    use solana_signer::Signer;

    use super::*;

    #[test]
    fn keypair_files_round_trip_and_bad_files_say_why() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("id.json");
        let written = write_new_keypair(&path).unwrap();
        assert_eq!(read_keypair(&path).unwrap().pubkey(), written.pubkey());
        assert!(write_new_keypair(&path).is_err(), "never overwrites");
        std::fs::write(&path, "[1,2,3]").unwrap();
        let error = read_keypair(&path).unwrap_err().to_string();
        assert!(error.contains("not a Solana keypair file"), "{error}");
        let error = read_keypair(&dir.path().join("absent.json"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("no such file"), "{error}");
    }
}
