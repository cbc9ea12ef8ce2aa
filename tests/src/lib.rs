//! Test harness: the real dropPIN SBF program (`target/deploy/droppin.so`, built by
//! `scripts/build-programs`) on the client's embedded chain (LiteSVM), with helpers that drive a round through the
//! interface crate's instruction builders.

pub mod browser;

use std::path::PathBuf;

use droppin_client::{Chain, ChainError, EmbeddedChain, token};
use droppin_interface::{
    Cid, DropPinError, LAMPORTS_PER_SOL, PROGRAM_ID, builders,
    hash::{Sha256, commitment},
    instruction::{OpenRoundArgs, VerdictVote},
    merkle::{MerkleTree, Verdict, VerdictLeaf},
    pda::find,
    state::{AccountState, Deadlines, ProtocolParams, Round},
};
use solana_address::Address;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;

/// Why a transaction failed: one of the program's errors, or anything else the runtime said.
#[derive(Debug, PartialEq, Eq)]
pub enum Failure {
    /// A dropPIN error code.
    Program(DropPinError),
    /// Any other failure (system program, runtime), as text.
    Other(String),
}

/// Path of the program binary.
pub fn program_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/deploy/droppin.so")
}

/// The embedded chain with the dropPIN program loaded and the protocol initialized.
pub struct Harness {
    /// The chain (LiteSVM and the program).
    pub chain: EmbeddedChain,
    /// The program id.
    pub program: Address,
    /// The protocol admin.
    pub admin: Keypair,
}

/// Compute units consumed by a successful transaction.
pub type ComputeUnits = u64;

impl Harness {
    /// Loads the program and initializes the protocol with default parameters.
    pub fn new() -> Harness {
        Harness::with_params(ProtocolParams::default())
    }

    /// Loads the program and initializes the protocol with `params`.
    pub fn with_params(params: ProtocolParams) -> Harness {
        let mut harness = Harness::bare();
        let admin = harness.funded(100);
        harness
            .send(
                &[builders::initialize_config(
                    &harness.program,
                    &admin.pubkey(),
                    params,
                )],
                &[&admin],
            )
            .expect("initialize config");
        harness.admin = admin;
        harness
    }

    /// Loads the program without initializing anything.
    pub fn bare() -> Harness {
        let path = program_path();
        assert!(
            path.exists(),
            "{} is missing: run scripts/build-programs",
            path.display()
        );
        Harness {
            chain: EmbeddedChain::new(&path).expect("load program"),
            program: Address::new_from_array(PROGRAM_ID),
            admin: Keypair::new(),
        }
    }

    /// A new keypair holding `sol` SOL.
    pub fn funded(&mut self, sol: u64) -> Keypair {
        let keypair = Keypair::new();
        self.chain
            .airdrop(&keypair.pubkey(), sol * LAMPORTS_PER_SOL)
            .expect("airdrop");
        keypair
    }

    /// Sends one transaction paid by the first signer; returns its compute units.
    pub fn send(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<ComputeUnits, Failure> {
        match self.chain.send(instructions, signers) {
            Ok(sent) => Ok(sent
                .compute_units
                .expect("the embedded chain reports units")),
            Err(ChainError::Program { error, .. }) => Err(Failure::Program(error)),
            Err(other) => Err(Failure::Other(other.to_string())),
        }
    }

    /// Transaction fees paid so far, failed transactions included (they leave the ledger:
    /// conservation checks add them back).
    pub fn fees_paid(&self) -> u64 {
        self.chain.fees_paid()
    }

    /// Lamports held by an account (0 if it does not exist).
    pub fn balance(&self, address: &Address) -> u64 {
        self.chain
            .balance(address)
            .expect("the embedded chain answers")
    }

    /// Decodes a program account.
    pub fn state<T: AccountState>(&self, address: &Address) -> Option<T> {
        let account = self
            .chain
            .account(address)
            .expect("the embedded chain answers")?;
        (account.owner == self.program)
            .then(|| T::load(&account.data).ok())
            .flatten()
    }

    /// The current slot.
    pub fn slot(&self) -> u64 {
        self.chain.slot().expect("the embedded chain answers")
    }

    /// Moves the clock to `slot`.
    pub fn warp(&mut self, slot: u64) {
        self.chain.svm_mut().warp_to_slot(slot);
    }

    /// The next round's id.
    pub fn next_round_id(&self) -> u64 {
        self.state::<droppin_interface::state::ProtocolConfig>(&find::config(&self.program))
            .expect("config")
            .round_count
    }

    /// Sum of lamports over a set of accounts.
    pub fn total(&self, accounts: &[Address]) -> u64 {
        accounts.iter().map(|a| self.balance(a)).sum()
    }
}

impl Default for Harness {
    fn default() -> Self {
        Harness::new()
    }
}

/// Round arguments with sensible defaults: 8 nodes, 0.02 SOL stakes, 100-slot phases from `slot`.
pub fn round_args(slot: u64, committee: &[Address], amount: u64) -> OpenRoundArgs {
    let model_hash = [0x11; 32];
    OpenRoundArgs {
        task_hash: [0x22; 32],
        model_hash,
        model_cid: Cid::from_digest(&model_hash),
        validation_set_hash: [0x33; 32],
        max_nodes: 8,
        node_stake: 20_000_000,
        validator_stake: 20_000_000,
        amount,
        deadlines: Deadlines {
            commit: slot + 100,
            reveal: slot + 200,
            validation: slot + 300,
        },
        committee: committee.iter().map(Address::to_bytes).collect(),
        quorum_bps: droppin_interface::instruction::DEFAULT_QUORUM_BPS,
        currency: droppin_interface::state::Currency::Sol,
    }
}

/// A node taking part in a round.
pub struct Node {
    /// Its wallet.
    pub key: Keypair,
    /// The CID of its update.
    pub cid: Cid,
    /// Its commit-reveal salt.
    pub salt: [u8; 32],
}

impl Node {
    /// A node whose update has the digest `[tag; 32]`.
    pub fn new(harness: &mut Harness, tag: u8) -> Node {
        Node {
            key: harness.funded(10),
            cid: Cid::from_digest(&[tag; 32]),
            salt: [tag ^ 0xa5; 32],
        }
    }

