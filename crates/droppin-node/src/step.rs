//! A node's round as a step function: from what the chain says (the round, the node's account,
//! the slot) and what the node saved (its commitment), the next thing to do. The CLI's loop and
//! the browser's page both follow it; they only differ in how they carry a step out.

use droppin_coordinator::{Phase, absences_over, crank_timeout, phase, settlement_open};
use droppin_interface::{
    availability::availability_deadline,
    state::{NodeState, NodeStatus, Round, RoundStatus},
};

use crate::record::Commitment;

/// Slots a node wants left in the training phase before it stakes: enough to train and commit.
pub const MIN_TRAINING_SLOTS: u64 = 20;

/// What the chain says about one node in one round, read together.
#[derive(Clone, Copy, Debug)]
pub struct Snapshot<'a> {
    pub slot: u64,
    pub round: &'a Round,
    /// The node's account in the round; `None` before it joins and after it settles.
    pub node: Option<&'a NodeState>,
}

/// What a node waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Awaited {
    /// The reveal phase, which opens at the commit deadline.
    RevealPhase,
    /// The committee's verdict (drawn, sealed, revealed, finalized by anyone).
    Verdict,
    /// The appeal window's end, or the verdict's leaves being posted.
    Settlement,
}

/// The next thing a node does in a round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Train, save the commitment, then stake into the round and commit in one transaction
    /// (`JoinRound` and `CommitUpdate`): the stake is never locked without the commitment that
    /// saves it from the no-show's slash, however long training takes.
    Join,
    /// Train, save the commitment, then commit to it (`CommitUpdate`).
    TrainAndCommit,
    /// Commit the saved commitment (joining with it if not joined): it was saved, but its
    /// commit has not landed, or the chain holds another (made from a record since replaced).
    Commit,
    /// Upload the committed update, then reveal it (`RevealUpdate`), even if the upload fails.
    Reveal,
    /// Revealed, but the store never took the update (the upload failed, or the node stopped
    /// between the reveal and the upload): upload it (no transaction) while the committee can
    /// still report it fetched, before `until`.
    Upload { until: u64 },
    /// Nothing to do before `until` (a slot); anyone may move the round along meanwhile.
    Wait { awaited: Awaited, until: u64 },
    /// The round timed out without what it needed (no committee, no quorum, withheld leaves):
    /// anyone may fail it (`CrankTimeout`), after which the node settles for its refund.
    FailRound,
    /// Settle: the stake and reward by the verdict's leaf, or the refund of a failed round.
    Settle,
    /// The node's part in the round is over.
    Done,
    /// The node cannot take part (too late to join, or the round is closed to it).
    Closed,
    /// The node cannot reveal: it committed but holds no saved commitment of what the chain
    /// holds, training closed before it committed, or the reveal phase closed before it
    /// revealed. A no-show, it settles what is left once the round settles.
    Unrevealable,
}

