//! The protocol's configuration and treasury.

use borsh::{BorshDeserialize, BorshSerialize};
use codama_macros::{CodamaAccount, CodamaType};

use super::{AccountState, AccountType};
use crate::{BPS, DropPinError, LAMPORTS_PER_SOL, Pubkey};

/// Slots in an hour at Solana's 400 ms target.
pub const SLOTS_PER_HOUR: u64 = 9_000;

/// Most nodes a round may ever admit: its verdict leaves (3 bytes each) must fit one account
/// that a program can create (10 KiB).
pub const MAX_NODES_CAP: u32 = 3_072;

/// Largest expected committee a funder may ask for: its appeal draws `2k + 1` seats, and a
/// round counts seats in a byte.
pub const MAX_COMMITTEE_CAP: u8 = 63;

/// Tunable protocol parameters, set by the admin behind a timelock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, CodamaType)]
pub struct ProtocolParams {
    /// Share of every funding paid to the treasury, in bps (800 = 8%, which buys and burns $dPIN).
    pub fee_bps: u16,
    /// Share of a stake (or of a seat's lock) lost when its owner is slashed or does not show up.
    pub slash_bps: u16,
    /// Share of a round's pool paid to the committee members who voted the final verdict.
    pub validator_share_bps: u16,
    /// Smallest node stake a round may require, in lamports.
    pub min_stake: u64,
    /// Shortest phase, in slots (hours on a public cluster: nodes and validators need time to
    /// train, fetch and judge, and a phase shorter than a few leader rotations invites censorship).
    pub min_phase_slots: u64,
    /// Longest phase, in slots.
    pub max_phase_slots: u64,
    /// Most nodes a round may admit: what a validator can fetch and judge in one phase.
    pub max_nodes: u32,
    /// How the treasury converts SOL to $dPIN.
    pub swap: SwapParams,
    /// The validator registry, sortition, votes and appeals.
    pub committee: CommitteeParams,
    /// How nodes earn and lose reputation.
    pub reputation: ReputationParams,
    /// Slots between an `UpdateConfig` and the moment anyone may apply it.
    pub timelock_slots: u64,
}

/// Committees: who may sit, how many, how votes are sealed and how long a verdict may be appealed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, CodamaType)]
pub struct CommitteeParams {
    /// Smallest expected committee a funder may ask for; also the least seat count a quorum is
    /// measured against, so no quorum is ever smaller than `quorum of min_size` seats.
    pub min_size: u8,
    /// Largest expected committee a funder may ask for.
    pub max_size: u8,
    /// Share of the seated committee that must reveal one verdict, in bps (above one half).
    pub quorum_bps: u16,
    /// Length of the vote-reveal phase after the vote deadline, in slots.
    pub vote_reveal_slots: u64,
    /// Slots after the vote reveals within which the verdict's leaves must be posted on-chain.
    pub post_slots: u64,
    /// Slots after the leaves are complete during which anyone may appeal.
    pub appeal_window_slots: u64,
    /// Slots an appeal's committee has to take seats and commit votes.
    pub appeal_phase_slots: u64,
    /// Smallest bond a validator may register with, in lamports.
    pub min_bond: u64,
    /// Slots between `Unbond` and `WithdrawBond`: longer than any round the bond may still be
    /// judged for.
    pub unbonding_slots: u64,
    /// Share of an overturned majority's locks paid to the appellant, in bps (the rest goes to
    /// the treasury); also the share of a confirmed appeal's bond paid to its committee.
    pub appeal_reward_bps: u16,
}

/// Encoded size of [`CommitteeParams`].
const COMMITTEE_PARAMS_LEN: usize = 1 + 1 + 2 + 8 * 6 + 2;

/// Reputation: what earns it and how fast it fades.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, CodamaType)]
pub struct ReputationParams {
    /// Smallest pool (lamports, or their $dPIN value) whose rewards earn reputation: rounds a
    /// node funds for itself cheaply earn nothing.
    pub min_pool: u64,
    /// Slots over which reputation points halve.
    pub half_life_slots: u64,
}

/// Encoded size of [`ReputationParams`].
const REPUTATION_PARAMS_LEN: usize = 16;

/// The treasury's SOL -> $dPIN batch swaps: the price they are held to and how fast they may go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, CodamaType)]
pub struct SwapParams {
    /// Reference price: $dPIN base units per SOL. Also converts SOL amounts (stakes, minimums)
    /// into $dPIN for token rounds.
    pub reference_price: u64,
    /// How far above and below the reference price the batch price runs, in bps.
    pub max_slippage_bps: u16,
    /// Length of a rate-limit window, in slots; windows are aligned to multiples of it.
    pub window_slots: u64,
    /// Most lamports swapped per window: large conversions go out in small batches over time
    /// (TWAP) instead of one trade that would move a thin pool.
    pub window_cap: u64,
}

