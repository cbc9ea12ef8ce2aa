//! Amounts in a round's currency, as people read and type them: SOL (9 decimals) and $dPIN
//! (`DPIN_DECIMALS`), one parser and one formatter for the CLI and the browser.

use droppin_interface::{DPIN_DECIMALS, LAMPORTS_PER_SOL, state::Currency};

/// Why a typed amount is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("{what} must be a positive amount of {unit}, below a billion")]
    NotPositive { what: String, unit: &'static str },
    #[error("{what} has more decimals than {unit} has ({decimals})")]
    TooPrecise {
        what: String,
        unit: &'static str,
        decimals: u32,
    },
}

/// Base units in one whole unit of `currency`.
pub fn unit_size(currency: Currency) -> u64 {
    match currency {
        Currency::Sol => LAMPORTS_PER_SOL,
        Currency::Dpin => 10u64.pow(u32::from(DPIN_DECIMALS)),
    }
}

/// The unit's symbol: `SOL` or `$dPIN`.
pub fn unit_name(currency: Currency) -> &'static str {
    match currency {
        Currency::Sol => "SOL",
        Currency::Dpin => "$dPIN",
    }
}

/// `whole` units of `currency` (`what` names the field in the error) in base units. An amount
/// finer than one base unit is refused, not rounded: `1.5e-9` SOL is no number of lamports, and
/// a positive amount never becomes zero.
pub fn parse_amount(whole: f64, currency: Currency, what: &str) -> Result<u64, AmountError> {
    if !(whole.is_finite() && whole > 0.0 && whole < 1e9) {
        return Err(AmountError::NotPositive {
            what: what.to_owned(),
            unit: unit_name(currency),
        });
    }
    let base_units = whole * unit_size(currency) as f64;
    let rounded = base_units.round();
    // A typed decimal lands within a few ulps of its base units; anything further is a fraction.
    if rounded < 1.0 || (base_units - rounded).abs() > 1e-6 * rounded.max(1.0) {
        return Err(AmountError::TooPrecise {
            what: what.to_owned(),
            unit: unit_name(currency),
            decimals: unit_size(currency).ilog10(),
        });
    }
    Ok(rounded as u64)
}

/// `base_units` of `currency` for people: `0.0200 SOL`, `20.00 $dPIN`. Cut, never rounded up:
/// a balance is never shown as more than there is.
pub fn format_amount(base_units: u64, currency: Currency) -> String {
    let (decimals, name) = match currency {
        Currency::Sol => (4, "SOL"),
        Currency::Dpin => (2, "$dPIN"),
    };
    let unit = unit_size(currency);
    let shown = 10u64.pow(decimals);
    let fraction = u128::from(base_units % unit) * u128::from(shown) / u128::from(unit);
    format!(
        "{}.{fraction:0width$} {name}",
        base_units / unit,
        width = decimals as usize
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_parse_and_print_in_their_currency() {
        assert_eq!(parse_amount(0.02, Currency::Sol, "stake"), Ok(20_000_000));
        assert_eq!(
            parse_amount(1.5, Currency::Dpin, "stake"),
            Ok(3 * unit_size(Currency::Dpin) / 2)
        );
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 2e9] {
            let error = parse_amount(bad, Currency::Sol, "--fund-sol").unwrap_err();
            assert!(error.to_string().contains("--fund-sol"), "{error}");
        }
        assert_eq!(format_amount(20_000_000, Currency::Sol), "0.0200 SOL");
        assert_eq!(
            format_amount(19_999_999, Currency::Sol),
            "0.0199 SOL",
            "never more than there is"
        );
        assert_eq!(
            format_amount(12 * LAMPORTS_PER_SOL, Currency::Sol),
            "12.0000 SOL"
        );
        assert_eq!(parse_amount(0.1, Currency::Sol, "x"), Ok(100_000_000));
        assert_eq!(parse_amount(1e-9, Currency::Sol, "x"), Ok(1));
        for finer in [1e-10, 1.5e-9] {
            let error = parse_amount(finer, Currency::Sol, "--fund-sol").unwrap_err();
            assert!(error.to_string().contains("more decimals"), "{error}");
        }
        assert_eq!(
            format_amount(20 * unit_size(Currency::Dpin), Currency::Dpin),
            "20.00 $dPIN"
        );
    }
}
