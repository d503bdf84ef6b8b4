//! The TOML file as serde sees it. Structs mirror the file; each leaf is a [`V<T>`] that reads
//! the value with its [`Leaf`] type and, if the value is wrong, records a problem with its span
//! and carries on, so that every problem of the file is reported together. [`Tbl`] and [`Arr`]
//! do the same for a table or array where the user wrote something else, and report the
//! required keys a table lacks. Keys serde does not know are collected by `serde_ignored`.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::net::SocketAddr;
use std::ops::Range;

use chrono::NaiveDate;
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::de::{self, Deserialize, DeserializeOwned, Deserializer, IntoDeserializer};
use serde::de::{MapAccess, SeqAccess, Visitor};
use toml::{Spanned, Value};

use super::env::{parse_admins, parse_id, redact_url};
use super::{AdminId, AdminPlatform, Locale, TelegramMode};
use crate::engine::money::Currency;
use crate::engine::period::PeriodKind;
use crate::engine::plan::{Accelerator, BonusStep, Bracket, GrowthRebate, PlanMode, VolumeRebate};

/// A problem found while reading: where, the missing key it is about (if any), what.
pub type Found = (Range<usize>, Option<&'static str>, String);

thread_local! {
    /// The source text being read (a float is read from its digits) and the problems found.
    static READING: RefCell<(String, Vec<Found>)> = RefCell::default();
}

/// Reads `text` with `read`, returning its result and the problems its leaves recorded.
pub fn reading<T>(text: &str, read: impl FnOnce() -> T) -> (T, Vec<Found>) {
    READING.with(|r| *r.borrow_mut() = (text.to_owned(), Vec::new()));
    let out = read();
    (out, READING.with(|r| std::mem::take(&mut r.borrow_mut().1)))
}

fn report(span: Range<usize>, key: Option<&'static str>, message: String) {
    READING.with(|r| r.borrow_mut().1.push((span, key, message)));
}

/// A value type of the file: what it expects (for messages) and how a value becomes it.
pub trait Leaf {
    type Out;
    fn want() -> String;
    fn parse(_: &str) -> Option<Self::Out> {
        None
    }
    /// The value and its source text; by default a (trimmed) string given to `parse`.
    fn read(v: &Value, _text: &str) -> Option<Self::Out> {
        Self::parse(v.as_str()?.trim())
    }
}

/// How a wrong value is shown in a message: a string quoted (a URL's password masked), a table
/// or array by its type, anything else as written.
pub fn shown(v: &Value, text: &str) -> String {
    match v {
        Value::String(s) => format!("{:?}", redact_url(s)),
        Value::Table(_) | Value::Array(_) => v.type_str().to_owned(),
        _ => text.to_owned(),
    }
}

/// A leaf of type `T`: its value, or `None` when it was wrong (reported).
pub struct V<T: Leaf>(pub Option<T::Out>);

impl<'de, T: Leaf> Deserialize<'de> for V<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Spanned::<Value>::deserialize(d)?;
        let text = READING.with(|r| r.borrow().0.get(v.span()).unwrap_or("").to_owned());
        let out = T::read(v.get_ref(), &text);
        if out.is_none() {
            let message = format!(
                "expected {}, found {}",
                T::want(),
                shown(v.get_ref(), &text)
            );
            report(v.span(), None, message);
        }
        Ok(V(out))
    }
}

/// `"a", "b" or "c"`.
pub fn or_list(words: &[&str]) -> String {
    let quoted: Vec<String> = words.iter().map(|w| format!("{w:?}")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => quoted.concat(),
    }
}

/// A lowercase serde word (`"month"`), case-insensitive.
fn word<T: DeserializeOwned>(s: &str) -> Option<T> {
    let d: de::value::StringDeserializer<de::value::Error> = s.to_lowercase().into_deserializer();
    T::deserialize(d).ok()
}

/// String leaves: `Type => Out, what is expected, |text| meaning`.
macro_rules! leaf {
    ($($t:ty => $out:ty, $want:expr, |$s:ident| $parse:expr;)*) => {$(
        impl Leaf for $t {
            type Out = $out;
            fn want() -> String {
                $want.into()
            }
            fn parse($s: &str) -> Option<$out> {
                $parse
            }
        }
    )*};
}

/// A non-empty string (trimmed); an `http(s)://` URL without trailing `/`; a database URL.
pub struct HttpUrl;
pub struct DbUrl;
/// `telegram:1, discord:2` (environment only).
pub struct Admins;

