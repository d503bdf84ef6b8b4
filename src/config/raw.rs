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

use chrono::{NaiveDate, NaiveDateTime};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::de::{self, Deserialize, DeserializeOwned, Deserializer, IntoDeserializer};
use serde::de::{MapAccess, SeqAccess, Visitor};
use toml::{Spanned, Value};

use super::env::{parse_admins, parse_id, redact_url};
use super::{AdminId, AdminPlatform, Locale, TelegramMode};
use crate::engine::contest::{GrowthBase, Metric};
use crate::engine::money::Currency;
use crate::engine::partner::{PartnerKind, Platform};
use crate::engine::period::PeriodKind;
use crate::engine::plan::{Accelerator, BonusStep, Bracket, GrowthRebate, PlanMode, VolumeRebate};
use crate::engine::schedule::{CronSchedule, JobAction, Recipients};
use crate::engine::training::Level;

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

/// The one message for a value of the wrong type or form.
fn wrong(span: Range<usize>, want: &str, found: &str) {
    report(span, None, format!("expected {want}, found {found}"));
}

/// A value type of the file: what it expects (for messages) and how a value (with its source
/// text) becomes it.
pub trait Leaf {
    type Out;
    fn want() -> String;
    fn read(v: &Value, text: &str) -> Option<Self::Out>;
    /// A string (file or environment) as this type.
    fn parse(s: &str) -> Option<Self::Out> {
        Self::read(&Value::String(s.to_owned()), s)
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
            wrong(v.span(), &T::want(), &shown(v.get_ref(), &text));
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
fn word<T: DeserializeOwned>(v: &Value) -> Option<T> {
    let d: de::value::StringDeserializer<de::value::Error> =
        s(v)?.to_lowercase().into_deserializer();
    T::deserialize(d).ok()
}

/// A string, trimmed.
fn s(v: &Value) -> Option<&str> {
    v.as_str().map(str::trim)
}

/// An exact decimal from an integer, a quoted string or a TOML float. A float is read from its
/// source text (`7.1` is exactly 7.1), never through `f64`: the text minus `_` separators,
/// `7.1`, `-0.5`, `1.5e3`; not inf or nan.
fn decimal(v: &Value, text: &str) -> Option<Decimal> {
    let t = text.replace('_', "");
    let t = t.strip_prefix('+').unwrap_or(&t);
    match v {
        Value::Integer(i) => Some(Decimal::from(*i)),
        Value::String(s) => Decimal::from_str_exact(s.trim()).ok(),
        Value::Float(_) if t.contains(['e', 'E']) => Decimal::from_scientific(t).ok(),
        Value::Float(_) => Decimal::from_str_exact(t).ok(),
        _ => None,
    }
}

fn date(v: &Value) -> Option<NaiveDate> {
    match v {
        Value::Datetime(dt) if dt.time.is_none() && dt.offset.is_none() => dt
            .date
            .and_then(|d| NaiveDate::from_ymd_opt(d.year.into(), d.month.into(), d.day.into())),
        _ => s(v)
            .filter(|s| s.len() == 10)
            .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()),
    }
}

/// A local date and time: a TOML local date-time or a string `YYYY-MM-DDTHH:MM[:SS]`.
fn date_time(v: &Value) -> Option<NaiveDateTime> {
    let text = match v {
        Value::Datetime(dt) if dt.offset.is_none() && dt.date.is_some() && dt.time.is_some() => {
            dt.to_string()
        }
        _ => s(v)?.to_owned(),
    };
    [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M:%S%.f",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(text.trim(), f).ok())
}

fn http_url(s: &str) -> Option<String> {
    let s = s.trim_end_matches('/');
    let lower = s.to_ascii_lowercase();
    let host = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))?;
    (!host.is_empty() && !host.contains(char::is_whitespace)).then(|| s.to_owned())
}

fn db_url(s: &str) -> Option<String> {
    let lower = s.to_ascii_lowercase();
    let schemes = ["sqlite:", "postgres:", "postgresql:"];
    let scheme = schemes.into_iter().find(|p| lower.starts_with(p))?;
    (s.len() > scheme.len()).then(|| s.to_owned())
}

