//! The order form's arithmetic: what a funder's SOL (or $dPIN) becomes. It runs the
//! coordinator's own `open_round` on the order, so the preview is what the program will do to
//! the last base unit.

use droppin_coordinator::{RoundKeys, open_round, seat_lock, split_pool};
use droppin_interface::Cid;
use droppin_interface::instruction::{OpenRoundArgs, PhaseLengths};
use droppin_interface::state::{Currency, ProtocolParams, Round};
use droppin_node::money::{exact_amount, parse_amount, unit_name};
use thiserror::Error;

/// What the funder types.
#[derive(Clone, Debug, PartialEq)]
pub struct Order {
    /// What the round pays in: SOL, or $dPIN once launched.
    pub currency: Currency,
    /// Whole units paid, the protocol fee included, as typed (read exactly, never as a float).
    pub amount: String,
    /// Most nodes admitted.
    pub max_nodes: u32,
    /// Stake each node locks, in whole units, as typed.
    pub node_stake: String,
    /// Slots to train and commit.
    pub training_slots: u64,
    /// Slots for the nodes' reveals, and as many for the committee's validation.
    pub review_slots: u64,
    /// Expected committee size: the protocol draws it from the bonded validators.
    pub committee_size: u8,
}

impl Order {
    /// The default order under `params`: one SOL, eight nodes, the shortest phases.
    pub fn for_params(params: &ProtocolParams) -> Order {
        Order {
            currency: Currency::Sol,
            amount: "1".into(),
            max_nodes: 8,
            node_stake: "0.02".into(),
            training_slots: params.min_phase_slots,
            review_slots: params.min_phase_slots,
            committee_size: params
                .committee
                .min_size
                .max(5)
                .min(params.committee.max_size),
        }
    }

    /// How long the ordered round's phases last.
    pub fn phase_lengths(&self) -> PhaseLengths {
        PhaseLengths {
            training: self.training_slots,
            review: self.review_slots,
        }
    }
}

impl Default for Order {
    fn default() -> Self {
        Order::for_params(&ProtocolParams::default())
    }
}

/// What the order turns into, in lamports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Preview {
    /// To the treasury, which buys and burns $dPIN.
    pub fee: u64,
    /// Escrowed in the round's vault.
    pub pool: u64,
    /// The committee's share of the pool.
    pub validators: u64,
    /// Shared by accepted nodes by contribution.
    pub nodes: u64,
    /// Locked by nodes when the round is full (returned to honest nodes).
    pub stakes_locked: u64,
    /// What each node earns on average if every node is honest and accepted.
    pub per_honest_node: u64,
    /// Bond each committee seat locks when the round is full: more than a captive quorum could
    /// move, so overturning it on appeal always costs it more than it took.
    pub seat_lock: u64,
}

/// When an ordered round's verdict and payouts come, in slots after it opens, if the committee
/// reaches its quorum and nobody appeals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeline {
    /// The committee's votes are all revealed.
    pub verdict: u64,
    /// Nodes and seats may settle: the appeal window after the verdict's leaves land (taken as
    /// landing at once), and the committee's absences can no longer be reported.
    pub payouts: u64,
}

impl Order {
    /// The ordered round's timeline under `params`.
    pub fn timeline(&self, params: &ProtocolParams) -> Timeline {
        let lengths = self.phase_lengths();
        let c = &params.committee;
        let (_, _, validation) = lengths.deadlines(0);
        let verdict = validation.saturating_add(c.vote_reveal_slots);
        Timeline {
            verdict,
            payouts: verdict.saturating_add(c.appeal_window_slots.max(c.post_slots)),
        }
    }
}

