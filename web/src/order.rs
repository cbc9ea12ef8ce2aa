//! The order form's arithmetic: what a funder's SOL becomes. It uses the coordinator's own
//! split, so the preview is what the program will do to the lamport.

use droppin_coordinator::{bps_of, split_funding};
use droppin_interface::{LAMPORTS_PER_SOL, state::ProtocolParams};
use solana_address::Address;
use thiserror::Error;

/// What the funder types.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Order {
    /// SOL paid, the protocol fee included.
    pub amount_sol: f64,
    /// Most nodes admitted.
    pub max_nodes: u32,
    /// Stake each node locks, in SOL.
    pub node_stake_sol: f64,
    /// Slots in each phase: training, reveal, validation.
    pub phase_slots: u64,
}

impl Default for Order {
    fn default() -> Self {
        Order {
            amount_sol: 1.0,
            max_nodes: 8,
            node_stake_sol: 0.02,
            phase_slots: 600,
        }
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
}

/// A field the funder must correct, with the message shown beside it.
#[derive(Clone, Copy, Debug, Error, PartialEq)]
pub enum OrderError {
    #[error("enter an amount of SOL above zero")]
    Amount,
    #[error("a round admits 1 to {0} nodes")]
    MaxNodes(u32),
    #[error("the node stake must be at least {0} SOL")]
    Stake(f64),
    #[error("each phase lasts {0} to {1} slots")]
    PhaseSlots(u64, u64),
}

/// A committee the funder names, or what is wrong with it.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum CommitteeError {
    #[error("name 1 to {0} validators")]
    Size(usize),
    #[error("{0:?} is not a Solana address")]
    NotAnAddress(String),
    #[error("{0} is named twice")]
    Repeated(String),
}

/// Most committee members a round takes.
pub const MAX_COMMITTEE: usize = 8;

/// Parses validator addresses separated by commas, spaces or new lines.
pub fn parse_committee(text: &str) -> Result<Vec<Address>, CommitteeError> {
    let mut committee: Vec<Address> = Vec::new();
    for word in text
        .split([',', ' ', '\n'])
        .filter(|w| !w.trim().is_empty())
    {
        let word = word.trim();
        let address: Address = word
            .parse()
            .map_err(|_| CommitteeError::NotAnAddress(word.to_owned()))?;
        if committee.contains(&address) {
            return Err(CommitteeError::Repeated(word.to_owned()));
        }
        committee.push(address);
    }
    if committee.is_empty() || committee.len() > MAX_COMMITTEE {
        return Err(CommitteeError::Size(MAX_COMMITTEE));
    }
    Ok(committee)
}

/// SOL as lamports, if it is a positive amount.
pub fn lamports(sol: f64) -> Option<u64> {
    (sol.is_finite() && sol > 0.0 && sol < 1e9)
        .then(|| (sol * LAMPORTS_PER_SOL as f64).round() as u64)
}

/// The preview of `order` under `params`, or every field that needs correcting.
pub fn preview(order: &Order, params: &ProtocolParams) -> Result<Preview, Vec<OrderError>> {
    let mut errors = Vec::new();
    let amount = lamports(order.amount_sol).filter(|&a| a > 0);
    if amount.is_none() {
        errors.push(OrderError::Amount);
    }
    if order.max_nodes == 0 || order.max_nodes > params.max_nodes {
        errors.push(OrderError::MaxNodes(params.max_nodes));
    }
    let stake = lamports(order.node_stake_sol).filter(|&s| s >= params.min_stake);
    if stake.is_none() {
        errors.push(OrderError::Stake(
            params.min_stake as f64 / LAMPORTS_PER_SOL as f64,
        ));
    }
    if !(params.min_phase_slots..=params.max_phase_slots).contains(&order.phase_slots) {
        errors.push(OrderError::PhaseSlots(
            params.min_phase_slots,
            params.max_phase_slots,
        ));
    }
    let (Some(amount), Some(stake), true) = (amount, stake, errors.is_empty()) else {
        return Err(errors);
    };
    let funding = split_funding(amount, params.fee_bps).map_err(|_| vec![OrderError::Amount])?;
    let validators = bps_of(funding.to_pool, params.validator_share_bps);
    let nodes = funding.to_pool - validators;
    Ok(Preview {
        fee: funding.fee,
        pool: funding.to_pool,
        validators,
        nodes,
        stakes_locked: stake * u64::from(order.max_nodes),
        per_honest_node: nodes / u64::from(order.max_nodes),
    })
}

#[cfg(test)]
mod tests {
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
    fn committees_are_checked() {
        let a = Address::new_from_array([1; 32]).to_string();
        let b = Address::new_from_array([2; 32]).to_string();
        assert_eq!(parse_committee(&format!("{a}, {b}\n")).unwrap().len(), 2);
        assert_eq!(parse_committee(" "), Err(CommitteeError::Size(8)));
        assert_eq!(
            parse_committee(&format!("{a},{a}")),
            Err(CommitteeError::Repeated(a.clone()))
        );
        assert!(matches!(
            parse_committee("not-a-key"),
            Err(CommitteeError::NotAnAddress(_))
        ));
    }

    #[test]
    fn every_bad_field_is_named() {
        let order = Order {
            amount_sol: f64::NAN,
            max_nodes: 0,
            node_stake_sol: 0.001,
            phase_slots: 600,
        };
        let errors = preview(&order, &ProtocolParams::default()).unwrap_err();
        assert_eq!(
            errors,
            vec![
                OrderError::Amount,
                OrderError::MaxNodes(100_000),
                OrderError::Stake(0.01)
            ]
        );
        assert_eq!(
            errors[2].to_string(),
            "the node stake must be at least 0.01 SOL"
        );
    }
}