impl SwapParams {
    /// Encoded size.
    pub const LEN: usize = 8 + 2 + 8 + 8;

    /// Whether the parameters can be traded on.
    pub fn is_valid(&self) -> bool {
        self.reference_price > 0
            && self.max_slippage_bps <= BPS / 2
            && self.window_slots > 0
            && self.window_cap > 0
    }

    /// `lamports` worth of $dPIN at the reference price (base units, rounded down).
    pub fn to_dpin(&self, lamports: u64) -> u64 {
        let value =
            u128::from(lamports) * u128::from(self.reference_price) / u128::from(LAMPORTS_PER_SOL);
        u64::try_from(value).unwrap_or(u64::MAX)
    }

    /// `dpin` base units worth of lamports at the reference price (rounded up).
    pub fn to_lamports(&self, dpin: u64) -> u64 {
        let value = (u128::from(dpin) * u128::from(LAMPORTS_PER_SOL))
            .div_ceil(u128::from(self.reference_price.max(1)));
        u64::try_from(value).unwrap_or(u64::MAX)
    }

    /// First slot of the window `slot` falls in.
    pub fn window_start(&self, slot: u64) -> u64 {
        slot - slot % self.window_slots.max(1)
    }

    /// The least $dPIN a batch of `lamports` must return at `slot`: a Dutch auction that starts
    /// each window at the reference value plus the slippage bound and falls linearly to the
    /// reference value less the slippage bound at the window's end, so the first route that
    /// fills it pays close to the market and any price improvement stays with the treasury.
    pub fn min_out(&self, lamports: u64, slot: u64) -> u64 {
        let value = u128::from(self.to_dpin(lamports));
        let window = u128::from(self.window_slots.max(1));
        let elapsed = u128::from(slot - self.window_start(slot));
        let slippage = u128::from(self.max_slippage_bps.min(BPS / 2));
        // BPS + slippage - 2 * slippage * elapsed / window, never below BPS - slippage.
        let factor = u128::from(BPS) + slippage - 2 * slippage * elapsed / window;
        (value * factor / u128::from(BPS)) as u64
    }
}

impl Default for SwapParams {
    fn default() -> Self {
        SwapParams {
            // 1 SOL = 1,000 $dPIN (6 decimals).
            reference_price: 1_000 * 10u64.pow(crate::DPIN_DECIMALS as u32),
            max_slippage_bps: 100,
            // About ten minutes of slots.
            window_slots: 1_500,
            window_cap: 10 * LAMPORTS_PER_SOL,
        }
    }
}

impl Default for CommitteeParams {
    fn default() -> Self {
        CommitteeParams {
            min_size: 3,
            max_size: 31,
            quorum_bps: 6_666,
            vote_reveal_slots: SLOTS_PER_HOUR,
            post_slots: SLOTS_PER_HOUR,
            appeal_window_slots: 6 * SLOTS_PER_HOUR,
            appeal_phase_slots: 2 * SLOTS_PER_HOUR,
            min_bond: LAMPORTS_PER_SOL,
            unbonding_slots: 0, // set from the phases by `ProtocolParams::default`
            appeal_reward_bps: 5_000,
        }
    }
}

impl Default for ReputationParams {
    fn default() -> Self {
        ReputationParams {
            min_pool: LAMPORTS_PER_SOL / 10,
            // About 30 days.
            half_life_slots: 30 * 24 * SLOTS_PER_HOUR,
        }
    }
}

impl Default for ProtocolParams {
    fn default() -> Self {
        let mut params = ProtocolParams {
            fee_bps: 800,
            slash_bps: 5_000,
            validator_share_bps: 500,
            min_stake: LAMPORTS_PER_SOL / 100,
            min_phase_slots: SLOTS_PER_HOUR,
            max_phase_slots: 7 * 24 * SLOTS_PER_HOUR,
            max_nodes: 1_024,
            swap: SwapParams::default(),
            committee: CommitteeParams::default(),
            reputation: ReputationParams::default(),
            timelock_slots: 24 * SLOTS_PER_HOUR,
        };
        params.committee.unbonding_slots = params.longest_round() + 24 * SLOTS_PER_HOUR;
        params
    }
}

