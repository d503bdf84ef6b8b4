//! Currencies and exact money amounts.
//!
//! Money is always a [`Decimal`] paired with a [`Currency`]; there is no floating point anywhere.
//! Conversion between currencies deliberately does *not* round: rounding
//! (half away from zero, to the currency's minor unit) happens once per statement line, so
//! intermediate values keep full precision until the caller calls [`Money::round`].

use std::fmt;
use std::str::FromStr;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The rounding used everywhere money is rounded (statement lines and display).
const ROUNDING: RoundingStrategy = RoundingStrategy::MidpointAwayFromZero;

/// Errors from currency parsing and money arithmetic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Not three ASCII letters.
    #[error("invalid currency code {0:?}: expected 3 ASCII letters")]
    InvalidCurrency(String),
    /// Arithmetic between two different currencies.
    #[error("currency mismatch: {left} vs {right}")]
    CurrencyMismatch { left: Currency, right: Currency },
    /// The result does not fit a `Decimal` (or an `i64` for minor units).
    #[error("money arithmetic overflow")]
    Overflow,
    /// `to_minor` on an amount with more decimals than the currency's minor unit.
    #[error("{amount} {currency} is not a whole number of minor units")]
    NotWholeMinorUnits { amount: Decimal, currency: Currency },
}

/// ISO 4217 code, 3 ASCII uppercase letters. `Copy`, ordered alphabetically.
///
/// The inner bytes are private so every value is either one of the constants or came
/// through [`Currency::parse`], which guarantees uppercase ASCII.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

/// Display symbols. Each symbol maps to exactly one currency so formatted amounts parse back.
const SYMBOLS: &[(Currency, &str)] = &[
    (Currency::CNY, "¥"),
    (Currency::USD, "$"),
    (Currency::EUR, "€"),
    (Currency::GBP, "£"),
    (Currency::JPY, "JP¥"),
    (Currency::HKD, "HK$"),
    (Currency::TWD, "NT$"),
    (Currency::KRW, "₩"),
    (Currency::INR, "₹"),
    (Currency::AUD, "A$"),
    (Currency::CAD, "CA$"),
    (Currency::NZD, "NZ$"),
    (Currency::SGD, "S$"),
    (Currency::MXN, "MX$"),
    (Currency::BRL, "R$"),
    (Currency::VND, "₫"),
    (Currency::PHP, "₱"),
    (Currency::ILS, "₪"),
];

impl Currency {
    pub const CNY: Currency = Currency(*b"CNY");
    pub const USD: Currency = Currency(*b"USD");
    pub const EUR: Currency = Currency(*b"EUR");
    pub const GBP: Currency = Currency(*b"GBP");
    pub const JPY: Currency = Currency(*b"JPY");
    pub const HKD: Currency = Currency(*b"HKD");
    pub const TWD: Currency = Currency(*b"TWD");
    pub const KRW: Currency = Currency(*b"KRW");
    pub const INR: Currency = Currency(*b"INR");
    pub const AUD: Currency = Currency(*b"AUD");
    pub const CAD: Currency = Currency(*b"CAD");
    pub const NZD: Currency = Currency(*b"NZD");
    pub const SGD: Currency = Currency(*b"SGD");
    pub const MXN: Currency = Currency(*b"MXN");
    pub const BRL: Currency = Currency(*b"BRL");
    pub const VND: Currency = Currency(*b"VND");
    pub const PHP: Currency = Currency(*b"PHP");
    pub const ILS: Currency = Currency(*b"ILS");
    pub const CHF: Currency = Currency(*b"CHF");
    pub const KWD: Currency = Currency(*b"KWD");
    pub const BHD: Currency = Currency(*b"BHD");

    /// Parses an ISO-style code. Case-insensitive (`"usd"` is fine); exactly 3 ASCII letters.
    /// This only checks the shape: whether a code is a *real* currency is the grammar's business
    /// (see `engine::amount::is_currency_code`).
    pub fn parse(code: &str) -> Result<Currency, MoneyError> {
        match code.as_bytes() {
            [a, b, c] if [a, b, c].iter().all(|x| x.is_ascii_alphabetic()) => Ok(Currency([
                a.to_ascii_uppercase(),
                b.to_ascii_uppercase(),
                c.to_ascii_uppercase(),
            ])),
            _ => Err(MoneyError::InvalidCurrency(code.to_string())),
        }
    }

