//! A trained update ready to leave the tab: its canonical bytes (the same encoding as the CLI
//! node's) and the CID the node commits to before anything is uploaded.

use droppin_fl::model::{ModelSpec, Weights};
use droppin_fl::update::encode_delta;
use droppin_interface::Cid;
use droppin_storage::interface_cid;

/// An encoded delta and its content identifier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreparedUpdate {
    pub bytes: Vec<u8>,
    pub cid: Cid,
}

impl PreparedUpdate {
    /// Encodes `trained - base` from `samples` training samples, bound to `round`.
    pub fn new(
        spec: &ModelSpec,
        base: &Weights,
        round: &[u8; 32],
        trained: &Weights,
        samples: u64,
    ) -> Self {
        let bytes = encode_delta(spec, base, round, trained.delta_from(base), samples);
        let cid = interface_cid(&bytes);
        Self { bytes, cid }
    }

    /// The CID's sha2-256 digest in hex (what IPFS's `bafkrei...` form wraps).
    pub fn digest_hex(&self) -> String {
        self.cid
            .digest()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// A fixed update for checking that the browser encodes exactly like the host: the digits MLP
/// moved from its seed-1 to its seed-2 initial weights, from 100 samples, for round key 7s.
pub fn reference_update() -> PreparedUpdate {
    let spec = ModelSpec::digits_mlp();
    PreparedUpdate::new(
        &spec,
        &Weights::initial(&spec, 1),
        &[7; 32],
        &Weights::initial(&spec, 2),
        100,
    )
}

/// The length of [`reference_update`]'s bytes: the header with its round key, the layout and
/// 4,810 f32 values.
pub const REFERENCE_UPDATE_LEN: usize = 19_476;

/// The digest of [`reference_update`] as the host computes it; the browser tests expect the same.
pub const REFERENCE_UPDATE_DIGEST: &str =
    "a0acb8e2e79836100d3e8cd5f1a1179577c90fcc82daa6a948a635bb85d8fd5f";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_encoding_is_pinned() {
        let update = reference_update();
        assert_eq!(update.bytes.len(), REFERENCE_UPDATE_LEN);
        assert_eq!(update.digest_hex(), REFERENCE_UPDATE_DIGEST);
    }
}