leaf! {
    String => String, "a non-empty string", |s| (!s.is_empty()).then(|| s.to_owned());
    Currency => Currency, "a 3-letter currency code such as \"USD\"", |s| Currency::parse(s).ok();
    Tz => Tz, "an IANA time zone such as \"Asia/Shanghai\", \"Europe/Berlin\" or \"UTC\"",
        |s| s.parse().ok();
    Locale => Locale, or_list(&["en", "zh-CN"]), |s| Locale::from_tag(s);
    PeriodKind => PeriodKind, or_list(&["month", "quarter", "year"]), |s| word(s);
    TelegramMode => TelegramMode, or_list(&["polling", "webhook"]), |s| word(s);
    PlanMode => PlanMode, or_list(&["marginal", "whole"]), |s| word(s);
    AdminPlatform => AdminPlatform, or_list(&["telegram", "discord"]), |s| AdminPlatform::parse(s);
    SocketAddr => SocketAddr, "an address IP:port such as 127.0.0.1:8080 or [::]:8080",
        |s| s.parse().ok();
    HttpUrl => String, "an http:// or https:// URL", |s| {
        let s = s.trim_end_matches('/');
        let lower = s.to_ascii_lowercase();
        let host = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://"));
        host.filter(|h| !h.is_empty() && !h.contains(char::is_whitespace)).map(|_| s.to_owned())
    };
    DbUrl => String, "a database URL: sqlite://path or postgres://user@host/db", |s| {
        let lower = s.to_ascii_lowercase();
        let scheme = ["sqlite:", "postgres:", "postgresql:"].into_iter().find(|p| lower.starts_with(p));
        scheme.filter(|p| s.len() > p.len()).map(|_| s.to_owned())
    };
    Admins => Vec<AdminId>, "a comma list like telegram:123,discord:456", |s| parse_admins(s);
}

impl Leaf for bool {
    type Out = bool;
    fn want() -> String {
        "true or false".into()
    }
    fn read(v: &Value, _: &str) -> Option<bool> {
        v.as_bool()
    }
}

/// A whole number from `MIN` to `u32::MAX`.
pub struct U32<const MIN: u32>;

impl<const MIN: u32> Leaf for U32<MIN> {
    type Out = u32;
    fn want() -> String {
        format!("a whole number from {MIN} to {}", u32::MAX)
    }
    fn read(v: &Value, _: &str) -> Option<u32> {
        u32::try_from(v.as_integer()?).ok().filter(|n| *n >= MIN)
    }
}

/// A positive id: an integer or a string of digits.
pub struct Id;

impl Leaf for Id {
    type Out = u64;
    fn want() -> String {
        "a positive whole number id (a number or a string of digits)".into()
    }
    fn read(v: &Value, _: &str) -> Option<u64> {
        let id = match v {
            Value::Integer(i) => u64::try_from(*i).ok(),
            Value::String(s) => parse_id(s),
            _ => None,
        };
        id.filter(|n| *n > 0)
    }
}

/// An exact decimal from an integer, a quoted string or a TOML float. A float is read from its
/// source text (`7.1` is exactly 7.1), never through `f64`.
pub struct Dec;
/// A [`Dec`] greater than 0.
pub struct Pos;

impl Leaf for Dec {
    type Out = Decimal;
    fn want() -> String {
        "a number such as 7.1 or \"7.1\"".into()
    }
    fn read(v: &Value, text: &str) -> Option<Decimal> {
        match v {
            Value::Integer(i) => Some(Decimal::from(*i)),
            Value::String(s) => Decimal::from_str_exact(s.trim()).ok(),
            Value::Float(_) => {
                // The source text minus `_` separators: `7.1`, `-0.5`, `1.5e3`; not inf or nan.
                let t = text.replace('_', "");
                let t = t.strip_prefix('+').unwrap_or(&t);
                match t.contains(['e', 'E']) {
                    true => Decimal::from_scientific(t).ok(),
                    false => Decimal::from_str_exact(t).ok(),
                }
            }
            _ => None,
        }
    }
}

impl Leaf for Pos {
    type Out = Decimal;
    fn want() -> String {
        "a number greater than 0, such as 7.1 or \"7.1\"".into()
    }
    fn read(v: &Value, text: &str) -> Option<Decimal> {
        Dec::read(v, text).filter(|d| *d > Decimal::ZERO)
    }
}

impl Leaf for NaiveDate {
    type Out = NaiveDate;
    fn want() -> String {
        "a date like \"2026-01-01\" (YYYY-MM-DD)".into()
    }
    fn read(v: &Value, _: &str) -> Option<NaiveDate> {
        match v {
            Value::String(s) if s.trim().len() == 10 => {
                NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
            }
            Value::Datetime(dt) if dt.time.is_none() && dt.offset.is_none() => dt
                .date
                .and_then(|d| NaiveDate::from_ymd_opt(d.year.into(), d.month.into(), d.day.into())),
            _ => None,
        }
    }
}

