//! Parsing amounts as users type them in chat (README "Chat commands" lists the forms).
//!
//! Accepted: `12500`, `12,500.50`, `1.2万`, `3k`, `2M`, `1.5w`, `¥12,500`, `JP¥500`,
//! `12500USD`, `12500元`, full-width `１２５００` / `￥１２，５００．５０`.
//! Shape: `[symbol] digits[,ddd…][.ddd] [multiplier] [ISO code | 元]`.
//! The result is exact: multipliers shift the decimal point, they never round.

use rust_decimal::Decimal;
use unicode_normalization::UnicodeNormalization;

use super::money::{Currency, Money};

/// Largest accepted amount (after the multiplier): one trillion.
const MAX_AMOUNT: i64 = 1_000_000_000_000;
/// Digits of `MAX_AMOUNT`; an integer part longer than this is too large whatever follows.
const MAX_INT_DIGITS: usize = 13;

/// What the user wrote: an exact positive value and the currency they named, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AmountInput {
    pub value: Decimal,
    pub currency: Option<Currency>,
}

/// Why an amount was rejected. Messages are developer English; the chat layer localizes
/// through [`AmountError::key`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("no amount given")]
    Empty,
    #[error("the amount must not be zero")]
    Zero,
    #[error("the amount must be positive")]
    Negative,
    #[error("the amount is larger than 1,000,000,000,000")]
    TooLarge,
    #[error("too many decimals: at most {max_decimals} for this currency")]
    TooPrecise { max_decimals: u32 },
    #[error(
        "bad digit grouping: commas separate thousands (1,234,567) and the decimal point is '.'"
    )]
    BadGrouping,
    #[error("two different currencies given: {first} and {second}")]
    ConflictingCurrency { first: Currency, second: Currency },
    #[error("unknown currency {code:?}")]
    UnknownCurrency { code: String },
    #[error("not an amount: {token:?}")]
    Invalid { token: String },
}

impl AmountError {
    /// Stable message key for localization.
    pub fn key(&self) -> &'static str {
        match self {
            AmountError::Empty => "amount-empty",
            AmountError::Zero => "amount-zero",
            AmountError::Negative => "amount-negative",
            AmountError::TooLarge => "amount-too-large",
            AmountError::TooPrecise { .. } => "amount-too-precise",
            AmountError::BadGrouping => "amount-bad-grouping",
            AmountError::ConflictingCurrency { .. } => "amount-conflicting-currency",
            AmountError::UnknownCurrency { .. } => "amount-unknown-currency",
            AmountError::Invalid { .. } => "amount-invalid",
        }
    }
}

/// Real ISO 4217 codes the grammar recognises. Deliberately a short list: any 3-letter word
/// after an amount ("THE", "ACM") must stay part of the command text, not become a currency.
const KNOWN_CODES: &[&str] = &[
    "AED", "ARS", "AUD", "BDT", "BGN", "BHD", "BRL", "CAD", "CHF", "CLP", "CNY", "COP", "CZK",
    "DKK", "EGP", "EUR", "GBP", "HKD", "HUF", "IDR", "ILS", "INR", "IQD", "ISK", "JOD", "JPY",
    "KES", "KRW", "KWD", "KZT", "LKR", "LYD", "MAD", "MOP", "MXN", "MYR", "NGN", "NOK", "NZD",
    "OMR", "PEN", "PHP", "PKR", "PLN", "QAR", "RON", "RUB", "SAR", "SEK", "SGD", "THB", "TND",
    "TRY", "TWD", "UAH", "USD", "VND", "XAF", "XOF", "ZAR",
];

/// Codes that are also ordinary words or names ("try", "pen", "Ron"); only the all-caps
/// spelling counts as a currency so "12500 pen" keeps "pen" as text.
const UPPERCASE_ONLY: &[&str] = &["COP", "MAD", "MOP", "PEN", "RON", "TRY"];

