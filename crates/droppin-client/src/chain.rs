//! The chain interface both backends implement.

use solana_address::Address;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_signature::Signature;

use crate::ChainError;

/// An account as a client sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// Balance.
    pub lamports: u64,
    /// Owning program.
    pub owner: Address,
    /// Contents.
    pub data: Vec<u8>,
}

/// A confirmed transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sent {
    /// Its signature.
    pub signature: Signature,
    /// Compute units it consumed, when the cluster reports them.
    pub compute_units: Option<u64>,
    /// The fee its payer paid, in lamports, when the cluster reports it.
    pub fee: Option<u64>,
}

/// A Solana cluster: embedded or over JSON-RPC.
pub trait Chain {
    /// Signs `instructions` with `signers` (the first pays) and waits for confirmation.
    fn send(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<Sent, ChainError>;

    /// The account at `address`, if it exists.
    fn account(&self, address: &Address) -> Result<Option<Account>, ChainError>;

    /// Accounts owned by `program` whose data holds `bytes` at `offset`.
    fn program_accounts(
        &self,
        program: &Address,
        offset: usize,
        bytes: &[u8],
    ) -> Result<Vec<(Address, Account)>, ChainError>;

    /// The current slot.
    fn slot(&self) -> Result<u64, ChainError>;

    /// Returns once the cluster has reached `slot` (the embedded chain moves its clock there).
    fn wait_for_slot(&mut self, slot: u64) -> Result<(), ChainError>;

    /// Gives `address` `lamports` (local clusters and devnet only).
    fn airdrop(&mut self, address: &Address, lamports: u64) -> Result<(), ChainError>;

    /// Where the chain is, for messages.
    fn describe(&self) -> String;

    /// Lamports at `address` (0 when it does not exist).
    fn balance(&self, address: &Address) -> Result<u64, ChainError> {
        Ok(self.account(address)?.map_or(0, |a| a.lamports))
    }
}