/// A field the funder must correct, with the message shown beside it.
#[derive(Clone, Debug, Error, PartialEq)]
pub enum OrderError {
    /// The amount is not one (the reason, in the parser's words), or the program would refuse
    /// it.
    #[error("{0}")]
    Amount(String),
    #[error("a round admits 1 to {0} nodes")]
    MaxNodes(u32),
    #[error("the node stake must be at least {0} {1}")]
    Stake(String, &'static str),
    /// The stake is not an amount (the parser's words).
    #[error("{0}")]
    StakeText(String),
    #[error("training lasts {0} to {1} slots")]
    TrainingSlots(u64, u64),
    #[error("the reveals, and the validation, each last {0} to {1} slots")]
    ReviewSlots(u64, u64),
    #[error("a committee has {0} to {1} members")]
    CommitteeSize(u8, u8),
}

/// Typed whole units of `currency` as base units, if it is a positive amount.
fn base_units(whole: &str, currency: Currency) -> Option<u64> {
    parse_amount(whole, currency, "the amount").ok()
}

/// The least stake a round in `currency` may ask, in base units.
fn min_stake(params: &ProtocolParams, currency: Currency) -> u64 {
    match currency {
        Currency::Sol => params.min_stake,
        Currency::Dpin => params.swap.to_dpin(params.min_stake),
    }
}

/// Every field of `order` that `params` refuses.
fn field_errors(order: &Order, params: &ProtocolParams) -> Vec<OrderError> {
    let mut errors = Vec::new();
    let currency = order.currency;
    if let Err(error) = parse_amount(&order.amount, currency, "the amount") {
        errors.push(OrderError::Amount(error.to_string()));
    }
    if order.max_nodes == 0 || order.max_nodes > params.max_nodes {
        errors.push(OrderError::MaxNodes(params.max_nodes));
    }
    let least = min_stake(params, currency);
    match parse_amount(&order.node_stake, currency, "the node stake") {
        Err(error) => errors.push(OrderError::StakeText(error.to_string())),
        Ok(stake) if stake < least => errors.push(OrderError::Stake(
            exact_amount(least, currency),
            unit_name(currency),
        )),
        Ok(_) => {}
    }
    let (training_ok, review_ok) = order.phase_lengths().allowed(params);
    if !training_ok {
        let range = PhaseLengths::training_range(params);
        errors.push(OrderError::TrainingSlots(*range.start(), *range.end()));
    }
    if !review_ok {
        let range = params.phase_range();
        errors.push(OrderError::ReviewSlots(*range.start(), *range.end()));
    }
    let c = &params.committee;
    if !(c.min_size..=c.max_size).contains(&order.committee_size) {
        errors.push(OrderError::CommitteeSize(c.min_size, c.max_size));
    }
    errors
}

/// The instruction arguments of `order` (task, model and validation set left for the caller), with
/// deadlines from `slot`.
pub fn round_args(order: &Order, slot: u64) -> Option<OpenRoundArgs> {
    let (commit, reveal, validation) = order.phase_lengths().deadlines(slot);
    Some(OpenRoundArgs {
        task_cid: Cid::default(),
        model_hash: [0; 32],
        model_cid: Cid::default(),
        validation_set_hash: [0; 32],
        max_nodes: order.max_nodes,
        node_stake: base_units(&order.node_stake, order.currency)?,
        amount: base_units(&order.amount, order.currency)?,
        commit,
        reveal,
        validation,
        committee_size: order.committee_size,
        currency: order.currency,
    })
}

/// What the program would say to an order whose fields each look right.
fn refused(error: droppin_interface::DropPinError) -> Vec<OrderError> {
    vec![OrderError::Amount(format!(
        "the program would refuse this order: {error}"
    ))]
}

/// The preview of `order` under `params`, or every field that needs correcting.
pub fn preview(order: &Order, params: &ProtocolParams) -> Result<Preview, Vec<OrderError>> {
    let errors = field_errors(order, params);
    let args = round_args(order, 0).filter(|_| errors.is_empty());
    let Some(mut args) = args else {
        return Err(errors);
    };
    // The coordinator opens the round as the program would (a CID stands in for the task's
    // and the model's).
    let model = Cid::from_digest(&[1; 32]);
    (args.task_cid, args.model_cid, args.model_hash) = (model, model, *model.digest());
    let keys = RoundKeys {
        bonded_total: 1,
        // A $dPIN round has a token vault; any key stands in for it here.
        token_vault: match order.currency {
            Currency::Sol => [0; 32],
            Currency::Dpin => [1; 32],
        },
        ..RoundKeys::default()
    };
    let mut round = Round::default();
    let funding = open_round(params, &keys, &args, 0, &mut round).map_err(refused)?;
    round.counts.nodes_joined = order.max_nodes;
    let seat_lock = seat_lock(&round).map_err(refused)?;
    let (validators, nodes) =
        split_pool(funding.to_pool, params.validator_share_bps).map_err(refused)?;
    Ok(Preview {
        fee: funding.fee,
        pool: funding.to_pool,
        validators,
        nodes,
        stakes_locked: args.node_stake * u64::from(order.max_nodes),
        per_honest_node: nodes / u64::from(order.max_nodes),
        seat_lock,
    })
}

#[cfg(test)]
mod tests {
    use droppin_coordinator::bps_of;
    use droppin_interface::state::SLOTS_PER_HOUR;
    use droppin_node::money::unit_size;

