//! The "Fund a round" page: the funder's order, every field checked as it is typed against the
//! chosen cluster's protocol limits, and a live preview of where each lamport goes.

use droppin_interface::DPIN_DECIMALS;
use droppin_interface::state::{Currency, ProtocolParams, Registry};
use droppin_node::money::{format_amount, unit_name};
use leptos::prelude::*;

use droppin_node::RoundTask;
use droppin_task::{Manifest, catalog};

use crate::node::digits_task;
use crate::open::{Opened, open_round, protocol_config, registry};
use crate::order::{Order, OrderError, Preview, preview};
use crate::rounds::sol;
use crate::session::{AppError, Session, event_target};
use crate::status::duration;

/// `lamports` in $dPIN at `params`' reference price.
fn dpin(params: &ProtocolParams, lamports: u64) -> String {
    let units = params.swap.to_dpin(lamports);
    format!(
        "{:.2} $dPIN",
        units as f64 / 10f64.powi(i32::from(DPIN_DECIMALS))
    )
}

/// One input of the order form with its inline message: the first error `matches` picks.
#[component]
fn Field(
    label: &'static str,
    id: &'static str,
    /// The on-screen keyboard: `decimal` or `numeric`.
    inputmode: &'static str,
    value: RwSignal<String>,
    result: Memo<Result<Preview, Vec<OrderError>>>,
    matches: fn(&OrderError) -> bool,
) -> impl IntoView {
    let error = move || {
        result
            .get()
            .err()
            .and_then(|errors| errors.into_iter().find(matches))
            .map(|e| e.to_string())
    };
    let error_id = format!("{id}-error");
    view! {
        <label>
            {label}
            <input id=id type="text" inputmode=inputmode prop:value=value
                aria-invalid=move || error().is_some().to_string() aria-describedby=error_id.clone()
                on:input=move |ev| value.set(event_target_value(&ev)) />
            <span class="error" id=error_id aria-live="polite">{error}</span>
        </label>
    }
}

/// The task picker: a catalog task, or a manifest file, with what it trains on and how.
#[component]
fn TaskChooser(task: RwSignal<Result<RoundTask, String>>) -> impl IntoView {
    let load_file = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let Some(file) = input.files().and_then(|list| list.get(0)) else {
            return;
        };
        leptos::task::spawn_local(async move {
            let text = wasm_bindgen_futures::JsFuture::from(file.text())
                .await
                .ok()
                .and_then(|t| t.as_string())
                .unwrap_or_default();
            task.set(
                Manifest::parse(&text)
                    .map_err(|e| format!("{}: {e}", file.name()))
                    .and_then(|m| RoundTask::new(m).map_err(|e| e.to_string())),
            );
        });
    };
    let pick = move |ev: leptos::ev::Event| {
        if let Ok(manifest) = catalog::get(&event_target_value(&ev)) {
            task.set(RoundTask::new(manifest).map_err(|e| e.to_string()));
        }
    };
    view! {
        <div class="panel">
            <label for="task">"Task"</label>
            <select id="task" on:change=pick>
                {catalog::names().map(|name| view! { <option value=name selected=name == "digits">{name}</option> }).collect_view()}
            </select>
            <label for="manifest">"or a manifest file (dpin task new writes one)"</label>
            <input type="file" id="manifest" accept=".json,application/json" on:change=load_file />
            {move || match task.get() {
                Ok(task) => view! {
                    <div id="task-summary">
                        <p><strong>{task.manifest.name.clone()}</strong>{format!(": {}", task.manifest.description)}</p>
                        <p id="task-size">{format!("Model: {} layers, {} parameters.", task.manifest.model.len(), task.spec.check().unwrap_or_default())}</p>
                        <p id="task-data">{format!("Data nodes bring: {}.", task.manifest.data.summary())}</p>
                        <p id="task-recipe">{format!("Recipe: {}.", task.manifest.recipe.summary())}</p>
                        <p>{format!("Validation: {}.", task.manifest.validation.summary())}</p>
                    </div>
                }.into_any(),
                Err(error) => view! { <p class="error" id="task-error">{error}</p> }.into_any(),
            }}
        </div>
    }
}

/// The protocol's limits on the chosen cluster and its validator registry.
async fn network(session: Session) -> Result<(ProtocolParams, Registry), AppError> {
    Ok((
        protocol_config(&session).await?.params,
        registry(&session).await?,
    ))
}

