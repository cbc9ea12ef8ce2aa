//! A node's part in a round, the marker of its update's CID, and its reputation.

use borsh::{BorshDeserialize, BorshSerialize};
use codama_macros::{CodamaAccount, CodamaType};

use super::{AccountState, AccountType};
use crate::{BPS, Cid, Pubkey};

/// Where a node stands in its round.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, CodamaType,
)]
#[borsh(use_discriminant = true)]
#[repr(u8)]
pub enum NodeStatus {
    /// Staked, nothing committed.
    #[default]
    Joined = 0,
    /// Commitment recorded.
    Committed = 1,
    /// Reveal checked against the commitment.
    Revealed = 2,
}

/// One node's participation in one round (at the round-scoped address of
/// [`crate::pda::node_seed`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, CodamaAccount)]
#[codama(field("account_type", number(u8), default_value = 5))]
#[codama(field("version", number(u8), default_value = 1))]
#[codama(discriminator(field = "account_type"))]
pub struct NodeState {
    /// The round.
    pub round: Pubkey,
    /// The node's wallet: signs, pays rent, receives payouts.
    pub node: Pubkey,
    /// Its join index: the position of its leaf in the round's verdict.
    pub index: u32,
    /// Joined, committed or revealed.
    pub status: NodeStatus,
    /// Copied from the round so a commit touches only this account.
    pub commit_deadline: u64,
    /// `sha256(node || cid || salt)`.
    pub commitment: [u8; 32],
    /// The revealed CID of the node's update.
    pub cid: Cid,
    /// Training samples the node reports (used for sample-weighted aggregation).
    pub sample_count: u64,
    /// Stake locked, in the round's currency.
    pub stake: u64,
    /// Another node revealed the same CID first.
    pub duplicate: bool,
    /// The node's reputation multiplier when it joined (see [`Reputation::multiplier_bps`]):
    /// a snapshot, so every validator weighs the round with the same figures.
    pub reputation_bps: u16,
}

impl AccountState for NodeState {
    const TYPE: AccountType = AccountType::Node;
    const BODY_LEN: usize = 32 + 32 + 4 + 1 + 8 + 32 + 36 + 8 + 8 + 1 + 2;
}

/// The first node to reveal a CID in a round (at a `create_with_seed` address, see
/// [`crate::pda::cid_marker_address`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, CodamaAccount)]
#[codama(field("account_type", number(u8), default_value = 7))]
#[codama(field("version", number(u8), default_value = 1))]
#[codama(discriminator(field = "account_type"))]
pub struct CidMarker {
    /// The round.
    pub round: Pubkey,
    /// The node that revealed the CID first and paid the marker's rent.
    pub node: Pubkey,
}

impl AccountState for CidMarker {
    const TYPE: AccountType = AccountType::CidMarker;
    const BODY_LEN: usize = 32 + 32;
}

/// A node's soulbound track record (PDA `["reputation", node]`).
///
/// Owned by the program, with no instruction that moves or reassigns it: it cannot be sold or
/// transferred, only earned, and it fades.
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, CodamaAccount)]
#[codama(field("account_type", number(u8), default_value = 8))]
#[codama(field("version", number(u8), default_value = 1))]
#[codama(discriminator(field = "account_type"))]
#[codama(seed(type = string(utf8), value = "reputation"))]
#[codama(seed(name = "node", type = public_key))]
pub struct Reputation {
    /// The node's wallet.
    pub node: Pubkey,
    /// Canonical bump.
    pub bump: u8,
    /// Rounds joined.
    pub rounds_joined: u32,
    /// Updates accepted.
    pub accepted: u32,
    /// Updates excluded (stake back, no reward).
    pub excluded: u32,
    /// Updates slashed.
    pub slashed: u32,
    /// Rounds joined without a reveal.
    pub no_shows: u32,
    /// Points as of `updated_slot`: rewards earned, in thousands of lamports' worth.
    pub points: u64,
    /// Slot `points` was last brought up to date.
    pub updated_slot: u64,
}

/// Points that reach the largest reward multiplier: one SOL's worth of rewards earned.
pub const REPUTATION_POINTS_CAP: u64 = 1_000_000;
/// Lamports of reward per reputation point.
pub const LAMPORTS_PER_POINT: u64 = 1_000;
/// The multiplier of an identity with no points: below x1, so a fresh key (a sybil, or a node
/// shedding a slashed record) starts behind every node with a track record.
pub const NEW_IDENTITY_MULTIPLIER_BPS: u16 = 9_000;
/// The largest multiplier.
pub const MAX_MULTIPLIER_BPS: u16 = 15_000;

