//! The protocol over the wire: the local network (surfpool's surfnet behind JSON-RPC, the real
//! program deployed), real slot hashes seeding the draws, blobs through the storage gateway.

use droppin_cli::{
    committee::{SealedVote, drawn, reveal, sit_and_seal},
    demo::{DemoConfig, embedded_chain, run},
    localnet::{Localnet, LocalnetOptions, PageOrigins},
};
use droppin_client::{Chain, ChainError, Protocol, RpcChain};
use droppin_fl::data::digits;
use droppin_interface::{
    Cid, LAMPORTS_PER_SOL,
    hash::{Hasher, Sha256, commitment},
    instruction::{PhaseLengths, VerdictVote},
    pda::find,
    state::AppealResolution,
    verdict::{Leaf, Outcome, VerdictTree},
};
use droppin_storage::{KuboStore, Limits};
use droppin_tests::{program_path, round_args};
use solana_keypair::Keypair;
use solana_signer::Signer;

fn localnet(dir: &std::path::Path) -> Localnet {
    Localnet::start(LocalnetOptions {
        rpc_port: 0,
        gateway_port: 0,
        data_dir: dir.join("localnet"),
        web_root: None,
        pages: PageOrigins::Any,
        program: program_path(),
        admin: Keypair::new(),
    })
    .unwrap()
}

#[test]
fn a_round_over_json_rpc_and_the_storage_gateway() {
    let dir = tempfile::tempdir().unwrap();
    let localnet = localnet(dir.path());
    // 100-slot phases: time over the wire to register, stake, train and commit.
    let mut config = DemoConfig::new(dir.path().join("out"));
    config.phase_slots = Some(100);
    let chain = RpcChain::connect(&localnet.rpc_url).unwrap();
    let store = KuboStore::new(&localnet.gateway_url(), Limits::default()).unwrap();
    let report = run(&config, chain, &store, &digits().unwrap()).unwrap();
    for node in &report.nodes {
        // Sign flips surely raise the validation loss: excluded, nothing paid.
        let expected = if node.malicious {
            "excluded"
        } else {
            "accepted"
        };
        assert_eq!(node.verdict, expected, "{node:?}");
    }
    assert_eq!(report.escrow_remaining_lamports, 0);
    assert!(report.accuracy_after > report.accuracy_before + 0.3);
    assert!(report.validators.iter().any(|v| v.drawn));
    // The cluster reports compute units per transaction, as the embedded chain does.
    assert!(report.compute_units["RevealUpdate"].max > 0);
    // The same seed on the embedded chain ships the same model: the chain (and who was drawn
    // to judge) does not matter to an honest verdict.
    let embedded = run(
        &DemoConfig::new(dir.path().join("embedded")),
        embedded_chain(&program_path(), 1).unwrap(),
        &droppin_storage::LocalStore::open(dir.path().join("blobs"), Limits::default()).unwrap(),
        &digits().unwrap(),
    )
    .unwrap();
    assert_eq!(embedded.model_cid, report.model_cid);
}

fn funded(protocol: &mut Protocol<RpcChain>, sol: u64) -> Keypair {
    let key = Keypair::new();
    protocol
        .chain
        .airdrop(&key.pubkey(), sol * LAMPORTS_PER_SOL)
        .unwrap();
    key
}

fn vote_of(tree: &VerdictTree) -> VerdictVote {
    let tally = tree.tally();
    let model = [0x77; 32];
    VerdictVote {
        leaves_root: tree.root(),
        new_model_hash: model,
        new_model_cid: Cid::from_digest(&model),
        verdict_list_cid: Cid::from_digest(&[0x78; 32]),
        accepted: tally.accepted,
        excluded: tally.excluded,
        slashed: tally.slashed,
        no_shows: tally.no_shows,
        weight_sum_bps: tally.weight_sum,
    }
}

