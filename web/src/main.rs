//! The app's entry point: Trunk builds this binary from `index.html`.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(droppin_web::app::App);
}
