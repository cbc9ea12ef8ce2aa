//! Account layouts.
//!
//! Every program account starts with a two-byte header, `[account type, layout version]`,
//! followed by the borsh encoding of its body. The type byte stops one account from being
//! passed off as another (type cosplay); the version byte lets a layout grow without a rewrite.
//! Every body has a fixed size (fixed arrays, no vectors) so account sizes are known up front.

use borsh::{BorshDeserialize, BorshSerialize};

use crate::{Cid, DropPinError, Pubkey};

/// Most validators a round's committee may have.
pub const MAX_COMMITTEE: usize = 8;

/// Length of the `[type, version]` header.
pub const HEADER_LEN: usize = 2;

/// The kind of a program account, stored in its first byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
#[borsh(use_discriminant = true)]
#[repr(u8)]
pub enum AccountType {
    /// Zeroed data: never a valid account.
    Uninitialized = 0,
    /// [`ProtocolConfig`].
    Config = 1,
    /// [`Treasury`].
    Treasury = 2,
    /// [`Round`].
    Round = 3,
    /// [`Vault`].
    Vault = 4,
    /// [`NodeState`].
    Node = 5,
    /// [`ValidatorState`].
    Validator = 6,
    /// [`CidMarker`].
    CidMarker = 7,
    /// [`Reputation`].
    Reputation = 8,
}

/// A program account body with its type, layout version and encoded size.
pub trait AccountState: BorshSerialize + BorshDeserialize {
    /// The type byte.
    const TYPE: AccountType;
    /// The current layout version.
    const VERSION: u8 = 1;
    /// Size of the body's borsh encoding (every body is fixed-size).
    const BODY_LEN: usize;
    /// Size of the whole account: header plus body.
    const LEN: usize = HEADER_LEN + Self::BODY_LEN;

    /// Decodes an account's data, checking its type and version first.
    fn load(data: &[u8]) -> Result<Self, DropPinError> {
        match data {
            [t, _, ..] if *t != Self::TYPE as u8 => Err(DropPinError::InvalidAccountType),
            [_, v, ..] if *v != Self::VERSION => Err(DropPinError::UnsupportedAccountVersion),
            [_, _, body @ ..] if body.len() == Self::BODY_LEN => {
                Self::try_from_slice(body).map_err(|_| DropPinError::InvalidAccountType)
            }
            _ => Err(DropPinError::InvalidAccountType),
        }
    }

    /// Encodes the account into its data, header included.
    fn store(&self, data: &mut [u8]) -> Result<(), DropPinError> {
        if data.len() != Self::LEN {
            return Err(DropPinError::InvalidAccountType);
        }
        let (header, mut body) = data.split_at_mut(HEADER_LEN);
        header.copy_from_slice(&[Self::TYPE as u8, Self::VERSION]);
        self.serialize(&mut body)
            .map_err(|_| DropPinError::InvalidAccountType)
    }
}

/// Tunable protocol parameters, set by the admin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ProtocolParams {
    /// Share of every funding paid to the treasury, in bps (800 = 8%, which buys and burns $dPIN).
    pub fee_bps: u16,
    /// Share of a stake lost when its owner is slashed, in bps.
    pub slash_bps: u16,
    /// Share of a round's pool paid to the validators who voted with the quorum, in bps.
    pub validator_share_bps: u16,
    /// Smallest node or validator stake a round may require, in lamports.
    pub min_stake: u64,
    /// Shortest phase, in slots.
    pub min_phase_slots: u64,
    /// Longest phase, in slots.
    pub max_phase_slots: u64,
    /// Most nodes a round may admit.
    pub max_nodes: u32,
    /// How the treasury converts SOL to $dPIN.
    pub swap: SwapParams,
}

/// The treasury's SOL -> $dPIN batch swaps: the price they are held to and how fast they may go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct SwapParams {
    /// Reference price: $dPIN base units per SOL. Also converts SOL amounts (stakes, minimums)
    /// into $dPIN for token rounds.
    pub reference_price: u64,
    /// Most a batch may return below the reference price, in bps.
    pub max_slippage_bps: u16,
    /// Length of a rate-limit window, in slots.
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
            && self.max_slippage_bps <= crate::BPS / 2
            && self.window_slots > 0
            && self.window_cap > 0
    }

    /// `lamports` worth of $dPIN at the reference price (base units, rounded down).
    pub fn to_dpin(&self, lamports: u64) -> u64 {
        let value = u128::from(lamports) * u128::from(self.reference_price)
            / u128::from(crate::LAMPORTS_PER_SOL);
        u64::try_from(value).unwrap_or(u64::MAX)
    }

    /// The least $dPIN a batch of `lamports` must return: the reference value less the slippage.
    pub fn min_out(&self, lamports: u64) -> u64 {
        let value = self.to_dpin(lamports);
        let kept = u128::from(crate::BPS - self.max_slippage_bps.min(crate::BPS));
        (u128::from(value) * kept / u128::from(crate::BPS)) as u64
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
            window_cap: 10 * crate::LAMPORTS_PER_SOL,
        }
    }
}

