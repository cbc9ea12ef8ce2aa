//! Instruction builders: the only way clients produce dropPIN instructions.
//!
//! Each builder derives the PDAs it needs and lists accounts in the order the program expects,
//! as documented on [`DropPinInstruction`].

use alloc::vec::Vec;

use solana_address::Address;
use solana_instruction::{AccountMeta, Instruction};

use crate::{
    Cid, INSTRUCTIONS_SYSVAR_ID, SLOT_HASHES_ID, SYSTEM_PROGRAM_ID, TOKEN_PROGRAM_ID,
    instruction::{
        DropPinInstruction, OpenRoundArgs, PostLeavesArgs, ReportAvailabilityArgs, RevealArgs,
        RevealVoteArgs, VerdictVote,
    },
    pda::find,
    state::{Currency, ProtocolParams},
};

fn system_program() -> AccountMeta {
    AccountMeta::new_readonly(Address::new_from_array(SYSTEM_PROGRAM_ID), false)
}

fn slot_hashes() -> AccountMeta {
    AccountMeta::new_readonly(Address::new_from_array(SLOT_HASHES_ID), false)
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

/// [`DropPinInstruction::InitializeConfig`], signed by the program's upgrade authority.
pub fn initialize_config(
    program: &Address,
    authority: &Address,
    params: ProtocolParams,
) -> Instruction {
    build(
        program,
        &DropPinInstruction::InitializeConfig(params),
        alloc::vec![
            AccountMeta::new(*authority, true),
            AccountMeta::new(find::config(program), false),
            AccountMeta::new(find::treasury(program), false),
            AccountMeta::new(find::registry(program), false),
            AccountMeta::new_readonly(find::program_data(program), false),
            system_program(),
        ],
    )
}

/// [`DropPinInstruction::UpdateConfig`]: proposes a change, applied after the timelock.
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

/// [`DropPinInstruction::ApplyConfig`].
pub fn apply_config(program: &Address) -> Instruction {
    build(
        program,
        &DropPinInstruction::ApplyConfig,
        alloc::vec![AccountMeta::new(find::config(program), false)],
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
            AccountMeta::new_readonly(find::registry(program), false),
            system_program(),
        ],
    )
}

/// [`DropPinInstruction::FundRound`] paid by `payer` (the funder, or a third party whose
/// top-up is recorded in its contribution account).
pub fn fund_round(program: &Address, payer: &Address, round: &Address, amount: u64) -> Instruction {
    build(
        program,
        &DropPinInstruction::FundRound { amount },
        alloc::vec![
            AccountMeta::new(*payer, true),
            AccountMeta::new(*round, false),
            AccountMeta::new(find::vault(program, round), false),
            AccountMeta::new(find::treasury(program), false),
            AccountMeta::new(find::contribution(program, round, payer), false),
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
            slot_hashes(),
        ],
    )
}

fn bond_accounts(program: &Address, validator: &Address) -> Vec<AccountMeta> {
    alloc::vec![
        AccountMeta::new(*validator, true),
        AccountMeta::new(find::bond(program, validator), false),
        AccountMeta::new(find::registry(program), false),
        AccountMeta::new_readonly(find::config(program), false),
    ]
}

/// [`DropPinInstruction::RegisterValidator`].
pub fn register_validator(program: &Address, validator: &Address, amount: u64) -> Instruction {
    let mut accounts = bond_accounts(program, validator);
    accounts.push(system_program());
    build(
        program,
        &DropPinInstruction::RegisterValidator {
            amount,
            currency: Currency::Sol,
        },
        accounts,
    )
}

/// [`DropPinInstruction::RegisterValidator`] with a $dPIN bond, paid from `wallet_token`.
pub fn register_dpin_validator(
    program: &Address,
    validator: &Address,
    amount: u64,
    mint: &Address,
    wallet_token: &Address,
) -> Instruction {
    let mut accounts = bond_accounts(program, validator);
    accounts.push(system_program());
    let ix = build(
        program,
        &DropPinInstruction::RegisterValidator {
            amount,
            currency: Currency::Dpin,
        },
        accounts,
    );
    bond_in_dpin(ix, mint, validator, wallet_token)
}

/// Turns an instruction that moves a $dPIN bond into its $dPIN form by appending the bond's
/// token leg: the SPL Token program, the mint, `validator`'s bond token account and
/// `wallet_token`, the token account paying or paid (see each instruction's accounts).
pub fn bond_in_dpin(
    mut ix: Instruction,
    mint: &Address,
    validator: &Address,
    wallet_token: &Address,
) -> Instruction {
    let bond_token = find::bond_token(&ix.program_id, validator);
    ix.accounts.extend([
        token_program(),
        AccountMeta::new(*mint, false),
        AccountMeta::new(bond_token, false),
        AccountMeta::new(*wallet_token, false),
    ]);
    ix
}