/// A table read as `T`, or `None` when something else was written (reported).
pub struct Tbl<T>(pub Option<T>);
/// An array, or `None` when something else was written (reported).
pub struct Arr<T>(pub Option<Vec<T>>);

/// The keys of a raw table, and which of them are written (for required keys and "did you
/// mean").
pub trait Keys {
    const KEYS: &[&str] = &[];
    const REQUIRED: &[&str] = &[];
    fn given(&self, _key: &str) -> bool {
        true
    }
}

impl<T> Keys for BTreeMap<String, T> {}

/// What a table or an array becomes; `found` names the TOML type written instead.
trait Shape<'de>: Sized {
    fn found(name: &'static str) -> Self;
    fn map<A: MapAccess<'de>>(_: A) -> Result<Self, A::Error> {
        Ok(Self::found("table"))
    }
    fn seq<A: SeqAccess<'de>>(_: A) -> Result<Self, A::Error> {
        Ok(Self::found("array"))
    }
}

enum Got<T> {
    Ok(T),
    Not(&'static str),
}

impl<'de, T: Deserialize<'de>> Shape<'de> for Got<Tbl<T>> {
    fn found(name: &'static str) -> Self {
        Got::Not(name)
    }
    fn map<A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        // The map access itself, not a buffered copy: toml's spans and serde_ignored's paths
        // live in it.
        let t = T::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(Got::Ok(Tbl(Some(t))))
    }
}

impl<'de, T: Deserialize<'de>> Shape<'de> for Got<Arr<T>> {
    fn found(name: &'static str) -> Self {
        Got::Not(name)
    }
    fn seq<A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Got::Ok(Arr(Some(items))))
    }
}

struct ShapeVisitor<S>(PhantomData<S>);

impl<'de, S: Shape<'de>> Visitor<'de> for ShapeVisitor<S> {
    type Value = S;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any TOML value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<S, E> {
        Ok(S::found("boolean"))
    }
    fn visit_i64<E>(self, _: i64) -> Result<S, E> {
        Ok(S::found("integer"))
    }
    fn visit_u64<E>(self, _: u64) -> Result<S, E> {
        Ok(S::found("integer"))
    }
    fn visit_f64<E>(self, _: f64) -> Result<S, E> {
        Ok(S::found("float"))
    }
    fn visit_str<E>(self, _: &str) -> Result<S, E> {
        Ok(S::found("string"))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<S, A::Error> {
        S::map(map)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<S, A::Error> {
        S::seq(seq)
    }
}

/// A [`Shape`] read from whatever TOML value is there.
struct Shaped<S>(S);

impl<'de, S: Shape<'de>> Deserialize<'de> for Shaped<S> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ShapeVisitor(PhantomData)).map(Shaped)
    }
}

impl<'de, T: Deserialize<'de> + Keys> Deserialize<'de> for Tbl<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let got = Spanned::<Shaped<Got<Tbl<T>>>>::deserialize(d)?;
        let span = got.span();
        match got.into_inner().0 {
            Got::Ok(Tbl(Some(t))) => {
                for key in T::REQUIRED.iter().filter(|k| !t.given(k)) {
                    let message = format!("missing; required here: {}", T::REQUIRED.join(", "));
                    report(span.clone(), Some(key), message);
                }
                Ok(Tbl(Some(t)))
            }
            Got::Ok(_) => Ok(Tbl(None)),
            Got::Not(found) => {
                report(span, None, format!("expected a table, found {found}"));
                Ok(Tbl(None))
            }
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Arr<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let got = Spanned::<Shaped<Got<Arr<T>>>>::deserialize(d)?;
        let span = got.span();
        match got.into_inner().0 {
            Got::Ok(arr) => Ok(arr),
            Got::Not(found) => {
                report(span, None, format!("expected an array, found {found}"));
                Ok(Arr(None))
            }
        }
    }
}

/// Declares raw structs (every key optional) with their [`Keys`].
macro_rules! raw {
    ($($name:ident [$($req:ident),*] { $($field:ident: $ty:ty),* $(,)? })*) => {$(
        #[derive(Default, serde::Deserialize)]
        pub struct $name { $(pub $field: Option<$ty>),* }
        impl Keys for $name {
            const KEYS: &[&str] = &[$(stringify!($field)),*];
            const REQUIRED: &[&str] = &[$(stringify!($req)),*];
            fn given(&self, key: &str) -> bool {
                match key { $(stringify!($field) => self.$field.is_some(),)* _ => false }
            }
        }
    )*};
}

/// `[[name]]` entries, or `name = [ { … }, … ]`.
pub type Entries<T> = Arr<Tbl<T>>;
pub type Map<T> = Tbl<BTreeMap<String, V<T>>>;

