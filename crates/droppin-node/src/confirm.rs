//! When to stop waiting for a sent transaction: not after a fixed time, but once it landed, or
//! once its blockhash expired without it (then it can never land, and sending again is safe).

/// What a poll of a sent transaction says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Confirmation {
    /// Confirmed (or finalized).
    Landed,
    /// It landed and failed.
    Failed,
    /// Not yet: poll again.
    Pending,
    /// The cluster is past the blockhash's last valid block height and the transaction has not
    /// landed: it never will.
    Expired,
}

/// Block heights a blockhash stays valid for, with room to spare (the cluster's is 150): a
/// transaction whose last valid height is further ahead than this was built on another chain
/// (a local network restarted since), and never lands on this one.
pub const LONGEST_VALIDITY: u64 = 300;

/// The verdict of one poll: `status` is the transaction's confirmation status (`processed`,
/// `confirmed`, `finalized`) if the cluster knows it, with whether it failed; `block_height`
/// is the cluster's, `last_valid` the blockhash's last valid block height. The height must be
/// read before the status: a transaction unseen after the height passed `last_valid` can never
/// land, while one unseen before may have landed between the two reads.
pub fn confirmation(
    status: Option<(&str, bool)>,
    block_height: u64,
    last_valid: u64,
) -> Confirmation {
    match status {
        Some((_, true)) => Confirmation::Failed,
        Some(("confirmed" | "finalized", false)) => Confirmation::Landed,
        // Seen in a block, not yet confirmed: it lands or drops out of sight, whatever the
        // height says now.
        Some(_) => Confirmation::Pending,
        _ if block_height > last_valid => Confirmation::Expired,
        _ if last_valid - block_height > LONGEST_VALIDITY => Confirmation::Expired,
        _ => Confirmation::Pending,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_while_the_blockhash_lives() {
        assert_eq!(confirmation(None, 10, 160), Confirmation::Pending);
        assert_eq!(
            confirmation(Some(("processed", false)), 10, 160),
            Confirmation::Pending
        );
        assert_eq!(
            confirmation(Some(("confirmed", false)), 10, 160),
            Confirmation::Landed
        );
        assert_eq!(
            confirmation(Some(("processed", true)), 10, 160),
            Confirmation::Failed
        );
        assert_eq!(confirmation(None, 161, 160), Confirmation::Expired);
        assert_eq!(
            confirmation(Some(("processed", false)), 161, 160),
            Confirmation::Pending,
            "in a block already: it may still be confirmed"
        );
        assert_eq!(
            confirmation(None, 10, 10 + LONGEST_VALIDITY + 1),
            Confirmation::Expired,
            "built on a chain since restarted: it never lands here"
        );
        assert_eq!(
            confirmation(None, 10, 10 + LONGEST_VALIDITY),
            Confirmation::Pending
        );
        assert_eq!(
            confirmation(Some(("finalized", false)), 500, 160),
            Confirmation::Landed,
            "a landed transaction is landed, however late the poll"
        );
    }
}
