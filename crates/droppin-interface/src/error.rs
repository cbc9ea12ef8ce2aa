//! Program error codes with readable messages.
//!
//! The program returns `ProgramError::Custom(code)`; clients turn the code back into a
//! [`DropPinError`] with [`DropPinError::from_code`] and show its message.

use codama_macros::CodamaErrors;
use strum::FromRepr;
use thiserror::Error;

/// Every way a dropPIN instruction can fail, each with its own code (the IDL's error list is
/// generated from this enum and its messages).
#[derive(Error, Debug, Clone, Copy, PartialEq, Eq, FromRepr, CodamaErrors)]
#[repr(u32)]
pub enum DropPinError {
    /// The instruction data does not decode as a dropPIN instruction.
    #[error("instruction data is malformed")]
    InvalidInstructionData = 0,
    /// Fewer accounts were passed than the instruction needs.
    #[error("not enough accounts for this instruction")]
    NotEnoughAccountKeys = 1,
    /// A required signature is missing.
    #[error("a required signer did not sign")]
    MissingSigner = 2,
    /// An account that must be writable was passed read-only.
    #[error("an account that must be writable is read-only")]
    AccountNotWritable = 3,
    /// An account is owned by the wrong program.
    #[error("an account is owned by the wrong program")]
    InvalidAccountOwner = 4,
    /// An account's discriminator is not the expected type (type cosplay).
    #[error("an account is not of the expected type")]
    InvalidAccountType = 5,
    /// An account has a layout version this program does not know.
    #[error("an account has an unsupported layout version")]
    UnsupportedAccountVersion = 6,
    /// An account is not at the canonical PDA for its seeds.
    #[error("an account is not the canonical program-derived address for its seeds")]
    InvalidPda = 7,
    /// The account to create already exists.
    #[error("the account is already initialized")]
    AccountAlreadyInitialized = 8,
    /// The system program account is not the system program (arbitrary CPI target).
    #[error("the system program account is not the system program")]
    InvalidSystemProgram = 9,
    /// The same account was passed in two writable positions.
    #[error("the same account was passed twice as writable")]
    DuplicateMutableAccount = 10,
    /// An amount computation overflowed.
    #[error("arithmetic overflow")]
    ArithmeticOverflow = 11,
    /// Protocol parameters are out of range.
    #[error("protocol parameters are out of range")]
    InvalidProtocolParams = 12,
    /// Only the protocol admin may do this.
    #[error("only the protocol admin may do this")]
    Unauthorized = 13,
    /// Round parameters are out of range (nodes, stake, pool).
    #[error("round parameters are out of range (max nodes, stake or reward pool)")]
    InvalidRoundParams = 14,
    /// A CID is not a CIDv1 with raw codec and sha2-256 multihash.
    #[error("a CID is not a CIDv1 (raw codec, sha2-256)")]
    InvalidCid = 15,
    /// Phase deadlines are not increasing or a phase is shorter or longer than the protocol allows.
    #[error("phase deadlines are out of order or outside the protocol's phase limits")]
    InvalidDeadlines = 16,
    /// The expected committee size is outside the protocol's bounds.
    #[error("the expected committee size is outside the protocol's bounds")]
    InvalidCommitteeSize = 17,
    /// Someone other than the program's upgrade authority tried to initialize the protocol.
    #[error("only the program's upgrade authority may initialize the protocol")]
    NotUpgradeAuthority = 18,
    /// The round was already finalized, failed or closed.
    #[error("the round is no longer open")]
    RoundNotOpen = 19,
    /// Funding and joining close at the commit deadline.
    #[error("training has closed: funding, joining and committing end at the commit deadline")]
    TrainingClosed = 20,
    /// The round already has its maximum number of nodes.
    #[error("the round already has its maximum number of nodes")]
    RoundFull = 21,
    /// An account belongs to another round (PDA sharing).
    #[error("an account belongs to another round")]
    RoundMismatch = 22,
    /// A node account belongs to another node.
    #[error("the node account belongs to another node")]
    NodeMismatch = 23,
    /// Reveals open at the commit deadline.
    #[error("the reveal phase has not started yet")]
    RevealNotOpen = 24,
    /// Reveals close at the reveal deadline.
    #[error("the reveal phase is over")]
    RevealClosed = 25,
    /// The node never committed.
    #[error("the node has not committed an update")]
    NotCommitted = 26,
    /// The revealed cid and salt do not hash to the commitment.
    #[error("the revealed cid and salt do not match the commitment")]
    CommitmentMismatch = 27,
    /// The node already revealed.
    #[error("the node already revealed its update")]
    AlreadyRevealed = 28,
    /// The validator's ticket is above its threshold for this draw.
    #[error("the validator was not drawn for this committee")]
    NotSelected = 29,
    /// The committee's seed is not fixed yet.
    #[error("the committee has not been drawn yet")]
    NotYetDrawn = 30,
    /// The committee's seed is already fixed.
    #[error("the committee has already been drawn")]
    AlreadyDrawn = 31,
    /// The draw must wait for the reveals to close (or, for an appeal's, for the slot after the
    /// appeal), or its window closed: the slot hash that seeds it left the SlotHashes sysvar.
    #[error(
        "this committee cannot be drawn now: its seed is not fixed yet (the reveals are still open, or the slot after the appeal has not passed), or its draw window has closed"
    )]
    SeedUnavailable = 32,
    /// The validator's bond changed after the round opened, or it has none.
    #[error(
        "the validator's bond was registered or changed after the round opened, so it is not drawn for it"
    )]
    NotEligible = 33,
    /// The funder, a node of the round or the appellant tried to judge it.
    #[error(
        "the funder, the round's nodes, the appellant and the first committee cannot sit on this committee"
    )]
    ConflictOfInterest = 34,
    /// The validator's free bond cannot cover the seat's lock.
    #[error("the validator's free bond cannot cover the seat's lock")]
    InsufficientBond = 35,
    /// Seat claims and sealed votes close at the committee's vote deadline.
    #[error("seat claims and vote commitments are over for this committee")]
    SeatsClosed = 36,
    /// Vote reveals open at the committee's vote deadline.
    #[error("votes can be revealed only after the vote deadline")]
    VoteRevealNotOpen = 37,
    /// Vote reveals close at the committee's reveal deadline.
    #[error("the vote-reveal phase is over")]
    VoteRevealClosed = 38,
    /// The revealed vote and salt do not hash to the seat's sealed vote.
    #[error("the revealed vote and salt do not match the sealed vote")]
    VoteCommitmentMismatch = 39,
    /// The seat already revealed.
    #[error("the seat already revealed its vote")]
    VoteAlreadyRevealed = 40,
    /// The seat never committed a vote.
    #[error("the seat has not committed a vote")]
    VoteNotCommitted = 41,
    /// The vote's counts do not cover the round's nodes.
    #[error(
        "the verdict's counts must add up to the reveals (accepted, excluded, slashed) and the no-shows"
    )]
    VerdictCountMismatch = 42,
    /// No verdict has reached the quorum.
    #[error("no verdict has reached the committee quorum")]
    QuorumNotReached = 43,
    /// The leaf is inconsistent (a weight on a non-accepted leaf, or above 10000 bps).
    #[error("the verdict leaf is inconsistent")]
    InvalidVerdictLeaf = 44,
    /// A posted chunk does not hash to the verdict's root.
    #[error("the chunk of leaves does not match the verdict's leaves root")]
    InvalidChunkProof = 45,
    /// That chunk was already posted.
    #[error("this chunk of leaves was already posted")]
    ChunkAlreadyPosted = 46,
    /// The verdict's leaves are not all posted yet.
    #[error("the verdict's leaves are not all posted yet")]
    VerdictIncomplete = 47,
    /// The posted leaves do not add up to the verdict's header.
    #[error("the posted leaves do not add up to the verdict's header")]
    VerdictMismatch = 48,
    /// The round has not been finalized.
    #[error("the round has not been finalized")]
    RoundNotFinalized = 49,
    /// Settlement waits for the appeal window (or the appeal) to end.
    #[error("settlement opens when the appeal window closes or the appeal is resolved")]
    ClaimsNotOpen = 50,
    /// The appeal window is over, or not open yet.
    #[error(
        "the verdict cannot be appealed now: the window is closed or its leaves are not posted"
    )]
    AppealClosed = 51,
    /// The round was already appealed.
    #[error("the round was already appealed; one level of appeal is final")]
    AlreadyAppealed = 52,
    /// The appeal's committee is still at work.
    #[error("the appeal is not resolved yet")]
    AppealNotResolved = 53,
    /// The round has no appeal.
    #[error("the round has no appeal")]
    NoAppeal = 54,
    /// Paying this leaf would push the weights paid over 10000 bps.
    #[error("the verdict weights paid would exceed 10000 bps")]
    WeightBudgetExceeded = 55,
    /// Paying this would exceed what the round holds for it.
    #[error("the payout would exceed the round's pool")]
    PayoutExceedsPool = 56,
    /// No timeout has been reached.
    #[error("no timeout has been reached: the round is still live")]
    NoTimeout = 57,
    /// Nodes, seats, the appeal or contributions are still to be settled.
    #[error("the round still has unsettled nodes, seats, appeal or contributions")]
    RoundNotSettled = 58,
    /// The vault passed is not the round's vault.
    #[error("the vault is not this round's escrow")]
    VaultMismatch = 59,
    /// The treasury passed is not the protocol treasury.
    #[error("the treasury is not the protocol treasury")]
    TreasuryMismatch = 60,
    /// The registry passed is not the protocol registry.
    #[error("the registry is not the protocol's validator registry")]
    RegistryMismatch = 61,
    /// The CID marker passed is not the one for this node's CID.
    #[error("the CID marker does not belong to this node's CID")]
    CidMarkerMismatch = 62,
    /// Amounts must be positive.
    #[error("the amount must be greater than zero")]
    ZeroAmount = 63,
    /// The wallet passed is not the one this payout belongs to.
    #[error("the recipient is not the account this payout belongs to")]
    RecipientMismatch = 64,
    /// No node revealed, so there is nothing to vote on.
    #[error("no node revealed an update, so there is nothing to validate")]
    NothingToValidate = 65,
    /// The bond is too small, or locked by open seats.
    #[error("the bond is below the protocol's minimum, or the amount is locked by open seats")]
    BondTooSmall = 66,
    /// The unbonding delay has not passed.
    #[error("nothing to withdraw yet: the unbonding delay has not passed")]
    StillUnbonding = 67,
    /// No parameter change is waiting.
    #[error("no configuration change is waiting")]
    NoPendingConfig = 68,
    /// The change is still in its timelock.
    #[error("the configuration change is still in its timelock")]
    TimelockActive = 69,
    /// The change moves a parameter more than one step.
    #[error("the configuration change moves a parameter by more than one bounded step")]
    ConfigStepTooLarge = 70,
    /// This seat or record was already settled, or cannot be settled this way.
    #[error("this account cannot be settled now")]
    NotSettleable = 71,
    /// A token round, swap or conversion before $dPIN was launched.
    #[error("the $dPIN token is not live yet")]
    TokenNotLaunched = 72,
    /// A second `LaunchToken`.
    #[error("the $dPIN token was already launched")]
    TokenAlreadyLaunched = 73,
    /// The mint offered at launch could still be inflated or could freeze escrows.
    #[error(
        "the mint must be an initialized SPL Token mint with no mint authority and no freeze authority"
    )]
    InvalidMint = 74,
    /// A token account or mint of another token than the protocol's $dPIN.
    #[error("a token account or mint is not the protocol's $dPIN")]
    WrongMint = 75,
    /// A token account that does not belong to the wallet it pays or is paid for.
    #[error("a token account is owned by someone other than the wallet it stands for")]
    TokenAccountOwnerMismatch = 76,
    /// The token program account is something else (arbitrary CPI).
    #[error("the token program account is not the SPL Token program")]
    InvalidTokenProgram = 77,
    /// An instruction that does not apply to the round's currency.
    #[error("this does not apply to the round's currency")]
    CurrencyMismatch = 78,
    /// Joining or funding a round whose SOL pool is still being swapped.
    #[error("the round's SOL pool is still being converted to $dPIN")]
    ConversionPending = 79,
    /// Converting a round that is not an open, unjoined pre-launch SOL round, or by someone else.
    #[error(
        "only the funder of an open SOL round opened before the launch, that nobody has joined, can convert it to $dPIN"
    )]
    NotConvertible = 80,
    /// A sysvar account is something else.
    #[error("the sysvar account is not the expected sysvar")]
    InvalidSysvar = 81,
    /// A `BeginSwap` with no `EndSwap` after it in the transaction.
    #[error("begin_swap must be followed by this program's end_swap in the same transaction")]
    MissingEndSwap = 82,
    /// A second `BeginSwap` before the first one's `EndSwap`.
    #[error("a swap batch is already open in this transaction")]
    SwapInProgress = 83,
    /// An `EndSwap` with no open batch.
    #[error("end_swap without a begin_swap before it")]
    NoSwapInProgress = 84,
    /// The route paid less than the bound.
    #[error("the swap returned less $dPIN than the batch's current auction price requires")]
    SlippageExceeded = 85,
    /// A batch over the window's cap.
    #[error("the batch would exceed the treasury's swap cap for the current window")]
    SwapWindowCapExceeded = 86,
    /// A batch larger than the SOL there is to swap.
    #[error("the batch is larger than the SOL available to swap")]
    SwapExceedsAvailable = 87,
    /// `BeginSwap`/`EndSwap` invoked through another program, or this program called inside a route.
    #[error(
        "begin_swap and end_swap must be top-level instructions, with only other programs between them"
    )]
    InvalidSwapRoute = 88,
    /// The reported validator took its seat.
    #[error("the validator took its seat, so it is not absent")]
    NotAbsent = 89,
    /// The config passed is not the protocol config.
    #[error("the config is not the protocol config")]
    ConfigMismatch = 90,
    /// A round opened while no validator is bonded could never be judged.
    #[error("no validator is bonded, so no committee could be drawn for this round")]
    NoValidators = 91,
    /// The verdict's leaves came too late.
    #[error("the time to post this verdict's leaves is over")]
    PostingClosed = 92,
    /// A bond changed less than an unbonding delay ago.
    #[error(
        "a bond changes at most once per unbonding delay after its first change: wait until its last change is that old"
    )]
    BondChangeTooSoon = 93,
    /// Absences are reported until the committee's leaves are due.
    #[error("the time to report this committee's absences is over")]
    ReportClosed = 94,
    /// Availability is reported before the committee's availability deadline only.
    #[error(
        "the time to report which updates this seat fetched is over: the committee judges the reports it has"
    )]
    AvailabilityClosed = 95,
    /// The availability bitmap is longer than the largest round's or names a node past the
    /// round's last.
    #[error("the availability report names a node this round does not have")]
    InvalidAvailability = 96,
    /// The reported validator's bond, when the round opened, was below the seat's lock: it
    /// could never take its seat, so it is not absent.
    #[error(
        "the validator's bond when the round opened was below the seat's lock: it could not sit, so it is not absent"
    )]
    SeatBeyondBond = 97,
    /// The seat records the validator's excuse (its bond was locked in other seats): it holds
    /// no vote.
    #[error(
        "this seat records the validator's excuse (its bond was locked in other seats): it holds no vote"
    )]
    SeatExcused = 98,
}

impl DropPinError {
    /// The numeric code carried by `ProgramError::Custom`.
    pub const fn code(self) -> u32 {
        self as u32
    }

    /// The error behind a custom program error code, if it is one of ours.
    pub fn from_code(code: u32) -> Option<DropPinError> {
        Self::from_repr(code)
    }
}

impl From<DropPinError> for solana_program_error::ProgramError {
    fn from(e: DropPinError) -> Self {
        solana_program_error::ProgramError::Custom(e.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_dense_and_round_trip() {
        let last = DropPinError::SeatExcused.code();
        for code in 0..=last {
            let error = DropPinError::from_code(code).expect("codes have no gaps");
            assert_eq!(error.code(), code);
        }
        assert_eq!(DropPinError::from_code(last + 1), None);
        assert_eq!(DropPinError::from_code(9_999), None);
    }
}