    /// Its address.
    pub fn address(&self) -> Address {
        self.key.pubkey()
    }

    /// Its commitment.
    pub fn commitment(&self) -> [u8; 32] {
        commitment::<Sha256>(&self.address().to_bytes(), &self.cid, &self.salt)
    }
}

/// An open round and its participants, driven phase by phase.
pub struct RoundRun {
    /// The round PDA.
    pub round: Address,
    /// The funder.
    pub funder: Keypair,
    /// The committee.
    pub validators: Vec<Keypair>,
    /// The deadlines.
    pub deadlines: Deadlines,
}

impl RoundRun {
    /// Opens a round funded with `amount` lamports and a committee of `committee` validators.
    pub fn open(
        h: &mut Harness,
        committee: usize,
        amount: u64,
        tweak: impl FnOnce(&mut OpenRoundArgs),
    ) -> RoundRun {
        let funder = h.funded(1_000);
        let validators: Vec<Keypair> = (0..committee).map(|_| h.funded(10)).collect();
        let keys: Vec<Address> = validators.iter().map(Keypair::pubkey).collect();
        let mut args = round_args(h.slot(), &keys, amount);
        tweak(&mut args);
        let deadlines = args.deadlines;
        let id = h.next_round_id();
        h.send(
            &[builders::open_round(&h.program, &funder.pubkey(), id, args)],
            &[&funder],
        )
        .expect("open round");
        RoundRun {
            round: find::round(&h.program, id),
            funder,
            validators,
            deadlines,
        }
    }

    /// The round's state.
    pub fn state(&self, h: &Harness) -> Round {
        h.state(&self.round).expect("round exists")
    }

    /// Joins and commits a node.
    pub fn join_and_commit(&self, h: &mut Harness, node: &Node) {
        let program = h.program;
        h.send(
            &[builders::join_round(&program, &node.address(), &self.round)],
            &[&node.key],
        )
        .expect("join");
        h.send(
            &[builders::commit_update(
                &program,
                &node.address(),
                &self.round,
                node.commitment(),
            )],
            &[&node.key],
        )
        .expect("commit");
    }

    /// Reveals a node's update.
    pub fn reveal(&self, h: &mut Harness, node: &Node) -> Result<ComputeUnits, Failure> {
        let program = h.program;
        h.send(
            &[builders::reveal_update(
                &program,
                &node.address(),
                &self.round,
                node.cid,
                node.salt,
                100,
            )],
            &[&node.key],
        )
    }

    /// Bonds every committee member.
    pub fn join_committee(&self, h: &mut Harness) {
        let program = h.program;
        for v in &self.validators {
            h.send(
                &[builders::join_committee(&program, &v.pubkey(), &self.round)],
                &[v],
            )
            .expect("join committee");
        }
    }

