//! A training round, its escrow, its committees and the third-party top-ups of its pool.

use borsh::{BorshDeserialize, BorshSerialize};
use codama_macros::{CodamaAccount, CodamaType};

use super::{AccountState, AccountType};
use crate::{Cid, Pubkey, instruction::VerdictVote};

/// Distinct verdicts a committee's tally keeps, in the order they first came; a vote for a further
/// one takes the place of the least-voted (the oldest of those).
pub const MAX_TALLIES: usize = 8;

/// What a round's stakes and rewards are paid in.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, CodamaType,
)]
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
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, CodamaType,
)]
#[borsh(use_discriminant = true)]
#[repr(u8)]
pub enum RoundStatus {
    /// Training, reveal, validation or the vote reveals are under way (which follows from the slot).
    #[default]
    Open = 0,
    /// A verdict reached the quorum: its leaves are posted, it may be appealed, then everyone
    /// settles by it.
    Finalized = 1,
    /// A timeout passed without what the round needed: nodes get their stakes back (no-shows
    /// less the slash), the pool returns to those who paid it.
    Failed = 2,
}

/// Why a round failed.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, CodamaType,
)]
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
    /// The committee was not drawn in time, or nobody took a seat.
    NoCommittee = 3,
    /// No verdict reached the quorum by the end of the vote reveals.
    NoQuorum = 4,
    /// The winning verdict's leaves were not posted in time.
    VerdictWithheld = 5,
    /// The appeal's committee reached no quorum: the disputed verdict is void.
    AppealUnresolved = 6,
}

/// Phase deadlines, in slots: training (fund, join, commit) ends at `commit` (the hash of the
/// slot before it seeds the first committee, once recorded), node reveals at `reveal`, seat claims and sealed votes
/// at `validation`, vote reveals at `vote_reveal`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, CodamaType,
)]
pub struct Deadlines {
    /// End of training: funding, joining and committing stop here.
    pub commit: u64,
    /// End of the node reveals.
    pub reveal: u64,
    /// End of the committee's seat claims and vote commitments.
    pub validation: u64,
    /// End of the committee's vote reveals.
    pub vote_reveal: u64,
}

impl Deadlines {
    /// Encoded size.
    pub const LEN: usize = 8 * 4;
}

/// Terms a round copies from the protocol config when it opens, so later changes to the config
/// never alter a running round.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, CodamaType,
)]
pub struct RoundTerms {
    /// Protocol fee on funding, in bps.
    pub fee_bps: u16,
    /// Share of a stake or a seat's lock lost when slashed or absent, in bps.
    pub slash_bps: u16,
    /// Share of the pool paid to the committee members who voted the final verdict.
    pub validator_share_bps: u16,
    /// Share of the seated committee that must reveal one verdict, in bps.
    pub quorum_bps: u16,
    /// Seat count a quorum is measured against when fewer seats are taken.
    pub min_committee: u8,
    /// Share of an overturned majority's locks paid to the appellant.
    pub appeal_reward_bps: u16,
    /// Length of a vote-reveal phase.
    pub vote_reveal_slots: u64,
    /// Time to post a verdict's leaves after its vote reveals.
    pub post_slots: u64,
    /// The appeal window after the leaves are complete.
    pub appeal_window_slots: u64,
    /// Time an appeal's committee has to take seats and commit.
    pub appeal_phase_slots: u64,
    /// Smallest pool (in lamports' worth) whose rewards earn reputation.
    pub reputation_min_pool: u64,
    /// Slots over which reputation halves.
    pub reputation_half_life: u64,
    /// $dPIN base units per SOL at the opening: prices a $dPIN round's risk in SOL bonds.
    pub reference_price: u64,
}

impl RoundTerms {
    /// Encoded size.
    pub const LEN: usize = 2 * 4 + 1 + 2 + 8 * 7;
}

/// How many committee members revealed one verdict digest.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, CodamaType,
)]
pub struct VoteTally {
    /// sha256 of the borsh-encoded [`VerdictVote`].
    pub digest: [u8; 32],
    /// Votes for it.
    pub votes: u8,
}

