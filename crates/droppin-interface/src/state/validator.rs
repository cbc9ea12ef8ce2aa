//! The validator registry: bonds, and the seats they back in rounds.

use borsh::{BorshDeserialize, BorshSerialize};
use codama_macros::{CodamaAccount, CodamaType};

use super::{AccountState, AccountType, Currency};
use crate::{
    LAMPORTS_PER_SOL, Pubkey,
    availability::{AVAILABILITY_BYTES, Availability},
    instruction::VerdictVote,
};

/// The registry of bonded validators (PDA `["registry"]`): the bonded total every round
/// snapshots when it opens, against which each validator's chance of a seat is measured.
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, CodamaAccount)]
#[codama(field("account_type", number(u8), default_value = 9))]
#[codama(field("version", number(u8), default_value = 1))]
#[codama(discriminator(field = "account_type"))]
#[codama(seed(type = string(utf8), value = "registry"))]
pub struct Registry {
    /// Canonical bump.
    pub bump: u8,
    /// Lamports bonded by every SOL-bonded validator (unbonding amounts excluded).
    pub total_bond: u64,
    /// Validators registered.
    pub validators: u32,
    /// $dPIN base units bonded by every $dPIN-bonded validator (unbonding amounts excluded).
    pub total_dpin_bond: u64,
}

impl Registry {
    /// The bonded total in lamports' worth, $dPIN bonds valued at `reference_price` (as each
    /// bond's own weight is, so the weights never sum past the total).
    pub fn bonded_worth(&self, reference_price: u64) -> u64 {
        self.total_bond
            .saturating_add(dpin_worth(self.total_dpin_bond, reference_price))
    }

    /// The running total of bonds in `currency`.
    pub fn total_mut(&mut self, currency: Currency) -> &mut u64 {
        match currency {
            Currency::Sol => &mut self.total_bond,
            Currency::Dpin => &mut self.total_dpin_bond,
        }
    }
}

impl AccountState for Registry {
    const TYPE: AccountType = AccountType::Registry;
    const BODY_LEN: usize = 1 + 8 + 4 + 8;
}

/// Lamports' worth of `dpin` base units at `reference_price` ($dPIN base units per SOL),
/// rounded down: a bond's weight in a draw never counts more than it holds. Zero without a price.
pub fn dpin_worth(dpin: u64, reference_price: u64) -> u64 {
    if reference_price == 0 {
        return 0;
    }
    let value = u128::from(dpin) * u128::from(LAMPORTS_PER_SOL) / u128::from(reference_price);
    u64::try_from(value).unwrap_or(u64::MAX)
}

/// $dPIN base units that cover `lamports` at `reference_price`, rounded up: a lock sized in
/// lamports' worth never shrinks when it is taken from a $dPIN bond.
pub fn dpin_covering(lamports: u64, reference_price: u64) -> u64 {
    let value =
        (u128::from(lamports) * u128::from(reference_price)).div_ceil(u128::from(LAMPORTS_PER_SOL));
    u64::try_from(value).unwrap_or(u64::MAX)
}

/// A validator's bond (PDA `["bond", validator]`), locked seat by seat in the rounds it
/// serves. A SOL bond is the account's own lamports; a $dPIN bond sits in its token account (PDA
/// `["bond-token", validator]`, authority: this PDA). Its amounts are in its currency.
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, CodamaAccount)]
#[codama(field("account_type", number(u8), default_value = 10))]
#[codama(field("version", number(u8), default_value = 1))]
#[codama(discriminator(field = "account_type"))]
#[codama(seed(type = string(utf8), value = "bond"))]
#[codama(seed(name = "validator", type = public_key))]
pub struct ValidatorBond {
    /// The validator's wallet.
    pub validator: Pubkey,
    /// Canonical bump.
    pub bump: u8,
    /// Bonded, in the bond's currency (seats' locks included).
    pub bond: u64,
    /// The part of `bond` locked by seats in rounds not yet settled.
    pub locked: u64,
    /// Slot of the last voluntary change to `bond` (registration, top-up, unbond): a round
    /// opened after it draws on `bond`, one opened at or before it on `prior_bond`, so nobody
    /// grows (or shrinks away) its chance of a seat after seeing a seed.
    pub since_slot: u64,
    /// On its way out.
    pub unbonding: u64,
    /// First slot `unbonding` may be withdrawn.
    pub unbond_at: u64,
    /// Seats holding a lock now.
    pub open_seats: u32,
    /// Seats taken so far.
    pub seats_taken: u32,
    /// Lost to penalties so far.
    pub slashed_total: u64,
    /// What the bond is held in, chosen at registration.
    pub currency: Currency,
    /// Slot of registration: rounds opened at or before it never draw this bond.
    pub registered_slot: u64,
    /// The bond as it stood before the change at `since_slot`.
    pub prior_bond: u64,
    /// Absence penalties its free and unbonding amounts could not cover (the rest was locked
    /// by seats): taken as those seats settle, and nothing is unbonded or seated with it first.
    pub debt: u64,
}

impl ValidatorBond {
    /// The part of the bond no seat holds.
    pub fn free(&self) -> u64 {
        self.bond.saturating_sub(self.locked)
    }

    /// The free part less what it owes: what it may lock in a new seat or unbond.
    pub fn available(&self) -> u64 {
        self.free().saturating_sub(self.debt)
    }