impl Reputation {
    /// Points at `slot`: halved every `half_life` slots since the last update (linearly between
    /// halvings), so a record must keep being earned.
    pub fn points_at(&self, slot: u64, half_life: u64) -> u64 {
        let half_life = half_life.max(1);
        let elapsed = slot.saturating_sub(self.updated_slot);
        let halvings = elapsed / half_life;
        if halvings >= 64 {
            return 0;
        }
        let halved = self.points >> halvings;
        let partial =
            u128::from(halved) * u128::from(elapsed % half_life) / u128::from(2 * half_life);
        halved - partial as u64
    }

    /// The reward multiplier at `slot`, in bps: from x0.9 for a new identity to x1.5 at
    /// [`REPUTATION_POINTS_CAP`]. Validators multiply a node's measured contribution by it
    /// before normalizing the round's weights; it only tilts shares among nodes that
    /// contributed, never pays one that did not.
    pub fn multiplier_bps(&self, slot: u64, half_life: u64) -> u16 {
        let points = self.points_at(slot, half_life).min(REPUTATION_POINTS_CAP);
        let span = u64::from(MAX_MULTIPLIER_BPS - NEW_IDENTITY_MULTIPLIER_BPS);
        NEW_IDENTITY_MULTIPLIER_BPS + (points * span / REPUTATION_POINTS_CAP) as u16
    }

    /// Credits a reward of `lamports` worth earned at `slot`.
    pub fn earn(&mut self, lamports: u64, slot: u64, half_life: u64) {
        self.points = self
            .points_at(slot, half_life)
            .saturating_add(lamports / LAMPORTS_PER_POINT);
        self.updated_slot = slot;
    }

    /// A slash halves the points.
    pub fn penalize(&mut self, slot: u64, half_life: u64) {
        self.points = self.points_at(slot, half_life) / 2;
        self.updated_slot = slot;
    }
}

impl AccountState for Reputation {
    const TYPE: AccountType = AccountType::Reputation;
    const BODY_LEN: usize = 32 + 1 + 4 * 5 + 8 + 8;
}

/// The neutral multiplier, x1.
pub const NEUTRAL_MULTIPLIER_BPS: u16 = BPS;

#[cfg(test)]
mod tests {
    use super::*;

    const HALF_LIFE: u64 = 1_000;

    #[test]
    fn a_new_identity_starts_below_neutral_and_the_multiplier_is_bounded() {
        let mut rep = Reputation::default();
        assert_eq!(
            rep.multiplier_bps(0, HALF_LIFE),
            NEW_IDENTITY_MULTIPLIER_BPS
        );
        const { assert!(NEW_IDENTITY_MULTIPLIER_BPS < NEUTRAL_MULTIPLIER_BPS) };
        rep.earn(u64::MAX, 0, HALF_LIFE);
        assert_eq!(rep.multiplier_bps(0, HALF_LIFE), MAX_MULTIPLIER_BPS);
        let mut rep = Reputation::default();
        rep.earn(
            (REPUTATION_POINTS_CAP / 6 + 1) * LAMPORTS_PER_POINT,
            0,
            HALF_LIFE,
        );
        assert_eq!(rep.multiplier_bps(0, HALF_LIFE), NEUTRAL_MULTIPLIER_BPS);
    }

    #[test]
    fn points_halve_every_half_life_and_fade_smoothly() {
        let rep = Reputation {
            points: 8_000,
            updated_slot: 100,
            ..Reputation::default()
        };
        assert_eq!(rep.points_at(100, HALF_LIFE), 8_000);
        assert_eq!(rep.points_at(100 + HALF_LIFE / 2, HALF_LIFE), 6_000);
        assert_eq!(rep.points_at(100 + HALF_LIFE, HALF_LIFE), 4_000);
        assert_eq!(rep.points_at(100 + 3 * HALF_LIFE, HALF_LIFE), 1_000);
        assert_eq!(rep.points_at(100 + 100 * HALF_LIFE, HALF_LIFE), 0);
        let mut slashed = rep.clone();
        slashed.penalize(100, HALF_LIFE);
        assert_eq!(slashed.points, 4_000);
    }
}
