//! The dropPIN program on any [`Chain`]: one method per instruction, built with the interface
//! crate's builders and sent in its own transaction (so compute units are per instruction), and
//! typed reads of the program's accounts.

use std::collections::BTreeMap;

use droppin_interface::{
    Cid, DropPinError, PROGRAM_ID,
    availability::Availability,
    builders,
    instruction::{DropPinInstruction, OpenRoundArgs, VerdictVote},
    pda::find,
    state::{
        AccountState, AppealResolution, Contribution, Currency, HEADER_LEN, NodeState,
        ProtocolConfig, ProtocolParams, Registry, Round, RoundStatus, Seat, Treasury,
        ValidatorBond, VerdictLeaves,
    },
    verdict::VerdictTree,
};
use solana_address::Address;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::{Chain, ChainError, Sent};

/// Compute units consumed, by instruction name.
#[derive(Clone, Debug, Default)]
pub struct ComputeLog {
    units: BTreeMap<&'static str, Vec<u64>>,
}

impl ComputeLog {
    /// Every measurement of every instruction, by name.
    pub fn by_instruction(&self) -> &BTreeMap<&'static str, Vec<u64>> {
        &self.units
    }
}

/// The dropPIN program on a chain.
pub struct Protocol<C> {
    /// The chain.
    pub chain: C,
    /// The program id.
    pub program: Address,
    /// Compute units of every instruction sent.
    pub compute: ComputeLog,
}

impl<C: Chain> Protocol<C> {
    /// The program at its canonical id on `chain`.
    pub fn new(chain: C) -> Protocol<C> {
        Protocol {
            chain,
            program: Address::new_from_array(PROGRAM_ID),
            compute: ComputeLog::default(),
        }
    }

    /// Sends one dropPIN instruction signed by `signers` (the first pays the fee).
    pub fn send(
        &mut self,
        instruction: Instruction,
        signers: &[&Keypair],
    ) -> Result<Sent, ChainError> {
        self.send_all(&[instruction], signers)
    }

