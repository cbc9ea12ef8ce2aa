//! The transaction a wallet sent from this page and the page has not yet seen land, fail or
//! expire, kept in local storage: a page reloaded (or reopened) while a transaction may still
//! land sends no other from that wallet until it is settled one way or the other. Sending an
//! order twice would open and fund two rounds.

use serde::{Deserialize, Serialize};
use solana_address::Address;

use crate::session::{local_get, local_remove, local_set};

/// A sent transaction, by its signature, and the block height after which it can never land.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InFlight {
    pub signature: String,
    pub last_valid: u64,
}

/// One record per cluster and wallet.
fn key(rpc_url: &str, payer: &Address) -> String {
    format!("droppin.in-flight.{rpc_url}.{payer}")
}

impl InFlight {
    /// What `payer` sent on the cluster at `rpc_url` and has not seen settled.
    pub fn load(rpc_url: &str, payer: &Address) -> Option<Self> {
        serde_json::from_str(&local_get(&key(rpc_url, payer))?).ok()
    }

    /// Remembers the transaction before it is sent.
    pub fn save(&self, rpc_url: &str, payer: &Address) {
        let json = serde_json::to_string(self).expect("serializes");
        local_set(&key(rpc_url, payer), &json);
    }

    /// Forgets `payer`'s transaction once it landed, failed or expired.
    pub fn forget(rpc_url: &str, payer: &Address) {
        local_remove(&key(rpc_url, payer));
    }
}
