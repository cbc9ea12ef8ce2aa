//! Amounts in a round's currency, as people read and type them: SOL (9 decimals) and $dPIN
//! (`DPIN_DECIMALS`), one parser and one formatter for the CLI and the browser.

use droppin_interface::{DPIN_DECIMALS, LAMPORTS_PER_SOL, state::Currency};

/// Why a typed amount is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("{what} must be a positive amount of {unit}, below a billion")]
    NotPositive { what: String, unit: &'static str },
    #[error("{what}: `{text}` is not a decimal amount of {unit} (digits, one `.`)")]
    NotANumber {
        what: String,
        text: String,
        unit: &'static str,
    },
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

/// `text`, a decimal amount of whole units of `currency` as people type it (`0.02`, `1`,
/// `1.5`), in base units (`what` names the field in the error). Read exactly, digit by digit,
/// never through a float: an amount finer than one base unit is refused, not rounded (`1.5e-9`
/// SOL is no number of lamports), and a positive amount never becomes zero.
pub fn parse_amount(text: &str, currency: Currency, what: &str) -> Result<u64, AmountError> {
    let unit = unit_name(currency);
    let decimals = unit_size(currency).ilog10();
    let not_positive = || AmountError::NotPositive {
        what: what.to_owned(),
        unit,
    };
    let text = text.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() && fraction.is_empty() || !digits(whole) || !digits(fraction) {
        return Err(AmountError::NotANumber {
            what: what.to_owned(),
            text: text.to_owned(),
            unit,
        });
    }
    // Below a billion whole units: at most nine digits once leading zeros are gone.
    let whole = whole.trim_start_matches('0');
    if whole.len() > 9 {
        return Err(not_positive());
    }
    let fraction = fraction.trim_end_matches('0');
    if fraction.len() > decimals as usize {
        return Err(AmountError::TooPrecise {
            what: what.to_owned(),
            unit,
            decimals,
        });
    }
    let number = |part: &str| part.parse::<u64>().unwrap_or(0);
    let scale = 10u64.pow(decimals - fraction.len() as u32);
    let base_units = number(whole) * unit_size(currency) + number(fraction) * scale;
    if base_units == 0 {
        return Err(not_positive());
    }
    Ok(base_units)
}

/// `base_units` of `currency` as an exact decimal of whole units, without trailing zeros
/// (`0.02`, `1`, `0.000000001`): what [`parse_amount`] reads back to the same base units.
pub fn exact_amount(base_units: u64, currency: Currency) -> String {
    let unit = unit_size(currency);
    let fraction = format!(
        "{:0width$}",
        base_units % unit,
        width = unit.ilog10() as usize
    );
    match fraction.trim_end_matches('0') {
        "" => (base_units / unit).to_string(),
        fraction => format!("{}.{fraction}", base_units / unit),
    }
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
        assert_eq!(parse_amount("0.02", Currency::Sol, "stake"), Ok(20_000_000));
        assert_eq!(
            parse_amount("1.5", Currency::Dpin, "stake"),
            Ok(3 * unit_size(Currency::Dpin) / 2)
        );
        for bad in [
            "0",
            "0.000",
            "-1",
            "+1",
            "NaN",
            "inf",
            "",
            ".",
            "1.2.3",
            "1,5",
            "abc",
            "1e9",
            "1000000000",
            "2e9",
        ] {
            let error = parse_amount(bad, Currency::Sol, "--fund-sol").unwrap_err();
            assert!(error.to_string().contains("--fund-sol"), "{bad:?}: {error}");
        }
        assert_eq!(
            parse_amount(" 999999999.999999999 ", Currency::Sol, "x"),
            Ok(999_999_999_999_999_999)
        );
        assert_eq!(
            parse_amount("0012.50", Currency::Sol, "x"),
            Ok(12_500_000_000)
        );
        assert_eq!(parse_amount(".5", Currency::Sol, "x"), Ok(500_000_000));
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
        assert_eq!(parse_amount("0.1", Currency::Sol, "x"), Ok(100_000_000));
        assert_eq!(parse_amount("0.000000001", Currency::Sol, "x"), Ok(1));
        assert_eq!(parse_amount("0.0000000010", Currency::Sol, "x"), Ok(1));
        for finer in ["0.0000000001", "0.0000000015", "0.0000001"] {
            let currency = if finer.len() > 10 {
                Currency::Sol
            } else {
                Currency::Dpin
            };
            let error = parse_amount(finer, currency, "--fund-sol").unwrap_err();
            assert!(error.to_string().contains("more decimals"), "{error}");
        }
        assert_eq!(
            format_amount(20 * unit_size(Currency::Dpin), Currency::Dpin),
            "20.00 $dPIN"
        );
        assert_eq!(exact_amount(20_000_000, Currency::Sol), "0.02");
        assert_eq!(exact_amount(LAMPORTS_PER_SOL, Currency::Sol), "1");
        assert_eq!(exact_amount(1, Currency::Sol), "0.000000001");
        assert_eq!(exact_amount(1_500_000, Currency::Dpin), "1.5");
    }

    proptest::proptest! {
        /// Every amount a round can hold reads back from its exact decimal to the base unit.
        #[test]
        fn an_exact_amount_reads_back_to_its_base_units(
            base_units in 1u64..1_000_000_000 * LAMPORTS_PER_SOL,
            sol in proptest::bool::ANY,
        ) {
            let currency = if sol { Currency::Sol } else { Currency::Dpin };
            let base_units = base_units % (1_000_000_000 * unit_size(currency)) + 1;
            let base_units = base_units.min(1_000_000_000 * unit_size(currency) - 1);
            let text = exact_amount(base_units, currency);
            proptest::prop_assert_eq!(parse_amount(&text, currency, "x"), Ok(base_units));
        }
    }
}
