//! JSON-RPC to any cluster. Transactions are confirmed by polling their signature status with a
//! timeout; a preflight failure is explained from its simulation logs.

use std::{
    str::FromStr,
    thread::sleep,
    time::{Duration, Instant},
};

use droppin_interface::PROGRAM_ID;
use solana_account_decoder_client_types::{UiAccount, UiAccountEncoding};
use solana_address::Address;
use solana_commitment_config::CommitmentConfig;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_rpc_client::rpc_client::RpcClient;
use solana_rpc_client_api::{
    client_error::{Error as ClientError, ErrorKind},
    config::{RpcAccountInfoConfig, RpcProgramAccountsConfig, RpcTransactionConfig},
    filter::{Memcmp, RpcFilterType},
    request::{RpcError, RpcRequest, RpcResponseErrorData},
    response::Response,
};
use solana_signature::Signature;
use solana_signer::Signer;
use solana_transaction::Transaction;
use solana_transaction_status_client_types::{
    UiTransactionEncoding, option_serializer::OptionSerializer,
};

use crate::{Account, Chain, ChainError, Sent, embedded::instruction_names, error::explain};

/// How long a request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a sent transaction may take to confirm, at most: a blockhash lives about 60 to 90
/// seconds, and until it has expired a transaction not yet seen may still land.
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(180);
/// The JSON-RPC error code of a node that is behind or unhealthy: another try may find it
/// caught up.
const NODE_UNHEALTHY: i64 = -32005;
/// Pause between status polls.
const POLL: Duration = Duration::from_millis(200);

/// A cluster behind a JSON-RPC URL, at `confirmed` commitment.
pub struct RpcChain {
    client: RpcClient,
    url: String,
    program: Address,
}

impl RpcChain {
    /// A client for `url` (`http://127.0.0.1:8899`, a devnet or mainnet endpoint); checks that
    /// the cluster answers.
    pub fn connect(url: &str) -> Result<RpcChain, ChainError> {
        let chain = RpcChain {
            client: RpcClient::new_with_timeout_and_commitment(
                url.to_string(),
                REQUEST_TIMEOUT,
                CommitmentConfig::confirmed(),
            ),
            url: url.to_string(),
            program: Address::new_from_array(PROGRAM_ID),
        };
        chain.client.get_slot().map_err(|e| chain.unreachable(e))?;
        Ok(chain)
    }

    /// [`Self::unreachable`] while confirming `signature`: a cluster that stops answering then
    /// leaves the transaction's fate unknown, which the error says with its signature.
    fn unconfirmed(&self, signature: &Signature, error: ClientError) -> ChainError {
        match self.unreachable(error) {
            ChainError::Unreachable { url, reason } => ChainError::Unconfirmed {
                url,
                signature: signature.to_string(),
                reason,
            },
            other => other,
        }
    }

    fn unreachable(&self, error: ClientError) -> ChainError {
        match error.kind() {
            ErrorKind::Reqwest(_)
            | ErrorKind::Io(_)
            | ErrorKind::Middleware(_)
            | ErrorKind::RpcError(RpcError::RpcResponseError {
                code: NODE_UNHEALTHY,
                ..
            }) => ChainError::Unreachable {
                url: self.url.clone(),
                reason: error.to_string(),
            },
            _ => ChainError::Rejected(error.to_string()),
        }
    }

    /// Loads a program binary at the dropPIN program id on a surfpool local network (its
    /// `surfnet_writeProgram` cheat code; other clusters deploy through the upgradeable loader).
    pub fn write_program_on_surfnet(
        &self,
        elf: &[u8],
        upgrade_authority: &Address,
    ) -> Result<(), ChainError> {
        let hex: String = elf.iter().map(|b| format!("{b:02x}")).collect();
        self.client
            .send::<serde_json::Value>(
                RpcRequest::Custom {
                    method: "surfnet_writeProgram",
                },
                serde_json::json!([
                    self.program.to_string(),
                    hex,
                    0,
                    upgrade_authority.to_string()
                ]),
            )
            .map_err(|e| self.unreachable(e))?;
        Ok(())
    }