    /// The three-letter uppercase code.
    pub fn code(&self) -> &str {
        // Construction guarantees ASCII; the fallback only exists so this can never panic.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// Number of decimals of the minor unit (ISO 4217 exponent).
    pub fn minor_units(&self) -> u32 {
        match &self.0 {
            b"BIF" | b"CLP" | b"DJF" | b"GNF" | b"ISK" | b"JPY" | b"KMF" | b"KRW" | b"PYG"
            | b"RWF" | b"UGX" | b"UYI" | b"VND" | b"VUV" | b"XAF" | b"XOF" | b"XPF" => 0,
            b"BHD" | b"IQD" | b"JOD" | b"KWD" | b"LYD" | b"OMR" | b"TND" => 3,
            _ => 2,
        }
    }

    /// The display symbol, if this currency has an unambiguous one.
    pub fn symbol(&self) -> Option<&'static str> {
        SYMBOLS.iter().find(|(c, _)| c == self).map(|(_, s)| *s)
    }

    /// A single-character symbol as typed by users: `¥`/`￥` → CNY, `$`/`＄` → USD, `€` → EUR,
    /// `£`/`￡` → GBP, plus the other unambiguous one-character symbols (`₩ ₹ ₫ ₱ ₪`).
    pub fn from_symbol(sym: char) -> Option<Currency> {
        match sym {
            '¥' | '￥' => Some(Currency::CNY),
            '$' | '＄' => Some(Currency::USD),
            '€' => Some(Currency::EUR),
            '£' | '￡' => Some(Currency::GBP),
            '₩' | '￦' => Some(Currency::KRW),
            '₹' => Some(Currency::INR),
            '₫' => Some(Currency::VND),
            '₱' => Some(Currency::PHP),
            '₪' => Some(Currency::ILS),
            _ => None,
        }
    }

    /// If `s` starts with a currency symbol (multi-character ones such as `JP¥`/`HK$` included),
    /// returns the currency and the rest of the string. Longest symbol wins, so that every
    /// output of [`Money::format`] parses back to the same currency.
    pub fn strip_symbol_prefix(s: &str) -> Option<(Currency, &str)> {
        let multi = SYMBOLS
            .iter()
            .filter(|(_, sym)| sym.chars().count() > 1)
            .filter_map(|(c, sym)| s.strip_prefix(sym).map(|rest| (*c, rest, sym.len())))
            .max_by_key(|(_, _, len)| *len)
            .map(|(c, rest, _)| (c, rest));
        multi.or_else(|| {
            let first = s.chars().next()?;
            Currency::from_symbol(first).map(|c| (c, &s[first.len_utf8()..]))
        })
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::parse(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Currency::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// `10^mu` for a currency's minor units (always 0..=3, so this cannot overflow).
fn minor_factor(currency: Currency) -> Decimal {
    Decimal::from(10i64.pow(currency.minor_units()))
}

/// An exact amount in one currency. Never floating point.
///
/// Equality compares values (`12.5 == 12.50`); there is deliberately no ordering because
/// comparing different currencies is meaningless.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Money {
    amount: Decimal,
    currency: Currency,
}

impl Money {
    pub fn new(amount: Decimal, currency: Currency) -> Money {
        Money { amount, currency }
    }

    pub fn zero(currency: Currency) -> Money {
        Money::new(Decimal::ZERO, currency)
    }

    /// From an integer count of minor units: `1250050` CNY → `12500.50`.
    pub fn from_minor(minor: i64, currency: Currency) -> Money {
        // An i64 always fits the 96-bit mantissa and minor units are at most 3, so this is exact.
        let amount = Decimal::try_from_i128_with_scale(i128::from(minor), currency.minor_units())
            .unwrap_or(Decimal::ZERO);
        Money::new(amount, currency)
    }

    /// The amount as an integer count of minor units. Never rounds: an amount with more
    /// decimals than the minor unit is an error, as is anything outside `i64`.
    pub fn to_minor(&self) -> Result<i64, MoneyError> {
        if !self.is_rounded() {
            return Err(MoneyError::NotWholeMinorUnits {
                amount: self.amount,
                currency: self.currency,
            });
        }
        self.amount
            .checked_mul(minor_factor(self.currency))
            .and_then(|d| d.to_i64())
            .ok_or(MoneyError::Overflow)
    }

    pub fn amount(&self) -> Decimal {
        self.amount
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    pub fn is_zero(&self) -> bool {
        self.amount.is_zero()
    }

    pub fn is_negative(&self) -> bool {
        self.amount.is_sign_negative() && !self.amount.is_zero()
    }

    /// Rounded to the currency's minor unit, half away from zero.
    pub fn round(&self) -> Money {
        Money::new(
            self.amount
                .round_dp_with_strategy(self.currency.minor_units(), ROUNDING),
            self.currency,
        )
    }

    /// True if the amount is a whole number of minor units (trailing zeros don't count).
    pub fn is_rounded(&self) -> bool {
        self.amount.normalize().scale() <= self.currency.minor_units()
    }

    pub fn checked_add(&self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        self.amount
            .checked_add(other.amount)
            .map(|a| Money::new(a, self.currency))
            .ok_or(MoneyError::Overflow)
    }

    pub fn checked_sub(&self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        self.amount
            .checked_sub(other.amount)
            .map(|a| Money::new(a, self.currency))
            .ok_or(MoneyError::Overflow)
    }

    fn same_currency(&self, other: Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            })
        }
    }