/// [`DropPinInstruction::TopUpBond`].
pub fn top_up_bond(program: &Address, validator: &Address, amount: u64) -> Instruction {
    let mut accounts = bond_accounts(program, validator);
    accounts.push(system_program());
    build(program, &DropPinInstruction::TopUpBond { amount }, accounts)
}

/// [`DropPinInstruction::Unbond`].
pub fn unbond(program: &Address, validator: &Address, amount: u64) -> Instruction {
    let mut accounts = bond_accounts(program, validator);
    accounts[0] = AccountMeta::new_readonly(*validator, true);
    build(program, &DropPinInstruction::Unbond { amount }, accounts)
}

/// [`DropPinInstruction::WithdrawBond`].
pub fn withdraw_bond(program: &Address, validator: &Address) -> Instruction {
    build(
        program,
        &DropPinInstruction::WithdrawBond,
        bond_accounts(program, validator),
    )
}

/// [`DropPinInstruction::DrawCommittee`].
pub fn draw_committee(program: &Address, round: &Address, level: u8) -> Instruction {
    build(
        program,
        &DropPinInstruction::DrawCommittee { level },
        alloc::vec![AccountMeta::new(*round, false), slot_hashes()],
    )
}

/// The accounts that prove a validator is neither a node of the round nor (for an appeal) on
/// its first committee.
fn conflict_accounts(program: &Address, round: &Address, validator: &Address) -> [AccountMeta; 2] {
    [
        AccountMeta::new_readonly(find::node(program, round, validator), false),
        AccountMeta::new_readonly(find::seat(program, round, validator, 0), false),
    ]
}

/// [`DropPinInstruction::ClaimSeat`].
pub fn claim_seat(
    program: &Address,
    validator: &Address,
    round: &Address,
    level: u8,
) -> Instruction {
    let mut accounts = alloc::vec![
        AccountMeta::new(*validator, true),
        AccountMeta::new(*round, false),
        AccountMeta::new(find::seat(program, round, validator, level), false),
        AccountMeta::new(find::bond(program, validator), false),
    ];
    accounts.extend(conflict_accounts(program, round, validator));
    accounts.push(system_program());
    build(program, &DropPinInstruction::ClaimSeat { level }, accounts)
}

/// [`DropPinInstruction::ReportAvailability`]: `fetched` as [`Availability::report`] encodes it.
///
/// [`Availability::report`]: crate::availability::Availability::report
pub fn report_availability(
    program: &Address,
    validator: &Address,
    round: &Address,
    level: u8,
    fetched: Vec<u8>,
) -> Instruction {
    build(
        program,
        &DropPinInstruction::ReportAvailability(ReportAvailabilityArgs { level, fetched }),
        alloc::vec![
            AccountMeta::new_readonly(*validator, true),
            AccountMeta::new_readonly(*round, false),
            AccountMeta::new(find::seat(program, round, validator, level), false),
        ],
    )
}

/// [`DropPinInstruction::CommitVote`].
pub fn commit_vote(
    program: &Address,
    validator: &Address,
    round: &Address,
    level: u8,
    commitment: [u8; 32],
) -> Instruction {
    build(
        program,
        &DropPinInstruction::CommitVote { level, commitment },
        alloc::vec![
            AccountMeta::new_readonly(*validator, true),
            AccountMeta::new(find::seat(program, round, validator, level), false),
        ],
    )
}

/// [`DropPinInstruction::RevealVote`].
pub fn reveal_vote(
    program: &Address,
    validator: &Address,
    round: &Address,
    level: u8,
    vote: VerdictVote,
    salt: [u8; 32],
) -> Instruction {
    build(
        program,
        &DropPinInstruction::RevealVote(RevealVoteArgs { level, vote, salt }),
        alloc::vec![
            AccountMeta::new_readonly(*validator, true),
            AccountMeta::new(*round, false),
            AccountMeta::new(find::seat(program, round, validator, level), false),
        ],
    )
}

/// [`DropPinInstruction::ReportAbsent`]: `reporter` proves `validator` was drawn for committee
/// `level` and never took its seat.
pub fn report_absent(
    program: &Address,
    reporter: &Address,
    round: &Address,
    validator: &Address,
    level: u8,
) -> Instruction {
    let mut accounts = alloc::vec![
        AccountMeta::new(*reporter, true),
        AccountMeta::new(*round, false),
        AccountMeta::new(find::seat(program, round, validator, level), false),
        AccountMeta::new(find::bond(program, validator), false),
        AccountMeta::new(find::registry(program), false),
        AccountMeta::new(find::treasury(program), false),
    ];
    accounts.extend(conflict_accounts(program, round, validator));
    accounts.push(system_program());
    build(
        program,
        &DropPinInstruction::ReportAbsent { level },
        accounts,
    )
}