impl Default for ProtocolParams {
    fn default() -> Self {
        ProtocolParams {
            fee_bps: 800,
            slash_bps: 5_000,
            validator_share_bps: 500,
            min_stake: crate::LAMPORTS_PER_SOL / 100,
            min_phase_slots: 10,
            max_phase_slots: 1_000_000,
            max_nodes: 100_000,
            swap: SwapParams::default(),
        }
    }
}

impl ProtocolParams {
    /// Rejects parameters that would make rounds unpayable or unbounded.
    pub fn check(&self) -> Result<(), DropPinError> {
        let bps_ok = self.fee_bps <= 5_000
            && self.slash_bps <= crate::BPS
            && self.validator_share_bps <= 5_000;
        let phases_ok = self.min_phase_slots >= 1 && self.min_phase_slots <= self.max_phase_slots;
        if bps_ok && phases_ok && self.min_stake > 0 && self.max_nodes > 0 && self.swap.is_valid() {
            Ok(())
        } else {
            Err(DropPinError::InvalidProtocolParams)
        }
    }
}

/// The protocol's single configuration account (PDA `["config"]`).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ProtocolConfig {
    /// Who may change the parameters.
    pub admin: Pubkey,
    /// Canonical bump of the config PDA.
    pub bump: u8,
    /// The treasury PDA.
    pub treasury: Pubkey,
    /// Canonical bump of the treasury PDA.
    pub treasury_bump: u8,
    /// Current parameters; a round copies them when it opens.
    pub params: ProtocolParams,
    /// Rounds opened so far; the next round's id.
    pub round_count: u64,
    /// The $dPIN token, once launched.
    pub token: TokenLaunch,
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
        32 + 1 + 32 + 1 + (2 * 3 + 8 * 3 + 4 + SwapParams::LEN) + 8 + TokenLaunch::LEN;
}

/// The $dPIN mint the protocol adopted and the treasury's account for it (zeroes before launch).
///
/// Supply policy: fixed. The mint must have no mint authority and no freeze authority when it is
/// adopted, so nobody (the protocol included) can inflate the supply or freeze an escrow; the
/// only way supply changes is down, by the treasury's burns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct TokenLaunch {
    /// The SPL Token mint of $dPIN.
    pub mint: Pubkey,
    /// The treasury's $dPIN account (PDA `["treasury-token"]`, authority: the treasury PDA).
    pub treasury_token: Pubkey,
    /// Canonical bump of `treasury_token`.
    pub treasury_token_bump: u8,
}

impl TokenLaunch {
    /// Encoded size.
    pub const LEN: usize = 32 + 32 + 1;
}

/// The protocol treasury (PDA `["treasury"]`): holds protocol fees and slashed validator stake.
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Treasury {
    /// Canonical bump of the treasury PDA.
    pub bump: u8,
    /// Lamports received as protocol fees.
    pub fees_collected: u64,
    /// Lamports received from slashed validators and settled rounds' remainders.
    pub other_collected: u64,
    /// What the swaps and burns have done so far.
    pub totals: SwapTotals,
    /// The current rate-limit window.
    pub window: SwapWindow,
    /// The batch between a `BeginSwap` and its `EndSwap` (always closed between transactions).
    pub pending: PendingSwap,
}

/// Running totals of the buy-and-burn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
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
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct SwapWindow {
    /// First slot of the window.
    pub start: u64,
    /// Lamports lent to routes since `start`.
    pub spent: u64,
}

/// A batch under way inside one transaction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
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
    const BODY_LEN: usize = 1 + 8 + 8 + 8 * 4 + 8 * 2 + (1 + 8 * 3 + 32);
}

/// What a round's stakes and rewards are paid in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
#[borsh(use_discriminant = true)]
#[repr(u8)]
pub enum Currency {
    /// Native SOL, held as lamports by the round's vault PDA.
    #[default]
    Sol = 0,
    /// $dPIN, held by the round's token vault (an SPL Token account owned by the round PDA).
    Dpin = 1,
}

