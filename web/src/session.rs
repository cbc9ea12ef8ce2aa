//! What every page shares: the chosen cluster, the connected wallet, and sending a transaction
//! through them (build, sign in the wallet, send, confirm).

use droppin_interface::PROGRAM_ID;
use droppin_node::confirm::Confirmation;
use leptos::prelude::*;
use solana_address::Address;
use solana_instruction::Instruction;
use thiserror::Error;

use crate::cluster::Cluster;
use crate::in_flight::InFlight;
use crate::rpc::{Rpc, RpcError};
use crate::storage::StorageError;
use crate::tx::{first_signature, unsigned_transaction};
use crate::wallet::{Connected, WalletError};

/// Anything a page action can fail with, worded for the visitor.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum AppError {
    #[error(transparent)]
    Wallet(#[from] WalletError),
    #[error(transparent)]
    Rpc(#[from] RpcError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("{0}")]
    Invalid(String),
}

impl From<droppin_fl::FlError> for AppError {
    fn from(error: droppin_fl::FlError) -> Self {
        AppError::Invalid(error.to_string())
    }
}

const CLUSTER_KEY: &str = "droppin.cluster";

/// The shared state, provided once by the app shell.
#[derive(Clone, Copy)]
pub struct Session {
    pub cluster: RwSignal<Cluster>,
    pub wallet: RwSignal<Option<Connected>>,
}

impl Session {
    /// The session with the cluster remembered from the last visit.
    pub fn restore() -> Self {
        let cluster = local_get(CLUSTER_KEY)
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or_default();
        Self {
            cluster: RwSignal::new(cluster),
            wallet: RwSignal::new(None),
        }
    }

    /// Switches cluster and remembers it.
    pub fn choose(&self, cluster: Cluster) {
        local_set(
            CLUSTER_KEY,
            &serde_json::to_string(&cluster).expect("serializes"),
        );
        self.cluster.set(cluster);
    }

    pub fn rpc(&self) -> Rpc {
        Rpc::new(self.cluster.get_untracked().rpc_url(&origin()))
    }

    pub fn storage_url(&self) -> String {
        self.cluster.get_untracked().storage_url(&origin())
    }

    pub fn program(&self) -> Address {
        Address::new_from_array(PROGRAM_ID)
    }

    /// The connected wallet's address.
    pub fn address(&self) -> Result<Address, AppError> {
        let wallet = self
            .wallet
            .get_untracked()
            .ok_or(WalletError::NotConnected)?;
        wallet.address.parse().map_err(|_| {
            AppError::Invalid(format!(
                "the wallet's address {} is not a key",
                wallet.address
            ))
        })
    }

    /// Fails while this wallet's last transaction may still land (sent from this page before a
    /// reload, or from another tab), or if it landed unseen: what the chain says now may be
    /// about to change, so nothing should be decided on it yet.
    pub async fn settle_in_flight(&self) -> Result<(), AppError> {
        settle_in_flight(&self.rpc(), &self.address()?).await
    }

    /// Builds a transaction paid by the wallet, has the wallet sign it, sends it and waits for
    /// confirmation; returns the signature.
    pub async fn send(&self, instructions: &[Instruction]) -> Result<String, AppError> {
        let wallet = self
            .wallet
            .get_untracked()
            .ok_or(WalletError::NotConnected)?;
        let payer = self.address()?;
        let rpc = self.rpc();
        settle_in_flight(&rpc, &payer).await?;
        let (blockhash, last_valid) = rpc.latest_blockhash().await?;
        let unsigned = unsigned_transaction(instructions, &payer, &blockhash);
        let signed = wallet
            .sign(self.cluster.get_untracked().chain(), &unsigned)
            .await?;
        let signature = first_signature(&signed).ok_or_else(|| {
            AppError::Invalid("the wallet returned a malformed transaction".into())
        })?;
        let in_flight = InFlight {
            signature: bs58::encode(signature).into_string(),
            last_valid,
        };
        in_flight.save(&rpc.url, &payer);
        let sent = rpc.send_and_confirm(&signed, last_valid).await;
        // Forgotten once it is settled: it landed, it failed or was refused, or it expired.
        // Kept while the cluster's answers left that open: the next send asks again.
        let open = matches!(
            sent,
            Err(RpcError::Unconfirmed { .. }
                | RpcError::Unreachable { .. }
                | RpcError::Rpc { .. }
                | RpcError::Malformed(_))
        );
        if !open {
            InFlight::forget(&rpc.url, &payer);
        }
        Ok(sent?)
    }

    /// An explorer link to a transaction on the chosen cluster.
    pub fn explorer_tx(&self, signature: &str) -> String {
        self.cluster
            .get_untracked()
            .explorer_tx(signature, &origin())
    }
}

/// The app's origin (`http://host:port`).
pub fn origin() -> String {
    window().location().origin().unwrap_or_default()
}

/// A value from the browser's local storage.
pub fn local_get(key: &str) -> Option<String> {
    window().local_storage().ok()??.get_item(key).ok()?
}

/// Stores a value in the browser's local storage (kept across reloads).
pub fn local_set(key: &str, value: &str) {
    if let Ok(Some(storage)) = window().local_storage() {
        let _ = storage.set_item(key, value);
    }
}

/// Removes a value from local storage.
pub fn local_remove(key: &str) {
    if let Ok(Some(storage)) = window().local_storage() {
        let _ = storage.remove_item(key);
    }
}

/// The element an event fired on, as the type it is.
pub fn event_target<T: wasm_bindgen::JsCast>(ev: &web_sys::Event) -> T {
    wasm_bindgen::JsCast::unchecked_into(ev.target().expect("an event target"))
}

/// Lets a new transaction go only once the last one `payer` sent from this browser (the page
/// may have been reloaded while it was confirming) can no longer land unseen: one still pending
/// holds it back; one that landed since is told first, once, since the visitor may be about to
/// send it again (a second order would open and fund a second round).
async fn settle_in_flight(rpc: &Rpc, payer: &Address) -> Result<(), AppError> {
    let Some(previous) = InFlight::load(&rpc.url, payer) else {
        return Ok(());
    };
    let (confirmation, _) = rpc.poll(&previous.signature, previous.last_valid).await?;
    let signature = &previous.signature;
    match confirmation {
        Confirmation::Pending => Err(AppError::Invalid(format!(
            "your last transaction {signature} may still land (until block height {}): this wallet sends nothing else before it lands or expires, within about a minute",
            previous.last_valid
        ))),
        Confirmation::Landed => {
            InFlight::forget(&rpc.url, payer);
            Err(AppError::Invalid(format!(
                "your last transaction {signature} landed after this page stopped following it: check what it did (a round it opened is in the list) before sending again"
            )))
        }
        Confirmation::Failed | Confirmation::Expired => {
            InFlight::forget(&rpc.url, payer);
            Ok(())
        }
    }
}
