//! The embedded chain: LiteSVM in-process, running the real SBF program. No services, and the
//! clock moves only when asked, so a whole round runs in seconds.

use std::{collections::BTreeSet, path::PathBuf};

use droppin_interface::{PROGRAM_ID, instruction::DropPinInstruction};
use litesvm::LiteSVM;
use solana_address::Address;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;
use solana_transaction::Transaction;

use crate::{Account, Chain, ChainError, Sent, error::explain};

/// Where the program binary is: `$DPIN_PROGRAM`, else the workspace's `target/deploy`.
pub fn default_program_path() -> PathBuf {
    std::env::var_os("DPIN_PROGRAM").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/deploy/droppin.so"),
        PathBuf::from,
    )
}

/// LiteSVM with the dropPIN program loaded at its id.
pub struct EmbeddedChain {
    svm: LiteSVM,
    program: Address,
    /// Every account a transaction named: LiteSVM has no owner index, so this stands in for
    /// `getProgramAccounts`.
    seen: BTreeSet<Address>,
    fees_paid: u64,
    program_units: Vec<u64>,
}

/// The names of a transaction's instructions, for error messages and compute reports.
pub(crate) fn instruction_names(
    program: &Address,
    instructions: &[Instruction],
) -> Vec<&'static str> {
    instructions
        .iter()
        .map(|ix| {
            if &ix.program_id == program {
                DropPinInstruction::name_of(&ix.data).unwrap_or("unknown dropPIN instruction")
            } else {
                "another program's instruction"
            }
        })
        .collect()
}

impl EmbeddedChain {
    /// A fresh chain with the program from `path` loaded (slot 1).
    pub fn new(path: &std::path::Path) -> Result<EmbeddedChain, ChainError> {
        let program = Address::new_from_array(PROGRAM_ID);
        let mut svm = LiteSVM::new();
        svm.add_program_from_file(program, path)
            .map_err(|error| ChainError::ProgramMissing {
                path: path.display().to_string(),
                reason: error.to_string(),
            })?;
        let mut chain = EmbeddedChain {
            svm,
            program,
            seen: BTreeSet::new(),
            fees_paid: 0,
            program_units: Vec::new(),
        };
        chain.warp_to_slot(1);
        Ok(chain)
    }

    /// Transaction fees paid so far (they leave the ledger).
    pub fn fees_paid(&self) -> u64 {
        self.fees_paid
    }

    /// The VM, for tests that forge accounts or read rent.
    pub fn svm(&self) -> &LiteSVM {
        &self.svm
    }

    /// Compute units of each invocation of the dropPIN program in the last successful
    /// transaction, in order: per-instruction figures for transactions of several instructions.
    pub fn program_units(&self) -> &[u64] {
        &self.program_units
    }

    /// The VM, mutably, for tests that forge accounts.
    pub fn svm_mut(&mut self) -> &mut LiteSVM {
        &mut self.svm
    }

    /// Names `authority` as the program's upgrade authority in its ProgramData account, as a
    /// deployment with `solana program deploy` would: only it may initialize the protocol.
    pub fn set_upgrade_authority(&mut self, authority: &Address) -> Result<(), ChainError> {
        let address = droppin_interface::pda::find::program_data(&self.program);
        let mut account = self
            .svm
            .get_account(&address)
            .ok_or_else(|| ChainError::Account("the program has no ProgramData account".into()))?;
        // bincode of ProgramData: u32 tag 3, u64 slot, then Option<Pubkey> at byte 12.
        account.data[12] = 1;
        account.data[13..45].copy_from_slice(authority.as_ref());
        self.svm
            .set_account(address, account)
            .map_err(|e| ChainError::Account(format!("ProgramData: {e}")))
    }

    /// Moves the clock to `slot` and fills the SlotHashes sysvar with the hashes of the 512
    /// slots before it, as a running cluster would (each a hash of the slot number, so a seed
    /// gives the same draws run after run).
    pub fn warp_to_slot(&mut self, slot: u64) {
        self.svm.warp_to_slot(slot);
        self.set_slot_hashes(|s| Some(embedded_slot_hash(s)));
    }