    /// `amount * rate` in `to`, NOT rounded (rounding happens once per statement line).
    ///
    /// Saturates at `Decimal::MAX`/`MIN` instead of panicking; that needs a rate above ~10^16
    /// for any amount Rally accepts, so use [`Money::checked_convert`] for untrusted rates.
    pub fn convert(&self, to: Currency, rate: Decimal) -> Money {
        Money::new(self.amount.saturating_mul(rate), to)
    }

    /// Like [`Money::convert`] but reports overflow instead of saturating.
    pub fn checked_convert(&self, to: Currency, rate: Decimal) -> Result<Money, MoneyError> {
        self.amount
            .checked_mul(rate)
            .map(|a| Money::new(a, to))
            .ok_or(MoneyError::Overflow)
    }

    /// Human display: `¥12,500.00`, `$3.00`, `-¥1,200.50`, `1,000.000 KWD` (no symbol: amount
    /// then code). Always exactly `minor_units` decimals, `,` thousands separators, rounded half
    /// away from zero.
    pub fn format(&self) -> String {
        let mu = self.currency.minor_units();
        let rounded = self.amount.round_dp_with_strategy(mu, ROUNDING);
        // After round_dp the scale is <= mu, so scaling the mantissa up to exactly `mu`
        // decimals is exact; |mantissa| < 2^96 and mu <= 3, so u128 cannot overflow.
        let mantissa = rounded.mantissa();
        let negative = mantissa < 0;
        let shift = mu.saturating_sub(rounded.scale());
        let abs = mantissa
            .unsigned_abs()
            .saturating_mul(10u128.saturating_pow(shift));
        let digits = format!("{abs:0>width$}", width = mu as usize + 1);
        let (int_part, frac_part) = digits.split_at(digits.len() - mu as usize);

        let mut out = String::with_capacity(digits.len() + 8);
        if negative {
            out.push('-');
        }
        let symbol = self.currency.symbol();
        if let Some(sym) = symbol {
            out.push_str(sym);
        }
        push_grouped(&mut out, int_part);
        if mu > 0 {
            out.push('.');
            out.push_str(frac_part);
        }
        if symbol.is_none() {
            out.push(' ');
            out.push_str(self.currency.code());
        }
        out
    }
}

/// Appends ASCII digits with `,` every three from the right.
fn push_grouped(out: &mut String, digits: &str) {
    let len = digits.len();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (len - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.format())
    }
}

impl std::ops::Neg for Money {
    type Output = Money;
    fn neg(self) -> Money {
        // Decimal negation only flips the sign bit, so it cannot overflow.
        Money::new(-self.amount, self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).expect("test decimal")
    }