/// True if `token` is a currency code the grammar should treat as a currency: three ASCII
/// letters, a real ISO 4217 code from the known list (case-insensitive, except word-like codes
/// such as `TRY`/`PEN` which must be uppercase).
pub fn is_currency_code(token: &str) -> bool {
    known_currency(token).is_some()
}

fn known_currency(token: &str) -> Option<Currency> {
    let currency = Currency::parse(token).ok()?;
    let code = currency.code();
    if !KNOWN_CODES.contains(&code) {
        return None;
    }
    if UPPERCASE_ONLY.contains(&code) && token != code {
        return None;
    }
    Some(currency)
}

/// Parse one amount token (already split from the command by whitespace), e.g. `12,500.50`,
/// `1.2万`, `3k`, `¥12,500`, `12500USD`, `１２５００`, `1.5w`, `2M`.
pub fn parse_amount(token: &str) -> Result<AmountInput, AmountError> {
    let original = token.trim();
    let invalid = || AmountError::Invalid {
        token: original.to_string(),
    };
    // NFKC would silently turn superscripts, circled or mathematical digits ("10²", "①")
    // into plain digits and change the number; only full-width forms are meant to fold.
    if original.chars().any(folds_to_digit_unexpectedly) {
        return Err(invalid());
    }
    let normalized: String = original.nfkc().collect();
    let s = normalized.trim();
    if s.is_empty() {
        return Err(AmountError::Empty);
    }

    // Prefix: [-] [symbol] [-]; a minus on either side of the symbol is a negative amount.
    let (mut negative, mut rest) = strip_minus(s);
    let mut symbol_currency = None;
    if let Some((currency, r)) = Currency::strip_symbol_prefix(rest) {
        symbol_currency = Some(currency);
        rest = r.trim_start();
        if !negative {
            (negative, rest) = strip_minus(rest);
        }
    }

    // Suffix: currency (ISO code or 元), then before it an optional multiplier.
    let (rest, code_currency) = strip_code_suffix(rest)?;
    let (rest, multiplier_exp) = strip_multiplier(rest);

    let value = match parse_number(rest, multiplier_exp) {
        Ok(v) => v,
        Err(NumberError::Invalid) => return Err(invalid()),
        Err(NumberError::BadGrouping) => return Err(AmountError::BadGrouping),
        Err(NumberError::TooLarge) if negative => return Err(AmountError::Negative),
        Err(NumberError::TooLarge) => return Err(AmountError::TooLarge),
    };
    if negative {
        return Err(AmountError::Negative);
    }
    if value > Decimal::from(MAX_AMOUNT) {
        return Err(AmountError::TooLarge);
    }
    if value.is_zero() {
        return Err(AmountError::Zero);
    }
    let currency = merge_currencies(symbol_currency, code_currency)?;
    Ok(AmountInput { value, currency })
}

/// Parse a token plus an optional separate currency token (`"12500"`, `Some("USD")`).
/// The separate token may be an ISO code, a symbol or `元`. Conflicting currencies
/// (`¥12500 USD`) are an error.
pub fn parse_amount_with_currency(
    token: &str,
    currency: Option<&str>,
) -> Result<AmountInput, AmountError> {
    let input = parse_amount(token)?;
    let Some(raw) = currency else {
        return Ok(input);
    };
    let separate = resolve_currency_token(raw)?;
    let currency = merge_currencies(input.currency, Some(separate))?;
    Ok(AmountInput {
        value: input.value,
        currency,
    })
}