/// The order form and its preview.
#[component]
pub fn FundRound() -> impl IntoView {
    let session = expect_context::<Session>();
    let loaded = LocalResource::new(move || {
        session.cluster.track();
        network(session)
    });
    let params = Memo::new(move |_| {
        loaded
            .get()
            .and_then(Result::ok)
            .map(|(params, _)| params)
            .unwrap_or_default()
    });
    let defaults = Order::default();
    let submitted = RwSignal::new(None::<Result<Opened, String>>);
    let busy = RwSignal::new(false);
    let currency = RwSignal::new(defaults.currency);
    let amount = RwSignal::new(defaults.amount);
    let max_nodes = RwSignal::new(defaults.max_nodes.to_string());
    let stake = RwSignal::new(defaults.node_stake);
    let training_slots = RwSignal::new(defaults.training_slots.to_string());
    let review_slots = RwSignal::new(defaults.review_slots.to_string());
    let committee_size = RwSignal::new(defaults.committee_size.to_string());
    // The cluster's own limits replace the suggested phases and committee when they arrive,
    // but never what the funder typed: a field is replaced only while it holds the last
    // suggestion.
    let suggested_fields = [training_slots, review_slots, committee_size];
    Effect::new(move |last: Option<[String; 3]>| {
        let suggested = Order::for_params(&params.get());
        let next = [
            suggested.training_slots.to_string(),
            suggested.review_slots.to_string(),
            suggested.committee_size.to_string(),
        ];
        let last = last.unwrap_or_else(|| suggested_fields.map(|field| field.get_untracked()));
        for ((field, last), next) in suggested_fields.iter().zip(&last).zip(&next) {
            if field.get_untracked() == *last {
                field.set(next.clone());
            }
        }
        next
    });
    let order = move || Order {
        currency: currency.get(),
        amount: amount.get(),
        max_nodes: max_nodes.get().trim().parse().unwrap_or(0),
        node_stake: stake.get(),
        training_slots: training_slots.get().trim().parse().unwrap_or(0),
        review_slots: review_slots.get().trim().parse().unwrap_or(0),
        committee_size: committee_size.get().trim().parse().unwrap_or(0),
    };
    let result = Memo::new(move |_| preview(&order(), &params.get()));
    // The task: a catalog entry, or a manifest file the funder loads.
    let task = RwSignal::new(Ok::<RoundTask, String>(digits_task()));
    let open = Action::new_local(move |(order, task): &(Order, RoundTask)| {
        let (order, task) = (order.clone(), task.clone());
        async move { open_round(&session, &order, &task).await }
    });
    Effect::new(move |_| {
        if let Some(outcome) = open.value().get() {
            submitted.set(Some(outcome.map_err(|e| e.to_string())));
        }
    });
    Effect::new(move |_| busy.set(open.pending().get()));
    let submit = move |_| {
        if let (Ok(_), Ok(task)) = (result.get_untracked(), task.get_untracked()) {
            submitted.set(None);
            open.dispatch_local((order(), task));
        }
    };
    let can_submit = move || {
        result.get().is_ok() && task.get().is_ok() && session.wallet.get().is_some() && !busy.get()
    };
    let registry_note = move || {
        loaded.get().map(|loaded| match loaded {
            Ok((_, registry)) if registry.validators == 0 => view! {
                <p id="registry" class="error">"No validator has bonded on this cluster yet: a round needs a registry to draw its committee from."</p>
            }.into_any(),
            Ok((params, registry)) => view! {
                <p id="registry">{format!(
                    "The committee is drawn after the reveals from {} bonded validators ({}), each with a chance in proportion to its bond; nobody, you included, picks it.",
                    registry.validators, sol(registry.bonded_worth(params.swap.reference_price))
                )}</p>
            }.into_any(),
            Err(error) => view! { <p id="registry" class="error">{error.to_string()}</p> }.into_any(),
        })
    };
    view! {
        <section class="fund">
            <h2>"Fund a round"</h2>
            <p class="note">"You pay once; what no accepted node earns comes back to you."</p>
            <TaskChooser task=task />
            <div class="panel form-grid">
            <label>
                "Pay in"
                <select id="currency" on:change=move |ev| currency.set(
                    if event_target_value(&ev) == "dpin" { Currency::Dpin } else { Currency::Sol }
                )>
                    <option value="sol" selected=true>"SOL"</option>
                    <option value="dpin">"$dPIN (once launched on this cluster)"</option>
                </select>
            </label>
            <Field label="Amount to pay, the fee included (in the currency above)" id="amount" inputmode="decimal" value=amount result=result
                matches=|e| matches!(e, OrderError::Amount(_)) />
            <Field label="Max nodes" id="max-nodes" inputmode="numeric" value=max_nodes result=result
                matches=|e| matches!(e, OrderError::MaxNodes(_)) />
            <Field label="Node stake (in the currency above)" id="stake" inputmode="decimal" value=stake result=result
                matches=|e| matches!(e, OrderError::Stake(..) | OrderError::StakeText(_)) />
            <Field label="Training slots: time for the nodes to train on their data (a slot is about 0.4 s)" id="training-slots" inputmode="numeric" value=training_slots result=result
                matches=|e| matches!(e, OrderError::TrainingSlots(..)) />
            <Field label="Review slots: for the nodes' reveals, and as many for the committee's validation" id="review-slots" inputmode="numeric" value=review_slots result=result
                matches=|e| matches!(e, OrderError::ReviewSlots(..)) />
            <Field label="Committee size (expected members, drawn by stake)" id="committee-size" inputmode="numeric" value=committee_size result=result
                matches=|e| matches!(e, OrderError::CommitteeSize(..)) />
            </div>
            {registry_note}
            {move || result.get().ok().map(|_| {
                let (order, params) = (order(), params.get());
                let timeline = order.timeline(&params);
                view! {
                    <p id="timeline" class="note">{format!(
                        "Nodes train for about {}; their reveals, then the committee's validation, take about {} each. The verdict comes about {} after the round opens, and payouts about {} after it, if nobody appeals.",
                        duration(order.training_slots), duration(order.review_slots),
                        duration(timeline.verdict), duration(timeline.payouts)
                    )}</p>
                }
            })}
            {move || result.get().ok().map(|p| {
                let params = params.get();
                let unit = currency.get();
                let show = move |base_units: u64| format_amount(base_units, unit);
                // A SOL order's amounts in $dPIN at the reference price, for comparison.
                let sol_order = unit == Currency::Sol;
                let in_dpin = move |lamports: u64| {
                    sol_order.then(|| view! { <td>{dpin(&params, lamports)}</td> })
                };
                view! {
                    <div class="table-scroll" tabindex="0" role="region" aria-label="Where the payment goes"><table class="preview">
                        <caption class="visually-hidden">"Where the payment goes"</caption>
                        <tr><th scope="col">"Item"</th><th scope="col">{unit_name(unit)}</th>
                            {sol_order.then(|| view! { <th scope="col">"$dPIN (reference price)"</th> })}</tr>
                        <tr><td>"Reward pool, escrowed"</td><td id="pool">{show(p.pool)}</td>{in_dpin(p.pool)}</tr>
                        <tr><td>{format!("Protocol fee ({}%): buys $dPIN and burns it", params.fee_bps / 100)}</td><td id="fee">{show(p.fee)}</td>{in_dpin(p.fee)}</tr>
                        <tr><td>"Validators' share of the pool"</td><td>{show(p.validators)}</td>{in_dpin(p.validators)}</tr>
                        <tr><td>"Stakes locked by a full round"</td><td>{show(p.stakes_locked)}</td>{in_dpin(p.stakes_locked)}</tr>
                        <tr><td>"Bond each committee seat locks"</td><td id="seat-lock">{format_amount(p.seat_lock, Currency::Sol)}</td>{in_dpin(p.seat_lock)}</tr>
                        <tr><td>"Each honest node earns, on average"</td><td id="per-node">{show(p.per_honest_node)}</td>{in_dpin(p.per_honest_node)}</tr>
                    </table></div>
                    <p class="note">"What no accepted node earns comes back to you. A SOL round opened before $dPIN is live is paid in SOL; once it launches, the treasury converts such a pool to $dPIN in rate-limited batches, and a round can be paid in $dPIN from the start."</p>
                }
            })}
            <div class="actions">
                <button id="open-round" class="primary" prop:disabled=move || !can_submit() on:click=submit>
                    {move || if busy.get() { "Waiting for the wallet and the cluster..." } else { "Open and fund the round" }}
                </button>
            </div>
            {move || result.get().ok().map(|p| view! {
                <p class="signs" id="signs">{format!(
                    "Your wallet will be asked to sign one transaction, OpenRound: it pays {} ({} into the round's escrow as its reward pool, {} protocol fee) and publishes the task and the starting model. Nothing else is spent.",
                    format_amount(p.pool + p.fee, currency.get()), format_amount(p.pool, currency.get()), format_amount(p.fee, currency.get())
                )}</p>
            })}
            {move || session.wallet.get().is_none().then(|| view! {
                <p class="note">"Connect a wallet to pay for the round."</p>
            })}
            <div role="status" aria-live="polite">
            {move || busy.get().then(|| view! {
                <p class="pending" id="working">"Approve in your wallet, then wait for the cluster to confirm..."</p>
            })}
            {move || submitted.get().map(|outcome| match outcome {
                Ok(opened) => view! {
                    <p id="opened" class="ok">
                        {format!("Round {} is open at {}. ", opened.id, opened.round)}
                        <a href=session.explorer_tx(&opened.signature) target="_blank" rel="noopener">"View the transaction"</a>
                        " · "<a href="#/node">"Run a node for it"</a>
                    </p>
                }.into_any(),
                Err(error) => view! { <p id="open-error" class="error">{error}</p> }.into_any(),
            })}
            </div>
            <p class="cli">
                "Open it from a terminal: "
                <code>{move || format!(
                    "dpin round open --task {} --fund-{unit} {} --max-nodes {} --stake-{unit} {} --training-slots {} --review-slots {} --committee-size {}",
                    task.get().map_or_else(|_| "FILE".to_owned(), |t| t.manifest.name.clone()),
                    amount.get().trim(), max_nodes.get().trim(), stake.get().trim(),
                    training_slots.get().trim(), review_slots.get().trim(),
                    committee_size.get().trim(),
                    unit = match currency.get() { Currency::Sol => "sol", Currency::Dpin => "dpin" }
                )}</code>
            </p>
        </section>
    }
}