    fn cur(s: &str) -> Currency {
        Currency::parse(s).expect("test currency")
    }

    #[test]
    fn parse_currency() {
        assert_eq!(Currency::parse("usd"), Ok(Currency::USD));
        assert_eq!(Currency::parse("Cny"), Ok(Currency::CNY));
        assert_eq!("EUR".parse::<Currency>(), Ok(Currency::EUR));
        for bad in ["", "US", "USDX", "U$D", "12A", " US", "ÜSD", "￥"] {
            assert_eq!(
                Currency::parse(bad),
                Err(MoneyError::InvalidCurrency(bad.to_string())),
                "{bad:?}"
            );
        }
        assert_eq!(Currency::USD.code(), "USD");
        assert_eq!(Currency::USD.to_string(), "USD");
        assert!(Currency::EUR < Currency::USD);
    }

    #[test]
    fn minor_units() {
        assert_eq!(Currency::CNY.minor_units(), 2);
        assert_eq!(Currency::USD.minor_units(), 2);
        assert_eq!(Currency::JPY.minor_units(), 0);
        assert_eq!(Currency::KRW.minor_units(), 0);
        assert_eq!(Currency::VND.minor_units(), 0);
        for c in ["BHD", "KWD", "JOD", "OMR", "TND", "IQD", "LYD"] {
            assert_eq!(cur(c).minor_units(), 3, "{c}");
        }
        assert_eq!(cur("ABC").minor_units(), 2);
    }

