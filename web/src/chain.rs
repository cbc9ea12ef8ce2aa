//! Reading dropPIN's accounts from the chosen cluster: rounds, the nodes of a round, a verdict's
//! leaf, one account.

use droppin_interface::pda::find;
use droppin_interface::state::{AccountState, HEADER_LEN, NodeState, Round, VerdictLeaves};
use droppin_interface::verdict::Leaf;
use solana_address::Address;

use crate::session::{AppError, Session};

/// Every account of type `T`, optionally only those whose first key field is `owner_key`
/// (a node's round).
async fn all<T: AccountState>(
    session: &Session,
    owner_key: Option<&Address>,
) -> Result<Vec<(Address, T)>, AppError> {
    let tag = [T::TYPE as u8, T::VERSION];
    let mut matching: Vec<(usize, &[u8])> = vec![(0, &tag)];
    if let Some(key) = owner_key {
        matching.push((HEADER_LEN, key.as_ref()));
    }
    let accounts = session
        .rpc()
        .program_accounts(&session.program(), &matching)
        .await?;
    Ok(accounts
        .into_iter()
        .filter_map(|(address, data)| T::load(&data).ok().map(|state| (address, state)))
        .collect())
}

/// Every round, newest first.
pub async fn rounds(session: &Session) -> Result<Vec<(Address, Round)>, AppError> {
    let mut rounds = all::<Round>(session, None).await?;
    rounds.sort_by_key(|(_, round)| std::cmp::Reverse(round.id));
    Ok(rounds)
}

/// The current slot and every round, newest first: what a page that lists rounds reads.
pub async fn slot_and_rounds(session: &Session) -> Result<(u64, Vec<(Address, Round)>), AppError> {
    Ok((session.rpc().slot().await?, rounds(session).await?))
}

/// The nodes that joined `round`.
pub async fn nodes(
    session: &Session,
    round: &Address,
) -> Result<Vec<(Address, NodeState)>, AppError> {
    all::<NodeState>(session, Some(round)).await
}

/// Leaf `index` of the verdict committee `level` judged `round` by, as posted on-chain (`None`
/// until it is posted): what a node is settled by.
pub async fn verdict_leaf(
    session: &Session,
    round: &Address,
    level: u8,
    index: u32,
) -> Result<Option<Leaf>, AppError> {
    let address = find::verdict(&session.program(), round, level);
    let Some(data) = session.rpc().account_data(&address).await? else {
        return Ok(None);
    };
    let leaves = VerdictLeaves::load(&data)
        .map_err(|e| AppError::Invalid(format!("verdict leaves {address}: {e}")))?;
    Ok(leaves.leaf(&data, index))
}

/// One account's state, `None` if it does not exist.
pub async fn state<T: AccountState>(
    session: &Session,
    address: &Address,
) -> Result<Option<T>, AppError> {
    match session.rpc().account_data(address).await? {
        None => Ok(None),
        Some(data) => T::load(&data)
            .map(Some)
            .map_err(|e| AppError::Invalid(format!("account {address}: {e}"))),
    }
}