impl ProtocolParams {
    /// Parameters for a local network or a test: every phase as short as `phase_slots`, the
    /// rest of the defaults unchanged.
    pub fn short_phases(phase_slots: u64) -> ProtocolParams {
        let mut params = ProtocolParams {
            min_phase_slots: phase_slots,
            timelock_slots: phase_slots,
            ..ProtocolParams::default()
        };
        let c = &mut params.committee;
        c.vote_reveal_slots = phase_slots;
        c.post_slots = phase_slots;
        c.appeal_window_slots = phase_slots;
        c.appeal_phase_slots = phase_slots;
        params.committee.unbonding_slots = params.longest_round();
        params
    }

    /// The lengths a phase may have: the program refuses a round with any phase outside the
    /// shortest and longest phase.
    pub fn phase_range(&self) -> core::ops::RangeInclusive<u64> {
        self.min_phase_slots..=self.max_phase_slots
    }

    /// Whether a phase may last `slots` (see [`Self::phase_range`]).
    pub fn allows_phase(&self, slots: u64) -> bool {
        self.phase_range().contains(&slots)
    }

    /// Slots from a round's opening to the last moment it may still judge or slash a validator:
    /// three phases, the vote reveals, the posting of the leaves, the appeal window, an appeal's
    /// committee and its reveals, and the posting of its leaves.
    pub fn longest_round(&self) -> u64 {
        let c = &self.committee;
        self.max_phase_slots
            .saturating_mul(3)
            .saturating_add(c.vote_reveal_slots.saturating_mul(2))
            .saturating_add(c.post_slots.saturating_mul(2))
            .saturating_add(c.appeal_window_slots)
            .saturating_add(c.appeal_phase_slots)
    }

    /// Rejects parameters that would make rounds unpayable, unjudgeable or unbounded.
    pub fn check(&self) -> Result<(), DropPinError> {
        let c = &self.committee;
        let bps_ok = self.fee_bps <= 5_000
            && self.slash_bps <= BPS
            && self.validator_share_bps <= 5_000
            && c.quorum_bps > BPS / 2
            && c.quorum_bps <= BPS
            && c.appeal_reward_bps <= BPS;
        let phases_ok = self.min_phase_slots >= 1 && self.min_phase_slots <= self.max_phase_slots;
        let committee_ok = c.min_size >= 1
            && c.min_size <= c.max_size
            && c.max_size <= MAX_COMMITTEE_CAP / 2
            && c.vote_reveal_slots > 0
            && c.post_slots > 0
            && c.appeal_window_slots > 0
            && c.appeal_phase_slots > 0
            && c.min_bond > 0
            && c.unbonding_slots >= self.longest_round();
        let sizes_ok = self.min_stake > 0 && (1..=MAX_NODES_CAP).contains(&self.max_nodes);
        if bps_ok
            && phases_ok
            && committee_ok
            && sizes_ok
            && self.swap.is_valid()
            && self.reputation.half_life_slots > 0
            && self.timelock_slots > 0
        {
            Ok(())
        } else {
            Err(DropPinError::InvalidProtocolParams)
        }
    }

    /// Whether `next` is within one step of these parameters: rates move by at most
    /// [`MAX_BPS_STEP`] bps, amounts, lengths and sizes by at most a factor of two, and the
    /// timelock and the unbonding delay never shrink (a round opened under the old terms must
    /// still outlive every bond change and unbonding made during it). An admin key, stolen or not, can only drift the protocol slowly,
    /// in public, behind the timelock.
    pub fn within_step(&self, next: &ProtocolParams) -> bool {
        let (a, b) = (self, next);
        let bps = |x: u16, y: u16| x.abs_diff(y) <= MAX_BPS_STEP;
        let amounts = [
            (a.min_stake, b.min_stake),
            (a.min_phase_slots, b.min_phase_slots),
            (a.max_phase_slots, b.max_phase_slots),
            (u64::from(a.max_nodes), u64::from(b.max_nodes)),
            (a.swap.reference_price, b.swap.reference_price),
            (a.swap.window_slots, b.swap.window_slots),
            (a.swap.window_cap, b.swap.window_cap),
            (
                u64::from(a.committee.min_size),
                u64::from(b.committee.min_size),
            ),
            (
                u64::from(a.committee.max_size),
                u64::from(b.committee.max_size),
            ),
            (a.committee.vote_reveal_slots, b.committee.vote_reveal_slots),
            (a.committee.post_slots, b.committee.post_slots),
            (
                a.committee.appeal_window_slots,
                b.committee.appeal_window_slots,
            ),
            (
                a.committee.appeal_phase_slots,
                b.committee.appeal_phase_slots,
            ),
            (a.committee.min_bond, b.committee.min_bond),
            (a.committee.unbonding_slots, b.committee.unbonding_slots),
            (a.reputation.min_pool, b.reputation.min_pool),
            (a.reputation.half_life_slots, b.reputation.half_life_slots),
        ];
        let factor = |(x, y): (u64, u64)| {
            u128::from(y) <= 2 * u128::from(x) && 2 * u128::from(y) >= u128::from(x)
        };
        bps(a.fee_bps, b.fee_bps)
            && bps(a.slash_bps, b.slash_bps)
            && bps(a.validator_share_bps, b.validator_share_bps)
            && bps(a.swap.max_slippage_bps, b.swap.max_slippage_bps)
            && bps(a.committee.quorum_bps, b.committee.quorum_bps)
            && bps(a.committee.appeal_reward_bps, b.committee.appeal_reward_bps)
            && amounts.into_iter().all(factor)
            && b.timelock_slots >= a.timelock_slots
            && b.committee.unbonding_slots >= a.committee.unbonding_slots
    }
}