/// [`DropPinInstruction::FinalizeRound`], citing `voter`'s revealed level-0 vote.
pub fn finalize_round(program: &Address, round: &Address, voter: &Address) -> Instruction {
    build(
        program,
        &DropPinInstruction::FinalizeRound,
        alloc::vec![
            AccountMeta::new(*round, false),
            AccountMeta::new_readonly(find::seat(program, round, voter, 0), false),
        ],
    )
}

/// [`DropPinInstruction::PostVerdictLeaves`]: one chunk of `tree` for committee `level`.
#[cfg(feature = "std")]
pub fn post_verdict_leaves(
    program: &Address,
    payer: &Address,
    round: &Address,
    level: u8,
    tree: &crate::verdict::VerdictTree,
    chunk: u16,
) -> Instruction {
    build(
        program,
        &DropPinInstruction::PostVerdictLeaves(PostLeavesArgs {
            level,
            chunk,
            leaves: tree.chunk(chunk).to_vec(),
            proof: tree.proof(chunk),
        }),
        alloc::vec![
            AccountMeta::new(*payer, true),
            AccountMeta::new(*round, false),
            AccountMeta::new(find::verdict(program, round, level), false),
            system_program(),
        ],
    )
}

/// [`DropPinInstruction::Appeal`].
pub fn appeal(program: &Address, appellant: &Address, round: &Address) -> Instruction {
    build(
        program,
        &DropPinInstruction::Appeal,
        alloc::vec![
            AccountMeta::new(*appellant, true),
            AccountMeta::new(*round, false),
            AccountMeta::new(find::vault(program, round), false),
            system_program(),
        ],
    )
}

/// [`DropPinInstruction::ResolveAppeal`]; `voter` is an appeal seat that revealed the new
/// verdict when it overturns the first.
pub fn resolve_appeal(program: &Address, round: &Address, voter: Option<&Address>) -> Instruction {
    let cited = voter.map_or_else(
        || Address::new_from_array(SYSTEM_PROGRAM_ID),
        |v| find::seat(program, round, v, 1),
    );
    build(
        program,
        &DropPinInstruction::ResolveAppeal,
        alloc::vec![
            AccountMeta::new(*round, false),
            AccountMeta::new_readonly(cited, false),
        ],
    )
}

/// [`DropPinInstruction::SettleNode`] for `node` (whose revealed CID is `cid`, if it revealed),
/// by the leaves of committee `level`'s verdict (`None` in a failed round).
pub fn settle_node(
    program: &Address,
    settler: &Address,
    round: &Address,
    node: &Address,
    cid: Option<&Cid>,
    level: Option<u8>,
) -> Instruction {
    let node_state = find::node(program, round, node);
    // A node without a reveal has no marker; its own state stands in the slot, unused.
    let marker = cid.map_or(node_state, |cid| find::cid_marker(program, round, cid));
    let leaves = level.map_or_else(
        || Address::new_from_array(SYSTEM_PROGRAM_ID),
        |level| find::verdict(program, round, level),
    );
    build(
        program,
        &DropPinInstruction::SettleNode,
        alloc::vec![
            AccountMeta::new(*settler, true),
            AccountMeta::new(*node, false),
            AccountMeta::new(*round, false),
            AccountMeta::new(find::vault(program, round), false),
            AccountMeta::new(node_state, false),
            AccountMeta::new(find::reputation(program, node), false),
            AccountMeta::new(marker, false),
            AccountMeta::new(find::treasury(program), false),
            AccountMeta::new_readonly(leaves, false),
        ],
    )
}

/// [`DropPinInstruction::SettleSeat`]; `rent_payer` is the seat's recorded payer.
pub fn settle_seat(
    program: &Address,
    settler: &Address,
    round: &Address,
    validator: &Address,
    level: u8,
    rent_payer: &Address,
) -> Instruction {
    build(
        program,
        &DropPinInstruction::SettleSeat,
        alloc::vec![
            AccountMeta::new(*settler, true),
            AccountMeta::new(*validator, false),
            AccountMeta::new(*round, false),
            AccountMeta::new(find::vault(program, round), false),
            AccountMeta::new(find::seat(program, round, validator, level), false),
            AccountMeta::new(find::bond(program, validator), false),
            AccountMeta::new(find::registry(program), false),
            AccountMeta::new(find::treasury(program), false),
            AccountMeta::new(*rent_payer, false),
        ],
    )
}

