//! The rounds explorer: every round's phase, pool, head counts, appeal and model lineage (each
//! round's global model and the one it produced), a round's committees and nodes, its verdicts,
//! and downloads of global models.

use droppin_coordinator::{phase_name, resolution_name};
use droppin_fl::validate::VerdictList;
use droppin_interface::Cid;
use droppin_interface::state::{Currency, NodeStatus, Round, RoundStatus};
use leptos::prelude::*;
use leptos::task::spawn_local;
use solana_address::Address;

use crate::chain;
use crate::chart::{self, LineChart};
use crate::committee::Committee;
use crate::connect::short;
use crate::follow::{every_few_seconds, set_if_changed};
use crate::session::{AppError, Session};
use crate::status::RoundStatusPanel;
use crate::storage::{self, cid_text};
use burn::tensor::Device;
use droppin_fl::data::task_split;
use droppin_fl::evaluate::evaluate;
use droppin_fl::update::decode_model;
use droppin_node::RoundTask;
use droppin_node::money::format_amount;

/// Lamports (or lamports' worth) in SOL.
pub fn sol(lamports: u64) -> String {
    format_amount(lamports, Currency::Sol)
}

/// An amount in the round's currency.
pub fn amount(round: &Round, base_units: u64) -> String {
    format_amount(base_units, round.currency)
}

/// A round's appeal in the rounds table: its resolution, `pending`, or a dash.
fn appeal_text(round: &Round) -> &'static str {
    match (
        round.appeal.filed(),
        resolution_name(round.appeal.resolution),
    ) {
        (_, Some(resolution)) => resolution,
        (true, None) => "pending",
        (false, None) => "-",
    }
}

fn status_name(status: NodeStatus) -> &'static str {
    match status {
        NodeStatus::Joined => "joined",
        NodeStatus::Committed => "committed",
        NodeStatus::Revealed => "revealed",
    }
}

/// A model CID with its download link, or a dash when there is none.
#[component]
fn ModelLink(cid: Cid) -> impl IntoView {
    let session = expect_context::<Session>();
    cid.is_well_formed().then(|| {
        let text = cid_text(&cid);
        let href = format!("{}/ipfs/{text}?format=raw", session.storage_url());
        let file = format!("{text}.dpup");
        view! { <a class="cid" href=href download=file title=text.clone()>{short(&text)}</a> }
    })
}

/// The published verdict list of the verdict in force, checked against its on-chain leaves
/// root: each node's outcome, weight and the reason behind it.
pub async fn verdict_list(
    session: Session,
    address: Address,
    round: Round,
) -> Result<VerdictList, AppError> {
    let vote = round.outcome.vote;
    let bytes = storage::download(&session.storage_url(), &vote.verdict_list_cid).await?;
    let list = VerdictList::parse(&bytes)?;
    if !list.matches(&address.to_bytes(), &vote.leaves_root)? {
        return Err(AppError::Invalid(
            "the published verdict list does not match the verdict on-chain".into(),
        ));
    }
    Ok(list)
}

/// A finalized round's verdicts: each node's outcome, weight and the reason.
#[component]
fn Verdicts(address: Address, round: Round) -> impl IntoView {
    let session = expect_context::<Session>();
    let list = LocalResource::new(move || verdict_list(session, address, round.clone()));
    move || {
        match list.get() {
        None => view! { <p>"Loading the verdict list..."</p> }.into_any(),
        Some(Err(error)) => view! { <p class="error">{error.to_string()}</p> }.into_any(),
        Some(Ok(list)) => view! {
            <div class="table-scroll" tabindex="0" role="region" aria-label="Verdicts"><table class="verdicts">
                <tr><th scope="col">"Node"</th><th scope="col">"Verdict"</th><th scope="col">"Contribution"</th><th scope="col">"Reason"</th></tr>
                {list.verdicts.into_iter().map(|v| view! {
                    <tr>
                        <td>{short(&v.node)}</td>
                        <td>{v.outcome}</td>
                        <td>{format!("{:.2}%", f64::from(v.weight_bps) / 100.0)}</td>
                        <td>{v.reason.unwrap_or_default()}</td>
                    </tr>
                }).collect_view()}
            </table></div>
        }
        .into_any(),
    }
    }
}

