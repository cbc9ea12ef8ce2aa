//! JSON-RPC to any Solana cluster from the tab (`fetch`), with errors a visitor can act on: an
//! unreachable endpoint, insufficient funds, a program error by name.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use droppin_interface::{DropPinError, PROGRAM_ID};
use droppin_node::confirm::{Confirmation, confirmation};
use serde::Deserialize;
use serde_json::{Value, json};
use solana_address::Address;
use solana_hash::Hash;
use thiserror::Error;

use crate::timer::sleep_ms;

/// Why a call failed.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum RpcError {
    #[error(
        "cannot reach the cluster at {url}: {reason}. Check the RPC URL in the cluster selector."
    )]
    Unreachable { url: String, reason: String },
    #[error("the wallet has too little SOL for this transaction and its fees")]
    InsufficientFunds,
    #[error("the program refused: {0}")]
    Program(DropPinError),
    #[error("the transaction failed: {0}")]
    Transaction(String),
    #[error("the cluster answered {code}: {message}")]
    Rpc { code: i64, message: String },
    #[error("unexpected answer from the cluster: {0}")]
    Malformed(String),
    #[error(
        "transaction {0} expired without landing: its blockhash is no longer valid, so it never will; send it again"
    )]
    Expired(String),
    #[error(
        "transaction {signature} was sent, but the cluster stopped answering before it confirmed ({reason}): it may still land, so check it in an explorer before sending it again"
    )]
    Unconfirmed { signature: String, reason: String },
}

/// A JSON-RPC endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rpc {
    pub url: String,
}

#[derive(Deserialize)]
struct Envelope {
    result: Option<Value>,
    error: Option<ErrorObject>,
}

#[derive(Deserialize)]
struct ErrorObject {
    code: i64,
    message: String,
    #[serde(default)]
    data: Value,
}

impl Rpc {
    pub fn new(url: impl Into<String>) -> Self {
        Self { url: url.into() }
    }

