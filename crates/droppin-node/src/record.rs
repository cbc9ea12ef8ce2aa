//! What a node must not lose between committing and revealing: the commitment's CID, its salt
//! and the sample count (without the salt the reveal is impossible and part of the stake is
//! forfeited), and how far it got. The CLI keeps it in a file, the browser in local storage,
//! with the update's bytes beside it.

use droppin_interface::{
    Cid,
    hash::{Sha256, commitment},
    state::Round,
};
use droppin_storage::interface_cid;
use serde::{Deserialize, Serialize};

/// A node's saved commitment in one round.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commitment {
    /// The update's CID.
    #[serde(with = "cid_hex")]
    pub cid: Cid,
    /// The commit-reveal salt.
    #[serde(with = "hex::serde")]
    pub salt: [u8; 32],
    /// Training samples behind the update.
    pub samples: u64,
    /// Whether the reveal landed.
    #[serde(default)]
    pub revealed: bool,
    /// Whether the store took the update's bytes (after which the committee can fetch them).
    #[serde(default)]
    pub uploaded: bool,
    /// Whether the node settled.
    #[serde(default)]
    pub settled: bool,
    /// The round's opening it was made in (absent in records saved before it was kept).
    #[serde(default)]
    pub opening: Option<Opening>,
}

/// Which opening of a round a commitment was made in. A round's address is the same on every
/// cluster, and again on a local network started afresh: a record saved on another is not this
/// round's (its update trained on another model, its flags about another round).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Opening {
    /// The slot the round opened at.
    pub opened_slot: u64,
    /// Its starting model's hash, which the update was trained from.
    #[serde(with = "hex::serde")]
    pub model_hash: [u8; 32],
}

impl Opening {
    /// The opening of `round`.
    pub fn of(round: &Round) -> Self {
        Opening {
            opened_slot: round.opened_slot,
            model_hash: round.model_hash,
        }
    }
}

impl Commitment {
    /// The commitment to an update's bytes with `salt` in `round`, before anything is sent.
    pub fn to(round: &Round, bytes: &[u8], salt: [u8; 32], samples: u64) -> Self {
        Self {
            cid: interface_cid(bytes),
            salt,
            samples,
            revealed: false,
            uploaded: false,
            settled: false,
            opening: Some(Opening::of(round)),
        }
    }

    /// Whether this record was made in `round` as it stands (a record older than the opening
    /// it names is taken as this round's).
    pub fn belongs_to(&self, round: &Round) -> bool {
        self.opening
            .is_none_or(|opening| opening == Opening::of(round))
    }

    /// The hash `CommitUpdate` records for `node`: `sha256(node || cid || salt)`.
    pub fn hash(&self, node: &[u8; 32]) -> [u8; 32] {
        commitment::<Sha256>(node, &self.cid, &self.salt)
    }

    /// Whether `bytes` are the committed update.
    pub fn holds(&self, bytes: &[u8]) -> bool {
        interface_cid(bytes) == self.cid
    }
}

/// A CID as the hex of its 36 bytes.
mod cid_hex {
    use droppin_interface::{Cid, cid::CID_LEN};
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(cid: &Cid, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex::encode(cid.0))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Cid, D::Error> {
        let text = String::deserialize(deserializer)?;
        let mut bytes = [0u8; CID_LEN];
        hex::decode_to_slice(&text, &mut bytes).map_err(D::Error::custom)?;
        Ok(Cid(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_commitment_round_trips_through_json_and_binds_the_node() {
        let round = Round {
            opened_slot: 40,
            model_hash: [3; 32],
            ..Round::default()
        };
        let saved = Commitment::to(&round, b"an update", [7; 32], 12);
        let json = serde_json::to_string(&saved).unwrap();
        assert_eq!(serde_json::from_str::<Commitment>(&json).unwrap(), saved);
        assert!(saved.holds(b"an update") && !saved.holds(b"another"));
        assert_ne!(saved.hash(&[1; 32]), saved.hash(&[2; 32]));
        assert!(saved.belongs_to(&round));
    }

    /// The same address opened again (another cluster, a local network started afresh) is
    /// another round; a record saved before openings were kept is taken as the round's.
    #[test]
    fn a_record_belongs_to_the_opening_it_was_made_in() {
        let round = Round {
            opened_slot: 40,
            model_hash: [3; 32],
            ..Round::default()
        };
        let saved = Commitment::to(&round, b"an update", [7; 32], 12);
        for other in [
            Round {
                opened_slot: 41,
                ..round.clone()
            },
            Round {
                model_hash: [4; 32],
                ..round.clone()
            },
        ] {
            assert!(!saved.belongs_to(&other));
        }
        let mut legacy = serde_json::to_value(saved).unwrap();
        legacy.as_object_mut().unwrap().remove("opening");
        let legacy: Commitment = serde_json::from_value(legacy).unwrap();
        assert!(legacy.opening.is_none() && legacy.belongs_to(&round));
    }
}