    /// The bond's worth now: lamports, or lamports' worth of $dPIN at `reference_price`.
    pub fn worth(&self, reference_price: u64) -> u64 {
        self.worth_of(self.bond, reference_price)
    }

    /// The bond that counts in the draws of a round opened at `opened_slot`: nothing for a
    /// round opened before the registration, the bond before the last change for one opened
    /// at or before that change, the bond now otherwise. A bond changes at most once while any
    /// round that could draw it is alive (see `BondChangeTooSoon`), so this is exactly what it
    /// held when that round opened.
    pub fn bond_at(&self, opened_slot: u64) -> u64 {
        if opened_slot <= self.registered_slot {
            0
        } else if opened_slot < self.since_slot {
            self.prior_bond
        } else if opened_slot == self.since_slot {
            // The change and the opening share a slot, in an order the bond cannot tell: the
            // smaller, so no weight exceeds the round's snapshot.
            self.prior_bond.min(self.bond)
        } else {
            self.bond
        }
    }

    /// The bond's weight in the draws of a round opened at `opened_slot`, at its
    /// `reference_price`.
    pub fn worth_at(&self, opened_slot: u64, reference_price: u64) -> u64 {
        self.worth_of(self.bond_at(opened_slot), reference_price)
    }

    fn worth_of(&self, amount: u64, reference_price: u64) -> u64 {
        match self.currency {
            Currency::Sol => amount,
            Currency::Dpin => dpin_worth(amount, reference_price),
        }
    }

    /// `lamports`' worth in the bond's own units (rounded up for $dPIN).
    pub fn in_bond_units(&self, lamports: u64, reference_price: u64) -> u64 {
        match self.currency {
            Currency::Sol => lamports,
            Currency::Dpin => dpin_covering(lamports, reference_price),
        }
    }
}

impl AccountState for ValidatorBond {
    const TYPE: AccountType = AccountType::Bond;
    const BODY_LEN: usize = 32 + 1 + 8 * 5 + 4 * 2 + 8 + 1 + 8 * 3;
}

/// Where a seat stands.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, CodamaType,
)]
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
    /// A drawn validator that could not take its seat because its locks in other seats took
    /// the bond it held when the round opened: recorded by itself, it is not absent.
    Excused = 4,
}

impl SeatStatus {
    /// Whether the validator took the seat and locked its bond in it, rather than the record
    /// being of its absence or its excuse.
    pub fn took_seat(self) -> bool {
        matches!(
            self,
            SeatStatus::Seated | SeatStatus::Committed | SeatStatus::Revealed
        )
    }
}

/// A validator's seat in one committee of one round (at the round-scoped address of
/// [`crate::pda::seat_seed`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, CodamaAccount)]
#[codama(field("account_type", number(u8), default_value = 6))]
#[codama(field("version", number(u8), default_value = 2))]
#[codama(discriminator(field = "account_type"))]
pub struct Seat {
    /// The round.
    pub round: Pubkey,
    /// The validator.
    pub validator: Pubkey,
    /// 0: the first committee; 1: the appeal's.
    pub level: u8,
    /// Taken, committed, revealed, or reported absent.
    pub status: SeatStatus,
    /// What this seat locks of the validator's bond, in the bond's currency.
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
    /// The slot the seat was taken in: a seat taken before its committee's availability
    /// deadline counts in the majority that decides availability, reported or not.
    pub claimed_slot: u64,
    /// Whether the seat reported what it fetched before the availability deadline; the
    /// bitmap of the nodes it fetched ([`crate::availability`]) follows the body
    /// ([`Seat::fetched`]).
    pub reported: bool,
}

impl AccountState for Seat {
    const TYPE: AccountType = AccountType::Seat;
    const VERSION: u8 = 2;
    const BODY_LEN: usize = 32 + 32 + 1 + 1 + 8 + 8 + 32 + 32 + VerdictVote::LEN + 32 + 8 + 1;
    // The availability bitmap lives past the body, written in place: a seat is decoded on
    // the program's 4 KB stack frames, which a 384-byte array would crowd.
    const TRAILING: bool = true;
    const SPACE: usize = Self::LEN + AVAILABILITY_BYTES;
}

impl Seat {
    /// The nodes a seat reported fetching, from its account's data (none if it did not report).
    pub fn fetched(&self, data: &[u8]) -> Availability {
        match data.get(Self::LEN..Self::SPACE) {
            Some(bits) if self.reported => Availability::from_bits(bits),
            _ => Availability::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_round_draws_on_the_bond_as_it_stood_when_it_opened() {
        let bond = ValidatorBond {
            bond: 7,
            prior_bond: 5,
            registered_slot: 10,
            since_slot: 20,
            ..ValidatorBond::default()
        };
        assert_eq!(bond.bond_at(10), 0, "opened before it registered");
        assert_eq!(bond.bond_at(15), 5, "opened before its last change");
        assert_eq!(bond.bond_at(21), 7, "opened after it");
        let unbonded = ValidatorBond { bond: 3, ..bond };
        assert_eq!(
            unbonded.bond_at(20),
            3,
            "a change in the opening's slot counts the smaller bond"
        );
        assert_eq!(bond.bond_at(20), 5);
    }
}
