//! The chain client against the real program: failures come back as errors a user can act on.

use droppin_client::{Chain, ChainError, EmbeddedChain, Protocol};
use droppin_interface::{Cid, DropPinError, LAMPORTS_PER_SOL};
use droppin_tests::{program_path, round_args, test_params};
use solana_keypair::Keypair;
use solana_signer::Signer;

fn protocol_with_round() -> (Protocol<EmbeddedChain>, solana_address::Address) {
    let mut chain = EmbeddedChain::new(&program_path()).unwrap();
    let admin = Keypair::new();
    chain.set_upgrade_authority(&admin.pubkey()).unwrap();
    let mut protocol = Protocol::new(chain);
    let funder = Keypair::new();
    let validator = Keypair::new();
    for key in [&admin, &funder, &validator] {
        protocol
            .chain
            .airdrop(&key.pubkey(), 10 * LAMPORTS_PER_SOL)
            .unwrap();
    }
    protocol.initialize_config(&admin, test_params()).unwrap();
    protocol
        .register_validator(&validator, 2 * LAMPORTS_PER_SOL)
        .unwrap();
    let slot = protocol.chain.slot().unwrap();
    protocol.chain.wait_for_slot(slot + 1).unwrap();
    let args = round_args(slot + 1, LAMPORTS_PER_SOL);
    let round = protocol.open_round(&funder, args).unwrap();
    (protocol, round)
}

#[test]
fn a_round_without_validators_is_refused_with_the_reason() {
    let mut chain = EmbeddedChain::new(&program_path()).unwrap();
    let admin = Keypair::new();
    chain.set_upgrade_authority(&admin.pubkey()).unwrap();
    let mut protocol = Protocol::new(chain);
    protocol
        .chain
        .airdrop(&admin.pubkey(), 10 * LAMPORTS_PER_SOL)
        .unwrap();
    protocol.initialize_config(&admin, test_params()).unwrap();
    let slot = protocol.chain.slot().unwrap();
    let error = protocol
        .open_round(&admin, round_args(slot, LAMPORTS_PER_SOL))
        .unwrap_err();
    assert!(
        error.to_string().contains("no validator is bonded"),
        "{error}"
    );
}

#[test]
fn a_node_short_of_its_stake_is_told_so() {
    let (mut protocol, round) = protocol_with_round();
    let poor = Keypair::new();
    protocol
        .chain
        .airdrop(&poor.pubkey(), LAMPORTS_PER_SOL / 200)
        .unwrap();
    let error = protocol.join_round(&poor, &round).unwrap_err();
    assert!(matches!(error, ChainError::InsufficientFunds(_)), "{error}");
    assert!(error.to_string().contains("JoinRound"), "{error}");
}

#[test]
fn the_wrong_phase_gets_the_programs_message() {
    let (mut protocol, round) = protocol_with_round();
    let node = Keypair::new();
    protocol
        .chain
        .airdrop(&node.pubkey(), LAMPORTS_PER_SOL)
        .unwrap();
    protocol.join_round(&node, &round).unwrap();
    let error = protocol
        .reveal_update(&node, &round, Cid::from_digest(&[1; 32]), [2; 32], 10)
        .unwrap_err();
    match &error {
        ChainError::Program { instruction, error } => {
            assert_eq!(instruction, "RevealUpdate");
            assert_eq!(*error, DropPinError::RevealNotOpen);
        }
        other => panic!("expected a program error, got {other}"),
    }
    assert!(
        error
            .to_string()
            .contains("the reveal phase has not started yet"),
        "{error}"
    );
    // The node's state is found by its round, as validators find revealed nodes.
    let nodes = protocol.round_nodes(&round).unwrap();
    assert_eq!(nodes.len(), 1);
    assert_eq!(nodes[0].node, node.pubkey().to_bytes());
}

#[test]
fn a_round_that_does_not_exist_says_so() {
    let (protocol, _) = protocol_with_round();
    let error = protocol.round(&Keypair::new().pubkey()).unwrap_err();
    assert!(error.to_string().starts_with("no round at"), "{error}");
}
