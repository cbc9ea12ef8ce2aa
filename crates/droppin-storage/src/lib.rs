//! Content-addressed storage for dropPIN blobs (model updates, global models, verdict lists).
//!
//! Every blob is named by its CIDv1 (raw codec, sha2-256), the same 36 bytes the program pins
//! on-chain. Stores implement [`BlobStore`]; every read re-hashes the bytes and refuses a
//! mismatch, and both directions are bounded by [`Limits`], so a store can be a stranger's
//! gateway without being trusted.
//!
//! - [`LocalStore`]: a directory, the embedded default.
//! - [`KuboStore`] (`http`): any IPFS node through the Kubo RPC API (`block/put`, `block/get`).
//! - [`GatewayStore`] (`http`): any IPFS trustless gateway (`GET /ipfs/{cid}`, raw blocks), read-only.
//! - [`Replicating`]: a validator's own store with its peers' behind it, keeping what it
//!   fetched from them so it serves it in turn.
//! - [`server`] (`server`): an axum gateway over any store, with the Kubo upload endpoint and CORS.

pub mod cid;
mod error;
mod local;
mod replicating;
mod store;

#[cfg(feature = "http")]
pub mod gateway;
#[cfg(feature = "http")]
mod http;
#[cfg(feature = "http")]
mod kubo;
#[cfg(feature = "server")]
pub mod origins;
#[cfg(feature = "server")]
pub mod server;

pub use cid::{content_id, from_interface, interface_cid, parse_cid, to_interface};
pub use error::StorageError;
#[cfg(feature = "http")]
pub use gateway::GatewayStore;
#[cfg(feature = "http")]
pub use kubo::KuboStore;
pub use local::LocalStore;
pub use replicating::Replicating;
pub use store::{BlobStore, Limits, open, verify};
