//! dropPIN in the browser: the funder's order form today; the browser node and the rounds
//! explorer build on the same crates (the interface for instructions, the coordinator for the
//! money).

mod fund;
mod order;

use leptos::prelude::*;

#[component]
fn App() -> impl IntoView {
    view! {
        <header>
            <h1>"dropPIN"</h1>
            <p>"Train together. Share nothing."</p>
        </header>
        <main>
            <fund::FundRound />
        </main>
    }
}

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}
