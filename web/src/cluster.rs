//! The cluster the app talks to: the local network (its RPC and storage gateway), devnet, or a
//! custom RPC URL. The choice is kept in the browser's storage across visits.

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::{Deserialize, Serialize};

/// A cluster and the storage gateway that goes with it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Cluster {
    /// `dpin localnet`: RPC on port 8899 of the host serving the app, storage on the app's origin.
    #[default]
    Local,
    Devnet,
    /// Any RPC URL; its storage gateway is the app's origin unless given.
    Custom {
        rpc: String,
        storage: Option<String>,
    },
}

impl Cluster {
    /// The JSON-RPC endpoint, given the app's origin (`http://host:port`).
    pub fn rpc_url(&self, origin: &str) -> String {
        match self {
            Cluster::Local => {
                let host = origin
                    .split("://")
                    .nth(1)
                    .and_then(|rest| rest.split(':').next())
                    .unwrap_or("127.0.0.1");
                format!("http://{host}:8899")
            }
            Cluster::Devnet => "https://api.devnet.solana.com".into(),
            Cluster::Custom { rpc, .. } => rpc.clone(),
        }
    }

    /// The storage gateway (Kubo `block/put` upload, trustless `/ipfs/` download).
    pub fn storage_url(&self, origin: &str) -> String {
        match self {
            Cluster::Custom {
                storage: Some(url), ..
            } => url.trim_end_matches('/').to_owned(),
            _ => origin.trim_end_matches('/').to_owned(),
        }
    }

    /// The Wallet Standard chain id wallets sign for.
    pub fn chain(&self) -> &'static str {
        match self {
            Cluster::Local | Cluster::Custom { .. } => "solana:localnet",
            Cluster::Devnet => "solana:devnet",
        }
    }

    /// A Solana Explorer link to a transaction on this cluster.
    pub fn explorer_tx(&self, signature: &str, origin: &str) -> String {
        let cluster = match self {
            Cluster::Devnet => "devnet".to_owned(),
            other => format!(
                "custom&customUrl={}",
                utf8_percent_encode(&other.rpc_url(origin), NON_ALPHANUMERIC)
            ),
        };
        format!("https://explorer.solana.com/tx/{signature}?cluster={cluster}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_follow_the_choice() {
        let origin = "http://10.0.0.5:8080";
        assert_eq!(Cluster::Local.rpc_url(origin), "http://10.0.0.5:8899");
        assert_eq!(Cluster::Local.storage_url(origin), origin);
        assert_eq!(Cluster::Devnet.chain(), "solana:devnet");
        let custom = Cluster::Custom {
            rpc: "https://rpc.example".into(),
            storage: Some("https://ipfs.example/".into()),
        };
        assert_eq!(custom.storage_url(origin), "https://ipfs.example");
        assert_eq!(
            Cluster::Local.explorer_tx("SIG", origin),
            "https://explorer.solana.com/tx/SIG?cluster=custom&customUrl=http%3A%2F%2F10%2E0%2E0%2E5%3A8899"
        );
    }
}