    /// Waits for `signature` to be confirmed: `Ok(None)` if it succeeded, `Ok(Some(error))` if
    /// it landed and failed. Gives up only once `blockhash` has expired, when the transaction
    /// can no longer land, so a retry after an error can never run it twice.
    fn confirm(
        &self,
        signature: &Signature,
        blockhash: Option<&solana_hash::Hash>,
    ) -> Result<Option<solana_transaction_error::TransactionError>, ChainError> {
        let started = Instant::now();
        loop {
            let statuses = self
                .client
                .get_signature_statuses(&[*signature])
                .map_err(|e| self.unconfirmed(signature, e))?;
            if let Some(Some(status)) = statuses.value.first()
                && status.satisfies_commitment(CommitmentConfig::confirmed())
            {
                return Ok(status.err.clone());
            }
            let expired = match blockhash {
                Some(hash) => !self
                    .client
                    .is_blockhash_valid(hash, CommitmentConfig::processed())
                    .map_err(|e| self.unconfirmed(signature, e))?,
                None => false,
            };
            if expired {
                // One last look: it may have landed just before its blockhash expired. One seen
                // in a block but not yet confirmed may still be: it is waited for (until the
                // timeout below), never called expired, as the browser's poll does.
                let statuses = self
                    .client
                    .get_signature_statuses(&[*signature])
                    .map_err(|e| self.unconfirmed(signature, e))?;
                match statuses.value.first() {
                    Some(Some(status))
                        if status.err.is_some()
                            || status.satisfies_commitment(CommitmentConfig::confirmed()) =>
                    {
                        return Ok(status.err.clone());
                    }
                    Some(Some(_)) => {}
                    _ => {
                        return Err(ChainError::Expired {
                            signature: signature.to_string(),
                        });
                    }
                }
            }
            if started.elapsed() > CONFIRM_TIMEOUT {
                return Err(ChainError::Timeout {
                    signature: signature.to_string(),
                    seconds: CONFIRM_TIMEOUT.as_secs(),
                });
            }
            sleep(POLL);
        }
    }

    /// Compute units, fee and logs of a confirmed transaction, when the cluster keeps them.
    fn details(&self, signature: &Signature) -> (Option<u64>, Option<u64>, Vec<String>) {
        let config = RpcTransactionConfig {
            encoding: Some(UiTransactionEncoding::Base64),
            commitment: Some(CommitmentConfig::confirmed()),
            max_supported_transaction_version: Some(0),
        };
        match self.client.get_transaction_with_config(signature, config) {
            Ok(tx) => match tx.transaction.meta {
                Some(meta) => {
                    let units = match meta.compute_units_consumed {
                        OptionSerializer::Some(units) => Some(units),
                        _ => None,
                    };
                    let logs = match meta.log_messages {
                        OptionSerializer::Some(logs) => logs,
                        _ => Vec::new(),
                    };
                    (units, Some(meta.fee), logs)
                }
                None => (None, None, Vec::new()),
            },
            Err(_) => (None, None, Vec::new()),
        }
    }
}