/// The node's next step. `saved` is its commitment record for this round, if it kept one (a
/// record made in another opening of the round's address is not this round's, and is ignored).
pub fn next_step(snapshot: Snapshot<'_>, saved: Option<&Commitment>) -> Step {
    let Snapshot { slot, round, node } = snapshot;
    // A record older than the openings it could name, with no account of the node's in the
    // round, was made in another opening too: the old flow joined before it saved.
    let saved = saved
        .filter(|saved| saved.belongs_to(round) && (node.is_some() || saved.opening.is_some()));
    if saved.is_some_and(|s| s.settled) {
        return Step::Done;
    }
    if node.is_some() && crank_timeout(&mut round.clone(), slot).is_ok() {
        return Step::FailRound;
    }
    match round.status {
        RoundStatus::Failed if node.is_none() => return Step::Done,
        RoundStatus::Failed if settlement_open(round, slot) => return Step::Settle,
        // Failed before a drawn committee's absences are all reportable: settling waits.
        RoundStatus::Failed => {
            return Step::Wait {
                awaited: Awaited::Settlement,
                until: absences_over(round),
            };
        }
        RoundStatus::Finalized if node.is_none() => return Step::Done,
        RoundStatus::Finalized if settlement_open(round, slot) => return Step::Settle,
        RoundStatus::Finalized => {
            return Step::Wait {
                awaited: Awaited::Settlement,
                until: round
                    .appeal_deadline()
                    .unwrap_or(slot + 1)
                    .max(absences_over(round)),
            };
        }
        RoundStatus::Open => {}
    }
    let d = &round.deadlines;
    let status = node.map(|n| n.status);
    // A committed node's record must be the one whose commitment the chain holds: only its
    // salt reveals it.
    let reveals_chain =
        |saved: &Commitment| node.is_some_and(|n| saved.hash(&n.node) == n.commitment);
    match (phase(round, slot), status, saved) {
        (Phase::Training, None, Some(_)) => Step::Commit,
        (Phase::Training, None, _) if slot + MIN_TRAINING_SLOTS <= d.commit => Step::Join,
        (Phase::Training, Some(NodeStatus::Joined), None) => Step::TrainAndCommit,
        (Phase::Training, Some(NodeStatus::Joined), Some(_)) => Step::Commit,
        (Phase::Training, Some(NodeStatus::Committed), Some(saved)) if !reveals_chain(saved) => {
            Step::Commit
        }
        (Phase::Training, Some(_), _) => Step::Wait {
            awaited: Awaited::RevealPhase,
            until: d.commit,
        },
        (Phase::Reveal, Some(NodeStatus::Committed), Some(saved)) if reveals_chain(saved) => {
            Step::Reveal
        }
        (_, Some(NodeStatus::Revealed), Some(saved))
            if !saved.uploaded && slot < availability_deadline(&round.committees[0]) =>
        {
            Step::Upload {
                until: availability_deadline(&round.committees[0]),
            }
        }
        (_, Some(NodeStatus::Committed | NodeStatus::Joined), _) => Step::Unrevealable,
        (_, Some(NodeStatus::Revealed), _) => Step::Wait {
            awaited: Awaited::Verdict,
            until: round.committees[0].reveal_deadline.max(d.vote_reveal),
        },
        _ => Step::Closed,
    }
}