/// The slot hash that, with the nodes' beacon, seeds a round's first committee: that of the
/// last slot before the commit deadline, which no revealed salt could have shaped and whose
/// leader knew no salt (recorded by the first reveal, or anyone's `DrawCommittee`, while the
/// SlotHashes sysvar still holds it). If nobody recorded it in time, the first draw takes the
/// last slot before the reveal deadline instead.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, CodamaType,
)]
pub struct SeedAnchor {
    /// Whether it is recorded.
    pub recorded: bool,
    /// The slot whose hash was taken (a skipped slot has none: the one before it is taken).
    pub slot: u64,
    /// That slot's bank hash.
    pub hash: [u8; 32],
}

impl SeedAnchor {
    /// Encoded size.
    pub const LEN: usize = 1 + 8 + 32;
}

/// One committee of a round: the first, or the appeal's. Nobody chooses it: its seed is fixed
/// only once the nodes' reveals close (or the appeal lands), from their beacon and a slot hash:
/// for the first, the round's [`SeedAnchor`], taken before any salt was public.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, CodamaType,
)]
pub struct CommitteeDraw {
    /// Expected number of seats: each validator is seated with probability
    /// `expected * bond / bonded_total` (capped at one).
    pub expected: u8,
    /// The registry's bonded total when the round opened.
    pub bonded_total: u64,
    /// Lamports of bond each seat locks: what the round puts at risk, spread over the smallest
    /// quorum, so a captive quorum always loses more on appeal than it could take.
    pub seat_lock: u64,
    /// The first slot it may be drawn in: the reveal deadline (the beacon is final), or, for the
    /// appeal's, the second slot after the appeal (the hash of the slot between seeds it).
    pub draw_slot: u64,
    /// The seed, once drawn.
    pub seed: [u8; 32],
    /// Whether the seed is fixed.
    pub drawn: bool,
    /// End of seat claims and vote commitments.
    pub vote_deadline: u64,
    /// End of vote reveals.
    pub reveal_deadline: u64,
    /// Seats taken.
    pub seats: u8,
    /// Seats whose vote was revealed.
    pub revealed: u8,
    /// Drawn validators reported absent or excused (they never took their seat).
    pub absent: u8,
    /// Seats and absence records settled.
    pub settled: u8,
    /// Revealed votes per distinct verdict.
    #[codama(type = array(link("voteTally"), 8))]
    pub tallies: [VoteTally; MAX_TALLIES],
}

impl CommitteeDraw {
    /// Encoded size.
    pub const LEN: usize = 1 + 8 * 3 + 32 + 1 + 8 * 2 + 4 + 33 * MAX_TALLIES;

    /// Revealed votes for `digest`.
    pub fn votes_for(&self, digest: &[u8; 32]) -> u8 {
        self.tallies
            .iter()
            .find(|t| t.votes > 0 && &t.digest == digest)
            .map_or(0, |t| t.votes)
    }

    /// Revealed votes no tally holds any more: votes for verdicts whose tally gave way to a
    /// further one. A verdict may have up to these beyond its tally's votes.
    pub fn untallied(&self) -> u8 {
        let tallied: u16 = self.tallies.iter().map(|t| u16::from(t.votes)).sum();
        u8::try_from(u16::from(self.revealed).saturating_sub(tallied)).unwrap_or(u8::MAX)
    }

    /// The most seats that can have revealed `digest`: its tally's votes and the untallied ones.
    /// Shares split by this bound never pay out more than there is, whoever's vote was lost.
    pub fn most_votes_for(&self, digest: &[u8; 32]) -> u8 {
        self.votes_for(digest).saturating_add(self.untallied())
    }

    /// The most-voted digest and its votes (the first one on a tie).
    pub fn leader(&self) -> Option<VoteTally> {
        self.tallies
            .iter()
            .filter(|t| t.votes > 0)
            .fold(None, |best: Option<VoteTally>, t| match best {
                Some(b) if b.votes >= t.votes => Some(b),
                _ => Some(*t),
            })
    }

    /// Records and entries still to settle.
    pub fn unsettled(&self) -> u8 {
        (self.seats + self.absent).saturating_sub(self.settled)
    }
}

