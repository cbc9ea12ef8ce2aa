//! The program's instructions and their arguments (borsh-encoded, first byte = variant).
//!
//! Each variant lists its accounts, in order, in its `codama(account(...))` attributes, the
//! source of the program's IDL (`idl/droppin.json`). [`crate::builders`] builds each
//! instruction with its accounts.
//!
//! In a $dPIN round every instruction that moves round value appends the same four accounts
//! after its own (its optional accounts, see [`crate::builders::in_dpin`]): the SPL Token
//! program, `[w]` the $dPIN mint, `[w]` the round's token vault and `[w]` the token account of
//! the wallet that pays or is paid (funder, contributor, node or validator). Fees, slashes and
//! forfeits that a SOL round sends to the treasury are burned instead. Appeal bonds are SOL in
//! every round; a validator's bond stays in the currency it was registered in.

use alloc::vec::Vec;

use borsh::{BorshDeserialize, BorshSerialize};
use codama_macros::{CodamaInstructions, CodamaType};

use crate::{Cid, Pubkey, state::ProtocolParams, verdict::Leaf};

/// Default cap on a round's nodes.
pub const DEFAULT_MAX_NODES: u32 = 8;
/// Default node stake: 0.02 SOL.
pub const DEFAULT_NODE_STAKE: u64 = 20_000_000;
/// Default expected committee size.
pub const DEFAULT_COMMITTEE_SIZE: u8 = 7;

/// Everything a funder pins when opening a round. The funder does not name the committee: it
/// picks only how many seats to expect, and the draw does the rest.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, CodamaType)]
pub struct OpenRoundArgs {
    /// CID of the task manifest in storage (its digest is the task hash).
    pub task_cid: Cid,
    /// Hash of the global model to start from.
    pub model_hash: [u8; 32],
    /// Its CID (CIDv1 raw, sha2-256; its digest must equal `model_hash`).
    pub model_cid: Cid,
    /// Hash of the validation set.
    pub validation_set_hash: [u8; 32],
    /// Most nodes admitted (1..=the protocol's maximum).
    pub max_nodes: u32,
    /// Stake per node, in the round's currency (at least the protocol's minimum).
    pub node_stake: u64,
    /// What the funder pays now: the protocol fee goes to the treasury, the rest is the pool.
    pub amount: u64,
    /// End of training, node reveals and validation (seats and sealed votes), in slots; the
    /// vote reveals follow for the protocol's vote-reveal length.
    pub commit: u64,
    /// See `commit`.
    pub reveal: u64,
    /// See `commit`.
    pub validation: u64,
    /// Expected committee size (within the protocol's bounds).
    pub committee_size: u8,
    /// What stakes, pool and rewards are paid in; amounts above are in that currency's base unit.
    pub currency: crate::state::Currency,
}

/// Slots an `OpenRound` may wait before it lands. The training phase is padded by this much, so
/// a round asked for with the protocol's shortest phase still passes the program's phase check
/// when the cluster moves on a few slots while the transaction travels.
pub const LANDING_MARGIN_SLOTS: u64 = 32;

/// How long a round's phases last, in slots, as a funder orders them: the training, then the
/// nodes' reveals and the committee's validation, each `review` long. They are apart because
/// they grow with different things: training with the task and the nodes' data, the reveals
/// and validation with the number of updates a committee fetches and judges.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhaseLengths {
    /// Slots to train and commit.
    pub training: u64,
    /// Slots for the reveals, and as many for validation.
    pub review: u64,
}

impl PhaseLengths {
    /// Three phases of `slots` each.
    pub fn uniform(slots: u64) -> PhaseLengths {
        PhaseLengths {
            training: slots,
            review: slots,
        }
    }

    /// The longest training `params` allow: the landing margin counts against the longest phase.
    pub fn longest_training(params: &crate::state::ProtocolParams) -> u64 {
        params.max_phase_slots.saturating_sub(LANDING_MARGIN_SLOTS)
    }

    /// The training lengths `params` allow (the review's are [`ProtocolParams::phase_range`]).
    ///
    /// [`ProtocolParams::phase_range`]: crate::state::ProtocolParams::phase_range
    pub fn training_range(params: &crate::state::ProtocolParams) -> core::ops::RangeInclusive<u64> {
        params.min_phase_slots..=Self::longest_training(params)
    }

    /// Whether the program will take these lengths under `params`: `(training, review)`.
    pub fn allowed(&self, params: &crate::state::ProtocolParams) -> (bool, bool) {
        (
            Self::training_range(params).contains(&self.training),
            params.allows_phase(self.review),
        )
    }