/// Most a rate in bps may move in one configuration update.
pub const MAX_BPS_STEP: u16 = 500;

/// Encoded size of [`ProtocolParams`].
const PARAMS_LEN: usize =
    2 * 3 + 8 * 3 + 4 + SwapParams::LEN + COMMITTEE_PARAMS_LEN + REPUTATION_PARAMS_LEN + 8;

/// A parameter change waiting out its timelock.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, CodamaType,
)]
pub struct PendingConfig {
    /// Whether a change is waiting.
    pub active: bool,
    /// The parameters it sets.
    pub params: ProtocolParams,
    /// The admin it hands over to (zeroes: unchanged).
    pub new_admin: Pubkey,
    /// First slot at which anyone may apply it.
    pub effective_slot: u64,
}

/// The protocol's single configuration account (PDA `["config"]`).
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, CodamaAccount)]
#[codama(field("account_type", number(u8), default_value = 1))]
#[codama(field("version", number(u8), default_value = 1))]
#[codama(discriminator(field = "account_type"))]
#[codama(seed(type = string(utf8), value = "config"))]
pub struct ProtocolConfig {
    /// Who may propose parameter changes.
    pub admin: Pubkey,
    /// Canonical bump of the config PDA.
    pub bump: u8,
    /// The treasury PDA.
    pub treasury: Pubkey,
    /// Canonical bump of the treasury PDA.
    pub treasury_bump: u8,
    /// The validator registry PDA.
    pub registry: Pubkey,
    /// Current parameters; a round copies what it needs when it opens.
    pub params: ProtocolParams,
    /// Rounds opened so far; the next round's id.
    pub round_count: u64,
    /// The $dPIN token, once launched.
    pub token: TokenLaunch,
    /// A parameter change waiting out its timelock.
    pub pending: PendingConfig,
}

impl ProtocolConfig {
    /// Whether $dPIN is live: token rounds and swaps need it.
    pub fn token_launched(&self) -> bool {
        self.token.mint != [0; 32]
    }
}

impl AccountState for ProtocolConfig {
    const TYPE: AccountType = AccountType::Config;
    const BODY_LEN: usize =
        32 + 1 + 32 + 1 + 32 + PARAMS_LEN + 8 + TokenLaunch::LEN + (1 + PARAMS_LEN + 32 + 8);
}

/// The $dPIN mint the protocol adopted and the treasury's account for it (zeroes before launch).
///
/// Supply policy: fixed. The mint must have no mint authority and no freeze authority when it is
/// adopted, so nobody (the protocol included) can inflate the supply or freeze an escrow; the
/// only way supply changes is down, by the treasury's burns.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, CodamaType,
)]
pub struct TokenLaunch {
    /// The SPL Token mint of $dPIN.
    pub mint: Pubkey,
    /// The treasury's $dPIN account (PDA `["treasury-token"]`, authority: the treasury PDA).
    pub treasury_token: Pubkey,
    /// Canonical bump of `treasury_token`.
    pub treasury_token_bump: u8,
    /// The slot of the launch: only rounds opened before it may be converted.
    pub launch_slot: u64,
}

impl TokenLaunch {
    /// Encoded size.
    pub const LEN: usize = 32 + 32 + 1 + 8;
}

