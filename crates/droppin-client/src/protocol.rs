//! The dropPIN program on any [`Chain`]: one method per instruction, built with the interface
//! crate's builders and sent in its own transaction (so compute units are per instruction), and
//! typed reads of the program's accounts.

use std::collections::BTreeMap;

use droppin_interface::{
    Cid, PROGRAM_ID, builders,
    instruction::{DropPinInstruction, OpenRoundArgs, VerdictVote},
    merkle::VerdictLeaf,
    pda::find,
    state::{
        AccountState, Currency, HEADER_LEN, NodeState, ProtocolConfig, ProtocolParams, Round,
        Treasury, ValidatorState,
    },
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
        let name = DropPinInstruction::name_of(&instruction.data).unwrap_or("unknown");
        let sent = self.chain.send(&[instruction], signers)?;
        if let Some(units) = sent.compute_units {
            self.compute.units.entry(name).or_default().push(units);
        }
        Ok(sent)
    }

    /// Creates the config and treasury; `admin` becomes the admin.
    pub fn initialize_config(
        &mut self,
        admin: &Keypair,
        params: ProtocolParams,
    ) -> Result<Sent, ChainError> {
        let ix = builders::initialize_config(&self.program, &admin.pubkey(), params);
        self.send(ix, &[admin])
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
        let ix = match currency {
            Currency::Sol => ix,
            Currency::Dpin => self.in_dpin(ix, &round, &funder.pubkey())?,
        };
        self.send(ix, &[funder])?;
        Ok(round)
    }

    /// Adds `amount` lamports (fee included) to a round's pool.
    pub fn fund_round(
        &mut self,
        funder: &Keypair,
        round: &Address,
        amount: u64,
    ) -> Result<Sent, ChainError> {
        let ix = builders::fund_round(&self.program, &funder.pubkey(), round, amount);
        let ix = self.for_currency(ix, round, &funder.pubkey())?;
        self.send(ix, &[funder])
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

    /// Stakes a committee member.
    pub fn join_committee(
        &mut self,
        validator: &Keypair,
        round: &Address,
    ) -> Result<Sent, ChainError> {
        let ix = builders::join_committee(&self.program, &validator.pubkey(), round);
        let ix = self.for_currency(ix, round, &validator.pubkey())?;
        self.send(ix, &[validator])
    }

    /// Submits a committee member's vote.
    pub fn submit_verdict(
        &mut self,
        validator: &Keypair,
        round: &Address,
        vote: VerdictVote,
    ) -> Result<Sent, ChainError> {
        let ix = builders::submit_verdict(&self.program, &validator.pubkey(), round, vote);
        self.send(ix, &[validator])
    }

    /// Pins the verdict `voter` voted, if it has the quorum.
    pub fn finalize_round(
        &mut self,
        payer: &Keypair,
        round: &Address,
        voter: &Address,
    ) -> Result<Sent, ChainError> {
        let ix = builders::finalize_round(&self.program, round, voter);
        self.send(ix, &[payer])
    }

    /// Pays a node by its proven leaf.
    pub fn claim_reward(
        &mut self,
        payer: &Keypair,
        round: &Address,
        cid: &Cid,
        leaf: VerdictLeaf,
        proof: Vec<[u8; 32]>,
    ) -> Result<Sent, ChainError> {
        let node = Address::new_from_array(leaf.node);
        let ix = builders::claim_reward(&self.program, round, cid, leaf, proof);
        let ix = self.for_currency(ix, round, &node)?;
        self.send(ix, &[payer])
    }

    /// Settles a node without a verdict (refund or no-show forfeit).
    pub fn refund_node(
        &mut self,
        payer: &Keypair,
        round: &Address,
        node: &Address,
        cid: Option<&Cid>,
    ) -> Result<Sent, ChainError> {
        let ix = builders::refund_node(&self.program, round, node, cid);
        let ix = self.for_currency(ix, round, node)?;
        self.send(ix, &[payer])
    }

    /// Pays or refunds a committee member.
    pub fn settle_validator(
        &mut self,
        payer: &Keypair,
        round: &Address,
        validator: &Address,
    ) -> Result<Sent, ChainError> {
        let ix = builders::settle_validator(&self.program, round, validator);
        let ix = self.for_currency(ix, round, validator)?;
        self.send(ix, &[payer])
    }

    /// Fails a round whose deadline passed without what it needed.
    pub fn crank_timeout(&mut self, payer: &Keypair, round: &Address) -> Result<Sent, ChainError> {
        let ix = builders::crank_timeout(&self.program, round);
        self.send(ix, &[payer])
    }

    /// Closes a settled round.
    pub fn close_round(
        &mut self,
        payer: &Keypair,
        round: &Address,
        funder: &Address,
    ) -> Result<Sent, ChainError> {
        let ix = builders::close_round(&self.program, round, funder);
        let ix = self.for_currency(ix, round, funder)?;
        self.send(ix, &[payer])
    }

    /// Adopts `mint` as $dPIN (admin only; the mint must have a fixed supply).
    pub fn launch_token(&mut self, admin: &Keypair, mint: &Address) -> Result<Sent, ChainError> {
        let ix = builders::launch_token(&self.program, &admin.pubkey(), mint);
        self.send(ix, &[admin])
    }

    /// Turns a pre-launch SOL round nobody joined into a $dPIN round awaiting conversion.
    pub fn convert_round(&mut self, payer: &Keypair, round: &Address) -> Result<Sent, ChainError> {
        let ix = builders::convert_round(&self.program, &payer.pubkey(), round, &self.dpin_mint()?);
        self.send(ix, &[payer])
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
        match self.round(round)?.currency {
            Currency::Sol => Ok(ix),
            Currency::Dpin => self.in_dpin(ix, round, wallet),
        }
    }

    fn in_dpin(
        &self,
        ix: Instruction,
        round: &Address,
        wallet: &Address,
    ) -> Result<Instruction, ChainError> {
        let mint = self.dpin_mint()?;
        let wallet_token = crate::token::wallet_account(wallet, &mint);
        Ok(builders::in_dpin(ix, &mint, round, &wallet_token))
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

    /// The nodes still holding state in a round (settled nodes' accounts are closed).
    pub fn round_nodes(&self, round: &Address) -> Result<Vec<NodeState>, ChainError> {
        Ok(self.of_round(round)?.into_iter().map(|(_, s)| s).collect())
    }

    /// The committee members still holding state in a round.
    pub fn round_validators(&self, round: &Address) -> Result<Vec<ValidatorState>, ChainError> {
        Ok(self.of_round(round)?.into_iter().map(|(_, s)| s).collect())
    }
}
