//! Instruction builders: the only way clients produce dropPIN instructions.
//!
//! Each builder derives the PDAs it needs and lists accounts in the order the program expects,
//! as documented on [`DropPinInstruction`].

use alloc::vec::Vec;

use solana_address::Address;
use solana_instruction::{AccountMeta, Instruction};

use crate::{
    Cid, INSTRUCTIONS_SYSVAR_ID, SYSTEM_PROGRAM_ID, TOKEN_PROGRAM_ID,
    instruction::{ClaimArgs, DropPinInstruction, OpenRoundArgs, RevealArgs, VerdictVote},
    merkle::VerdictLeaf,
    pda::find,
    state::ProtocolParams,
};

fn system_program() -> AccountMeta {
    AccountMeta::new_readonly(Address::new_from_array(SYSTEM_PROGRAM_ID), false)
}

fn token_program() -> AccountMeta {
    AccountMeta::new_readonly(Address::new_from_array(TOKEN_PROGRAM_ID), false)
}

fn instructions_sysvar() -> AccountMeta {
    AccountMeta::new_readonly(Address::new_from_array(INSTRUCTIONS_SYSVAR_ID), false)
}

fn build(program: &Address, ix: &DropPinInstruction, accounts: Vec<AccountMeta>) -> Instruction {
    Instruction::new_with_bytes(
        *program,
        &borsh::to_vec(ix).expect("instructions always encode"),
        accounts,
    )
}

/// [`DropPinInstruction::InitializeConfig`].
pub fn initialize_config(
    program: &Address,
    admin: &Address,
    params: ProtocolParams,
) -> Instruction {
    build(
        program,
        &DropPinInstruction::InitializeConfig(params),
        alloc::vec![
            AccountMeta::new(*admin, true),
            AccountMeta::new(find::config(program), false),
            AccountMeta::new(find::treasury(program), false),
            system_program(),
        ],
    )
}

/// [`DropPinInstruction::UpdateConfig`].
pub fn update_config(
    program: &Address,
    admin: &Address,
    params: ProtocolParams,
    new_admin: Option<&Address>,
) -> Instruction {
    build(
        program,
        &DropPinInstruction::UpdateConfig {
            params,
            new_admin: new_admin.map(Address::to_bytes),
        },
        alloc::vec![
            AccountMeta::new_readonly(*admin, true),
            AccountMeta::new(find::config(program), false),
        ],
    )
}

/// [`DropPinInstruction::OpenRound`] for round `round_id` (the config's `round_count`).
pub fn open_round(
    program: &Address,
    funder: &Address,
    round_id: u64,
    args: OpenRoundArgs,
) -> Instruction {
    let round = find::round(program, round_id);
    build(
        program,
        &DropPinInstruction::OpenRound(args),
        alloc::vec![
            AccountMeta::new(*funder, true),
            AccountMeta::new(find::config(program), false),
            AccountMeta::new(round, false),
            AccountMeta::new(find::vault(program, &round), false),
            AccountMeta::new(find::treasury(program), false),
            system_program(),
        ],
    )
}

/// [`DropPinInstruction::FundRound`].
pub fn fund_round(
    program: &Address,
    funder: &Address,
    round: &Address,
    amount: u64,
) -> Instruction {
    build(
        program,
        &DropPinInstruction::FundRound { amount },
        alloc::vec![
            AccountMeta::new(*funder, true),
            AccountMeta::new(*round, false),
            AccountMeta::new(find::vault(program, round), false),
            AccountMeta::new(find::treasury(program), false),
            system_program(),
        ],
    )
}

/// [`DropPinInstruction::JoinRound`].
pub fn join_round(program: &Address, node: &Address, round: &Address) -> Instruction {
    build(
        program,
        &DropPinInstruction::JoinRound,
        alloc::vec![
            AccountMeta::new(*node, true),
            AccountMeta::new(*round, false),
            AccountMeta::new(find::vault(program, round), false),
            AccountMeta::new(find::node(program, round, node), false),
            AccountMeta::new(find::reputation(program, node), false),
            system_program(),
        ],
    )
}

/// [`DropPinInstruction::CommitUpdate`].
pub fn commit_update(
    program: &Address,
    node: &Address,
    round: &Address,
    commitment: [u8; 32],
) -> Instruction {
    build(
        program,
        &DropPinInstruction::CommitUpdate { commitment },
        alloc::vec![
            AccountMeta::new_readonly(*node, true),
            AccountMeta::new(find::node(program, round, node), false),
        ],
    )
}

