//! Data availability: which revealed updates a committee could fetch, decided by its majority.
//!
//! A node can serve its blob to some validators and not to others. If each validator judged
//! what it alone fetched, such a node would split the committee into verdicts that differ in
//! one leaf, and the honest side could lose the vote. So, before anyone judges, every seated
//! validator records on its seat which nodes' blobs it fetched (a bitmap by join index), until
//! the committee's availability deadline, halfway between its draw slot and its vote deadline.
//! After it, the committee judges the set that more than half of its seats taken before the
//! deadline reported fetching ([`majority`]; a seat that did not report counts as having fetched
//! nothing, so seats that report cannot outvote those that stay quiet): a blob outside it is unavailable (the node is excluded, stake back); a blob
//! inside it that a validator lacks is fetched from the validators that have it (each re-serves
//! what it fetched). Every honest validator reads the same reports, so every honest validator
//! judges the same set and votes the same verdict.

use alloc::vec::Vec;

use crate::{
    DropPinError,
    state::{CommitteeDraw, MAX_NODES_CAP},
};

/// Bytes of an availability bitmap: one bit per node of the largest round.
pub const AVAILABILITY_BYTES: usize = MAX_NODES_CAP as usize / 8;

/// The slot from which a committee's availability reports are closed: halfway between its draw
/// slot and its vote deadline, so the second half of the validation window is left to judging.
pub fn availability_deadline(committee: &CommitteeDraw) -> u64 {
    let window = committee.vote_deadline.saturating_sub(committee.draw_slot);
    committee.draw_slot.saturating_add(window / 2)
}

/// A set of nodes by join index (bit `i % 8` of byte `i / 8` is node `i`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Availability(pub [u8; AVAILABILITY_BYTES]);

impl Default for Availability {
    fn default() -> Self {
        Availability([0; AVAILABILITY_BYTES])
    }
}

impl core::fmt::Debug for Availability {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_set()
            .entries((0..MAX_NODES_CAP).filter(|&i| self.contains(i)))
            .finish()
    }
}

impl Availability {
    /// The set of `indexes` (those past the largest round are ignored).
    pub fn of(indexes: impl IntoIterator<Item = u32>) -> Availability {
        let mut set = Availability::default();
        for index in indexes.into_iter().filter(|&i| i < MAX_NODES_CAP) {
            set.0[index as usize / 8] |= 1 << (index % 8);
        }
        set
    }

    /// The set a bitmap holds (bytes past the largest round's are ignored, missing ones are
    /// zeroes).
    pub fn from_bits(bits: &[u8]) -> Availability {
        let mut set = Availability::default();
        let len = bits.len().min(AVAILABILITY_BYTES);
        set.0[..len].copy_from_slice(&bits[..len]);
        set
    }

    /// Checks a report's bitmap for a round of `nodes` joined nodes: it may be shorter than the
    /// largest round's (missing bytes are zeroes), never longer, and names no node past the
    /// round's last.
    pub fn check_report(bits: &[u8], nodes: u32) -> Result<(), DropPinError> {
        let past_last = bits.iter().enumerate().any(|(i, byte)| {
            let first = i as u32 * 8;
            // The bits of this byte at or past `nodes`.
            let beyond = match nodes.saturating_sub(first) {
                0 => 0xff,
                n if n >= 8 => 0,
                n => 0xffu8 << n,
            };
            byte & beyond != 0
        });
        if bits.len() > AVAILABILITY_BYTES || past_last {
            return Err(DropPinError::InvalidAvailability);
        }
        Ok(())
    }

    /// The shortest report bitmap for a round of `nodes` nodes.
    pub fn report(&self, nodes: u32) -> Vec<u8> {
        let len = (nodes as usize).div_ceil(8).min(AVAILABILITY_BYTES);
        self.0[..len].to_vec()
    }

    /// Whether node `index` is in the set.
    pub fn contains(&self, index: u32) -> bool {
        index < MAX_NODES_CAP && self.0[index as usize / 8] & (1 << (index % 8)) != 0
    }
}

/// The nodes (of `nodes` joined) whose blob more than half of the committee's `seats` (those
/// taken before the availability deadline) reported fetching: the set the committee judges. A
/// seat that did not report counts as having fetched nothing, so a few seats that report a
/// blob the others never got cannot make it count.
pub fn majority(reports: &[Availability], seats: usize, nodes: u32) -> Availability {
    let held = |index: u32| reports.iter().filter(|r| r.contains(index)).count();
    let seats = seats.max(reports.len());
    Availability::of((0..nodes.min(MAX_NODES_CAP)).filter(|&i| 2 * held(i) > seats))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_names_only_the_rounds_nodes() {
        let set = Availability::of([0, 3, 9]);
        assert_eq!(set.report(10), [0b0000_1001, 0b0000_0010]);
        assert_eq!(Availability::check_report(&set.report(10), 10), Ok(()));
        assert_eq!(Availability::from_bits(&set.report(10)), set);
        assert_eq!(
            Availability::check_report(&set.report(10), 9),
            Err(DropPinError::InvalidAvailability),
            "node 9 is past a 9-node round"
        );
        assert_eq!(
            Availability::check_report(&[0, 0, 1], 16),
            Err(DropPinError::InvalidAvailability),
            "a whole byte past the round"
        );
        assert_eq!(
            Availability::check_report(&[0; AVAILABILITY_BYTES + 1], MAX_NODES_CAP),
            Err(DropPinError::InvalidAvailability)
        );
        assert_eq!(
            Availability::check_report(&[0; AVAILABILITY_BYTES], 1),
            Ok(())
        );
        assert_eq!(Availability::check_report(&[], 5), Ok(()));
    }

    #[test]
    fn the_committee_judges_what_more_than_half_fetched() {
        let reports = [
            Availability::of([0, 1, 2]),
            Availability::of([0, 1]),
            Availability::of([0, 2]),
            Availability::of([0]),
        ];
        // Node 0: 4 of 4; nodes 1 and 2: 2 of 4, a tie, which is no majority; node 3: none.
        assert_eq!(majority(&reports, 4, 4), Availability::of([0]));
        assert_eq!(majority(&reports[..3], 3, 4), Availability::of([0, 1, 2]));
        // Three reports out of five seats: the two quiet seats count as having fetched nothing.
        assert_eq!(majority(&reports[..3], 5, 4), Availability::of([0]));
        assert_eq!(majority(&[], 4, 4), Availability::default());
    }

    #[test]
    fn reports_close_halfway_through_the_validation_window() {
        let committee = CommitteeDraw {
            draw_slot: 100,
            vote_deadline: 161,
            ..CommitteeDraw::default()
        };
        assert_eq!(availability_deadline(&committee), 130);
    }
}
