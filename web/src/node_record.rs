//! What a browser node must not lose mid-round, kept in the browser's local storage: the
//! committed update's bytes and the commit-reveal salt (without them the reveal is impossible and
//! the stake is forfeited), and how far the node got.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use droppin_interface::state::Round;
use droppin_node::Commitment;
use serde::{Deserialize, Serialize};

use crate::session::{local_get, local_remove, local_set};

/// A node's progress in one round: the node library's saved commitment, with the update's
/// bytes beside it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeRecord {
    pub round: String,
    pub node: String,
    /// The committed update, base64.
    pub update: String,
    pub commitment: Commitment,
    /// The DP budget spent on the visitor's data, if DP was on.
    pub epsilon: Option<f64>,
}

/// Key of the round the node page last worked on.
const CURRENT_KEY: &str = "droppin.node.current";

fn key(round: &str, node: &str) -> String {
    format!("droppin.node.{round}.{node}")
}

impl NodeRecord {
    /// The record of `node`'s update in `round` (at `round_address`), before anything is sent.
    pub fn new(
        round_address: &str,
        round: &Round,
        node: &str,
        update: &[u8],
        salt: [u8; 32],
        samples: u64,
    ) -> Self {
        Self {
            round: round_address.to_owned(),
            node: node.to_owned(),
            update: BASE64.encode(update),
            commitment: Commitment::to(round, update, salt, samples),
            epsilon: None,
        }
    }

    /// The saved record of `node` in `round`, if its update still has the committed CID.
    pub fn load(round: &str, node: &str) -> Option<Self> {
        let record: Self = serde_json::from_str(&local_get(&key(round, node))?).ok()?;
        record
            .commitment
            .holds(&record.update_bytes())
            .then_some(record)
    }

    /// Saves the record and remembers its round as the current one; fails unless the browser
    /// kept it (local storage full, disabled or private), read back to be sure.
    pub fn save(&self) -> Result<(), String> {
        let key = key(&self.round, &self.node);
        let json = serde_json::to_string(self).expect("serializes");
        local_set(&key, &json);
        if local_get(&key).as_deref() != Some(json.as_str()) {
            return Err(
                "this browser did not keep your update and its salt (local storage full or disabled): nothing was staked or committed"
                    .into(),
            );
        }
        local_set(CURRENT_KEY, &self.round);
        Ok(())
    }

    pub fn forget(&self) {
        local_remove(&key(&self.round, &self.node));
    }

    pub fn update_bytes(&self) -> Vec<u8> {
        BASE64.decode(&self.update).unwrap_or_default()
    }
}

/// The round the node page worked on last, to resume after a reload.
pub fn current_round() -> Option<String> {
    local_get(CURRENT_KEY)
}