/// Where a round stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
#[borsh(use_discriminant = true)]
#[repr(u8)]
pub enum RoundStatus {
    /// Training, reveal or validation is under way (which one follows from the slot).
    #[default]
    Open = 0,
    /// A verdict reached the quorum: nodes claim, validators settle.
    Finalized = 1,
    /// A timeout passed without the needed joins, reveals or quorum: everyone is refunded.
    Failed = 2,
}

/// Why a round failed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
#[borsh(use_discriminant = true)]
#[repr(u8)]
pub enum FailReason {
    /// The round has not failed.
    #[default]
    None = 0,
    /// Nobody joined by the commit deadline.
    NoJoins = 1,
    /// Nobody revealed by the reveal deadline.
    NoReveals = 2,
    /// No verdict reached the quorum by the validation deadline.
    NoQuorum = 3,
}

/// Phase deadlines, in slots: training (fund, join, commit) ends at `commit`, reveal at
/// `reveal`, validation at `validation`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Deadlines {
    /// End of training: funding, joining and committing stop here.
    pub commit: u64,
    /// End of the reveal phase.
    pub reveal: u64,
    /// End of the validation phase.
    pub validation: u64,
}

/// Terms a round copies from the protocol config when it opens, so later changes to the config
/// never alter a running round.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct RoundTerms {
    /// Protocol fee on funding, in bps.
    pub fee_bps: u16,
    /// Share of a stake lost when slashed, in bps.
    pub slash_bps: u16,
    /// Share of the pool paid to agreeing validators, in bps.
    pub validator_share_bps: u16,
    /// Share of the committee that must agree on one verdict, in bps.
    pub quorum_bps: u16,
}

/// The validators allowed to vote on a round.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Committee {
    /// How many entries of `members` are used.
    pub len: u8,
    /// Validator keys; entries past `len` are zero.
    pub members: [Pubkey; MAX_COMMITTEE],
}

impl Committee {
    /// The used part of `members`.
    pub fn keys(&self) -> &[Pubkey] {
        &self.members[..usize::from(self.len).min(MAX_COMMITTEE)]
    }

    /// Whether `key` is on the committee.
    pub fn contains(&self, key: &Pubkey) -> bool {
        self.keys().contains(key)
    }
}

/// How many committee members voted for one verdict digest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct VoteTally {
    /// sha256 of the borsh-encoded [`crate::instruction::VerdictVote`].
    pub digest: [u8; 32],
    /// Votes for it.
    pub votes: u8,
}

/// Head counts of a round.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct RoundCounts {
    /// Nodes that staked.
    pub nodes_joined: u32,
    /// Nodes whose reveal matched their commitment (duplicates included).
    pub nodes_revealed: u32,
    /// Nodes paid out or refunded (their accounts closed).
    pub nodes_settled: u32,
    /// Committee members that staked.
    pub validators_joined: u8,
    /// Committee members that voted.
    pub validators_voted: u8,
    /// Committee members paid out or refunded.
    pub validators_settled: u8,
}

/// What the finalized verdict decided, and what has been paid against it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct RoundOutcome {
    /// Digest of the winning vote.
    pub vote_digest: [u8; 32],
    /// Merkle root of the verdict list.
    pub verdict_root: [u8; 32],
    /// Hash of the new global model.
    pub new_model_hash: [u8; 32],
    /// CID of the new global model.
    pub new_model_cid: Cid,
    /// CID of the full verdict list, so anyone can rebuild the tree.
    pub verdict_list_cid: Cid,
    /// Accepted nodes.
    pub accepted: u32,
    /// Slashed nodes.
    pub slashed: u32,
    /// Lamports shared by accepted nodes by weight: pool less the validators' share, plus
    /// forfeited stakes of no-shows and slashed nodes.
    pub node_pool: u64,
    /// Lamports shared equally by the validators who voted the winning verdict.
    pub validator_pool: u64,
    /// Sum of the weights paid so far (never above 10,000).
    pub weight_paid_bps: u32,
    /// Rewards paid to nodes so far (never above `node_pool`).
    pub node_rewards_paid: u64,
    /// Everything paid to nodes so far, stakes included (never above the node budget).
    pub node_paid_total: u64,
}