/// How an appeal ended.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, CodamaType,
)]
#[borsh(use_discriminant = true)]
#[repr(u8)]
pub enum AppealResolution {
    /// No appeal, or not yet resolved.
    #[default]
    None = 0,
    /// The appeal's committee revealed the same verdict: the appellant's bond pays it and the
    /// treasury.
    Confirmed = 1,
    /// The appeal's committee revealed another verdict: the first majority loses its locks and
    /// settlement follows the new verdict.
    Overturned = 2,
    /// The appeal's committee reached no quorum: the round is void (failed).
    Unresolved = 3,
    /// The first committee reached no quorum and the round was escalated: the appeal's
    /// committee decided, and settlement follows its verdict.
    Decided = 4,
}

/// The one appeal a round may have.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, CodamaType,
)]
pub struct Appeal {
    /// Who appealed (zeroes: nobody).
    pub appellant: Pubkey,
    /// Lamports the appellant bonded (held in the round's vault).
    pub bond: u64,
    /// Slot the appeal landed in.
    pub filed_slot: u64,
    /// The outcome.
    pub resolution: AppealResolution,
    /// Lamports of the overturned majority's locks owed to the appellant, collected in the
    /// vault as their seats settle.
    pub reward_due: u64,
    /// Whether the appellant's bond has been settled.
    pub settled: bool,
}

impl Appeal {
    /// Encoded size.
    pub const LEN: usize = 32 + 8 + 8 + 1 + 8 + 1;

    /// Whether an appeal was filed.
    pub fn filed(&self) -> bool {
        self.appellant != [0; 32]
    }
}

/// Head counts of a round.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, CodamaType,
)]
pub struct RoundCounts {
    /// Nodes that staked (each got the next join index).
    pub nodes_joined: u32,
    /// Nodes whose reveal matched their commitment (duplicates included).
    pub nodes_revealed: u32,
    /// Nodes paid out or refunded (their accounts closed).
    pub nodes_settled: u32,
    /// Third parties who topped up the pool.
    pub contributions: u32,
    /// Third-party top-ups settled.
    pub contributions_settled: u32,
}

impl RoundCounts {
    /// Encoded size.
    pub const LEN: usize = 4 * 5;
}

/// What the final verdict decided, and what has been paid against it.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, CodamaType,
)]
pub struct RoundOutcome {
    /// The committee whose verdict is in force: 0, or 1 after an overturning appeal.
    pub level: u8,
    /// Digest of the verdict in force.
    pub digest: [u8; 32],
    /// The verdict's header: leaves root, counts, weight sum, new model.
    pub vote: VerdictVote,
    /// Slot its leaves were all posted (0: not yet).
    pub leaves_complete_slot: u64,
    /// Shared by accepted nodes by weight: the pool less the validators' share.
    pub node_pool: u64,
    /// Shared equally by the seats that revealed the final verdict.
    pub validator_pool: u64,
    /// Sum of the weights paid so far (never above 10,000).
    pub weight_paid_bps: u32,
    /// Rewards paid to nodes so far (never above `node_pool`).
    pub node_rewards_paid: u64,
    /// Rewards paid to seats so far (never above `validator_pool`).
    pub validator_rewards_paid: u64,
    /// Pool returned to third-party contributors so far.
    pub contribution_refunds_paid: u64,
    /// Stake sent to the treasury (or burned) by slashes and no-shows so far.
    pub slashed_to_treasury: u64,
}

impl RoundOutcome {
    /// Encoded size.
    pub const LEN: usize = 1 + 32 + VerdictVote::LEN + 8 * 3 + 4 + 8 * 4;
}