    /// `(commit, reveal, validation)` deadlines for [`OpenRoundArgs`] of a round asked for at
    /// `slot`, training padded by [`LANDING_MARGIN_SLOTS`].
    pub fn deadlines(&self, slot: u64) -> (u64, u64, u64) {
        let commit = slot + LANDING_MARGIN_SLOTS + self.training;
        (commit, commit + self.review, commit + 2 * self.review)
    }
}

/// A committee member's verdict on a round: the header of its leaves.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, CodamaType,
)]
pub struct VerdictVote {
    /// Root of the chunk tree over the leaves (see [`crate::verdict`]).
    pub leaves_root: [u8; 32],
    /// Hash of the new global model.
    pub new_model_hash: [u8; 32],
    /// CID of the new global model (its digest must equal `new_model_hash`).
    pub new_model_cid: Cid,
    /// CID of the verdict list in storage: the reasons behind the leaves (informational).
    pub verdict_list_cid: Cid,
    /// Accepted leaves.
    pub accepted: u32,
    /// Excluded leaves.
    pub excluded: u32,
    /// Slashed leaves.
    pub slashed: u32,
    /// No-show leaves (must equal the nodes that joined and never revealed).
    pub no_shows: u32,
    /// Sum of the accepted leaves' weights, in bps (at most 10,000).
    pub weight_sum_bps: u32,
}

impl VerdictVote {
    /// Encoded size.
    pub const LEN: usize = 32 + 32 + 36 + 36 + 4 * 5;

    /// The digest votes are tallied by: sha256 of the borsh encoding.
    pub fn digest<H: crate::hash::Hasher>(&self) -> [u8; 32] {
        let mut bytes = [0u8; Self::LEN];
        self.serialize(&mut &mut bytes[..])
            .expect("a vote fits its fixed size");
        H::hashv(&[&bytes])
    }
}

/// A node's reveal of its committed update.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, CodamaType)]
pub struct RevealArgs {
    /// CID of the update.
    pub cid: Cid,
    /// The salt used in the commitment.
    pub salt: [u8; 32],
    /// Training samples behind the update.
    pub sample_count: u64,
}

/// A seat's reveal of its sealed vote.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, CodamaType)]
pub struct RevealVoteArgs {
    /// Committee level.
    pub level: u8,
    /// The vote.
    pub vote: VerdictVote,
    /// The salt of its commitment.
    pub salt: [u8; 32],
}

/// A seat's report of the revealed updates it fetched.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, CodamaType)]
pub struct ReportAvailabilityArgs {
    /// Committee level.
    pub level: u8,
    /// The bitmap of fetched nodes by join index ([`crate::availability::Availability`]), at
    /// most one bit per joined node.
    pub fetched: Vec<u8>,
}

/// A chunk of a verdict's leaves with its proof.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, CodamaType)]
pub struct PostLeavesArgs {
    /// The committee whose verdict is in force (0, or 1 after an overturning appeal).
    pub level: u8,
    /// The chunk's position.
    pub chunk: u16,
    /// Its leaves, in join order.
    pub leaves: Vec<Leaf>,
    /// Sibling hashes from the chunk to the verdict's leaves root.
    pub proof: Vec<[u8; 32]>,
}

impl DropPinInstruction {
    /// Number of variants: a first byte at or above it is not an instruction.
    pub const VARIANTS: u8 = 32;

    /// Variant names by tag (the instruction data's first byte), for logs and reports.
    pub const NAMES: [&'static str; Self::VARIANTS as usize] = [
        "InitializeConfig",
        "UpdateConfig",
        "ApplyConfig",
        "OpenRound",
        "FundRound",
        "JoinRound",
        "CommitUpdate",
        "RevealUpdate",
        "RegisterValidator",
        "TopUpBond",
        "Unbond",
        "WithdrawBond",
        "DrawCommittee",
        "ClaimSeat",
        "CommitVote",
        "RevealVote",
        "ReportAbsent",
        "FinalizeRound",
        "PostVerdictLeaves",
        "Appeal",
        "ResolveAppeal",
        "SettleNode",
        "SettleSeat",
        "SettleAppeal",
        "RefundContribution",
        "CrankTimeout",
        "CloseRound",
        "LaunchToken",
        "ConvertRound",
        "BeginSwap",
        "EndSwap",
        "ReportAvailability",
    ];

    /// The name of the instruction whose data is `data`, if it is one.
    pub fn name_of(data: &[u8]) -> Option<&'static str> {
        data.first()
            .and_then(|&tag| Self::NAMES.get(usize::from(tag)))
            .copied()
    }

    /// Decodes instruction data, rejecting unknown variants before borsh sees them (its error
    /// for an unknown tag formats a message, which an SBPF v0 program cannot afford).
    pub fn decode(data: &[u8]) -> Result<DropPinInstruction, crate::DropPinError> {
        match data.first() {
            Some(tag) if *tag < Self::VARIANTS => {
                Self::try_from_slice(data).map_err(|_| crate::DropPinError::InvalidInstructionData)
            }
            _ => Err(crate::DropPinError::InvalidInstructionData),
        }
    }
}