    /// Builds the verdict tree and the vote for `leaves`.
    pub fn verdict(&self, leaves: &[VerdictLeaf]) -> (MerkleTree, VerdictVote) {
        let round_key = self.round.to_bytes();
        let tree = MerkleTree::from_leaf_hashes::<Sha256>(
            leaves
                .iter()
                .map(|l| l.hash::<Sha256>(&round_key))
                .collect(),
        );
        let model = [0x77; 32];
        let vote = VerdictVote {
            verdict_root: tree.root(),
            new_model_hash: model,
            new_model_cid: Cid::from_digest(&model),
            verdict_list_cid: Cid::from_digest(&[0x78; 32]),
            accepted_count: leaves
                .iter()
                .filter(|l| l.verdict == Verdict::Accepted)
                .count() as u32,
            slashed_count: leaves
                .iter()
                .filter(|l| l.verdict == Verdict::Slashed)
                .count() as u32,
        };
        (tree, vote)
    }

    /// Submits `vote` from validator `index`.
    pub fn vote(
        &self,
        h: &mut Harness,
        index: usize,
        vote: VerdictVote,
    ) -> Result<ComputeUnits, Failure> {
        let program = h.program;
        let v = &self.validators[index];
        h.send(
            &[builders::submit_verdict(
                &program,
                &v.pubkey(),
                &self.round,
                vote,
            )],
            &[v],
        )
    }

    /// Finalizes the round on the first validator's vote, paid by the funder.
    pub fn finalize(&self, h: &mut Harness) -> Result<ComputeUnits, Failure> {
        let program = h.program;
        h.send(
            &[builders::finalize_round(
                &program,
                &self.round,
                &self.validators[0].pubkey(),
            )],
            &[&self.funder],
        )
    }

    /// Every account whose lamports the round can move, for conservation checks.
    pub fn ledger(&self, h: &Harness, nodes: &[&Node]) -> Vec<Address> {
        let mut accounts = vec![
            self.round,
            find::vault(&h.program, &self.round),
            find::treasury(&h.program),
            self.funder.pubkey(),
        ];
        for node in nodes {
            accounts.push(node.address());
            accounts.push(find::node(&h.program, &self.round, &node.address()));
            accounts.push(find::reputation(&h.program, &node.address()));
            accounts.push(find::cid_marker(&h.program, &self.round, &node.cid));
        }
        for v in &self.validators {
            accounts.push(v.pubkey());
            accounts.push(find::validator(&h.program, &self.round, &v.pubkey()));
        }
        accounts
    }
}

/// A verdict leaf.
pub fn leaf(node: &Node, verdict: Verdict, weight_bps: u16) -> VerdictLeaf {
    VerdictLeaf {
        node: node.address().to_bytes(),
        verdict,
        weight_bps,
    }
}

/// $dPIN on the test chain: a fixed-supply mint held by the admin, adopted by the protocol.
pub struct Dpin {
    /// The mint.
    pub mint: Address,
}

/// One $dPIN in base units.
pub const DPIN: u64 = 1_000_000;
/// Node and validator stake of the test $dPIN rounds: 20 $dPIN (0.02 SOL at the reference price).
pub const STAKE: u64 = 20 * DPIN;

/// $dPIN minted at launch: 1,000,000,000 tokens of 6 decimals.
pub const DPIN_SUPPLY: u64 = 1_000_000_000 * 1_000_000;

impl Dpin {
    /// Creates the fixed-supply mint (all of it to the admin) and launches it.
    pub fn launch(h: &mut Harness) -> Dpin {
        let dpin = Dpin::mint_only(h);
        let admin = h.admin.insecure_clone();
        h.send(
            &[builders::launch_token(
                &h.program,
                &admin.pubkey(),
                &dpin.mint,
            )],
            &[&admin],
        )
        .expect("launch");
        dpin
    }

    /// Creates the fixed-supply mint without launching it.
    pub fn mint_only(h: &mut Harness) -> Dpin {
        let admin = h.admin.insecure_clone();
        let mint = Keypair::new();
        let ixs = token::fixed_supply_mint(
            &admin.pubkey(),
            &mint.pubkey(),
            &admin.pubkey(),
            DPIN_SUPPLY,
        );
        h.send(&ixs, &[&admin, &mint]).expect("create mint");
        Dpin {
            mint: mint.pubkey(),
        }
    }

    /// Gives `amount` base units from the admin's holding to `owner` (creating its account).
    pub fn give(&self, h: &mut Harness, owner: &Address, amount: u64) {
        let admin = h.admin.insecure_clone();
        let ixs = [
            token::create_wallet_account(&admin.pubkey(), owner, &self.mint),
            token::transfer_tokens(
                &self.account(&admin.pubkey()),
                &self.account(owner),
                &admin.pubkey(),
                amount,
            ),
        ];
        h.send(&ixs, &[&admin]).expect("give tokens");
    }

