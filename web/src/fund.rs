//! The "Fund a round" page: the funder's order, every field checked as it is typed, and a live
//! preview of where each lamport goes.

use droppin_interface::{DPIN_DECIMALS, LAMPORTS_PER_SOL, state::ProtocolParams};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::open::{Opened, open_round};
use crate::order::{Order, OrderError, Preview, parse_committee, preview};
use crate::session::Session;

fn sol(lamports: u64) -> String {
    format!("{:.4} SOL", lamports as f64 / LAMPORTS_PER_SOL as f64)
}

/// `lamports` in $dPIN at the protocol's reference price.
fn dpin(lamports: u64) -> String {
    let units = ProtocolParams::default().swap.to_dpin(lamports);
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
    view! {
        <label>
            {label}
            <input id=id type="text" inputmode=inputmode prop:value=value
                on:input=move |ev| value.set(event_target_value(&ev)) />
            <span class="error">{error}</span>
        </label>
    }
}

/// The order form and its preview.
#[component]
pub fn FundRound() -> impl IntoView {
    let session = expect_context::<Session>();
    let defaults = Order::default();
    let committee_text = RwSignal::new(String::new());
    let committee = Memo::new(move |_| parse_committee(&committee_text.get()));
    let submitted = RwSignal::new(None::<Result<Opened, String>>);
    let busy = RwSignal::new(false);
    let amount = RwSignal::new(defaults.amount_sol.to_string());
    let max_nodes = RwSignal::new(defaults.max_nodes.to_string());
    let stake = RwSignal::new(defaults.node_stake_sol.to_string());
    let phase_slots = RwSignal::new(defaults.phase_slots.to_string());
    let order = move || Order {
        amount_sol: amount.get().trim().parse().unwrap_or(f64::NAN),
        max_nodes: max_nodes.get().trim().parse().unwrap_or(0),
        node_stake_sol: stake.get().trim().parse().unwrap_or(f64::NAN),
        phase_slots: phase_slots.get().trim().parse().unwrap_or(0),
    };
    let result = Memo::new(move |_| preview(&order(), &ProtocolParams::default()));
    let submit = move |_| {
        let (Ok(_), Ok(members)) = (result.get_untracked(), committee.get_untracked()) else {
            return;
        };
        let order = order();
        busy.set(true);
        submitted.set(None);
        spawn_local(async move {
            let outcome = open_round(&session, &order, &members)
                .await
                .map_err(|e| e.to_string());
            submitted.set(Some(outcome));
            busy.set(false);
        });
    };
    let can_submit = move || {
        result.get().is_ok()
            && committee.get().is_ok()
            && session.wallet.get().is_some()
            && !busy.get()
    };
    view! {
        <section class="fund">
            <h2>"Fund a round"</h2>
            <p>"Task: handwritten digits (8x8), MLP, validated on a pinned validation set."</p>
            <Field label="SOL to pay (fee included)" id="amount" inputmode="decimal" value=amount result=result
                matches=|e| matches!(e, OrderError::Amount) />
            <Field label="Max nodes" id="max-nodes" inputmode="numeric" value=max_nodes result=result
                matches=|e| matches!(e, OrderError::MaxNodes(_)) />
            <Field label="Node stake (SOL)" id="stake" inputmode="decimal" value=stake result=result
                matches=|e| matches!(e, OrderError::Stake(_)) />
            <Field label="Slots per phase (training, reveal, validation; a slot is about 0.4 s)" id="phase-slots" inputmode="numeric" value=phase_slots result=result
                matches=|e| matches!(e, OrderError::PhaseSlots(..)) />
            {move || result.get().ok().map(|p| view! {
                <table class="preview">
                    <tr><th></th><th>"SOL"</th><th>"$dPIN (reference price)"</th></tr>
                    <tr><td>"Reward pool, escrowed"</td><td id="pool">{sol(p.pool)}</td><td id="pool-dpin">{dpin(p.pool)}</td></tr>
                    <tr><td>"Protocol fee (8%): buys $dPIN and burns it"</td><td id="fee">{sol(p.fee)}</td><td id="burn-dpin">{format!("{} burned", dpin(p.fee))}</td></tr>
                    <tr><td>"Validators' share of the pool"</td><td>{sol(p.validators)}</td><td>{dpin(p.validators)}</td></tr>
                    <tr><td>"Stakes locked by a full round"</td><td>{sol(p.stakes_locked)}</td><td>{dpin(p.stakes_locked)}</td></tr>
                    <tr><td>"Each honest node earns, on average"</td><td id="per-node">{sol(p.per_honest_node)}</td><td id="per-node-dpin">{dpin(p.per_honest_node)}</td></tr>
                </table>
                <p class="note">"Before $dPIN is live a round is paid in SOL; once it launches, the treasury converts the pool to $dPIN in rate-limited batches and the round pays in $dPIN."</p>
            })}
            <label>
                "Validator committee (1 to 8 addresses, comma-separated)"
                <textarea id="committee" rows="2" prop:value=committee_text
                    on:input=move |ev| committee_text.set(event_target_value(&ev)) />
                <span class="error">{move || committee_text.with(|t| !t.trim().is_empty())
                    .then(|| committee.get().err().map(|e| e.to_string())).flatten()}</span>
            </label>
            <button id="open-round" prop:disabled=move || !can_submit() on:click=submit>
                {move || if busy.get() { "Waiting for the wallet and the cluster..." } else { "Open and fund the round" }}
            </button>
            {move || session.wallet.get().is_none().then(|| view! {
                <p class="note">"Connect a wallet to pay for the round."</p>
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
            <p class="cli">
                "Open it from a terminal: "
                <code>{move || format!(
                    "dpin round open --fund-sol {} --max-nodes {} --stake-sol {} --phase-slots {} --committee {}",
                    amount.get().trim(), max_nodes.get().trim(), stake.get().trim(), phase_slots.get().trim(),
                    committee.get().map(|c| c.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")).unwrap_or_else(|_| "V1,V2,V3".into())
                )}</code>
            </p>
        </section>
    }
}
