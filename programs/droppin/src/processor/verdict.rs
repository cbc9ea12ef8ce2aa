//! PostVerdictLeaves: a verdict's leaves on-chain, chunk by chunk.

use alloc::{boxed::Box, vec::Vec};

use droppin_coordinator as coordinator;
use droppin_interface::{
    instruction::PostLeavesArgs,
    pda::VERDICT_SEED,
    state::{AccountState, Round, VerdictLeaves},
    verdict::{LEAF_LEN, LEAVES_PER_CHUNK, Leaf, chunk_count},
};
use pinocchio::{AccountView, Address, cpi::Seed};

use super::not_enough_accounts;
use crate::{
    accounts::{
        allocate_pda, current_slot, is_uninitialized, load, load_round, require_canonical_pda,
        require_distinct, require_signer, require_system_program, require_writable, save,
    },
    error::{DropPinError, Result, fail},
    hash::SyscallSha256,
};

/// Posts a chunk of the verdict in force, checked against its root; the first post creates the
/// leaves account (its payer gets the rent back when the round closes).
#[inline(never)]
pub fn post(program_id: &Address, accounts: &mut [AccountView], args: &PostLeavesArgs) -> Result {
    let [payer, round, leaves, system, ..] = accounts else {
        return Err(not_enough_accounts());
    };
    require_signer(payer)?;
    require_writable(&[payer, round, leaves])?;
    require_distinct(&[payer, round, leaves])?;
    require_system_program(system)?;
    let mut round_state: Box<Round> = load_round(round, program_id)?;
    let round_key = round.address().to_bytes();
    let mut header = if is_uninitialized(leaves) {
        create_leaves(program_id, payer, round, leaves, &round_state, args.level)?
    } else {
        let header: VerdictLeaves = load(leaves, program_id)?;
        if header.round != round_key || header.level != args.level {
            return Err(fail(DropPinError::RoundMismatch));
        }
        header
    };
    let bytes: Vec<u8> = args.leaves.iter().flat_map(Leaf::to_bytes).collect();
    let flag = VerdictLeaves::flag_offset(args.chunk);
    let posted = leaves.try_borrow()?.get(flag) == Some(&1);
    let post = coordinator::ChunkPost {
        args,
        leaf_bytes: &bytes,
        posted,
    };
    coordinator::post_leaves::<SyscallSha256>(
        &mut round_state,
        &round_key,
        &mut header,
        &post,
        current_slot()?,
    )
    .map_err(fail)?;
    {
        let mut data = leaves.try_borrow_mut()?;
        let start = u32::from(args.chunk) * LEAVES_PER_CHUNK;
        let at = VerdictLeaves::leaf_offset(header.total, start);
        data[at..at + bytes.len()].copy_from_slice(&bytes);
        data[flag] = 1;
    }
    save(leaves, &header)?;
    save(round, &*round_state)
}

/// Creates the leaves account of the verdict judged at `level`, sized for every joined node.
#[inline(always)]
fn create_leaves(
    program_id: &Address,
    payer: &AccountView,
    round: &AccountView,
    leaves: &mut AccountView,
    round_state: &Round,
    level: u8,
) -> Result<VerdictLeaves> {
    let level_seed = [level];
    let bump = require_canonical_pda(
        leaves,
        &[VERDICT_SEED, round.address().as_ref(), &level_seed],
        program_id,
    )?;
    let total = round_state.counts.nodes_joined;
    let bump = [bump];
    allocate_pda(
        payer,
        leaves,
        VerdictLeaves::space(total),
        program_id,
        &[
            Seed::from(VERDICT_SEED),
            Seed::from(round.address().as_ref()),
            Seed::from(&level_seed),
            Seed::from(&bump),
        ],
    )?;
    let header = VerdictLeaves {
        round: round.address().to_bytes(),
        level,
        payer: payer.address().to_bytes(),
        total,
        chunks: chunk_count(total),
        ..VerdictLeaves::default()
    };
    save(leaves, &header)?;
    Ok(header)
}

const _: () = assert!(LEAF_LEN == 3 && VerdictLeaves::TRAILING);
