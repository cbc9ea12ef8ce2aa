//! The bar on every page: the cluster selector and the wallet's connect/disconnect.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::cluster::Cluster;
use crate::session::{Session, local_get, local_remove, local_set};

/// The wallet connected last, reconnected silently after a reload.
const LAST_WALLET_KEY: &str = "droppin.wallet";
use crate::wallet::{self, Connected};

/// `ABCD...WXYZ`: enough of an address to recognise it.
pub fn short(address: &str) -> String {
    match (
        address.get(..4),
        address.len().checked_sub(4).and_then(|i| address.get(i..)),
    ) {
        (Some(head), Some(tail)) if address.len() > 10 => format!("{head}...{tail}"),
        _ => address.to_owned(),
    }
}

#[component]
fn ClusterSelect() -> impl IntoView {
    let session = expect_context::<Session>();
    let selected = move || match session.cluster.get() {
        Cluster::Local => "local",
        Cluster::Devnet => "devnet",
        Cluster::Custom { .. } => "custom",
    };
    let choose = move |ev| {
        let cluster = match event_target_value(&ev).as_str() {
            "devnet" => Cluster::Devnet,
            "custom" => Cluster::Custom {
                rpc: "http://127.0.0.1:8899".into(),
                storage: None,
            },
            _ => Cluster::Local,
        };
        session.choose(cluster);
    };
    let custom_rpc = move || match session.cluster.get() {
        Cluster::Custom { rpc, .. } => Some(rpc),
        _ => None,
    };
    view! {
        <label class="inline">"Cluster "
            <select id="cluster" prop:value=selected on:change=choose>
                <option value="local">"Local network"</option>
                <option value="devnet">"Devnet"</option>
                <option value="custom">"Custom RPC URL"</option>
            </select>
        </label>
        {move || custom_rpc().map(|rpc| view! {
            <input id="custom-rpc" class="wide" aria-label="Custom RPC URL" prop:value=rpc
                on:change=move |ev| session.choose(Cluster::Custom {
                    rpc: event_target_value(&ev).trim().to_owned(),
                    storage: None,
                }) />
        })}
    }
}

#[component]
pub fn WalletBar() -> impl IntoView {
    let session = expect_context::<Session>();
    let available = RwSignal::new(wallet::available());
    let error = RwSignal::new(None::<String>);
    let connect = move |name: String, silent: bool| {
        error.set(None);
        spawn_local(async move {
            match Connected::connect(&name, silent).await {
                Ok(connected) => {
                    local_set(LAST_WALLET_KEY, &connected.wallet);
                    session.wallet.set(Some(connected));
                }
                Err(e) if !silent => error.set(Some(e.to_string())),
                Err(_) => {}
            }
        });
    };
    wallet::watch(move || {
        let names = wallet::available();
        // The wallet used last reconnects without a prompt when it registers again.
        if session.wallet.get_untracked().is_none()
            && let Some(last) = local_get(LAST_WALLET_KEY).filter(|last| names.contains(last))
        {
            connect(last, true);
        }
        available.set(names);
    });
    let disconnect = move |_| {
        if let Some(connected) = session.wallet.get_untracked() {
            local_remove(LAST_WALLET_KEY);
            session.wallet.set(None);
            spawn_local(async move {
                let _ = connected.disconnect().await;
            });
        }
    };
    view! {
        <div class="bar">
            <ClusterSelect />
            {move || match session.wallet.get() {
                Some(connected) => view! {
                    <span id="wallet-address" title=connected.address.clone()>
                        {format!("{}: {}", connected.wallet, short(&connected.address))}
                    </span>
                    <button id="disconnect" on:click=disconnect>"Disconnect"</button>
                }.into_any(),
                None if available.get().is_empty() => view! {
                    <span class="note">"No wallet found: install Phantom, Solflare, Backpack or any Wallet Standard wallet."</span>
                }.into_any(),
                None => available.get().into_iter().map(|name| {
                    let label = format!("Connect {name}");
                    let on_click = {
                        let name = name.clone();
                        move |_| connect(name.clone(), false)
                    };
                    view! { <button class="connect" on:click=on_click>{label}</button> }
                }).collect_view().into_any(),
            }}
            <span class="error" id="wallet-error">{error}</span>
        </div>
    }
}
