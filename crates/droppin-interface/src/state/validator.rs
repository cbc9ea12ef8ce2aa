//! The validator registry: bonds, and the seats they back in rounds.

use borsh::{BorshDeserialize, BorshSerialize};

use super::{AccountState, AccountType};
use crate::{Pubkey, instruction::VerdictVote};

/// The registry of bonded validators (PDA `["registry"]`): the bonded total every round
/// snapshots when it opens, against which each validator's chance of a seat is measured.
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Registry {
    /// Canonical bump.
    pub bump: u8,
    /// Lamports bonded by every registered validator (unbonding amounts excluded).
    pub total_bond: u64,
    /// Validators registered.
    pub validators: u32,
}

impl AccountState for Registry {
    const TYPE: AccountType = AccountType::Registry;
    const BODY_LEN: usize = 1 + 8 + 4;
}

/// A validator's bond (PDA `["bond", validator]`): its lamports are the bond, locked seat by
/// seat in the rounds it serves.
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ValidatorBond {
    /// The validator's wallet.
    pub validator: Pubkey,
    /// Canonical bump.
    pub bump: u8,
    /// Lamports bonded (seats' locks included).
    pub bond: u64,
    /// Lamports of `bond` locked by seats in rounds not yet settled.
    pub locked: u64,
    /// Slot of the last voluntary change to `bond`: the validator is drawn only for rounds
    /// opened after it, so nobody can grow a bond after seeing a seed.
    pub since_slot: u64,
    /// Lamports on their way out.
    pub unbonding: u64,
    /// First slot `unbonding` may be withdrawn.
    pub unbond_at: u64,
    /// Seats holding a lock now.
    pub open_seats: u32,
    /// Seats taken so far.
    pub seats_taken: u32,
    /// Lamports lost to penalties so far.
    pub slashed_total: u64,
}

impl ValidatorBond {
    /// The part of the bond no seat holds.
    pub fn free(&self) -> u64 {
        self.bond.saturating_sub(self.locked)
    }
}

impl AccountState for ValidatorBond {
    const TYPE: AccountType = AccountType::Bond;
    const BODY_LEN: usize = 32 + 1 + 8 * 5 + 4 * 2 + 8;
}

/// Where a seat stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
#[borsh(use_discriminant = true)]
#[repr(u8)]
pub enum SeatStatus {
    /// Taken (lock held), no vote committed.
    #[default]
    Seated = 0,
    /// Sealed vote committed.
    Committed = 1,
    /// Vote revealed and tallied.
    Revealed = 2,
    /// A drawn validator that never took its seat, reported by a third party.
    Absent = 3,
}

/// A validator's seat in one committee of one round (at the round-scoped address of
/// [`crate::pda::seat_seed`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Seat {
    /// The round.
    pub round: Pubkey,
    /// The validator.
    pub validator: Pubkey,
    /// 0: the first committee; 1: the appeal's.
    pub level: u8,
    /// Taken, committed, revealed, or reported absent.
    pub status: SeatStatus,
    /// Lamports of the validator's bond this seat locks.
    pub lock: u64,
    /// The committee's vote deadline, copied so sealing a vote touches only the seat.
    pub vote_deadline: u64,
    /// Who paid the rent (the validator, or the reporter of an absence): gets it back.
    pub payer: Pubkey,
    /// `sha256("droppin-vote" || round || validator || level || digest || salt)`.
    pub commitment: [u8; 32],
    /// The revealed vote.
    pub vote: VerdictVote,
    /// sha256 of the revealed vote.
    pub digest: [u8; 32],
}

impl AccountState for Seat {
    const TYPE: AccountType = AccountType::Seat;
    const BODY_LEN: usize = 32 + 32 + 1 + 1 + 8 + 8 + 32 + 32 + VerdictVote::LEN + 32;
}
