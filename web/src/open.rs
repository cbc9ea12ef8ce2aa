//! Opening and funding a round from the order form: publish the initial global model to the
//! storage gateway, then one `OpenRound` transaction signed by the funder's wallet.

use droppin_fl::model::Weights;
use droppin_fl::update::{Encoding, Update};
use droppin_interface::builders;
use droppin_interface::pda::find;
use droppin_interface::state::{ProtocolConfig, Registry};
use droppin_node::RoundTask;
use solana_address::Address;

use crate::chain;
use crate::order::{Order, preview, round_args};
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

/// The validator registry the round's committee will be drawn from.
pub async fn registry(session: &Session) -> Result<Registry, AppError> {
    Ok(chain::state(session, &find::registry(&session.program()))
        .await?
        .unwrap_or_default())
}

/// Opens a round of `task` funded by the connected wallet: publishes the task's manifest and
/// its initial model, pins the validation set the task's shipped data gives; its committee is
/// drawn later from the bonded validators.
pub async fn open_round(
    session: &Session,
    order: &Order,
    task: &RoundTask,
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
    let validation = task
        .committee_split()
        .map_err(|e| AppError::Invalid(e.to_string()))?
        .validation;
    let spec = &task.spec;
    let task_cid = storage::upload(&session.storage_url(), &task.bytes()).await?;
    let model = Update::model(spec, &Weights::initial(spec, 1)).encode(Encoding::default());
    let model_cid = storage::upload(&session.storage_url(), &model).await?;
    let slot = session.rpc().slot().await?;
    let mut args =
        round_args(order, slot).ok_or_else(|| AppError::Invalid("amount or stake".into()))?;
    args.task_cid = task_cid;
    args.model_hash = *model_cid.digest();
    args.model_cid = model_cid;
    args.validation_set_hash = validation.hash();
    let program = session.program();
    let id = config.round_count;
    let round = find::round(&program, id);
    let mint = config
        .token_launched()
        .then(|| Address::new_from_array(config.token.mint));
    let open = builders::in_currency(
        builders::open_round(&program, &funder, id, args),
        order.currency,
        &round,
        &funder,
        mint.as_ref(),
    )
    .map_err(|e| AppError::Invalid(e.to_string()))?;
    let signature = session.send(&[open]).await?;
    Ok(Opened {
        id,
        round,
        signature,
    })
}