#[component]
fn RoundDetail(address: Address, round: Round, now: RwSignal<u64>) -> impl IntoView {
    let session = expect_context::<Session>();
    let nodes = LocalResource::new(move || async move {
        chain::nodes(&session, &address)
            .await
            .map_err(|e| e.to_string())
    });
    let settled = round.counts.nodes_settled;
    let outcome = round.outcome;
    view! {
        <section class="detail" id="round-detail">
            <h3>{format!("Round {}", round.id)}</h3>
            {let shown = round.clone(); move || view! { <RoundStatusPanel round=shown.clone() now=now.get() /> }}
            <p class="note">{format!("Address {address}; funder {}", Address::new_from_array(round.funder))}</p>
            <p class="note">{format!(
                "Deadlines: training until slot {}, reveal until {}, sealed votes until {}, vote reveals until {}.",
                round.deadlines.commit, round.deadlines.reveal, round.deadlines.validation, round.deadlines.vote_reveal
            )}</p>
            {let shown = round.clone(); move || view! { <Committee round=shown.clone() now=now.get() /> }}
            {(round.status == RoundStatus::Finalized).then(|| view! {
                <p>{format!("Nodes share {}. ", amount(&round, outcome.node_pool))}
                "New global model: " <ModelLink cid=outcome.vote.new_model_cid />
                " · verdict list: " <ModelLink cid=outcome.vote.verdict_list_cid /></p>
                <Verdicts address=address round=round.clone() />
            })}
            {move || match nodes.get() {
                None => view! { <p>"Loading nodes..."</p> }.into_any(),
                Some(Err(error)) => view! { <p class="error">{error}</p> }.into_any(),
                Some(Ok(list)) if list.is_empty() && settled > 0 => view! { <p>{format!("All {settled} nodes have settled.")}</p> }.into_any(),
                Some(Ok(list)) if list.is_empty() => view! { <p>"No node has joined yet."</p> }.into_any(),
                Some(Ok(list)) => view! {
                    <div class="table-scroll" tabindex="0" role="region" aria-label="Nodes of this round"><table class="nodes">
                        <tr><th scope="col">"Node"</th><th scope="col">"Status"</th><th scope="col">"Samples"</th><th scope="col">"Update"</th></tr>
                        {list.into_iter().map(|(_, node)| view! {
                            <tr>
                                <td>{short(&Address::new_from_array(node.node).to_string())}</td>
                                <td>{status_name(node.status)}</td>
                                <td>{node.sample_count}</td>
                                <td><ModelLink cid=node.cid /></td>
                            </tr>
                        }).collect_view()}
                    </table></div>
                }.into_any(),
            }}
        </section>
    }
}

/// A model a finalized round shipped.
#[derive(Clone, Debug, PartialEq)]
struct ShippedModel {
    round: u64,
    task_cid: Cid,
    cid: Cid,
    hash: [u8; 32],
}

/// The test accuracy of each model shipped for the task of the latest one, measured in this tab
/// on that task's shipped test split: the lineage's progress.
async fn lineage_accuracy(
    session: Session,
    shipped: Vec<ShippedModel>,
) -> Result<Vec<(f64, f64)>, AppError> {
    let mut points = Vec::new();
    let Some(latest) = shipped.iter().max_by_key(|m| m.round) else {
        return Ok(points);
    };
    let bytes = storage::download(&session.storage_url(), &latest.task_cid).await?;
    let task = RoundTask::from_stored(&bytes, &latest.task_cid)
        .map_err(|e| AppError::Invalid(e.to_string()))?;
    let Some(split) = task_split(&task.manifest) else {
        return Ok(points);
    };
    let test = split?.test;
    let spec = &task.spec;
    for model in shipped.iter().filter(|m| m.task_cid == task.cid) {
        let bytes = storage::download(&session.storage_url(), &model.cid).await?;
        let weights = decode_model(spec, &bytes, &model.hash)?;
        let evaluation = evaluate(spec, &weights, &test, &Device::flex())?;
        points.push((model.round as f64, evaluation.accuracy));
    }
    Ok(points)
}

/// The global model's accuracy across the rounds that shipped one.
#[component]
fn Lineage(shipped: Memo<Vec<ShippedModel>>) -> impl IntoView {
    let session = expect_context::<Session>();
    let points = LocalResource::new(move || lineage_accuracy(session, shipped.get()));
    move || {
        match points.get() {
        None => view! { <p class="note">"Measuring each shipped model on its task's test split..."</p> }.into_any(),
        Some(Err(error)) => view! { <p class="error">{error.to_string()}</p> }.into_any(),
        Some(Ok(points)) if points.is_empty() => view! {
            <p class="note" id="lineage">"No round has shipped a model yet: the global model's accuracy, round by round, will show here."</p>
        }.into_any(),
        Some(Ok(points)) => view! {
            <div id="lineage" class="panel">
                <LineChart id="lineage-chart" title="Global model accuracy by round (on the task's shipped test split, measured in this tab)"
                    x_title="round" y_title="accuracy (%)" class="series-model" data=points
                    y_range=(0.0, 1.0) x_format=chart::whole y_format=chart::percent />
            </div>
        }.into_any(),
    }
    }
}