/// Registry of five, a drawn committee, sealed votes and an appeal that overturns a captive
/// verdict, with the slot hashes of a running cluster.
#[test]
fn an_appeal_over_json_rpc_overturns_a_captive_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let localnet = localnet(dir.path());
    let mut protocol = Protocol::new(RpcChain::connect(&localnet.rpc_url).unwrap());
    // Two validators collude and bond enough to be drawn for certain; the three honest ones
    // drawn with them stay away (an outage, or a bribe), so the colluders hold the quorum.
    let colluders: Vec<Keypair> = (0..2).map(|_| funded(&mut protocol, 30)).collect();
    let honest: Vec<Keypair> = (0..3).map(|_| funded(&mut protocol, 20)).collect();
    for v in &colluders {
        protocol
            .register_validator(v, 20 * LAMPORTS_PER_SOL)
            .unwrap();
    }
    for v in &honest {
        protocol
            .register_validator(v, 10 * LAMPORTS_PER_SOL)
            .unwrap();
    }
    assert_eq!(protocol.registry().unwrap().validators, 5);
    let slot = protocol.chain.slot().unwrap();
    protocol.chain.wait_for_slot(slot + 1).unwrap();
    let funder = funded(&mut protocol, 10);
    let mut args = round_args(protocol.chain.slot().unwrap(), LAMPORTS_PER_SOL);
    let phase = protocol.config().unwrap().params.min_phase_slots;
    (args.commit, args.reveal, args.validation) =
        PhaseLengths::uniform(phase).deadlines(protocol.chain.slot().unwrap());
    args.max_nodes = 2;
    args.committee_size = 4;
    let round = protocol.open_round(&funder, args).unwrap();
    let nodes: Vec<(Keypair, Cid, [u8; 32])> = (0..2u8)
        .map(|i| {
            let key = funded(&mut protocol, 5);
            let cid = Cid::from_digest(&[i + 1; 32]);
            (key, cid, Sha256::hashv(&[&[i]]))
        })
        .collect();
    for (key, cid, salt) in &nodes {
        protocol.join_round(key, &round).unwrap();
        let sealed = commitment::<Sha256>(&key.pubkey().to_bytes(), cid, salt);
        protocol.commit_update(key, &round, sealed).unwrap();
    }
    let deadlines = protocol.round(&round).unwrap().deadlines;
    protocol.chain.wait_for_slot(deadlines.commit).unwrap();
    for (key, cid, salt) in &nodes {
        protocol
            .reveal_update(key, &round, *cid, *salt, 10)
            .unwrap();
    }
    // The first reveal took the seed's anchor from the validator's own SlotHashes sysvar: the
    // last slot before the commit deadline, whose leader could see no salt.
    let anchor = protocol.round(&round).unwrap().anchor;
    assert!(anchor.recorded && anchor.slot < deadlines.commit && anchor.hash != [0; 32]);
    let honest_tree = VerdictTree::new::<Sha256>(
        round.to_bytes(),
        vec![
            Leaf {
                outcome: Outcome::Accepted,
                weight_bps: 5_000
            };
            2
        ],
    );
    let forged_tree = VerdictTree::new::<Sha256>(
        round.to_bytes(),
        vec![
            Leaf {
                outcome: Outcome::Slashed,
                weight_bps: 0
            };
            2
        ],
    );
    let (honest_vote, forged_vote) = (vote_of(&honest_tree), vote_of(&forged_tree));

    protocol.chain.wait_for_slot(deadlines.reveal).unwrap();
    protocol.draw_committee(&funder, &round, 0).unwrap();
    let state = protocol.round(&round).unwrap();
    for c in &colluders {
        let bond = protocol.bond(&c.pubkey()).unwrap().unwrap();
        assert!(
            drawn(&state, &c.pubkey(), &bond, 0),
            "a large bond is drawn for certain"
        );
        let sealed = SealedVote {
            vote: forged_vote,
            salt: [9; 32],
        };
        sit_and_seal(&mut protocol, c, &round, 0, &sealed).unwrap();
    }
    protocol.chain.wait_for_slot(deadlines.validation).unwrap();
    for c in &colluders {
        reveal(
            &mut protocol,
            c,
            &round,
            0,
            &SealedVote {
                vote: forged_vote,
                salt: [9; 32],
            },
        )
        .unwrap();
    }
    protocol.chain.wait_for_slot(deadlines.vote_reveal).unwrap();
    protocol
        .finalize_round(&funder, &round, &colluders[0].pubkey())
        .unwrap();
    protocol
        .post_verdict(&colluders[0], &round, 0, &forged_tree)
        .unwrap();
    assert_eq!(protocol.round(&round).unwrap().outcome.vote.slashed, 2);

    // A node appeals; the appeal's committee is drawn after it, without the colluders.
    protocol.appeal(&nodes[0].0, &round).unwrap();
    let draw_slot = protocol.round(&round).unwrap().committees[1].draw_slot;
    protocol.chain.wait_for_slot(draw_slot).unwrap();
    protocol.draw_committee(&funder, &round, 1).unwrap();
    let state = protocol.round(&round).unwrap();
    let mut voted = Vec::new();
    for v in &honest {
        let bond = protocol.bond(&v.pubkey()).unwrap().unwrap();
        if drawn(&state, &v.pubkey(), &bond, 1) {
            sit_and_seal(
                &mut protocol,
                v,
                &round,
                1,
                &SealedVote {
                    vote: honest_vote,
                    salt: [7; 32],
                },
            )
            .unwrap();
            voted.push(v);
        }
    }
    assert!(voted.len() >= 2, "{} honest seats", voted.len());
    protocol
        .chain
        .wait_for_slot(state.committees[1].vote_deadline)
        .unwrap();
    for v in &voted {
        reveal(
            &mut protocol,
            v,
            &round,
            1,
            &SealedVote {
                vote: honest_vote,
                salt: [7; 32],
            },
        )
        .unwrap();
    }
    protocol
        .chain
        .wait_for_slot(state.committees[1].reveal_deadline)
        .unwrap();
    protocol
        .resolve_appeal(&funder, &round, Some(&voted[0].pubkey()))
        .unwrap();
    let state = protocol.round(&round).unwrap();
    assert_eq!(state.appeal.resolution, AppealResolution::Overturned);
    protocol
        .post_verdict(&funder, &round, 1, &honest_tree)
        .unwrap();

    // Everyone settles by the appeal's verdict, once its committee's absences can no longer be
    // reported.
    protocol
        .chain
        .wait_for_slot(droppin_coordinator::absences_over(&state))
        .unwrap();
    let stake = state.node_stake;
    for (key, _, _) in &nodes {
        let before = protocol.chain.balance(&key.pubkey()).unwrap();
        let rent = protocol
            .chain
            .balance(&find::node(&protocol.program, &round, &key.pubkey()))
            .unwrap();
        protocol.settle_node(key, &round, &key.pubkey()).unwrap();
        let received = protocol.chain.balance(&key.pubkey()).unwrap() + 5_000 - before;
        assert!(received >= stake + rent, "an honest node is paid in full");
    }
    let lock = state.committees[0].seat_lock;
    for c in &colluders {
        protocol.settle_seat(c, &round, &c.pubkey(), 0).unwrap();
        let bond = protocol.bond(&c.pubkey()).unwrap().unwrap();
        assert_eq!(
            bond.bond,
            20 * LAMPORTS_PER_SOL - lock,
            "a captive seat loses its lock"
        );
    }
    for v in &voted {
        protocol.settle_seat(v, &round, &v.pubkey(), 1).unwrap();
    }
    protocol.settle_appeal(&funder, &round).unwrap();
    protocol.close_round(&funder, &round).unwrap();
    assert!(
        protocol
            .state::<droppin_interface::state::Round>(&round)
            .unwrap()
            .is_none()
    );
}

#[test]
fn an_unreachable_cluster_says_where() {
    match RpcChain::connect("http://127.0.0.1:9") {
        Err(ChainError::Unreachable { url, .. }) => assert_eq!(url, "http://127.0.0.1:9"),
        Err(other) => panic!("expected unreachable, got {other}"),
        Ok(_) => panic!("nothing listens on port 9"),
    }
}
