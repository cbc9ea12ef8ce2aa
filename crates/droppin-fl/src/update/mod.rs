//! The update wire format: model deltas and whole models as canonical bytes, hashed into a CIDv1 by `droppin-storage`.
//!
//! Layout (all integers little-endian), format version 2:
//!
//! | bytes | field |
//! |---|---|
//! | 4 | magic `DPUP` |
//! | 2 | format version (`2`) |
//! | 1 | payload: `0` delta, `1` model |
//! | 1 | values: `0` f32, `1` f16, `2` int8 with a per-tensor f32 scale |
//! | 1 | sparsity: `0` dense, `1` top-k (per tensor: count, then increasing u32 indices) |
//! | 3 | reserved, zero |
//! | 32 | model spec hash |
//! | 32 | base model hash (zero for a model) |
//! | 32 | round key the delta was trained for (zero for a model): no replay into another round |
//! | 8 | training sample count |
//! | 4 | tensor count |
//! | per tensor | name length (u16), UTF-8 name, rank (u8), dims (u32 each) |
//! | per tensor | [int8: scale f32] [top-k: count u32, indices u32 x count] values |
//!
//! Decoding accepts only canonical bytes (no trailing data, zero reserved bytes, strictly
//! increasing indices, finite values), so one update has exactly one CID.

mod codec;
mod error;
mod safetensors_export;

pub use codec::{DecodeLimits, Encoding, PayloadKind, Update, ValueEncoding};
pub use error::DecodeError;
pub use safetensors_export::export_safetensors;

use sha2::{Digest, Sha256};

use crate::FlError;
use crate::model::{ModelSpec, Weights};

/// Decodes a published global model: checks its bytes hash to `expected_hash` (the round's
/// pinned model hash) and that it is a whole model of `spec`.
pub fn decode_model(
    spec: &ModelSpec,
    bytes: &[u8],
    expected_hash: &[u8; 32],
) -> Result<Weights, FlError> {
    let hash: [u8; 32] = Sha256::digest(bytes).into();
    if &hash != expected_hash {
        return Err(FlError::Model(
            "the global model does not hash to the round's model hash".into(),
        ));
    }
    let layout = Weights::layout_of(spec);
    let limits = DecodeLimits {
        payload: PayloadKind::Model,
        base_hash: None,
        round: None,
        ..DecodeLimits::delta(spec, &layout, [0; 32], [0; 32])
    };
    let update = Update::decode(bytes, &limits)?;
    Ok(Weights {
        layout: update.layout,
        values: update.values,
    })
}

/// The canonical bytes of a delta trained from `base` for `round` (default encoding): what a
/// node commits to, byte for byte the same from the CLI and from a browser tab.
pub fn encode_delta(
    spec: &ModelSpec,
    base: &Weights,
    round: &[u8; 32],
    delta: Vec<f32>,
    samples: u64,
) -> Vec<u8> {
    Update::delta(
        spec,
        Update::model_hash(spec, base),
        *round,
        samples,
        base.layout.clone(),
        delta,
    )
    .encode(Encoding::default())
}
