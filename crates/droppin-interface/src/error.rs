//! Program error codes with readable messages.
//!
//! The program returns `ProgramError::Custom(code)`; clients turn the code back into a
//! [`DropPinError`] with [`DropPinError::from_code`] and show its message.

use thiserror::Error;

macro_rules! drop_pin_errors {
    ($($(#[$doc:meta])* $name:ident = $code:literal => $message:literal,)+) => {
        /// Every way a dropPIN instruction can fail, each with its own code.
        #[derive(Error, Debug, Clone, Copy, PartialEq, Eq)]
        #[repr(u32)]
        pub enum DropPinError {
            $($(#[$doc])* #[error($message)] $name = $code,)+
        }

        impl DropPinError {
            /// All errors, in code order.
            pub const ALL: &'static [DropPinError] = &[$(DropPinError::$name,)+];
        }
    };
}

drop_pin_errors! {
    /// The instruction data does not decode as a dropPIN instruction.
    InvalidInstructionData = 0 => "instruction data is malformed",
    /// Fewer accounts were passed than the instruction needs.
    NotEnoughAccountKeys = 1 => "not enough accounts for this instruction",
    /// A required signature is missing.
    MissingSigner = 2 => "a required signer did not sign",
    /// An account that must be writable was passed read-only.
    AccountNotWritable = 3 => "an account that must be writable is read-only",
    /// An account is owned by the wrong program.
    InvalidAccountOwner = 4 => "an account is owned by the wrong program",
    /// An account's discriminator is not the expected type (type cosplay).
    InvalidAccountType = 5 => "an account is not of the expected type",
    /// An account has a layout version this program does not know.
    UnsupportedAccountVersion = 6 => "an account has an unsupported layout version",
    /// An account is not at the canonical PDA for its seeds.
    InvalidPda = 7 => "an account is not the canonical program-derived address for its seeds",
    /// The account to create already exists.
    AccountAlreadyInitialized = 8 => "the account is already initialized",
    /// The system program account is not the system program (arbitrary CPI target).
    InvalidSystemProgram = 9 => "the system program account is not the system program",
    /// The same account was passed in two writable positions.
    DuplicateMutableAccount = 10 => "the same account was passed twice as writable",
    /// An amount computation overflowed.
    ArithmeticOverflow = 11 => "arithmetic overflow",
    /// Protocol parameters are out of range.
    InvalidProtocolParams = 12 => "protocol parameters are out of range",
    /// Only the protocol admin may do this.
    Unauthorized = 13 => "only the protocol admin may do this",
    /// Round parameters are out of range (nodes, stake, pool).
    InvalidRoundParams = 14 => "round parameters are out of range (max nodes, stake or reward pool)",
    /// A CID is not a CIDv1 with raw codec and sha2-256 multihash.
    InvalidCid = 15 => "a CID is not a CIDv1 (raw codec, sha2-256)",
    /// Phase deadlines are not increasing or a phase is shorter or longer than the protocol allows.
    InvalidDeadlines = 16 => "phase deadlines are out of order or outside the protocol's phase limits",
    /// The expected committee size is outside the protocol's bounds.
    InvalidCommitteeSize = 17 => "the expected committee size is outside the protocol's bounds",
    /// Someone other than the program's upgrade authority tried to initialize the protocol.
    NotUpgradeAuthority = 18 => "only the program's upgrade authority may initialize the protocol",
    /// The round was already finalized, failed or closed.
    RoundNotOpen = 19 => "the round is no longer open",
    /// Funding and joining close at the commit deadline.
    TrainingClosed = 20 => "training has closed: funding, joining and committing end at the commit deadline",
    /// The round already has its maximum number of nodes.
    RoundFull = 21 => "the round already has its maximum number of nodes",
    /// An account belongs to another round (PDA sharing).
    RoundMismatch = 22 => "an account belongs to another round",
    /// A node account belongs to another node.
    NodeMismatch = 23 => "the node account belongs to another node",
    /// Reveals open at the commit deadline.
    RevealNotOpen = 24 => "the reveal phase has not started yet",
    /// Reveals close at the reveal deadline.
    RevealClosed = 25 => "the reveal phase is over",
    /// The node never committed.
    NotCommitted = 26 => "the node has not committed an update",
    /// The revealed cid and salt do not hash to the commitment.
    CommitmentMismatch = 27 => "the revealed cid and salt do not match the commitment",
    /// The node already revealed.
    AlreadyRevealed = 28 => "the node already revealed its update",
    /// The validator's ticket is above its threshold for this draw.
    NotSelected = 29 => "the validator was not drawn for this committee",
    /// The committee's seed is not fixed yet.
    NotYetDrawn = 30 => "the committee has not been drawn yet",
    /// The committee's seed is already fixed.
    AlreadyDrawn = 31 => "the committee has already been drawn",
    /// The slot hash the draw needs is not in the SlotHashes sysvar.
    SeedUnavailable = 32 => "the slot hash that seeds this draw is not available: too early, or past the SlotHashes window",
    /// The validator's bond changed after the round opened, or it has none.
    NotEligible = 33 => "the validator's bond was registered or changed after the round opened, so it is not drawn for it",
    /// The funder, a node of the round or the appellant tried to judge it.
    ConflictOfInterest = 34 => "the funder, the round's nodes, the appellant and the first committee cannot sit on this committee",
    /// The validator's free bond cannot cover the seat's lock.
    InsufficientBond = 35 => "the validator's free bond cannot cover the seat's lock",
    /// Seat claims and sealed votes close at the committee's vote deadline.
    SeatsClosed = 36 => "seat claims and vote commitments are over for this committee",
    /// Vote reveals open at the committee's vote deadline.
    VoteRevealNotOpen = 37 => "votes can be revealed only after the vote deadline",
    /// Vote reveals close at the committee's reveal deadline.
    VoteRevealClosed = 38 => "the vote-reveal phase is over",
    /// The revealed vote and salt do not hash to the seat's sealed vote.
    VoteCommitmentMismatch = 39 => "the revealed vote and salt do not match the sealed vote",
    /// The seat already revealed.
    VoteAlreadyRevealed = 40 => "the seat already revealed its vote",
    /// The seat never committed a vote.
    VoteNotCommitted = 41 => "the seat has not committed a vote",
    /// The vote's counts do not cover the round's nodes.
    VerdictCountMismatch = 42 => "the verdict's counts must add up to the reveals (accepted, excluded, slashed) and the no-shows",
    /// No verdict has reached the quorum.
    QuorumNotReached = 43 => "no verdict has reached the committee quorum",
    /// The leaf is inconsistent (a weight on a non-accepted leaf, or above 10000 bps).
    InvalidVerdictLeaf = 44 => "the verdict leaf is inconsistent",
    /// A posted chunk does not hash to the verdict's root.
    InvalidChunkProof = 45 => "the chunk of leaves does not match the verdict's leaves root",
    /// That chunk was already posted.
    ChunkAlreadyPosted = 46 => "this chunk of leaves was already posted",
    /// The verdict's leaves are not all posted yet.
    VerdictIncomplete = 47 => "the verdict's leaves are not all posted yet",
    /// The posted leaves do not add up to the verdict's header.
    VerdictMismatch = 48 => "the posted leaves do not add up to the verdict's header",
    /// The round has not been finalized.
    RoundNotFinalized = 49 => "the round has not been finalized",
    /// Settlement waits for the appeal window (or the appeal) to end.
    ClaimsNotOpen = 50 => "settlement opens when the appeal window closes or the appeal is resolved",
    /// The appeal window is over, or not open yet.
    AppealClosed = 51 => "the verdict cannot be appealed now: the window is closed or its leaves are not posted",
    /// The round was already appealed.
    AlreadyAppealed = 52 => "the round was already appealed; one level of appeal is final",
    /// The appeal's committee is still at work.
    AppealNotResolved = 53 => "the appeal is not resolved yet",
    /// The round has no appeal.
    NoAppeal = 54 => "the round has no appeal",
    /// Paying this leaf would push the weights paid over 10000 bps.
    WeightBudgetExceeded = 55 => "the verdict weights paid would exceed 10000 bps",
    /// Paying this would exceed what the round holds for it.
    PayoutExceedsPool = 56 => "the payout would exceed the round's pool",
    /// No timeout has been reached.
    NoTimeout = 57 => "no timeout has been reached: the round is still live",
    /// Nodes, seats, the appeal or contributions are still to be settled.
    RoundNotSettled = 58 => "the round still has unsettled nodes, seats, appeal or contributions",
    /// The vault passed is not the round's vault.
    VaultMismatch = 59 => "the vault is not this round's escrow",
    /// The treasury passed is not the protocol treasury.
    TreasuryMismatch = 60 => "the treasury is not the protocol treasury",
    /// The registry passed is not the protocol registry.
    RegistryMismatch = 61 => "the registry is not the protocol's validator registry",
    /// The CID marker passed is not the one for this node's CID.
    CidMarkerMismatch = 62 => "the CID marker does not belong to this node's CID",
    /// Amounts must be positive.
    ZeroAmount = 63 => "the amount must be greater than zero",
    /// The wallet passed is not the one this payout belongs to.
    RecipientMismatch = 64 => "the recipient is not the account this payout belongs to",
    /// No node revealed, so there is nothing to vote on.
    NothingToValidate = 65 => "no node revealed an update, so there is nothing to validate",
    /// The bond is too small, or locked by open seats.
    BondTooSmall = 66 => "the bond is below the protocol's minimum, or the amount is locked by open seats",
    /// The unbonding delay has not passed.
    StillUnbonding = 67 => "nothing to withdraw yet: the unbonding delay has not passed",
    /// No parameter change is waiting.
    NoPendingConfig = 68 => "no configuration change is waiting",
    /// The change is still in its timelock.
    TimelockActive = 69 => "the configuration change is still in its timelock",
    /// The change moves a parameter more than one step.
    ConfigStepTooLarge = 70 => "the configuration change moves a parameter by more than one bounded step",
    /// This seat or record was already settled, or cannot be settled this way.
    NotSettleable = 71 => "this account cannot be settled now",
    /// A token round, swap or conversion before $dPIN was launched.
    TokenNotLaunched = 72 => "the $dPIN token is not live yet",
    /// A second `LaunchToken`.
    TokenAlreadyLaunched = 73 => "the $dPIN token was already launched",
    /// The mint offered at launch could still be inflated or could freeze escrows.
    InvalidMint = 74 => "the mint must be an initialized SPL Token mint with no mint authority and no freeze authority",
    /// A token account or mint of another token than the protocol's $dPIN.
    WrongMint = 75 => "a token account or mint is not the protocol's $dPIN",
    /// A token account that does not belong to the wallet it pays or is paid for.
    TokenAccountOwnerMismatch = 76 => "a token account is owned by someone other than the wallet it stands for",
    /// The token program account is something else (arbitrary CPI).
    InvalidTokenProgram = 77 => "the token program account is not the SPL Token program",
    /// An instruction that does not apply to the round's currency.
    CurrencyMismatch = 78 => "this does not apply to the round's currency",
    /// Joining or funding a round whose SOL pool is still being swapped.
    ConversionPending = 79 => "the round's SOL pool is still being converted to $dPIN",
    /// Converting a round that is not an open, unjoined pre-launch SOL round, or by someone else.
    NotConvertible = 80 => "only the funder of an open SOL round opened before the launch, that nobody has joined, can convert it to $dPIN",
    /// A sysvar account is something else.
    InvalidSysvar = 81 => "the sysvar account is not the expected sysvar",
    /// A `BeginSwap` with no `EndSwap` after it in the transaction.
    MissingEndSwap = 82 => "begin_swap must be followed by this program's end_swap in the same transaction",
    /// A second `BeginSwap` before the first one's `EndSwap`.
    SwapInProgress = 83 => "a swap batch is already open in this transaction",
    /// An `EndSwap` with no open batch.
    NoSwapInProgress = 84 => "end_swap without a begin_swap before it",
    /// The route paid less than the bound.
    SlippageExceeded = 85 => "the swap returned less $dPIN than the batch's current auction price requires",
    /// A batch over the window's cap.
    SwapWindowCapExceeded = 86 => "the batch would exceed the treasury's swap cap for the current window",
    /// A batch larger than the SOL there is to swap.
    SwapExceedsAvailable = 87 => "the batch is larger than the SOL available to swap",
    /// `BeginSwap`/`EndSwap` invoked through another program, or this program called inside a route.
    InvalidSwapRoute = 88 => "begin_swap and end_swap must be top-level instructions, with only other programs between them",
    /// The reported validator took its seat.
    NotAbsent = 89 => "the validator took its seat, so it is not absent",
    /// The config passed is not the protocol config.
    ConfigMismatch = 90 => "the config is not the protocol config",
    /// A round opened while no validator is bonded could never be judged.
    NoValidators = 91 => "no validator is bonded, so no committee could be drawn for this round",
    /// The verdict's leaves came too late.
    PostingClosed = 92 => "the time to post this verdict's leaves is over",
    /// A bond changed less than an unbonding delay ago.
    BondChangeTooSoon = 93 => "a bond changes at most once per unbonding delay after its first change: wait until its last change is that old",
    /// Absences are reported until the committee's leaves are due.
    ReportClosed = 94 => "the time to report this committee's absences is over",
}

impl DropPinError {
    /// The numeric code carried by `ProgramError::Custom`.
    pub const fn code(self) -> u32 {
        self as u32
    }

    /// The error behind a custom program error code, if it is one of ours.
    pub fn from_code(code: u32) -> Option<DropPinError> {
        Self::ALL.iter().copied().find(|e| e.code() == code)
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
        for (i, e) in DropPinError::ALL.iter().enumerate() {
            assert_eq!(e.code() as usize, i);
            assert_eq!(DropPinError::from_code(e.code()), Some(*e));
        }
        assert_eq!(DropPinError::from_code(9_999), None);
    }
}