/// Marker leaves: an exact decimal ([`decimal`]) and one greater than 0; whole numbers from 0
/// and from 1; a positive id (a number or a string of digits); an `http(s)://` URL (without
/// trailing `/`); a database URL; who a plan is for (a partner may be named by its id);
/// `telegram:1, discord:2` (environment only).
pub struct Dec;
pub struct Pos;
pub struct Nat0;
pub struct Nat1;
pub struct Id;
pub struct HttpUrl;
pub struct DbUrl;
pub struct Who;
pub struct Admins;
/// A reminder offset before a training: `"24h"`, `"90m"`, `"2d"` (as minutes).
pub struct Reminder;
pub use super::DiscordShards;

/// `Type => Out, what is expected, |value, source text| its meaning`.
macro_rules! leaf {
    ($($t:ty => $out:ty, $want:expr, |$v:tt, $text:tt| $read:expr;)*) => {$(
        impl Leaf for $t {
            type Out = $out;
            fn want() -> String { $want.into() }
            fn read($v: &Value, $text: &str) -> Option<$out> { $read }
        }
    )*};
}

leaf! {
    String => String, "a non-empty string", |v, _| s(v).filter(|s| !s.is_empty()).map(str::to_owned);
    bool => bool, "true or false", |v, _| v.as_bool();
    Nat0 => u32, format!("a whole number from 0 to {}", u32::MAX), |v, _| u32::try_from(v.as_integer()?).ok();
    Nat1 => u32, format!("a whole number from 1 to {}", u32::MAX), |v, _| Nat0::read(v, "").filter(|n| *n > 0);
    Id => u64, "a positive whole number id (a number or a string of digits)", |v, _| match v {
        Value::Integer(i) => u64::try_from(*i).ok().filter(|n| *n > 0),
        _ => parse_id(s(v)?).filter(|n| *n > 0),
    };
    Dec => Decimal, "a number such as 7.1 or \"7.1\"", |v, text| decimal(v, text);
    Pos => Decimal, "a number greater than 0, such as 7.1 or \"7.1\"",
        |v, text| decimal(v, text).filter(|d| *d > Decimal::ZERO);
    NaiveDate => NaiveDate, "a date like \"2026-01-01\" (YYYY-MM-DD)", |v, _| date(v);
    NaiveDateTime => NaiveDateTime, "a date and time like \"2026-12-03T14:00\" (program time zone)",
        |v, _| date_time(v);
    Level => Level, or_list(&Level::ALL.map(Level::as_str)), |v, _| Level::parse(s(v)?);
    Reminder => u32, "a time before the start such as \"24h\", \"90m\" or \"2d\"",
        |v, _| crate::engine::training::parse_reminder(s(v)?);
    Currency => Currency, "a 3-letter currency code such as \"USD\"", |v, _| Currency::parse(s(v)?).ok();
    Tz => Tz, "an IANA time zone such as \"Asia/Shanghai\", \"Europe/Berlin\" or \"UTC\"",
        |v, _| s(v)?.parse().ok();
    Locale => Locale, or_list(&["en", "zh-CN"]), |v, _| Locale::from_tag(s(v)?);
    PeriodKind => PeriodKind, or_list(&["month", "quarter", "year"]), |v, _| word(v);
    TelegramMode => TelegramMode, or_list(&["polling", "webhook"]), |v, _| word(v);
    PlanMode => PlanMode, or_list(&["marginal", "whole"]), |v, _| word(v);
    CronSchedule => CronSchedule,
        "a cron expression with seconds (sec min hour day month weekday), such as \"0 0 9 * * Mon\"",
        |v, _| s(v)?.parse().ok();
    JobAction => JobAction, or_list(&JobAction::ALL.map(JobAction::as_str)), |v, _| JobAction::parse(s(v)?);
    Recipients => Recipients, or_list(&["chats", "members", "all"]), |v, _| Recipients::parse(s(v)?);
    Platform => Platform, or_list(&["telegram", "discord"]), |v, _| match s(v)? {
        "telegram" => Some(Platform::Telegram),
        "discord" => Some(Platform::Discord),
        _ => None,
    };
    PartnerKind => PartnerKind, "a partner kind: dealer, agent, wholesaler, retailer or distributor",
        |v, _| PartnerKind::parse(s(v)?);
    AdminPlatform => AdminPlatform, or_list(&["telegram", "discord"]), |v, _| AdminPlatform::parse(s(v)?);
    SocketAddr => SocketAddr, "an address IP:port such as 127.0.0.1:8080 or [::]:8080",
        |v, _| s(v)?.parse().ok();
    HttpUrl => String, "an http:// or https:// URL", |v, _| http_url(s(v)?);
    DbUrl => String, "a database URL: sqlite://path or postgres://user@host/db", |v, _| db_url(s(v)?);
    Who => String, "a non-empty string (or a partner id)", |v, _| match v {
        Value::Integer(i) => Some(i.to_string()),
        _ => String::read(v, ""),
    };
    Admins => Vec<AdminId>, "a comma list like telegram:123,discord:456", |v, _| parse_admins(s(v)?);
    DiscordShards => DiscordShards,
        "the shards this instance runs, as \"first-last/total\" such as \"0-1/4\" (or \"2/4\")",
        |v, _| DiscordShards::parse(s(v)?);
    Metric => Metric, format!("a metric: {}", or_list(&Metric::ALL.map(Metric::as_str))),
        |v, _| Metric::parse(&s(v)?.to_lowercase());
    GrowthBase => GrowthBase, or_list(&["last_year", "previous"]), |v, _| GrowthBase::parse(&s(v)?.to_lowercase());
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

/// What a table or an array becomes; `None` from a visit of the other.
trait Shape<'de>: Sized {
    const WANT: &'static str;
    fn map<A: MapAccess<'de>>(_: A) -> Result<Option<Self>, A::Error> {
        Ok(None)
    }
    fn seq<A: SeqAccess<'de>>(_: A) -> Result<Option<Self>, A::Error> {
        Ok(None)
    }
}

