//! The program's instructions and their arguments (borsh-encoded, first byte = variant).
//!
//! Account lists are documented on each variant, in order; `[s]` signer, `[w]` writable.
//! [`crate::builders`] builds each instruction with its accounts.
//!
//! In a $dPIN round every instruction that moves value appends the same four accounts after its
//! documented list (see [`crate::builders::in_dpin`]): the SPL Token program, `[w]` the $dPIN
//! mint, `[w]` the round's token vault and `[w]` the token account of the wallet that pays or is
//! paid (funder, node or validator). Fees, slashes and remainders that a SOL round sends to the
//! treasury are burned instead.

use alloc::vec::Vec;

use borsh::{BorshDeserialize, BorshSerialize};

use crate::{Cid, Pubkey, state::ProtocolParams};

/// Default cap on a round's nodes.
pub const DEFAULT_MAX_NODES: u32 = 8;
/// Default node stake: 0.02 SOL.
pub const DEFAULT_NODE_STAKE: u64 = 20_000_000;
/// Default quorum: two thirds of the committee (rounded down in bps, so 2 of 3 is a quorum).
pub const DEFAULT_QUORUM_BPS: u16 = 6_666;

/// Everything a funder pins when opening a round.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct OpenRoundArgs {
    /// Hash of the task: model architecture and training recipe.
    pub task_hash: [u8; 32],
    /// Hash of the global model to start from.
    pub model_hash: [u8; 32],
    /// Its CID (CIDv1 raw, sha2-256; its digest must equal `model_hash`).
    pub model_cid: Cid,
    /// Hash of the validation set.
    pub validation_set_hash: [u8; 32],
    /// Most nodes admitted (1..=the protocol's maximum).
    pub max_nodes: u32,
    /// Stake per node, in lamports (at least the protocol's minimum).
    pub node_stake: u64,
    /// Stake per committee member, in lamports (at least the protocol's minimum).
    pub validator_stake: u64,
    /// Lamports the funder pays now: the protocol fee goes to the treasury, the rest is the pool.
    pub amount: u64,
    /// End of training, reveal and validation, in slots.
    pub deadlines: crate::state::Deadlines,
    /// Validator keys (1..=8, distinct).
    pub committee: Vec<Pubkey>,
    /// Share of the committee that must agree, in bps (above 5000).
    pub quorum_bps: u16,
    /// What stakes, pool and rewards are paid in; amounts above are in that currency's base unit.
    pub currency: crate::state::Currency,
}

/// A committee member's verdict on a round.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct VerdictVote {
    /// Merkle root of the verdict list (see [`crate::merkle`]).
    pub verdict_root: [u8; 32],
    /// Hash of the new global model.
    pub new_model_hash: [u8; 32],
    /// CID of the new global model (its digest must equal `new_model_hash`).
    pub new_model_cid: Cid,
    /// CID of the full verdict list in storage.
    pub verdict_list_cid: Cid,
    /// Accepted nodes in the list.
    pub accepted_count: u32,
    /// Slashed nodes in the list.
    pub slashed_count: u32,
}

impl VerdictVote {
    /// Encoded size.
    pub const LEN: usize = 32 + 32 + 36 + 36 + 4 + 4;

    /// The digest votes are tallied by: sha256 of the borsh encoding.
    pub fn digest<H: crate::hash::Hasher>(&self) -> [u8; 32] {
        let mut bytes = [0u8; Self::LEN];
        self.serialize(&mut &mut bytes[..])
            .expect("a vote fits its fixed size");
        H::hashv(&[&bytes])
    }
}

/// A node's reveal of its committed update.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct RevealArgs {
    /// CID of the update.
    pub cid: Cid,
    /// The salt used in the commitment.
    pub salt: [u8; 32],
    /// Training samples behind the update.
    pub sample_count: u64,
}

/// A node's proven verdict.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ClaimArgs {
    /// The node's leaf (its `node` must be the node wallet).
    pub leaf: crate::merkle::VerdictLeaf,
    /// Sibling hashes from the leaf to the verdict root.
    pub proof: Vec<[u8; 32]>,
}

impl DropPinInstruction {
    /// Number of variants: a first byte at or above it is not an instruction.
    pub const VARIANTS: u8 = 19;