/// [`DropPinInstruction::SettleAppeal`].
pub fn settle_appeal(program: &Address, round: &Address, appellant: &Address) -> Instruction {
    build(
        program,
        &DropPinInstruction::SettleAppeal,
        alloc::vec![
            AccountMeta::new(*appellant, false),
            AccountMeta::new(*round, false),
            AccountMeta::new(find::vault(program, round), false),
            AccountMeta::new(find::treasury(program), false),
        ],
    )
}

/// [`DropPinInstruction::RefundContribution`].
pub fn refund_contribution(
    program: &Address,
    round: &Address,
    contributor: &Address,
) -> Instruction {
    build(
        program,
        &DropPinInstruction::RefundContribution,
        alloc::vec![
            AccountMeta::new(*contributor, false),
            AccountMeta::new(*round, false),
            AccountMeta::new(find::vault(program, round), false),
            AccountMeta::new(find::contribution(program, round, contributor), false),
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

/// [`DropPinInstruction::CloseRound`]; `leaves_payers` are the payers recorded in the leaves
/// accounts of levels 0 and 1 (`None` where there is no such account).
pub fn close_round(
    program: &Address,
    round: &Address,
    funder: &Address,
    leaves_payers: [Option<Address>; 2],
) -> Instruction {
    let verdicts = [0u8, 1].map(|level| find::verdict(program, round, level));
    let payers = [0usize, 1].map(|level| leaves_payers[level].unwrap_or(verdicts[level]));
    build(
        program,
        &DropPinInstruction::CloseRound,
        alloc::vec![
            AccountMeta::new(*funder, false),
            AccountMeta::new(*round, false),
            AccountMeta::new(find::vault(program, round), false),
            AccountMeta::new(find::treasury(program), false),
            AccountMeta::new(verdicts[0], false),
            AccountMeta::new(verdicts[1], false),
            AccountMeta::new(payers[0], false),
            AccountMeta::new(payers[1], false),
        ],
    )
}

/// A wallet's $dPIN account: its associated token account for `mint`.
pub fn wallet_token_account(owner: &Address, mint: &Address) -> Address {
    spl_associated_token_account_interface::address::get_associated_token_address(owner, mint)
}

/// `ix`, which moves value, in a round paying in `currency`: unchanged in SOL; in $dPIN with
/// the token accounts of `wallet`, which pays or is paid ([`in_dpin`]). `mint` is the launched
/// $dPIN mint; `None` in a $dPIN round fails with [`crate::DropPinError::TokenNotLaunched`].
pub fn in_currency(
    ix: Instruction,
    currency: Currency,
    round: &Address,
    wallet: &Address,
    mint: Option<&Address>,
) -> Result<Instruction, crate::DropPinError> {
    match currency {
        Currency::Sol => Ok(ix),
        Currency::Dpin => {
            let mint = mint.ok_or(crate::DropPinError::TokenNotLaunched)?;
            Ok(in_dpin(
                ix,
                mint,
                round,
                &wallet_token_account(wallet, mint),
            ))
        }
    }
}

/// The instructions that pay `wallet` in a round paying in `currency`: [`in_currency`], and in
/// $dPIN its token account created first if it has none (idempotent, paid by `payer`). A wallet
/// may close its empty token account at any time; without this, its settlement (and so every
/// refund and the round's close, which wait for it) would fail.
pub fn paying(
    ix: Instruction,
    currency: Currency,
    round: &Address,
    wallet: &Address,
    payer: &Address,
    mint: Option<&Address>,
) -> Result<Vec<Instruction>, crate::DropPinError> {
    let ix = in_currency(ix, currency, round, wallet, mint)?;
    Ok(match (currency, mint) {
        (Currency::Dpin, Some(mint)) => alloc::vec![
            spl_associated_token_account_interface::instruction::create_associated_token_account_idempotent(
                payer,
                wallet,
                mint,
                &Address::new_from_array(TOKEN_PROGRAM_ID),
            ),
            ix,
        ],
        _ => alloc::vec![ix],
    })
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

/// [`DropPinInstruction::ConvertRound`]; the funder fronts the token vault's rent.
pub fn convert_round(
    program: &Address,
    funder: &Address,
    round: &Address,
    mint: &Address,
) -> Instruction {
    build(
        program,
        &DropPinInstruction::ConvertRound,
        alloc::vec![
            AccountMeta::new(*funder, true),
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
