//! The training worker's entry point (see `droppin_web_trainer::worker`).

fn main() {
    droppin_web_trainer::worker::run();
}