impl<'de, T: Deserialize<'de>> Shape<'de> for Tbl<T> {
    const WANT: &'static str = "a table";
    fn map<A: MapAccess<'de>>(map: A) -> Result<Option<Self>, A::Error> {
        // The map access itself, not a buffered copy: toml's spans and serde_ignored's paths
        // live in it.
        let t = T::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(Some(Tbl(Some(t))))
    }
}

impl<'de, T: Deserialize<'de>> Shape<'de> for Arr<T> {
    const WANT: &'static str = "an array";
    fn seq<A: SeqAccess<'de>>(mut seq: A) -> Result<Option<Self>, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Some(Arr(Some(items))))
    }
}

/// A [`Shape`], or the name of the TOML type written instead.
struct Shaped<S>(Result<S, &'static str>);

struct ShapeVisitor<S>(PhantomData<S>);

/// Visits of a TOML type that is neither a table nor an array.
macro_rules! visits {
    ($($visit:ident: $t:ty => $name:literal),* $(,)?) => {$(
        fn $visit<E>(self, _: $t) -> Result<Shaped<S>, E> { Ok(Shaped(Err($name))) }
    )*};
}

impl<'de, S: Shape<'de>> Visitor<'de> for ShapeVisitor<S> {
    type Value = Shaped<S>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any TOML value")
    }
    visits! {
        visit_bool: bool => "boolean", visit_i64: i64 => "integer", visit_u64: u64 => "integer",
        visit_f64: f64 => "float", visit_str: &str => "string",
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Shaped<S>, A::Error> {
        Ok(Shaped(S::map(map)?.ok_or("table")))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Shaped<S>, A::Error> {
        Ok(Shaped(S::seq(seq)?.ok_or("array")))
    }
}

impl<'de, S: Shape<'de>> Deserialize<'de> for Shaped<S> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ShapeVisitor(PhantomData))
    }
}

/// Reads a [`Shape`] and its span; what was written instead is reported.
fn shaped<'de, S: Shape<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<(Option<S>, Range<usize>), D::Error> {
    let got = Spanned::<Shaped<S>>::deserialize(d)?;
    let span = got.span();
    let got = got.into_inner().0;
    Ok((
        got.map_err(|found| wrong(span.clone(), S::WANT, found))
            .ok(),
        span,
    ))
}

impl<'de, T: Deserialize<'de> + Keys> Deserialize<'de> for Tbl<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (t, span) = shaped::<Tbl<T>, D>(d)?;
        let t = t.and_then(|t| t.0);
        let missing = T::REQUIRED
            .iter()
            .filter(|k| t.as_ref().is_some_and(|t| !t.given(k)));
        for key in missing {
            let message = format!("missing; required here: {}", T::REQUIRED.join(", "));
            report(span.clone(), Some(key), message);
        }
        Ok(Tbl(t))
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Arr<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Arr(shaped::<Arr<T>, D>(d)?.0.and_then(|a| a.0)))
    }
}

