//! Drawing a round's committee from the bonded registry, in O(1) per validator.
//!
//! The first committee's seed is fixed only once the node reveals close:
//! `sha256("droppin-seed" || round || 0 || beacon || anchor)`. The beacon is the XOR of the
//! hashes of every revealed salt (kept in the round as reveals land, so their order does not
//! matter). The anchor is the bank hash of the last slot before the commit deadline, read from
//! the SlotHashes sysvar by the first reveal (or anyone's draw) that sees it: it was fixed
//! before any salt was public, so its leader could not aim it, and the reveals that come after
//! it cannot be chosen around it. A slot hash taken after the reveals would let that slot's
//! leader, who sees every salt, grind its block for the seat it wants. What is left is
//! withholding: a node that sees the anchor and the other reveals may keep its own back and
//! flip one informed bit of choice, at the price of its no-show penalty (k nodes revealing last
//! choose among 2^k seeds); and the leaders of the reveal phase's last slots may leave out
//! reveals they see in flight, a bit each, paid by the node left out (a no-show), which is why
//! honest nodes reveal as the phase opens.
//!
//! The appeal's committee (level 1) takes the hash of the slot after the appeal instead. Drawn
//! from the anchor, it would be known when the reveals close, and a captive first committee
//! would know before voting whether an appeal would be judged by its own validators too: it
//! would only ever cheat when it could not lose. The price is that the leader of the slot after
//! the appeal could reorder its block for another seed; closing that needs randomness no leader
//! sees first (a VRF).
//!
//! A validator whose bond was last changed before the round opened holds a seat iff its
//! ticket, `sha256(seed || validator)` read as a little-endian u64, falls under
//! `2^64 * min(1, expected * bond / bonded_total)`, the bonded total being the registry's at the
//! round's opening. Each validator proves its own selection when it takes its seat; no list is
//! ever iterated. A validator's chance is proportional to its share of the bond, so splitting a
//! bond over many keys (sybils) buys no extra seats in expectation, and the expected committee
//! size is `expected` whatever the registry's shape (validators holding more than
//! `1/expected` of the bond are capped at one seat).

use crate::{Pubkey, hash::Hasher};

const SEED_DOMAIN: &[u8] = b"droppin-seed";

/// A committee's seed: the round, the committee level, the nodes' beacon and a slot hash (the
/// anchor's for the first committee, the slot after the appeal's for the appeal's).
pub fn seed<H: Hasher>(
    round: &Pubkey,
    level: u8,
    beacon: &[u8; 32],
    slot_hash: &[u8; 32],
) -> [u8; 32] {
    H::hashv(&[SEED_DOMAIN, round, &[level], beacon, slot_hash])
}

/// Folds a revealed salt into the beacon (XOR of salt hashes: the same whatever the order).
pub fn fold_beacon<H: Hasher>(beacon: &mut [u8; 32], salt: &[u8; 32]) {
    let hash = H::hashv(&[salt]);
    for (b, h) in beacon.iter_mut().zip(hash) {
        *b ^= h;
    }
}

/// A validator's ticket in a draw.
pub fn ticket<H: Hasher>(seed: &[u8; 32], validator: &Pubkey) -> u64 {
    let hash = H::hashv(&[seed, validator]);
    u64::from_le_bytes(hash[..8].try_into().expect("8 bytes"))
}

/// Whether a ticket wins a seat for a bond of `bond` out of `bonded_total`, `expected` seats
/// expected: `ticket < 2^64 * expected * bond / bonded_total`, exactly, in integers.
pub fn is_selected(ticket: u64, bond: u64, bonded_total: u64, expected: u8) -> bool {
    if bond == 0 || bonded_total == 0 {
        return false;
    }
    let weighted = u128::from(expected) * u128::from(bond);
    if weighted >= u128::from(bonded_total) {
        return true;
    }
    // weighted < bonded_total < 2^64, so weighted << 64 fits; ticket * total < 2^128.
    u128::from(ticket) * u128::from(bonded_total) < weighted << 64
}

/// Whether `validator`, holding `bond`, was drawn for committee `level` of `round`: the
/// committee's seed is fixed and the validator's ticket falls under the threshold of the bond it
/// held when the round opened (`ValidatorBond::bond_at`; a $dPIN bond weighs its lamports' worth
/// at the round's reference price, the price its bonded total was snapshotted at). (The funder,
/// the round's nodes and, for an appeal, the appellant and the first committee are drawn like
/// anyone but refused their seat.)
pub fn drawn<H: Hasher>(
    round: &crate::state::Round,
    validator: &Pubkey,
    bond: &crate::state::ValidatorBond,
    level: u8,
) -> bool {
    let committee = round.committee(level);
    let weight = bond.worth_at(round.opened_slot, round.terms.reference_price);
    committee.drawn
        && weight > 0
        && is_selected(
            ticket::<H>(&committee.seed, validator),
            weight,
            committee.bonded_total,
            committee.expected,
        )
}

/// The chance a bond of `bond` out of `bonded_total` wins a seat, `expected` seats expected.
pub fn probability(bond: u64, bonded_total: u64, expected: u8) -> f64 {
    if bonded_total == 0 {
        return 0.0;
    }
    (f64::from(expected) * bond as f64 / bonded_total as f64).min(1.0)
}

/// The sealed vote `sha256("droppin-vote" || round || validator || level || digest || salt)`:
/// binding the validator's key stops anyone from re-submitting another member's commitment and
/// revealing it once the original is revealed.
#[inline(always)]
pub fn vote_commitment<H: Hasher>(
    round: &Pubkey,
    validator: &Pubkey,
    level: u8,
    digest: &[u8; 32],
    salt: &[u8; 32],
) -> [u8; 32] {
    H::hashv(&[b"droppin-vote", round, validator, &[level], digest, salt])
}

#[cfg(all(test, feature = "client"))]
mod tests {
    use super::*;
    use crate::hash::Sha256;

    #[test]
    fn selection_is_exact_at_the_threshold() {
        // Half of the range for a bond worth half a seat.
        assert!(is_selected(u64::MAX / 2, 1, 2, 1));
        assert!(!is_selected(u64::MAX / 2 + 1, 1, 2, 1));
        assert!(
            is_selected(u64::MAX, 10, 30, 3),
            "a whole expected seat: always"
        );
        assert!(!is_selected(0, 0, 30, 3), "no bond: never");
        assert!(!is_selected(0, 10, 0, 3));
    }

    #[test]
    fn the_beacon_ignores_reveal_order() {
        let (a, b, c) = ([1u8; 32], [2u8; 32], [3u8; 32]);
        let mut one = [0u8; 32];
        for salt in [&a, &b, &c] {
            fold_beacon::<Sha256>(&mut one, salt);
        }
        let mut other = [0u8; 32];
        for salt in [&c, &a, &b] {
            fold_beacon::<Sha256>(&mut other, salt);
        }
        assert_eq!(one, other);
        assert_ne!(one, [0; 32]);
    }
}