    /// `owner`'s $dPIN account.
    pub fn account(&self, owner: &Address) -> Address {
        token::wallet_account(owner, &self.mint)
    }

    /// The balance of `owner`'s $dPIN account (0 if it has none).
    pub fn balance_of(&self, h: &Harness, owner: &Address) -> u64 {
        self.balance(h, &self.account(owner))
    }

    /// The balance of a token account (0 if it does not exist).
    pub fn balance(&self, h: &Harness, account: &Address) -> u64 {
        token::balance(&h.chain, account)
            .expect("a token account")
            .unwrap_or(0)
    }

    /// The mint's supply.
    pub fn supply(&self, h: &Harness) -> u64 {
        token::supply(&h.chain, &self.mint).expect("the mint")
    }

    /// `ix` in its $dPIN-round form, `wallet` paying or being paid.
    pub fn ix(&self, ix: Instruction, round: &Address, wallet: &Address) -> Instruction {
        builders::in_dpin(ix, &self.mint, round, &self.account(wallet))
    }
}

impl Dpin {
    /// Opens a $dPIN round of `amount` base units with `committee` validators holding a stake.
    pub fn open_round(&self, h: &mut Harness, committee: usize, amount: u64) -> RoundRun {
        let funder = h.funded(10);
        self.give(h, &funder.pubkey(), amount);
        let validators: Vec<Keypair> = (0..committee).map(|_| h.funded(10)).collect();
        for v in &validators {
            self.give(h, &v.pubkey(), STAKE);
        }
        let keys: Vec<Address> = validators.iter().map(Keypair::pubkey).collect();
        let mut args = round_args(h.slot(), &keys, amount);
        args.node_stake = STAKE;
        args.validator_stake = STAKE;
        args.currency = droppin_interface::state::Currency::Dpin;
        let deadlines = args.deadlines;
        let id = h.next_round_id();
        let round = find::round(&h.program, id);
        let ix = builders::open_round(&h.program, &funder.pubkey(), id, args);
        h.send(&[self.ix(ix, &round, &funder.pubkey())], &[&funder])
            .expect("open a $dPIN round");
        RoundRun {
            round,
            funder,
            validators,
            deadlines,
        }
    }

    /// Stakes (in $dPIN) and commits a node; returns the join's compute units.
    pub fn join_and_commit(&self, h: &mut Harness, run: &RoundRun, node: &Node) -> ComputeUnits {
        let program = h.program;
        let join = builders::join_round(&program, &node.address(), &run.round);
        let units = h
            .send(&[self.ix(join, &run.round, &node.address())], &[&node.key])
            .expect("join");
        let commit =
            builders::commit_update(&program, &node.address(), &run.round, node.commitment());
        h.send(&[commit], &[&node.key]).expect("commit");
        units
    }

    /// Bonds every committee member in $dPIN; returns each join's compute units.
    pub fn join_committee(&self, h: &mut Harness, run: &RoundRun) -> Vec<ComputeUnits> {
        let program = h.program;
        run.validators
            .iter()
            .map(|v| {
                let ix = builders::join_committee(&program, &v.pubkey(), &run.round);
                h.send(&[self.ix(ix, &run.round, &v.pubkey())], &[v])
                    .expect("join committee")
            })
            .collect()
    }

    /// A counterparty's route for a swap batch: `market` pays `dpin_out` into `destination` and
    /// takes the batch's lamports from `caller`.
    pub fn route(
        &self,
        caller: &Keypair,
        market: &Keypair,
        destination: &Address,
        lamports: u64,
        dpin_out: u64,
    ) -> Vec<Instruction> {
        vec![
            token::transfer_tokens(
                &self.account(&market.pubkey()),
                destination,
                &market.pubkey(),
                dpin_out,
            ),
            solana_system_interface::instruction::transfer(
                &caller.pubkey(),
                &market.pubkey(),
                lamports,
            ),
        ]
    }

    /// `[BeginSwap, route.., EndSwap]` for one batch.
    pub fn batch(
        &self,
        h: &Harness,
        caller: &Keypair,
        lamports: u64,
        converting: Option<&Address>,
        route: Vec<Instruction>,
    ) -> Vec<Instruction> {
        let mut ixs = vec![builders::begin_swap(
            &h.program,
            &caller.pubkey(),
            lamports,
            converting,
        )];
        ixs.extend(route);
        ixs.push(builders::end_swap(&h.program, &self.mint, converting));
        ixs
    }
}