/// A training round (PDA `["round", id as u64 LE]`).
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Round {
    /// Sequential id from the config's counter.
    pub id: u64,
    /// Canonical bump of the round PDA.
    pub bump: u8,
    /// Who opened the round; gets refunds and the round's rent back.
    pub funder: Pubkey,
    /// The escrow PDA holding the pool and all stakes.
    pub vault: Pubkey,
    /// Canonical bump of the vault PDA.
    pub vault_bump: u8,
    /// What stakes and rewards are paid in.
    pub currency: Currency,
    /// The $dPIN escrow (PDA `["token-vault", round]`) of a token round; zeroes in a SOL round.
    pub token_vault: Pubkey,
    /// Lamports of a converted pre-launch round's pool not yet swapped into $dPIN; the round
    /// admits nobody until it is zero.
    pub unconverted: u64,
    /// Hash of the task: model architecture and training recipe.
    pub task_hash: [u8; 32],
    /// Hash of the global model the round starts from.
    pub model_hash: [u8; 32],
    /// CID of the global model the round starts from.
    pub model_cid: Cid,
    /// Hash of the validation set the committee scores updates on.
    pub validation_set_hash: [u8; 32],
    /// Most nodes admitted.
    pub max_nodes: u32,
    /// Stake each node locks, in the round's currency.
    pub node_stake: u64,
    /// Stake each committee member locks, in the round's currency.
    pub validator_stake: u64,
    /// Phase deadlines in slots.
    pub deadlines: Deadlines,
    /// Fee, slash, validator share and quorum terms.
    pub terms: RoundTerms,
    /// Who may vote.
    pub committee: Committee,
    /// Open, finalized or failed.
    pub status: RoundStatus,
    /// Why a failed round failed.
    pub failure: FailReason,
    /// Fees paid to the treasury for this round.
    pub fee_paid: u64,
    /// Reward pool held in the escrow (funding less fees), in the round's currency.
    pub pool: u64,
    /// Head counts.
    pub counts: RoundCounts,
    /// Votes per distinct verdict.
    pub tallies: [VoteTally; MAX_COMMITTEE],
    /// The finalized verdict and its payments.
    pub outcome: RoundOutcome,
}

impl AccountState for Round {
    const TYPE: AccountType = AccountType::Round;
    const BODY_LEN: usize = 8
        + 1
        + 32
        + 32
        + 1
        + 1
        + 32
        + 8
        + 32 * 3
        + 36
        + 4
        + 8
        + 8
        + 24
        + 8
        + (1 + 32 * MAX_COMMITTEE)
        + 2
        + 8
        + 8
        + (4 * 3 + 3)
        + 33 * MAX_COMMITTEE
        + (32 * 3 + 36 * 2 + 4 + 4 + 8 + 8 + 4 + 8 + 8);
}

/// A round's escrow (PDA `["vault", round]`): its lamports are the pool and every stake.
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Vault {
    /// The round it belongs to.
    pub round: Pubkey,
    /// Canonical bump.
    pub bump: u8,
}

impl AccountState for Vault {
    const TYPE: AccountType = AccountType::Vault;
    const BODY_LEN: usize = 32 + 1;
}

/// Where a node stands in its round.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
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

/// One node's participation in one round (PDA `["node", round, node]`).
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct NodeState {
    /// The round.
    pub round: Pubkey,
    /// The node's wallet: signs, pays rent, receives payouts.
    pub node: Pubkey,
    /// Canonical bump.
    pub bump: u8,
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
    /// Lamports staked.
    pub stake: u64,
    /// Another node revealed the same CID first.
    pub duplicate: bool,
    /// The node's reputation multiplier when it joined (see [`Reputation::multiplier_bps`]):
    /// a snapshot, so every validator weighs the round with the same figures.
    pub reputation_bps: u16,
}

impl AccountState for NodeState {
    const TYPE: AccountType = AccountType::Node;
    const BODY_LEN: usize = 32 + 32 + 1 + 1 + 8 + 32 + 36 + 8 + 8 + 1 + 2;
}

/// The first node to reveal a CID in a round (PDA `["cid", round, cid digest]`).
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
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

/// One committee member's bond and vote in one round (PDA `["validator", round, validator]`).
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ValidatorState {
    /// The round.
    pub round: Pubkey,
    /// The validator's wallet.
    pub validator: Pubkey,
    /// Canonical bump.
    pub bump: u8,
    /// Lamports staked.
    pub stake: u64,
    /// Whether `vote` is set.
    pub voted: bool,
    /// The vote.
    pub vote: crate::instruction::VerdictVote,
    /// sha256 of the borsh-encoded vote.
    pub vote_digest: [u8; 32],
}

impl AccountState for ValidatorState {
    const TYPE: AccountType = AccountType::Validator;
    const BODY_LEN: usize = 32 + 32 + 1 + 8 + 1 + crate::instruction::VerdictVote::LEN + 32;
}