    /// Sends `instructions` in one transaction; its compute units are counted under the
    /// program instruction's name only when it is alone (instructions that set accounts up
    /// before it would count as its own).
    pub fn send_all(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<Sent, ChainError> {
        let sent = self.chain.send(instructions, signers)?;
        if let ([instruction], Some(units)) = (instructions, sent.compute_units) {
            let name = DropPinInstruction::name_of(&instruction.data).unwrap_or("unknown");
            self.compute.units.entry(name).or_default().push(units);
        }
        Ok(sent)
    }

    /// Creates the config, treasury and registry; `authority` (the program's upgrade
    /// authority) becomes the admin.
    pub fn initialize_config(
        &mut self,
        authority: &Keypair,
        params: ProtocolParams,
    ) -> Result<Sent, ChainError> {
        let ix = builders::initialize_config(&self.program, &authority.pubkey(), params);
        self.send(ix, &[authority])
    }

    /// Proposes new parameters (effective after the timelock, by [`Protocol::apply_config`]).
    pub fn propose_config(
        &mut self,
        admin: &Keypair,
        params: ProtocolParams,
        new_admin: Option<&Address>,
    ) -> Result<Sent, ChainError> {
        let ix = builders::update_config(&self.program, &admin.pubkey(), params, new_admin);
        self.send(ix, &[admin])
    }

    /// Applies a proposed change once its timelock has passed.
    pub fn apply_config(&mut self, payer: &Keypair) -> Result<Sent, ChainError> {
        self.send(builders::apply_config(&self.program), &[payer])
    }

    /// Opens round number `config.round_count`; returns its address.
    pub fn open_round(
        &mut self,
        funder: &Keypair,
        args: OpenRoundArgs,
    ) -> Result<Address, ChainError> {
        let id = self.config()?.round_count;
        let round = find::round(&self.program, id);
        let currency = args.currency;
        let ix = builders::open_round(&self.program, &funder.pubkey(), id, args);
        let ix = self.in_currency(ix, currency, &round, &funder.pubkey())?;
        self.send(ix, &[funder])?;
        Ok(round)
    }

    /// Adds `amount` (fee included) to a round's pool, paid by `payer` (the funder, or a third
    /// party whose unearned share comes back to it).
    pub fn fund_round(
        &mut self,
        payer: &Keypair,
        round: &Address,
        amount: u64,
    ) -> Result<Sent, ChainError> {
        let ix = builders::fund_round(&self.program, &payer.pubkey(), round, amount);
        let ix = self.for_currency(ix, round, &payer.pubkey())?;
        self.send(ix, &[payer])
    }

    /// Stakes `node` into `round`.
    pub fn join_round(&mut self, node: &Keypair, round: &Address) -> Result<Sent, ChainError> {
        let ix = builders::join_round(&self.program, &node.pubkey(), round);
        let ix = self.for_currency(ix, round, &node.pubkey())?;
        self.send(ix, &[node])
    }

    /// Commits `node`'s update.
    pub fn commit_update(
        &mut self,
        node: &Keypair,
        round: &Address,
        commitment: [u8; 32],
    ) -> Result<Sent, ChainError> {
        let ix = builders::commit_update(&self.program, &node.pubkey(), round, commitment);
        self.send(ix, &[node])
    }

    /// Stakes `node` into the round and commits its update in one transaction, so the stake is
    /// never locked without the commitment that saves it from a no-show's slash.
    pub fn join_and_commit(
        &mut self,
        node: &Keypair,
        round: &Address,
        commitment: [u8; 32],
    ) -> Result<Sent, ChainError> {
        let join = builders::join_round(&self.program, &node.pubkey(), round);
        let join = self.for_currency(join, round, &node.pubkey())?;
        let commit = builders::commit_update(&self.program, &node.pubkey(), round, commitment);
        self.send_all(&[join, commit], &[node])
    }

    /// Reveals `node`'s update.
    pub fn reveal_update(
        &mut self,
        node: &Keypair,
        round: &Address,
        cid: Cid,
        salt: [u8; 32],
        samples: u64,
    ) -> Result<Sent, ChainError> {
        let ix = builders::reveal_update(&self.program, &node.pubkey(), round, cid, salt, samples);
        self.send(ix, &[node])
    }

    /// Registers `validator` with a first bond of `lamports`.
    pub fn register_validator(
        &mut self,
        validator: &Keypair,
        lamports: u64,
    ) -> Result<Sent, ChainError> {
        let ix = builders::register_validator(&self.program, &validator.pubkey(), lamports);
        self.send(ix, &[validator])
    }

    /// Registers `validator` with a first bond of `amount` $dPIN base units from its $dPIN
    /// account (once $dPIN is launched).
    pub fn register_dpin_validator(
        &mut self,
        validator: &Keypair,
        amount: u64,
    ) -> Result<Sent, ChainError> {
        let mint = self.dpin_mint()?;
        let key = validator.pubkey();
        let wallet_token = builders::wallet_token_account(&key, &mint);
        let ix =
            builders::register_dpin_validator(&self.program, &key, amount, &mint, &wallet_token);
        self.send(ix, &[validator])
    }

    /// Adds `amount` (in the bond's currency) to `validator`'s bond.
    pub fn top_up_bond(&mut self, validator: &Keypair, amount: u64) -> Result<Sent, ChainError> {
        let key = validator.pubkey();
        let ix = builders::top_up_bond(&self.program, &key, amount);
        let ix = self.for_bond(ix, &key, &key, None)?;
        self.send(ix, &[validator])
    }

    /// Starts unbonding `amount` (in the bond's currency) of `validator`'s free bond.
    pub fn unbond(&mut self, validator: &Keypair, amount: u64) -> Result<Sent, ChainError> {
        let ix = builders::unbond(&self.program, &validator.pubkey(), amount);
        self.send(ix, &[validator])
    }

    /// Withdraws `validator`'s unbonded amount after the delay.
    pub fn withdraw_bond(&mut self, validator: &Keypair) -> Result<Sent, ChainError> {
        let key = validator.pubkey();
        let ix = builders::withdraw_bond(&self.program, &key);
        let ix = self.for_bond(ix, &key, &key, None)?;
        self.send(ix, &[validator])
    }

    /// Fixes committee `level`'s seed (anyone may).
    pub fn draw_committee(
        &mut self,
        payer: &Keypair,
        round: &Address,
        level: u8,
    ) -> Result<Sent, ChainError> {
        let ix = builders::draw_committee(&self.program, round, level);
        self.send(ix, &[payer])
    }

    /// Takes `validator`'s seat in committee `level`.
    pub fn claim_seat(
        &mut self,
        validator: &Keypair,
        round: &Address,
        level: u8,
    ) -> Result<Sent, ChainError> {
        let ix = builders::claim_seat(&self.program, &validator.pubkey(), round, level);
        self.send(ix, &[validator])
    }

    /// Records which of the round's `nodes` joined nodes' blobs a seat fetched.
    pub fn report_availability(
        &mut self,
        validator: &Keypair,
        round: &Address,
        level: u8,
        fetched: &Availability,
        nodes: u32,
    ) -> Result<Sent, ChainError> {
        let ix = builders::report_availability(
            &self.program,
            &validator.pubkey(),
            round,
            level,
            fetched.report(nodes),
        );
        self.send(ix, &[validator])
    }

    /// Commits a seat's sealed vote.
    pub fn commit_vote(
        &mut self,
        validator: &Keypair,
        round: &Address,
        level: u8,
        commitment: [u8; 32],
    ) -> Result<Sent, ChainError> {
        let ix =
            builders::commit_vote(&self.program, &validator.pubkey(), round, level, commitment);
        self.send(ix, &[validator])
    }

    /// Reveals a seat's sealed vote.
    pub fn reveal_vote(
        &mut self,
        validator: &Keypair,
        round: &Address,
        level: u8,
        vote: VerdictVote,
        salt: [u8; 32],
    ) -> Result<Sent, ChainError> {
        let ix =
            builders::reveal_vote(&self.program, &validator.pubkey(), round, level, vote, salt);
        self.send(ix, &[validator])
    }

    /// Reports that `validator` was drawn for committee `level` and never took its seat.
    pub fn report_absent(
        &mut self,
        reporter: &Keypair,
        round: &Address,
        validator: &Address,
        level: u8,
    ) -> Result<Sent, ChainError> {
        let ix =
            builders::report_absent(&self.program, &reporter.pubkey(), round, validator, level);
        let ix = self.for_bond(ix, validator, &reporter.pubkey(), Some(reporter))?;
        self.send(ix, &[reporter])
    }

    /// Pins the first committee's verdict revealed by `voter`, if it has the quorum.
    pub fn finalize_round(
        &mut self,
        payer: &Keypair,
        round: &Address,
        voter: &Address,
    ) -> Result<Sent, ChainError> {
        let ix = builders::finalize_round(&self.program, round, voter);
        self.send(ix, &[payer])
    }

    /// Posts every chunk of `tree` not yet on-chain, as the leaves of committee `level`'s
    /// verdict.
    pub fn post_verdict(
        &mut self,
        payer: &Keypair,
        round: &Address,
        level: u8,
        tree: &VerdictTree,
    ) -> Result<(), ChainError> {
        let posted = self.posted_chunks(round, level)?;
        for chunk in 0..tree.chunks() {
            if posted.get(usize::from(chunk)).copied().unwrap_or(false) {
                continue;
            }
            let ix = builders::post_verdict_leaves(
                &self.program,
                &payer.pubkey(),
                round,
                level,
                tree,
                chunk,
            );
            self.send(ix, &[payer])?;
        }
        Ok(())
    }

    /// Appeals a finalized verdict, bonding one seat's lock.
    pub fn appeal(&mut self, appellant: &Keypair, round: &Address) -> Result<Sent, ChainError> {
        let ix = builders::appeal(&self.program, &appellant.pubkey(), round);
        self.send(ix, &[appellant])
    }

    /// Resolves an appeal after its committee's reveals (citing `voter`, an appeal seat that
    /// revealed the new verdict, for an overturn).
    pub fn resolve_appeal(
        &mut self,
        payer: &Keypair,
        round: &Address,
        voter: Option<&Address>,
    ) -> Result<Sent, ChainError> {
        let ix = builders::resolve_appeal(&self.program, round, voter);
        self.send(ix, &[payer])
    }

    /// Settles the appellant's bond.
    pub fn settle_appeal(&mut self, payer: &Keypair, round: &Address) -> Result<Sent, ChainError> {
        let appellant = Address::new_from_array(self.round(round)?.appeal.appellant);
        let ix = builders::settle_appeal(&self.program, round, &appellant);
        self.send(ix, &[payer])
    }

    /// Settles `node` by its leaf (or refunds it in a failed round); `settler` signs and, when it
    /// is not the node, takes the rent bounty.
    pub fn settle_node(
        &mut self,
        settler: &Keypair,
        round: &Address,
        node: &Address,
    ) -> Result<Sent, ChainError> {
        let state: NodeState = self
            .state(&find::node(&self.program, round, node))?
            .ok_or_else(|| ChainError::Account(format!("{node} has no state in round {round}")))?;
        let round_state = self.round(round)?;
        let cid = state.cid.is_well_formed().then_some(state.cid);
        let level =
            (round_state.status == RoundStatus::Finalized).then_some(round_state.outcome.level);
        let ix = builders::settle_node(
            &self.program,
            &settler.pubkey(),
            round,
            node,
            cid.as_ref(),
            level,
        );
        let ixs = self.paying(ix, round_state.currency, round, node, &settler.pubkey())?;
        self.send_all(&ixs, &[settler])
    }

    /// Settles `validator`'s seat (or absence record) in committee `level`.
    pub fn settle_seat(
        &mut self,
        settler: &Keypair,
        round: &Address,
        validator: &Address,
        level: u8,
    ) -> Result<Sent, ChainError> {
        let seat: Seat = self
            .state(&find::seat(&self.program, round, validator, level))?
            .ok_or_else(|| {
                ChainError::Account(format!("{validator} has no seat in round {round}"))
            })?;
        let payer = Address::new_from_array(seat.payer);
        let ix = builders::settle_seat(
            &self.program,
            &settler.pubkey(),
            round,
            validator,
            level,
            &payer,
        );
        let state = self.round(round)?;
        // A seat taken in a $dPIN round is paid to the validator's token account, created first
        // if it has none (a validator bonded in SOL may never have had one).
        let mut ixs = if seat.status.took_seat() {
            self.paying(ix, state.currency, round, validator, &settler.pubkey())?
        } else {
            vec![self.in_currency(ix, state.currency, round, validator)?]
        };
        let ix = ixs
            .pop()
            .expect("paying ends with the instruction it pays by");
        // A $dPIN bond of an overturned majority pays the appellant its reward directly.
        let appeal = state.appeal;
        let overturned = level == 0 && appeal.resolution == AppealResolution::Overturned;
        let paid = if appeal.filed() {
            Address::new_from_array(appeal.appellant)
        } else {
            *validator
        };
        let creates = (overturned && seat.status.took_seat()).then_some(settler);
        let ix = self.for_bond(ix, validator, &paid, creates)?;
        ixs.push(ix);
        self.send_all(&ixs, &[settler])
    }

    /// Returns a third party's unearned share of its top-up.
    pub fn refund_contribution(
        &mut self,
        payer: &Keypair,
        round: &Address,
        contributor: &Address,
    ) -> Result<Sent, ChainError> {
        let ix = builders::refund_contribution(&self.program, round, contributor);
        let currency = self.round(round)?.currency;
        let ixs = self.paying(ix, currency, round, contributor, &payer.pubkey())?;
        self.send_all(&ixs, &[payer])
    }

    /// Fails a round whose deadline passed without what it needed.
    pub fn crank_timeout(&mut self, payer: &Keypair, round: &Address) -> Result<Sent, ChainError> {
        let ix = builders::crank_timeout(&self.program, round);
        self.send(ix, &[payer])
    }

    /// Closes a settled round.
    pub fn close_round(&mut self, payer: &Keypair, round: &Address) -> Result<Sent, ChainError> {
        let state = self.round(round)?;
        let funder = Address::new_from_array(state.funder);
        let mut payers = [None, None];
        for level in 0..2u8 {
            if let Some(leaves) = self.verdict_leaves(round, level)? {
                payers[usize::from(level)] = Some(Address::new_from_array(leaves.0.payer));
            }
        }
        let ix = builders::close_round(&self.program, round, &funder, payers);
        let ixs = self.paying(ix, state.currency, round, &funder, &payer.pubkey())?;
        self.send_all(&ixs, &[payer])
    }

    /// Adopts `mint` as $dPIN (admin only; the mint must have a fixed supply).
    pub fn launch_token(&mut self, admin: &Keypair, mint: &Address) -> Result<Sent, ChainError> {
        let ix = builders::launch_token(&self.program, &admin.pubkey(), mint);
        self.send(ix, &[admin])
    }

    /// Turns a pre-launch SOL round nobody joined into a $dPIN round awaiting conversion
    /// (its funder only).
    pub fn convert_round(&mut self, funder: &Keypair, round: &Address) -> Result<Sent, ChainError> {
        let ix =
            builders::convert_round(&self.program, &funder.pubkey(), round, &self.dpin_mint()?);
        self.send(ix, &[funder])
    }

    /// One swap batch in one transaction: `BeginSwap`, the `route` instructions (they must leave
    /// at least the batch's minimum $dPIN in the destination), `EndSwap`. `converting` names
    /// the round whose pool is being converted; `None` is a buy-and-burn batch.
    pub fn swap_batch(
        &mut self,
        caller: &Keypair,
        lamports: u64,
        converting: Option<&Address>,
        route: Vec<Instruction>,
        route_signers: &[&Keypair],
    ) -> Result<Sent, ChainError> {
        let mint = self.dpin_mint()?;
        let mut instructions = vec![builders::begin_swap(
            &self.program,
            &caller.pubkey(),
            lamports,
            converting,
        )];
        instructions.extend(route);
        instructions.push(builders::end_swap(&self.program, &mint, converting));
        let mut signers = vec![caller];
        signers.extend_from_slice(route_signers);
        let sent = self.chain.send(&instructions, &signers)?;
        if let Some(units) = sent.compute_units {
            self.compute
                .units
                .entry("SwapBatch")
                .or_default()
                .push(units);
        }
        Ok(sent)
    }

    /// The launched $dPIN mint.
    pub fn dpin_mint(&self) -> Result<Address, ChainError> {
        let config = self.config()?;
        if config.token_launched() {
            Ok(Address::new_from_array(config.token.mint))
        } else {
            Err(ChainError::Account(format!(
                "$dPIN is not launched on {}",
                self.chain.describe()
            )))
        }
    }

    /// The treasury's state.
    pub fn treasury(&self) -> Result<Treasury, ChainError> {
        self.state(&find::treasury(&self.program))?
            .ok_or_else(|| ChainError::Account("no treasury account".into()))
    }

    /// Appends the $dPIN accounts when `round` is a token round; `wallet` pays or is paid.
    fn for_currency(
        &self,
        ix: Instruction,
        round: &Address,
        wallet: &Address,
    ) -> Result<Instruction, ChainError> {
        let currency = self.round(round)?.currency;
        self.in_currency(ix, currency, round, wallet)
    }

    /// [`Self::for_currency`] for a round whose currency the caller has read.
    fn in_currency(
        &self,
        ix: Instruction,
        currency: Currency,
        round: &Address,
        wallet: &Address,
    ) -> Result<Instruction, ChainError> {
        let mint = self.mint_of(currency)?;
        builders::in_currency(ix, currency, round, wallet, mint.as_ref())
            .map_err(|error| self.not_launched(error))
    }

    /// `ix`, which pays `wallet`, in a round paying in `currency` ([`builders::paying`]): in
    /// $dPIN the wallet's token account is created first if it has none, paid by `payer`.
    fn paying(
        &self,
        ix: Instruction,
        currency: Currency,
        round: &Address,
        wallet: &Address,
        payer: &Address,
    ) -> Result<Vec<Instruction>, ChainError> {
        let mint = self.mint_of(currency)?;
        builders::paying(ix, currency, round, wallet, payer, mint.as_ref())
            .map_err(|error| self.not_launched(error))
    }

    /// The $dPIN mint for a round in `currency` (none for SOL).
    fn mint_of(&self, currency: Currency) -> Result<Option<Address>, ChainError> {
        Ok(match currency {
            Currency::Sol => None,
            Currency::Dpin => Some(self.dpin_mint()?),
        })
    }

    fn not_launched(&self, error: DropPinError) -> ChainError {
        ChainError::Account(format!(
            "{error}: $dPIN is not launched on {}",
            self.chain.describe()
        ))
    }

    /// Appends `validator`'s bond token leg when its bond is in $dPIN; `wallet`'s $dPIN account
    /// pays or is paid. When `payer` is given, `wallet`'s $dPIN account is first created (paid
    /// by it) if it has none.
    fn for_bond(
        &mut self,
        ix: Instruction,
        validator: &Address,
        wallet: &Address,
        payer: Option<&Keypair>,
    ) -> Result<Instruction, ChainError> {
        let dpin_bond = self
            .bond(validator)?
            .is_some_and(|bond| bond.currency == Currency::Dpin);
        if !dpin_bond {
            return Ok(ix);
        }
        let mint = self.dpin_mint()?;
        let wallet_token = builders::wallet_token_account(wallet, &mint);
        if let Some(payer) = payer
            && self.chain.account(&wallet_token)?.is_none()
        {
            let create = crate::token::create_wallet_account(&payer.pubkey(), wallet, &mint);
            self.chain.send(&[create], &[payer])?;
        }
        Ok(builders::bond_in_dpin(ix, &mint, validator, &wallet_token))
    }

    /// A program account decoded as `T`, if it exists and is one.
    pub fn state<T: AccountState>(&self, address: &Address) -> Result<Option<T>, ChainError> {
        Ok(self
            .chain
            .account(address)?
            .filter(|a| a.owner == self.program)
            .and_then(|a| T::load(&a.data).ok()))
    }

    /// The protocol config.
    pub fn config(&self) -> Result<ProtocolConfig, ChainError> {
        self.state(&find::config(&self.program))?.ok_or_else(|| {
            ChainError::Account(format!(
                "the dropPIN program is not initialized on {} (no config account)",
                self.chain.describe()
            ))
        })
    }

    /// A round by address.
    pub fn round(&self, round: &Address) -> Result<Round, ChainError> {
        self.state(round)?
            .ok_or_else(|| ChainError::Account(format!("no round at {round}")))
    }

    /// Every account of type `T` whose body starts with the round's key, by address.
    fn of_round<T: AccountState>(&self, round: &Address) -> Result<Vec<(Address, T)>, ChainError> {
        let mut found: Vec<(Address, T)> = self
            .chain
            .program_accounts(&self.program, HEADER_LEN, round.as_ref())?
            .into_iter()
            .filter_map(|(address, account)| T::load(&account.data).ok().map(|s| (address, s)))
            .collect();
        found.sort_by_key(|(address, _)| *address);
        Ok(found)
    }

    /// The nodes still holding state in a round (settled nodes' accounts are closed), in join
    /// order.
    pub fn round_nodes(&self, round: &Address) -> Result<Vec<NodeState>, ChainError> {
        let mut nodes: Vec<NodeState> = self.of_round(round)?.into_iter().map(|(_, s)| s).collect();
        nodes.sort_by_key(|n| n.index);
        Ok(nodes)
    }

    /// The seats and absence records still open in a round.
    pub fn round_seats(&self, round: &Address) -> Result<Vec<Seat>, ChainError> {
        Ok(self.of_round(round)?.into_iter().map(|(_, s)| s).collect())
    }

    /// Committee `level`'s availability: how many of its seats were taken before `deadline`
    /// (its availability deadline), and what each of them that reported fetched.
    pub fn availability_reports(
        &self,
        round: &Address,
        level: u8,
        deadline: u64,
    ) -> Result<(usize, Vec<Availability>), ChainError> {
        let seats: Vec<Option<Availability>> = self
            .chain
            .program_accounts(&self.program, HEADER_LEN, round.as_ref())?
            .into_iter()
            .filter_map(|(_, account)| {
                let seat = Seat::load(&account.data).ok()?;
                let counts =
                    seat.level == level && seat.status.took_seat() && seat.claimed_slot < deadline;
                counts.then(|| seat.reported.then(|| seat.fetched(&account.data)))
            })
            .collect();
        Ok((seats.len(), seats.into_iter().flatten().collect()))
    }

    /// The third-party top-ups of a round not yet refunded.
    pub fn round_contributions(&self, round: &Address) -> Result<Vec<Contribution>, ChainError> {
        Ok(self.of_round(round)?.into_iter().map(|(_, s)| s).collect())
    }

    /// The validator registry.
    pub fn registry(&self) -> Result<Registry, ChainError> {
        self.state(&find::registry(&self.program))?
            .ok_or_else(|| ChainError::Account("no validator registry account".into()))
    }

    /// A validator's bond, if it is registered.
    pub fn bond(&self, validator: &Address) -> Result<Option<ValidatorBond>, ChainError> {
        self.state(&find::bond(&self.program, validator))
    }

    /// Every registered validator's bond.
    pub fn bonds(&self) -> Result<Vec<ValidatorBond>, ChainError> {
        let tag = [ValidatorBond::TYPE as u8, ValidatorBond::VERSION];
        Ok(self
            .chain
            .program_accounts(&self.program, 0, &tag)?
            .into_iter()
            .filter_map(|(_, account)| ValidatorBond::load(&account.data).ok())
            .collect())
    }

    /// A validator's seat in committee `level` of a round, if it has one.
    pub fn seat(
        &self,
        round: &Address,
        validator: &Address,
        level: u8,
    ) -> Result<Option<Seat>, ChainError> {
        self.state(&find::seat(&self.program, round, validator, level))
    }

    /// A validator's seat in committee `level` and what it reported fetching, if it sits.
    pub fn seat_with_report(
        &self,
        round: &Address,
        validator: &Address,
        level: u8,
    ) -> Result<Option<(Seat, Availability)>, ChainError> {
        let address = find::seat(&self.program, round, validator, level);
        Ok(self
            .chain
            .account(&address)?
            .filter(|a| a.owner == self.program)
            .and_then(|a| {
                let seat = Seat::load(&a.data).ok()?;
                let fetched = seat.fetched(&a.data);
                Some((seat, fetched))
            }))
    }

    /// The leaves account of committee `level`'s verdict and its raw data, if it exists.
    pub fn verdict_leaves(
        &self,
        round: &Address,
        level: u8,
    ) -> Result<Option<(VerdictLeaves, Vec<u8>)>, ChainError> {
        let address = find::verdict(&self.program, round, level);
        Ok(self
            .chain
            .account(&address)?
            .filter(|a| a.owner == self.program)
            .and_then(|a| VerdictLeaves::load(&a.data).ok().map(|h| (h, a.data))))
    }

    /// Which chunks of committee `level`'s verdict are posted.
    fn posted_chunks(&self, round: &Address, level: u8) -> Result<Vec<bool>, ChainError> {
        Ok(match self.verdict_leaves(round, level)? {
            Some((header, data)) => (0..header.chunks)
                .map(|c| data.get(VerdictLeaves::flag_offset(c)) == Some(&1))
                .collect(),
            None => Vec::new(),
        })
    }

    /// Every round on-chain (the config's count), by address.
    pub fn rounds(&self) -> Result<Vec<(Address, Round)>, ChainError> {
        let count = self.config()?.round_count;
        let mut rounds = Vec::new();
        for id in 0..count {
            let address = find::round(&self.program, id);
            if let Some(round) = self.state(&address)? {
                rounds.push((address, round));
            }
        }
        Ok(rounds)
    }
}
