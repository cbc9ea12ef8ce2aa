//! JoinRound, CommitUpdate, RevealUpdate and SettleNode.

use alloc::boxed::Box;

use droppin_coordinator as coordinator;
use droppin_interface::{
    instruction::RevealArgs,
    pda::{REPUTATION_SEED, ROUND_SEED, cid_marker_seed, node_seed, round_scoped_address},
    state::{CidMarker, NodeState, Reputation, Round, RoundStatus, Treasury, VerdictLeaves},
    verdict::Leaf,
};
use pinocchio::{AccountView, Address, cpi::Seed};

use super::not_enough_accounts;
use crate::{
    accounts::{
        SeededAccount, close_with_bounty, create_pda, create_with_seed, current_slot,
        is_uninitialized, load, load_round, require_canonical_pda, require_distinct, require_key,
        require_signer, require_system_program, require_writable, save, slot_hash_before,
        slot_hashes,
    },
    error::{DropPinError, Result, fail},
    escrow::{Escrow, RoundSigner},
    hash::SyscallSha256,
};

/// Stakes a node into a round and creates its state (and its reputation on first use).
#[inline(never)]
pub fn join(program_id: &Address, accounts: &mut [AccountView]) -> Result {
    let (head, tail) = accounts.split_at_mut(accounts.len().min(6));
    let [node, round, vault, node_state, reputation, system] = head else {
        return Err(not_enough_accounts());
    };
    require_signer(node)?;
    require_writable(&[node, round, vault, node_state, reputation])?;
    require_distinct(&[node, round, vault, node_state, reputation])?;
    require_system_program(system)?;
    let mut round_state: Box<Round> = load_round(round, program_id)?;
    require_key(vault, &round_state.vault, DropPinError::VaultMismatch)?;
    let round_key = round.address().to_bytes();
    let node_key = node.address().to_bytes();
    let seed = node_seed(&node_key);
    require_round_scoped(program_id, &round_key, node_state, &seed)?;
    let escrow = Escrow::of(&round_state, tail, node)?;

    let mut record = if is_uninitialized(reputation) {
        let bump = require_canonical_pda(reputation, &[REPUTATION_SEED, &node_key], program_id)?;
        let record = Reputation {
            node: node_key,
            bump,
            ..Reputation::default()
        };
        let bump_seed = [bump];
        create_pda(
            node,
            reputation,
            &[
                Seed::from(REPUTATION_SEED),
                Seed::from(&node_key),
                Seed::from(&bump_seed),
            ],
            program_id,
            &record,
        )?;
        record
    } else {
        load_reputation(program_id, reputation, &node_key)?
    };
    let state = coordinator::join_round(
        &mut round_state,
        &round_key,
        &node_key,
        &record,
        current_slot()?,
    )
    .map_err(fail)?;
    let id = round_state.id.to_le_bytes();
    let bump = [round_state.bump];
    let round_seeds = [Seed::from(ROUND_SEED), Seed::from(&id), Seed::from(&bump)];
    let seeded = SeededAccount {
        base: round,
        base_seeds: &round_seeds,
        seed: &seed,
    };
    create_with_seed(node, node_state, &seeded, program_id, &state)?;
    record.rounds_joined += 1;
    save(reputation, &record)?;
    escrow.deposit(node, vault, round_state.node_stake)?;
    save(round, &*round_state)
}

/// Records the node's commitment; touches only the node's own state.
#[inline(never)]
pub fn commit(program_id: &Address, accounts: &mut [AccountView], commitment: [u8; 32]) -> Result {
    let [node, node_state, ..] = accounts else {
        return Err(not_enough_accounts());
    };
    require_signer(node)?;
    require_writable(&[node_state])?;
    let mut state: NodeState = load(node_state, program_id)?;
    require_key(node, &state.node, DropPinError::NodeMismatch)?;
    coordinator::commit_update(&mut state, current_slot()?, commitment).map_err(fail)?;
    save(node_state, &state)
}

/// Checks the reveal against the commitment; the first reveal of a CID creates its marker,
/// later reveals of the same CID are recorded as duplicates.
#[inline(never)]
pub fn reveal(program_id: &Address, accounts: &mut [AccountView], args: &RevealArgs) -> Result {
    let cid = args.cid;
    let [node, round, node_state, marker, system, sysvar, ..] = accounts else {
        return Err(not_enough_accounts());
    };
    require_signer(node)?;
    require_writable(&[node, round, node_state, marker])?;
    require_distinct(&[node, round, node_state, marker])?;
    require_system_program(system)?;
    let hashes = slot_hashes(sysvar)?;
    let mut round_state: Box<Round> = load_round(round, program_id)?;
    let mut state: NodeState = load(node_state, program_id)?;
    let round_key = round.address().to_bytes();
    require_node_of_round(&state, &round_key, node)?;
    if !cid.is_well_formed() {
        return Err(fail(DropPinError::InvalidCid));
    }
    require_round_scoped(program_id, &round_key, marker, &cid_marker_seed(&cid))?;
    let duplicate = !is_uninitialized(marker);
    if duplicate {
        let _: CidMarker = load(marker, program_id)?;
    }
    coordinator::reveal_update::<SyscallSha256>(
        &mut round_state,
        &mut state,
        current_slot()?,
        args,
        duplicate,
        |before| slot_hash_before(&hashes, before),
    )
    .map_err(fail)?;
    if !duplicate {
        let record = CidMarker {
            round: round_key,
            node: state.node,
        };
        let seed = cid_marker_seed(&cid);
        let id = round_state.id.to_le_bytes();
        let bump = [round_state.bump];
        let round_seeds = [Seed::from(ROUND_SEED), Seed::from(&id), Seed::from(&bump)];
        let seeded = SeededAccount {
            base: round,
            base_seeds: &round_seeds,
            seed: &seed,
        };
        create_with_seed(node, marker, &seeded, program_id, &record)?;
    }
    save(node_state, &state)?;
    save(round, &*round_state)
}