/// A node's soulbound track record (PDA `["reputation", node]`).
///
/// Owned by the program, with no instruction that moves or reassigns it: it cannot be sold or
/// transferred, only earned.
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Reputation {
    /// The node's wallet.
    pub node: Pubkey,
    /// Canonical bump.
    pub bump: u8,
    /// Rounds joined.
    pub rounds_joined: u32,
    /// Updates accepted.
    pub accepted: u32,
    /// Updates slashed.
    pub slashed: u32,
    /// Rounds joined without a reveal.
    pub no_shows: u32,
    /// Sum of contribution weights earned, in bps.
    pub cumulative_weight_bps: u64,
}

/// Reputation points that reach the largest reward multiplier.
pub const REPUTATION_POINTS_CAP: u64 = 20_000;
/// Points a slash takes away: half of a whole round's share.
pub const REPUTATION_SLASH_PENALTY: u64 = 5_000;

impl Reputation {
    /// Points: the contribution weights earned so far (bps, so a node that took a whole round's
    /// share has 10,000), less a penalty per slash. Only measured contribution earns points, so a
    /// zero-value update (accepted with weight 0) earns none: reputation cannot be farmed by
    /// joining rounds with empty or copied updates.
    pub fn points(&self) -> u64 {
        self.cumulative_weight_bps
            .saturating_sub(u64::from(self.slashed) * REPUTATION_SLASH_PENALTY)
    }

    /// The reward multiplier, in bps: `10,000 + min(points, 20,000) / 4`, so between x1.0 and
    /// x1.5. Validators multiply a node's measured contribution by it before normalizing the
    /// round's weights; it can only tilt shares among nodes that contributed, never pay one that
    /// did not.
    pub fn multiplier_bps(&self) -> u16 {
        let bonus = self.points().min(REPUTATION_POINTS_CAP) / 4;
        crate::BPS + bonus as u16
    }
}

impl AccountState for Reputation {
    const TYPE: AccountType = AccountType::Reputation;
    const BODY_LEN: usize = 32 + 1 + 4 * 4 + 8;
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;

    fn round_trips<T: AccountState + Default + PartialEq + core::fmt::Debug>() {
        let value = T::default();
        assert_eq!(borsh::to_vec(&value).unwrap().len(), T::BODY_LEN);
        let mut data = std::vec![0u8; T::LEN];
        value.store(&mut data).unwrap();
        assert_eq!(T::load(&data).unwrap(), value);
    }

    #[test]
    fn layouts_have_their_declared_sizes() {
        round_trips::<Treasury>();
        round_trips::<Round>();
        round_trips::<Vault>();
        round_trips::<NodeState>();
        round_trips::<CidMarker>();
        round_trips::<ValidatorState>();
        round_trips::<Reputation>();
        let config = ProtocolConfig {
            admin: [1; 32],
            bump: 1,
            treasury: [2; 32],
            treasury_bump: 3,
            params: ProtocolParams::default(),
            round_count: 4,
            token: TokenLaunch::default(),
        };
        assert_eq!(
            borsh::to_vec(&config).unwrap().len(),
            ProtocolConfig::BODY_LEN
        );
    }

    #[test]
    fn the_reputation_multiplier_is_bounded_and_earned_only_by_contribution() {
        let mut rep = Reputation::default();
        assert_eq!(rep.multiplier_bps(), 10_000);
        // A hundred accepted rounds of zero-value updates earn nothing.
        rep.accepted = 100;
        assert_eq!(rep.multiplier_bps(), 10_000);
        rep.cumulative_weight_bps = 10_000;
        assert_eq!(rep.multiplier_bps(), 12_500);
        rep.cumulative_weight_bps = u64::MAX;
        assert_eq!(rep.multiplier_bps(), 15_000, "capped at x1.5");
        rep.cumulative_weight_bps = 10_000;
        rep.slashed = 1;
        assert_eq!(rep.points(), 5_000, "a slash costs half a round's share");
        rep.slashed = u32::MAX;
        assert_eq!(rep.multiplier_bps(), 10_000);
    }

    #[test]
    fn load_rejects_other_types_versions_and_sizes() {
        let mut data = std::vec![0u8; NodeState::LEN];
        NodeState::default().store(&mut data).unwrap();
        assert_eq!(Round::load(&data), Err(DropPinError::InvalidAccountType));
        data[1] = 9;
        assert_eq!(
            NodeState::load(&data),
            Err(DropPinError::UnsupportedAccountVersion)
        );
        data[1] = 1;
        assert_eq!(
            NodeState::load(&data[..10]),
            Err(DropPinError::InvalidAccountType)
        );
        assert_eq!(
            NodeState::load(&[0; NodeState::LEN]),
            Err(DropPinError::InvalidAccountType)
        );
    }
}