    /// Refills the SlotHashes sysvar with `hash_of` each of the 512 slots before the current
    /// one (`None`: a skipped slot, which has no hash): what leaders who skipped their slots or
    /// ground their blocks for other hashes would leave in it.
    pub fn set_slot_hashes(&mut self, hash_of: impl Fn(u64) -> Option<[u8; 32]>) {
        let slot = self.svm.get_sysvar::<solana_clock::Clock>().slot;
        let entries: Vec<(u64, solana_hash::Hash)> = (slot.saturating_sub(512)..slot)
            .filter_map(|s| Some((s, solana_hash::Hash::new_from_array(hash_of(s)?))))
            .collect();
        self.svm
            .set_sysvar(&solana_slot_hashes::SlotHashes::new(&entries));
    }
}

/// The embedded chain's bank hash of `slot`.
pub fn embedded_slot_hash(slot: u64) -> [u8; 32] {
    use droppin_interface::hash::{Hasher, Sha256};
    Sha256::hashv(&[b"droppin-embedded-slot", &slot.to_le_bytes()])
}

impl Chain for EmbeddedChain {
    fn send(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<Sent, ChainError> {
        // A fresh blockhash per transaction: identical transactions stay distinct.
        self.svm.expire_blockhash();
        let tx = Transaction::new_signed_with_payer(
            instructions,
            Some(&signers[0].pubkey()),
            signers,
            self.svm.latest_blockhash(),
        );
        self.seen.extend(tx.message.account_keys.iter().copied());
        match self.svm.send_transaction(tx) {
            Ok(meta) => {
                self.fees_paid += meta.fee;
                self.program_units = program_units(&self.program, &meta.logs);
                Ok(Sent {
                    signature: meta.signature,
                    compute_units: Some(meta.compute_units_consumed),
                    fee: Some(meta.fee),
                })
            }
            Err(failed) => {
                self.fees_paid += failed.meta.fee;
                Err(explain(
                    failed.err,
                    &failed.meta.logs,
                    &self.program,
                    &instruction_names(&self.program, instructions),
                ))
            }
        }
    }

    fn account(&self, address: &Address) -> Result<Option<Account>, ChainError> {
        Ok(self.svm.get_account(address).map(|a| Account {
            lamports: a.lamports,
            owner: a.owner,
            data: a.data,
        }))
    }

    fn program_accounts(
        &self,
        program: &Address,
        offset: usize,
        bytes: &[u8],
    ) -> Result<Vec<(Address, Account)>, ChainError> {
        let mut found = Vec::new();
        for address in &self.seen {
            if let Some(account) = self.account(address)?
                && &account.owner == program
                && account.data.get(offset..offset + bytes.len()) == Some(bytes)
            {
                found.push((*address, account));
            }
        }
        Ok(found)
    }

    fn slot(&self) -> Result<u64, ChainError> {
        Ok(self.svm.get_sysvar::<solana_clock::Clock>().slot)
    }

    fn wait_for_slot(&mut self, slot: u64) -> Result<(), ChainError> {
        if self.slot()? < slot {
            self.warp_to_slot(slot);
        }
        Ok(())
    }

    fn airdrop(&mut self, address: &Address, lamports: u64) -> Result<(), ChainError> {
        self.svm
            .airdrop(address, lamports)
            .map(|_| ())
            .map_err(|failed| ChainError::Rejected(format!("airdrop: {}", failed.err)))
    }

    fn describe(&self) -> String {
        "the embedded chain (LiteSVM)".into()
    }
}

/// Units of every invocation of `program` in a transaction's logs
/// (`Program <id> consumed <n> of <m> compute units`).
fn program_units(program: &Address, logs: &[String]) -> Vec<u64> {
    let prefix = format!("Program {program} consumed ");
    logs.iter()
        .filter_map(|line| line.strip_prefix(&prefix))
        .filter_map(|rest| rest.split_whitespace().next()?.parse().ok())
        .collect()
}