/// Settles a node by its leaf (or refunds it in a failed round), updates its reputation and
/// closes its accounts; a third-party settler gets a bounty from their rent.
#[inline(never)]
pub fn settle(program_id: &Address, accounts: &mut [AccountView]) -> Result {
    let (head, tail) = accounts.split_at_mut(accounts.len().min(9));
    let [
        settler,
        node,
        round,
        vault,
        node_state,
        reputation,
        marker,
        treasury,
        leaves,
    ] = head
    else {
        return Err(not_enough_accounts());
    };
    require_signer(settler)?;
    require_writable(&[
        settler, node, round, vault, node_state, reputation, treasury,
    ])?;
    require_distinct(&[node, round, vault, node_state, reputation, treasury])?;
    let mut round_state: Box<Round> = load_round(round, program_id)?;
    require_key(vault, &round_state.vault, DropPinError::VaultMismatch)?;
    require_key(
        treasury,
        &round_state.treasury,
        DropPinError::TreasuryMismatch,
    )?;
    let state: NodeState = load(node_state, program_id)?;
    let round_key = round.address().to_bytes();
    require_node_of_round(&state, &round_key, node)?;
    let mut record = load_reputation(program_id, reputation, &state.node)?;
    let mut treasury_state: Treasury = load(treasury, program_id)?;
    let escrow = Escrow::of(&round_state, tail, node)?;
    let leaf = leaf_of(program_id, &round_state, &round_key, leaves, state.index)?;

    let payout =
        coordinator::settle_node(&mut round_state, &state, &mut record, leaf, current_slot()?)
            .map_err(fail)?;
    let signer = RoundSigner::of(&round_state);
    escrow.pay(vault, node, round, &signer, payout.to_node)?;
    escrow.to_slashes(
        vault,
        treasury,
        &mut treasury_state,
        round,
        &signer,
        payout.to_treasury,
    )?;
    save(treasury, &treasury_state)?;
    save(reputation, &record)?;
    save(round, &*round_state)?;
    if state.cid.is_well_formed() && !state.duplicate {
        require_writable(&[marker])?;
        let record: CidMarker = load(marker, program_id)?;
        if record.round != round_key || record.node != state.node {
            return Err(fail(DropPinError::CidMarkerMismatch));
        }
        close_with_bounty(marker, node, settler)?;
    }
    close_with_bounty(node_state, node, settler)
}

/// The node's leaf in the verdict in force, once the round is finalized.
#[inline(always)]
fn leaf_of(
    program_id: &Address,
    round: &Round,
    round_key: &[u8; 32],
    leaves: &AccountView,
    index: u32,
) -> Result<Option<Leaf>> {
    if round.status != RoundStatus::Finalized {
        return Ok(None);
    }
    if is_uninitialized(leaves) {
        return Err(fail(DropPinError::VerdictIncomplete));
    }
    let header: VerdictLeaves = load(leaves, program_id)?;
    if &header.round != round_key || header.level != round.outcome.level {
        return Err(fail(DropPinError::RoundMismatch));
    }
    if !header.complete {
        return Err(fail(DropPinError::VerdictIncomplete));
    }
    let data = leaves.try_borrow()?;
    Ok(header.leaf(&data, index))
}

/// The account must sit at the round-scoped address of `seed`.
pub(super) fn require_round_scoped(
    program_id: &Address,
    round_key: &[u8; 32],
    account: &AccountView,
    seed: &[u8; 32],
) -> Result {
    let expected = round_scoped_address::<SyscallSha256>(&program_id.to_bytes(), round_key, seed);
    require_key(account, &expected, DropPinError::InvalidPda)
}

fn require_node_of_round(state: &NodeState, round_key: &[u8; 32], node: &AccountView) -> Result {
    if &state.round != round_key {
        return Err(fail(DropPinError::RoundMismatch));
    }
    require_key(node, &state.node, DropPinError::NodeMismatch)
}

fn load_reputation(
    program_id: &Address,
    reputation: &AccountView,
    node: &[u8; 32],
) -> Result<Reputation> {
    let record: Reputation = load(reputation, program_id)?;
    if &record.node != node {
        return Err(fail(DropPinError::NodeMismatch));
    }
    Ok(record)
}
