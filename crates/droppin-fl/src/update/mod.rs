//! The update wire format: model deltas and whole models as canonical bytes, hashed into a CIDv1 by `droppin-storage`.
//!
//! Layout (all integers little-endian), format version 1:
//!
//! | bytes | field |
//! |---|---|
//! | 4 | magic `DPUP` |
//! | 2 | format version (`1`) |
//! | 1 | payload: `0` delta, `1` model |
//! | 1 | values: `0` f32, `1` f16, `2` int8 with a per-tensor f32 scale |
//! | 1 | sparsity: `0` dense, `1` top-k (per tensor: count, then increasing u32 indices) |
//! | 3 | reserved, zero |
//! | 32 | model spec hash |
//! | 32 | base model hash (zero for a model) |
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