    use super::*;

    #[test]
    fn one_sol_for_eight_nodes() {
        let preview = preview(&Order::default(), &ProtocolParams::default()).unwrap();
        assert_eq!(preview.fee, 80_000_000, "8% buys and burns $dPIN");
        assert_eq!(preview.pool, 920_000_000);
        assert_eq!(preview.validators, 46_000_000, "5% of the pool");
        assert_eq!(preview.nodes, 874_000_000);
        assert_eq!(preview.stakes_locked, 160_000_000);
        assert_eq!(preview.per_honest_node, 109_250_000);
        assert_eq!(
            preview.fee + preview.validators + preview.nodes,
            1_000_000_000
        );
    }

    #[test]
    fn a_seat_locks_more_than_a_captive_quorum_could_move() {
        let params = ProtocolParams::default();
        let preview = preview(&Order::default(), &params).unwrap();
        let slashable = 8 * bps_of(20_000_000, params.slash_bps);
        let quorum = (u64::from(params.committee.quorum_bps)
            * u64::from(params.committee.min_size))
        .div_ceil(10_000);
        assert!(preview.seat_lock * quorum > preview.pool + slashable);
    }

    #[test]
    fn a_dpin_order_is_checked_and_split_in_dpin() {
        let params = ProtocolParams::default();
        let order = Order {
            currency: Currency::Dpin,
            amount: "1000".into(),
            node_stake: "0.001".into(),
            ..Order::default()
        };
        let errors = preview(&order, &params).unwrap_err();
        assert!(
            matches!(errors.as_slice(), [OrderError::Stake(_, "$dPIN")]),
            "{errors:?}"
        );
        let least = params.swap.to_dpin(params.min_stake);
        let order = Order {
            node_stake: exact_amount(least * 2, Currency::Dpin),
            ..order
        };
        let preview = preview(&order, &params).unwrap();
        assert_eq!(
            preview.fee + preview.pool,
            1_000 * unit_size(Currency::Dpin),
            "every base unit of the order is accounted for"
        );
    }

    #[test]
    fn training_and_review_lengths_set_their_own_deadlines() {
        let order = Order {
            training_slots: 6 * SLOTS_PER_HOUR,
            review_slots: SLOTS_PER_HOUR,
            ..Order::default()
        };
        let args = round_args(&order, 100).unwrap();
        assert_eq!(args.commit, 100 + 32 + 6 * SLOTS_PER_HOUR);
        assert_eq!(args.reveal - args.commit, SLOTS_PER_HOUR);
        assert_eq!(args.validation - args.reveal, SLOTS_PER_HOUR);
        let committee = ProtocolParams::default().committee;
        let timeline = order.timeline(&ProtocolParams::default());
        assert_eq!(
            timeline.verdict,
            args.validation - 100 + committee.vote_reveal_slots
        );
        assert_eq!(
            timeline.payouts,
            timeline.verdict + committee.appeal_window_slots.max(committee.post_slots)
        );
    }

    #[test]
    fn every_bad_field_is_named() {
        let order = Order {
            amount: "1,5".into(),
            max_nodes: 0,
            node_stake: "0.001".into(),
            training_slots: 7 * 24 * SLOTS_PER_HOUR,
            review_slots: 10,
            committee_size: 200,
            ..Order::default()
        };
        let errors = preview(&order, &ProtocolParams::default()).unwrap_err();
        assert_eq!(
            errors,
            vec![
                OrderError::Amount(
                    "the amount: `1,5` is not a decimal amount of SOL (digits, one `.`)".into()
                ),
                OrderError::MaxNodes(1_024),
                OrderError::Stake("0.01".into(), "SOL"),
                // The longest training leaves room for the opening's landing margin.
                OrderError::TrainingSlots(SLOTS_PER_HOUR, 7 * 24 * SLOTS_PER_HOUR - 32),
                OrderError::ReviewSlots(SLOTS_PER_HOUR, 7 * 24 * SLOTS_PER_HOUR),
                OrderError::CommitteeSize(3, 31)
            ]
        );
        assert_eq!(
            errors[2].to_string(),
            "the node stake must be at least 0.01 SOL"
        );
        let finer = Order {
            node_stake: "0.0000000001".into(),
            ..Order::default()
        };
        assert_eq!(
            preview(&finer, &ProtocolParams::default()).unwrap_err(),
            vec![OrderError::StakeText(
                "the node stake has more decimals than SOL has (9)".into()
            )]
        );
    }
}
