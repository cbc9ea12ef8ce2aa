//! A round's state in words, one vocabulary for every client (CLI, web, explorers).

use droppin_interface::state::{AppealResolution, Round, RoundStatus};

use crate::{Phase, phase};

/// `training`, `reveal`, `validation`, `vote-reveal`, `settlement`, `finalized`, `appealed` or
/// `failed`: where `round` stands at `slot`.
pub fn phase_name(round: &Round, slot: u64) -> &'static str {
    match round.status {
        RoundStatus::Finalized if round.appeal.filed() => "appealed",
        RoundStatus::Finalized => "finalized",
        RoundStatus::Failed => "failed",
        RoundStatus::Open => match phase(round, slot) {
            Phase::Training => "training",
            Phase::Reveal => "reveal",
            Phase::Validation => "validation",
            Phase::VoteReveal => "vote-reveal",
            Phase::Settlement => "settlement",
        },
    }
}

/// `confirmed`, `overturned`, `decided` or `unresolved`; `None` while no appeal is resolved.
pub fn resolution_name(resolution: AppealResolution) -> Option<&'static str> {
    match resolution {
        AppealResolution::None => None,
        AppealResolution::Confirmed => Some("confirmed"),
        AppealResolution::Overturned => Some("overturned"),
        AppealResolution::Unresolved => Some("unresolved"),
        AppealResolution::Decided => Some("decided"),
    }
}