/// [`DropPinInstruction::RevealUpdate`].
pub fn reveal_update(
    program: &Address,
    node: &Address,
    round: &Address,
    cid: Cid,
    salt: [u8; 32],
    sample_count: u64,
) -> Instruction {
    build(
        program,
        &DropPinInstruction::RevealUpdate(RevealArgs {
            cid,
            salt,
            sample_count,
        }),
        alloc::vec![
            AccountMeta::new(*node, true),
            AccountMeta::new(*round, false),
            AccountMeta::new(find::node(program, round, node), false),
            AccountMeta::new(find::cid_marker(program, round, &cid), false),
            system_program(),
        ],
    )
}

/// [`DropPinInstruction::JoinCommittee`].
pub fn join_committee(program: &Address, validator: &Address, round: &Address) -> Instruction {
    build(
        program,
        &DropPinInstruction::JoinCommittee,
        alloc::vec![
            AccountMeta::new(*validator, true),
            AccountMeta::new(*round, false),
            AccountMeta::new(find::vault(program, round), false),
            AccountMeta::new(find::validator(program, round, validator), false),
            system_program(),
        ],
    )
}

/// [`DropPinInstruction::SubmitVerdict`].
pub fn submit_verdict(
    program: &Address,
    validator: &Address,
    round: &Address,
    vote: VerdictVote,
) -> Instruction {
    build(
        program,
        &DropPinInstruction::SubmitVerdict(vote),
        alloc::vec![
            AccountMeta::new_readonly(*validator, true),
            AccountMeta::new(*round, false),
            AccountMeta::new(find::validator(program, round, validator), false),
        ],
    )
}

/// [`DropPinInstruction::FinalizeRound`], citing `voter`'s vote as the winning verdict.
pub fn finalize_round(program: &Address, round: &Address, voter: &Address) -> Instruction {
    build(
        program,
        &DropPinInstruction::FinalizeRound,
        alloc::vec![
            AccountMeta::new(*round, false),
            AccountMeta::new_readonly(find::validator(program, round, voter), false),
        ],
    )
}

fn node_settlement_accounts(
    program: &Address,
    round: &Address,
    node: &Address,
    cid: Option<&Cid>,
) -> Vec<AccountMeta> {
    let node_state = find::node(program, round, node);
    // A node without a reveal has no marker; its own state stands in the slot, unused.
    let marker = cid.map_or(node_state, |cid| find::cid_marker(program, round, cid));
    alloc::vec![
        AccountMeta::new(*node, false),
        AccountMeta::new(*round, false),
        AccountMeta::new(find::vault(program, round), false),
        AccountMeta::new(node_state, false),
        AccountMeta::new(find::reputation(program, node), false),
        AccountMeta::new(marker, false),
    ]
}

/// [`DropPinInstruction::ClaimReward`] for the node named in `leaf`, whose revealed CID is `cid`.
pub fn claim_reward(
    program: &Address,
    round: &Address,
    cid: &Cid,
    leaf: VerdictLeaf,
    proof: Vec<[u8; 32]>,
) -> Instruction {
    let node = Address::new_from_array(leaf.node);
    build(
        program,
        &DropPinInstruction::ClaimReward(ClaimArgs { leaf, proof }),
        node_settlement_accounts(program, round, &node, Some(cid)),
    )
}

/// [`DropPinInstruction::RefundNode`]; `cid` is the node's revealed CID, if it revealed.
pub fn refund_node(
    program: &Address,
    round: &Address,
    node: &Address,
    cid: Option<&Cid>,
) -> Instruction {
    build(
        program,
        &DropPinInstruction::RefundNode,
        node_settlement_accounts(program, round, node, cid),
    )
}

/// [`DropPinInstruction::SettleValidator`].
pub fn settle_validator(program: &Address, round: &Address, validator: &Address) -> Instruction {
    build(
        program,
        &DropPinInstruction::SettleValidator,
        alloc::vec![
            AccountMeta::new(*validator, false),
            AccountMeta::new(*round, false),
            AccountMeta::new(find::vault(program, round), false),
            AccountMeta::new(find::validator(program, round, validator), false),
            AccountMeta::new(find::treasury(program), false),
        ],
    )
}