    /// Variant names by tag (the instruction data's first byte), for logs and reports.
    pub const NAMES: [&'static str; Self::VARIANTS as usize] = [
        "InitializeConfig",
        "UpdateConfig",
        "OpenRound",
        "FundRound",
        "JoinRound",
        "CommitUpdate",
        "RevealUpdate",
        "JoinCommittee",
        "SubmitVerdict",
        "FinalizeRound",
        "ClaimReward",
        "RefundNode",
        "SettleValidator",
        "CrankTimeout",
        "CloseRound",
        "LaunchToken",
        "ConvertRound",
        "BeginSwap",
        "EndSwap",
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
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum DropPinInstruction {
    /// Creates the protocol config and treasury.
    ///
    /// Accounts: 0 `[s,w]` admin (pays rent), 1 `[w]` config PDA, 2 `[w]` treasury PDA,
    /// 3 system program.
    InitializeConfig(ProtocolParams),

    /// Changes parameters (for rounds opened from now on) and optionally hands over the admin role.
    ///
    /// Accounts: 0 `[s]` admin, 1 `[w]` config.
    UpdateConfig {
        /// New parameters.
        params: ProtocolParams,
        /// New admin, if it changes.
        new_admin: Option<Pubkey>,
    },

    /// Opens and funds a round.
    ///
    /// Accounts: 0 `[s,w]` funder, 1 `[w]` config, 2 `[w]` round PDA (id = config's counter),
    /// 3 `[w]` vault PDA, 4 `[w]` treasury, 5 system program.
    OpenRound(OpenRoundArgs),

    /// Tops up a round's pool before training closes (anyone may).
    ///
    /// Accounts: 0 `[s,w]` funder, 1 `[w]` round, 2 `[w]` vault, 3 `[w]` treasury,
    /// 4 system program.
    FundRound {
        /// Lamports paid, fee included.
        amount: u64,
    },

    /// Stakes a node into a round; creates its reputation account on first use.
    ///
    /// Accounts: 0 `[s,w]` node, 1 `[w]` round, 2 `[w]` vault, 3 `[w]` node state PDA,
    /// 4 `[w]` reputation PDA, 5 system program.
    JoinRound,

    /// Records `sha256(node || cid || salt)` before the commit deadline (may be replaced until then).
    ///
    /// Accounts: 0 `[s]` node, 1 `[w]` node state.
    CommitUpdate {
        /// The commitment.
        commitment: [u8; 32],
    },

    /// Reveals the committed update after the commit deadline.
    ///
    /// Accounts: 0 `[s,w]` node, 1 `[w]` round, 2 `[w]` node state, 3 `[w]` CID marker PDA,
    /// 4 system program.
    RevealUpdate(RevealArgs),

    /// Stakes a committee member into a round (before the validation deadline).
    ///
    /// Accounts: 0 `[s,w]` validator, 1 `[w]` round, 2 `[w]` vault, 3 `[w]` validator state PDA,
    /// 4 system program.
    JoinCommittee,

    /// Submits a committee member's verdict (between the reveal and validation deadlines).
    ///
    /// Accounts: 0 `[s]` validator, 1 `[w]` round, 2 `[w]` validator state.
    SubmitVerdict(VerdictVote),

    /// Pins the verdict that reached the quorum (anyone may).
    ///
    /// Accounts: 0 `[w]` round, 1 validator state of a member who voted that verdict.
    FinalizeRound,

    /// Pays a node by its verdict leaf and closes its state (anyone may; the node is paid).
    ///
    /// Accounts: 0 `[w]` node wallet, 1 `[w]` round, 2 `[w]` vault, 3 `[w]` node state,
    /// 4 `[w]` reputation, 5 `[w]` CID marker of the node's CID.
    ClaimReward(ClaimArgs),

    /// Settles a node without a verdict: a refund in a failed round, or a no-show's forfeit
    /// (anyone may).
    ///
    /// Accounts: 0 `[w]` node wallet, 1 `[w]` round, 2 `[w]` vault, 3 `[w]` node state,
    /// 4 `[w]` reputation, 5 `[w]` CID marker of the node's CID (any account if it never revealed).
    RefundNode,

    /// Pays or refunds a committee member and closes its state (anyone may).
    ///
    /// Accounts: 0 `[w]` validator wallet, 1 `[w]` round, 2 `[w]` vault, 3 `[w]` validator state,
    /// 4 `[w]` treasury.
    SettleValidator,

    /// Fails a round whose deadline passed without joins, reveals or quorum (anyone may).
    ///
    /// Accounts: 0 `[w]` round.
    CrankTimeout,

    /// Closes a settled round: the remainder goes to the funder or the treasury, rent to the funder.
    ///
    /// Accounts: 0 `[w]` funder, 1 `[w]` round, 2 `[w]` vault, 3 `[w]` treasury.
    CloseRound,

    /// Adopts the $dPIN mint (fixed supply: no mint or freeze authority) and creates the
    /// treasury's $dPIN account (admin only, once).
    ///
    /// Accounts: 0 `[s,w]` admin, 1 `[w]` config, 2 treasury, 3 `[w]` treasury token PDA,
    /// 4 mint, 5 SPL Token program, 6 system program.
    LaunchToken,

    /// Turns a pre-launch SOL round nobody has joined into a $dPIN round: creates its token vault
    /// (the payer fronts the rent and is repaid from the pool) and leaves the pool's lamports for
    /// treasury swaps to convert; the round admits nodes once they are all converted (anyone may).
    ///
    /// Accounts: 0 `[s,w]` payer, 1 `[w]` round, 2 `[w]` vault, 3 `[w]` token vault PDA,
    /// 4 config, 5 mint, 6 SPL Token program, 7 system program.
    ConvertRound,

    /// Lends a batch of SOL to the caller's route: from the treasury (buy-and-burn), or from a
    /// converting round's vault when the round and its vault are appended. Needs this program's
    /// `EndSwap` later in the same transaction.
    ///
    /// Accounts: 0 `[s,w]` caller, 1 config, 2 `[w]` treasury, 3 instructions sysvar,
    /// 4 destination ($dPIN account of the treasury, or the converting round's token vault),
    /// then for a conversion 5 `[w]` round, 6 `[w]` vault.
    BeginSwap {
        /// Lamports in the batch.
        lamports: u64,
    },

    /// Closes the batch: the destination must have received at least the batch's minimum
    /// $dPIN. A buy-and-burn batch burns the treasury's $dPIN; a conversion credits the round.
    ///
    /// Accounts: 0 config, 1 `[w]` treasury, 2 `[w]` destination ($dPIN account of the treasury
    /// or the round's token vault), 3 `[w]` mint, 4 SPL Token program, 5 instructions sysvar,
    /// then for a conversion 6 `[w]` round.
    EndSwap,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_variant_is_below_the_variant_count() {
        let last = borsh::to_vec(&DropPinInstruction::EndSwap).unwrap();
        assert_eq!(last, [DropPinInstruction::VARIANTS - 1]);
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
            named(DropPinInstruction::FundRound { amount: 1 }),
            "FundRound"
        );
        assert_eq!(
            DropPinInstruction::name_of(&[DropPinInstruction::VARIANTS]),
            None
        );
    }
}