/// Check the value fits a currency (no more decimals than its minor units) and build the
/// [`Money`], in the named currency or else `default_currency`. The amount gets exactly the
/// currency's number of decimals (`12000` CNY → `12000.00`).
pub fn to_money(input: AmountInput, default_currency: Currency) -> Result<Money, AmountError> {
    // The fields are public, so re-check what parse_amount guarantees.
    if input.value.is_sign_negative() && !input.value.is_zero() {
        return Err(AmountError::Negative);
    }
    if input.value.is_zero() {
        return Err(AmountError::Zero);
    }
    if input.value > Decimal::from(MAX_AMOUNT) {
        return Err(AmountError::TooLarge);
    }
    let currency = input.currency.unwrap_or(default_currency);
    let max_decimals = currency.minor_units();
    let mut amount = input.value.normalize();
    if amount.scale() > max_decimals {
        return Err(AmountError::TooPrecise { max_decimals });
    }
    // Lossless: the value has at most `max_decimals` decimals and is at most 10^12.
    amount.rescale(max_decimals);
    Ok(Money::new(amount, currency))
}

/// Characters outside the full-width block whose NFKC form contains an ASCII digit.
fn folds_to_digit_unexpectedly(c: char) -> bool {
    if c.is_ascii() || ('\u{FF00}'..='\u{FFEF}').contains(&c) {
        return false;
    }
    c.nfkc().any(|n| n.is_ascii_digit())
}

fn strip_minus(s: &str) -> (bool, &str) {
    match s.strip_prefix(['-', '\u{2212}']) {
        Some(rest) => (true, rest.trim_start()),
        None => (false, s),
    }
}

/// Removes a trailing currency: `元` (CNY) or a glued 3-letter code ("12500USD", "3kusd").
fn strip_code_suffix(s: &str) -> Result<(&str, Option<Currency>), AmountError> {
    if let Some(rest) = s.strip_suffix('元') {
        return Ok((rest.trim_end(), Some(Currency::CNY)));
    }
    let letters = s
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphabetic())
        .count();
    // The trailing chars are ASCII, so byte indexing lands on a char boundary.
    let (rest, code) = s.split_at(s.len() - letters.min(3));
    if letters < 3 || !rest.chars().any(|c| c.is_ascii_digit()) {
        // One letter is a multiplier (k/w/m); words without digits ("abc", "NaN") or other
        // letter runs are not an amount at all and fail later as invalid.
        return Ok((s, None));
    }
    match known_currency(code) {
        Some(currency) => Ok((rest.trim_end(), Some(currency))),
        None => Err(AmountError::UnknownCurrency {
            code: code.to_string(),
        }),
    }
}

/// Removes a trailing multiplier and returns it as a power of ten.
fn strip_multiplier(s: &str) -> (&str, u32) {
    let Some(last) = s.chars().next_back() else {
        return (s, 0);
    };
    let exp = match last {
        'k' | 'K' | '千' => 3,
        'w' | 'W' | '万' => 4,
        'm' | 'M' => 6,
        '亿' => 8,
        _ => return (s, 0),
    };
    (s[..s.len() - last.len_utf8()].trim_end(), exp)
}

enum NumberError {
    Invalid,
    BadGrouping,
    TooLarge,
}