/// A training round (PDA `["round", id as u64 LE]`).
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, CodamaAccount)]
#[codama(field("account_type", number(u8), default_value = 3))]
#[codama(field("version", number(u8), default_value = 3))]
#[codama(discriminator(field = "account_type"))]
#[codama(seed(type = string(utf8), value = "round"))]
#[codama(seed(name = "id", type = number(u64)))]
pub struct Round {
    /// Sequential id from the config's counter.
    pub id: u64,
    /// Canonical bump of the round PDA.
    pub bump: u8,
    /// Who opened the round: gets back its unearned share of the pool and the round's rent.
    pub funder: Pubkey,
    /// The escrow PDA holding the pool, the stakes and an appeal's bond.
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
    /// The protocol treasury: every slash and forfeit goes there, checked by key.
    pub treasury: Pubkey,
    /// Slot the round opened: validators bonded since are not drawn for it.
    pub opened_slot: u64,
    /// CID of the task manifest (data schema, model, recipe, validation rules) in storage: its
    /// digest is the task hash, so the round pins the recipe along with the model.
    pub task_cid: Cid,
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
    /// Phase deadlines in slots.
    pub deadlines: Deadlines,
    /// Fee, slash, committee and appeal terms.
    pub terms: RoundTerms,
    /// Open, finalized or failed.
    pub status: RoundStatus,
    /// Why a failed round failed.
    pub failure: FailReason,
    /// Fees paid to the treasury for this round.
    pub fee_paid: u64,
    /// Reward pool held in the escrow (funding less fees), in the round's currency.
    pub pool: u64,
    /// The part of `pool` the funder paid itself (the rest came from third-party top-ups).
    pub funder_pool: u64,
    /// Head counts.
    pub counts: RoundCounts,
    /// XOR of the hashes of every revealed salt: the nodes' share of the committee's seed.
    pub beacon: [u8; 32],
    /// The slot hash that seeds the first committee with the beacon.
    pub anchor: SeedAnchor,
    /// The first committee (0) and the appeal's committee (1).
    pub committees: [CommitteeDraw; 2],
    /// The appeal, if any.
    pub appeal: Appeal,
    /// The final verdict and its payments.
    pub outcome: RoundOutcome,
}

impl AccountState for Round {
    const TYPE: AccountType = AccountType::Round;
    /// Version 2 carries the task manifest's CID; version 3 the seed anchor.
    const VERSION: u8 = 3;
    const BODY_LEN: usize = 8
        + 1
        + 32
        + 32
        + 1
        + 1
        + 32
        + 8
        + 32
        + 8
        + 36
        + 32
        + 36
        + 32
        + 4
        + 8
        + Deadlines::LEN
        + RoundTerms::LEN
        + 2
        + 8 * 3
        + RoundCounts::LEN
        + 32
        + SeedAnchor::LEN
        + CommitteeDraw::LEN * 2
        + Appeal::LEN
        + RoundOutcome::LEN;
}

impl Round {
    /// Decodes a round account into `self`, field by field: a round decoded by value would need
    /// several copies of itself on the stack, more than an SBF program's 4 KB frame holds.
    pub fn load_in_place(&mut self, data: &[u8]) -> Result<(), crate::DropPinError> {
        use crate::DropPinError::{InvalidAccountType, UnsupportedAccountVersion};
        let mut buf = match data {
            [t, _, ..] if *t != AccountType::Round as u8 => return Err(InvalidAccountType),
            [_, v, ..] if *v != Self::VERSION => return Err(UnsupportedAccountVersion),
            [_, _, body @ ..] if body.len() == Self::BODY_LEN => body,
            _ => return Err(InvalidAccountType),
        };
        self.read_fields(&mut buf).map_err(|_| InvalidAccountType)
    }

    fn read_fields(&mut self, buf: &mut &[u8]) -> borsh::io::Result<()> {
        fn read<T: BorshDeserialize>(buf: &mut &[u8], field: &mut T) -> borsh::io::Result<()> {
            *field = T::deserialize(buf)?;
            Ok(())
        }
        read(buf, &mut self.id)?;
        read(buf, &mut self.bump)?;
        read(buf, &mut self.funder)?;
        read(buf, &mut self.vault)?;
        read(buf, &mut self.vault_bump)?;
        read(buf, &mut self.currency)?;
        read(buf, &mut self.token_vault)?;
        read(buf, &mut self.unconverted)?;
        read(buf, &mut self.treasury)?;
        read(buf, &mut self.opened_slot)?;
        read(buf, &mut self.task_cid)?;
        read(buf, &mut self.model_hash)?;
        read(buf, &mut self.model_cid)?;
        read(buf, &mut self.validation_set_hash)?;
        read(buf, &mut self.max_nodes)?;
        read(buf, &mut self.node_stake)?;
        read(buf, &mut self.deadlines)?;
        read(buf, &mut self.terms)?;
        read(buf, &mut self.status)?;
        read(buf, &mut self.failure)?;
        read(buf, &mut self.fee_paid)?;
        read(buf, &mut self.pool)?;
        read(buf, &mut self.funder_pool)?;
        read(buf, &mut self.counts)?;
        read(buf, &mut self.beacon)?;
        read(buf, &mut self.anchor)?;
        for committee in &mut self.committees {
            read(buf, committee)?;
        }
        read(buf, &mut self.appeal)?;
        read(buf, &mut self.outcome)
    }