    async fn call(&self, method: &str, params: Value) -> Result<Value, RpcError> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let unreachable = |reason: String| RpcError::Unreachable {
            url: self.url.clone(),
            reason,
        };
        let response = gloo_net::http::Request::post(&self.url)
            .json(&body)
            .map_err(|e| unreachable(e.to_string()))?
            .send()
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        if !response.ok() {
            return Err(unreachable(format!("HTTP {}", response.status())));
        }
        let envelope: Envelope = response
            .json()
            .await
            .map_err(|e| RpcError::Malformed(e.to_string()))?;
        match (envelope.result, envelope.error) {
            (_, Some(error)) => Err(classify(error)),
            (Some(result), None) => Ok(result),
            (None, None) => Err(RpcError::Malformed(format!("{method}: no result"))),
        }
    }

    /// The latest blockhash, for a new transaction.
    pub async fn latest_blockhash(&self) -> Result<(Hash, u64), RpcError> {
        let result = self
            .call("getLatestBlockhash", json!([{"commitment": "confirmed"}]))
            .await?;
        let hash = result["value"]["blockhash"]
            .as_str()
            .and_then(|text| text.parse().ok())
            .ok_or_else(|| RpcError::Malformed("blockhash".into()))?;
        let last_valid = result["value"]["lastValidBlockHeight"]
            .as_u64()
            .ok_or_else(|| RpcError::Malformed("lastValidBlockHeight".into()))?;
        Ok((hash, last_valid))
    }

    /// The current slot.
    pub async fn slot(&self) -> Result<u64, RpcError> {
        let result = self
            .call("getSlot", json!([{"commitment": "confirmed"}]))
            .await?;
        result
            .as_u64()
            .ok_or_else(|| RpcError::Malformed("slot".into()))
    }

    /// Lamports held by `address`.
    pub async fn balance(&self, address: &Address) -> Result<u64, RpcError> {
        let result = self
            .call(
                "getBalance",
                json!([address.to_string(), {"commitment": "confirmed"}]),
            )
            .await?;
        result["value"]
            .as_u64()
            .ok_or_else(|| RpcError::Malformed("balance".into()))
    }

    /// An account's data, or `None` if it does not exist.
    pub async fn account_data(&self, address: &Address) -> Result<Option<Vec<u8>>, RpcError> {
        let result = self
            .call(
                "getAccountInfo",
                json!([address.to_string(), {"encoding": "base64", "commitment": "confirmed"}]),
            )
            .await?;
        match &result["value"] {
            Value::Null => Ok(None),
            value => decode_data(&value["data"]).map(Some),
        }
    }

    /// Every account owned by `program` whose data holds each `(offset, bytes)` of `matching`
    /// (an account type's tag, a round's key...).
    pub async fn program_accounts(
        &self,
        program: &Address,
        matching: &[(usize, &[u8])],
    ) -> Result<Vec<(Address, Vec<u8>)>, RpcError> {
        let filters: Vec<Value> = matching
            .iter()
            .map(|(offset, bytes)| {
                json!({"memcmp": {"offset": offset, "bytes": BASE64.encode(bytes), "encoding": "base64"}})
            })
            .collect();
        let result = self
            .call(
                "getProgramAccounts",
                json!([program.to_string(), {"encoding": "base64", "commitment": "confirmed", "filters": filters}]),
            )
            .await?;
        let entries = result
            .as_array()
            .ok_or_else(|| RpcError::Malformed("program accounts".into()))?;
        entries
            .iter()
            .map(|entry| {
                let address = entry["pubkey"]
                    .as_str()
                    .and_then(|text| text.parse().ok())
                    .ok_or_else(|| RpcError::Malformed("account address".into()))?;
                Ok((address, decode_data(&entry["account"]["data"])?))
            })
            .collect()
    }

    /// Sends signed transaction bytes (simulated first, so a refusal comes back with its reason)
    /// and waits until the cluster confirms it; returns the signature. It waits as long as the
    /// transaction's blockhash is valid (its `last_valid` block height), not a fixed time: only
    /// past it can the transaction never land, and only then is sending again safe.
    pub async fn send_and_confirm(
        &self,
        transaction: &[u8],
        last_valid: u64,
    ) -> Result<String, RpcError> {
        let signature = self
            .call(
                "sendTransaction",
                json!([BASE64.encode(transaction), {"encoding": "base64", "preflightCommitment": "confirmed"}]),
            )
            .await?
            .as_str()
            .ok_or_else(|| RpcError::Malformed("signature".into()))?
            .to_owned();
        // Polls the cluster stops answering are waited out, a while: the transaction may land
        // meanwhile, and a page that gave up at once would invite sending it again.
        let mut unanswered = 0;
        loop {
            let (confirmation, status) = match self.poll(&signature, last_valid).await {
                Ok(polled) => {
                    unanswered = 0;
                    polled
                }
                Err(RpcError::Unreachable { .. }) if unanswered < UNANSWERED_POLLS => {
                    unanswered += 1;
                    sleep_ms(1_000).await;
                    continue;
                }
                Err(RpcError::Unreachable { reason, .. }) => {
                    return Err(RpcError::Unconfirmed { signature, reason });
                }
                Err(error) => return Err(error),
            };
            match confirmation {
                Confirmation::Landed => return Ok(signature),
                Confirmation::Failed => return Err(transaction_error(&status["err"], &[])),
                Confirmation::Expired => return Err(RpcError::Expired(signature)),
                Confirmation::Pending => sleep_ms(500).await,
            }
        }
    }
}

/// Consecutive confirmation polls the cluster may leave unanswered (about a second apart)
/// before the page says it cannot tell whether the transaction landed.
const UNANSWERED_POLLS: u32 = 30;

impl Rpc {
    /// Where a sent transaction whose blockhash is valid through block height `last_valid`
    /// stands, with its status as the cluster reported it (`null` if unknown): the cluster's
    /// block height, then the status, searched in the whole history (a page reloaded minutes
    /// later still finds a transaction that landed, long out of the recent status cache).
    pub async fn poll(
        &self,
        signature: &str,
        last_valid: u64,
    ) -> Result<(Confirmation, Value), RpcError> {
        let height = self
            .call("getBlockHeight", json!([{"commitment": "confirmed"}]))
            .await?
            .as_u64()
            .ok_or_else(|| RpcError::Malformed("block height".into()))?;
        let statuses = self
            .call(
                "getSignatureStatuses",
                json!([[signature], {"searchTransactionHistory": true}]),
            )
            .await?;
        let status = statuses["value"][0].clone();
        let seen = (!status.is_null()).then(|| {
            (
                status["confirmationStatus"].as_str().unwrap_or("processed"),
                !status["err"].is_null(),
            )
        });
        Ok((confirmation(seen, height, last_valid), status))
    }
}