/// Every dropPIN instruction.
///
/// Each variant's accounts, in order, are its `codama(account(...))` attributes: a name, the
/// signer and writable flags, what it is, and where a client can derive it. They are the source
/// of the program's IDL (`idl/droppin.json`). Optional accounts are trailing and appended only
/// when they apply: the $dPIN round's token leg (see [`crate::builders::in_dpin`]), a $dPIN
/// bond's token leg (see [`crate::builders::bond_in_dpin`]) or a swap's conversion round.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, CodamaInstructions)]
#[codama(enum_discriminator(size = number(u8)))]
#[codama(optional_account_strategy = omitted)]
pub enum DropPinInstruction {
    /// Creates the protocol config, the treasury and the validator registry. Only the program's
    /// upgrade authority may: a program cannot be called in the slot it is deployed, so without
    /// this check anyone could front-run the deployer and become the admin.
    #[codama(account(
        name = "upgrade_authority",
        signer,
        writable,
        docs = "The program's upgrade authority: becomes the admin and pays the rent"
    ))]
    #[codama(account(name = "config", writable, default_value = pda("protocolConfig")))]
    #[codama(account(name = "treasury", writable, default_value = pda("treasury")))]
    #[codama(account(name = "registry", writable, default_value = pda("registry")))]
    #[codama(account(
        name = "program_data",
        docs = "The program's ProgramData account (PDA [program id] of the upgradeable loader)"
    ))]
    #[codama(account(name = "system_program", default_value = program("system")))]
    InitializeConfig(#[codama(name = "params")] ProtocolParams),

    /// Proposes new parameters (one bounded step from the current ones) and optionally a new
    /// admin; they take effect after the timelock, by `ApplyConfig`. A new proposal replaces a
    /// waiting one and restarts its timelock.
    #[codama(account(name = "admin", signer))]
    #[codama(account(name = "config", writable, default_value = pda("protocolConfig")))]
    UpdateConfig {
        /// New parameters.
        params: ProtocolParams,
        /// New admin, if it changes.
        new_admin: Option<Pubkey>,
    },

    /// Applies a proposed change once its timelock has passed (anyone may).
    #[codama(account(name = "config", writable, default_value = pda("protocolConfig")))]
    ApplyConfig,

    /// Opens and funds a round.
    #[codama(account(name = "funder", signer, writable))]
    #[codama(account(name = "config", writable, default_value = pda("protocolConfig")))]
    #[codama(account(
        name = "round",
        writable,
        docs = "The round PDA, its id the config's counter"
    ))]
    #[codama(account(name = "vault", writable, default_value = pda("vault", [seed("round", account("round"))])))]
    #[codama(account(name = "treasury", writable, default_value = pda("treasury")))]
    #[codama(account(name = "registry", default_value = pda("registry")))]
    #[codama(account(name = "system_program", default_value = program("system")))]
    #[codama(account(
        name = "token_program",
        optional,
        docs = "$dPIN round: the SPL Token program"
    ))]
    #[codama(account(
        name = "dpin_mint",
        optional,
        writable,
        docs = "$dPIN round: the $dPIN mint"
    ))]
    #[codama(account(
        name = "token_vault",
        optional,
        writable,
        docs = "$dPIN round: its token vault, created here"
    ))]
    #[codama(account(
        name = "wallet_token",
        optional,
        writable,
        docs = "$dPIN round: the funder's $dPIN account, paying"
    ))]
    OpenRound(#[codama(name = "args")] OpenRoundArgs),

    /// Tops up a round's pool before training closes (anyone may; a third party's top-up is
    /// recorded so its unearned part returns to it, not to the funder).
    #[codama(account(name = "payer", signer, writable))]
    #[codama(account(name = "round", writable))]
    #[codama(account(name = "vault", writable, default_value = pda("vault", [seed("round", account("round"))])))]
    #[codama(account(name = "treasury", writable, default_value = pda("treasury")))]
    #[codama(account(
        name = "contribution",
        writable,
        docs = "The payer's contribution PDA (any account when the payer is the funder)",
        default_value = pda("contribution", [seed("round", account("round")), seed("payer", account("payer"))])
    ))]
    #[codama(account(name = "system_program", default_value = program("system")))]
    #[codama(account(
        name = "token_program",
        optional,
        docs = "$dPIN round: the SPL Token program"
    ))]
    #[codama(account(
        name = "dpin_mint",
        optional,
        writable,
        docs = "$dPIN round: the $dPIN mint"
    ))]
    #[codama(account(
        name = "token_vault",
        optional,
        writable,
        docs = "$dPIN round: its token vault"
    ))]
    #[codama(account(
        name = "wallet_token",
        optional,
        writable,
        docs = "$dPIN round: the payer's $dPIN account, paying"
    ))]
    FundRound {
        /// Amount paid, fee included.
        amount: u64,
    },

    /// Stakes a node into a round; creates its reputation account on first use.
    #[codama(account(name = "node", signer, writable))]
    #[codama(account(name = "round", writable))]
    #[codama(account(name = "vault", writable, default_value = pda("vault", [seed("round", account("round"))])))]
    #[codama(account(
        name = "node_state",
        writable,
        docs = "The node's state: a seed address of the round (see the IDL's docs)"
    ))]
    #[codama(account(name = "reputation", writable, default_value = pda("reputation", [seed("node", account("node"))])))]
    #[codama(account(name = "system_program", default_value = program("system")))]
    #[codama(account(
        name = "token_program",
        optional,
        docs = "$dPIN round: the SPL Token program"
    ))]
    #[codama(account(
        name = "dpin_mint",
        optional,
        writable,
        docs = "$dPIN round: the $dPIN mint"
    ))]
    #[codama(account(
        name = "token_vault",
        optional,
        writable,
        docs = "$dPIN round: its token vault"
    ))]
    #[codama(account(
        name = "wallet_token",
        optional,
        writable,
        docs = "$dPIN round: the node's $dPIN account, paying the stake"
    ))]
    JoinRound,

    /// Records `sha256(node || cid || salt)` before the commit deadline (may be replaced until then).
    #[codama(account(name = "node", signer))]
    #[codama(account(name = "node_state", writable))]
    CommitUpdate {
        /// The commitment.
        commitment: [u8; 32],
    },

    /// Reveals the committed update after the commit deadline; folds the salt into the
    /// committee's beacon, and records the round's seed anchor if it is the first to see it.
    #[codama(account(name = "node", signer, writable))]
    #[codama(account(name = "round", writable))]
    #[codama(account(name = "node_state", writable))]
    #[codama(account(
        name = "cid_marker",
        writable,
        docs = "The CID's marker: a seed address of the round, created here"
    ))]
    #[codama(account(name = "system_program", default_value = program("system")))]
    #[codama(account(name = "slot_hashes", default_value = sysvar("slot_hashes")))]
    RevealUpdate(#[codama(name = "args")] RevealArgs),

    /// Registers a validator with a first bond, in SOL or (once launched) $dPIN.
    #[codama(account(name = "validator", signer, writable))]
    #[codama(account(name = "bond", writable, default_value = pda("validatorBond", [seed("validator", account("validator"))])))]
    #[codama(account(name = "registry", writable, default_value = pda("registry")))]
    #[codama(account(name = "config", default_value = pda("protocolConfig")))]
    #[codama(account(name = "system_program", default_value = program("system")))]
    #[codama(account(
        name = "token_program",
        optional,
        docs = "$dPIN bond: the SPL Token program"
    ))]
    #[codama(account(
        name = "dpin_mint",
        optional,
        writable,
        docs = "$dPIN bond: the $dPIN mint"
    ))]
    #[codama(account(
        name = "bond_token",
        optional,
        writable,
        docs = "$dPIN bond: the bond's token account, created here"
    ))]
    #[codama(account(
        name = "wallet_token",
        optional,
        writable,
        docs = "$dPIN bond: the validator's $dPIN account, paying"
    ))]
    RegisterValidator {
        /// Bonded, in `currency`'s base units.
        amount: u64,
        /// What the bond is held in, for good.
        currency: crate::state::Currency,
    },

    /// Adds to a validator's bond (effective for rounds opened after it).
    #[codama(account(name = "validator", signer, writable))]
    #[codama(account(name = "bond", writable, default_value = pda("validatorBond", [seed("validator", account("validator"))])))]
    #[codama(account(name = "registry", writable, default_value = pda("registry")))]
    #[codama(account(name = "config", default_value = pda("protocolConfig")))]
    #[codama(account(name = "system_program", default_value = program("system")))]
    #[codama(account(
        name = "token_program",
        optional,
        docs = "$dPIN bond: the SPL Token program"
    ))]
    #[codama(account(
        name = "dpin_mint",
        optional,
        writable,
        docs = "$dPIN bond: the $dPIN mint"
    ))]
    #[codama(account(
        name = "bond_token",
        optional,
        writable,
        docs = "$dPIN bond: the bond's token account"
    ))]
    #[codama(account(
        name = "wallet_token",
        optional,
        writable,
        docs = "$dPIN bond: the validator's $dPIN account, paying"
    ))]
    TopUpBond {
        /// Added, in the bond's currency.
        amount: u64,
    },

    /// Starts withdrawing part of the free bond: it stops counting at once and can be withdrawn
    /// after the unbonding delay.
    #[codama(account(name = "validator", signer))]
    #[codama(account(name = "bond", writable, default_value = pda("validatorBond", [seed("validator", account("validator"))])))]
    #[codama(account(name = "registry", writable, default_value = pda("registry")))]
    #[codama(account(name = "config", default_value = pda("protocolConfig")))]
    Unbond {
        /// Amount to unbond, in the bond's currency.
        amount: u64,
    },

    /// Withdraws the unbonded amount after the delay; closes the bond (and a $dPIN bond's token
    /// account) when nothing is left.
    #[codama(account(name = "validator", signer, writable))]
    #[codama(account(name = "bond", writable, default_value = pda("validatorBond", [seed("validator", account("validator"))])))]
    #[codama(account(name = "registry", writable, default_value = pda("registry")))]
    #[codama(account(name = "config", default_value = pda("protocolConfig")))]
    #[codama(account(
        name = "token_program",
        optional,
        docs = "$dPIN bond: the SPL Token program"
    ))]
    #[codama(account(
        name = "dpin_mint",
        optional,
        writable,
        docs = "$dPIN bond: the $dPIN mint"
    ))]
    #[codama(account(
        name = "bond_token",
        optional,
        writable,
        docs = "$dPIN bond: the bond's token account"
    ))]
    #[codama(account(
        name = "wallet_token",
        optional,
        writable,
        docs = "$dPIN bond: the validator's $dPIN account, paid"
    ))]
    WithdrawBond,

    /// Fixes a committee's seed (anyone may): level 0 after the reveal deadline, level 1 after
    /// an appeal. Also sizes each seat's lock. During the reveals it records the round's seed
    /// anchor from the SlotHashes sysvar if no reveal has yet, and draws nothing.
    #[codama(account(name = "round", writable))]
    #[codama(account(name = "slot_hashes", default_value = sysvar("slot_hashes")))]
    DrawCommittee {
        /// 0: the first committee; 1: the appeal's.
        level: u8,
    },

    /// Takes a seat the validator proves it drew, locking part of its bond; or, when its locks
    /// in other seats leave too little of the bond it held at the opening, records its excuse.
    #[codama(account(name = "validator", signer, writable))]
    #[codama(account(name = "round", writable))]
    #[codama(account(
        name = "seat",
        writable,
        docs = "The validator's seat: a seed address of the round, created here"
    ))]
    #[codama(account(name = "bond", writable, default_value = pda("validatorBond", [seed("validator", account("validator"))])))]
    #[codama(account(
        name = "node_state",
        docs = "The validator's node state in this round (must not exist)"
    ))]
    #[codama(account(
        name = "first_seat",
        docs = "For level 1: the validator's level-0 seat (must not exist)"
    ))]
    #[codama(account(name = "system_program", default_value = program("system")))]
    ClaimSeat {
        /// Committee level.
        level: u8,
    },

    /// Records a sealed vote before the committee's vote deadline (may be replaced until then).
    #[codama(account(name = "validator", signer))]
    #[codama(account(name = "seat", writable))]
    CommitVote {
        /// Committee level.
        level: u8,
        /// `vote_commitment(round, validator, level, digest, salt)`.
        commitment: [u8; 32],
    },

    /// Reveals a sealed vote during the vote-reveal phase and tallies it.
    #[codama(account(name = "validator", signer))]
    #[codama(account(name = "round", writable))]
    #[codama(account(name = "seat", writable))]
    RevealVote(#[codama(name = "args")] RevealVoteArgs),

    /// Proves a validator was drawn and never took its seat, and takes its absence penalty
    /// from its free bond (anyone may; the reporter gets a bounty).
    #[codama(account(name = "reporter", signer, writable))]
    #[codama(account(name = "round", writable))]
    #[codama(account(
        name = "seat",
        writable,
        docs = "The absent validator's seat address, created here as its absence record"
    ))]
    #[codama(account(name = "bond", writable, docs = "The absent validator's bond"))]
    #[codama(account(name = "registry", writable, default_value = pda("registry")))]
    #[codama(account(name = "treasury", writable, default_value = pda("treasury")))]
    #[codama(account(
        name = "node_state",
        docs = "The absent validator's node state in this round"
    ))]
    #[codama(account(name = "first_seat", docs = "For level 1: its level-0 seat"))]
    #[codama(account(name = "system_program", default_value = program("system")))]
    #[codama(account(
        name = "token_program",
        optional,
        docs = "$dPIN bond: the SPL Token program"
    ))]
    #[codama(account(
        name = "dpin_mint",
        optional,
        writable,
        docs = "$dPIN bond: the $dPIN mint"
    ))]
    #[codama(account(
        name = "bond_token",
        optional,
        writable,
        docs = "$dPIN bond: the bond's token account"
    ))]
    #[codama(account(
        name = "wallet_token",
        optional,
        writable,
        docs = "$dPIN bond: the reporter's $dPIN account, paid its bounty"
    ))]
    ReportAbsent {
        /// Committee level.
        level: u8,
    },

    /// Pins the first committee's verdict once its reveals are over and it has the quorum
    /// (anyone may).
    #[codama(account(name = "round", writable))]
    #[codama(account(name = "seat", docs = "A level-0 seat that revealed that verdict"))]
    FinalizeRound,

    /// Posts a chunk of the verdict's leaves, checked against its root (anyone may). The first
    /// post creates the leaves account.
    #[codama(account(name = "payer", signer, writable))]
    #[codama(account(name = "round", writable))]
    #[codama(account(
        name = "verdict_leaves",
        writable,
        docs = "The verdict leaves PDA of the round and level"
    ))]
    #[codama(account(name = "system_program", default_value = program("system")))]
    PostVerdictLeaves(#[codama(name = "args")] PostLeavesArgs),

    /// Appeals the finalized verdict within the window, bonding one seat's lock (anyone may,
    /// once per round).
    #[codama(account(name = "appellant", signer, writable))]
    #[codama(account(name = "round", writable))]
    #[codama(account(name = "vault", writable, default_value = pda("vault", [seed("round", account("round"))])))]
    #[codama(account(name = "system_program", default_value = program("system")))]
    Appeal,

    /// Ends an appeal after its committee's reveals: confirmed, overturned (citing a level-1
    /// seat that revealed the new verdict) or unresolved (anyone may).
    #[codama(account(name = "round", writable))]
    #[codama(account(
        name = "seat",
        docs = "A level-1 seat for an overturn; any account otherwise"
    ))]
    ResolveAppeal,

    /// Settles a node by its leaf, or refunds it in a failed round (anyone may; the node is
    /// paid, a third-party settler gets a bounty from the returned rent).
    #[codama(account(name = "settler", signer, writable))]
    #[codama(account(name = "node", writable, docs = "The node's wallet"))]
    #[codama(account(name = "round", writable))]
    #[codama(account(name = "vault", writable, default_value = pda("vault", [seed("round", account("round"))])))]
    #[codama(account(name = "node_state", writable))]
    #[codama(account(name = "reputation", writable, default_value = pda("reputation", [seed("node", account("node"))])))]
    #[codama(account(
        name = "cid_marker",
        writable,
        docs = "The marker of its CID (any account if it never revealed)"
    ))]
    #[codama(account(name = "treasury", writable, default_value = pda("treasury")))]
    #[codama(account(
        name = "verdict_leaves",
        docs = "The verdict leaves in force (any account if none)"
    ))]
    #[codama(account(
        name = "token_program",
        optional,
        docs = "$dPIN round: the SPL Token program"
    ))]
    #[codama(account(
        name = "dpin_mint",
        optional,
        writable,
        docs = "$dPIN round: the $dPIN mint"
    ))]
    #[codama(account(
        name = "token_vault",
        optional,
        writable,
        docs = "$dPIN round: its token vault"
    ))]
    #[codama(account(
        name = "wallet_token",
        optional,
        writable,
        docs = "$dPIN round: the node's $dPIN account, paid"
    ))]
    SettleNode,

    /// Settles a seat or an absence record: unlocks the bond, pays the seat's share, takes its
    /// penalty (anyone may; rent back to whoever paid it, less a bounty for a third party).
    #[codama(account(name = "settler", signer, writable))]
    #[codama(account(name = "validator", writable, docs = "The validator's wallet"))]
    #[codama(account(name = "round", writable))]
    #[codama(account(name = "vault", writable, default_value = pda("vault", [seed("round", account("round"))])))]
    #[codama(account(name = "seat", writable))]
    #[codama(account(name = "bond", writable, default_value = pda("validatorBond", [seed("validator", account("validator"))])))]
    #[codama(account(name = "registry", writable, default_value = pda("registry")))]
    #[codama(account(name = "treasury", writable, default_value = pda("treasury")))]
    #[codama(account(
        name = "seat_rent_payer",
        writable,
        docs = "Whoever paid the seat's rent"
    ))]
    #[codama(account(
        name = "token_program",
        optional,
        docs = "$dPIN round: the SPL Token program"
    ))]
    #[codama(account(
        name = "dpin_mint",
        optional,
        writable,
        docs = "$dPIN round: the $dPIN mint"
    ))]
    #[codama(account(
        name = "token_vault",
        optional,
        writable,
        docs = "$dPIN round: its token vault"
    ))]
    #[codama(account(
        name = "wallet_token",
        optional,
        writable,
        docs = "$dPIN round: the validator's $dPIN account, paid"
    ))]
    #[codama(account(
        name = "bond_token_program",
        optional,
        docs = "$dPIN bond: the SPL Token program"
    ))]
    #[codama(account(
        name = "bond_mint",
        optional,
        writable,
        docs = "$dPIN bond: the $dPIN mint"
    ))]
    #[codama(account(
        name = "bond_token",
        optional,
        writable,
        docs = "$dPIN bond: the bond's token account"
    ))]
    #[codama(account(
        name = "appellant_token",
        optional,
        writable,
        docs = "$dPIN bond: the appellant's $dPIN account, paid its reward when the seat's majority was overturned"
    ))]
    SettleSeat,

    /// Settles the appellant's bond once the appeal is resolved and the first committee settled
    /// (anyone may).
    #[codama(account(name = "appellant", writable))]
    #[codama(account(name = "round", writable))]
    #[codama(account(name = "vault", writable, default_value = pda("vault", [seed("round", account("round"))])))]
    #[codama(account(name = "treasury", writable, default_value = pda("treasury")))]
    SettleAppeal,

    /// Returns a third party's unearned share of its top-up once every node and seat is
    /// settled (anyone may).
    #[codama(account(name = "contributor", writable))]
    #[codama(account(name = "round", writable))]
    #[codama(account(name = "vault", writable, default_value = pda("vault", [seed("round", account("round"))])))]
    #[codama(account(
        name = "contribution",
        writable,
        default_value = pda("contribution", [seed("round", account("round")), seed("payer", account("contributor"))])
    ))]
    #[codama(account(
        name = "token_program",
        optional,
        docs = "$dPIN round: the SPL Token program"
    ))]
    #[codama(account(
        name = "dpin_mint",
        optional,
        writable,
        docs = "$dPIN round: the $dPIN mint"
    ))]
    #[codama(account(
        name = "token_vault",
        optional,
        writable,
        docs = "$dPIN round: its token vault"
    ))]
    #[codama(account(
        name = "wallet_token",
        optional,
        writable,
        docs = "$dPIN round: the contributor's $dPIN account, paid"
    ))]
    RefundContribution,

    /// Fails a round whose deadline passed without what it needed (anyone may).
    #[codama(account(name = "round", writable))]
    CrankTimeout,

    /// Closes a settled round: the funder gets its unearned pool and the rent, the treasury the
    /// dust; the verdict leaves' rent goes back to whoever posted them.
    #[codama(account(name = "funder", writable))]
    #[codama(account(name = "round", writable))]
    #[codama(account(name = "vault", writable, default_value = pda("vault", [seed("round", account("round"))])))]
    #[codama(account(name = "treasury", writable, default_value = pda("treasury")))]
    #[codama(account(
        name = "first_leaves",
        writable,
        docs = "Verdict leaves of level 0 (any account if none)"
    ))]
    #[codama(account(
        name = "appeal_leaves",
        writable,
        docs = "Verdict leaves of level 1 (any account if none)"
    ))]
    #[codama(account(
        name = "first_leaves_payer",
        writable,
        docs = "Who posted the level-0 leaves"
    ))]
    #[codama(account(
        name = "appeal_leaves_payer",
        writable,
        docs = "Who posted the level-1 leaves"
    ))]
    #[codama(account(
        name = "token_program",
        optional,
        docs = "$dPIN round: the SPL Token program"
    ))]
    #[codama(account(
        name = "dpin_mint",
        optional,
        writable,
        docs = "$dPIN round: the $dPIN mint"
    ))]
    #[codama(account(
        name = "token_vault",
        optional,
        writable,
        docs = "$dPIN round: its token vault"
    ))]
    #[codama(account(
        name = "wallet_token",
        optional,
        writable,
        docs = "$dPIN round: the funder's $dPIN account, paid"
    ))]
    CloseRound,

    /// Adopts the $dPIN mint (fixed supply: no mint or freeze authority) and creates the
    /// treasury's $dPIN account (admin only, once).
    #[codama(account(name = "admin", signer, writable))]
    #[codama(account(name = "config", writable, default_value = pda("protocolConfig")))]
    #[codama(account(name = "treasury", default_value = pda("treasury")))]
    #[codama(account(name = "treasury_token", writable, default_value = pda("treasuryToken")))]
    #[codama(account(name = "mint"))]
    #[codama(account(name = "token_program", default_value = program("token")))]
    #[codama(account(name = "system_program", default_value = program("system")))]
    LaunchToken,

    /// Turns a SOL round opened before the launch, that nobody has joined, into a $dPIN round:
    /// creates its token vault (the funder fronts the rent and is repaid from the pool) and
    /// leaves the pool's lamports for treasury swaps to convert. Only its funder may.
    #[codama(account(name = "funder", signer, writable))]
    #[codama(account(name = "round", writable))]
    #[codama(account(name = "vault", writable, default_value = pda("vault", [seed("round", account("round"))])))]
    #[codama(account(name = "token_vault", writable, default_value = pda("tokenVault", [seed("round", account("round"))])))]
    #[codama(account(name = "config", default_value = pda("protocolConfig")))]
    #[codama(account(name = "mint"))]
    #[codama(account(name = "token_program", default_value = program("token")))]
    #[codama(account(name = "system_program", default_value = program("system")))]
    ConvertRound,

    /// Lends a batch of SOL to the caller's route: from the treasury (buy-and-burn), or from a
    /// converting round's vault while it is still open, when the round and its vault are
    /// appended. Needs this program's `EndSwap` later in the same transaction.
    #[codama(account(name = "caller", signer, writable))]
    #[codama(account(name = "config", default_value = pda("protocolConfig")))]
    #[codama(account(name = "treasury", writable, default_value = pda("treasury")))]
    #[codama(account(name = "instructions", default_value = sysvar("instructions")))]
    #[codama(account(
        name = "destination",
        docs = "The treasury's $dPIN account, or the converting round's token vault"
    ))]
    #[codama(account(name = "round", optional, writable, docs = "Conversion: the round"))]
    #[codama(account(name = "vault", optional, writable, docs = "Conversion: its vault"))]
    BeginSwap {
        /// Lamports in the batch.
        lamports: u64,
    },

    /// Closes the batch: the destination must have received at least the batch's minimum
    /// $dPIN. A buy-and-burn batch burns the treasury's $dPIN; a conversion credits the round.
    #[codama(account(name = "config", default_value = pda("protocolConfig")))]
    #[codama(account(name = "treasury", writable, default_value = pda("treasury")))]
    #[codama(account(
        name = "destination",
        writable,
        docs = "The treasury's $dPIN account, or the round's token vault"
    ))]
    #[codama(account(name = "mint", writable))]
    #[codama(account(name = "token_program", default_value = program("token")))]
    #[codama(account(name = "instructions", default_value = sysvar("instructions")))]
    #[codama(account(name = "round", optional, writable, docs = "Conversion: the round"))]
    EndSwap,

    /// Records which revealed updates a seated validator fetched, before its committee's
    /// availability deadline (may be replaced until then); the committee judges what a majority
    /// of these reports hold ([`crate::availability`]).
    #[codama(account(name = "validator", signer))]
    #[codama(account(name = "round"))]
    #[codama(account(name = "seat", writable))]
    ReportAvailability(#[codama(name = "args")] ReportAvailabilityArgs),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_variant_is_below_the_variant_count() {
        let last = borsh::to_vec(&DropPinInstruction::ReportAvailability(
            ReportAvailabilityArgs {
                level: 0,
                fetched: Vec::new(),
            },
        ))
        .unwrap();
        assert_eq!(last[0], DropPinInstruction::VARIANTS - 1);
        assert!(DropPinInstruction::decode(&[DropPinInstruction::VARIANTS]).is_err());
    }

    #[test]
    fn names_follow_the_variant_tags() {
        let named = |ix: DropPinInstruction| {
            DropPinInstruction::name_of(&borsh::to_vec(&ix).unwrap()).unwrap()
        };
        assert_eq!(named(DropPinInstruction::JoinRound), "JoinRound");
        assert_eq!(named(DropPinInstruction::CrankTimeout), "CrankTimeout");
        assert_eq!(named(DropPinInstruction::CloseRound), "CloseRound");
        assert_eq!(named(DropPinInstruction::EndSwap), "EndSwap");
        assert_eq!(
            named(DropPinInstruction::ReportAvailability(
                ReportAvailabilityArgs {
                    level: 1,
                    fetched: Vec::new()
                }
            )),
            "ReportAvailability"
        );
        assert_eq!(named(DropPinInstruction::SettleSeat), "SettleSeat");
        assert_eq!(
            named(DropPinInstruction::ClaimSeat { level: 0 }),
            "ClaimSeat"
        );
        assert_eq!(
            named(DropPinInstruction::FundRound { amount: 1 }),
            "FundRound"
        );
        assert_eq!(
            DropPinInstruction::name_of(&[DropPinInstruction::VARIANTS]),
            None
        );
    }
}