raw! {
    RawConfig [] {
        program: Tbl<RawProgram>,
        database: Tbl<RawDatabase>,
        telegram: Tbl<RawTelegram>,
        discord: Tbl<RawDiscord>,
        http: Tbl<RawHttp>,
        admins: Entries<RawAdmin>,
        kudos: Tbl<RawKudos>,
        deals: Tbl<RawDeals>,
        tiers: Entries<RawTier>,
        plans: Entries<RawPlan>,
        allocation: Tbl<RawAllocation>,
    }
    RawProgram [] {
        name: V<String>,
        currency: V<Currency>,
        timezone: V<Tz>,
        default_locale: V<Locale>,
        period: V<PeriodKind>,
        rank_pending: V<bool>,
        auto_approve_below: V<Pos>,
        rates: Map<Pos>,
        invite_ttl_hours: V<U32<1>>,
    }
    RawDatabase [] { url: V<DbUrl> }
    RawTelegram [] { api_url: V<HttpUrl>, mode: V<TelegramMode>, webhook_url: V<HttpUrl> }
    RawDiscord [] { api_url: V<HttpUrl>, guild_ids: Arr<V<Id>> }
    RawHttp [] { listen: V<SocketAddr> }
    RawAdmin [platform, id] { platform: V<AdminPlatform>, id: V<Id> }
    RawKudos [] { daily: V<U32<0>>, cooldown_minutes: V<U32<0>> }
    RawDeals [] { protection_days: V<U32<1>> }
    RawTier [name, min_trailing_sales] {
        name: V<String>,
        min_trailing_sales: V<Dec>,
        requires: Arr<V<String>>,
    }
    RawPlan [id, version, effective_from] {
        id: V<String>,
        version: V<U32<1>>,
        effective_from: V<NaiveDate>,
        mode: V<PlanMode>,
        target: V<Dec>,
        brackets: Entries<RawBracket>,
        category_rates: Map<Dec>,
        accelerator: Tbl<RawAccelerator>,
        cap: V<Dec>,
        bonuses: Entries<RawBonus>,
        volume_rebate: Tbl<RawVolumeRebate>,
        growth_rebate: Tbl<RawGrowthRebate>,
        assign: Map<Who>,
    }
    RawAllocation [] { potential: V<Dec>, contribution: V<Dec>, growth: V<Dec>, floor: V<Dec>, cap: V<Dec> }
}

/// Who a plan is assigned to: a non-empty string, or a partner's id as a number.
pub struct Who;

impl Leaf for Who {
    type Out = String;
    fn want() -> String {
        "a non-empty string (or a partner id)".into()
    }
    fn read(v: &Value, _: &str) -> Option<String> {
        match v {
            Value::Integer(i) => Some(i.to_string()),
            _ => <String as Leaf>::parse(v.as_str()?.trim()),
        }
    }
}

/// The rows of a plan: tables whose keys are all required decimals, and what they become.
macro_rules! rows {
    ($($name:ident => $out:ident { $($field:ident),* })*) => {
        raw! { $($name [$($field),*] { $($field: V<Dec>),* })* }
        $(impl $name {
            pub fn build(self) -> Option<$out> {
                Some($out { $($field: self.$field?.0?),* })
            }
        })*
    };
}

rows! {
    RawBracket => Bracket { from, rate }
    RawBonus => BonusStep { attainment, amount }
    RawAccelerator => Accelerator { above_attainment, multiplier }
    RawVolumeRebate => VolumeRebate { threshold, rate }
    RawGrowthRebate => GrowthRebate { rate }
}

/// The keys allowed where an unknown key was found, by its parent's path without indices
/// (`plans.brackets`).
pub fn keys_of(parent: &str) -> &'static [&'static str] {
    match parent {
        "" => RawConfig::KEYS,
        "program" => RawProgram::KEYS,
        "database" => RawDatabase::KEYS,
        "telegram" => RawTelegram::KEYS,
        "discord" => RawDiscord::KEYS,
        "http" => RawHttp::KEYS,
        "admins" => RawAdmin::KEYS,
        "kudos" => RawKudos::KEYS,
        "deals" => RawDeals::KEYS,
        "tiers" => RawTier::KEYS,
        "plans" => RawPlan::KEYS,
        "plans.brackets" => RawBracket::KEYS,
        "plans.bonuses" => RawBonus::KEYS,
        "plans.accelerator" => RawAccelerator::KEYS,
        "plans.volume_rebate" => RawVolumeRebate::KEYS,
        "plans.growth_rebate" => RawGrowthRebate::KEYS,
        "allocation" => RawAllocation::KEYS,
        _ => &[],
    }
}
