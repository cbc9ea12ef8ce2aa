//! A verdict's leaves on-chain (PDA `["verdict", round, level]`): a fixed body, then one byte
//! per chunk (posted or not), then one 3-byte leaf per joined node, in join order.
//!
//! Settlement reads a node's leaf from here, so it never depends on a blob someone may withhold.

use borsh::{BorshDeserialize, BorshSerialize};
use codama_macros::CodamaAccount;

use super::{AccountState, AccountType};
use crate::{
    Pubkey,
    verdict::{LEAF_LEN, Leaf, chunk_count},
};

/// The posted leaves of one verdict and the tallies the program kept while checking them.
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, CodamaAccount)]
#[codama(field("account_type", number(u8), default_value = 11))]
#[codama(field("version", number(u8), default_value = 1))]
#[codama(discriminator(field = "account_type"))]
#[codama(seed(type = string(utf8), value = "verdict"))]
#[codama(seed(name = "round", type = public_key))]
#[codama(seed(name = "level", type = number(u8)))]
pub struct VerdictLeaves {
    /// The round.
    pub round: Pubkey,
    /// The committee whose verdict these are (0, or 1 after an overturning appeal).
    pub level: u8,
    /// Who paid the rent (returned when the round closes).
    pub payer: Pubkey,
    /// Leaves: one per joined node.
    pub total: u32,
    /// Chunks the leaves are posted in.
    pub chunks: u16,
    /// Chunks posted so far.
    pub posted: u16,
    /// Accepted leaves posted so far.
    pub accepted: u32,
    /// Excluded leaves posted so far.
    pub excluded: u32,
    /// Slashed leaves posted so far.
    pub slashed: u32,
    /// No-show leaves posted so far.
    pub no_shows: u32,
    /// Sum of the accepted weights posted so far, in bps.
    pub weight_sum: u32,
    /// Every chunk posted and the tallies equal to the verdict's header.
    pub complete: bool,
}

impl AccountState for VerdictLeaves {
    const TYPE: AccountType = AccountType::Verdict;
    const BODY_LEN: usize = 32 + 1 + 32 + 4 + 2 + 2 + 4 * 5 + 1;
    const TRAILING: bool = true;
}

impl VerdictLeaves {
    /// Account size for a verdict over `total` nodes.
    pub fn space(total: u32) -> usize {
        Self::LEN + chunk_count(total) as usize + total as usize * LEAF_LEN
    }

    /// Offset of chunk `chunk`'s posted flag in the account data.
    pub fn flag_offset(chunk: u16) -> usize {
        Self::LEN + usize::from(chunk)
    }

    /// Offset of leaf `index` in the account data of a verdict over `total` nodes.
    pub fn leaf_offset(total: u32, index: u32) -> usize {
        Self::LEN + chunk_count(total) as usize + index as usize * LEAF_LEN
    }

    /// Leaf `index` from the account data, if it is there and posted.
    pub fn leaf(&self, data: &[u8], index: u32) -> Option<Leaf> {
        if index >= self.total {
            return None;
        }
        let chunk = crate::verdict::chunk_of(index);
        if data.get(Self::flag_offset(chunk)) != Some(&1) {
            return None;
        }
        let at = Self::leaf_offset(self.total, index);
        Leaf::from_bytes(data.get(at..at + LEAF_LEN)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::{LEAVES_PER_CHUNK, Outcome};

    #[test]
    fn the_largest_verdict_fits_an_account_a_program_can_create() {
        let space = VerdictLeaves::space(crate::state::MAX_NODES_CAP);
        assert!(space <= 10_240, "{space} bytes");
    }

    #[test]
    fn leaves_are_read_only_from_posted_chunks() {
        let total = LEAVES_PER_CHUNK + 3;
        let header = VerdictLeaves {
            total,
            chunks: 2,
            ..VerdictLeaves::default()
        };
        let mut data = std::vec![0u8; VerdictLeaves::space(total)];
        header.store(&mut data).unwrap();
        let leaf = Leaf {
            outcome: Outcome::Accepted,
            weight_bps: 700,
        };
        let at = VerdictLeaves::leaf_offset(total, LEAVES_PER_CHUNK + 1);
        data[at..at + LEAF_LEN].copy_from_slice(&leaf.to_bytes());
        assert_eq!(
            header.leaf(&data, LEAVES_PER_CHUNK + 1),
            None,
            "chunk not posted"
        );
        data[VerdictLeaves::flag_offset(1)] = 1;
        assert_eq!(header.leaf(&data, LEAVES_PER_CHUNK + 1), Some(leaf));
        assert_eq!(header.leaf(&data, total), None);
        assert_eq!(VerdictLeaves::load(&data).unwrap(), header);
    }
}
