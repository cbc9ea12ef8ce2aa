//! A node's side of a round: encode its trained delta, commit to its CID, and only after the
//! commit deadline upload it and reveal. Uploading after committing keeps the CID unknown while
//! others can still commit: nobody can copy it into a commitment of their own.

use std::time::Duration;

use anyhow::Context;
use droppin_client::{Chain, Protocol};
pub use droppin_fl::update::encode_delta;
pub use droppin_node::Commitment;
use droppin_storage::{BlobStore, to_interface};
use solana_address::Address;
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::patience::Patience;

/// Commits `pending` (its CID only: the bytes stay local until the reveal), staking `node` into
/// `round` in the same transaction when `joining`: the stake is never locked without the
/// commitment that saves it from a no-show's slash.
pub fn commit<C: Chain>(
    protocol: &mut Protocol<C>,
    node: &Keypair,
    round: &Address,
    pending: &Commitment,
    joining: bool,
) -> anyhow::Result<()> {
    let hash = pending.hash(&node.pubkey().to_bytes());
    if joining {
        protocol
            .join_and_commit(node, round, hash)
            .context("joining and committing the update")?;
    } else {
        protocol
            .commit_update(node, round, hash)
            .context("committing the update")?;
    }
    Ok(())
}

/// Uploads the committed bytes before the reveal, trying a store that does not answer again
/// for `patience` (`on_retry` hears each pause). The caller reveals even when this failed: an
/// unavailable update is excluded (stake back), while a node that never reveals loses the
/// slash fraction.
pub fn upload(
    store: &dyn BlobStore,
    pending: &Commitment,
    bytes: &[u8],
    patience: &Patience,
    on_retry: impl FnMut(&anyhow::Error, Duration),
) -> anyhow::Result<()> {
    let cid = patience.retry(
        || store.put(bytes).context("uploading the update"),
        on_retry,
    )?;
    anyhow::ensure!(
        to_interface(&cid)? == pending.cid,
        "the update's bytes changed since the commitment"
    );
    Ok(())
}

/// Reveals a committed update (its bytes must already be in storage).
pub fn reveal<C: Chain>(
    protocol: &mut Protocol<C>,
    node: &Keypair,
    round: &Address,
    pending: &Commitment,
) -> anyhow::Result<()> {
    protocol
        .reveal_update(node, round, pending.cid, pending.salt, pending.samples)
        .context("revealing the update")?;
    Ok(())
}