/// Parses `digits[,ddd…][.ddd]` times `10^exp`, exactly.
fn parse_number(s: &str, exp: u32) -> Result<Decimal, NumberError> {
    if s.is_empty()
        || !s
            .chars()
            .all(|c| c.is_ascii_digit() || c == ',' || c == '.')
    {
        return Err(NumberError::Invalid);
    }
    let (int_part, frac_part) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    if let Some(frac) = frac_part {
        // "1.234.567" or "1.234,5": European separators; explain the convention.
        if frac.contains(['.', ',']) {
            return Err(NumberError::BadGrouping);
        }
        if frac.is_empty() {
            return Err(NumberError::Invalid);
        }
    }
    if int_part.contains(',') {
        let mut groups = int_part.split(',');
        let first_ok = groups.next().is_some_and(|g| (1..=3).contains(&g.len()));
        if !first_ok || !groups.all(|g| g.len() == 3) {
            return Err(NumberError::BadGrouping);
        }
    } else if int_part.is_empty() && frac_part.is_none() {
        return Err(NumberError::Invalid);
    }

    let int_digits = int_part.replace(',', "");
    let int_digits = int_digits.trim_start_matches('0');
    let frac_digits = frac_part.unwrap_or("").trim_end_matches('0');
    if int_digits.len() > MAX_INT_DIGITS {
        // Checked before any arithmetic so a 500-digit string costs nothing and cannot overflow.
        return Err(NumberError::TooLarge);
    }

    let mut mantissa: u128 = 0;
    for b in int_digits.bytes().chain(frac_digits.bytes()) {
        mantissa = mantissa
            .checked_mul(10)
            .and_then(|m| m.checked_add(u128::from(b - b'0')))
            .ok_or(NumberError::Invalid)?;
    }
    // value = mantissa * 10^(exp - frac_len): the multiplier just moves the decimal point.
    let frac_len = u32::try_from(frac_digits.len()).map_err(|_| NumberError::Invalid)?;
    let scale = if exp >= frac_len {
        mantissa = mantissa
            .checked_mul(10u128.pow(exp - frac_len))
            .ok_or(NumberError::TooLarge)?;
        0
    } else {
        frac_len - exp
    };
    // More significant digits than a Decimal holds (>28 decimals or a 96-bit mantissa):
    // far beyond any currency's precision, so reject rather than round.
    let mantissa = i128::try_from(mantissa).map_err(|_| NumberError::Invalid)?;
    Decimal::try_from_i128_with_scale(mantissa, scale).map_err(|_| NumberError::Invalid)
}

/// A separate currency token: ISO code (per [`is_currency_code`]), a symbol, or `元`.
fn resolve_currency_token(raw: &str) -> Result<Currency, AmountError> {
    let normalized: String = raw.trim().nfkc().collect();
    let s = normalized.trim();
    if let Some(c) = known_currency(s) {
        return Ok(c);
    }
    if s == "元" {
        return Ok(Currency::CNY);
    }
    if let Some((c, "")) = Currency::strip_symbol_prefix(s) {
        return Ok(c);
    }
    Err(AmountError::UnknownCurrency {
        code: raw.trim().to_string(),
    })
}

