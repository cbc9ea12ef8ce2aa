//! Test harness: the real dropPIN SBF program (`target/deploy/droppin.so`, built by
//! `scripts/build-programs`) on the client's embedded chain (LiteSVM), with helpers that drive a round through the
//! interface crate's instruction builders.

pub mod browser;

use std::path::PathBuf;

use droppin_client::{Chain, ChainError, EmbeddedChain, token};
use droppin_interface::{
    Cid, DropPinError, LAMPORTS_PER_SOL, PROGRAM_ID, builders,
    hash::{Hasher, Sha256, commitment},
    instruction::{OpenRoundArgs, VerdictVote},
    pda::find,
    sortition::{drawn, vote_commitment},
    state::{
        AccountState, Currency, Deadlines, NodeState, ProtocolConfig, ProtocolParams, Registry,
        Round, RoundStatus, Seat, Treasury, ValidatorBond, VerdictLeaves,
    },
    verdict::{Leaf, Outcome, VerdictTree},
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

/// Slots per phase in the tests' protocol parameters (the defaults are hours; warping makes
/// either cost nothing, and short phases keep the slot figures readable).
pub const PHASE: u64 = 100;

/// The tests' protocol parameters: the defaults with every phase [`PHASE`] slots long.
pub fn test_params() -> ProtocolParams {
    ProtocolParams::short_phases(PHASE)
}

/// The embedded chain with the dropPIN program loaded and the protocol initialized.
pub struct Harness {
    /// The chain (LiteSVM and the program).
    pub chain: EmbeddedChain,
    /// The program id.
    pub program: Address,
    /// The protocol admin, also the program's upgrade authority.
    pub admin: Keypair,
    /// Keys handed out so far: every key is derived from this count, so a test's draws are the
    /// same run after run.
    keys: u64,
}

/// Compute units consumed by a successful transaction.
pub type ComputeUnits = u64;

impl Harness {
    /// Loads the program and initializes the protocol with the tests' parameters.
    pub fn new() -> Harness {
        Harness::with_params(test_params())
    }

    /// Loads the program, names the admin its upgrade authority and initializes the protocol
    /// with `params`.
    pub fn with_params(params: ProtocolParams) -> Harness {
        let mut harness = Harness::bare();
        let admin = harness.funded(100);
        harness
            .chain
            .set_upgrade_authority(&admin.pubkey())
            .expect("ProgramData");
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
            admin: Keypair::new_from_array([0; 32]),
            keys: 0,
        }
    }

    /// A new keypair (the next of the test's deterministic keys).
    pub fn keypair(&mut self) -> Keypair {
        self.keys += 1;
        Keypair::new_from_array(Sha256::hashv(&[
            b"droppin-test-key",
            &self.keys.to_le_bytes(),
        ]))
    }

    /// A new keypair holding `sol` SOL.
    pub fn funded(&mut self, sol: u64) -> Keypair {
        let keypair = self.keypair();
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

    /// Moves the clock to `slot` (never back), with the slot hashes a cluster would have.
    pub fn warp(&mut self, slot: u64) {
        if self.slot() < slot {
            self.chain.warp_to_slot(slot);
        }
    }

    /// The next round's id.
    pub fn next_round_id(&self) -> u64 {
        self.state::<ProtocolConfig>(&find::config(&self.program))
            .expect("config")
            .round_count
    }

    /// Sum of lamports over a set of accounts.
    pub fn total(&self, accounts: &[Address]) -> u64 {
        accounts.iter().map(|a| self.balance(a)).sum()
    }

    /// Registers `count` validators bonding `bond_sol` SOL each; the clock then moves a slot so
    /// their bonds count for rounds opened next.
    pub fn validators(&mut self, count: usize, bond_sol: u64) -> Vec<Keypair> {
        let keys: Vec<Keypair> = (0..count).map(|_| self.funded(bond_sol + 10)).collect();
        for key in &keys {
            let ix = builders::register_validator(
                &self.program,
                &key.pubkey(),
                bond_sol * LAMPORTS_PER_SOL,
            );
            self.send(&[ix], &[key]).expect("register");
        }
        let slot = self.slot();
        self.warp(slot + 1);
        keys
    }

    /// A validator's bond.
    pub fn bond(&self, validator: &Address) -> ValidatorBond {
        self.state(&find::bond(&self.program, validator))
            .expect("a registered validator")
    }

    /// `ix` with `validator`'s bond token leg appended when its bond is in $dPIN, `wallet`'s
    /// $dPIN account paying or paid.
    pub fn for_bond(&self, ix: Instruction, validator: &Address, wallet: &Address) -> Instruction {
        match self.state::<ValidatorBond>(&find::bond(&self.program, validator)) {
            Some(bond) if bond.currency == Currency::Dpin => {
                let config: ProtocolConfig =
                    self.state(&find::config(&self.program)).expect("config");
                let mint = Address::new_from_array(config.token.mint);
                let wallet_token = token::wallet_account(wallet, &mint);
                builders::bond_in_dpin(ix, &mint, validator, &wallet_token)
            }
            _ => ix,
        }
    }

    /// A `SettleSeat` of `validator` in `round` with its bond's token leg: a $dPIN bond pays
    /// the appellant, if any, else the validator's own account.
    pub fn for_seat_bond(
        &self,
        ix: Instruction,
        round: &Address,
        validator: &Address,
    ) -> Instruction {
        let appeal = self.state::<Round>(round).expect("round").appeal;
        let paid = if appeal.filed() {
            Address::new_from_array(appeal.appellant)
        } else {
            *validator
        };
        self.for_bond(ix, validator, &paid)
    }

    /// The registry.
    pub fn registry(&self) -> Registry {
        self.state(&find::registry(&self.program))
            .expect("the registry")
    }

    /// The treasury.
    pub fn treasury(&self) -> Treasury {
        self.state(&find::treasury(&self.program))
            .expect("the treasury")
    }
}

impl Default for Harness {
    fn default() -> Self {
        Harness::new()
    }
}

/// Round arguments with sensible defaults: 8 nodes, 0.02 SOL stakes, [`PHASE`]-slot phases
/// from `slot`, 3 seats expected.
pub fn round_args(slot: u64, amount: u64) -> OpenRoundArgs {
    let model_hash = [0x11; 32];
    OpenRoundArgs {
        task_cid: Cid::from_digest(&[0x22; 32]),
        model_hash,
        model_cid: Cid::from_digest(&model_hash),
        validation_set_hash: [0x33; 32],
        max_nodes: 8,
        node_stake: 20_000_000,
        amount,
        commit: slot + PHASE,
        reveal: slot + 2 * PHASE,
        validation: slot + 3 * PHASE,
        committee_size: 3,
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

/// A leaf.
pub fn leaf(outcome: Outcome, weight_bps: u16) -> Leaf {
    Leaf {
        outcome,
        weight_bps,
    }
}

/// An accepted leaf of `weight_bps`.
pub fn accepted(weight_bps: u16) -> Leaf {
    leaf(Outcome::Accepted, weight_bps)
}

/// An open round and its funder, driven phase by phase.
pub struct RoundRun {
    /// The round PDA.
    pub round: Address,
    /// The funder.
    pub funder: Keypair,
    /// The deadlines.
    pub deadlines: Deadlines,
}

impl RoundRun {
    /// Opens a round funded with `amount` lamports (tweak the arguments as needed).
    pub fn open(h: &mut Harness, amount: u64, tweak: impl FnOnce(&mut OpenRoundArgs)) -> RoundRun {
        let funder = h.funded(1_000);
        RoundRun::open_by(h, funder, amount, tweak)
    }

    /// Opens a round funded by `funder`.
    pub fn open_by(
        h: &mut Harness,
        funder: Keypair,
        amount: u64,
        tweak: impl FnOnce(&mut OpenRoundArgs),
    ) -> RoundRun {
        let mut args = round_args(h.slot(), amount);
        tweak(&mut args);
        let id = h.next_round_id();
        h.send(
            &[builders::open_round(&h.program, &funder.pubkey(), id, args)],
            &[&funder],
        )
        .expect("open round");
        let round = find::round(&h.program, id);
        let deadlines = h.state::<Round>(&round).expect("round").deadlines;
        RoundRun {
            round,
            funder,
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

    /// Fixes committee `level`'s seed from its draw slot on; returns the draw's units.
    pub fn draw(&self, h: &mut Harness, level: u8) -> Result<ComputeUnits, Failure> {
        let draw_slot = self.state(h).committee(level).draw_slot;
        h.warp(draw_slot);
        h.send(
            &[builders::draw_committee(&h.program, &self.round, level)],
            &[&self.funder],
        )
    }

    /// Which of `validators` were drawn for committee `level` (the funder, the nodes and, for an
    /// appeal, the first committee's seats are refused when they try to sit).
    pub fn drawn<'v>(&self, h: &Harness, validators: &'v [Keypair], level: u8) -> Vec<&'v Keypair> {
        let round = self.state(h);
        validators
            .iter()
            .filter(|v| {
                let key = v.pubkey();
                h.state::<ValidatorBond>(&find::bond(&h.program, &key))
                    .is_some_and(|bond| drawn::<Sha256>(&round, &key.to_bytes(), &bond, level))
            })
            .collect()
    }

    /// Takes `validator`'s seat in committee `level`.
    pub fn seat(
        &self,
        h: &mut Harness,
        validator: &Keypair,
        level: u8,
    ) -> Result<ComputeUnits, Failure> {
        let ix = builders::claim_seat(&h.program, &validator.pubkey(), &self.round, level);
        h.send(&[ix], &[validator])
    }

    /// The sealed commitment of `vote` for `validator` at `level`, with a salt from its key.
    pub fn sealed(
        &self,
        validator: &Keypair,
        level: u8,
        vote: &VerdictVote,
    ) -> ([u8; 32], [u8; 32]) {
        let salt = Sha256::hashv(&[b"salt", validator.pubkey().as_ref(), &[level]]);
        let sealed = vote_commitment::<Sha256>(
            &self.round.to_bytes(),
            &validator.pubkey().to_bytes(),
            level,
            &vote.digest::<Sha256>(),
            &salt,
        );
        (sealed, salt)
    }

    /// Commits `validator`'s sealed vote.
    pub fn seal(
        &self,
        h: &mut Harness,
        validator: &Keypair,
        level: u8,
        vote: &VerdictVote,
    ) -> Result<ComputeUnits, Failure> {
        let (sealed, _) = self.sealed(validator, level, vote);
        let ix = builders::commit_vote(&h.program, &validator.pubkey(), &self.round, level, sealed);
        h.send(&[ix], &[validator])
    }

    /// Reveals `validator`'s vote.
    pub fn open_vote(
        &self,
        h: &mut Harness,
        validator: &Keypair,
        level: u8,
        vote: &VerdictVote,
    ) -> Result<ComputeUnits, Failure> {
        let (_, salt) = self.sealed(validator, level, vote);
        let ix = builders::reveal_vote(
            &h.program,
            &validator.pubkey(),
            &self.round,
            level,
            *vote,
            salt,
        );
        h.send(&[ix], &[validator])
    }

    /// Seats each of `votes`' validators at `level`, seals, waits for the vote deadline and
    /// reveals (a `None` vote takes the seat and never votes).
    pub fn judge(&self, h: &mut Harness, level: u8, votes: &[(&Keypair, Option<VerdictVote>)]) {
        for (v, vote) in votes {
            self.seat(h, v, level).expect("seat");
            if let Some(vote) = vote {
                self.seal(h, v, level, vote).expect("seal");
            }
        }
        h.warp(self.state(h).committee(level).vote_deadline);
        for (v, vote) in votes {
            if let Some(vote) = vote {
                self.open_vote(h, v, level, vote).expect("reveal vote");
            }
        }
        h.warp(self.state(h).committee(level).reveal_deadline);
    }

    /// The verdict over `leaves` (one per joined node, in join order) and its vote.
    pub fn verdict(&self, leaves: &[Leaf]) -> (VerdictTree, VerdictVote) {
        let tree = VerdictTree::new::<Sha256>(self.round.to_bytes(), leaves.to_vec());
        let tally = tree.tally();
        let model = [0x77; 32];
        let vote = VerdictVote {
            leaves_root: tree.root(),
            new_model_hash: model,
            new_model_cid: Cid::from_digest(&model),
            verdict_list_cid: Cid::from_digest(&[0x78; 32]),
            accepted: tally.accepted,
            excluded: tally.excluded,
            slashed: tally.slashed,
            no_shows: tally.no_shows,
            weight_sum_bps: tally.weight_sum,
        };
        (tree, vote)
    }

    /// Finalizes the round, citing `voter`'s revealed vote.
    pub fn finalize(&self, h: &mut Harness, voter: &Keypair) -> Result<ComputeUnits, Failure> {
        h.warp(self.deadlines.vote_reveal);
        h.send(
            &[builders::finalize_round(
                &h.program,
                &self.round,
                &voter.pubkey(),
            )],
            &[&self.funder],
        )
    }

    /// Posts every chunk of `tree` as committee `level`'s leaves, paid by `payer`.
    pub fn post(
        &self,
        h: &mut Harness,
        payer: &Keypair,
        level: u8,
        tree: &VerdictTree,
    ) -> Result<ComputeUnits, Failure> {
        let mut units = 0;
        for chunk in 0..tree.chunks() {
            let ix = builders::post_verdict_leaves(
                &h.program,
                &payer.pubkey(),
                &self.round,
                level,
                tree,
                chunk,
            );
            units = h.send(&[ix], &[payer])?;
        }
        Ok(units)
    }

    /// Waits out the appeal window of a finalized round whose leaves are posted, and the time
    /// its drawn committees' absences may be reported: settlement opens after both.
    pub fn wait_out_appeals(&self, h: &mut Harness) {
        let round = self.state(h);
        if let Some(end) = round.appeal_deadline() {
            h.warp(end);
        }
        h.warp(droppin_coordinator::absences_over(&round));
    }

    /// Settles `node` (the node signs for itself).
    pub fn settle_node(&self, h: &mut Harness, node: &Node) -> Result<ComputeUnits, Failure> {
        self.settle_node_by(h, &node.key, &node.address())
    }

    /// Settles `node` (the node signs for itself) and returns what it was paid, the rent of its
    /// accounts and its own fee aside.
    pub fn settle_node_paid(&self, h: &mut Harness, node: &Node) -> u64 {
        let before = h.balance(&node.address());
        let rent = h.balance(&find::node(&h.program, &self.round, &node.address()))
            + h.balance(&find::cid_marker(&h.program, &self.round, &node.cid));
        self.settle_node(h, node).unwrap();
        h.balance(&node.address()) + 5_000 - before - rent
    }

    /// Settles `node`, `settler` signing.
    pub fn settle_node_by(
        &self,
        h: &mut Harness,
        settler: &Keypair,
        node: &Address,
    ) -> Result<ComputeUnits, Failure> {
        let ix = self.settle_node_ix(h, &settler.pubkey(), node);
        h.send(&[ix], &[settler])
    }

    /// The `SettleNode` instruction for `node`.
    pub fn settle_node_ix(&self, h: &Harness, settler: &Address, node: &Address) -> Instruction {
        let state: NodeState = h
            .state(&find::node(&h.program, &self.round, node))
            .expect("a node state");
        let round = self.state(h);
        let cid = state.cid.is_well_formed().then_some(state.cid);
        let level = (round.status == RoundStatus::Finalized).then_some(round.outcome.level);
        builders::settle_node(&h.program, settler, &self.round, node, cid.as_ref(), level)
    }

    /// Settles `validator`'s seat (or absence record) in committee `level`, `settler` signing.
    pub fn settle_seat(
        &self,
        h: &mut Harness,
        settler: &Keypair,
        validator: &Address,
        level: u8,
    ) -> Result<ComputeUnits, Failure> {
        let seat: Seat = h
            .state(&find::seat(&h.program, &self.round, validator, level))
            .expect("a seat");
        let ix = builders::settle_seat(
            &h.program,
            &settler.pubkey(),
            &self.round,
            validator,
            level,
            &Address::new_from_array(seat.payer),
        );
        let ix = h.for_seat_bond(ix, &self.round, validator);
        h.send(&[ix], &[settler])
    }

    /// Settles the appeal, if any, and closes the round.
    pub fn settle_appeal_and_close(&self, h: &mut Harness) -> Result<ComputeUnits, Failure> {
        let round = self.state(h);
        if round.appeal.filed() && !round.appeal.settled {
            let ix = builders::settle_appeal(
                &h.program,
                &self.round,
                &Address::new_from_array(round.appeal.appellant),
            );
            h.send(&[ix], &[&self.funder])?;
        }
        self.close(h)
    }

    /// Closes the round.
    pub fn close(&self, h: &mut Harness) -> Result<ComputeUnits, Failure> {
        let payers = [0u8, 1].map(|level| {
            h.state::<VerdictLeaves>(&find::verdict(&h.program, &self.round, level))
                .map(|l| Address::new_from_array(l.payer))
        });
        h.send(
            &[builders::close_round(
                &h.program,
                &self.round,
                &self.funder.pubkey(),
                payers,
            )],
            &[&self.funder],
        )
    }

    /// Every account whose lamports the round can move, for conservation checks.
    pub fn ledger(&self, h: &Harness, nodes: &[&Node], validators: &[Keypair]) -> Vec<Address> {
        let mut accounts = vec![
            self.round,
            find::vault(&h.program, &self.round),
            find::treasury(&h.program),
            find::verdict(&h.program, &self.round, 0),
            find::verdict(&h.program, &self.round, 1),
            find::token_vault(&h.program, &self.round),
            self.funder.pubkey(),
        ];
        for node in nodes {
            accounts.push(node.address());
            accounts.push(find::node(&h.program, &self.round, &node.address()));
            accounts.push(find::reputation(&h.program, &node.address()));
            accounts.push(find::cid_marker(&h.program, &self.round, &node.cid));
        }
        for v in validators {
            accounts.push(v.pubkey());
            accounts.push(find::bond(&h.program, &v.pubkey()));
            for level in 0..2 {
                accounts.push(find::seat(&h.program, &self.round, &v.pubkey(), level));
            }
        }
        accounts
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
    /// Opens a $dPIN round of `amount` base units (validators bond in SOL, in the registry).
    pub fn open_round(&self, h: &mut Harness, amount: u64) -> RoundRun {
        let funder = h.funded(10);
        self.give(h, &funder.pubkey(), amount);
        let mut args = round_args(h.slot(), amount);
        args.node_stake = STAKE;
        args.currency = droppin_interface::state::Currency::Dpin;
        let id = h.next_round_id();
        let round = find::round(&h.program, id);
        let ix = builders::open_round(&h.program, &funder.pubkey(), id, args);
        h.send(&[self.ix(ix, &round, &funder.pubkey())], &[&funder])
            .expect("open a $dPIN round");
        let deadlines = h.state::<Round>(&round).expect("round").deadlines;
        RoundRun {
            round,
            funder,
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

    /// Settles a node of a $dPIN round (the node signs).
    pub fn settle_node(
        &self,
        h: &mut Harness,
        run: &RoundRun,
        node: &Node,
    ) -> Result<ComputeUnits, Failure> {
        let ix = run.settle_node_ix(h, &node.address(), &node.address());
        h.send(&[self.ix(ix, &run.round, &node.address())], &[&node.key])
    }

    /// Settles a seat of a $dPIN round (the validator signs and, when it is owed a share of
    /// the validators' pool, is paid in its $dPIN account).
    pub fn settle_seat(
        &self,
        h: &mut Harness,
        run: &RoundRun,
        validator: &Keypair,
        level: u8,
    ) -> Result<ComputeUnits, Failure> {
        let key = validator.pubkey();
        if h.chain
            .account(&self.account(&key))
            .expect("answers")
            .is_none()
        {
            self.give(h, &key, 0);
        }
        let seat: Seat = h
            .state(&find::seat(&h.program, &run.round, &key, level))
            .expect("a seat");
        let ix = builders::settle_seat(
            &h.program,
            &key,
            &run.round,
            &key,
            level,
            &Address::new_from_array(seat.payer),
        );
        let ix = h.for_seat_bond(self.ix(ix, &run.round, &key), &run.round, &key);
        h.send(&[ix], &[validator])
    }

    /// Closes a $dPIN round (the funder's token account receives the unearned pool).
    pub fn close(&self, h: &mut Harness, run: &RoundRun) -> Result<ComputeUnits, Failure> {
        let payers = [0u8, 1].map(|level| {
            h.state::<VerdictLeaves>(&find::verdict(&h.program, &run.round, level))
                .map(|l| Address::new_from_array(l.payer))
        });
        let funder = run.funder.pubkey();
        let ix = builders::close_round(&h.program, &run.round, &funder, payers);
        h.send(&[self.ix(ix, &run.round, &funder)], &[&run.funder])
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
