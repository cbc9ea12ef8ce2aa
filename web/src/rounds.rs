//! The rounds explorer: every round's phase, pool, head counts, appeal and model lineage (each
//! round's global model and the one it produced), a round's committees and nodes, its verdicts,
//! and downloads of global models.

use droppin_coordinator::{phase_name, resolution_name};
use droppin_fl::validate::VerdictList;
use droppin_interface::state::{Currency, NodeStatus, Round, RoundStatus};
use droppin_interface::{Cid, DPIN_DECIMALS, LAMPORTS_PER_SOL};
use leptos::prelude::*;
use leptos::task::spawn_local;
use solana_address::Address;

use crate::chain;
use crate::committee::Committee;
use crate::connect::short;
use crate::session::{AppError, Session};
use crate::storage::{self, cid_text};

/// Lamports (or lamports' worth) in SOL.
pub fn sol(lamports: u64) -> String {
    format!("{:.4} SOL", lamports as f64 / LAMPORTS_PER_SOL as f64)
}

/// An amount in the round's currency.
pub fn amount(round: &Round, base_units: u64) -> String {
    match round.currency {
        Currency::Sol => sol(base_units),
        Currency::Dpin => format!(
            "{:.2} $dPIN",
            base_units as f64 / 10f64.powi(i32::from(DPIN_DECIMALS))
        ),
    }
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
    move || match list.get() {
        None => view! { <p>"Loading the verdict list..."</p> }.into_any(),
        Some(Err(error)) => view! { <p class="error">{error.to_string()}</p> }.into_any(),
        Some(Ok(list)) => view! {
            <table class="verdicts">
                <tr><th>"Node"</th><th>"Verdict"</th><th>"Contribution"</th><th>"Reason"</th></tr>
                {list.verdicts.into_iter().map(|v| view! {
                    <tr>
                        <td>{short(&v.node)}</td>
                        <td>{v.outcome}</td>
                        <td>{format!("{:.2}%", f64::from(v.weight_bps) / 100.0)}</td>
                        <td>{v.reason.unwrap_or_default()}</td>
                    </tr>
                }).collect_view()}
            </table>
        }
        .into_any(),
    }
}

#[component]
fn RoundDetail(address: Address, round: Round, now_slot: u64) -> impl IntoView {
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
            <h3>{format!("Round {} ({})", round.id, phase_name(&round, now_slot))}</h3>
            <p>{format!("Address {address}; funder {}", Address::new_from_array(round.funder))}</p>
            <p>{format!(
                "Deadlines: training until slot {}, reveal until {}, sealed votes until {}, vote reveals until {} (now {now_slot}).",
                round.deadlines.commit, round.deadlines.reveal, round.deadlines.validation, round.deadlines.vote_reveal
            )}</p>
            <Committee round=round.clone() now=now_slot />
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
                    <table class="nodes">
                        <tr><th>"Node"</th><th>"Status"</th><th>"Samples"</th><th>"Update"</th></tr>
                        {list.into_iter().map(|(_, node)| view! {
                            <tr>
                                <td>{short(&Address::new_from_array(node.node).to_string())}</td>
                                <td>{status_name(node.status)}</td>
                                <td>{node.sample_count}</td>
                                <td><ModelLink cid=node.cid /></td>
                            </tr>
                        }).collect_view()}
                    </table>
                }.into_any(),
            }}
        </section>
    }
}

/// The rounds page.
#[component]
pub fn Rounds() -> impl IntoView {
    let session = expect_context::<Session>();
    let loaded = RwSignal::new(None::<Result<(u64, Vec<(Address, Round)>), String>>);
    let selected = RwSignal::new(None::<Address>);
    let load = move || {
        loaded.set(None);
        spawn_local(async move {
            let result = async {
                let slot = session.rpc().slot().await?;
                Ok::<_, crate::session::AppError>((slot, chain::rounds(&session).await?))
            }
            .await;
            loaded.set(Some(result.map_err(|e| e.to_string())));
        });
    };
    // Runs now and again whenever the cluster changes.
    Effect::new(move |_| {
        session.cluster.track();
        load();
    });
    view! {
        <section class="rounds">
            <h2>"Rounds"</h2>
            <button on:click=move |_| load()>"Refresh"</button>
            {move || match loaded.get() {
                None => view! { <p>"Loading rounds..."</p> }.into_any(),
                Some(Err(error)) => view! { <p class="error" id="rounds-error">{error}</p> }.into_any(),
                Some(Ok((_, rounds))) if rounds.is_empty() => view! { <p>"No round yet: fund the first one."</p> }.into_any(),
                Some(Ok((slot, rounds))) => view! {
                    <table id="rounds" class="rounds">
                        <tr><th>"Id"</th><th>"Phase"</th><th>"Pool"</th><th>"Nodes"</th><th>"Revealed"</th><th>"Appeal"</th><th>"Model"</th><th>"New model"</th></tr>
                        {rounds.iter().map(|(address, round)| {
                            let address = *address;
                            view! {
                                <tr class="round" on:click=move |_| selected.set(Some(address))>
                                    <td>{round.id}</td>
                                    <td class="phase">{phase_name(round, slot)}</td>
                                    <td>{amount(round, round.pool)}</td>
                                    <td>{format!("{}/{}", round.counts.nodes_joined, round.max_nodes)}</td>
                                    <td>{round.counts.nodes_revealed}</td>
                                    <td class="appeal">{appeal_text(round)}</td>
                                    <td><ModelLink cid=round.model_cid /></td>
                                    <td><ModelLink cid=round.outcome.vote.new_model_cid /></td>
                                </tr>
                            }
                        }).collect_view()}
                    </table>
                    {move || selected.get().and_then(|chosen| {
                        rounds.iter().find(|(a, _)| *a == chosen).map(|(address, round)| view! {
                            <RoundDetail address=*address round=round.clone() now_slot=slot />
                        })
                    })}
                }.into_any(),
            }}
        </section>
    }
}
