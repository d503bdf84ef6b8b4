//! The TOML file as serde sees it: structs that mirror the file, with every value kept as
//! `Spanned<toml::Value>` so that a wrong type, a bad value and an unknown key each become one
//! reported problem with a line instead of aborting the whole read. Meaning is given to the
//! values in `validate.rs`.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use rust_decimal::Decimal;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use toml::Spanned;

use crate::engine::plan::{Accelerator, BonusStep, Bracket, GrowthRebate, VolumeRebate};

/// One scalar (or anything else the user wrote there), typed later by the validation pass.
pub type Val = Spanned<toml::Value>;
pub type Leaf = Option<Val>;
/// A table of `name = value` whose keys are data, not schema (`[program.rates]`, `assign`).
pub type ValMap = Table<BTreeMap<String, Val>>;
pub type Section<T> = Option<Spanned<Table<T>>>;
/// `[[name]]` entries, or `name = [ { … }, … ]`.
pub type Entries<T> = Spanned<List<Spanned<Table<T>>>>;

/// A table, or the TOML type the user wrote instead. Serde would abort on the mismatch; this
/// keeps reading so that all problems of the file are reported together.
#[derive(Debug)]
pub enum Table<T> {
    Ok(T),
    Not(&'static str),
}

/// An array, or the TOML type the user wrote instead (see [`Table`]).
#[derive(Debug)]
pub enum List<T> {
    Ok(Vec<T>),
    Not(&'static str),
}

struct ShapeVisitor<S>(PhantomData<S>);

/// What `ShapeVisitor` builds from each TOML type; `found` is the type's name in messages.
trait Shape<'de>: Sized {
    fn found(name: &'static str) -> Self;
    fn map<A: MapAccess<'de>>(_map: A) -> Result<Self, A::Error> {
        Ok(Self::found("table"))
    }
    fn seq<A: SeqAccess<'de>>(_seq: A) -> Result<Self, A::Error> {
        Ok(Self::found("array"))
    }
}

impl<'de, T: Deserialize<'de>> Shape<'de> for Table<T> {
    fn found(name: &'static str) -> Self {
        Table::Not(name)
    }
    fn map<A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        // The map access itself, not a buffered copy: toml's spans and serde_ignored's paths
        // live in it.
        T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Table::Ok)
    }
}

impl<'de, T: Deserialize<'de>> Shape<'de> for List<T> {
    fn found(name: &'static str) -> Self {
        List::Not(name)
    }
    fn seq<A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(List::Ok(items))
    }
}

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

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Table<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ShapeVisitor(PhantomData))
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for List<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ShapeVisitor(PhantomData))
    }
}

/// Declares raw structs and, for the "did you mean" of unknown keys, the list of their keys.
macro_rules! raw {
    ($($name:ident { $($field:ident: $ty:ty),* $(,)? })*) => {$(
        #[derive(Debug, Default, serde::Deserialize)]
        pub struct $name { $(pub $field: $ty),* }
        impl $name {
            pub const KEYS: &[&str] = &[$(stringify!($field)),*];
        }
    )*};
}

raw! {
    RawConfig {
        program: Section<RawProgram>,
        database: Section<RawDatabase>,
        telegram: Section<RawTelegram>,
        discord: Section<RawDiscord>,
        http: Section<RawHttp>,
        admins: Option<Entries<RawAdmin>>,
        kudos: Section<RawKudos>,
        deals: Section<RawDeals>,
        tiers: Option<Entries<RawTier>>,
        plans: Option<Entries<RawPlan>>,
        allocation: Section<RawAllocation>,
    }
    RawProgram {
        name: Leaf,
        currency: Leaf,
        timezone: Leaf,
        default_locale: Leaf,
        period: Leaf,
        rank_pending: Leaf,
        auto_approve_below: Leaf,
        rates: Option<Spanned<ValMap>>,
        invite_ttl_hours: Leaf,
    }
    RawDatabase { url: Leaf }
    RawTelegram { api_url: Leaf, mode: Leaf, webhook_url: Leaf }
    RawDiscord { api_url: Leaf, guild_ids: Option<Spanned<List<Val>>> }
    RawHttp { listen: Leaf }
    RawAdmin { platform: Leaf, id: Leaf }
    RawKudos { daily: Leaf, cooldown_minutes: Leaf }
    RawDeals { protection_days: Leaf }
    RawTier { name: Leaf, min_trailing_sales: Leaf, requires: Option<Spanned<List<Val>>> }
    RawPlan {
        id: Leaf,
        version: Leaf,
        effective_from: Leaf,
        mode: Leaf,
        target: Leaf,
        brackets: Rows<RawBracket>,
        category_rates: Option<Spanned<ValMap>>,
        accelerator: Section<RawAccelerator>,
        cap: Leaf,
        bonuses: Rows<RawBonus>,
        volume_rebate: Section<RawVolumeRebate>,
        growth_rebate: Section<RawGrowthRebate>,
        assign: Option<Spanned<ValMap>>,
    }
    RawBracket { from: Leaf, rate: Leaf }
    RawBonus { attainment: Leaf, amount: Leaf }
    RawAccelerator { above_attainment: Leaf, multiplier: Leaf }
    RawVolumeRebate { threshold: Leaf, rate: Leaf }
    RawGrowthRebate { rate: Leaf }
    RawAllocation { potential: Leaf, contribution: Leaf, growth: Leaf, floor: Leaf, cap: Leaf }
}

/// `brackets = [ { from = 0, rate = 3 }, … ]`: a list of inline tables.
pub type Rows<T> = Option<Entries<T>>;

/// A table of a plan whose keys are all required decimals, and what it becomes.
pub trait Row {
    /// The table as it is written, for messages.
    const EXAMPLE: &str;
    type Out;
    /// `(key, value)` in the order of `build`'s arguments.
    fn leaves(&self) -> Vec<(&'static str, Option<&Val>)>;
    fn build(values: &[Decimal]) -> Option<Self::Out>;
}

macro_rules! row {
    ($($name:ident { $($field:ident),* } => $out:ident, $example:literal)*) => {$(
        impl Row for $name {
            const EXAMPLE: &str = $example;
            type Out = $out;
            fn leaves(&self) -> Vec<(&'static str, Option<&Val>)> {
                vec![$((stringify!($field), self.$field.as_ref())),*]
            }
            fn build(values: &[Decimal]) -> Option<$out> {
                match *values {
                    [$($field),*] => Some($out { $($field),* }),
                    _ => None,
                }
            }
        }
    )*};
}

row! {
    RawBracket { from, rate } => Bracket, "{ from = 0, rate = 3 }"
    RawBonus { attainment, amount } => BonusStep, "{ attainment = 100, amount = 2000 }"
    RawAccelerator { above_attainment, multiplier } => Accelerator,
        "{ above_attainment = 100, multiplier = 1.5 }"
    RawVolumeRebate { threshold, rate } => VolumeRebate, "{ threshold = 200000, rate = 1 }"
    RawGrowthRebate { rate } => GrowthRebate, "{ rate = 2 }"
}

/// The keys allowed where an unknown key was found, by its parent's path without indices
/// (`plans.brackets`).
pub fn keys_of(parent: &str) -> &'static [&'static str] {
    match parent {
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
