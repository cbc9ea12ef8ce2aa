//! A node's side of a round: encode its trained delta, upload it, commit, reveal.

use anyhow::Context;
use droppin_client::{Chain, Protocol};
use droppin_fl::{
    model::{ModelSpec, Weights},
    update::{Encoding, Update},
};
use droppin_interface::{
    Cid,
    hash::{Sha256, commitment},
};
use droppin_storage::{BlobStore, to_interface};
use solana_address::Address;
use solana_keypair::Keypair;
use solana_signer::Signer;

/// A committed update waiting for the reveal phase. Keep it: without the salt the reveal is
/// impossible and the stake is forfeited.
#[derive(Clone, Copy, Debug)]
pub struct Pending {
    /// The update's CID.
    pub cid: Cid,
    /// The commit-reveal salt.
    pub salt: [u8; 32],
    /// Training samples behind the update.
    pub samples: u64,
}

/// The canonical bytes of a delta trained from `base`.
pub fn encode_delta(spec: &ModelSpec, base: &Weights, delta: Vec<f32>, samples: u64) -> Vec<u8> {
    Update::delta(
        spec,
        Update::model_hash(spec, base),
        samples,
        base.layout.clone(),
        delta,
    )
    .encode(Encoding::default())
}

/// Uploads `bytes` and commits their CID with `salt`.
pub fn upload_and_commit<C: Chain>(
    protocol: &mut Protocol<C>,
    store: &dyn BlobStore,
    node: &Keypair,
    round: &Address,
    bytes: &[u8],
    salt: [u8; 32],
    samples: u64,
) -> anyhow::Result<Pending> {
    let cid = to_interface(&store.put(bytes).context("uploading the update")?)?;
    let hash = commitment::<Sha256>(&node.pubkey().to_bytes(), &cid, &salt);
    protocol
        .commit_update(node, round, hash)
        .context("committing the update")?;
    Ok(Pending { cid, salt, samples })
}

/// Reveals a committed update.
pub fn reveal<C: Chain>(
    protocol: &mut Protocol<C>,
    node: &Keypair,
    round: &Address,
    pending: &Pending,
) -> anyhow::Result<()> {
    protocol
        .reveal_update(node, round, pending.cid, pending.salt, pending.samples)
        .context("revealing the update")?;
    Ok(())
}
