//! The app shell: navigation between pages (kept in the URL's fragment so links and reloads land
//! on the same page) and the benchmark mode (`?bench=WORKLOAD&backend=webgpu|cpu`).

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use crate::bench::{self, Workload};
use crate::connect::WalletBar;
use crate::fund::FundRound;
use crate::node::RunNode;
use crate::rounds::Rounds;
use crate::session::Session;
use crate::training::choose_device;

/// The page a URL fragment names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    Fund,
    Node,
    Rounds,
}

impl Page {
    pub fn from_fragment(fragment: &str) -> Self {
        match fragment.trim_start_matches('#').trim_start_matches('/') {
            "node" => Page::Node,
            "rounds" => Page::Rounds,
            _ => Page::Fund,
        }
    }
}

fn query(name: &str) -> Option<String> {
    let search = window().location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()?
        .get(name)
}

/// The benchmark page: runs once, then shows the JSON result in `#bench-result`
/// (`data-state` is `done` or `error` when it is final).
#[component]
fn Bench(workload: String, backend: Option<String>, steps: Option<String>) -> impl IntoView {
    let outcome = RwSignal::new(None::<Result<String, String>>);
    let preferred = bench::requested_backend(backend.as_deref());
    let timed_steps = bench::timed_steps(steps.as_deref());
    match Workload::parse(&workload) {
        None => outcome.set(Some(Err(format!(
            "unknown workload {workload:?}: use one of {}",
            droppin_fl::workload::WORKLOADS.join(", ")
        )))),
        Some(workload) => spawn_local(async move {
            let chosen = choose_device(preferred).await;
            let result = match chosen.fallback_reason.clone() {
                Some(reason) if preferred != chosen.backend() => {
                    Err(format!("{} unavailable: {reason}", preferred.name()))
                }
                _ => bench::run(workload, &chosen, timed_steps)
                    .await
                    .map(|r| serde_json::to_string(&r).expect("serializes"))
                    .map_err(|e| e.to_string()),
            };
            outcome.set(Some(result));
        }),
    }
    let state = move || match outcome.get() {
        None => "running",
        Some(Ok(_)) => "done",
        Some(Err(_)) => "error",
    };
    let text = move || match outcome.get() {
        None => "running...".to_owned(),
        Some(Ok(json)) => json,
        Some(Err(error)) => error,
    };
    view! {
        <section class="bench">
            <h2>"Benchmark: " {workload.clone()}</h2>
            <pre id="bench-result" data-state=state>{text}</pre>
        </section>
    }
}

/// Moves the focus to the page's content; the URL's fragment stays the page's.
fn skip_to_content(ev: leptos::ev::MouseEvent) {
    ev.prevent_default();
    if let Some(main) = document()
        .get_element_by_id("main")
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = main.focus();
    }
}

/// The whole app.
#[component]
pub fn App() -> impl IntoView {
    if let Some(workload) = query("bench") {
        return view! { <Bench workload=workload backend=query("backend") steps=query("steps") /> }
            .into_any();
    }
    provide_context(Session::restore());
    let page = RwSignal::new(Page::from_fragment(
        &window().location().hash().unwrap_or_default(),
    ));
    window_event_listener(leptos::ev::hashchange, move |_| {
        page.set(Page::from_fragment(
            &window().location().hash().unwrap_or_default(),
        ))
    });
    let nav_link = move |target: Page, href: &'static str, label: &'static str| {
        view! {
            <a href=href aria-current=move || (page.get() == target).then_some("page")>{label}</a>
        }
    };
    view! {
        <a class="skip" href="#main" on:click=skip_to_content>"Skip to the content"</a>
        <header class="top">
            <div class="top-inner">
                <div class="brand">
                    <h1>"drop"<span>"PIN"</span></h1>
                    <p>"Train together. Share nothing."</p>
                </div>
                <nav class="pages" aria-label="Pages">
                    {nav_link(Page::Fund, "#/fund", "Fund a round")}
                    {nav_link(Page::Node, "#/node", "Run a node")}
                    {nav_link(Page::Rounds, "#/rounds", "Rounds")}
                </nav>
                <WalletBar />
            </div>
        </header>
        <main id="main" tabindex="-1">
            {move || match page.get() {
                Page::Fund => view! { <FundRound /> }.into_any(),
                Page::Node => view! { <RunNode /> }.into_any(),
                Page::Rounds => view! { <Rounds /> }.into_any(),
            }}
        </main>
    }
    .into_any()
}
