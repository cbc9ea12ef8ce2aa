//! A negative test for each account-security class on the real program, each expecting its
//! specific error. The clock and rent are read through syscalls; the sysvar accounts the
//! program does take (SlotHashes, instructions) are checked by key (see `committee.rs` and
//! `token.rs` for the forged-sysvar cases).

use droppin_interface::{
    DropPinError, LAMPORTS_PER_SOL, builders,
    pda::{REPUTATION_SEED, find},
};
use droppin_tests::{Failure, Harness, Node, RoundRun, test_params};
use solana_address::Address;
use solana_instruction::{AccountMeta, Instruction};
use solana_keypair::Keypair;
use solana_signer::Signer;

fn expect(result: Result<u64, Failure>, error: DropPinError) {
    assert_eq!(result, Err(Failure::Program(error)));
}

fn setup() -> (Harness, RoundRun, Node) {
    let mut h = Harness::new();
    h.validators(3, 5);
    let run = RoundRun::open(&mut h, LAMPORTS_PER_SOL, |_| {});
    let node = Node::new(&mut h, 1);
    (h, run, node)
}

#[test]
fn missing_signer() {
    let (mut h, run, node) = setup();
    let payer = h.funded(1);
    let mut ix = builders::join_round(&h.program, &node.address(), &run.round);
    ix.accounts[0].is_signer = false;
    expect(h.send(&[ix], &[&payer]), DropPinError::MissingSigner);
    let mut ix = builders::update_config(&h.program, &h.admin.pubkey(), test_params(), None);
    ix.accounts[0].is_signer = false;
    expect(h.send(&[ix], &[&payer]), DropPinError::MissingSigner);
}

#[test]
fn not_writable() {
    let (mut h, run, node) = setup();
    run.join_and_commit(&mut h, &node);
    let mut ix = builders::commit_update(&h.program, &node.address(), &run.round, [3; 32]);
    ix.accounts[1].is_writable = false;
    expect(
        h.send(&[ix], &[&node.key]),
        DropPinError::AccountNotWritable,
    );
}

#[test]
fn wrong_owner() {
    let (mut h, run, _) = setup();
    // A byte-for-byte copy of the round, owned by another program.
    let mut forged = h.chain.svm().get_account(&run.round).unwrap();
    forged.owner = Address::new_unique();
    let fake = Address::new_unique();
    h.chain.svm_mut().set_account(fake, forged).unwrap();
    let patron = h.funded(2);
    let ix = builders::fund_round(&h.program, &patron.pubkey(), &fake, LAMPORTS_PER_SOL);
    expect(h.send(&[ix], &[&patron]), DropPinError::InvalidAccountOwner);
}

#[test]
fn type_cosplay() {
    let (mut h, run, node) = setup();
    run.join_and_commit(&mut h, &node);
    // A node state passed where a round is expected.
    let node_state = find::node(&h.program, &run.round, &node.address());
    let patron = h.funded(2);
    let mut ix = builders::fund_round(&h.program, &patron.pubkey(), &run.round, LAMPORTS_PER_SOL);
    ix.accounts[1].pubkey = node_state;
    expect(h.send(&[ix], &[&patron]), DropPinError::InvalidAccountType);
}

#[test]
fn re_initialization() {
    let (mut h, run, node) = setup();
    let admin = h.admin.insecure_clone();
    let ix = builders::initialize_config(&h.program, &admin.pubkey(), test_params());
    expect(
        h.send(&[ix], &[&admin]),
        DropPinError::AccountAlreadyInitialized,
    );
    run.join_and_commit(&mut h, &node);
    let ix = builders::join_round(&h.program, &node.address(), &run.round);
    expect(
        h.send(&[ix], &[&node.key]),
        DropPinError::AccountAlreadyInitialized,
    );
}

#[test]
fn non_canonical_bump_and_wrong_seed_address() {
    let (mut h, run, node) = setup();
    let node_key = node.address();
    let seeds: [&[u8]; 2] = [REPUTATION_SEED, node_key.as_ref()];
    let (canonical, bump) = Address::find_program_address(&seeds, &h.program);
    let other = (0..bump)
        .rev()
        .find_map(|b| Address::create_program_address(&[seeds[0], seeds[1], &[b]], &h.program).ok())
        .expect("another valid bump");
    assert_ne!(other, canonical);
    let mut ix = builders::join_round(&h.program, &node.address(), &run.round);
    ix.accounts[4].pubkey = other;
    expect(h.send(&[ix], &[&node.key]), DropPinError::InvalidPda);
    // The node state lives at its round-scoped address and nowhere else.
    let mut ix = builders::join_round(&h.program, &node.address(), &run.round);
    ix.accounts[3].pubkey = Address::new_unique();
    expect(h.send(&[ix], &[&node.key]), DropPinError::InvalidPda);
}

#[test]
fn pda_sharing_across_rounds() {
    let (mut h, run, node) = setup();
    let other = RoundRun::open(&mut h, LAMPORTS_PER_SOL, |_| {});
    // Round B's vault with round A.
    let patron = h.funded(2);
    let mut ix = builders::fund_round(&h.program, &patron.pubkey(), &run.round, LAMPORTS_PER_SOL);
    ix.accounts[2].pubkey = find::vault(&h.program, &other.round);
    expect(h.send(&[ix], &[&patron]), DropPinError::VaultMismatch);
    // A node state of round A used to reveal in round B.
    run.join_and_commit(&mut h, &node);
    h.warp(run.deadlines.commit);
    let mut ix = builders::reveal_update(
        &h.program,
        &node.address(),
        &other.round,
        node.cid,
        node.salt,
        1,
    );
    ix.accounts[2].pubkey = find::node(&h.program, &run.round, &node.address());
    expect(h.send(&[ix], &[&node.key]), DropPinError::RoundMismatch);
}