/// The rounds page.
#[component]
pub fn Rounds() -> impl IntoView {
    let session = expect_context::<Session>();
    let loaded = RwSignal::new(None::<Result<Vec<(Address, Round)>, String>>);
    let slot = RwSignal::new(0u64);
    let selected = RwSignal::new(None::<Address>);
    let load = move || {
        loaded.set(None);
        spawn_local(async move {
            let result = chain::slot_and_rounds(&session).await.map(|(now, rounds)| {
                slot.set(now);
                rounds
            });
            loaded.set(Some(result.map_err(|e| e.to_string())));
        });
    };
    // Runs now and again whenever the cluster changes.
    Effect::new(move |_| {
        session.cluster.track();
        load();
    });
    // Then follows the chain: the slot moves the countdowns; only a changed round redraws
    // the table.
    every_few_seconds(move || {
        spawn_local(async move {
            if let Ok((now, fresh)) = chain::slot_and_rounds(&session).await {
                slot.set(now);
                // A page still loading (or changing cluster) is left to its own load.
                if loaded.with_untracked(Option::is_some) {
                    set_if_changed(loaded, Some(Ok(fresh)));
                }
            }
        });
    });
    // The models the lineage has shipped: measured again only when a new one appears.
    let shipped = Memo::new(move |_| {
        loaded
            .get()
            .and_then(Result::ok)
            .unwrap_or_default()
            .into_iter()
            .filter(|(_, r)| {
                r.status == RoundStatus::Finalized && r.outcome.vote.new_model_cid.is_well_formed()
            })
            .map(|(_, r)| ShippedModel {
                round: r.id,
                task_cid: r.task_cid,
                cid: r.outcome.vote.new_model_cid,
                hash: r.outcome.vote.new_model_hash,
            })
            .collect::<Vec<_>>()
    });
    view! {
        <section class="rounds">
            <h2>"Rounds"</h2>
            <p class="note">"Every round on this cluster, updated as the chain moves. Pick one for its committee, its nodes and its verdicts."</p>
            <Lineage shipped=shipped />
            {move || match loaded.get() {
                None => view! { <p>"Loading rounds..."</p> }.into_any(),
                Some(Err(error)) => view! { <p class="error" id="rounds-error">{error}</p> }.into_any(),
                Some(Ok(rounds)) if rounds.is_empty() => view! { <p>"No round yet: fund the first one."</p> }.into_any(),
                Some(Ok(rounds)) => view! {
                    <div class="table-scroll" tabindex="0" role="region" aria-label="Rounds"><table id="rounds" class="rounds">
                        <caption class="visually-hidden">"Rounds"</caption>
                        <tr><th scope="col">"Round"</th><th scope="col">"Phase"</th><th scope="col">"Pool"</th><th scope="col">"Nodes"</th><th scope="col">"Revealed"</th><th scope="col">"Appeal"</th><th scope="col">"Model"</th><th scope="col">"New model"</th></tr>
                        {rounds.iter().map(|(address, round)| {
                            let address = *address;
                            let for_phase = round.clone();
                            view! {
                                <tr class="round" on:click=move |_| selected.set(Some(address))>
                                    <td><button class="row-link" aria-label=format!("Round {} details", round.id)
                                        on:click=move |_| selected.set(Some(address))>{format!("#{}", round.id)}</button></td>
                                    <td class="phase">{move || phase_name(&for_phase, slot.get())}</td>
                                    <td>{amount(round, round.pool)}</td>
                                    <td>{format!("{}/{}", round.counts.nodes_joined, round.max_nodes)}</td>
                                    <td>{round.counts.nodes_revealed}</td>
                                    <td class="appeal">{appeal_text(round)}</td>
                                    <td><ModelLink cid=round.model_cid /></td>
                                    <td><ModelLink cid=round.outcome.vote.new_model_cid /></td>
                                </tr>
                            }
                        }).collect_view()}
                    </table></div>
                    {move || selected.get().and_then(|chosen| {
                        rounds.iter().find(|(a, _)| *a == chosen).map(|(address, round)| view! {
                            <RoundDetail address=*address round=round.clone() now=slot />
                        })
                    })}
                }.into_any(),
            }}
        </section>
    }
}