fn decode_data(data: &Value) -> Result<Vec<u8>, RpcError> {
    data[0]
        .as_str()
        .and_then(|text| BASE64.decode(text).ok())
        .ok_or_else(|| RpcError::Malformed("account data".into()))
}

/// A JSON-RPC error, with a failed simulation turned into what went wrong.
fn classify(error: ErrorObject) -> RpcError {
    match &error.data["err"] {
        Value::Null => RpcError::Rpc {
            code: error.code,
            message: error.message,
        },
        err => {
            let logs: Vec<&str> = error.data["logs"]
                .as_array()
                .map(|logs| logs.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            transaction_error(err, &logs)
        }
    }
}

/// The transaction error in words: insufficient funds (lamports, or tokens in the token
/// program's words), one of the program's errors by name, or the runtime's own text. A custom
/// code is the dropPIN program's only when no other program (the token program inside a $dPIN
/// transfer) failed first: the same number means something else there.
pub fn transaction_error(err: &Value, logs: &[&str]) -> RpcError {
    let text = err.to_string();
    if text.contains("InsufficientFunds")
        || droppin_interface::logs::tokens_short(logs)
        || logs
            .iter()
            .any(|line| line.contains("insufficient lamports"))
    {
        return RpcError::InsufficientFunds;
    }
    let droppin = Address::new_from_array(PROGRAM_ID).to_string();
    if let Some(other) = droppin_interface::logs::failed_elsewhere(logs, &droppin) {
        return RpcError::Transaction(format!("{text} ({other})"));
    }
    let custom = err["InstructionError"][1]["Custom"].as_u64();
    match custom.and_then(|code| DropPinError::from_code(u32::try_from(code).ok()?)) {
        Some(error) => RpcError::Program(error),
        None => RpcError::Transaction(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_read_as_what_went_wrong() {
        let wrong_phase =
            json!({"InstructionError": [0, {"Custom": DropPinError::TrainingClosed as u32}]});
        assert_eq!(
            transaction_error(&wrong_phase, &[]),
            RpcError::Program(DropPinError::TrainingClosed)
        );
        let poor = json!({"InstructionError": [0, {"Custom": 1}]});
        assert_eq!(
            transaction_error(&poor, &["Transfer: insufficient lamports 5, need 10"]),
            RpcError::InsufficientFunds
        );
        assert_eq!(
            transaction_error(&json!("InsufficientFundsForFee"), &[]),
            RpcError::InsufficientFunds
        );
        assert!(matches!(
            transaction_error(&json!("AccountInUse"), &[]),
            RpcError::Transaction(_)
        ));
        // The token program's code 1 inside a $dPIN transfer is its "insufficient funds", not
        // the dropPIN program's error 1; another of its failures is shown as the token
        // program's.
        let token = "Program TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA";
        let short = [
            "Program log: Error: insufficient funds",
            &format!("{token} failed: custom program error: 0x1"),
        ];
        assert_eq!(
            transaction_error(&poor, &short),
            RpcError::InsufficientFunds
        );
        let frozen = [&format!("{token} failed: custom program error: 0x11") as &str];
        let owner = json!({"InstructionError": [0, {"Custom": 17}]});
        assert!(matches!(
            transaction_error(&owner, &frozen),
            RpcError::Transaction(text) if text.contains("Tokenkeg")
        ));
        let droppin = format!(
            "Program {} failed: custom program error: 0x1",
            Address::new_from_array(PROGRAM_ID)
        );
        assert_eq!(
            transaction_error(&poor, &[&droppin]),
            RpcError::Program(DropPinError::NotEnoughAccountKeys)
        );
    }
}