/// [`DropPinInstruction::CrankTimeout`].
pub fn crank_timeout(program: &Address, round: &Address) -> Instruction {
    build(
        program,
        &DropPinInstruction::CrankTimeout,
        alloc::vec![AccountMeta::new(*round, false)],
    )
}

/// [`DropPinInstruction::CloseRound`].
pub fn close_round(program: &Address, round: &Address, funder: &Address) -> Instruction {
    build(
        program,
        &DropPinInstruction::CloseRound,
        alloc::vec![
            AccountMeta::new(*funder, false),
            AccountMeta::new(*round, false),
            AccountMeta::new(find::vault(program, round), false),
            AccountMeta::new(find::treasury(program), false),
        ],
    )
}

/// Turns an instruction that moves value into its $dPIN-round form by appending the token
/// accounts: the SPL Token program, the mint, the round's token vault and `wallet_token`, the
/// token account of the wallet that pays or is paid.
pub fn in_dpin(
    mut ix: Instruction,
    mint: &Address,
    round: &Address,
    wallet_token: &Address,
) -> Instruction {
    let token_vault = find::token_vault(&ix.program_id, round);
    ix.accounts.extend([
        token_program(),
        AccountMeta::new(*mint, false),
        AccountMeta::new(token_vault, false),
        AccountMeta::new(*wallet_token, false),
    ]);
    ix
}

/// [`DropPinInstruction::LaunchToken`].
pub fn launch_token(program: &Address, admin: &Address, mint: &Address) -> Instruction {
    build(
        program,
        &DropPinInstruction::LaunchToken,
        alloc::vec![
            AccountMeta::new(*admin, true),
            AccountMeta::new(find::config(program), false),
            AccountMeta::new_readonly(find::treasury(program), false),
            AccountMeta::new(find::treasury_token(program), false),
            AccountMeta::new_readonly(*mint, false),
            token_program(),
            system_program(),
        ],
    )
}

/// [`DropPinInstruction::ConvertRound`]; `payer` fronts the token vault's rent.
pub fn convert_round(
    program: &Address,
    payer: &Address,
    round: &Address,
    mint: &Address,
) -> Instruction {
    build(
        program,
        &DropPinInstruction::ConvertRound,
        alloc::vec![
            AccountMeta::new(*payer, true),
            AccountMeta::new(*round, false),
            AccountMeta::new(find::vault(program, round), false),
            AccountMeta::new(find::token_vault(program, round), false),
            AccountMeta::new_readonly(find::config(program), false),
            AccountMeta::new_readonly(*mint, false),
            token_program(),
            system_program(),
        ],
    )
}

/// [`DropPinInstruction::BeginSwap`]: a buy-and-burn batch from the treasury, or, with
/// `converting` set, a batch of that round's pool.
pub fn begin_swap(
    program: &Address,
    caller: &Address,
    lamports: u64,
    converting: Option<&Address>,
) -> Instruction {
    let mut accounts = alloc::vec![
        AccountMeta::new(*caller, true),
        AccountMeta::new_readonly(find::config(program), false),
        AccountMeta::new(find::treasury(program), false),
        instructions_sysvar(),
        AccountMeta::new_readonly(swap_destination(program, converting), false),
    ];
    if let Some(round) = converting {
        accounts.push(AccountMeta::new(*round, false));
        accounts.push(AccountMeta::new(find::vault(program, round), false));
    }
    build(
        program,
        &DropPinInstruction::BeginSwap { lamports },
        accounts,
    )
}

/// Where a batch's $dPIN goes: the treasury's account, or the converting round's token vault.
fn swap_destination(program: &Address, converting: Option<&Address>) -> Address {
    converting.map_or_else(
        || find::treasury_token(program),
        |round| find::token_vault(program, round),
    )
}

/// [`DropPinInstruction::EndSwap`] matching a [`begin_swap`] with the same `converting`.
pub fn end_swap(program: &Address, mint: &Address, converting: Option<&Address>) -> Instruction {
    let mut accounts = alloc::vec![
        AccountMeta::new_readonly(find::config(program), false),
        AccountMeta::new(find::treasury(program), false),
        AccountMeta::new(swap_destination(program, converting), false),
        AccountMeta::new(*mint, false),
        token_program(),
        instructions_sysvar(),
    ];
    if let Some(round) = converting {
        accounts.push(AccountMeta::new(*round, false));
    }
    build(program, &DropPinInstruction::EndSwap, accounts)
}
