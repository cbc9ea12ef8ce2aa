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
    /// The committee is empty, too large or has a repeated key.
    InvalidCommittee = 17 => "the validator committee is empty, too large or repeats a key",
    /// The quorum is not above one half or is above 100%.
    InvalidQuorum = 18 => "the quorum must be above 5000 bps and at most 10000 bps",
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
    /// The signer is not on the round's committee.
    NotCommitteeMember = 29 => "the signer is not on the round's validator committee",
    /// Verdicts open at the reveal deadline.
    VotingNotOpen = 30 => "verdicts can be submitted only after the reveal deadline",
    /// Verdicts close at the validation deadline.
    VotingClosed = 31 => "the validation phase is over",
    /// The validator already submitted a verdict.
    AlreadyVoted = 32 => "the validator already submitted a verdict",
    /// Accepted plus slashed does not equal the number of revealed nodes.
    VerdictCountMismatch = 33 => "accepted plus slashed nodes must equal the number of revealed nodes",
    /// No verdict has reached the quorum.
    QuorumNotReached = 34 => "no verdict has reached the committee quorum",
    /// The Merkle proof does not lead to the finalized verdict root.
    InvalidMerkleProof = 35 => "the Merkle proof does not match the finalized verdict root",
    /// The leaf is inconsistent (slashed with a weight, or a weight above 10000 bps).
    InvalidVerdictLeaf = 36 => "the verdict leaf is inconsistent",
    /// The node did not reveal, so it has no verdict to claim: use refund.
    NotRevealed = 37 => "the node has no revealed update, so it has no verdict to claim",
    /// The round has not been finalized.
    RoundNotFinalized = 38 => "the round has not been finalized",
    /// The node revealed in a finalized round: it must claim with a proof.
    NotRefundable = 39 => "this node has a verdict to claim; refunds are for failed rounds and no-shows",
    /// Paying this leaf would push the weights paid over 10000 bps.
    WeightBudgetExceeded = 40 => "the verdict weights paid would exceed 10000 bps",
    /// Paying this would exceed what the round holds for it.
    PayoutExceedsPool = 41 => "the payout would exceed the round's pool",
    /// Validators settle after the validation deadline (or once all committee members voted).
    ValidatorSettleTooEarly = 42 => "validators settle after the validation deadline",
    /// No timeout has been reached.
    NoTimeout = 43 => "no timeout has been reached: the round is still live",
    /// Nodes or validators are still to be settled.
    RoundNotSettled = 44 => "the round still has unsettled nodes or validators",
    /// The vault passed is not the round's vault.
    VaultMismatch = 45 => "the vault is not this round's escrow",
    /// The treasury passed is not the protocol treasury.
    TreasuryMismatch = 46 => "the treasury is not the protocol treasury",
    /// A Merkle proof is longer than 32 levels.
    ProofTooLong = 47 => "the Merkle proof is longer than 32 levels",
    /// The CID marker passed is not the one for this node's CID.
    CidMarkerMismatch = 48 => "the CID marker does not belong to this node's CID",
    /// Amounts must be positive.
    ZeroAmount = 49 => "the amount must be greater than zero",
    /// The wallet passed is not the one this payout belongs to.
    RecipientMismatch = 50 => "the recipient is not the account this payout belongs to",
    /// No node revealed, so there is nothing to vote on.
    NothingToValidate = 51 => "no node revealed an update, so there is nothing to validate",
    /// A token round, swap or conversion before $dPIN was launched.
    TokenNotLaunched = 52 => "the $dPIN token is not live yet",
    /// A second `LaunchToken`.
    TokenAlreadyLaunched = 53 => "the $dPIN token was already launched",
    /// The mint offered at launch could still be inflated or could freeze escrows.
    InvalidMint = 54 => "the mint must be an initialized SPL Token mint with no mint authority and no freeze authority",
    /// A token account or mint of another token than the protocol's $dPIN.
    WrongMint = 55 => "a token account or mint is not the protocol's $dPIN",
    /// A token account that does not belong to the wallet it pays or is paid for.
    TokenAccountOwnerMismatch = 56 => "a token account is owned by someone other than the wallet it stands for",
    /// The token program account is something else (arbitrary CPI).
    InvalidTokenProgram = 57 => "the token program account is not the SPL Token program",
    /// An instruction that does not apply to the round's currency.
    CurrencyMismatch = 58 => "this does not apply to the round's currency",
    /// Joining or funding a round whose SOL pool is still being swapped.
    ConversionPending = 59 => "the round's SOL pool is still being converted to $dPIN",
    /// Converting a round that is not an open, unjoined SOL round.
    NotConvertible = 60 => "only an open SOL round that nobody has joined can be converted to $dPIN",
    /// The instructions sysvar account is something else.
    InvalidSysvar = 61 => "the sysvar account is not the instructions sysvar",
    /// A `BeginSwap` with no `EndSwap` after it in the transaction.
    MissingEndSwap = 62 => "begin_swap must be followed by this program's end_swap in the same transaction",
    /// A second `BeginSwap` before the first one's `EndSwap`.
    SwapInProgress = 63 => "a swap batch is already open in this transaction",
    /// An `EndSwap` with no open batch.
    NoSwapInProgress = 64 => "end_swap without a begin_swap before it",
    /// The route paid less than the bound.
    SlippageExceeded = 65 => "the swap returned less $dPIN than the reference price and the slippage bound require",
    /// A batch over the window's cap.
    SwapWindowCapExceeded = 66 => "the batch would exceed the treasury's swap cap for the current window",
    /// A batch larger than the SOL there is to swap.
    SwapExceedsAvailable = 67 => "the batch is larger than the SOL available to swap",
    /// `BeginSwap`/`EndSwap` invoked through another program, or this program called inside a route.
    InvalidSwapRoute = 68 => "begin_swap and end_swap must be top-level instructions, with only other programs between them",
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
