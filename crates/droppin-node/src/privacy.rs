//! A node's own differential privacy: DP-SGD calibrated to the budget the node chooses, and the
//! warning an update trained without it deserves when it comes from few rows. One rule for the
//! CLI and the browser.

use droppin_fl::{FlError, privacy::DpSgd, train::TrainConfig};

/// Why a privacy budget cannot be applied.
#[derive(Debug, thiserror::Error)]
pub enum PrivacyError {
    #[error("epsilon must be a positive number, not {0}")]
    Epsilon(f64),
    #[error("no DP-SGD noise reaches epsilon {epsilon}: {source}")]
    Calibration { epsilon: f64, source: FlError },
}

/// Turns on DP-SGD in `config` so that its training on `rows` rows is `(epsilon, 1e-5)`-private
/// (per-example clipping, noise calibrated over every local step of this one round: budgets add
/// up over rounds that train on the same rows); returns the epsilon the run spends, at most
/// `epsilon`. The update also carries its exact sample count, which the guarantee does not
/// cover.
pub fn apply_budget(
    config: &mut TrainConfig,
    epsilon: f64,
    rows: usize,
) -> Result<f64, PrivacyError> {
    if !(epsilon > 0.0 && epsilon.is_finite()) {
        return Err(PrivacyError::Epsilon(epsilon));
    }
    let calibration = |source| PrivacyError::Calibration { epsilon, source };
    let dp = DpSgd::for_budget(epsilon, rows, config.batch_size, config.epochs, 1)
        .map_err(calibration)?;
    let spent = dp
        .epsilon_spent(rows, config.batch_size, config.epochs, 1)
        .map_err(calibration)?;
    config.dp_sgd = Some(dp);
    Ok(spent)
}

/// Batches per epoch at or below which an update trained without DP-SGD is flagged: its every
/// step averages the gradients of a batch of the node's own rows, the setting in which gradient
/// inversion (Zhu et al. 2019, "Deep Leakage from Gradients") reconstructs them, and once
/// revealed the update is public.
pub const FEW_BATCHES: usize = 4;

/// The warning for an update `config` would train on `rows` rows, when it needs one: rows of
/// the node's `own` (a task's shipped shard is public already), without DP-SGD, at most
/// [`FEW_BATCHES`] batches per epoch. Given before the stake, while the node can still decline.
pub fn exposure_warning(config: &TrainConfig, rows: usize, own: bool) -> Option<String> {
    let batches = rows.div_ceil(config.batch_size.max(1));
    (own && config.dp_sgd.is_none() && batches <= FEW_BATCHES).then(|| {
        format!(
            "your update comes from {rows} rows ({batches} batch(es) per epoch) without \
             differential privacy: an update trained on so few rows can reveal them once it is \
             public; train with a privacy budget (epsilon)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recipe() -> TrainConfig {
        TrainConfig {
            batch_size: 32,
            epochs: 2,
            ..TrainConfig::default()
        }
    }

    #[test]
    fn a_budget_turns_on_dp_sgd_and_spends_no_more_than_asked() {
        let mut config = recipe();
        let spent = apply_budget(&mut config, 3.0, 500).unwrap();
        assert!(spent > 0.0 && spent <= 3.0 + 1e-9, "{spent}");
        let dp = config.dp_sgd.unwrap();
        assert!(dp.noise_multiplier > 0.0);
        // A tighter budget takes more noise.
        let mut tighter = recipe();
        apply_budget(&mut tighter, 0.5, 500).unwrap();
        assert!(tighter.dp_sgd.unwrap().noise_multiplier > dp.noise_multiplier);
    }

    #[test]
    fn a_budget_that_is_no_positive_number_is_refused_and_changes_nothing() {
        for epsilon in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let mut config = recipe();
            let error = apply_budget(&mut config, epsilon, 500).unwrap_err();
            assert!(matches!(error, PrivacyError::Epsilon(_)), "{error}");
            assert!(config.dp_sgd.is_none());
        }
    }

    #[test]
    fn few_rows_without_dp_are_flagged_and_with_dp_or_many_rows_are_not() {
        let config = recipe();
        let warning = exposure_warning(&config, 100, true).unwrap();
        assert!(warning.contains("100 rows (4 batch(es)"), "{warning}");
        assert!(exposure_warning(&config, 129, true).is_none());
        let mut private = recipe();
        apply_budget(&mut private, 3.0, 100).unwrap();
        assert!(exposure_warning(&private, 100, true).is_none());
        // A task's shipped shard is public: nothing to expose.
        assert!(exposure_warning(&config, 100, false).is_none());
    }
}
