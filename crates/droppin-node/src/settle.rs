//! What settling a node pays it by, as its operator reads it: the coordinator's own settlement
//! rule run on what the chain says, so the CLI and the page name the outcome the program pays
//! (a revealed node the verdict calls a no-show, or a flagged copy, is paid back its stake as
//! excluded; a revealed node of a failed round is refunded).

use droppin_coordinator::{NodePayout, settle_node};
use droppin_fl::validate::outcome_name;
use droppin_interface::{
    DropPinError,
    state::{NodeState, Reputation, Round, RoundStatus},
    verdict::{Leaf, Outcome},
};

/// A node's settlement before it is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SettlementPreview {
    /// What the program will move.
    pub payout: NodePayout,
    /// The outcome in words: `refunded` for a revealed node of a failed round, else the name of
    /// the outcome it is paid by.
    pub outcome: &'static str,
    /// Its share of the node pool, in bps (0 unless it is paid as accepted).
    pub weight_bps: u16,
}

/// The settlement of `node` at `slot` by `leaf` (its leaf in the verdict in force, if the round
/// was finalized), or the reason the program would refuse it now.
pub fn preview_settlement(
    round: &Round,
    node: &NodeState,
    reputation: &Reputation,
    leaf: Option<Leaf>,
    slot: u64,
) -> Result<SettlementPreview, DropPinError> {
    let payout = settle_node(
        &mut round.clone(),
        node,
        &mut reputation.clone(),
        leaf,
        slot,
    )?;
    let outcome = match (round.status, payout.outcome) {
        (RoundStatus::Failed, Outcome::Excluded) => "refunded",
        (_, outcome) => outcome_name(outcome),
    };
    let weight_bps = match payout.outcome {
        Outcome::Accepted => leaf.map_or(0, |leaf| leaf.weight_bps),
        _ => 0,
    };
    Ok(SettlementPreview {
        payout,
        outcome,
        weight_bps,
    })
}

#[cfg(test)]
mod tests {
    use droppin_interface::state::NodeStatus;

    use super::*;

    fn failed() -> Round {
        Round {
            status: RoundStatus::Failed,
            ..Round::default()
        }
    }

    #[test]
    fn outcomes_are_named_as_the_program_pays_them() {
        let revealed = NodeState {
            status: NodeStatus::Revealed,
            stake: 100,
            ..NodeState::default()
        };
        let preview =
            preview_settlement(&failed(), &revealed, &Reputation::default(), None, 10).unwrap();
        assert_eq!((preview.outcome, preview.payout.to_node), ("refunded", 100));
        let committed = NodeState {
            status: NodeStatus::Committed,
            ..revealed
        };
        let preview =
            preview_settlement(&failed(), &committed, &Reputation::default(), None, 10).unwrap();
        assert_eq!(preview.outcome, "no-show");
        let open = Round::default();
        assert_eq!(
            preview_settlement(&open, &revealed, &Reputation::default(), None, 10),
            Err(DropPinError::RoundNotFinalized)
        );
    }
}
