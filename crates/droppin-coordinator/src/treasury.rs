//! The treasury's SOL -> $dPIN batches and the conversion of pre-launch rounds.
//!
//! A batch is a loan inside one transaction: `begin_swap` lends up to the window's remaining cap
//! to the caller's route, and `end_swap` checks that the destination's $dPIN balance grew by at
//! least the batch's price: a Dutch auction that starts each window above the reference price
//! and falls to the reference less the slippage bound, so whoever fills it first pays close to
//! the market and any improvement goes to the treasury, not to the caller. The rate limit is a
//! cap per window of slots, windows aligned to multiples of their length (no double batch across
//! a boundary), so a large conversion goes out as many small batches over time (a TWAP) instead
//! of one trade against a thin pool.

use droppin_interface::{
    DropPinError, Pubkey,
    state::{Currency, PendingSwap, Round, RoundStatus, SwapParams, Treasury},
};

use crate::{Phase, Result, add, phase, sub};

/// A batch as `BeginSwap` sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SwapBatch {
    /// Lamports asked for.
    pub lamports: u64,
    /// Lamports there are to swap: the treasury's spendable SOL, or a converting round's
    /// unconverted pool.
    pub available: u64,
    /// The destination's $dPIN balance now.
    pub balance_before: u64,
    /// The converting round, or zeroes for buy-and-burn.
    pub round: Pubkey,
}

/// Opens a batch: checks the amount, the window's cap and that no batch is open, and records
/// what `end_swap` must see.
pub fn begin_swap(
    treasury: &mut Treasury,
    swap: &SwapParams,
    slot: u64,
    batch: SwapBatch,
) -> Result<()> {
    if treasury.pending.open {
        return Err(DropPinError::SwapInProgress);
    }
    if batch.lamports == 0 {
        return Err(DropPinError::ZeroAmount);
    }
    if batch.lamports > batch.available {
        return Err(DropPinError::SwapExceedsAvailable);
    }
    let window = swap.window_start(slot);
    if treasury.window.start != window {
        treasury.window.start = window;
        treasury.window.spent = 0;
    }
    let spent = add(treasury.window.spent, batch.lamports)?;
    if spent > swap.window_cap {
        return Err(DropPinError::SwapWindowCapExceeded);
    }
    let min_out = swap.min_out(batch.lamports, slot);
    if min_out == 0 {
        return Err(DropPinError::ZeroAmount);
    }
    treasury.window.spent = spent;
    treasury.pending = PendingSwap {
        open: true,
        lamports: batch.lamports,
        min_out,
        balance_before: batch.balance_before,
        round: batch.round,
    };
    Ok(())
}

/// A closed batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SwapOutcome {
    /// Lamports the route took.
    pub lamports: u64,
    /// $dPIN the destination received.
    pub received: u64,
    /// The converting round, or zeroes for buy-and-burn.
    pub round: Pubkey,
}

/// Closes the open batch given the destination's balance now; fails unless it received at
/// least the batch's minimum.
pub fn end_swap(treasury: &mut Treasury, balance_after: u64) -> Result<SwapOutcome> {
    let pending = treasury.pending;
    if !pending.open {
        return Err(DropPinError::NoSwapInProgress);
    }
    let received = balance_after
        .checked_sub(pending.balance_before)
        .filter(|received| *received >= pending.min_out)
        .ok_or(DropPinError::SlippageExceeded)?;
    let totals = &mut treasury.totals;
    if pending.round == [0; 32] {
        totals.sol_in = add(totals.sol_in, pending.lamports)?;
        totals.dpin_bought = add(totals.dpin_bought, received)?;
    } else {
        totals.sol_converted = add(totals.sol_converted, pending.lamports)?;
    }
    treasury.pending = PendingSwap::default();
    Ok(SwapOutcome {
        lamports: pending.lamports,
        received,
        round: pending.round,
    })
}

/// Records $dPIN burned by the protocol.
pub fn record_burn(treasury: &mut Treasury, amount: u64) -> Result<()> {
    treasury.totals.dpin_burned = add(treasury.totals.dpin_burned, amount)?;
    Ok(())
}

/// What a conversion needs to know beyond the round.
#[derive(Clone, Copy, Debug)]
pub struct Conversion {
    /// Who asks: only the round's funder may convert it.
    pub caller: Pubkey,
    /// The slot $dPIN launched: only rounds opened before it were funded before $dPIN existed.
    pub launch_slot: u64,
    /// The round's new token vault.
    pub token_vault: Pubkey,
    /// What the token vault's rent costs, taken from the pool.
    pub rent: u64,
}

/// Turns a SOL round opened before the launch, that nobody has joined, into a $dPIN round whose
/// pool awaits conversion, at its funder's request. Stakes are repriced at the reference price.
pub fn convert_round(
    round: &mut Round,
    swap: &SwapParams,
    conversion: &Conversion,
    slot: u64,
) -> Result<()> {
    let convertible = round.status == RoundStatus::Open
        && round.currency == Currency::Sol
        && phase(round, slot) == Phase::Training
        && round.counts.nodes_joined == 0
        && round.counts.contributions == 0
        && round.opened_slot < conversion.launch_slot
        && conversion.caller == round.funder;
    if !convertible {
        return Err(DropPinError::NotConvertible);
    }
    let node_stake = swap.to_dpin(round.node_stake);
    if node_stake == 0 || round.pool <= conversion.rent {
        return Err(DropPinError::InvalidRoundParams);
    }
    round.unconverted = sub(round.pool, conversion.rent)?;
    round.pool = 0;
    round.funder_pool = 0;
    round.node_stake = node_stake;
    round.currency = Currency::Dpin;
    round.token_vault = conversion.token_vault;
    Ok(())
}

/// Credits a converting round with a batch's $dPIN.
pub fn credit_conversion(round: &mut Round, outcome: &SwapOutcome) -> Result<()> {
    round.unconverted = sub(round.unconverted, outcome.lamports)?;
    round.pool = add(round.pool, outcome.received)?;
    round.funder_pool = add(round.funder_pool, outcome.received)?;
    Ok(())
}

/// A converting round's pool may be swapped only while the round is still open for joins.
pub fn require_convertible_now(round: &Round, slot: u64) -> Result<()> {
    if round.status == RoundStatus::Open && phase(round, slot) == Phase::Training {
        Ok(())
    } else {
        Err(DropPinError::RoundNotOpen)
    }
}

/// Refuses joins and top-ups while a round's pool is still being converted.
pub fn require_converted(round: &Round) -> Result<()> {
    if round.unconverted == 0 {
        Ok(())
    } else {
        Err(DropPinError::ConversionPending)
    }
}