    /// The committee at `level` (0 first, 1 appeal).
    pub fn committee(&self, level: u8) -> &CommitteeDraw {
        &self.committees[usize::from(level.min(1))]
    }

    /// Slot by which the leaves of the verdict judged at `level` must be posted.
    pub fn post_deadline(&self, level: u8) -> u64 {
        self.committee(level)
            .reveal_deadline
            .saturating_add(self.terms.post_slots)
    }

    /// Last slot (exclusive) a round whose first committee reached no quorum may be escalated
    /// to the appeal's committee; after it, the round fails for want of a quorum.
    pub fn escalation_deadline(&self) -> u64 {
        self.deadlines
            .vote_reveal
            .saturating_add(self.terms.appeal_window_slots)
    }

    /// Last slot (exclusive) an appeal may be filed: the appeal window after the leaves landed.
    pub fn appeal_deadline(&self) -> Option<u64> {
        (self.outcome.leaves_complete_slot > 0 && self.outcome.level == 0).then(|| {
            self.outcome
                .leaves_complete_slot
                .saturating_add(self.terms.appeal_window_slots)
        })
    }
}

/// A round's escrow (PDA `["vault", round]`): its lamports are the pool and every stake.
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, CodamaAccount)]
#[codama(field("account_type", number(u8), default_value = 4))]
#[codama(field("version", number(u8), default_value = 1))]
#[codama(discriminator(field = "account_type"))]
#[codama(seed(type = string(utf8), value = "vault"))]
#[codama(seed(name = "round", type = public_key))]
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

/// A third party's top-up of a round's pool (PDA `["contribution", round, payer]`): whatever
/// of it goes unearned is returned to the payer, not the funder.
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, CodamaAccount)]
#[codama(field("account_type", number(u8), default_value = 12))]
#[codama(field("version", number(u8), default_value = 1))]
#[codama(discriminator(field = "account_type"))]
#[codama(seed(type = string(utf8), value = "contribution"))]
#[codama(seed(name = "round", type = public_key))]
#[codama(seed(name = "payer", type = public_key))]
pub struct Contribution {
    /// The round.
    pub round: Pubkey,
    /// Who paid (and paid this account's rent).
    pub payer: Pubkey,
    /// Canonical bump.
    pub bump: u8,
    /// What the payer added to the pool (fees excluded).
    pub amount: u64,
}

impl AccountState for Contribution {
    const TYPE: AccountType = AccountType::Contribution;
    const BODY_LEN: usize = 32 + 32 + 1 + 8;
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;

    #[test]
    fn decoding_in_place_matches_the_derived_decoder() {
        let mut round = Round {
            id: 7,
            bump: 3,
            funder: [1; 32],
            treasury: [2; 32],
            opened_slot: 99,
            pool: 1_234,
            beacon: [5; 32],
            ..Round::default()
        };
        round.committees[1].tallies[2] = VoteTally {
            digest: [6; 32],
            votes: 4,
        };
        round.appeal.bond = 77;
        round.outcome.vote.accepted = 3;
        round.outcome.slashed_to_treasury = 11;
        let mut data = std::vec![0u8; Round::LEN];
        round.store(&mut data).unwrap();
        let mut decoded = Round::default();
        decoded.load_in_place(&data).unwrap();
        assert_eq!(decoded, round);
        assert_eq!(Round::load(&data).unwrap(), round);
        data[0] = AccountType::Node as u8;
        assert_eq!(
            decoded.load_in_place(&data),
            Err(crate::DropPinError::InvalidAccountType)
        );
    }
}
