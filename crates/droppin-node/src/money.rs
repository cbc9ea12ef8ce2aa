//! Amounts in a round's currency, as people read and type them: SOL (9 decimals) and $dPIN
//! (`DPIN_DECIMALS`), one parser and one formatter for the CLI and the browser.

use droppin_interface::{DPIN_DECIMALS, LAMPORTS_PER_SOL, state::Currency};

/// Why a typed amount is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("{what} must be a positive amount of {unit}, below a billion")]
    NotPositive { what: String, unit: &'static str },
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

/// `whole` units of `currency` (`what` names the field in the error) in base units.
pub fn parse_amount(whole: f64, currency: Currency, what: &str) -> Result<u64, AmountError> {
    if whole.is_finite() && whole > 0.0 && whole < 1e9 {
        Ok((whole * unit_size(currency) as f64).round() as u64)
    } else {
        Err(AmountError::NotPositive {
            what: what.to_owned(),
            unit: unit_name(currency),
        })
    }
}

/// `base_units` of `currency` for people: `0.0200 SOL`, `20.00 $dPIN`.
pub fn format_amount(base_units: u64, currency: Currency) -> String {
    let whole = base_units as f64 / unit_size(currency) as f64;
    match currency {
        Currency::Sol => format!("{whole:.4} SOL"),
        Currency::Dpin => format!("{whole:.2} $dPIN"),
    }
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
            format_amount(20 * unit_size(Currency::Dpin), Currency::Dpin),
            "20.00 $dPIN"
        );
    }
}