fn merge_currencies(
    first: Option<Currency>,
    second: Option<Currency>,
) -> Result<Option<Currency>, AmountError> {
    match (first, second) {
        (Some(a), Some(b)) if a != b => Err(AmountError::ConflictingCurrency {
            first: a,
            second: b,
        }),
        (a, b) => Ok(a.or(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).expect("test decimal")
    }

    fn ok(token: &str) -> (Decimal, Option<Currency>) {
        let input = parse_amount(token).unwrap_or_else(|e| panic!("{token:?}: {e}"));
        (input.value, input.currency)
    }

    fn err(token: &str) -> AmountError {
        match parse_amount(token) {
            Ok(v) => panic!("{token:?} parsed as {v:?}"),
            Err(e) => e,
        }
    }

    fn invalid(token: &str) -> AmountError {
        AmountError::Invalid {
            token: token.trim().to_string(),
        }
    }

    #[test]
    fn plain_and_grouped() {
        assert_eq!(ok("12500"), (d("12500"), None));
        assert_eq!(ok("12,500"), (d("12500"), None));
        assert_eq!(ok("12,500.50"), (d("12500.5"), None));
        assert_eq!(ok("1,234,567.891"), (d("1234567.891"), None));
        assert_eq!(ok("0.5"), (d("0.5"), None));
        assert_eq!(ok(".5"), (d("0.5"), None));
        assert_eq!(ok("007"), (d("7"), None));
        assert_eq!(ok("  42  "), (d("42"), None));
        assert_eq!(ok("12500.000"), (d("12500"), None));
        assert_eq!(ok("1000000000000"), (d("1000000000000"), None));
    }

    #[test]
    fn multipliers() {
        assert_eq!(ok("3k"), (d("3000"), None));
        assert_eq!(ok("3K"), (d("3000"), None));
        assert_eq!(ok("3千"), (d("3000"), None));
        assert_eq!(ok("1.2万"), (d("12000"), None));
        assert_eq!(ok("1.5w"), (d("15000"), None));
        assert_eq!(ok("1.5W"), (d("15000"), None));
        assert_eq!(ok("2M"), (d("2000000"), None));
        assert_eq!(ok("2.5m"), (d("2500000"), None));
        assert_eq!(ok("3亿"), (d("300000000"), None));
        assert_eq!(ok("1.23456万"), (d("12345.6"), None));
        assert_eq!(ok("0.001k"), (d("1"), None));
        assert_eq!(ok("1,200k"), (d("1200000"), None));
        assert_eq!(ok("10000亿"), (d("1000000000000"), None));
        assert_eq!(err("3kk"), invalid("3kk"));
        assert_eq!(err("3万k"), invalid("3万k"));
        assert_eq!(err("k"), invalid("k"));
        assert_eq!(err("万"), invalid("万"));
        assert_eq!(err("3x"), invalid("3x"));
    }

    #[test]
    fn currencies() {
        assert_eq!(ok("¥12,500"), (d("12500"), Some(Currency::CNY)));
        assert_eq!(ok("￥12,500"), (d("12500"), Some(Currency::CNY)));
        assert_eq!(ok("$3"), (d("3"), Some(Currency::USD)));
        assert_eq!(ok("€3.50"), (d("3.5"), Some(Currency::EUR)));
        assert_eq!(ok("£1k"), (d("1000"), Some(Currency::GBP)));
        assert_eq!(ok("JP¥500"), (d("500"), Some(Currency::JPY)));
        assert_eq!(ok("HK$1.5万"), (d("15000"), Some(Currency::HKD)));
        assert_eq!(ok("12500USD"), (d("12500"), Some(Currency::USD)));
        assert_eq!(ok("12500usd"), (d("12500"), Some(Currency::USD)));
        assert_eq!(ok("3kUSD"), (d("3000"), Some(Currency::USD)));
        assert_eq!(ok("1.2万CNY"), (d("12000"), Some(Currency::CNY)));
        assert_eq!(ok("12500元"), (d("12500"), Some(Currency::CNY)));
        assert_eq!(ok("1.2万元"), (d("12000"), Some(Currency::CNY)));
        assert_eq!(ok("¥12500CNY"), (d("12500"), Some(Currency::CNY)));
        assert_eq!(ok("1,000.000 KWD"), (d("1000"), Some(Currency::KWD)));
        assert_eq!(ok("12500TRY"), (d("12500"), Some(cur("TRY"))));
        assert_eq!(
            err("¥12500USD"),
            AmountError::ConflictingCurrency {
                first: Currency::CNY,
                second: Currency::USD
            }
        );
        assert_eq!(
            err("$5元"),
            AmountError::ConflictingCurrency {
                first: Currency::USD,
                second: Currency::CNY
            }
        );
        assert_eq!(
            err("12500ABC"),
            AmountError::UnknownCurrency { code: "ABC".into() }
        );
        assert_eq!(
            err("12500try"),
            AmountError::UnknownCurrency { code: "try".into() }
        );
        assert_eq!(err("12500US"), invalid("12500US"));
        assert_eq!(err("¥"), invalid("¥"));
        assert_eq!(err("USD"), invalid("USD"));
        assert_eq!(err("12500$"), invalid("12500$"));
        assert_eq!(err("¥¥5"), invalid("¥¥5"));
    }

    fn cur(s: &str) -> Currency {
        Currency::parse(s).expect("test currency")
    }

    #[test]
    fn full_width() {
        assert_eq!(ok("１２５００"), (d("12500"), None));
        assert_eq!(ok("１２，５００．５０"), (d("12500.5"), None));
        assert_eq!(ok("￥１２，５００"), (d("12500"), Some(Currency::CNY)));
        assert_eq!(ok("１．２万"), (d("12000"), None));
        assert_eq!(ok("３ｋ"), (d("3000"), None));
        assert_eq!(ok("１２５００ＵＳＤ"), (d("12500"), Some(Currency::USD)));
        assert_eq!(err("－５"), AmountError::Negative);
        // NFKC must not turn superscripts or circled digits into a different number.
        assert_eq!(err("10²"), invalid("10²"));
        assert_eq!(err("①"), invalid("①"));
        assert_eq!(err("𝟏𝟐"), invalid("𝟏𝟐"));
    }

    #[test]
    fn errors() {
        assert_eq!(err(""), AmountError::Empty);
        assert_eq!(err("   "), AmountError::Empty);
        assert_eq!(err("\u{3000}"), AmountError::Empty);
        assert_eq!(err("0"), AmountError::Zero);
        assert_eq!(err("0.00"), AmountError::Zero);
        assert_eq!(err("0k"), AmountError::Zero);
        assert_eq!(err("¥0"), AmountError::Zero);
        assert_eq!(err("-5"), AmountError::Negative);
        assert_eq!(err("−5"), AmountError::Negative);
        assert_eq!(err("-¥5"), AmountError::Negative);
        assert_eq!(err("¥-5"), AmountError::Negative);
        assert_eq!(err("-0"), AmountError::Negative);
        assert_eq!(err("-99999999999999999"), AmountError::Negative);
        assert_eq!(err("1000000000000.01"), AmountError::TooLarge);
        assert_eq!(err("1000000000001"), AmountError::TooLarge);
        assert_eq!(err("100000001万"), AmountError::TooLarge);
        assert_eq!(err("10001亿"), AmountError::TooLarge);
        assert_eq!(err(&"9".repeat(500)), AmountError::TooLarge);
        assert_eq!(err(&format!("{}k", "9".repeat(500))), AmountError::TooLarge);
        let long_frac = format!("0.{}1", "0".repeat(500));
        assert_eq!(err(&long_frac), invalid(&long_frac));
        assert_eq!(ok(&format!("1.{}", "0".repeat(500))), (d("1"), None));
        assert_eq!(err("1,2,3"), AmountError::BadGrouping);
        assert_eq!(err("12,5"), AmountError::BadGrouping);
        assert_eq!(err("1000,000"), AmountError::BadGrouping);
        assert_eq!(err(",500"), AmountError::BadGrouping);
        assert_eq!(err("12,500,"), AmountError::BadGrouping);
        assert_eq!(err("1.234.567"), AmountError::BadGrouping);
        assert_eq!(err("1.234,50"), AmountError::BadGrouping);
        assert_eq!(err("1.2.3"), AmountError::BadGrouping);
        assert_eq!(err("12."), invalid("12."));
        assert_eq!(err("."), invalid("."));
        assert_eq!(err("abc"), invalid("abc"));
        assert_eq!(err("12a"), invalid("12a"));
        assert_eq!(err("1e5"), invalid("1e5"));
        assert_eq!(err("+5"), invalid("+5"));
        assert_eq!(err("12 500"), invalid("12 500"));
        assert_eq!(err("NaN"), invalid("NaN"));
        assert_eq!(err("٣"), invalid("٣"));
    }

    #[test]
    fn error_keys_and_messages() {
        let all = [
            (AmountError::Empty, "amount-empty"),
            (AmountError::Zero, "amount-zero"),
            (AmountError::Negative, "amount-negative"),
            (AmountError::TooLarge, "amount-too-large"),
            (
                AmountError::TooPrecise { max_decimals: 2 },
                "amount-too-precise",
            ),
            (AmountError::BadGrouping, "amount-bad-grouping"),
            (
                AmountError::ConflictingCurrency {
                    first: Currency::CNY,
                    second: Currency::USD,
                },
                "amount-conflicting-currency",
            ),
            (
                AmountError::UnknownCurrency { code: "XYZ".into() },
                "amount-unknown-currency",
            ),
            (AmountError::Invalid { token: "x".into() }, "amount-invalid"),
        ];
        for (e, key) in all {
            assert_eq!(e.key(), key);
            assert!(!e.to_string().is_empty());
        }
        assert!(AmountError::BadGrouping.to_string().contains("'.'"));
    }

    #[test]
    fn separate_currency_token() {
        let p = parse_amount_with_currency;
        assert_eq!(
            p("12500", Some("USD")),
            Ok(AmountInput {
                value: d("12500"),
                currency: Some(Currency::USD)
            })
        );
        assert_eq!(
            p("12500", Some("usd")).map(|a| a.currency),
            Ok(Some(Currency::USD))
        );
        assert_eq!(
            p("12500", Some("ＵＳＤ")).map(|a| a.currency),
            Ok(Some(Currency::USD))
        );
        assert_eq!(
            p("12500", Some("元")).map(|a| a.currency),
            Ok(Some(Currency::CNY))
        );
        assert_eq!(
            p("12500", Some("¥")).map(|a| a.currency),
            Ok(Some(Currency::CNY))
        );
        assert_eq!(p("12500", None).map(|a| a.currency), Ok(None));
        assert_eq!(
            p("¥12500", Some("CNY")).map(|a| a.currency),
            Ok(Some(Currency::CNY))
        );
        assert_eq!(
            p("¥12500", Some("USD")),
            Err(AmountError::ConflictingCurrency {
                first: Currency::CNY,
                second: Currency::USD
            })
        );
        assert_eq!(
            p("12500EUR", Some("USD")),
            Err(AmountError::ConflictingCurrency {
                first: Currency::EUR,
                second: Currency::USD
            })
        );
        assert_eq!(
            p("12500", Some("THE")),
            Err(AmountError::UnknownCurrency { code: "THE".into() })
        );
        assert_eq!(p("-5", Some("USD")), Err(AmountError::Negative));
    }

    #[test]
    fn currency_codes() {
        for yes in [
            "USD", "usd", "CNY", "Eur", "JPY", "KWD", "HKD", "TRY", "PEN",
        ] {
            assert!(is_currency_code(yes), "{yes}");
        }
        for no in [
            "ACM",
            "THE",
            "try",
            "pen",
            "Ron",
            "US",
            "USDX",
            "",
            "U$D",
            "RMB",
            "１２３",
        ] {
            assert!(!is_currency_code(no), "{no}");
        }
        assert!(KNOWN_CODES.len() >= 40);
        for code in KNOWN_CODES {
            assert!(Currency::parse(code).is_ok_and(|c| c.code() == *code));
        }
    }

    #[test]
    fn money_conversion() {
        let input = |s: &str| parse_amount(s).expect("test amount");
        let m = to_money(input("1.2万"), Currency::CNY).expect("money");
        assert_eq!(m, Money::new(d("12000"), Currency::CNY));
        assert_eq!(m.amount().to_string(), "12000.00");
        assert_eq!(
            to_money(input("12,500.50"), Currency::CNY).map(|m| m.format()),
            Ok("¥12,500.50".to_string())
        );
        assert_eq!(
            to_money(input("12500USD"), Currency::CNY).map(|m| m.currency()),
            Ok(Currency::USD)
        );
        assert_eq!(
            to_money(input("0.001"), Currency::CNY),
            Err(AmountError::TooPrecise { max_decimals: 2 })
        );
        assert_eq!(
            to_money(input("0.001"), Currency::KWD).map(|m| m.to_minor()),
            Ok(Ok(1))
        );
        assert_eq!(
            to_money(input("12.5"), Currency::JPY),
            Err(AmountError::TooPrecise { max_decimals: 0 })
        );
        assert_eq!(
            to_money(input("12.5JPY"), Currency::CNY),
            Err(AmountError::TooPrecise { max_decimals: 0 })
        );
        assert_eq!(
            to_money(input("1.5k"), Currency::JPY).map(|m| m.amount()),
            Ok(d("1500"))
        );
        assert_eq!(
            to_money(input("12.500"), Currency::CNY).map(|m| m.amount()),
            Ok(d("12.5"))
        );
        // Hand-built inputs are re-validated.
        let raw = |v: &str| AmountInput {
            value: d(v),
            currency: None,
        };
        assert_eq!(
            to_money(raw("-1"), Currency::CNY),
            Err(AmountError::Negative)
        );
        assert_eq!(to_money(raw("0"), Currency::CNY), Err(AmountError::Zero));
        assert_eq!(
            to_money(raw("1000000000000.01"), Currency::CNY),
            Err(AmountError::TooLarge)
        );
    }

    fn symbol_currency() -> impl Strategy<Value = Currency> {
        prop_oneof![
            Just(Currency::CNY),
            Just(Currency::USD),
            Just(Currency::EUR),
            Just(Currency::GBP),
            Just(Currency::JPY),
            Just(Currency::HKD),
            Just(Currency::KRW),
            Just(Currency::KWD),
            Just(Currency::CHF),
            Just(Currency::BHD),
        ]
    }

    proptest! {
        #[test]
        fn prop_format_then_parse(c in symbol_currency(), whole in 0i64..=1_000_000_000_000, frac in 0i64..1000) {
            let mu = c.minor_units();
            let scale = 10i64.pow(mu);
            let minor = whole.saturating_mul(scale) + frac % scale;
            let money = Money::from_minor(minor, c);
            prop_assume!(!money.is_zero() && money.amount() <= Decimal::from(MAX_AMOUNT));
            let text = money.format();
            let parsed = parse_amount(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
            prop_assert_eq!(parsed.value, money.amount(), "{}", text);
            prop_assert_eq!(parsed.currency, Some(c));
            prop_assert_eq!(to_money(parsed, Currency::CNY), Ok(money));
        }

        #[test]
        fn prop_never_panics_arbitrary(s in ".*") {
            let _ = parse_amount(&s);
            let _ = parse_amount_with_currency(&s, Some(&s));
            let _ = is_currency_code(&s);
        }

        #[test]
        fn prop_never_panics_alphabet(s in "[0-9０-９,，.．\\-−¥￥$€£kKwWmM万千亿 元USDusdJP]{0,40}") {
            if let Ok(input) = parse_amount(&s) {
                prop_assert!(input.value > Decimal::ZERO);
                prop_assert!(input.value <= Decimal::from(MAX_AMOUNT));
                let _ = to_money(input, Currency::CNY);
            }
        }

        #[test]
        fn prop_multiplier_agrees(
            int in "[0-9]{1,16}",
            frac in proptest::option::of("[0-9]{1,30}"),
            (suffix, factor) in prop_oneof![
                Just(("k", 1_000i64)), Just(("K", 1_000)), Just(("千", 1_000)),
                Just(("w", 10_000)), Just(("W", 10_000)), Just(("万", 10_000)),
                Just(("m", 1_000_000)), Just(("M", 1_000_000)), Just(("亿", 100_000_000)),
            ],
        ) {
            let plain = match &frac { Some(f) => format!("{int}.{f}"), None => int.clone() };
            let scaled = parse_amount(&format!("{plain}{suffix}"));
            match parse_amount(&plain) {
                Ok(base) => {
                    let expected = base.value.checked_mul(Decimal::from(factor));
                    match expected {
                        Some(v) if v <= Decimal::from(MAX_AMOUNT) => {
                            prop_assert_eq!(scaled, Ok(AmountInput { value: v, currency: None }));
                        }
                        _ => prop_assert_eq!(scaled, Err(AmountError::TooLarge)),
                    }
                }
                Err(AmountError::Zero) => prop_assert_eq!(scaled, Err(AmountError::Zero)),
                Err(AmountError::TooLarge) => prop_assert_eq!(scaled, Err(AmountError::TooLarge)),
                Err(_) => {}
            }
        }
    }
}
