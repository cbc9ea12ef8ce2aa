//! Opening and funding a round from the order form: publish the initial global model to the
//! storage gateway, then one `OpenRound` transaction signed by the funder's wallet.

use droppin_fl::data::digits;
use droppin_fl::model::{ModelSpec, Weights};
use droppin_fl::update::{Encoding, Update};
use droppin_interface::builders;
use droppin_interface::instruction::{DEFAULT_QUORUM_BPS, OpenRoundArgs};
use droppin_interface::pda::find;
use droppin_interface::state::{Currency, Deadlines, ProtocolConfig};
use solana_address::Address;

use crate::chain;
use crate::order::{Order, lamports, preview};
use crate::session::{AppError, Session};
use crate::storage;

/// A confirmed round.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opened {
    pub id: u64,
    pub round: Address,
    pub signature: String,
}

/// The protocol's configuration on the chosen cluster.
pub async fn protocol_config(session: &Session) -> Result<ProtocolConfig, AppError> {
    chain::state(session, &find::config(&session.program()))
        .await?
        .ok_or_else(|| AppError::Invalid("dropPIN is not deployed on this cluster".into()))
}

/// Opens a digits-MLP round funded by the connected wallet.
pub async fn open_round(
    session: &Session,
    order: &Order,
    committee: &[Address],
) -> Result<Opened, AppError> {
    let funder = session.address()?;
    let config = protocol_config(session).await?;
    preview(order, &config.params).map_err(|errors| {
        AppError::Invalid(
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
        )
    })?;
    let amount = lamports(order.amount_sol).ok_or_else(|| AppError::Invalid("amount".into()))?;
    let stake = lamports(order.node_stake_sol).ok_or_else(|| AppError::Invalid("stake".into()))?;
    let spec = ModelSpec::digits_mlp();
    let model = Update::model(&spec, &Weights::initial(&spec, 1)).encode(Encoding::default());
    let model_cid = storage::upload(&session.storage_url(), &model).await?;
    let slot = session.rpc().slot().await?;
    let args = OpenRoundArgs {
        task_hash: spec.hash(),
        model_hash: *model_cid.digest(),
        model_cid,
        validation_set_hash: digits()?.validation.hash(),
        max_nodes: order.max_nodes,
        node_stake: stake,
        validator_stake: stake,
        amount,
        deadlines: Deadlines {
            commit: slot + order.phase_slots,
            reveal: slot + 2 * order.phase_slots,
            validation: slot + 3 * order.phase_slots,
        },
        committee: committee.iter().map(|a| a.to_bytes()).collect(),
        quorum_bps: DEFAULT_QUORUM_BPS,
        currency: Currency::Sol,
    };
    let program = session.program();
    let id = config.round_count;
    let signature = session
        .send(&[builders::open_round(&program, &funder, id, args)])
        .await?;
    Ok(Opened {
        id,
        round: find::round(&program, id),
        signature,
    })
}
