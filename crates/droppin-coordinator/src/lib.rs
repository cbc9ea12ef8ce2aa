//! The dropPIN round state machine and its accounting, without a chain.
//!
//! The on-chain program is a thin shell around this crate: it checks accounts, calls one of
//! these functions with the decoded state and the current slot, moves the amounts the function
//! returns and writes the state back. Clients use the same functions to predict payouts, and the
//! rules can be tested exhaustively here without an SVM.
//!
//! Money flow of a round. The vault holds the pool (funding less the fee), every node's stake
//! and, once appealed, the appellant's bond. Validators' bonds stay in their own bond accounts;
//! each seat locks part of one.
//! - A node is paid by its leaf in the verdict in force: accepted, its stake plus
//!   `node_pool * weight / 10_000`; excluded, its stake; slashed or a no-show, its stake less the
//!   slash fraction, which goes to the treasury (burned in a $dPIN round). Slashes never pay the
//!   funder or the round's other nodes, so nobody profits from getting an honest node slashed.
//! - The validators' share of the pool is split equally among the seats that revealed the final
//!   verdict (both committees). A seat that did not reveal loses the slash fraction of its lock;
//!   a seat that revealed another verdict than the final one loses it too, and the majority of an
//!   overturned verdict loses its whole lock (part to the appellant, the rest to the treasury).
//! - Whatever of the pool nobody earned returns to whoever paid it: the funder and, pro rata,
//!   third parties who topped it up. Rounding dust goes to the treasury.
//!
//! Every payment is checked against running totals, so no verdict, honest or not, can pay out
//! more than the vault holds; every path ends with every account settled and the round closable.
//!
//! Functions with five arguments that return a struct are `#[inline(always)]`: the struct comes
//! back through a hidden sixth argument, one more than an SBPF v0 call passes in registers.
#![no_std]

use droppin_interface::{BPS, DropPinError};

mod appeal;
mod committee;
mod config;
mod describe;
mod node;
mod registry;
mod round;
mod settlement;
mod treasury;
mod verdict;

pub use appeal::{AppealPayout, file_appeal, resolve_appeal, settle_appeal};
pub use committee::{
    AbsencePenalty, DRAW_WINDOW_SLOTS, Draw, SeatPayout, absences_close, anchor_wanted, claim_seat,
    commit_vote, could_sit, draw_committee, excused, finalize_round, has_quorum, min_quorum_votes,
    report_absent, report_availability, reveal_vote, seat_lock, settle_absence, settle_seat,
};
pub use config::{apply_config, propose_config};
pub use describe::{phase_name, resolution_name};
pub use node::{NodePayout, commit_update, join_round, reveal_update, settle_node};
pub use registry::{NewBond, register_validator, top_up_bond, unbond, withdraw_bond};
pub use round::{
    CloseSplit, Funding, RoundKeys, close_round, crank_timeout, fund_round, open_round,
    record_contribution, refund_contribution, split_funding,
};
pub use settlement::{SETTLE_BOUNTY_BPS, absences_over, settlement_open, split_rent};
pub use treasury::{
    Conversion, SwapBatch, SwapOutcome, begin_swap, convert_round, credit_conversion, end_swap,
    record_burn, require_converted, require_convertible_now,
};
pub use verdict::{ChunkPost, post_leaves};

type Result<T> = core::result::Result<T, DropPinError>;

/// The phase of an open round, from the current slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Before the commit deadline: fund, join, commit.
    Training,
    /// Between the commit and reveal deadlines: nodes reveal.
    Reveal,
    /// Between the reveal and validation deadlines: the committee is drawn, takes its seats,
    /// judges and commits sealed votes.
    Validation,
    /// Between the validation and vote-reveal deadlines: sealed votes are revealed.
    VoteReveal,
    /// After the vote reveals: finalize or fail.
    Settlement,
}

/// The phase of `round` at `slot`.
pub fn phase(round: &droppin_interface::state::Round, slot: u64) -> Phase {
    let d = &round.deadlines;
    if slot < d.commit {
        Phase::Training
    } else if slot < d.reveal {
        Phase::Reveal
    } else if slot < d.validation {
        Phase::Validation
    } else if slot < d.vote_reveal {
        Phase::VoteReveal
    } else {
        Phase::Settlement
    }
}

fn add(a: u64, b: u64) -> Result<u64> {
    a.checked_add(b).ok_or(DropPinError::ArithmeticOverflow)
}

fn sub(a: u64, b: u64) -> Result<u64> {
    a.checked_sub(b).ok_or(DropPinError::ArithmeticOverflow)
}

fn mul(a: u64, b: u64) -> Result<u64> {
    a.checked_mul(b).ok_or(DropPinError::ArithmeticOverflow)
}

/// `amount * bps / 10_000`, rounded down, without intermediate overflow.
pub fn bps_of(amount: u64, bps: u16) -> u64 {
    // amount * bps < 2^64 * 2^14 fits u128; the quotient is at most `amount` for bps <= 10,000.
    (u128::from(amount) * u128::from(bps) / u128::from(BPS)) as u64
}

/// A round's pool split between its validators (their share in bps) and its nodes:
/// `(validators, nodes)`.
pub fn split_pool(pool: u64, validator_share_bps: u16) -> Result<(u64, u64)> {
    let validators = bps_of(pool, validator_share_bps);
    Ok((validators, sub(pool, validators)?))
}

#[cfg(test)]
mod tests;