#[test]
fn duplicate_mutable_accounts() {
    let (mut h, run, _) = setup();
    let treasury = find::treasury(&h.program);
    let mut ix = builders::close_round(&h.program, &run.round, &run.funder.pubkey(), [None, None]);
    ix.accounts[0].pubkey = treasury;
    expect(
        h.send(&[ix], &[&run.funder]),
        DropPinError::DuplicateMutableAccount,
    );
}

#[test]
fn arbitrary_cpi_target() {
    let (mut h, run, node) = setup();
    let mut ix = builders::join_round(&h.program, &node.address(), &run.round);
    ix.accounts[5].pubkey = h.program;
    expect(
        h.send(&[ix], &[&node.key]),
        DropPinError::InvalidSystemProgram,
    );
}

#[test]
fn closing_and_revival() {
    let (mut h, run, node) = setup();
    run.join_and_commit(&mut h, &node);
    h.warp(run.deadlines.reveal);
    let program = h.program;
    h.send(
        &[builders::crank_timeout(&program, &run.round)],
        &[&run.funder],
    )
    .unwrap();
    let settle = run.settle_node_ix(&h, &run.funder.pubkey(), &node.address());
    let node_state = find::node(&program, &run.round, &node.address());
    let revive = solana_system_interface::instruction::transfer(
        &run.funder.pubkey(),
        &node_state,
        10_000_000,
    );
    // Settle, revive the closed account with a top-up, settle again: all in one transaction.
    let result = h.send(
        &[settle.clone(), revive.clone(), settle.clone()],
        &[&run.funder],
    );
    expect(result, DropPinError::InvalidAccountOwner);
    h.send(std::slice::from_ref(&settle), &[&run.funder])
        .expect("the honest settlement still works");
    h.send(&[revive], &[&run.funder]).unwrap();
    expect(
        h.send(&[settle], &[&run.funder]),
        DropPinError::InvalidAccountOwner,
    );
}

#[test]
fn arithmetic_overflow() {
    // Without a fee the whole top-up lands in the pool, which then overflows.
    let mut h = Harness::with_params(droppin_interface::state::ProtocolParams {
        fee_bps: 0,
        ..test_params()
    });
    h.validators(3, 5);
    let run = RoundRun::open(&mut h, LAMPORTS_PER_SOL, |_| {});
    let patron = h.funded(2);
    let ix = builders::fund_round(&h.program, &patron.pubkey(), &run.round, u64::MAX - 1_000);
    expect(h.send(&[ix], &[&patron]), DropPinError::ArithmeticOverflow);
}

#[test]
fn unauthorized_admin_and_wrong_recipient() {
    let (mut h, run, node) = setup();
    let stranger = h.funded(1);
    let ix = builders::update_config(
        &h.program,
        &stranger.pubkey(),
        test_params(),
        Some(&stranger.pubkey()),
    );
    expect(h.send(&[ix], &[&stranger]), DropPinError::Unauthorized);
    run.join_and_commit(&mut h, &node);
    h.warp(run.deadlines.reveal + 200);
    h.send(
        &[builders::crank_timeout(&h.program, &run.round)],
        &[&stranger],
    )
    .unwrap();
    // The payout goes to the node, whoever settles: another wallet in its place is refused.
    let mut ix = run.settle_node_ix(&h, &stranger.pubkey(), &node.address());
    ix.accounts[1].pubkey = stranger.pubkey();
    expect(h.send(&[ix], &[&stranger]), DropPinError::NodeMismatch);
}

#[test]
fn malformed_instruction_data() {
    let mut h = Harness::new();
    let payer: Keypair = h.funded(1);
    for data in [vec![], vec![200], vec![6, 1, 2], vec![21, 0], {
        let mut d =
            borsh::to_vec(&droppin_interface::instruction::DropPinInstruction::CrankTimeout)
                .unwrap();
        d.push(0);
        d
    }] {
        let ix = Instruction::new_with_bytes(
            h.program,
            &data,
            vec![AccountMeta::new(payer.pubkey(), true)],
        );
        assert_eq!(
            h.send(&[ix], &[&payer]),
            Err(Failure::Program(DropPinError::InvalidInstructionData)),
            "{data:?}"
        );
    }
    let crank =
        borsh::to_vec(&droppin_interface::instruction::DropPinInstruction::CrankTimeout).unwrap();
    let ix = Instruction::new_with_bytes(h.program, &crank, vec![]);
    expect(h.send(&[ix], &[&payer]), DropPinError::NotEnoughAccountKeys);
}

#[test]
fn cid_marker_address_is_checked_and_squatting_fails() {
    let (mut h, run, node) = setup();
    run.join_and_commit(&mut h, &node);
    h.warp(run.deadlines.commit);
    let program = h.program;
    let reveal = || {
        builders::reveal_update(
            &program,
            &node.address(),
            &run.round,
            node.cid,
            node.salt,
            1,
        )
    };
    // Another CID's marker address.
    let mut ix = reveal();
    let mut other = node.cid;
    other.0[10] ^= 1;
    ix.accounts[3].pubkey = find::cid_marker(&program, &run.round, &other);
    expect(h.send(&[ix], &[&node.key]), DropPinError::InvalidPda);
    // Someone pre-funds the right marker address: the reveal still takes it over.
    let marker = find::cid_marker(&program, &run.round, &node.cid);
    let squatter = h.funded(1);
    let transfer =
        solana_system_interface::instruction::transfer(&squatter.pubkey(), &marker, 1_000_000);
    h.send(&[transfer], &[&squatter]).unwrap();
    h.send(&[reveal()], &[&node.key]).unwrap();
    assert!(h.balance(&marker) >= 1_000_000);
}
