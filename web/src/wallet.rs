//! Wallets through the Wallet Standard (the glue is `wallet.js`): discovery, connect,
//! disconnect, and signing the transactions built in [`crate::tx`]. The app sends signed
//! transactions itself, so the cluster selector decides where they go.

use js_sys::{Function, Uint8Array};
use thiserror::Error;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/wallet.js")]
extern "C" {
    fn watch_wallets(on_change: &Function);
    fn wallet_names() -> Vec<String>;
    #[wasm_bindgen(catch)]
    async fn connect_wallet(name: &str, silent: bool) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    async fn disconnect_wallet(name: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    async fn sign_transaction(
        name: &str,
        address: &str,
        chain: &str,
        transaction: Uint8Array,
    ) -> Result<JsValue, JsValue>;
}

/// Why a wallet call failed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum WalletError {
    #[error("the signature request was rejected in the wallet")]
    Rejected,
    #[error("no wallet is connected: connect one first")]
    NotConnected,
    #[error("the wallet failed: {0}")]
    Failed(String),
}

impl From<JsValue> for WalletError {
    fn from(value: JsValue) -> Self {
        let message = js_sys::Reflect::get(&value, &"message".into())
            .ok()
            .and_then(|m| m.as_string())
            .or_else(|| value.as_string())
            .unwrap_or_else(|| format!("{value:?}"));
        let code = js_sys::Reflect::get(&value, &"code".into())
            .ok()
            .and_then(|c| c.as_f64());
        // EIP-1193's 4001 is what Phantom, Solflare and Backpack use for a user's refusal.
        if code == Some(4001.0) || message.to_lowercase().contains("reject") {
            WalletError::Rejected
        } else {
            WalletError::Failed(message)
        }
    }
}

/// Calls `on_change` now and whenever a wallet registers.
pub fn watch(on_change: impl Fn() + 'static) {
    let callback = Closure::<dyn Fn()>::new(on_change);
    watch_wallets(callback.as_ref().unchecked_ref());
    // The listener lives as long as the page.
    callback.forget();
}

/// Names of the registered wallets that can sign Solana transactions.
pub fn available() -> Vec<String> {
    wallet_names()
}

/// A connected wallet account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connected {
    pub wallet: String,
    pub address: String,
}

impl Connected {
    /// Asks wallet `name` for an account; `silent` only succeeds if the visitor already allowed
    /// this app (reconnecting after a reload without a prompt).
    pub async fn connect(name: &str, silent: bool) -> Result<Self, WalletError> {
        let address = connect_wallet(name, silent).await?;
        Ok(Self {
            wallet: name.to_owned(),
            address: address
                .as_string()
                .ok_or_else(|| WalletError::Failed("no address".into()))?,
        })
    }

    pub async fn disconnect(&self) -> Result<(), WalletError> {
        disconnect_wallet(&self.wallet).await?;
        Ok(())
    }

    /// Signs unsigned transaction bytes for `chain` (`solana:localnet`, `solana:devnet`, ...).
    pub async fn sign(&self, chain: &str, transaction: &[u8]) -> Result<Vec<u8>, WalletError> {
        let signed = sign_transaction(
            &self.wallet,
            &self.address,
            chain,
            Uint8Array::from(transaction),
        )
        .await?;
        Ok(Uint8Array::new(&signed).to_vec())
    }
}