impl Step {
    /// One sentence for the node's operator: what happens next, and until when.
    pub fn describe(&self, slot: u64) -> String {
        match *self {
            Step::Join => "Train, then stake into the round and commit to the update before training closes.".into(),
            Step::TrainAndCommit => "Joined: train on your data and commit to the update.".into(),
            Step::Commit => "An update is saved but the chain does not hold its commitment: commit it.".into(),
            Step::Reveal => "Reveal now: upload the committed update and reveal it before the reveal phase closes.".into(),
            Step::Upload { until } => format!(
                "Revealed, but the storage never took the update: upload it before slot {until} (now {slot}), while the committee still fetches, or it is excluded (the stake comes back)."
            ),
            Step::Wait { awaited: Awaited::RevealPhase, until } => format!(
                "Committed. The reveal phase opens at slot {until} (now {slot}); the update and its salt are saved."
            ),
            Step::Wait { awaited: Awaited::Verdict, until } => format!(
                "Revealed. A committee drawn by bond from the registry judges the round; its votes are in by slot {until} (now {slot})."
            ),
            Step::Wait { awaited: Awaited::Settlement, until } => format!(
                "The committee has decided. Settlement opens at slot {until} (now {slot}), once the appeal window and the committee's absence reports close and the verdict's leaves are posted."
            ),
            Step::FailRound => "The round timed out without a verdict: fail it, then settle for the refund of the stake.".into(),
            Step::Settle => "Settle: the stake and reward by the verdict (or the refund of a failed round).".into(),
            Step::Done => "Done: this node's stake and reward are paid out.".into(),
            Step::Closed => "Training has closed for this round: pick another.".into(),
            Step::Unrevealable => "No committed update this node can reveal (none saved, training closed before the commit, or the reveal phase closed before the reveal): part of the stake will be slashed. Settle what is left once the round settles.".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use droppin_interface::{
        Cid,
        state::{Deadlines, RoundCounts},
    };

    use super::*;
    use crate::record::Opening;

    fn round() -> Round {
        Round {
            deadlines: Deadlines {
                commit: 100,
                reveal: 200,
                validation: 300,
                vote_reveal: 350,
            },
            counts: RoundCounts {
                nodes_joined: 1,
                ..RoundCounts::default()
            },
            ..Round::default()
        }
    }

    /// The node's account, holding the commitment of [`saved`] once committed.
    fn node(status: NodeStatus) -> NodeState {
        NodeState {
            status,
            commitment: saved().hash(&[0; 32]),
            ..NodeState::default()
        }
    }

    fn saved() -> Commitment {
        Commitment {
            cid: Cid::from_digest(&[1; 32]),
            salt: [2; 32],
            samples: 10,
            revealed: false,
            uploaded: true,
            settled: false,
            opening: Some(Opening::of(&round())),
        }
    }

    fn step(
        slot: u64,
        round: &Round,
        node: Option<&NodeState>,
        saved: Option<&Commitment>,
    ) -> Step {
        next_step(Snapshot { slot, round, node }, saved)
    }

    #[test]
    fn a_node_walks_join_train_commit_reveal_wait_settle() {
        let open = round();
        let (joined, committed, revealed) = (
            node(NodeStatus::Joined),
            node(NodeStatus::Committed),
            node(NodeStatus::Revealed),
        );
        assert_eq!(step(10, &open, None, None), Step::Join);
        assert_eq!(
            step(90, &open, None, None),
            Step::Closed,
            "too late to train"
        );
        assert_eq!(step(10, &open, Some(&joined), None), Step::TrainAndCommit);
        assert_eq!(
            step(10, &open, Some(&joined), Some(&saved())),
            Step::Commit,
            "a saved commitment is committed, never retrained"
        );
        assert_eq!(
            step(10, &open, Some(&committed), Some(&saved())),
            Step::Wait {
                awaited: Awaited::RevealPhase,
                until: 100
            }
        );
        assert_eq!(
            step(150, &open, Some(&committed), Some(&saved())),
            Step::Reveal
        );
        assert_eq!(step(150, &open, Some(&committed), None), Step::Unrevealable);
        assert!(matches!(
            step(150, &open, Some(&revealed), Some(&saved())),
            Step::Wait {
                awaited: Awaited::Verdict,
                ..
            }
        ));
        let failed = Round {
            status: RoundStatus::Failed,
            ..round()
        };
        assert_eq!(
            step(400, &failed, Some(&revealed), None),
            Step::Settle,
            "a refund"
        );
        assert_eq!(step(400, &failed, None, None), Step::Done);
        // Past the reveal deadline with nothing revealed, the round can only fail: the node
        // fails it and takes its refund rather than wait forever.
        assert_eq!(step(250, &open, Some(&committed), None), Step::FailRound);
        let settled = Commitment {
            settled: true,
            ..saved()
        };
        assert_eq!(
            step(400, &failed, Some(&revealed), Some(&settled)),
            Step::Done
        );
        assert!(!Step::Reveal.describe(150).is_empty());
    }

    #[test]
    fn a_failed_round_is_settled_only_once_its_absences_are_over() {
        // No seat taken: the round fails at the validation deadline, but settles only once the
        // committee's absences can no longer be reported (its reveal deadline and the posting
        // time after it). Settling before that is refused on-chain.
        let mut failed = Round {
            status: RoundStatus::Failed,
            ..round()
        };
        failed.committees[0].drawn = true;
        failed.committees[0].reveal_deadline = 350;
        failed.terms.post_slots = 100;
        let revealed = node(NodeStatus::Revealed);
        assert_eq!(
            step(320, &failed, Some(&revealed), None),
            Step::Wait {
                awaited: Awaited::Settlement,
                until: 450
            }
        );
        assert_eq!(step(450, &failed, Some(&revealed), None), Step::Settle);
    }

    /// A node revealed but its upload failed, or it stopped between the two: it uploads again
    /// until the committee's availability reports close, then waits for the verdict (its
    /// update excluded, its stake back).
    #[test]
    fn a_revealed_update_the_store_never_took_is_uploaded_while_the_committee_fetches() {
        let mut open = round();
        open.counts.nodes_revealed = 1;
        let committee = &mut open.committees[0];
        committee.drawn = true;
        committee.draw_slot = 200;
        committee.vote_deadline = 300;
        let revealed = node(NodeStatus::Revealed);
        let unsent = Commitment {
            uploaded: false,
            ..saved()
        };
        for slot in [150, 249] {
            assert_eq!(
                step(slot, &open, Some(&revealed), Some(&unsent)),
                Step::Upload { until: 250 }
            );
        }
        assert!(matches!(
            step(250, &open, Some(&revealed), Some(&unsent)),
            Step::Wait {
                awaited: Awaited::Verdict,
                ..
            }
        ));
        assert!(matches!(
            step(150, &open, Some(&revealed), Some(&saved())),
            Step::Wait { .. }
        ));
        assert!(Step::Upload { until: 250 }.describe(150).contains("250"));
    }

    /// A join and commit that did not land, or a commit of a record since replaced: the saved
    /// record is what gets committed, never a fresh training over it.
    #[test]
    fn the_saved_record_is_the_one_committed_and_revealed() {
        let open = round();
        assert_eq!(
            step(10, &open, None, Some(&saved())),
            Step::Commit,
            "joins with the saved commitment rather than train over its salt"
        );
        let other = Commitment {
            salt: [3; 32],
            ..saved()
        };
        let committed = node(NodeStatus::Committed);
        assert_eq!(
            step(10, &open, Some(&committed), Some(&other)),
            Step::Commit,
            "the chain holds another commitment: the saved one replaces it while training is open"
        );
        assert_eq!(
            step(150, &open, Some(&committed), Some(&other)),
            Step::Unrevealable,
            "a salt that does not open what the chain holds reveals nothing"
        );
    }

    /// A round's address is reused by every opening (clusters, a local network started again):
    /// a record made in another opening is not this round's.
    #[test]
    fn a_record_from_another_opening_of_the_address_is_ignored() {
        let open = round();
        let elsewhere = Commitment {
            opening: Some(Opening {
                opened_slot: 7,
                model_hash: [9; 32],
            }),
            ..saved()
        };
        assert_eq!(step(10, &open, None, Some(&elsewhere)), Step::Join);
        let settled_elsewhere = Commitment {
            settled: true,
            ..elsewhere
        };
        assert_eq!(step(10, &open, None, Some(&settled_elsewhere)), Step::Join);
        // A record older than openings: taken as the round's only once the node is in it.
        let legacy = Commitment {
            opening: None,
            ..saved()
        };
        assert_eq!(step(10, &open, None, Some(&legacy)), Step::Join);
        let committed = node(NodeStatus::Committed);
        assert_eq!(
            step(150, &open, Some(&committed), Some(&legacy)),
            Step::Reveal
        );
    }

    #[test]
    fn a_node_that_missed_its_reveal_is_told_so() {
        let mut open = round();
        open.counts.nodes_revealed = 1;
        let committed = node(NodeStatus::Committed);
        assert_eq!(
            step(250, &open, Some(&committed), Some(&saved())),
            Step::Unrevealable
        );
    }

    #[test]
    fn settlement_is_awaited_until_the_appeal_committees_absences_close() {
        let mut finalized = Round {
            status: RoundStatus::Finalized,
            ..round()
        };
        finalized.outcome.leaves_complete_slot = 360;
        finalized.terms.appeal_window_slots = 40;
        finalized.terms.post_slots = 100;
        finalized.committees[0].drawn = true;
        finalized.committees[0].reveal_deadline = 350;
        let revealed = node(NodeStatus::Revealed);
        assert_eq!(
            step(380, &finalized, Some(&revealed), None),
            Step::Wait {
                awaited: Awaited::Settlement,
                until: 450
            },
            "the appeal window closes at 400, the absences at 450"
        );
    }

    #[test]
    fn a_node_that_missed_its_commit_settles_what_is_left() {
        // Joined, never committed (training took too long): a no-show, not a stranger to the
        // round. Its stake, less the slash, comes back once the round settles.
        let joined = node(NodeStatus::Joined);
        assert_eq!(step(150, &round(), Some(&joined), None), Step::Unrevealable);
        assert_eq!(
            step(150, &round(), Some(&joined), Some(&saved())),
            Step::Unrevealable
        );
    }
}