    #[test]
    fn symbols() {
        assert_eq!(Currency::CNY.symbol(), Some("¥"));
        assert_eq!(Currency::USD.symbol(), Some("$"));
        assert_eq!(Currency::EUR.symbol(), Some("€"));
        assert_eq!(Currency::GBP.symbol(), Some("£"));
        assert_eq!(Currency::JPY.symbol(), Some("JP¥"));
        assert_eq!(Currency::KWD.symbol(), None);
        assert_eq!(Currency::from_symbol('¥'), Some(Currency::CNY));
        assert_eq!(Currency::from_symbol('￥'), Some(Currency::CNY));
        assert_eq!(Currency::from_symbol('$'), Some(Currency::USD));
        assert_eq!(Currency::from_symbol('€'), Some(Currency::EUR));
        assert_eq!(Currency::from_symbol('£'), Some(Currency::GBP));
        assert_eq!(Currency::from_symbol('x'), None);
        assert_eq!(
            Currency::strip_symbol_prefix("JP¥100"),
            Some((Currency::JPY, "100"))
        );
        assert_eq!(
            Currency::strip_symbol_prefix("HK$5"),
            Some((Currency::HKD, "5"))
        );
        assert_eq!(
            Currency::strip_symbol_prefix("$5"),
            Some((Currency::USD, "5"))
        );
        assert_eq!(Currency::strip_symbol_prefix("5$"), None);
        assert_eq!(Currency::strip_symbol_prefix(""), None);
        // Symbols must be unique or formatted amounts would not parse back.
        for (i, (_, a)) in SYMBOLS.iter().enumerate() {
            for (_, b) in &SYMBOLS[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn currency_serde() {
        assert_eq!(
            serde_json::to_string(&Currency::CNY).expect("ser"),
            "\"CNY\""
        );
        assert_eq!(
            serde_json::from_str::<Currency>("\"usd\"").expect("de"),
            Currency::USD
        );
        assert!(serde_json::from_str::<Currency>("\"US\"").is_err());
        assert!(serde_json::from_str::<Currency>("\"1SD\"").is_err());
        assert!(serde_json::from_str::<Currency>("12").is_err());
        let m = Money::new(d("12.50"), Currency::CNY);
        let json = serde_json::to_string(&m).expect("ser");
        assert_eq!(serde_json::from_str::<Money>(&json).expect("de"), m);
    }

    #[test]
    fn minor_roundtrip_and_errors() {
        let m = Money::from_minor(1_250_050, Currency::CNY);
        assert_eq!(m.amount(), d("12500.50"));
        assert_eq!(m.currency(), Currency::CNY);
        assert_eq!(m.to_minor(), Ok(1_250_050));
        assert_eq!(Money::from_minor(500, Currency::JPY).amount(), d("500"));
        assert_eq!(Money::from_minor(1, Currency::KWD).amount(), d("0.001"));
        assert_eq!(Money::new(d("12.5"), Currency::CNY).to_minor(), Ok(1250));
        assert_eq!(Money::new(d("12.5000"), Currency::CNY).to_minor(), Ok(1250));
        assert_eq!(
            Money::new(d("12.505"), Currency::CNY).to_minor(),
            Err(MoneyError::NotWholeMinorUnits {
                amount: d("12.505"),
                currency: Currency::CNY
            })
        );
        assert_eq!(
            Money::new(Decimal::MAX, Currency::JPY).to_minor(),
            Err(MoneyError::Overflow)
        );
        assert_eq!(
            Money::new(d("100000000000000000"), Currency::CNY).to_minor(),
            Err(MoneyError::Overflow)
        );
        assert_eq!(
            Money::from_minor(i64::MIN, Currency::CNY).to_minor(),
            Ok(i64::MIN)
        );
        assert_eq!(
            Money::from_minor(i64::MAX, Currency::KWD).to_minor(),
            Ok(i64::MAX)
        );
        assert!(Money::zero(Currency::USD).is_zero());
    }

    #[test]
    fn rounding_half_away_from_zero() {
        let r = |s: &str, c: Currency| Money::new(d(s), c).round().amount();
        assert_eq!(r("1.005", Currency::CNY), d("1.01"));
        assert_eq!(r("-1.005", Currency::CNY), d("-1.01"));
        assert_eq!(r("1.004999", Currency::CNY), d("1.00"));
        assert_eq!(r("2.5", Currency::JPY), d("3"));
        assert_eq!(r("-2.5", Currency::JPY), d("-3"));
        assert_eq!(r("0.0005", Currency::KWD), d("0.001"));
        assert!(Money::new(d("1.10"), Currency::CNY).is_rounded());
        assert!(Money::new(d("1.1000000"), Currency::CNY).is_rounded());
        assert!(!Money::new(d("1.105"), Currency::CNY).is_rounded());
        assert!(Money::new(d("1.105"), Currency::CNY).round().is_rounded());
    }

    #[test]
    fn arithmetic() {
        let a = Money::new(d("10.50"), Currency::CNY);
        let b = Money::new(d("0.75"), Currency::CNY);
        assert_eq!(a.checked_add(b), Ok(Money::new(d("11.25"), Currency::CNY)));
        assert_eq!(a.checked_sub(b), Ok(Money::new(d("9.75"), Currency::CNY)));
        let u = Money::new(d("1"), Currency::USD);
        assert_eq!(
            a.checked_add(u),
            Err(MoneyError::CurrencyMismatch {
                left: Currency::CNY,
                right: Currency::USD
            })
        );
        assert_eq!(
            a.checked_sub(u),
            Err(MoneyError::CurrencyMismatch {
                left: Currency::CNY,
                right: Currency::USD
            })
        );
        let max = Money::new(Decimal::MAX, Currency::CNY);
        assert_eq!(max.checked_add(max), Err(MoneyError::Overflow));
        assert_eq!((-max).checked_sub(max), Err(MoneyError::Overflow));
        assert_eq!(-a, Money::new(d("-10.50"), Currency::CNY));
        assert!((-a).is_negative());
        assert!(!Money::zero(Currency::CNY).is_negative());
    }

    #[test]
    fn conversion_is_not_rounded() {
        let usd = Money::new(d("100"), Currency::USD);
        let cny = usd.convert(Currency::CNY, d("7.12345"));
        assert_eq!(cny, Money::new(d("712.345"), Currency::CNY));
        assert!(!cny.is_rounded());
        assert_eq!(cny.round().amount(), d("712.35"));
        assert_eq!(
            usd.checked_convert(Currency::CNY, d("7.1")),
            Ok(Money::new(d("710"), Currency::CNY))
        );
        let max = Money::new(Decimal::MAX, Currency::USD);
        assert_eq!(
            max.checked_convert(Currency::CNY, d("2")),
            Err(MoneyError::Overflow)
        );
        assert_eq!(max.convert(Currency::CNY, d("2")).amount(), Decimal::MAX);
    }

    #[test]
    fn format_examples() {
        let f = |s: &str, c: Currency| Money::new(d(s), c).format();
        assert_eq!(f("12500", Currency::CNY), "¥12,500.00");
        assert_eq!(f("3", Currency::USD), "$3.00");
        assert_eq!(f("-1200.5", Currency::CNY), "-¥1,200.50");
        assert_eq!(f("1000", Currency::KWD), "1,000.000 KWD");
        assert_eq!(f("-1000", Currency::KWD), "-1,000.000 KWD");
        assert_eq!(f("1234567.891", Currency::EUR), "€1,234,567.89");
        assert_eq!(f("0.005", Currency::USD), "$0.01");
        assert_eq!(f("-0.005", Currency::USD), "-$0.01");
        assert_eq!(f("-0.004", Currency::USD), "$0.00");
        assert_eq!(f("0", Currency::GBP), "£0.00");
        assert_eq!(f("999.995", Currency::GBP), "£1,000.00");
        assert_eq!(f("12500.5", Currency::JPY), "JP¥12,501");
        assert_eq!(f("100", Currency::JPY), "JP¥100");
        assert_eq!(f("100", cur("CHF")), "100.00 CHF");
        assert_eq!(f("1", cur("TND")), "1.000 TND");
        assert_eq!(f("0.1", cur("XAF")), "0 XAF");
        assert_eq!(
            Money::new(d("12500"), Currency::CNY).to_string(),
            "¥12,500.00"
        );
        // Extremes must not panic.
        assert_eq!(
            Money::new(Decimal::MAX, Currency::USD).format(),
            "$79,228,162,514,264,337,593,543,950,335.00"
        );
        let _ = Money::new(Decimal::MIN, Currency::KWD).format();
        let _ = Money::new(d("0.0000000000000000000000000001"), Currency::KWD).format();
    }

    fn any_currency() -> impl Strategy<Value = Currency> {
        prop_oneof![
            Just(Currency::CNY),
            Just(Currency::USD),
            Just(Currency::JPY),
            Just(Currency::KWD),
            Just(Currency::KRW),
            Just(Currency::EUR),
            "[A-Z]{3}".prop_map(|s| cur(&s)),
        ]
    }

    fn any_decimal() -> impl Strategy<Value = Decimal> {
        (any::<i64>(), 0u32..=12).prop_map(|(m, s)| Decimal::new(m, s))
    }

    proptest! {
        #[test]
        fn prop_minor_roundtrip(minor in -1_000_000_000_000_000i64..=1_000_000_000_000_000, c in any_currency()) {
            let m = Money::from_minor(minor, c);
            prop_assert_eq!(m.to_minor(), Ok(minor));
            prop_assert!(m.is_rounded());
        }

        #[test]
        fn prop_round_half_away_from_zero(x in any_decimal(), c in any_currency()) {
            let m = Money::new(x, c);
            let r = m.round();
            prop_assert_eq!((-m).round(), -r);
            prop_assert!(r.is_rounded());
            let half = Decimal::new(5, c.minor_units() + 1);
            let diff = (r.amount() - x).abs();
            prop_assert!(diff <= half);
            // Exact ties move away from zero.
            if diff == half {
                prop_assert!(r.amount().abs() > x.abs());
            }
            // Rounding an already rounded value changes nothing.
            prop_assert_eq!(r.round(), r);
        }

        #[test]
        fn prop_format_never_panics(x in any_decimal(), c in any_currency()) {
            let s = Money::new(x, c).format();
            prop_assert!(!s.is_empty());
        }

        #[test]
        fn prop_add_sub_inverse(a in any::<i64>(), b in any::<i64>(), c in any_currency()) {
            let ma = Money::from_minor(a, c);
            let mb = Money::from_minor(b, c);
            let sum = ma.checked_add(mb).expect("i64 sums fit a Decimal");
            prop_assert_eq!(sum.checked_sub(mb), Ok(ma));
        }
    }
}