/// Declares raw structs (every key optional) with their [`Keys`], and for "did you mean" the
/// keys of each table by its path without indices (`plans.brackets`).
macro_rules! raw {
    ($($name:ident $path:literal [$($req:ident),*] { $($field:ident: $ty:ty),* $(,)? })*) => {
        $(
            #[derive(Default, serde::Deserialize)]
            pub struct $name { $(pub $field: Option<$ty>),* }
            impl Keys for $name {
                const KEYS: &[&str] = &[$(stringify!($field)),*];
                const REQUIRED: &[&str] = &[$(stringify!($req)),*];
                fn given(&self, key: &str) -> bool {
                    match key { $(stringify!($field) => self.$field.is_some(),)* _ => false }
                }
            }
        )*
        const TABLES: &[(&str, &[&str])] = &[$(($path, $name::KEYS)),*];
    };
}

/// `[[name]]` entries, or `name = [ { … }, … ]`.
pub type Entries<T> = Arr<Tbl<T>>;
pub type Map<T> = Tbl<BTreeMap<String, V<T>>>;

raw! {
    RawConfig "" [] {
        program: Tbl<RawProgram>,
        database: Tbl<RawDatabase>,
        telegram: Tbl<RawTelegram>,
        discord: Tbl<RawDiscord>,
        http: Tbl<RawHttp>,
        admins: Entries<RawAdmin>,
        kudos: Tbl<RawKudos>,
        deals: Tbl<RawDeals>,
        jobs: Tbl<RawJobs>,
        trainings: Entries<RawTraining>,
        outbox: Tbl<RawOutbox>,
        tiers: Entries<RawTier>,
        plans: Entries<RawPlan>,
        allocation: Tbl<RawAllocation>,
        contests: Entries<RawContest>,
        // community: points and badges (issue 11)
        points: Tbl<RawPoints>,
        badges: Entries<RawBadge>,
        stories: Tbl<RawStories>,
    }
    RawProgram "program" [] {
        name: V<String>,
        currency: V<Currency>,
        timezone: V<Tz>,
        default_locale: V<Locale>,
        period: V<PeriodKind>,
        rank_pending: V<bool>,
        auto_approve_below: V<Pos>,
        rates: Map<Pos>,
        invite_ttl_hours: V<Nat1>,
    }
    RawDatabase "database" [] { url: V<DbUrl> }
    RawTelegram "telegram" [] { api_url: V<HttpUrl>, mode: V<TelegramMode>, webhook_url: V<HttpUrl> }
    RawDiscord "discord" [] { api_url: V<HttpUrl>, guild_ids: Arr<V<Id>>, shards: V<DiscordShards> }
    RawHttp "http" [] {
        listen: V<SocketAddr>,
        // HTTP API and TV page (issue 13).
        public_url: V<HttpUrl>,
        tv_show_amounts: V<bool>,
    }
    RawAdmin "admins" [platform, id] { platform: V<AdminPlatform>, id: V<Id> }
    RawKudos "kudos" [] { daily: V<Nat0>, cooldown_minutes: V<Nat0> }
    RawDeals "deals" [] { protection_days: V<Nat1> }
    RawOutbox "outbox" [] {
        telegram_per_second: V<Nat1>,
        telegram_private_per_second: V<Nat1>,
        telegram_group_per_minute: V<Nat1>,
        discord_per_second: V<Nat1>,
        discord_channel_per_5s: V<Nat1>,
        max_attempts: V<Nat1>,
        lease_seconds: V<Nat1>,
    }
    RawJobs "jobs" [] {
        catch_up_hours: V<Nat0>,
        builtin: V<bool>,
        prune_after_days: V<Nat1>,
        run: Entries<RawJob>,
    }
    RawJob "jobs.run" [name, schedule, action] {
        name: V<String>,
        schedule: V<CronSchedule>,
        action: V<JobAction>,
        text: V<String>,
        filters: Tbl<RawFilters>,
        to: V<Recipients>,
    }
    RawFilters "jobs.run.filters" [] {
        region: V<String>,
        tier: V<String>,
        kind: V<PartnerKind>,
        platform: V<Platform>,
    }
    RawTraining "trainings" [id, title, start, duration_minutes, capacity] {
        id: V<String>,
        title: V<String>,
        level: V<Level>,
        start: V<NaiveDateTime>,
        duration_minutes: V<Nat1>,
        capacity: V<Nat1>,
        link: V<HttpUrl>,
        place: V<String>,
        eligible: Tbl<RawEligible>,
        certification: V<String>,
        reminders: Arr<V<Reminder>>,
        quiz: Tbl<RawQuiz>,
    }
    RawEligible "trainings.eligible" [] { tier: V<String>, kind: V<PartnerKind>, region: V<String> }
    RawQuiz "trainings.quiz" [pass, questions] { pass: V<Nat1>, questions: Entries<RawQuestion> }
    RawQuestion "trainings.quiz.questions" [q, choices, answer] {
        q: V<String>,
        choices: Arr<V<String>>,
        answer: V<Nat1>,
    }
    RawTier "tiers" [name, min_trailing_sales] {
        name: V<String>,
        min_trailing_sales: V<Dec>,
        requires: Arr<V<String>>,
    }
    RawPlan "plans" [id, version, effective_from] {
        id: V<String>,
        version: V<Nat1>,
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
        assign: Tbl<RawAssign>,
    }
    RawBracket "plans.brackets" [from, rate] { from: V<Dec>, rate: V<Dec> }
    RawBonus "plans.bonuses" [attainment, amount] { attainment: V<Dec>, amount: V<Dec> }
    RawAccelerator "plans.accelerator" [above_attainment, multiplier] {
        above_attainment: V<Dec>,
        multiplier: V<Dec>,
    }
    RawVolumeRebate "plans.volume_rebate" [threshold, rate] { threshold: V<Dec>, rate: V<Dec> }
    RawGrowthRebate "plans.growth_rebate" [rate] { rate: V<Dec> }
    RawAssign "plans.assign" [] { region: V<Who>, kind: V<Who>, tier: V<Who>, partner: V<Who> }
    RawContest "contests" [id, name, metric, start, end] {
        id: V<String>,
        name: V<String>,
        name_zh: V<String>,
        metric: V<Metric>,
        start: V<NaiveDate>,
        end: V<NaiveDate>,
        scope: Tbl<RawScope>,
        handicap: V<bool>,
        targets: Map<Pos>,
        min_sales: V<Dec>,
        prizes: Entries<RawPrize>,
        updates: V<CronSchedule>,
        chats: V<String>,
        growth_base: V<GrowthBase>,
    }
    RawScope "contests.scope" [] {
        region: V<String>,
        kind: V<PartnerKind>,
        tier: V<String>,
        partners: Arr<V<Who>>,
    }
    RawPrize "contests.prizes" [rank] { rank: V<Nat1>, amount: V<Pos>, reward: V<String> }
    // community: points and badges (issue 11)
    RawPoints "points" [] {
        sale_amount: V<Pos>,
        sale_points: V<Nat0>,
        featured_story: V<Nat0>,
        kudos_received: V<Nat0>,
        training_completed: V<Nat0>,
        podium: Arr<V<Nat0>>,
    }
    RawStories "stories" [] { story_of_week: V<CronSchedule> }
    RawBadge "badges" [id, name, rule] {
        id: V<String>,
        name: V<String>,
        name_zh: V<String>,
        rule: V<String>,
        at_least: V<Pos>,
        certification: V<String>,
    }
    RawAllocation "allocation" [] {
        potential: V<Dec>,
        contribution: V<Dec>,
        growth: V<Dec>,
        floor: V<Dec>,
        cap: V<Dec>,
    }
}

/// The rows of a plan, built once all their keys are read.
macro_rules! rows {
    ($($name:ident => $out:ident { $($field:ident),* })*) => {$(
        impl $name {
            pub fn build(self) -> Option<$out> {
                Some($out { $($field: self.$field?.0?),* })
            }
        }
    )*};
}

rows! {
    RawBracket => Bracket { from, rate }
    RawBonus => BonusStep { attainment, amount }
    RawAccelerator => Accelerator { above_attainment, multiplier }
    RawVolumeRebate => VolumeRebate { threshold, rate }
    RawGrowthRebate => GrowthRebate { rate }
}

/// The keys allowed where an unknown key was found, by its parent's path without indices.
pub fn keys_of(parent: &str) -> &'static [&'static str] {
    TABLES
        .iter()
        .find(|(p, _)| *p == parent)
        .map_or(&[], |(_, keys)| keys)
}