/// The protocol treasury (PDA `["treasury"]`): fees, slashes and forfeits.
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, CodamaAccount)]
#[codama(field("account_type", number(u8), default_value = 2))]
#[codama(field("version", number(u8), default_value = 1))]
#[codama(discriminator(field = "account_type"))]
#[codama(seed(type = string(utf8), value = "treasury"))]
pub struct Treasury {
    /// Canonical bump of the treasury PDA.
    pub bump: u8,
    /// Lamports received as protocol fees.
    pub fees_collected: u64,
    /// Lamports received from slashes and forfeits: nodes, seats, absent validators, appeals.
    pub slashes_collected: u64,
    /// Lamports received as rounding dust of closed rounds.
    pub other_collected: u64,
    /// What the swaps and burns have done so far.
    pub totals: SwapTotals,
    /// The current rate-limit window.
    pub window: SwapWindow,
    /// The batch between a `BeginSwap` and its `EndSwap` (always closed between transactions).
    pub pending: PendingSwap,
}

/// Running totals of the buy-and-burn.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, CodamaType,
)]
pub struct SwapTotals {
    /// Lamports of protocol SOL swapped for $dPIN.
    pub sol_in: u64,
    /// $dPIN bought by those swaps (base units).
    pub dpin_bought: u64,
    /// $dPIN burned: bought tokens plus fees, slashes and remainders of token rounds.
    pub dpin_burned: u64,
    /// Lamports of pre-launch rounds' pools swapped into those rounds' $dPIN escrows.
    pub sol_converted: u64,
}

/// Lamports swapped in the current window.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, CodamaType,
)]
pub struct SwapWindow {
    /// First slot of the window (a multiple of the window length).
    pub start: u64,
    /// Lamports lent to routes since `start`.
    pub spent: u64,
}

/// A batch under way inside one transaction.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, CodamaType,
)]
pub struct PendingSwap {
    /// Whether a batch is open.
    pub open: bool,
    /// Lamports lent to the route.
    pub lamports: u64,
    /// Least $dPIN the destination must receive.
    pub min_out: u64,
    /// The destination's balance when the batch began.
    pub balance_before: u64,
    /// The round whose pool is being converted, or zeroes for a buy-and-burn batch.
    pub round: Pubkey,
}

impl AccountState for Treasury {
    const TYPE: AccountType = AccountType::Treasury;
    const BODY_LEN: usize = 1 + 8 * 3 + 8 * 4 + 8 * 2 + (1 + 8 * 3 + 32);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_hours_long() {
        let params = ProtocolParams::default();
        params.check().unwrap();
        assert!(params.min_phase_slots >= SLOTS_PER_HOUR);
        ProtocolParams::short_phases(20).check().unwrap();
    }

    #[test]
    fn the_unbonding_delay_outlasts_every_round() {
        let mut params = ProtocolParams::default();
        params.committee.unbonding_slots = params.longest_round() - 1;
        assert_eq!(params.check(), Err(DropPinError::InvalidProtocolParams));
    }

    #[test]
    fn updates_move_one_bounded_step() {
        let now = ProtocolParams::default();
        let mut next = now;
        next.fee_bps += MAX_BPS_STEP;
        assert!(now.within_step(&next));
        next.fee_bps += 1;
        assert!(!now.within_step(&next), "a fee jump");
        let mut next = now;
        next.min_stake = now.min_stake * 2;
        assert!(now.within_step(&next));
        next.min_stake += 1;
        assert!(!now.within_step(&next), "a stake jump");
        let mut next = now;
        next.timelock_slots -= 1;
        assert!(!now.within_step(&next), "the timelock never shrinks");
        let mut next = now;
        next.committee.unbonding_slots -= 1;
        assert!(
            !now.within_step(&next),
            "the unbonding delay never shrinks under live rounds"
        );
        let mut next = now;
        next.committee.min_size = 1;
        assert!(
            !now.within_step(&next),
            "the committee floor cannot collapse at once"
        );
    }

    #[test]
    fn the_batch_price_falls_from_above_the_reference_within_each_window() {
        let swap = SwapParams::default();
        let sol = LAMPORTS_PER_SOL;
        let reference = swap.to_dpin(sol);
        let start = 3 * swap.window_slots;
        assert_eq!(swap.window_start(start + 7), start);
        assert_eq!(swap.min_out(sol, start), reference * 10_100 / 10_000);
        let middle = swap.min_out(sol, start + swap.window_slots / 2);
        assert_eq!(middle, reference);
        let last = swap.min_out(sol, start + swap.window_slots - 1);
        assert!(last < reference && last >= reference * 9_900 / 10_000);
        assert_eq!(
            swap.min_out(sol, start + swap.window_slots),
            swap.min_out(sol, start)
        );
    }
}