impl Chain for RpcChain {
    fn send(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<Sent, ChainError> {
        let names = instruction_names(&self.program, instructions);
        let blockhash = self
            .client
            .get_latest_blockhash()
            .map_err(|e| self.unreachable(e))?;
        let tx = Transaction::new_signed_with_payer(
            instructions,
            Some(&signers[0].pubkey()),
            signers,
            blockhash,
        );
        let signature = match self.client.send_transaction(&tx) {
            Ok(signature) => signature,
            Err(error) => {
                let logs = match error.kind() {
                    ErrorKind::RpcError(RpcError::RpcResponseError {
                        data: RpcResponseErrorData::SendTransactionPreflightFailure(result),
                        ..
                    }) => result.logs.clone().unwrap_or_default(),
                    _ => Vec::new(),
                };
                return Err(match error.get_transaction_error() {
                    Some(failure) => explain(failure, &logs, &self.program, &names),
                    // The cluster may have taken it before the answer was lost.
                    None => self.unconfirmed(&tx.signatures[0], error),
                });
            }
        };
        let failure = self.confirm(&signature, Some(&blockhash))?;
        let (compute_units, fee, logs) = self.details(&signature);
        match failure {
            Some(failure) => Err(explain(failure, &logs, &self.program, &names)),
            None => Ok(Sent {
                signature,
                compute_units,
                fee,
            }),
        }
    }

    fn account(&self, address: &Address) -> Result<Option<Account>, ChainError> {
        // The client's `get_account*` helpers report a dropped connection as a missing
        // account: ask for it directly, so that an outage reads as one.
        let config = RpcAccountInfoConfig {
            encoding: Some(UiAccountEncoding::Base64),
            commitment: Some(CommitmentConfig::confirmed()),
            ..RpcAccountInfoConfig::default()
        };
        let response: Response<Option<UiAccount>> = self
            .client
            .send(
                RpcRequest::GetAccountInfo,
                serde_json::json!([address.to_string(), config]),
            )
            .map_err(|e| self.unreachable(e))?;
        response.value.map(|ui| decoded(address, ui)).transpose()
    }

    fn program_accounts(
        &self,
        program: &Address,
        offset: usize,
        bytes: &[u8],
    ) -> Result<Vec<(Address, Account)>, ChainError> {
        let config = RpcProgramAccountsConfig {
            filters: Some(vec![RpcFilterType::Memcmp(Memcmp::new_raw_bytes(
                offset,
                bytes.to_vec(),
            ))]),
            account_config: RpcAccountInfoConfig {
                encoding: Some(UiAccountEncoding::Base64),
                commitment: Some(CommitmentConfig::confirmed()),
                ..RpcAccountInfoConfig::default()
            },
            ..RpcProgramAccountsConfig::default()
        };
        let accounts = self
            .client
            .get_program_ui_accounts_with_config(program, config)
            .map_err(|e| self.unreachable(e))?;
        accounts
            .into_iter()
            .map(|(address, ui)| Ok((address, decoded(&address, ui)?)))
            .collect()
    }

    fn slot(&self) -> Result<u64, ChainError> {
        self.client
            .get_slot_with_commitment(CommitmentConfig::confirmed())
            .map_err(|e| self.unreachable(e))
    }

    fn wait_for_slot(&mut self, slot: u64) -> Result<(), ChainError> {
        let started = Instant::now();
        let start_slot = self.slot()?;
        // Generous: a second per slot plus a margin, against clusters slower than 400 ms slots.
        let limit = Duration::from_secs(slot.saturating_sub(start_slot) + 30);
        while self.slot()? < slot {
            if started.elapsed() > limit {
                return Err(ChainError::Stalled {
                    slot,
                    seconds: limit.as_secs(),
                });
            }
            sleep(POLL);
        }
        Ok(())
    }

    fn airdrop(&mut self, address: &Address, lamports: u64) -> Result<(), ChainError> {
        let signature = self
            .client
            .request_airdrop(address, lamports)
            .map_err(|e| self.unreachable(e))?;
        match self.confirm(&signature, None)? {
            None => Ok(()),
            Some(failure) => Err(ChainError::Rejected(format!("airdrop: {failure}"))),
        }
    }

    fn describe(&self) -> String {
        self.url.clone()
    }
}

/// An account as the cluster sent it (base64), decoded.
fn decoded(address: &Address, ui: UiAccount) -> Result<Account, ChainError> {
    let data = ui.data.decode().ok_or_else(|| {
        ChainError::Account(format!("{address}: the cluster sent undecodable data"))
    })?;
    let owner = Address::from_str(&ui.owner)
        .map_err(|_| ChainError::Account(format!("{address}: the cluster sent a bad owner")))?;
    Ok(Account {
        lamports: ui.lamports,
        owner,
        data,
    })
}
